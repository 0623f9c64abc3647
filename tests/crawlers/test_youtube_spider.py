"""The youtube spider end to end against a loopback Data API; the key never reaches a URL or the log."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from crawlers.sources.youtube import video_id
from mentionwatch.settings import Settings
from tests.crawlers.api_crawl import crawl_source, cursors, json_reply, query
from tests.crawlers.conftest import stored
from tests.crawlers.recorded import sample
from tests.fakes.site_server import RecordedRequest, Reply, SiteServer

THREADS = "/youtube/v3/commentThreads"
KEY = "AIzaSyTEST-not-a-real-key-0123456789"


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("YOUTUBE_API_KEY_FOR_TESTS", KEY)
    return "YOUTUBE_API_KEY_FOR_TESTS"


def _pages(request: RecordedRequest) -> Reply:
    token = query(request).get("pageToken")
    return json_reply(sample("youtube", "comment_threads_page2.json" if token == "QURTSl9pMnBhZ2Uy" else "comment_threads_page1.json"))


def test_comment_threads_of_a_video_link(
    settings: Settings, store_engine: Engine, api_key: str, capfd: pytest.CaptureFixture[str]
) -> None:
    with SiteServer(routes={THREADS: _pages}) as site:
        source = {
            "type": "youtube",
            "urls": ["https://www.youtube.com/watch?v=vidAcme001&t=42s"],
            "options": {"token_env": api_key},
            "base_url": site.url("/youtube/v3"),
        }
        # At DEBUG Scrapy logs every request it makes: the key must not be in any of them.
        stats = crawl_source(settings.model_copy(update={"log_level": "DEBUG"}), source)
        first, second = site.requested(THREADS)
        assert query(first) == {"part": "snippet,replies", "videoId": "vidAcme001", "order": "time", "maxResults": "100"}
        assert query(second)["pageToken"] == "QURTSl9pMnBhZ2Uy"
        assert first.headers["X-Goog-Api-Key"] == KEY
        assert all(KEY not in r.path for r in site.requests)
    log = capfd.readouterr().err
    assert f"Crawled (200) <GET {site.url(THREADS)}?part=snippet%2Creplies&videoId=vidAcme001" in log
    assert KEY not in log
    assert (stats.errors, stats.pages, stats.new) == (0, 2, 4)
    mentions = {m.author: m for m in stored(store_engine)}
    complaint, answer = mentions["Magda K"], mentions["Acme Polska"]
    assert complaint.url == "https://www.youtube.com/watch?v=vidAcme001&lc=UgxPL0000000000001"
    # The pipeline stores thread and parent links in canonical form.
    assert answer.parent_url == complaint.canonical_url == "https://www.youtube.com/watch?lc=UgxPL0000000000001&v=vidAcme001"
    assert answer.thread_url == "https://www.youtube.com/watch?v=vidAcme001"
    assert (complaint.language, mentions["Алексей"].language) == ("pl", "ru")
    assert mentions["Sam"].text == "Does the Acme V8 work with 110V?"
    assert cursors(store_engine) == {"vidAcme001": "2026-11-20T11:00:00+00:00"}


@pytest.mark.slow
def test_recorded_threads(settings: Settings, store_engine: Engine, api_key: str, shared_fixtures: Path) -> None:
    folder = shared_fixtures / "youtube"

    def threads(request: RecordedRequest) -> Reply:
        page = 2 if query(request).get("pageToken") else 1
        return json_reply((folder / f"comment_threads_by_video_paged_{page}.json").read_bytes())

    with SiteServer(routes={THREADS: threads}) as site:
        source = {"type": "youtube", "options": {"token_env": api_key, "video_ids": ["F1UP7wRCPH8"]}, "base_url": site.url("/youtube/v3")}
        stats = crawl_source(settings, source)
    # The recorded second page repeats the first page's five threads.
    assert (stats.errors, stats.pages, stats.new, stats.unchanged) == (0, 2, 5, 5)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.youtube.com/watch?v=abc123&t=1s", "abc123"),
        ("https://youtu.be/abc123", "abc123"),
        ("https://m.youtube.com/shorts/abc123/", "abc123"),
        ("https://www.youtube.com/channel/UCx", None),
        ("https://vimeo.com/123", None),
    ],
)
def test_video_id(url: str, expected: str | None) -> None:
    assert video_id(url) == expected
