"""One source of every crawler type on loopback, crawled twice through the real runner:
every expected mention is stored once, with author, time, text, language and rating."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from crawlers.stats import CrawlRunStats
from mentionwatch.config import Config
from mentionwatch.settings import Settings
from tests.crawlers.conftest import DEMO_SITE, SAMPLES, crawl, make_config, stored
from tests.fakes.site_server import RecordedRequest, Reply, SiteServer

WARSAW = ZoneInfo("Europe/Warsaw")


def _yesterday_at(hour: int, minute: int) -> str:
    day = datetime.now(WARSAW).date() - timedelta(days=1)
    return datetime.combine(day, time(hour, minute), WARSAW).astimezone(UTC).strftime("%Y-%m-%d %H:%M")


# The forum's "Wczoraj, 12:30" is read by the crawl process with its own clock, so the test
# works the date out when it runs (not when the module is collected), on both sides of the crawl.
YESTERDAY_12_30 = "yesterday 12:30 in Warsaw"


def _trustpilot(request: RecordedRequest) -> Reply:
    page = "2" if "page=2" in request.path else "1"
    return Reply.file(SAMPLES / f"trustpilot/zamowko-page{page}.html")


def _phpbb(request: RecordedRequest) -> Reply:
    return Reply.file(SAMPLES / f"phpbb/topic-15-page{2 if 'start=3' in request.path else 1}.html")


ROUTES = {
    "/review/zamowko.pl": _trustpilot,
    "/forum/viewtopic.php": _phpbb,
    "/discourse/t/77.json": Reply.file(SAMPLES / "discourse/topic-77.json"),
    "/discourse/t/77/posts.json": Reply.file(SAMPLES / "discourse/topic-77-posts.json"),
    "/discourse/search.json": Reply.file(SAMPLES / "discourse/search-zamowko.json"),
    "/discourse/posts/1250.json": Reply.file(SAMPLES / "discourse/post-1250.json"),
    "/itunes/pl/rss/customerreviews/page=1/id=1555000111/sortby=mostrecent/json": Reply.file(
        SAMPLES / "appstore/pl-page1-single-entry.json"
    ),
}


def _config(base: str) -> Config:
    return make_config(
        {"name": "shop", "type": "schemaorg", "urls": [f"{base}/sklep/zamowko-box/opinie.html"]},
        {"name": "alerts", "type": "feed", "urls": [f"{base}/feeds/zamowko-alerts.xml"]},
        {"name": "forum", "type": "phpbb", "urls": [f"{base}/forum/viewtopic.php?t=15"]},
        {"name": "discourse", "type": "discourse", "base_url": f"{base}/discourse",
         "urls": [f"{base}/discourse/t/zamowko-app-problems/77"], "search": ["zamówko"]},
        {"name": "appstore", "type": "appstore", "base_url": f"{base}/itunes",
         "options": {"app_id": "1555000111", "countries": ["pl"]}},
        {"name": "trustpilot", "type": "trustpilot", "urls": [f"{base}/review/zamowko.pl"]},
    )  # fmt: skip


# source -> (author, published UTC, start of text, language, rating) of every mention, in any order
EXPECTED: dict[str, set[tuple[str | None, str, str, str | None, float | None]]] = {
    "shop": {
        ("Katarzyna W.", "2026-11-19 17:42", "Zapłaciłam z góry, paczka Zamówko", "pl", 1.0),
        ("Marek", "2026-11-18 08:15", "Zamówiłem wieczorem, rano kurier", "pl", 5.0),
        ("Ola_z_Krakowa", "2026-11-16 19:03", "Dostawa spóźniła się o dwa dni", "pl", 2.0),
        ("Piotr K.", "2026-11-12 11:30", "Ceny trochę wyższe niż w markecie", "pl", 3.0),
        ("Agnieszka", "2026-11-10 06:55", "Polecam!", "pl", 5.0),
        ("Tomasz B.", "2026-11-05 15:20", "Kurier Zamówko zostawił paczkę", "pl", 1.0),
        ("Ewa", "2026-11-03 09:00", "Aplikacja wygodna, płatność BLIK", "pl", 4.0),
        ("Jan", "2026-10-28 20:45", "Polecam!", "pl", 5.0),
    },
    "alerts": {
        (None, "2026-11-20 08:30", "Warsaw-based Zamówko has raised €12 million", "en", None),
        (None, "2026-11-19 15:10", "Сервис доставки Замовко получил сотни жалоб", "ru", None),
        ("Anna Kowalski", "2026-11-18 18:45", "Three orders, three late deliveries.", "en", None),
        (None, "2026-11-15 09:00", "The latest version of the Zamówko app", "en", None),
    },
    "forum": {
        ("Basia_W", "2026-11-20 13:05", "Zamawiałam w Zamówko trzy razy", "pl", None),
        ("Renata", "2026-11-20 15:45", "U mnie Zamówko pobrało pieniądze, a paczki brak.\nTo jest oszustwo.", "pl", None),
        ("Renata", YESTERDAY_12_30, "Dalej nic. Zamówko nie odpowiada na maile", "pl", None),
    },
    "discourse": {
        ("marta_k", "2026-11-19 09:12", "Since the 4.2 update the Zamówko app logs me out", "en", None),
        ("devops_dan", "2026-11-19 10:02", "Same here, clearing the cache did not help.", "en", None),
        ("zamowko_team", "2026-11-19 12:30", "Thanks for the reports!", "en", None),
        ("marta_k", "2026-11-20 08:00", "4.2.1 fixed it for me, thanks.", "en", None),
        ("piotr_w", "2026-11-21 18:40", "Czy ktoś wie, czy Zamówko dowozi już do Gdańska?", "pl", None),
    },
    "appstore": {
        ("zuza.m", "2026-11-21 10:15", "Po aktualizacji aplikacja wylogowuje mnie", "pl", 1.0),
    },
    "trustpilot": {
        ("Krzysztof", "2026-11-21 10:15", "Zamówienie anulowane bez powodu", "pl", 1.0),
        ("Emily R.", "2026-11-20 08:00", "Groceries arrived within the hour", "en", 5.0),
        ("Basia", "2026-11-10 19:30", "Raz dobrze, raz źle.", "pl", 3.0),
        ("Игорь", "2026-11-02 17:45", "Курьер опоздал на три часа", "ru", 2.0),
    },
}


def _counts(stats: dict[str, CrawlRunStats]) -> dict[str, tuple[int, int, int]]:
    return {name: (s.new, s.unchanged, s.errors) for name, s in stats.items()}


@pytest.mark.slow
def test_every_type_twice_through_the_runner(settings: Settings, sqlite_engine: Engine) -> None:
    yesterday = {_yesterday_at(12, 30)}
    with SiteServer(root=DEMO_SITE, routes=ROUTES) as site:
        config = _config(site.base_url)
        first = crawl(config, settings)
        second = crawl(config, settings)
    yesterday.add(_yesterday_at(12, 30))  # the crawls may have crossed midnight in Warsaw
    assert _counts(first) == {name: (len(rows), 0, 0) for name, rows in EXPECTED.items()}
    assert sum(s.new + s.updated for s in second.values()) == 0
    assert all(s.errors == 0 and s.finish_reason == "finished" for s in second.values())
    for source, expected in EXPECTED.items():
        mentions = stored(sqlite_engine, source)
        assert len({m.dedup_key for m in mentions}) == len(mentions) == len(expected), source
        actual = set()
        for m in mentions:
            assert m.published_at is not None, (source, m.url)
            prefix = next((e[2] for e in expected if m.text.startswith(e[2])), m.text[:40])
            when = m.published_at.strftime("%Y-%m-%d %H:%M")
            when = YESTERDAY_12_30 if source == "forum" and when in yesterday else when
            actual.add((m.author, when, prefix, m.language, m.rating))
        assert actual == expected, source
    forum = stored(sqlite_engine, "forum")
    assert all("Pozdrawiam, Kuba" not in m.text and "napisał(a)" not in m.text for m in forum)
    assert forum[0].url == f"{site.base_url}/forum/viewtopic.php?p=501#p501"
    assert {m.rating_best for m in stored(sqlite_engine, "shop")} == {5.0}

