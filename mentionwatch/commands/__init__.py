"""Command modules; each holds a Typer app whose commands are merged into the root."""
