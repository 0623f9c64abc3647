"""Google Play batchexecute review replies, on appvox's recorded replies and our samples."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawlers.sources import googleplay
from crawlers.parsers.common import ParseError
from tests.crawlers.recorded import assert_well_formed, damaged, parse_or_refuse, sample

TWITTER = "com.twitter.android"


def test_recorded_relevant_reviews(shared_fixtures: Path) -> None:
    body = (shared_fixtures / "googleplay" / "batchexecute_UsvDTd_reviews_relevant.txt").read_bytes()
    page = googleplay.parse_reviews(body, app_id=TWITTER)
    assert (len(page.mentions), page.skipped) == (40, [])
    assert page.next is not None and page.next.startswith("CsIBCr8BKpgB")
    assert_well_formed(page.mentions)
    first = page.mentions[0]
    assert first.external_id.startswith("gp:AOqpTOEG141w8NXyo")
    assert first.url.startswith("https://play.google.com/store/apps/details?id=com.twitter.android&reviewId=gp%3AAOqpTOEG141w8NXyo")
    assert (first.author, first.rating, first.rating_best, first.rating_worst) == ("hayzel rose ilagan", 5, 5, 1)
    assert first.published == datetime.fromtimestamp(1611106445, UTC)
    assert '"react"' in first.body
    assert sorted({m.rating for m in page.mentions}) == [1, 2, 3, 4, 5]


def test_recorded_review_history(shared_fixtures: Path) -> None:
    body = (shared_fixtures / "googleplay" / "batchexecute_review_history.txt").read_bytes()
    page = googleplay.parse_reviews(body, app_id=TWITTER)
    # Two versions of one review: the same id, the later one first; no further page.
    assert [m.external_id for m in page.mentions] == [page.mentions[0].external_id] * 2
    assert page.next is None
    assert page.mentions[0].published > page.mentions[1].published


def test_sample_pages_in_both_framings() -> None:
    first = googleplay.parse_reviews(sample("googleplay", "reviews_page1.txt"), app_id="pl.acme.shop")
    assert first.next == "CsIBCr8BKpgBsample-token-page2"
    polish, russian = first.mentions
    assert polish.body.startswith("Aplikacja Acme wyrzuca mnie") and polish.rating == 1
    assert polish.url == "https://play.google.com/store/apps/details?id=pl.acme.shop&reviewId=gp%3AAOqpTOSAMPLEpl0001"
    assert (russian.author, russian.rating) == ("Дмитрий", 5)
    last = googleplay.parse_reviews(sample("googleplay", "reviews_page2_chunked.txt"), app_id="pl.acme.shop")
    assert ([m.author for m in last.mentions], last.next) == (["Chris P"], None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "no UsvDTd reply"),
        (b"<!doctype html><title>Error 404 (Not Found)</title>", "not a batchexecute reply"),
        (b')]}\'\n[["wrb.fr","UsvDTd",null,null,null,[3],"generic"]]', r"carries no data \(error code \[3\]\)"),
        (b')]}\'\n[["wrb.fr","UsvDTd","{not json",null]]', "payload is not JSON"),
        (b')]}\'\n[["wrb.fr","UsvDTd","{\\"a\\": 1}",null]]', "not a review list"),
    ],
)
def test_not_a_review_reply(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        googleplay.parse_reviews(body, app_id=TWITTER)


def test_a_review_whose_shape_moved_is_skipped() -> None:
    reviews = [["gp:ok", ["Ola"], 4, None, "Dobra apka", [1795170000, 0]], ["gp:bad", ["Ola"], "four", None, "?", [1795170000, 0]]]
    body = ")]}'\n" + json.dumps([["wrb.fr", "UsvDTd", json.dumps([reviews])]])
    page = googleplay.parse_reviews(body, app_id=TWITTER)
    assert [m.external_id for m in page.mentions] == ["gp:ok"]
    assert page.skipped == ["item 1: stars: Input should be a valid integer, unable to parse string as an integer"]


def _sample_payload() -> Any:
    return googleplay.rpc_payload(sample("googleplay", "reviews_page1.txt").decode())


def _as_reply(payload: Any) -> str:
    return ")]}'\n" + json.dumps([["wrb.fr", "UsvDTd", json.dumps(payload), None, None, None, "generic"]])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=damaged(_sample_payload()))
def test_damaged_payloads_never_crash(payload: Any) -> None:
    parse_or_refuse(lambda body: googleplay.parse_reviews(body, app_id=TWITTER), _as_reply(payload))


@settings(max_examples=200, deadline=None)
@given(body=st.text(max_size=60) | st.binary(max_size=60).map(lambda b: b.decode("latin-1")))
def test_random_bodies_never_crash(body: str) -> None:
    parse_or_refuse(lambda text: googleplay.parse_reviews(text, app_id=TWITTER), ")]}'" + body)
