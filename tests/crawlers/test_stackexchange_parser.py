"""Stack Exchange API wrappers, on StackAPI's recorded replies and our question samples."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from crawlers.sources import stackexchange
from crawlers.parsers.common import ParseError
from tests.crawlers.recorded import damaged, parse_or_refuse, sample


@pytest.mark.parametrize(
    ("name", "items", "next_page", "quota"),
    [("stackapi_users_associated.json", 30, "2", 9823), ("stackapi_sites.json", 5, None, 9997)],
)
def test_recorded_wrappers(shared_fixtures: Path, name: str, items: int, next_page: str | None, quota: int) -> None:
    # Real 2.x replies of other methods: the wrapper is read, their items are no questions.
    page = stackexchange.parse_search((shared_fixtures / "stackexchange" / name).read_bytes(), page=1)
    assert (page.mentions, page.next, page.quota_remaining, page.backoff) == ([], next_page, quota, None)
    assert len(page.skipped) == items
    assert page.skipped[0] == "item 0: question_id: Field required"


def test_sample_questions() -> None:
    page = stackexchange.parse_search(sample("stackexchange", "search_advanced_page1.json"), page=1)
    assert (page.next, page.quota_remaining, page.backoff) == ("2", 9941, 1)
    english, russian = page.mentions
    assert english.external_id == "q79900001"
    assert english.url == "https://stackoverflow.com/questions/79900001/acme-sdk-raises-timeouterror-on-upload"
    assert english.title == "Acme SDK raises TimeoutError on upload &gt; 10 MB"
    assert english.body_format == "html" and english.author == "Paweł Nowak"
    assert english.published == datetime(2026, 11, 20, 10, 20, tzinfo=UTC)
    assert russian.title == "Acme API возвращает 403 при правильном ключе"
    last = stackexchange.parse_search(sample("stackexchange", "search_advanced_page2.json"), page=2)
    assert (len(last.mentions), last.next, last.backoff) == (1, None, None)


def test_error_reply() -> None:
    with pytest.raises(ParseError, match="Stack Exchange error 502 throttle_violation: too many requests"):
        stackexchange.parse_search(sample("stackexchange", "error_throttle.json"))


@pytest.mark.parametrize("body", [b"", b"\x1f\x8b\x08\x00garbage", b"[]", b'{"items": {}}'])
def test_not_a_wrapper(body: bytes) -> None:
    with pytest.raises(ParseError):
        stackexchange.parse_search(body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=damaged(json.loads(sample("stackexchange", "search_advanced_page1.json"))))
def test_damaged_replies_never_crash(document: Any) -> None:
    parse_or_refuse(stackexchange.parse_search, json.dumps(document))
