"""The demo's pipeline: serve the sample pages, crawl, score, alert, write the digest.

It imports everything the service does (Scrapy, torch, matplotlib), so the `demo` command
imports this module only when it runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.resources import as_file, files
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.table import Table
from sqlalchemy import case, func
from sqlmodel import col, select

from alerts.digest.build import build_digest, write_preview
from alerts.digest.weeks import IsoWeek
from alerts.sender import send_alerts
from crawlers.runner import run_crawl
from mentionwatch.commands.crawl import stats_table
from mentionwatch.config import Config
from mentionwatch.context import AppState
from mentionwatch.demo.server import serve_directory
from mentionwatch.scoring import classifier_from_settings, score_pending
from mentionwatch.settings import Settings
from store.db import session_scope
from store.derived import effective_label
from store.models import AlertOutbox, Mention, SentimentScore, Source

console = Console()
T = TypeVar("T")
# The sample site is on loopback: no need for AutoThrottle's cautious first delay.
_FAST_START = {"AUTOTHROTTLE_START_DELAY": 0}


@dataclass
class _Timings:
    steps: list[tuple[str, float]] = field(default_factory=list)

    def run(self, name: str, step: Callable[[], T]) -> T:
        console.rule(f"[bold]{name}")
        started = time.perf_counter()
        result = step()
        self.steps.append((name, time.perf_counter() - started))
        return result


@contextmanager
def _demo_site() -> Iterator[str]:
    with as_file(files("mentionwatch.demo").joinpath("site")) as root, serve_directory(Path(root)) as base_url:
        yield base_url


def _demo_config(base_url: str) -> str:
    template = files("mentionwatch.demo").joinpath("demo_config.toml").read_text(encoding="utf-8")
    return template.replace("{base_url}", base_url)


def _per_source(state: AppState) -> list[tuple[str, str, int, int, int]]:
    """Per source: mentions stored, negative by effective label, alerts queued."""
    label = effective_label()
    with session_scope(state.engine) as session:
        rows = session.exec(
            select(
                Source.name,
                Source.type,
                func.count(func.distinct(Mention.id)),
                func.count(func.distinct(case((label == "negative", Mention.id)))),
                func.count(func.distinct(AlertOutbox.id)),
            )
            .join(Mention, col(Mention.source_id) == col(Source.id), isouter=True)
            .join(SentimentScore, col(SentimentScore.mention_id) == col(Mention.id), isouter=True)
            .join(AlertOutbox, col(AlertOutbox.mention_id) == col(Mention.id), isouter=True)
            .group_by(Source.name, Source.type)
            .order_by(Source.name)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _summary(rows: list[tuple[str, str, int, int, int]], timings: _Timings, preview: Path) -> Table:
    table = Table(title="mentionwatch demo: crawled, scored, alerted")
    for column in ("source", "type", "mentions", "negative", "alerts"):
        table.add_column(column, justify="left" if column in ("source", "type") else "right")
    for name, source_type, mentions, negative, alerts in rows:
        table.add_row(name, source_type, str(mentions), str(negative), str(alerts))
    total = [sum(row[i] for row in rows) for i in (2, 3, 4)]
    table.add_section()
    table.add_row("all", "", *map(str, total))
    steps = " · ".join(f"{name} {seconds:.1f}s" for name, seconds in timings.steps)
    table.caption = f"{steps}\nweekly digest preview: {preview}"
    return table


def _latest_week(state: AppState, config: Config) -> IsoWeek:
    """The week of the newest sample mention, so the digest shows the demo's data."""
    brand = config.brands[0]
    with session_scope(state.engine) as session:
        newest = session.exec(select(func.max(Mention.published_at))).one()
    if newest is None:
        return IsoWeek.last_complete(brand.tz)
    return IsoWeek.containing(newest.astimezone(brand.tz).date())


def run_demo(settings: Settings, folder: Path) -> None:
    """Serve the sample site, crawl, score, alert and write the digest, keeping everything in `folder`."""
    database = folder / "demo.db"
    earlier_run = database.exists()
    settings = settings.model_copy(update={"database_url": f"sqlite:///{database}"})
    timings = _Timings()
    with _demo_site() as base_url:
        config_path = folder / "demo.toml"
        config_path.write_text(_demo_config(base_url), encoding="utf-8")
        state = AppState(settings=settings, config_option=config_path)
        config = state.config
        state.sync_config()
        console.print(f"Sample site on {base_url}; store and digest in {folder}")
        if earlier_run:
            console.print(
                f"[yellow]{folder} holds an earlier demo run: its mentions are stored, scored and alerted, so this "
                "run finds nothing new (the summary counts the earlier run). For a fresh run, delete the folder "
                "or pass another --workdir.",
                highlight=False,
            )
        console.print(stats_table(timings.run("crawl", lambda: run_crawl(config, settings, scrapy_overrides=_FAST_START))))
    classifier = timings.run("load model", lambda: classifier_from_settings(settings))
    scored = timings.run("score", lambda: score_pending(state.engine, classifier))
    console.print(f"Scored {scored} new mention(s) with {classifier.name}.")
    alerts = timings.run("alerts", lambda: send_alerts(state.engine, settings, config))
    console.print(f"Queued {alerts.enqueued} alert(s), sent {alerts.sent}.")
    preview = folder / "digest.html"

    def digest() -> None:
        write_preview(build_digest(state.engine, config.brands[0], _latest_week(state, config)), preview)

    timings.run("digest", digest)
    console.print(_summary(_per_source(state), timings, preview))
