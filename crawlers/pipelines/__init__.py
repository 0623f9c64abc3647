"""The item pipeline, one module per step, in the order `crawlers.settings` runs them:

normalize -> language -> match -> dedup -> save.

Each step is a small class built from the crawler, reading the spider's `job`
(`crawlers.job.SourceJob`) for the source and brand it works for, so each can be
tested alone with a stub crawler.
"""

from __future__ import annotations

from typing import NoReturn, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawlers.job import SourceJob
from crawlers.stats import count_drop


class PipelineStep:
    """Shared plumbing: the crawler, the job of the running spider, counted drops."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def job(self) -> SourceJob:
        job = getattr(self.crawler.spider, "job", None)
        if not isinstance(job, SourceJob):
            raise TypeError("mentionwatch pipelines need a spider built with a SourceJob (see crawlers.spiders.base)")
        return job

    def drop(self, reason: str, message: str) -> NoReturn:
        """Stop the item here, counted under `reason`; routine drops log at DEBUG only."""
        assert self.crawler.stats is not None
        count_drop(self.crawler.stats, reason)
        raise DropItem(f"{reason}: {message}", log_level="DEBUG")
