"""`mentionwatch crawl`: fetch new mentions from the configured sources, once."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crawlers.runner import CrawlFailed, run_crawl
from crawlers.stats import CrawlRunStats
from mentionwatch.context import app_state, fail

app = typer.Typer()
console = Console()


# header, right-aligned, never wrapped
_COLUMNS = (
    ("source", False, True), ("type", False, True), ("pages", True, True), ("seen", True, True),
    ("new", True, True), ("upd", True, True), ("same", True, True), ("dropped", False, False),
    ("err", True, True), ("end", False, False),
)  # fmt: skip


def stats_table(results: list[CrawlRunStats]) -> Table:
    """One row per source: pages read, items seen, saved new/updated/unchanged, dropped by reason."""
    table = Table(title="Crawl")
    for header, right, no_wrap in _COLUMNS:
        table.add_column(header, justify="right" if right else "left", no_wrap=no_wrap)
    for row in results:
        dropped = ", ".join(f"{reason} {count}" for reason, count in row.dropped.items()) or "-"
        table.add_row(
            row.source, row.source_type, str(row.pages), str(row.items_seen), str(row.new), str(row.updated),
            str(row.unchanged), dropped, str(row.errors), row.finish_reason,
        )  # fmt: skip
    return table


@app.command()
def crawl(
    ctx: typer.Context,
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only this source (repeat for several); default: all.")
    ] = None,
) -> None:
    """Crawl the configured sources once and store new and edited mentions.

    Re-running adds no duplicates: known items are left alone, edited ones updated.
    Exits 1 only when no source could be crawled at all.

    Example: mentionwatch --config mentionwatch.toml crawl --source shop-reviews
    """
    state = app_state(ctx)
    config = state.config
    for name in source or ():
        if name not in {s.name for s in config.sources}:
            fail(f"--source {name!r}: no such source in {state.config_path} ({', '.join(s.name for s in config.sources)})")
    if not config.sources:
        fail(f"{state.config_path}: no sources to crawl")
    try:
        results = run_crawl(config, state.settings, source_names=source or None)
    except CrawlFailed as exc:
        fail(str(exc), code=1)
    console.print(stats_table(results))
    if not any(row.crawled for row in results):
        fail("nothing could be crawled: see the log above", code=1)
