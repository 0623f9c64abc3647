"""The bluesky spider end to end against a loopback XRPC searchPosts."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from mentionwatch.settings import Settings
from tests.crawlers.api_crawl import crawl_source, cursors, json_reply, query
from tests.crawlers.conftest import stored
from tests.crawlers.recorded import sample
from tests.fakes.site_server import RecordedRequest, Reply, SiteServer

SEARCH = "/xrpc/app.bsky.feed.searchPosts"


def _pages(request: RecordedRequest) -> Reply:
    name = {None: "search_posts_page1.json", "3": "search_posts_page2.json"}.get(query(request).get("cursor"), "search_posts_empty.json")
    return json_reply(sample("bluesky", name))


def test_search_by_cursor_then_since_the_last_post(settings: Settings, store_engine: Engine) -> None:
    with SiteServer(routes={SEARCH: _pages}) as site:
        stats = crawl_source(settings, {"type": "bluesky", "search": ["acme"], "base_url": site.base_url})
        assert [query(r).get("cursor") for r in site.requested(SEARCH)] == [None, "3", "4"]
        assert query(site.requested(SEARCH)[0]) == {"q": "acme", "sort": "latest", "limit": "100"}
        assert (stats.errors, stats.pages, stats.new) == (0, 3, 4)
        mentions = {m.external_id.rsplit("/", 1)[1]: m for m in stored(store_engine)}
        assert mentions["3mpl0000001"].language == "pl"
        russian = mentions["3mru0000001"]
        assert (russian.language, russian.author) == ("ru", "did:plc:ivan000000000000000000000")
        assert russian.thread_url == "https://bsky.app/profile/did:plc:acmeofficial000000000000/post/3acmeroot00"
        assert cursors(store_engine) == {"acme": "2026-11-20T10:20:00+00:00"}

        again = crawl_source(settings, {"type": "bluesky", "search": ["acme"], "base_url": site.base_url})
        assert (again.errors, again.new) == (0, 0)
        assert query(site.requested(SEARCH)[-1])["since"] == "2026-11-20T10:20:00Z"


@pytest.mark.slow
def test_recorded_search(settings: Settings, store_engine: Engine, shared_fixtures: Path) -> None:
    with SiteServer(routes={SEARCH: json_reply((shared_fixtures / "bluesky" / "searchPosts.body.json").read_bytes())}) as site:
        site.routes[f"{SEARCH}?q=redistricting&sort=latest&limit=100&cursor=25"] = json_reply(sample("bluesky", "search_posts_empty.json"))
        stats = crawl_source(settings, {"type": "bluesky", "search": ["redistricting"], "base_url": site.base_url})
    # A bot posted one paper three times: the two copies are dropped as syndicated.
    assert (stats.errors, stats.pages, stats.new, stats.dropped) == (0, 2, 23, {"syndicated": 2})
    assert {m.language for m in stored(store_engine)} == {"en"}
