"""Mastodon timelines and search, on Mastodon.py's recorded cassettes and our samples."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from crawlers.sources import mastodon
from crawlers.parsers.common import ParseError
from tests.crawlers.recorded import (
    assert_well_formed,
    damaged,
    parse_or_refuse,
    recorded_get,
    sample,
)


@pytest.mark.parametrize(
    ("cassette_name", "uri_part", "count", "max_id"),
    [
        ("test_public_tl_anonymous.yaml", "/timelines/public", 8, "117020574694606796"),
        ("test_hashtag_tl.yaml", "/timelines/tag/hoot", 1, "117020593741189701"),
        ("test_search.yaml", "type=statuses", 0, None),
    ],
)
def test_recorded_cassettes(shared_fixtures: Path, cassette_name: str, uri_part: str, count: int, max_id: str | None) -> None:
    recorded = recorded_get(shared_fixtures / "mastodon" / cassette_name, uri_part)
    page = mastodon.parse_statuses(recorded.body, recorded.headers.get("link"))
    assert (len(page.mentions), page.next, page.skipped) == (count, max_id, [])
    assert_well_formed(page.mentions)


@pytest.mark.parametrize(("name", "count"), [("timelines_public.body.json", 8), ("timelines_tag_hoot.body.json", 1)])
def test_recorded_bodies(shared_fixtures: Path, name: str, count: int) -> None:
    page = mastodon.parse_statuses((shared_fixtures / "mastodon" / name).read_bytes())
    assert (len(page.mentions), page.skipped) == (count, [])


def test_recorded_status_fields(shared_fixtures: Path) -> None:
    (status,) = mastodon.parse_statuses((shared_fixtures / "mastodon" / "timelines_tag_hoot.body.json").read_bytes()).mentions
    assert status.url == "http://localhost:3000/@mastodonpy_test_2/117020593741189701"
    assert status.external_id == "http://localhost:3000/ap/users/117020566092212359/statuses/117020593741189701"
    assert status.body == '<p><a href="http://localhost:3000/tags/hoot" class="mention hashtag" rel="tag">#hoot</a> (hashtag toot)</p>'
    assert (status.author, status.title) == ("mastodonpy_test_2", None)
    assert status.published == datetime(2026, 8, 1, 13, 55, 55, 867000, tzinfo=UTC)


def test_sample_timeline_boost_and_content_warning() -> None:
    link = '<https://mastodon.example/api/v1/timelines/tag/acme?max_id=115600000000000150>; rel="next", <https://mastodon.example/api/v1/timelines/tag/acme?min_id=115600000000000300>; rel="prev"'
    page = mastodon.parse_statuses(sample("mastodon", "tag_acme_page1.json"), link)
    assert page.next == "115600000000000150"
    polish, boosted, warned = page.mentions
    assert "płatność BLIKiem" in polish.body and polish.author == "ania"
    # The boost is read as the boosted status, with its own author, time and id.
    assert boosted.author == "olga@mastodon.ru.example"
    assert boosted.external_id == "https://mastodon.ru.example/users/olga/statuses/115600000000000100"
    assert boosted.published == datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    assert "Поддержка молчит" in boosted.body
    assert warned.title == "appliance rant"


def test_without_a_link_header_the_next_page_starts_below_the_last_id() -> None:
    assert mastodon.parse_statuses(sample("mastodon", "tag_acme_page1.json")).next == "115600000000000150"
    assert mastodon.parse_statuses(b"[]").next is None


def test_sample_search() -> None:
    page = mastodon.parse_statuses(sample("mastodon", "search_acme.json"))
    assert [m.author for m in page.mentions] == ["ania", "olga@mastodon.ru.example"]


def test_link_header() -> None:
    header = '<https://a.example/x?max_id=1>; rel="next", <https://a.example/x?min_id=9>; rel=prev'
    assert mastodon.link_targets(header) == {"next": "https://a.example/x?max_id=1", "prev": "https://a.example/x?min_id=9"}
    assert mastodon.link_targets(None) == {}


def test_error_reply() -> None:
    with pytest.raises(ParseError, match="Mastodon error: This method requires an authenticated user"):
        mastodon.parse_statuses(b'{"error": "This method requires an authenticated user"}')


@pytest.mark.parametrize("body", [b"", b"<h1>502 Bad Gateway</h1>", b'{"accounts": []}', b"42"])
def test_not_statuses(body: bytes) -> None:
    with pytest.raises(ParseError):
        mastodon.parse_statuses(body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=damaged(json.loads(sample("mastodon", "tag_acme_page1.json"))))
def test_damaged_timelines_never_crash(document: Any) -> None:
    parse_or_refuse(mastodon.parse_statuses, json.dumps(document))
