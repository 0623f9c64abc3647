"""Odd JSON, refusals and config mistakes on the social and app-store API sources.

One crawl runs a source of every API type against a loopback server that answers
each with something broken: a damaged item, a truncated body, an error reply, a spent
quota, a missing key. The crawl must finish, log each problem once with the source, the
URL and the reason, keep every good item, and hold back the cursors of the sources that
had errors.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from mentionwatch.config import Config
from mentionwatch.settings import Settings
from store.models import CrawlCursor, Mention
from store.models import Source as SourceRow
from tests.crawlers.api_crawl import ACME, json_reply, query
from tests.crawlers.conftest import crawl
from tests.crawlers.recorded import sample
from tests.fakes.site_server import RecordedRequest, Reply, SiteServer


def _damaged(source_type: str, name: str, *changes: Any) -> bytes:
    document = json.loads(sample(source_type, name))
    for change in changes:
        change(document)
    return json.dumps(document, ensure_ascii=False).encode()


def _set(path: list[Any], value: Any) -> Any:
    def change(document: Any) -> None:
        for step in path[:-1]:
            document = document[step]
        document[path[-1]] = value

    return change


def _routes() -> dict[str, Any]:
    hn_first = sample("hackernews", "search_by_date_page0.json")
    gzipped = {"Content-Encoding": "gzip"}
    spent = _damaged("stackexchange", "search_advanced_page1.json", lambda d: d.update(quota_remaining=0, backoff=None))
    odd_review = [["gp:ok", ["Ola"], 4, None, "Dobra apka Acme", [1795170000, 0]], ["gp:odd", ["Ala"], "five", None, "?", [1795170000, 0]]]
    return {
        "/reddit-odd/search.json": json_reply(
            _damaged(
                "reddit",
                "search_page1.json",
                _set(["data", "children", 0, "data", "created_utc"], "yesterday"),
                _set(["data", "after"], None),
            )
        ),
        "/reddit-odd/comments/1ru2.json": json_reply("[]"),
        "/hn-truncated/api/v1/search_by_date": lambda request: json_reply(
            hn_first if "page" not in query(request) else b'{"hits": [{"objectID": "4'
        ),
        "/mastodon-401/api/v2/search": json_reply('{"error": "This method requires an authenticated user"}', status=401),
        "/bluesky-400/xrpc/app.bsky.feed.searchPosts": json_reply(
            '{"error": "InvalidRequest", "message": "Error: limit must be <= 100"}', status=400
        ),
        "/bluesky-cut/xrpc/app.bsky.feed.searchPosts": json_reply(sample("bluesky", "search_posts_page1.json")[:700]),
        "/se-throttle/2.3/search/advanced": json_reply(gzip.compress(sample("stackexchange", "error_throttle.json")), status=400, **gzipped),
        "/se-bad-link/2.3/search/advanced": json_reply(
            gzip.compress(_damaged("stackexchange", "search_advanced_page2.json", _set(["items", 0, "link"], "javascript:alert(1)"))),
            **gzipped,
        ),
        "/se-quota/2.3/search/advanced": json_reply(gzip.compress(spent), **gzipped),
        "/gp-odd/_/PlayStoreUi/data/batchexecute": Reply(
            200, (")]}'\n" + json.dumps([["wrb.fr", "UsvDTd", json.dumps([odd_review])]])).encode(), {"Content-Type": "application/json"}
        ),
        "/yt-null/commentThreads": json_reply(
            _damaged("youtube", "comment_threads_page1.json", _set(["items", 0, "snippet"], None), _set(["nextPageToken"], None))
        ),
        "/yt-quota/commentThreads": json_reply(sample("youtube", "error_quota.json"), status=403),
    }


SOURCES: list[dict[str, Any]] = [
    {"name": "reddit-odd", "type": "reddit", "search": ["acme"]},
    {"name": "hn-truncated", "type": "hackernews", "search": ["acme"]},
    {"name": "mastodon-401", "type": "mastodon", "search": ["acme"]},
    {"name": "bluesky-400", "type": "bluesky", "search": ["acme"]},
    {"name": "bluesky-cut", "type": "bluesky", "search": ["acme"]},
    {"name": "se-throttle", "type": "stackexchange", "search": ["acme"]},
    {"name": "se-bad-link", "type": "stackexchange", "search": ["acme"]},
    {"name": "se-quota", "type": "stackexchange", "search": ["acme"]},
    {"name": "gp-odd", "type": "googleplay", "options": {"app_id": "pl.acme.shop"}},
    {"name": "yt-null", "type": "youtube", "options": {"token_env": "MW_TEST_YOUTUBE_KEY", "video_ids": ["vidAcme001"]}},
    {"name": "yt-quota", "type": "youtube", "search": ["acme"], "options": {"token_env": "MW_TEST_YOUTUBE_KEY", "channel_ids": ["UCacme"]}},
    {"name": "yt-no-key", "type": "youtube", "options": {"token_env": "MW_TEST_NO_SUCH_KEY", "video_ids": ["x"]}},
]

# source -> (new mentions, errors, what its log line says)
EXPECTED: dict[str, tuple[int, int, str]] = {
    "reddit-odd": (1, 2, "url={base}/reddit-odd/search.json?q=acme&sort=new&limit=100&raw_json=1: skipped: item 0: created_utc: Input should be a valid datetime"),
    "hn-truncated": (2, 1, "url={base}/hn-truncated/api/v1/search_by_date?query=acme&tags=%28story%2Ccomment%29&hitsPerPage=100&page=1: skipped: not JSON"),
    "mastodon-401": (0, 1, "url={base}/mastodon-401/api/v2/search?q=acme&type=statuses&limit=40: skipped: HTTP 401: Mastodon error: This method requires an authenticated user"),
    "bluesky-400": (0, 1, "skipped: HTTP 400: XRPC error InvalidRequest: Error: limit must be <= 100"),
    "bluesky-cut": (0, 1, "skipped: not JSON"),
    "se-throttle": (0, 1, "skipped: HTTP 400: Stack Exchange error 502 throttle_violation: too many requests from this IP"),
    "se-bad-link": (0, 1, "skipped: item 0: link: Value error, not an http(s) URL: 'javascript:alert(1)'"),
    "se-quota": (2, 0, "the daily API quota is spent; stopping here"),
    "gp-odd": (1, 1, "skipped: item 1: stars: Input should be a valid integer"),
    "yt-null": (1, 1, "skipped: item 0: snippet: Input should be a valid dictionary"),
    "yt-quota": (0, 1, "skipped: HTTP 403: YouTube API error 403 (quotaExceeded)"),
    "yt-no-key": (0, 1, "not crawled: the environment variable MW_TEST_NO_SUCH_KEY (options.token_env) is not set"),
}


def test_every_api_source_survives_its_misbehaving_api(
    settings: Settings, store_engine: Engine, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MW_TEST_YOUTUBE_KEY", "AIzaSyTEST")
    with SiteServer(routes=_routes()) as site:
        sources = [{"brand": "Acme", "match": "all", "base_url": site.url(f"/{s['name']}"), **s} for s in SOURCES]
        stats = crawl(Config.model_validate({"brands": [ACME], "sources": sources}), settings)
        yt_quota: RecordedRequest = site.requested("/yt-quota/commentThreads")[0]
        se_quota_pages = len(site.requested("/se-quota/2.3/search/advanced"))
    log = capfd.readouterr().err

    outcome = {name: (row.new, row.errors) for name, row in stats.items()}
    assert outcome == {name: (new, errors) for name, (new, errors, _) in EXPECTED.items()}
    assert {row.finish_reason for row in stats.values()} == {"finished"}
    for name, (_, _, message) in EXPECTED.items():
        # A page's problem names its URL; a config mistake has none to name.
        lines = [line for line in log.splitlines() if f"source={name} url=http" in line or f"source={name}: not crawled" in line]
        assert any(message.format(base=site.base_url) in line for line in lines), name
    assert "Traceback" not in log

    assert (query(yt_quota)["allThreadsRelatedToChannelId"], query(yt_quota)["searchTerms"]) == ("UCacme", "acme")
    assert se_quota_pages == 1
    with Session(store_engine) as session:
        saved_cursors = {
            name
            for name in session.exec(
                select(SourceRow.name).join(CrawlCursor, col(CrawlCursor.source_id) == col(SourceRow.id))
            )
        }
        texts = set(session.exec(select(Mention.text)))
    # Only the sources that ran clean move their cursors; the rest fetch the same pages next time.
    assert saved_cursors == {"se-quota"}
    assert "Dobra apka Acme" in texts
