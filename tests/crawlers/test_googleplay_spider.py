"""The googleplay spider end to end against a loopback batchexecute endpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlalchemy.engine import Engine

from mentionwatch.settings import Settings
from tests.crawlers.api_crawl import crawl_source, cursors, query
from tests.crawlers.conftest import stored
from tests.crawlers.recorded import sample
from tests.fakes.site_server import RecordedRequest, Reply, SiteServer

BATCH = "/_/PlayStoreUi/data/batchexecute"


def _arguments(request: RecordedRequest) -> list[Any]:
    """The RPC arguments a batchexecute POST sent: [null, null, [2, sort, [count, null, token], ...], [app, 7]]."""
    (form,) = parse_qs(request.body.decode())["f.req"]
    return json.loads(json.loads(form)[0][0][1])


def _token(request: RecordedRequest) -> str | None:
    return _arguments(request)[2][2][2]


def _reply(body: bytes) -> Reply:
    return Reply(200, body, {"Content-Type": "application/json; charset=utf-8"})


def test_reviews_paged_by_token_then_only_newer(settings: Settings, store_engine: Engine) -> None:
    def batch(request: RecordedRequest) -> Reply:
        name = "reviews_page1.txt" if _token(request) is None else "reviews_page2_chunked.txt"
        return _reply(sample("googleplay", name))

    source = {"type": "googleplay", "options": {"app_id": "pl.acme.shop", "languages": ["pl"], "countries": ["pl"]}}
    with SiteServer(routes={BATCH: batch}) as site:
        stats = crawl_source(settings, {**source, "base_url": site.base_url})
        first, second = site.requested(BATCH)
        assert (first.method, query(first)) == ("POST", {"rpcids": "UsvDTd", "hl": "pl", "gl": "pl"})
        assert _arguments(first) == [None, None, [2, 2, [100, None, None], None, [None, None]], ["pl.acme.shop", 7]]
        assert _token(second) == "CsIBCr8BKpgBsample-token-page2"
        assert (stats.errors, stats.pages, stats.new) == (0, 2, 3)
        mentions = {m.author: m for m in stored(store_engine)}
        polish = mentions["Katarzyna W."]
        assert (polish.rating, polish.rating_best, polish.language) == (1.0, 5.0, "pl")
        assert polish.url == "https://play.google.com/store/apps/details?id=pl.acme.shop&reviewId=gp%3AAOqpTOSAMPLEpl0001"
        assert mentions["Дмитрий"].language == "ru"
        assert cursors(store_engine) == {"pl.acme.shop pl-pl": "2026-11-20T10:20:00+00:00"}

        again = crawl_source(settings, {**source, "base_url": site.base_url})
        assert (again.errors, again.pages, again.new) == (0, 1, 0)


@pytest.mark.slow
def test_recorded_reviews(settings: Settings, store_engine: Engine, shared_fixtures: Path) -> None:
    folder = shared_fixtures / "googleplay"

    def batch(request: RecordedRequest) -> Reply:
        name = "batchexecute_UsvDTd_reviews_relevant.txt" if _token(request) is None else "batchexecute_review_history.txt"
        return _reply((folder / name).read_bytes())

    with SiteServer(routes={BATCH: batch}) as site:
        stats = crawl_source(settings, {"type": "googleplay", "options": {"app_id": "com.twitter.android"}, "base_url": site.base_url})
    # 40 reviews, then a page with two versions of one more review: saved, then updated.
    assert (stats.errors, stats.pages, stats.new, stats.updated) == (0, 2, 41, 1)
    assert {m.rating for m in stored(store_engine)} == {1.0, 2.0, 3.0, 4.0, 5.0}
