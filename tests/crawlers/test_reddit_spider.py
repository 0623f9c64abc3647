"""The reddit spider end to end: loopback Reddit, the crawl process, the pipeline, the store."""

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

NO_COMMENTS = json.dumps([{"kind": "Listing", "data": {"children": []}}] * 2).encode()


def _sample_reddit() -> SiteServer:
    def search(request: RecordedRequest) -> Reply:
        after = query(request).get("after")
        return json_reply(sample("reddit", "search_page2.json" if after == "t3_1ru2" else "search_page1.json"))

    routes = {
        "/search.json": search,
        "/comments/1pl1.json": json_reply(sample("reddit", "comments_1pl1.json")),
        "/api/morechildren.json": json_reply(sample("reddit", "morechildren_1pl1.json")),
        "/comments/1pl1/_/c11.json": json_reply(sample("reddit", "comments_1pl1_c11.json")),
    }
    for post_id in ("1ru2", "1en3", "1old"):
        routes[f"/comments/{post_id}.json"] = json_reply(NO_COMMENTS)
    return SiteServer(routes=routes)


def test_search_posts_and_their_comments_then_only_what_is_new(settings: Settings, store_engine: Engine) -> None:
    with _sample_reddit() as site:
        stats = crawl_source(settings, {"type": "reddit", "search": ["acme"], "base_url": site.base_url})
        assert (stats.errors, stats.pages, stats.new) == (0, 8, 11)
        assert query(site.requested("/search.json")[0]) == {"q": "acme", "sort": "new", "limit": "100", "raw_json": "1"}
        # The comments the thread's page left out: its stub's ids, then the reply chain cut below c11.
        assert query(site.requested("/api/morechildren.json")[0]) == {
            "api_type": "json", "link_id": "t3_1pl1", "children": "c9,c10", "sort": "new", "raw_json": "1"
        }
        assert len(site.requested("/comments/1pl1/_/c11.json")) == 1

        mentions = {m.external_id: m for m in stored(store_engine)}
        assert sorted(mentions) == [
            "t1_c1", "t1_c10", "t1_c11", "t1_c12", "t1_c2", "t1_c4", "t1_c9", "t3_1en3", "t3_1old", "t3_1pl1", "t3_1ru2"
        ]
        deep = mentions["t1_c12"]
        assert (deep.thread_url, deep.parent_url) == (mentions["t3_1pl1"].url, mentions["t1_c11"].url)
        post, answer, russian = mentions["t3_1pl1"], mentions["t1_c2"], mentions["t1_c4"]
        assert post.text == "Zamówiłam ekspres do kawy w Acme dwa tygodnie temu. Paczka utknęła w sortowni i nikt nie odbiera telefonu. Nie polecam."
        assert (post.language, russian.language) == ("pl", "ru")
        assert answer.thread_url == post.url == "https://www.reddit.com/r/Polska/comments/1pl1/acme_zgubilo_moja_paczke/"
        assert answer.parent_url == mentions["t1_c1"].url
        assert cursors(store_engine) == {"acme": "2026-11-20T10:00:00+00:00"}

        again = crawl_source(settings, {"type": "reddit", "search": ["acme"], "base_url": site.base_url})
        # The first page already holds known posts: no second page, no comments fetched again.
        assert (again.errors, again.pages, again.new, again.kept) == (0, 1, 0, 0)
        assert len(site.requested("/search.json")) == 3


@pytest.mark.slow
def test_a_watched_thread_and_comments_disabled(settings: Settings, store_engine: Engine) -> None:
    with _sample_reddit() as site:
        site.routes["/r/Polska/comments/1pl1/acme_zgubilo_moja_paczke.json"] = json_reply(sample("reddit", "comments_1pl1.json"))
        thread = "https://www.reddit.com/r/Polska/comments/1pl1/acme_zgubilo_moja_paczke/"
        stats = crawl_source(settings, {"type": "reddit", "urls": [thread], "base_url": site.base_url})
        assert (stats.errors, stats.new) == (0, 8)
        assert site.requested("/r/Polska/comments/1pl1/acme_zgubilo_moja_paczke.json")[0].path.endswith(".json?raw_json=1")

    with _sample_reddit() as site:
        site.routes["/r/Polska/comments/1pl1/acme_zgubilo_moja_paczke.json"] = json_reply(sample("reddit", "comments_1pl1.json"))
        # One request for left-out comments per thread: the stub's ids, not the chain below them.
        crawl_source(settings, {"type": "reddit", "urls": [thread], "options": {"more_comments": 1}, "base_url": site.base_url})
        assert (len(site.requested("/api/morechildren.json")), site.requested("/comments/1pl1/_/c11.json")) == (1, [])

    with _sample_reddit() as site:
        crawl_source(settings, {"type": "reddit", "search": ["acme"], "options": {"comments": False}, "base_url": site.base_url})
        assert site.requested("/comments/1pl1.json") == []


@pytest.mark.slow
def test_recorded_reddit(settings: Settings, store_engine: Engine, shared_fixtures: Path) -> None:
    folder = shared_fixtures / "reddit"

    def search(request: RecordedRequest) -> Reply:
        after = query(request).get("after")
        return json_reply((folder / ("asyncpraw_search.body.json" if after else "go-reddit_search-posts.json")).read_bytes())

    with SiteServer(routes={"/search.json": search}) as site:
        site.routes.update(
            {f"/comments/{post_id}.json": json_reply((folder / "go-reddit_post-with-comments.json").read_bytes()) for post_id in ("hybow9", "hmwhd7")}
        )
        stats = crawl_source(settings, {"type": "reddit", "search": ["praw"], "base_url": site.base_url, "options": {"comments": True}})
    # 2 + 31 posts; the recorded post page (its post and 2 comments) answers for every post,
    # so its comments are new once; the 31 other posts have no comment page (HTTP 404).
    assert stats.new == 33 + 2
    assert stats.errors == 31
    assert {m.external_id for m in stored(store_engine)} >= {"t3_hybow9", "t3_6ganxe", "t1_testc1", "t1_testc2"}


@pytest.mark.slow
def test_rate_limited_page_is_retried_after_the_wait(settings: Settings, store_engine: Engine) -> None:
    with _sample_reddit() as site:
        site.inject("/search.json", Reply(429, b"Too Many Requests", {"Retry-After": "1"}))
        stats = crawl_source(settings, {"type": "reddit", "search": ["acme"], "base_url": site.base_url})
        assert (stats.errors, stats.new) == (0, 11)
        assert len(site.requested("/search.json")) == 3
