"""Bluesky searchPosts replies, on bskyr's recorded cassette and our samples."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from crawlers.sources import bluesky
from crawlers.parsers.common import ParseError
from tests.crawlers.recorded import (
    assert_well_formed,
    damaged,
    parse_or_refuse,
    recorded_get,
    sample,
)


def test_recorded_search(shared_fixtures: Path) -> None:
    page = bluesky.parse_search((shared_fixtures / "bluesky" / "searchPosts.body.json").read_bytes())
    assert (len(page.mentions), page.next, page.skipped) == (25, "25", [])
    assert_well_formed(page.mentions)
    first = page.mentions[0]
    assert first.url == "https://bsky.app/profile/socpaperbot.bsky.social/post/3lpk2u6qo222m"
    assert first.external_id == "at://did:plc:kkergqgbhb56ptpwj2wenkje/app.bsky.feed.post/3lpk2u6qo222m"
    assert first.published == datetime(2025, 5, 19, 17, 10, 9, 561858, tzinfo=UTC)
    assert first.body.startswith("Ends Versus Means") and first.body_format == "text"


def test_recorded_reply_points_at_its_thread(shared_fixtures: Path) -> None:
    page = bluesky.parse_search((shared_fixtures / "bluesky" / "searchPosts.body.json").read_bytes())
    reply = page.mentions[2]
    assert reply.thread_url == "https://bsky.app/profile/did:plc:7nagdvjqrzaquzk7mueohne5/post/3lpjy3eabqs2l"
    assert reply.parent_url == "https://bsky.app/profile/did:plc:7nagdvjqrzaquzk7mueohne5/post/3lpjzgltpa22l"


def test_recorded_cassette_body_is_the_extracted_body(shared_fixtures: Path) -> None:
    recorded = recorded_get(shared_fixtures / "bluesky" / "bskyr_f_search.yml", "searchPosts")
    from_cassette = bluesky.parse_search(recorded.body)
    assert [m.url for m in from_cassette.mentions] == [
        m.url for m in bluesky.parse_search((shared_fixtures / "bluesky" / "searchPosts.body.json").read_bytes()).mentions
    ]


def test_sample_page() -> None:
    page = bluesky.parse_search(sample("bluesky", "search_posts_page1.json"))
    assert page.next == "3"
    polish, russian, future = page.mentions
    assert polish.body == "Kurier Acme znowu zostawił paczkę pod drzwiami sąsiada. Serio?"
    # An invalid handle: the DID names the author and the profile.
    assert russian.author == "did:plc:ivan000000000000000000000"
    assert russian.url == "https://bsky.app/profile/did:plc:ivan000000000000000000000/post/3mru0000001"
    assert russian.thread_url == russian.parent_url == "https://bsky.app/profile/did:plc:acmeofficial000000000000/post/3acmeroot00"
    # A clock years ahead cannot date a post after the server saw it.
    assert future.published == datetime(2026, 11, 20, 9, 30, 2, tzinfo=UTC)


def test_an_empty_page_is_the_last() -> None:
    assert bluesky.parse_search(sample("bluesky", "search_posts_empty.json")).next is None


def test_a_post_with_a_foreign_uri_is_skipped() -> None:
    data = json.loads(sample("bluesky", "search_posts_page1.json"))
    data["posts"][0]["uri"] = "at://did:plc:x/app.bsky.feed.like/3abc"
    page = bluesky.parse_search(json.dumps(data))
    assert len(page.mentions) == 2
    assert page.skipped == ["item 0: uri: Value error, not an AT URI of a post: 'at://did:plc:x/app.bsky.feed.like/3abc'"]


def test_xrpc_error_names_itself() -> None:
    with pytest.raises(ParseError, match="XRPC error InvalidRequest: Error: Params must have the property"):
        bluesky.parse_search(b'{"error": "InvalidRequest", "message": "Error: Params must have the property \\"q\\""}')


@pytest.mark.parametrize("body", [b"", b'{"message": "no"}', b"[]"])
def test_not_a_search_reply(body: bytes) -> None:
    with pytest.raises(ParseError):
        bluesky.parse_search(body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=damaged(json.loads(sample("bluesky", "search_posts_page1.json"))))
def test_damaged_replies_never_crash(document: Any) -> None:
    parse_or_refuse(bluesky.parse_search, json.dumps(document))
