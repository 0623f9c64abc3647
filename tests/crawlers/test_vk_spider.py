"""The vk source end to end against a loopback VK API (`{base_url}/method/<name>`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from crawlers.parsers.common import ParseError
from crawlers.sources import vk
from mentionwatch.settings import Settings
from tests.crawlers.api_crawl import crawl_source, cursors, json_reply, query
from tests.crawlers.conftest import stored
from tests.crawlers.recorded import sample
from tests.fakes.site_server import RecordedRequest, Reply, SiteServer

SEARCH = "/method/newsfeed.search"
COMMENTS = "/method/wall.getComments"
POST = "https://vk.com/wall-220011_512"
TOKEN = "vk1.a.secret-token"
EMPTY = json_reply('{"response": {"items": [], "count": 0}}')


def _search(request: RecordedRequest) -> Reply:
    page = "page2" if query(request).get("start_from") else "page1"
    return json_reply(sample("vk", f"newsfeed_search_{page}.json"))


def _comments(request: RecordedRequest) -> Reply:
    page = "page1" if query(request)["offset"] == "0" else "page2"
    return json_reply(sample("vk", f"wall_getComments_{page}.json"))


def _source(base_url: str, **source: object) -> dict[str, object]:
    return {"type": "vk", "search": ["acme"], "urls": [POST], "base_url": base_url, "options": {"token_env": "MW_TEST_VK_TOKEN"}, **source}


def test_search_and_comments_paged_then_only_newer(settings: Settings, store_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MW_TEST_VK_TOKEN", TOKEN)
    with SiteServer(routes={SEARCH: _search, COMMENTS: _comments}) as site:
        # VK says "too many requests" with HTTP 200 and error 6: waited for and retried like a 429.
        site.inject(SEARCH, json_reply(sample("vk", "error_too_many_requests.json")))
        first = crawl_source(settings, _source(site.base_url))
        searches, comments = site.requested(SEARCH), site.requested(COMMENTS)
        assert [query(r).get("start_from") for r in searches] == [None, None, "3/-220011_500"]
        assert query(searches[0]) == {"q": "acme", "count": "200", "extended": "1", "v": "5.199"}
        assert [query(r)["offset"] for r in comments] == ["0", "2"]
        assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" and TOKEN not in r.path for r in searches + comments)

        again = crawl_source(settings, _source(site.base_url))
        assert query(site.requested(SEARCH)[-1])["start_time"] == "1795168800"
        assert len(site.requested(COMMENTS)) == 3, "the first page of comments reached a known one"
    assert (first.errors, first.pages, first.new) == (0, 4, 5)
    assert (again.errors, again.pages, again.new) == (0, 2, 0)
    mentions = {m.external_id: m for m in stored(store_engine)}
    assert len(mentions) == 5 and "-220011_512_9002" not in mentions  # a deleted comment
    post = mentions["-220011_512"]
    assert (post.url, post.author, post.views) == (POST, "Подслушано Акме", 1840)
    assert post.text == "Акме снова задерживает доставку 😡 Третий день жду посылку."
    reply = mentions["-220011_512_9003"]
    assert (reply.url, reply.thread_url, reply.parent_url) == (f"{POST}?reply=9003", POST, f"{POST}?reply=9001")
    assert (reply.author, mentions["410022_77"].author) == ("Олег Петров", "Дмитрий Орлов")
    assert cursors(store_engine) == {"acme": "2026-11-20T10:00:00+00:00", "-220011_512": "2026-11-20T11:00:00+00:00"}


def test_api_errors_skip_the_page_with_vks_message(
    settings: Settings, store_engine: Engine, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MW_TEST_VK_TOKEN", TOKEN)
    with SiteServer(routes={SEARCH: json_reply(sample("vk", "error_auth.json"))}) as site:
        stats = crawl_source(settings, _source(site.base_url, urls=[]))
    assert (stats.errors, stats.new) == (1, 0)
    assert "skipped: VK API error 5: User authorization failed: invalid access_token (4)." in capfd.readouterr().err


def test_only_wall_posts_are_read_for_comments() -> None:
    with pytest.raises(ValueError, match="vk reads the comments of wall posts like https://vk.com/wall-1_2, not 'https://vk.com/acme'"):
        crawl_source(Settings(), _source("http://127.0.0.1:9", urls=["https://vk.com/acme"]))


def test_a_reply_that_is_no_vk_reply_is_refused() -> None:
    with pytest.raises(ParseError, match="not a VK API reply"):
        vk.parse_search(b'{"items": []}')


@pytest.mark.slow
def test_recorded_replies_twice(settings: Settings, store_engine: Engine, shared_fixtures: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MW_TEST_VK_TOKEN", TOKEN)
    folder = shared_fixtures / "vk"
    pages = {None: "newsfeed_search_next_from.json", "3/-184898883_177": "newsfeed_search_geo.json"}

    def search(request: RecordedRequest) -> Reply:
        name = pages.get(query(request).get("start_from"))
        return json_reply((folder / name).read_bytes()) if name else EMPTY

    def comments(request: RecordedRequest) -> Reply:
        return json_reply((folder / "wall_getComments.json").read_bytes()) if query(request)["offset"] == "0" else EMPTY

    post = "https://vk.com/wall-69459624_482121"
    with SiteServer(routes={SEARCH: search, COMMENTS: comments}) as site:
        first = crawl_source(settings, _source(site.base_url, urls=[post]))
        again = crawl_source(settings, _source(site.base_url, urls=[post]))
    # 3 posts, then the geo one (its text behind a byte-order mark), then the end; 2
    # comments of 3 (one deleted), then the offset past them answers none.
    assert (first.errors, first.pages, first.new) == (0, 5, 6)
    assert (again.errors, again.new) == (0, 0)
    mentions = {m.external_id: m for m in stored(store_engine)}
    assert len(mentions) == 6
    assert mentions["388444282_11454"].text.startswith("❗Принимаю заказы до 23.00")
    assert mentions["388444282_11454"].author == "Элина Стайл"
    assert mentions["-69459624_482121_482124"].text == "Текст 1го комментария"
