"""Commands for this area; see the module's Typer app."""

import typer

app = typer.Typer()
