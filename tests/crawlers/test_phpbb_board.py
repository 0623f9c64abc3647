"""phpBB board-wide: topics learnt from Atom feeds, forum topic lists and board search,
then read post by post; replies' automatic "Re: <topic title>" is not a brand mention."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from crawlers.sources.phpbb import board_root, listing_kind, own_subject
from mentionwatch.settings import Settings
from tests.crawlers.api_crawl import SOURCE, crawl_source, cursors, query
from tests.crawlers.conftest import SAMPLES, crawl, make_config, stored
from tests.fakes.site_server import RecordedRequest, Reply, SiteServer

BOARD = SAMPLES / "phpbb-board"
TOPIC = "/forum/viewtopic.php"


class Board:
    """The sample board: which feed and which version of topic 22 it serves can change."""

    def __init__(self) -> None:
        self.feed = BOARD / "feed.xml"
        self.topic_22 = BOARD / "topic-22.html"

    def routes(self) -> dict[str, object]:
        return {
            "/forum/feed.php": lambda request: Reply.file(self.feed, headers={"Content-Type": "application/atom+xml"}),
            "/forum/viewforum.php": self.forum,
            "/forum/search.php": Reply.file(BOARD / "search-zamowko.html"),
            TOPIC: self.topic,
        }

    @staticmethod
    def forum(request: RecordedRequest) -> Reply:
        return Reply.file(BOARD / ("viewforum-f2-start2.html" if "start=2" in request.path else "viewforum-f2.html"))

    def topic(self, request: RecordedRequest) -> Reply:
        topic = query(request)["t"]
        return Reply.file(self.topic_22 if topic == "22" else BOARD / f"topic-{topic}.html")


def _topics_read(site: SiteServer, since: int = 0) -> list[str]:
    return sorted(query(r)["t"] for r in site.requests[since:] if r.path.startswith(TOPIC))


def test_new_topics_from_feed_forum_and_search_are_read_once(settings: Settings, store_engine: Engine) -> None:
    board = Board()
    with SiteServer(routes=board.routes()) as site:  # type: ignore[arg-type]
        config = make_config(
            {
                "name": SOURCE,
                "type": "phpbb",
                "urls": [site.url("/forum/feed.php"), site.url("/forum/viewforum.php?f=2")],
                "search": ["zamówko"],
            }
        )
        first = crawl(config, settings)[SOURCE]
        # 20 (feed and search: fetched once) and 22 (forum) are about the brand; 21 and 5 are not.
        assert _topics_read(site) == ["20", "22"]
        assert query(site.requested("/forum/search.php")[0])["keywords"] == "zamówko"
        assert len(site.requested("/forum/viewforum.php")) == 2

        done = len(site.requests)
        again = crawl(config, settings)[SOURCE]
        assert _topics_read(site, done) == [], "nothing new anywhere"
        assert [r.path for r in site.requests[done:] if "viewforum" in r.path] == ["/forum/viewforum.php?f=2"]

        board.feed, board.topic_22 = BOARD / "feed-later.xml", BOARD / "topic-22-later.html"
        done = len(site.requests)
        later = crawl(config, settings)[SOURCE]
        assert _topics_read(site, done) == ["22"], "a new reply in the feed"
    # Topic 20's second post is the moderator's "prices are discussed elsewhere" under the
    # automatic subject "Re: Zamówko prices": not about the brand.
    assert (first.errors, first.new, first.dropped) == (0, 2, {"no_match": 1})
    assert (again.errors, again.new, again.pages) == (0, 0, 3)
    assert (later.errors, later.new) == (0, 1)
    mentions = {m.external_id: m for m in stored(store_engine)}
    assert sorted(mentions) == ["601", "610", "611"]
    assert mentions["601"].title == "Zamówko prices" and mentions["611"].title is None
    assert mentions["611"].thread_url == "https://forum.example.pl/viewtopic.php?t=22"
    assert cursors(store_engine)[site.url("/forum/viewtopic.php?t=22")] == site.url("/forum/viewtopic.php?t=22")


def test_a_reply_under_the_automatic_subject_has_no_title_of_its_own() -> None:
    assert own_subject("Re: Zamówko prices", "Zamówko prices") is None
    assert own_subject("RE:  Re: zamówko  PRICES", "Zamówko prices") is None
    assert own_subject("Re: Zamówko prices in Kraków", "Zamówko prices") == "Re: Zamówko prices in Kraków"
    assert own_subject("Zamówko prices", "Zamówko prices") == "Zamówko prices"
    assert own_subject("", "Zamówko prices") == "Zamówko prices"


@pytest.mark.parametrize(
    ("url", "kind", "root"),
    [
        ("https://f.example/forum/feed.php?mode=topics", "feed", "https://f.example/forum/"),
        ("https://f.example/app.php/feed/forum/3", "feed", "https://f.example/"),
        ("https://f.example/forum/app.php/feed", "feed", "https://f.example/forum/"),
        ("https://f.example/viewforum.php?f=14", "listing", "https://f.example/"),
        ("https://f.example/search.php?keywords=acme", "listing", "https://f.example/"),
        ("https://f.example/viewtopic.php?t=15", "topic", "https://f.example/"),
        ("https://wolfsrebellen.forumieren.com/t7-forums-regeln", "topic", "https://wolfsrebellen.forumieren.com/"),
    ],
)
def test_what_a_url_lists(url: str, kind: str, root: str) -> None:
    assert (listing_kind(url), board_root(url)) == (kind, root)


def test_search_needs_a_board() -> None:
    with pytest.raises(ValueError, match=r"phpbb needs urls or base_url \(the board's root\) to search"):
        make_config({"name": SOURCE, "type": "phpbb", "search": ["zamówko"]})


@pytest.mark.slow
def test_recorded_feeds_and_listings_twice(settings: Settings, store_engine: Engine, shared_fixtures: Path) -> None:
    folder = shared_fixtures / "phpbb-board"
    atom = {"Content-Type": "application/atom+xml"}
    empty = Reply.text("<html><body><p>Nothing here.</p></body></html>")
    routes = {
        "/forum/feed.php": Reply.file(folder / "feed_board_neoloader.atom.xml", headers=atom),
        "/forum/feed.php?mode=topics": Reply.file(folder / "feed_topics_neoloader.atom.xml", headers=atom),
        "/forum/feed.php?f=172": Reply.file(folder / "feed_forum172_neoloader.atom.xml", headers=atom),
        "/forum/viewforum.php?f=14": Reply.file(folder / "viewforum_f14_page1_xanasoft.html"),
        "/forum/viewforum.php-33.html": Reply.file(folder / "viewforum_f14_page2_xanasoft.html"),
        "/forum/search.php?search_id=active_topics": Reply.file(folder / "search_active_topics_xanasoft.html"),
        "/forum/search.php?author_id=494&sr=posts": Reply.file(folder / "search_author_posts_xanasoft.html"),
        # Every topic is the recorded prosilver one; later listing pages are empty.
        TOPIC: Reply.file(shared_fixtures / "phpbb" / "phpbb3_prosilver_viewtopic_de.html"),
        "/forum/search.php-447.html": empty,
    }
    urls = [p for p in routes if p.startswith(("/forum/feed", "/forum/viewforum.php?", "/forum/search.php?"))]
    with SiteServer(routes=routes) as site:
        source = {"type": "phpbb", "urls": [site.url(p) for p in urls], "max_pages": 2}
        first = crawl_source(settings, source)
        topics = len({query(r)["t"] for r in site.requests if r.path.startswith(TOPIC)})
        done = len(site.requests)
        again = crawl_source(settings, source)
        topics_again = [r for r in site.requests[done:] if r.path.startswith(TOPIC)]
    # feeds: 15 + 15 + 15 entries, the board's ending in "Fatal: ..." after </feed>;
    # forum: 25 + 25 topics; searches: 4 topics, 10 posts.
    assert topics > 50
    assert (first.errors, again.errors, again.new) == (0, 0, 0)
    assert again.pages == len(urls) == 6, "each listing's first page only: nothing new"
    assert topics_again == []
    assert len(stored(store_engine)) == first.new == 1  # the one recorded topic page's one post
