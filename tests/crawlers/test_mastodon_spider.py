"""The mastodon spider end to end against a loopback Mastodon server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from mentionwatch.settings import Settings
from tests.crawlers.api_crawl import crawl_source, cursors, json_reply, query
from tests.crawlers.conftest import stored
from tests.crawlers.recorded import recorded_get, sample
from tests.fakes.site_server import RecordedRequest, Reply, SiteServer

TAG = "/api/v1/timelines/tag/acme"


def _tag_timeline(site: SiteServer) -> None:
    def timeline(request: RecordedRequest) -> Reply:
        max_id = query(request).get("max_id")
        if max_id is None:
            link = f'<{site.url(TAG)}?max_id=115600000000000150>; rel="next", <{site.url(TAG)}?min_id=115600000000000300>; rel="prev"'
            return json_reply(sample("mastodon", "tag_acme_page1.json"), Link=link)
        if max_id == "115600000000000150":
            return json_reply(sample("mastodon", "tag_acme_page2.json"))
        return json_reply("[]")

    site.routes[TAG] = timeline


def test_tag_timeline_paged_by_max_id(settings: Settings, store_engine: Engine) -> None:
    with SiteServer() as site:
        _tag_timeline(site)
        stats = crawl_source(settings, {"type": "mastodon", "search": ["#acme"], "base_url": site.base_url})
        # Page 2 has no Link header: the next asks below its last id and comes back empty.
        assert [query(r).get("max_id") for r in site.requested(TAG)] == [None, "115600000000000150", "115600000000000050"]
        assert (stats.errors, stats.pages, stats.new) == (0, 3, 4)
        assert "authorization" not in {name.lower() for name in site.requested(TAG)[0].headers}
    mentions = {m.external_id.rsplit("/", 1)[1]: m for m in stored(store_engine)}
    assert sorted(mentions) == ["115600000000000050", "115600000000000100", "115600000000000150", "115600000000000300"]
    polish = mentions["115600000000000300"]
    assert (polish.text, polish.language) == ("Nowa aplikacja #Acme jest świetna, wreszcie działa płatność BLIKiem!", "pl")
    boosted = mentions["115600000000000100"]
    assert boosted.text == "Заказала чайник в #Acme, пришёл с трещиной. Поддержка молчит уже неделю."
    assert (boosted.author, boosted.language) == ("olga@mastodon.ru.example", "ru")
    assert mentions["115600000000000150"].title == "appliance rant"
    assert cursors(store_engine) == {"#acme": "2026-11-20T10:20:00+00:00"}


@pytest.mark.slow
def test_status_search_with_a_token_from_the_environment(
    settings: Settings, store_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTODON_TOKEN_FOR_TESTS", "s3cr3t-token")
    with SiteServer(routes={"/api/v2/search": json_reply(sample("mastodon", "search_acme.json"))}) as site:
        site.inject("/api/v2/search", json_reply(sample("mastodon", "search_acme.json")), json_reply('{"accounts": [], "statuses": [], "hashtags": []}'))
        source = {"type": "mastodon", "search": ["acme"], "options": {"token_env": "MASTODON_TOKEN_FOR_TESTS"}, "base_url": site.base_url}
        stats = crawl_source(settings, source)
        first, second = site.requested("/api/v2/search")
    assert query(first) == {"q": "acme", "type": "statuses", "limit": "40"}
    assert query(second)["max_id"] == "115600000000000100"
    assert first.headers["Authorization"] == "Bearer s3cr3t-token"
    assert (stats.errors, stats.new) == (0, 2)


@pytest.mark.slow
def test_recorded_hashtag_timeline(settings: Settings, store_engine: Engine, shared_fixtures: Path) -> None:
    recorded = recorded_get(shared_fixtures / "mastodon" / "test_hashtag_tl.yaml", "/timelines/tag/hoot")
    with SiteServer() as site:
        # The recorded Link header names the recording server; only its max_id is used.
        site.routes["/api/v1/timelines/tag/hoot"] = json_reply(recorded.body, Link=recorded.headers["link"])
        site.routes["/api/v1/timelines/tag/hoot?limit=40&max_id=117020593741189701"] = json_reply("[]")
        stats = crawl_source(settings, {"type": "mastodon", "search": ["#hoot"], "base_url": site.base_url})
    assert (stats.errors, stats.new) == (0, 1)
    (status,) = stored(store_engine)
    assert (status.text, status.url) == ("#hoot (hashtag toot)", "http://localhost:3000/@mastodonpy_test_2/117020593741189701")
