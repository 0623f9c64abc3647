"""The telegram source end to end: channel preview pages (t.me/s/) on a loopback server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from mentionwatch.settings import Settings
from tests.crawlers.api_crawl import SOURCE, crawl_source, cursors, query
from tests.crawlers.conftest import crawl, make_config, stored
from tests.crawlers.recorded import sample
from tests.fakes.site_server import RecordedRequest, Reply, SiteServer

CHANNEL = "/s/zamowko_fans"


def _channel(request: RecordedRequest) -> Reply:
    before = query(request).get("before")
    name = f"zamowko_fans_before{before}.html" if before else "zamowko_fans.html"
    return Reply(200, sample("telegram", name), {"Content-Type": "text/html; charset=utf-8"})


def test_channel_pages_back_to_the_cursor_and_matches_the_brand(settings: Settings, store_engine: Engine) -> None:
    with SiteServer(routes={CHANNEL: _channel}) as site:
        config = make_config({"name": SOURCE, "type": "telegram", "urls": [site.url(CHANNEL)]})
        first = crawl(config, settings)[SOURCE]
        assert [query(r).get("before") for r in site.requested(CHANNEL)] == [None, "105"]
        again = crawl(config, settings)[SOURCE]
        assert [query(r).get("before") for r in site.requested(CHANNEL)][2:] == [None]
    # 101 is a service message, 104 a photo without a caption, 105 not about the brand.
    assert (first.errors, first.pages, first.new, first.dropped) == (0, 2, 4, {"no_match": 1})
    assert (again.errors, again.pages, again.new) == (0, 1, 0)
    mentions = {m.external_id: m for m in stored(store_engine)}
    assert sorted(mentions) == ["zamowko_fans/102", "zamowko_fans/103", "zamowko_fans/106", "zamowko_fans/107"]
    complaint = mentions["zamowko_fans/103"]
    assert (complaint.url, complaint.thread_url) == ("https://t.me/zamowko_fans/103", "https://t.me/zamowko_fans")
    assert (complaint.author, complaint.language, complaint.views) == ("Ольга", "ru", 842)
    assert mentions["zamowko_fans/106"].views == 3400
    assert complaint.text == "Курьер Zamówko опоздал на три часа, а мороженое растаяло. Позор."
    assert complaint.published_at is not None and complaint.published_at.isoformat().startswith("2026-11-19T12:30:00")
    reply = mentions["zamowko_fans/107"]
    assert reply.author == "Zamówko – фанаты доставки"
    assert "опоздал" not in reply.text, "the quoted message is not part of the reply"
    assert cursors(store_engine) == {site.url(CHANNEL): "107"}


def test_only_channel_pages_are_accepted() -> None:
    with pytest.raises(ValueError, match=r"telegram reads channel pages like https://t.me/s/<channel>, not 'https://t.me/zamowko_fans'"):
        make_config({"name": SOURCE, "type": "telegram", "urls": ["https://t.me/zamowko_fans"]})


@pytest.mark.slow
def test_recorded_channel_pages_twice(settings: Settings, store_engine: Engine, shared_fixtures: Path) -> None:
    folder = shared_fixtures / "telegram"
    routes = {
        "/s/topwar_official": Reply.file(folder / "tme_s_topwar_official.html"),
        "/s/feedjam": Reply.file(folder / "tme_s_feedjam.html"),
    }
    with SiteServer(routes=routes) as site:
        source = {"type": "telegram", "urls": [site.url("/s/topwar_official"), site.url("/s/feedjam")]}
        first = crawl_source(settings, source)
        again = crawl_source(settings, source)
    # topwar's "more" link (?before=70989) answers the same page here: its messages are
    # stored once. feedjam: 6 messages after "Channel created", 2 of them photos only.
    assert (first.errors, first.pages) == (0, 3)
    assert (again.errors, again.pages, again.new) == (0, 2, 0)
    mentions = stored(store_engine)
    assert len(mentions) == len({m.external_id for m in mentions}) == first.new
    urls = {m.url for m in mentions}
    assert "https://t.me/topwar_official/71008" in urls and "https://t.me/feedjam/2" in urls
    assert all(m.published_at is not None and m.text for m in mentions)
    assert next(m.views for m in mentions if m.url == "https://t.me/topwar_official/70989") == 37200
