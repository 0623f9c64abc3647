"""The stackexchange spider end to end against a loopback API that gzips, as the real one does."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from mentionwatch.settings import Settings
from tests.crawlers.api_crawl import crawl_source, cursors, json_reply, query
from tests.crawlers.conftest import stored
from tests.crawlers.recorded import sample
from tests.fakes.site_server import RecordedRequest, Reply, SiteServer

SEARCH = "/2.3/search/advanced"


def _gzipped(body: bytes, status: int = 200) -> Reply:
    return json_reply(gzip.compress(body), status=status, **{"Content-Encoding": "gzip"})


def _pages(request: RecordedRequest) -> Reply:
    return _gzipped(sample("stackexchange", f"search_advanced_page{query(request)['page']}.json"))


def test_questions_paged_after_the_backoff_then_from_the_last_date(settings: Settings, store_engine: Engine) -> None:
    with SiteServer(routes={SEARCH: _pages}) as site:
        source = {"type": "stackexchange", "search": ["acme"], "options": {"site": "stackoverflow", "key": "publicAppKey(("}, "base_url": site.base_url}
        stats = crawl_source(settings, source)
        first, second = site.requested(SEARCH)
        assert query(first) == {
            "q": "acme", "site": "stackoverflow", "sort": "creation", "order": "desc",
            "filter": "withbody", "pagesize": "100", "page": "1", "key": "publicAppKey((",
        }  # fmt: skip
        assert query(second)["page"] == "2"
        # Page 1 said "backoff": 1; the spider waited at least that long before page 2.
        assert second.at - first.at >= 1.0
        assert (stats.errors, stats.pages, stats.new) == (0, 2, 3)
        mentions = {m.external_id: m for m in stored(store_engine)}
        english = mentions["q79900001"]
        assert english.title == "Acme SDK raises TimeoutError on upload > 10 MB"
        assert english.text.startswith("Since acme-sdk 4.2 every upload above 10 MB fails:")
        assert (mentions["q1600002"].language, mentions["q1600002"].author) == ("ru", "Сергей")
        assert cursors(store_engine) == {"acme": "2026-11-20T10:20:00+00:00"}

        crawl_source(settings, source)
        assert query(site.requested(SEARCH)[-1])["fromdate"] == "1795170000"


@pytest.mark.slow
def test_recorded_wrapper_of_another_method(settings: Settings, store_engine: Engine, shared_fixtures: Path) -> None:
    # A real 2.x reply whose items are no questions: each is skipped with its reason.
    with SiteServer(routes={SEARCH: _gzipped((shared_fixtures / "stackexchange" / "stackapi_sites.json").read_bytes())}) as site:
        stats = crawl_source(settings, {"type": "stackexchange", "search": ["acme"], "base_url": site.base_url})
    assert (stats.pages, stats.errors, stats.new) == (1, 5, 0)
