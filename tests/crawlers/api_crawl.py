"""Running one API source end to end for the social-source tests, on the crawler tests'
`crawl` (the real crawl process, download path and pipeline) against a loopback server."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from crawlers.run import RECHECKED_AT
from crawlers.stats import CrawlRunStats
from mentionwatch.config import Config
from mentionwatch.settings import Settings
from store.models import CrawlCursor
from tests.crawlers.conftest import crawl
from tests.fakes.site_server import RecordedRequest, Reply

SOURCE = "src"
ACME = {"name": "Acme", "query": "acme OR акме"}


def crawl_source(settings: Settings, source: dict[str, Any], **overrides: Any) -> CrawlRunStats:
    """Crawl one source (a config table; name, brand and `match = "all"` filled in) once."""
    config = Config.model_validate({"brands": [ACME], "sources": [{"name": SOURCE, "brand": "Acme", "match": "all", **source}]})
    return crawl(config, settings, **overrides)[SOURCE]


def cursors(engine: Engine) -> dict[str, str]:
    """The saved listing cursors of the source, key -> value (the recheck clock left out)."""
    with Session(engine) as session:
        return {row.key: row.value for row in session.exec(select(CrawlCursor)) if row.key != RECHECKED_AT}


def json_reply(body: bytes | str, status: int = 200, **headers: str) -> Reply:
    data = body.encode() if isinstance(body, str) else body
    return Reply(status, data, {"Content-Type": "application/json; charset=utf-8", **headers})


def query(request: RecordedRequest) -> dict[str, str]:
    """The query arguments of a recorded request (the last value of each)."""
    return {name: values[-1] for name, values in parse_qs(urlsplit(request.path).query).items()}
