"""Real crawls through the runner against a loopback site: downloads, robots.txt,
pagination, Retry-After, broken bodies, cursors and the whole pipeline into SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from crawlers.run import RECHECKED_AT
from mentionwatch.config import Brand
from mentionwatch.settings import Settings
from store.db import session_scope
from store.models import CrawlCursor, CrawlRun
from store.queries import get_source, set_cursor
from tests.crawlers.conftest import DEMO_SITE, SAMPLES, crawl, make_config, stored
from tests.fakes.site_server import RecordedRequest, Reply, SiteServer

APPSTORE_PAGE = "/us/rss/customerreviews/page={n}/id=284815942/sortby=mostrecent/json"


@pytest.mark.slow
def test_recorded_responses_through_the_whole_pipeline(shared_fixtures: Path, settings: Settings, sqlite_engine: Engine) -> None:
    fx = shared_fixtures
    routes = {
        "/recipe/": Reply.file(fx / "schemaorg/jsonld_recipe_12_reviews_bakewithzoha.html"),
        "/alerts/feed": Reply.file(fx / "rss_atom/google_alerts_slack.atom.xml"),
        "/forum/viewtopic.php": Reply.file(fx / "phpbb/phpbb3_prosilver_viewtopic_de.html"),
        "/t/57.json": Reply.file(fx / "discourse/discourse_api_topic.json"),
        APPSTORE_PAGE.format(n=1): Reply.file(fx / "appstore/itunes_rss_reviews.json"),
        APPSTORE_PAGE.format(n=2): Reply.file(SAMPLES / "appstore/empty-page.json"),
    }
    with SiteServer(routes=routes) as site:
        base = site.base_url
        config = make_config(
            {"name": "recipe", "type": "schemaorg", "urls": [f"{base}/recipe/"]},
            {"name": "alerts", "type": "feed", "urls": [f"{base}/alerts/feed"]},
            {"name": "forum", "type": "phpbb", "match": "all", "urls": [f"{base}/forum/viewtopic.php?t=167"]},
            {"name": "discourse", "type": "discourse", "match": "all", "urls": [f"{base}/t/welcome/57"]},
            {"name": "appstore", "type": "appstore", "base_url": base, "options": {"app_id": "284815942", "countries": ["us"]}},
            brand=Brand(name="Slack", query="slack"),
        )
        stats = crawl(config, settings)
        again = crawl(config, settings)
        robots = site.requested("/robots.txt")
    assert {name: (s.new, s.errors) for name, s in stats.items()} == {
        "recipe": (12, 0), "alerts": (20, 0), "forum": (1, 0), "discourse": (2, 0), "appstore": (50, 0),
    }  # fmt: skip
    assert stats["discourse"].dropped == {"empty": 1}, "a post that is only an image has no text"
    assert all(s.unchanged + s.new == 0 or s.new == 0 for s in again.values())
    assert sum(s.new for s in again.values()) == 0
    assert robots, "robots.txt is asked before crawling"
    alerts = stored(sqlite_engine, "alerts")
    assert alerts[0].url.startswith("https://www.aglobalmarketresearch.com/report-offers-prediction")
    assert all("google.com/url" not in m.canonical_url for m in alerts)
    # lingua reads one of the twenty English snippets as German (capitalized product names).
    assert [m.language for m in alerts].count("en") >= 19
    forum = stored(sqlite_engine, "forum")[0]
    assert forum.language == "de" and forum.published_at is not None and forum.published_at.year == 2009
    assert forum.url == f"{site.base_url}/forum/viewtopic.php?p=453#p453"
    apps = stored(sqlite_engine, "appstore")
    assert apps[0].rating == 4.0 and apps[0].rating_best == 5.0 and apps[0].published_at is not None
    with Session(sqlite_engine) as session:
        runs = session.exec(select(CrawlRun)).all()
        assert len(runs) == 10 and all(r.finish_reason == "finished" for r in runs)
        cursor = session.exec(select(CrawlCursor).where(CrawlCursor.key == "us")).one()
        assert cursor.value == str(max(int(m.external_id or 0) for m in apps))


def test_a_misbehaving_site_slows_the_crawl_but_never_stops_it(settings: Settings, sqlite_engine: Engine) -> None:
    routes = {
        "/ok/feed.xml": Reply.file(SAMPLES / "feed/zamowko-pl.rss.xml"),
        "/limited/feed.xml": Reply.file(SAMPLES / "feed/zamowko-pl.rss.xml"),
        "/closed/feed.xml": Reply.file(SAMPLES / "feed/zamowko-pl.rss.xml"),
        "/broken/feed.xml": Reply.file(SAMPLES / "broken/not-a-feed.xml"),
        "/slow/reviews": Reply(200, (SAMPLES / "shop/microdata-2.html").read_bytes(), {"Content-Type": "text/html"}, delay=0.5),
        "/broken/reviews": Reply.file(SAMPLES / "broken/truncated-jsonld.html"),
        "/broken/app.json": Reply.file(SAMPLES / "broken/truncated.json"),
        "/robots.txt": Reply.text("User-agent: *\nDisallow: /private/\n", "text/plain"),
    }
    with SiteServer(routes=routes) as site:
        site.inject("/limited/feed.xml", Reply(429, b"slow down", {"Retry-After": "1"}))
        site.inject("/closed/feed.xml", *[Reply(503, b"", {"Retry-After": "86400"})] * 2)
        config = make_config(
            *(
                {"name": name, "type": kind, "urls": [f"{site.base_url}{path}"]}
                for name, kind, path in [
                    ("ok", "feed", "/ok/feed.xml"),
                    ("limited", "feed", "/limited/feed.xml"),
                    ("closed", "feed", "/closed/feed.xml"),
                    ("broken-feed", "feed", "/broken/feed.xml"),
                    ("slow", "schemaorg", "/slow/reviews"),
                    ("broken-page", "schemaorg", "/broken/reviews"),
                    ("broken-json", "appstore", "/broken/app.json"),
                    ("private", "phpbb", "/private/viewtopic.php?t=1"),
                    ("missing", "phpbb", "/gone/viewtopic.php?t=2"),
                ]
            )
        )
        stats = crawl(config, settings)
        limited = site.requested("/limited/feed.xml")
        agents = {r.headers.get("User-Agent") for r in site.requests}
        closed = site.requested("/closed/feed.xml")
    assert agents == {settings.user_agent}
    assert stats["ok"].new == 3 and stats["ok"].errors == 1  # the entry without a link
    assert stats["ok"].dropped == {"no_match": 1, "syndicated": 1}
    assert stats["limited"].new == 3 and stats["limited"].errors == 1
    assert len(limited) == 2 and limited[1].at - limited[0].at >= 1.0, "waited as long as Retry-After asked"
    assert len(closed) == 1 and stats["closed"].errors == 1 and stats["closed"].new == 0
    assert stats["broken-feed"].errors == 1 and stats["broken-feed"].pages == 1
    assert stats["slow"].new == 1 and stats["slow"].errors == 0
    assert stats["broken-page"].errors == 1 and stats["broken-json"].errors == 1
    assert stats["private"].pages == 0 and stats["private"].errors == 1
    assert stats["missing"].errors == 1
    assert all(s.finish_reason == "finished" for s in stats.values())
    with Session(sqlite_engine) as session:
        keys = {c.key for c in session.exec(select(CrawlCursor)).all()}
    assert keys == {f"{site.base_url}/slow/reviews", RECHECKED_AT}, "only clean runs move their cursor"


def _requests(site: SiteServer, prefix: str) -> list[str]:
    return [r.path for r in site.requests if r.path.startswith(prefix)]


def _trustpilot_route(pages: dict[str, Path]) -> object:
    def route(request: RecordedRequest) -> Reply:
        page = dict(p.split("=", 1) for p in request.path.split("?", 1)[-1].split("&") if "=" in p).get("page", "1")
        return Reply.file(pages[page]) if page in pages else Reply.text("no such page", status=404)

    return route


@pytest.mark.slow
def test_scheduled_crawls_fetch_only_what_is_new(settings: Settings, sqlite_engine: Engine, tmp_path: Path) -> None:
    tp = SAMPLES / "trustpilot"
    feed = Reply.file(DEMO_SITE / "feeds/zamowko-alerts.xml", headers={"ETag": '"v1"'})

    def feed_route(request: RecordedRequest) -> Reply:
        return Reply(304) if request.headers.get("If-None-Match") == '"v1"' else feed

    def topic_route(request: RecordedRequest) -> Reply:
        page = "page2" if "start=3" in request.path else "page1"
        return Reply.file(SAMPLES / f"phpbb/topic-15-{page}.html")

    routes = {
        "/review/zamowko.pl": _trustpilot_route({"1": tp / "zamowko-page1.html", "2": tp / "zamowko-page2.html"}),
        "/feed.xml": feed_route,
        "/forum/viewtopic.php": topic_route,
    }
    with SiteServer(routes=routes) as site:
        base = site.base_url
        config = make_config(
            {"name": "trustpilot", "type": "trustpilot", "urls": [f"{base}/review/zamowko.pl"]},
            {"name": "feed", "type": "feed", "urls": [f"{base}/feed.xml"]},
            {"name": "forum", "type": "phpbb", "urls": [f"{base}/forum/viewtopic.php?t=15"]},
        )
        first = crawl(config, settings)
        first_requests = len(site.requests)
        second = crawl(config, settings)
        second_paths = [r.path for r in site.requests[first_requests:] if r.path != "/robots.txt"]
        # A new review arrives at the top of page 1.
        page1 = (tp / "zamowko-page1.html").read_text(encoding="utf-8")
        newer = (
            page1.replace('"id": "6740aa01c0ffee0002"', '"id": "6740aa01c0ffee0009"')
            .replace("2026-11-20T08:00:00.000Z", "2026-11-24T08:00:00.000Z")
            .replace("Groceries arrived within the hour", "Second order, again on time")
        )
        (tmp_path / "page1.html").write_text(newer, encoding="utf-8")
        site.routes["/review/zamowko.pl"] = _trustpilot_route({"1": tmp_path / "page1.html", "2": tp / "zamowko-page2.html"})
        third = crawl(config, settings, sources=["trustpilot"])
    assert (first["trustpilot"].pages, first["trustpilot"].new) == (2, 4)
    assert (first["feed"].new, first["forum"].new, first["forum"].pages) == (4, 3, 2)
    assert first["forum"].dropped == {"no_match": 2}
    assert (second["trustpilot"].pages, second["trustpilot"].unchanged) == (1, 2)
    assert second["feed"].pages == 1 and second["feed"].items_seen == 0, "304: the feed did not change"
    assert [p for p in second_paths if p.startswith("/forum")] == ["/forum/viewtopic.php?t=15&start=3"]
    assert second["forum"].unchanged == 1 and second["forum"].new == 0
    assert (third["trustpilot"].pages, third["trustpilot"].new, third["trustpilot"].unchanged) == (1, 1, 1)
    reviews = stored(sqlite_engine, "trustpilot")
    assert len(reviews) == 5 and {r.language for r in reviews} == {"pl", "en", "ru"}
    with Session(sqlite_engine) as session:
        cursors = {c.key: c.value for c in session.exec(select(CrawlCursor)).all()}
    assert json.loads(cursors[f"{site.base_url}/feed.xml"]) == {"etag": '"v1"', "modified": None}


def test_an_edited_old_review_is_seen_at_the_next_recheck(
    settings: Settings, sqlite_engine: Engine, tmp_path: Path
) -> None:
    """Runs stop where the previous one did, so an edit on page 2 waits for the daily
    recheck, which reads every page again and stores the edit as an update."""
    tp = SAMPLES / "trustpilot"
    edited = tmp_path / "page2.html"
    edited.write_text(
        (tp / "zamowko-page2.html").read_text(encoding="utf-8").replace(
            "Kurierzy się zmieniają, a jakość z nimi.", "Kurierzy się zmieniają. EDIT: reklamacja uznana, dziękuję."
        ),
        encoding="utf-8",
    )
    routes = {"/review/zamowko.pl": _trustpilot_route({"1": tp / "zamowko-page1.html", "2": tp / "zamowko-page2.html"})}
    with SiteServer(routes=routes) as site:
        config = make_config({"name": "trustpilot", "type": "trustpilot", "urls": [f"{site.base_url}/review/zamowko.pl"]})
        first = crawl(config, settings)["trustpilot"]
        site.routes["/review/zamowko.pl"] = _trustpilot_route({"1": tp / "zamowko-page1.html", "2": edited})
        incremental = crawl(config, settings)["trustpilot"]
        with session_scope(sqlite_engine) as session:
            source = get_source(session, name="trustpilot")
            assert source is not None and source.id is not None
            set_cursor(session, source_id=source.id, key=RECHECKED_AT, value="2026-01-01T00:00:00+00:00")
        recheck = crawl(config, settings)["trustpilot"]
        after = crawl(config, settings)["trustpilot"]
    assert (first.pages, first.new) == (2, 4)
    assert (incremental.pages, incremental.updated) == (1, 0), "stopped at page 1: nothing new there"
    assert (recheck.pages, recheck.new, recheck.updated) == (2, 0, 1)
    assert after.pages == 1, "the recheck moved the clock: the next run is incremental again"
    assert any("reklamacja uznana" in m.text for m in stored(sqlite_engine, "trustpilot"))


@pytest.mark.parametrize("source", ["nope"])
def test_unknown_source_names_are_refused_before_crawling(source: str, settings: Settings) -> None:
    config = make_config()
    with pytest.raises(KeyError):
        crawl(config, settings, sources=[source])
