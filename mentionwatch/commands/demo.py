"""`mentionwatch demo`: the whole pipeline, offline, on built-in sample pages."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from mentionwatch.context import app_state

app = typer.Typer()


@app.command()
def demo(
    ctx: typer.Context,
    workdir: Annotated[
        Path | None,
        typer.Option(help="Folder for the demo's database, config and digest (default: a new temporary folder)."),
    ] = None,
) -> None:
    """Run the whole pipeline offline on built-in sample pages.

    Serves a Polish shop page, a Russian forum thread, a feed and App Store reviews on
    loopback, crawls them with the real spiders, scores them with the real model, sends
    the negative ones to Slack (or prints them when MENTIONWATCH_SLACK_TOKEN is unset),
    writes the weekly digest preview and prints a summary. Your own database is not
    touched: the demo keeps everything in WORKDIR.

    Example: mentionwatch demo --workdir ./demo
    """
    from mentionwatch.demo.pipeline import run_demo  # Scrapy, torch, matplotlib: only when the demo runs

    folder = workdir or Path(tempfile.mkdtemp(prefix="mentionwatch-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    run_demo(app_state(ctx).settings, folder)
