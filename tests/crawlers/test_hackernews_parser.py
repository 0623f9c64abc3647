"""Hacker News Algolia search replies, on the recorded node-hacker-news-api fixtures and our samples."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from crawlers.sources import hackernews
from crawlers.parsers.common import ParseError
from tests.crawlers.recorded import assert_well_formed, damaged, parse_or_refuse, sample


def _recorded_searches(shared_fixtures: Path) -> list[dict[str, Any]]:
    entries = json.loads((shared_fixtures / "hackernews" / "algolia_fixtures.json").read_text(encoding="utf-8"))
    return [entry for entry in entries if "/search" in entry["url"]]


def test_every_recorded_search_reply(shared_fixtures: Path) -> None:
    searches = _recorded_searches(shared_fixtures)
    assert len(searches) == 24
    for entry in searches:
        page = hackernews.parse_search(json.dumps(entry["reply"]))
        assert (len(page.mentions), page.skipped) == (1, []), entry["url"]
        assert page.next == str(entry["reply"]["page"] + 1)
        assert_well_formed(page.mentions)


def test_recorded_comment(shared_fixtures: Path) -> None:
    entry = next(e for e in _recorded_searches(shared_fixtures) if e["url"] == "/api/v1/search_by_date?hitsPerPage=1&tags=(comment)")
    (comment,) = hackernews.parse_search(json.dumps(entry["reply"])).mentions
    assert comment.url == "https://news.ycombinator.com/item?id=7919431"
    assert comment.thread_url == comment.parent_url == "https://news.ycombinator.com/item?id=7919207"
    assert comment.body_format == "html" and comment.body.startswith("A perennial HN favorite<p>")
    assert (comment.author, comment.title) == ("gohrt", None)
    assert comment.published == datetime(2014, 6, 20, 3, 39, 55, tzinfo=UTC)


def test_recorded_link_story_reads_its_title(shared_fixtures: Path) -> None:
    entry = next(e for e in _recorded_searches(shared_fixtures) if e["url"] == "/api/v1/search_by_date?hitsPerPage=1&tags=(story)")
    (story,) = hackernews.parse_search(json.dumps(entry["reply"])).mentions
    assert story.title == story.body == "Judge says concerned about Apple, Google hiring settlement"
    assert (story.external_id, story.thread_url) == ("7919424", None)


def test_sample_pages() -> None:
    first = hackernews.parse_search(sample("hackernews", "search_by_date_page0.json"))
    assert first.next == "1"
    polish, russian = first.mentions
    assert "przenosimy się gdzie indziej" in polish.body
    assert polish.parent_url == "https://news.ycombinator.com/item?id=46000002"
    assert russian.body.startswith("Пользуемся Acme Cloud")
    last = hackernews.parse_search(sample("hackernews", "search_by_date_page1.json"))
    (story,) = last.mentions
    assert (last.next, story.title, story.body) == (None, "Show HN: Acme Cloud 2.0", "Show HN: Acme Cloud 2.0")


@pytest.mark.parametrize("body", [b"", b"Service Unavailable", b"[]", b'{"message": "Invalid query"}', b'{"hits": null}'])
def test_not_a_search_reply(body: bytes) -> None:
    with pytest.raises(ParseError):
        hackernews.parse_search(body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=damaged(json.loads(sample("hackernews", "search_by_date_page0.json"))))
def test_damaged_replies_never_crash(document: Any) -> None:
    parse_or_refuse(hackernews.parse_search, json.dumps(document))
