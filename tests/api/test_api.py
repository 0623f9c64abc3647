"""The HTTP API over a real store: tokens, search, handling, relabels, metrics."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from alerts.digest.metrics import rating_summary, response_summary, sentiment_counts
from alerts.digest.weeks import IsoWeek
from mentionwatch.api.reports import weekly_series
from store.db import session_scope
from store.models import Brand
from tests.analyst.sample_store import fill_sample_store
from tests.api.conftest import Api


def test_tokens_are_required_and_scoped(api: Api) -> None:
    missing = api.client.get("/mentions")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert api.client.get("/brands", headers={"Authorization": "Bearer mw_nope"}).status_code == 401
    mention = api.ids["pl-late"]
    forbidden = api.client.post(f"/mentions/{mention}/handle", json={"state": "ignored"}, headers=api.read)
    assert forbidden.status_code == 403 and "read-only" in forbidden.json()["detail"]
    assert api.client.post(f"/mentions/{mention}/relabel", json={"label": "neutral"}).status_code == 401


def test_search_with_query_and_filters(api: Api) -> None:
    page = api.get("/mentions", q="доставк*", language="ru", since="2026-10-01", until="2026-10-31")
    assert isinstance(page, dict)
    assert [m["id"] for m in page["items"]] == [api.ids["ru-ok"], api.ids["ru-late"]]
    assert page["next_cursor"] is None
    first = page["items"][1]
    assert first["brand"] == "Zamówko" and first["handled"] == "responded" and first["rating_5"] == pytest.approx(2.6)
    negatives = api.get("/mentions", sentiment="negative", brand="Zamówko", rating_max=2)
    assert isinstance(negatives, dict)
    assert {m["id"] for m in negatives["items"]} == {api.ids["pl-late"], api.ids["en-late"]}


def test_cursor_pagination_walks_every_mention_once(api: Api) -> None:
    seen: list[int] = []
    cursor = None
    while True:
        page = api.get("/mentions", limit=3, **({"cursor": cursor} if cursor else {}))
        assert isinstance(page, dict)
        seen.extend(m["id"] for m in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(api.ids.values(), reverse=True)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"q": "(kurier OR"}, "q", "column 11: expected"),
        ({"brand": "Acne"}, "brand", "unknown brand 'Acne'"),
        ({"source": "x"}, "source", "unknown source 'x'"),
        ({"rating_min": 4, "rating_max": 2}, "rating_min", "above rating-max"),
        ({"rating_min": 9}, "rating_min", "less than or equal to 5"),
        ({"sentiment": "angry"}, "sentiment", "negative"),
        ({"since": "yesterday"}, "since", ""),
        ({"cursor": "abc"}, "cursor", "next_cursor"),
    ],
)
def test_bad_filters_are_422_naming_the_parameter(api: Api, params: dict[str, object], field: str, message: str) -> None:
    response = api.client.get("/mentions", params=params, headers=api.read)
    assert response.status_code == 422, response.text
    errors = [e for e in response.json()["detail"] if e["loc"][:2] == ["query", field]]
    assert errors and message in errors[0]["msg"], response.text


def test_query_errors_carry_the_column(api: Api) -> None:
    response = api.client.get("/mentions", params={"q": "zam*ów"}, headers=api.read)
    assert response.json()["detail"][0]["column"] == 4


def test_one_mention_and_404(api: Api) -> None:
    mention = api.get(f"/mentions/{api.ids['en-mixed']}")
    assert isinstance(mention, dict)
    assert mention["sentiment"] == "neutral" and mention["model_label"] == "positive" and mention["manual_by"] == "ola"
    assert api.client.get("/mentions/99999", headers=api.read).status_code == 404


def test_handle_and_relabel(api: Api) -> None:
    mention = api.ids["pl-late"]
    answered = api.client.post(
        f"/mentions/{mention}/handle",
        json={"state": "responded", "response_url": "https://shop.example/opinie#r2"},
        headers=api.write,
    )
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["handled"] == "responded" and body["handled_by"] == "ola"
    assert body["response_url"] == "https://shop.example/opinie#r2" and body["first_response_at"] is not None
    relabeled = api.client.post(f"/mentions/{mention}/relabel", json={"label": "neutral", "by": "kasia"},
                                headers=api.write)
    assert relabeled.json()["sentiment"] == "neutral" and relabeled.json()["manual_by"] == "kasia"
    bad = api.client.post(f"/mentions/{mention}/handle", json={"state": "done"}, headers=api.write)
    assert bad.status_code == 422
    bad_url = api.client.post(f"/mentions/{mention}/handle", json={"state": "responded", "response_url": "nope"},
                              headers=api.write)
    assert bad_url.status_code == 422
    assert api.client.post("/mentions/99999/relabel", json={"label": "neutral"}, headers=api.write).status_code == 404


def test_weekly_metrics(api: Api) -> None:
    result = api.get("/metrics", brand="Zamówko", weeks=8, last_week="2026-W45")
    assert isinstance(result, list)
    (zamowko,) = result
    assert zamowko["timezone"] == "Europe/Warsaw"
    weeks = {w["week"]: w for w in zamowko["weeks"]}
    assert list(weeks)[-1] == "2026-W45" and len(weeks) == 8
    october = weeks["2026-W42"]  # the two Russian mentions, 14 October
    assert october["mentions"] == 2 and october["negative"] == 1 and october["positive"] == 1
    assert october["net_sentiment"] == 0 and october["avg_rating"] == pytest.approx(2.6)
    assert october["response_rate"] == 1 and october["median_first_response_seconds"] == 9000
    november = weeks["2026-W45"]  # 3 November: the Polish and English mentions
    assert november["mentions"] == 5 and november["negative"] == 2 and november["response_rate"] == 0
    bad = api.client.get("/metrics", params={"last_week": "W47"}, headers=api.read)
    assert bad.status_code == 422 and "ISO week" in bad.text


def test_brands_sources_and_docs(api: Api) -> None:
    assert [b["name"] for b in api.get("/brands")] == ["Acme", "Zamówko"]  # type: ignore[index]
    sources = api.get("/sources")
    assert {"name": "forum", "type": "phpbb", "brand": "Zamówko"}.items() <= sources[1].items()  # type: ignore[index]
    assert api.client.get("/docs").status_code == 200
    paths = api.client.get("/openapi.json").json()["paths"]
    for path in ("/mentions", "/mentions/{mention_id}", "/mentions/{mention_id}/handle",
                 "/mentions/{mention_id}/relabel", "/metrics", "/brands", "/sources", "/slack/actions"):
        assert path in paths


def test_weekly_series_equals_the_digest_week_by_week(engine: Engine) -> None:
    """The API's two-query series must give the digest's numbers for every week."""
    fill_sample_store(engine)
    with session_scope(engine) as session:
        brand = session.exec(select(Brand).where(Brand.name == "Zamówko")).one()
        assert brand.id is not None
        series = weekly_series(session, brand, 8, IsoWeek(2026, 45))["weeks"]
        for week in series:
            period = IsoWeek.parse(week["week"]).period(ZoneInfo(brand.timezone))
            counts = sentiment_counts(session, brand_id=brand.id, period=period)
            ratings = rating_summary(session, brand_id=brand.id, period=period)
            responses = response_summary(session, brand_id=brand.id, period=period)
            median = responses.median_response.total_seconds() if responses.median_response else None
            assert (week["mentions"], week["negative"], week["net_sentiment"]) == (
                counts.total, counts.negative, counts.net_sentiment)
            assert week["ratings"] == ratings.count
            assert week["avg_rating"] == (pytest.approx(ratings.average) if ratings.count else None)
            assert (week["response_rate"], week["median_first_response_seconds"]) == (responses.response_rate, median)
    assert sum(w["mentions"] for w in series) == 7
