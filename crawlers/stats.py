"""Counting a crawl: the stat keys the spiders and pipeline steps bump, and the summary.

Everything is counted in Scrapy's own stats collector under `mentionwatch/...`, so a
`scrapy crawl` run shows the same numbers that `run_crawl` stores and prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from scrapy.statscollectors import StatsCollector

PAGES = "mentionwatch/pages"
SAVED = "mentionwatch/saved/"  # + new, updated, unchanged
DROPPED = "mentionwatch/dropped/"  # + reason
ERRORS = "mentionwatch/errors/"  # + kind
REFUSED = "mentionwatch/refused/"  # + the refused endpoint (crawlers.egress.Refusal.target)

# Scrapy's own counters of failures that our callbacks never see.
_SCRAPY_ERROR_KEYS = ("spider_exceptions/count",)


def count_error(stats: StatsCollector, kind: str) -> None:
    stats.inc_value(ERRORS + kind)


def count_refusal(stats: StatsCollector, target: str) -> None:
    stats.inc_value(REFUSED + target)


def count_drop(stats: StatsCollector, reason: str) -> None:
    stats.inc_value(DROPPED + reason)


@dataclass(frozen=True)
class CrawlRunStats:
    """What one run of one source did; stored as a CrawlRun row and printed by the CLI."""

    source: str
    source_type: str
    pages: int = 0
    items_seen: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    # Requests the egress rules refused, by endpoint; each is also one of `errors`.
    refused: dict[str, int] = field(default_factory=dict)
    finish_reason: str = "finished"
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def kept(self) -> int:
        return self.new + self.updated + self.unchanged

    @property
    def crawled(self) -> bool:
        """Whether anything at all came back from the source."""
        return self.pages > 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("started_at", "finished_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CrawlRunStats:
        values = dict(data)
        for key in ("started_at", "finished_at"):
            values[key] = datetime.fromisoformat(values[key]) if values.get(key) else None
        return cls(**values)

    @classmethod
    def from_scrapy(cls, *, source: str, source_type: str, stats: Mapping[str, Any]) -> CrawlRunStats:
        """Summarize a finished crawler's stats dict."""
        errors = sum(int(v) for k, v in stats.items() if k.startswith(ERRORS))
        errors += sum(int(stats.get(key, 0)) for key in _SCRAPY_ERROR_KEYS)
        dropped = {k.removeprefix(DROPPED): int(v) for k, v in stats.items() if k.startswith(DROPPED)}
        refused = {k.removeprefix(REFUSED): int(v) for k, v in stats.items() if k.startswith(REFUSED)}
        saved = {k.removeprefix(SAVED): int(v) for k, v in stats.items() if k.startswith(SAVED)}
        return cls(
            source=source,
            source_type=source_type,
            pages=int(stats.get(PAGES, 0)),
            items_seen=int(stats.get("item_scraped_count", 0)) + int(stats.get("item_dropped_count", 0)),
            new=saved.get("new", 0),
            updated=saved.get("updated", 0),
            unchanged=saved.get("unchanged", 0),
            dropped=dict(sorted(dropped.items())),
            errors=errors,
            refused=dict(sorted(refused.items())),
            finish_reason=str(stats.get("finish_reason", "unknown")),
            started_at=stats.get("start_time"),
            finished_at=stats.get("finish_time"),
        )
