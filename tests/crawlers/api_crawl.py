"""Running one API source end to end for the social-source tests, on the crawler tests'
`crawl` (the real crawl process, download path and pipeline) against a loopback server."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from crawlers.stats import CrawlRunStats
from mentionwatch.config import Config
from mentionwatch.settings import Settings
from store.models import CrawlCursor
from tests.crawlers.conftest import crawl

SOURCE = "src"
ACME = {"name": "Acme", "query": "acme OR акме"}


def crawl_source(settings: Settings, source: dict[str, Any], **overrides: Any) -> CrawlRunStats:
    """Crawl one source (a config table; name, brand and `match = "all"` filled in) once."""
    config = Config.model_validate({"brands": [ACME], "sources": [{"name": SOURCE, "brand": "Acme", "match": "all", **source}]})
    return crawl(config, settings, **overrides)[SOURCE]


def cursors(engine: Engine) -> dict[str, str]:
    """The saved cursors of the source, key -> value."""
    with Session(engine) as session:
        return {row.key: row.value for row in session.exec(select(CrawlCursor))}
