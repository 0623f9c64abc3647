"""`mentionwatch crawl`: fetch new mentions from the configured sources, once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from mentionwatch.context import app_state, fail

if TYPE_CHECKING:
    from crawlers.stats import CrawlRunStats

app = typer.Typer()
console = Console()


NUMBERS = ("pages", "seen", "new", "upd", "same", "err")


def stats_table(results: list[CrawlRunStats]) -> Table:
    """One row per source: pages read, items seen, saved new/updated/unchanged, dropped by reason.

    Connections the egress rules refused are listed by address, and a source that did
    not finish normally shows why, each in a column of its own shown only then.
    """
    table = Table(title="Crawl")
    table.add_column("source", no_wrap=True)
    table.add_column("type", no_wrap=True)
    for header in NUMBERS:
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("dropped", min_width=12)
    refusals = any(row.refused for row in results)
    if refusals:
        table.add_column("refused")
    unusual = any(row.finish_reason != "finished" for row in results)
    if unusual:
        table.add_column("end")
    for row in results:
        numbers = (row.pages, row.items_seen, row.new, row.updated, row.unchanged, row.errors)
        cells = [row.source, row.source_type, *map(str, numbers), _counts(row.dropped)]
        table.add_row(*cells, *([_counts(row.refused)] if refusals else []), *([row.finish_reason] if unusual else []))
    return table


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{what} {count}" for what, count in counts.items()) or "-"


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
    state.sync_config()  # here, so that a store that cannot be opened is reported before the crawl starts
    from crawlers.runner import CrawlFailed, run_crawl  # Scrapy: only when crawling

    try:
        results = run_crawl(config, state.settings, source_names=source or None)
    except CrawlFailed as exc:
        fail(str(exc), code=1)
    console.print(stats_table(results))
    if not any(row.crawled for row in results):
        fail("nothing could be crawled: see the log above", code=1)
