"""YouTube Data API comment threads and replies, on python-youtube's recorded replies and our samples."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from crawlers.sources import youtube
from crawlers.parsers.common import ParseError
from tests.crawlers.recorded import assert_well_formed, damaged, parse_or_refuse, sample


@pytest.mark.parametrize(
    ("name", "count", "has_next"),
    [
        ("comment_threads_by_video_paged_1.json", 5, True),
        ("comment_threads_by_video_paged_2.json", 5, False),
        ("comment_threads_with_search.json", 1, False),
    ],
)
def test_recorded_threads(shared_fixtures: Path, name: str, count: int, has_next: bool) -> None:
    page = youtube.parse_threads((shared_fixtures / "youtube" / name).read_bytes())
    assert (len(page.mentions), page.next is not None, page.skipped) == (count, has_next, [])
    assert_well_formed(page.mentions)


def test_recorded_thread_fields(shared_fixtures: Path) -> None:
    page = youtube.parse_threads((shared_fixtures / "youtube" / "comment_threads_by_video_paged_1.json").read_bytes())
    first = page.mentions[0]
    assert first.url == "https://www.youtube.com/watch?v=F1UP7wRCPH8&lc=UgyZ1jqkHKYvi1-ruOZ4AaABAg"
    assert first.thread_url == "https://www.youtube.com/watch?v=F1UP7wRCPH8"
    # The text as written wins over the HTML rendering.
    assert (first.body, first.body_format, first.author) == ("Google.com", "text", "himani agarwal")
    assert first.published == datetime(2019, 11, 26, 15, 51, 44, tzinfo=UTC)


def test_recorded_channel_comment(shared_fixtures: Path) -> None:
    (comment,) = youtube.parse_threads((shared_fixtures / "youtube" / "comment_threads_with_search.json").read_bytes()).mentions
    assert comment.url == "https://www.youtube.com/channel/UC_x5XG1OV2P6uZZ5FSM9Ttw?lc=UgyUBI0HsgL9emxcZpR4AaABAg"
    assert comment.thread_url is None


def test_recorded_replies(shared_fixtures: Path) -> None:
    body = (shared_fixtures / "youtube" / "comments_by_parent_paged_1.json").read_bytes()
    page = youtube.parse_comments(body, video_id="F1UP7wRCPH8")
    assert [m.body for m in page.mentions] == ["this is the third reply!", "this is the second reply!"]
    assert page.mentions[0].parent_url == "https://www.youtube.com/watch?v=F1UP7wRCPH8&lc=Ugw5zYU6n9pmIgAZWvN4AaABAg"
    assert page.next is not None


def test_sample_threads_with_replies() -> None:
    page = youtube.parse_threads(sample("youtube", "comment_threads_page1.json"))
    assert page.next == "QURTSl9pMnBhZ2Uy"
    polish, answer, russian = page.mentions
    assert polish.body.startswith("Kupiłam ten odkurzacz Acme")
    assert answer.parent_url == polish.url and answer.thread_url == polish.thread_url
    assert answer.author == "Acme Polska"
    assert russian.body == "Пользуюсь Acme уже два года, всё отлично."
    (withheld,) = youtube.parse_threads(sample("youtube", "comment_threads_page2.json")).mentions
    # Without textOriginal the HTML rendering is the text.
    assert (withheld.body, withheld.body_format) == ("Does the Acme V8 work with 110V?", "html")


def test_api_error_names_the_reason() -> None:
    with pytest.raises(ParseError, match=r"YouTube API error 403 \(quotaExceeded\)"):
        youtube.parse_threads(sample("youtube", "error_quota.json"))


@pytest.mark.parametrize("body", [b"", b"<html>", b"[]", b'{"items": "none"}'])
def test_not_a_list_reply(body: bytes) -> None:
    with pytest.raises(ParseError):
        youtube.parse_threads(body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=damaged(json.loads(sample("youtube", "comment_threads_page1.json"))))
def test_damaged_replies_never_crash(document: Any) -> None:
    parse_or_refuse(youtube.parse_threads, json.dumps(document))
