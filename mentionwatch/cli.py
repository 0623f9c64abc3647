"""The `mentionwatch` command line: one root app, one module of commands per area."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler

from mentionwatch.commands import alerts, analyst, cluster, crawl, demo, digest, mentions, sentiment, setup
from mentionwatch.context import AppState, fail
from mentionwatch.settings import SettingsProblem, load_settings

app = typer.Typer(
    name="mentionwatch",
    help="Monitor reviews and social mentions of your brands: crawl, score, alert, report.\n\n"
    "Example: mentionwatch --config mentionwatch.toml crawl",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Config file (default: $MENTIONWATCH_CONFIG, then ./mentionwatch.toml).",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    try:
        settings = load_settings()
    except SettingsProblem as exc:
        fail(str(exc))
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(message)s",
        # Logs go to stderr so that stdout stays clean for JSON Lines and CSV output.
        handlers=[RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=False)],
        force=True,
    )
    if settings.log_level != "DEBUG":
        # Their INFO lines (migration steps, every job's start and end) drown the service's own.
        for noisy in ("alembic", "apscheduler"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    ctx.obj = AppState(settings=settings, config_option=config)


for _module in (setup, crawl, sentiment, alerts, digest, mentions, analyst, demo, cluster):
    app.add_typer(_module.app)
