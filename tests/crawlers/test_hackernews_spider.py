"""The hackernews spider end to end against a loopback Algolia search API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from mentionwatch.settings import Settings
from tests.crawlers.api_crawl import crawl_source, cursors, json_reply, query
from tests.crawlers.conftest import stored
from tests.crawlers.recorded import sample
from tests.fakes.site_server import RecordedRequest, Reply, SiteServer

SEARCH = "/api/v1/search_by_date"


def _pages(request: RecordedRequest) -> Reply:
    return json_reply(sample("hackernews", f"search_by_date_page{query(request).get('page', '0')}.json"))


def test_search_pages_then_only_newer(settings: Settings, store_engine: Engine) -> None:
    with SiteServer(routes={SEARCH: _pages}) as site:
        stats = crawl_source(settings, {"type": "hackernews", "search": ["acme"], "base_url": site.base_url})
        assert (stats.errors, stats.pages, stats.new) == (0, 2, 3)
        first, second = (query(r) for r in site.requested(SEARCH))
        assert first == {"query": "acme", "tags": "(story,comment)", "hitsPerPage": "100"}
        assert second["page"] == "1"
        mentions = {m.external_id: m for m in stored(store_engine)}
        polish = mentions["46000010"]
        assert polish.text.startswith("Używamy API Acme od roku. Limity są za niskie, a support odpisuje po tygodniu – przenosimy")
        assert (polish.language, mentions["46000005"].language) == ("pl", "ru")
        assert polish.thread_url == mentions["46000001"].url == "https://news.ycombinator.com/item?id=46000001"
        assert cursors(store_engine) == {"acme": "2026-11-20T10:00:00+00:00"}

        again = crawl_source(settings, {"type": "hackernews", "search": ["acme"], "base_url": site.base_url})
        assert (again.errors, again.pages, again.new) == (0, 1, 0)
        assert query(site.requested(SEARCH)[-1])["numericFilters"] == "created_at_i>1795168800"


@pytest.mark.slow
def test_recorded_algolia_reply(settings: Settings, store_engine: Engine, shared_fixtures: Path) -> None:
    entries = json.loads((shared_fixtures / "hackernews" / "algolia_fixtures.json").read_text(encoding="utf-8"))
    reply = next(e["reply"] for e in entries if e["url"] == "/api/v1/search_by_date?hitsPerPage=1&tags=(comment)&query=apple")
    with SiteServer(routes={SEARCH: json_reply(json.dumps(reply))}) as site:
        stats = crawl_source(settings, {"type": "hackernews", "search": ["apple"], "base_url": site.base_url})
        # The recorded reply is always "page 0 of 1000": the second page asks for page 1
        # again, which Scrapy's duplicate filter drops, so the crawl ends there.
        assert [query(r).get("page") for r in site.requested(SEARCH)] == [None, "1"]
    assert (stats.errors, stats.new, stats.unchanged) == (0, 1, 1)
    (comment,) = stored(store_engine)
    assert comment.text.startswith("Yeah the article seems stupid, while technically they aren't contributing")
