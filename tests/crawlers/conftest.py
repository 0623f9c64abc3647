"""Helpers for crawler tests: samples, a store, spiders built outside the engine, crawls."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.utils.test import get_crawler
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import mentionwatch
from crawlers.job import SourceJob
from crawlers.runner import run_crawl
from crawlers.spiders.base import MentionSpider
from crawlers.stats import CrawlRunStats
from crawlers.storage import DATABASE_URL_SETTING
from mentionwatch.config import Brand, Config, Source, parse_config
from mentionwatch.settings import Settings
from store.models import Mention
from store.models import Source as SourceRow

SAMPLES = Path(__file__).parent / "samples"
DEMO_SITE = Path(mentionwatch.__file__).parent / "demo" / "site"
DEMO_CONFIG = Path(mentionwatch.__file__).parent / "demo" / "demo_config.toml"
BRAND = Brand(name="Zamówko", query='(zamówk* OR замовк*) -"oferta pracy"', timezone="Europe/Warsaw")

# Loopback sites answer in microseconds: start AutoThrottle at no delay, retry fast.
FAST = {"AUTOTHROTTLE_START_DELAY": 0.0, "MENTIONWATCH_RETRY_AFTER_DEFAULT": 0.2}


def make_job(source_type: str, *, brand: Brand = BRAND, cursors: dict[str, str] | None = None, **source: Any) -> SourceJob:
    source.setdefault("urls", ["https://site.example/"])
    return SourceJob(
        source=Source(name=f"test-{source_type}", brand=brand.name, type=source_type, **source),  # type: ignore[arg-type]
        brand=brand,
        source_id=1,
        brand_id=1,
        cursors=cursors or {},
    )


def make_spider(job: SourceJob, database_url: str = "sqlite://") -> MentionSpider:
    """A spider with a crawler and stats, for calling callbacks and pipeline steps directly."""
    cls = job.source.kind.spider
    crawler = get_crawler(cls, {DATABASE_URL_SETTING: database_url})
    spider = cls.from_crawler(crawler, job=job)
    crawler.spider = spider
    return spider


def response_from(path: Path, url: str, **kwargs: Any) -> TextResponse:
    body = path.read_bytes()
    cls = HtmlResponse if path.suffix == ".html" else TextResponse
    return cls(url=url, body=body, encoding="utf-8", request=Request(url, **kwargs))


def run_callback(spider: MentionSpider, response: TextResponse, callback: Any = None, **kwargs: Any) -> list[Any]:
    return list((callback or spider.parse)(response, **kwargs))


def stats_of(spider: MentionSpider) -> dict[str, Any]:
    assert spider.crawler.stats is not None
    return spider.crawler.stats.get_stats()


def crawl(config: Config, settings: Settings, sources: Sequence[str] | None = None, **overrides: Any) -> dict[str, CrawlRunStats]:
    """Run the real runner (a child process) and index its stats by source name."""
    results = run_crawl(config, settings, source_names=sources, scrapy_overrides={**FAST, **overrides})
    return {row.source: row for row in results}


def make_config(*sources: dict[str, Any], brand: Brand = BRAND) -> Config:
    """A validated config of one brand and the given sources (`brand` is filled in)."""
    return Config.model_validate(
        {"brands": [brand.model_dump()], "sources": [{"brand": brand.name, **source} for source in sources]}
    )


def demo_config(base_url: str) -> Config:
    return parse_config(DEMO_CONFIG.read_text(encoding="utf-8").replace("{base_url}", base_url))


def stored(engine: Engine, source: str | None = None) -> list[Mention]:
    with Session(engine) as session:
        statement = select(Mention).order_by(col(Mention.id))
        if source is not None:
            statement = statement.join(SourceRow, col(SourceRow.id) == col(Mention.source_id)).where(SourceRow.name == source)
        return list(session.exec(statement))


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return Settings(database_url=sqlite_url, log_level="INFO", user_agent="mentionwatch-tests (+https://example.org/contact)")


@pytest.fixture
def store_engine(sqlite_engine: Engine) -> Iterator[Engine]:
    yield sqlite_engine
