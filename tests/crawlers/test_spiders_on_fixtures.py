"""Each spider's parsing on the recorded real responses in ../shared/fixtures (read in place)."""

from __future__ import annotations

from pathlib import Path

from scrapy import Request

from crawlers.items import MentionItem
from tests.crawlers.conftest import (
    make_job,
    make_spider,
    response_from,
    run_callback,
    stats_of,
)


def _items(results: list[object]) -> list[MentionItem]:
    return [r for r in results if isinstance(r, MentionItem)]


def test_schemaorg_jsonld_reviews(shared_fixtures: Path) -> None:
    spider = make_spider(make_job("schemaorg", urls=["https://bakewithzoha.com/x/"]))
    page = response_from(shared_fixtures / "schemaorg/jsonld_recipe_12_reviews_bakewithzoha.html", "https://bakewithzoha.com/x/")
    items = _items(run_callback(spider, page, listing_url="https://bakewithzoha.com/x/"))
    assert len(items) == 12
    zee = next(i for i in items if i.author == "Zee")
    assert zee.published == "2023-10-09" and zee.rating == "5"
    assert zee.body.startswith("I love your chocolate mug cake recipe")
    assert len({i.external_id for i in items}) == 12


def test_schemaorg_microdata_reviews_and_scales(shared_fixtures: Path) -> None:
    spider = make_spider(make_job("schemaorg"))
    page = response_from(shared_fixtures / "schemaorg/microdata_bazaarvoice_reviews_williams-sonoma.html", "https://ws.example/")
    items = _items(run_callback(spider, page, listing_url="https://ws.example/"))
    assert len(items) == 8
    donna = next(i for i in items if i.author == "Donnagar10")
    assert (donna.rating, donna.rating_best, donna.title) == ("1", "5", "Chocolate Cake?")
    zooroyal = response_from(shared_fixtures / "schemaorg/microdata_product_reviews_de_zooroyal.html", "https://zr.example/")
    reviews = _items(run_callback(spider, zooroyal, listing_url="https://zr.example/"))
    assert len(reviews) == 4 and all(r.rating_worst == "0" and r.rating_best == "5" for r in reviews)


def test_schemaorg_editorial_review_on_0_100(shared_fixtures: Path) -> None:
    spider = make_spider(make_job("schemaorg"))
    page = response_from(shared_fixtures / "schemaorg/jsonld_editorial_review_0-100_pcgamer.html", "https://pcg.example/r")
    (review,) = _items(run_callback(spider, page, listing_url="https://pcg.example/r"))
    assert (review.rating, review.rating_best) == ("87", "100")
    assert review.title == "Through the Darkest of Times review"


def test_schemaorg_aggregate_rating_only_yields_nothing(shared_fixtures: Path) -> None:
    spider = make_spider(make_job("schemaorg"))
    page = response_from(shared_fixtures / "schemaorg/microdata_aggregaterating_pl_kwestiasmaku.html", "https://ks.example/")
    assert _items(run_callback(spider, page, listing_url="https://ks.example/")) == []
    assert "mentionwatch/errors/parse" not in stats_of(spider)


def test_feed_google_alerts_atom(shared_fixtures: Path) -> None:
    spider = make_spider(make_job("feed"))
    page = response_from(shared_fixtures / "rss_atom/google_alerts_slack.atom.xml", "https://www.google.com/alerts/feeds/1/2")
    items = _items(run_callback(spider, page, feed_url="https://www.google.com/alerts/feeds/1/2"))
    assert len(items) == 20
    first = items[0]
    assert first.url.startswith("https://www.google.com/url?rct=j&sa=t&url=https://www.aglobalmarketresearch.com/")
    assert first.external_id == "tag:google.com,2013:googlealerts/feed:8974135267215335962"
    assert first.title is not None and "<b>Slack</b>" in first.title and first.body_format == "html"
    assert first.published is not None and first.published.isoformat() == "2019-07-10T11:53:37+00:00"  # type: ignore[union-attr]


def test_feed_rss_and_atom_in_russian_and_german(shared_fixtures: Path) -> None:
    spider = make_spider(make_job("feed"))
    for name, count in [
        ("elementy_ru.rss.xml", None),
        ("youtube_channel_ru.atom.xml", None),
        ("heise_developer.atom.xml", None),
        ("reddit_frontpage.rss.xml", None),
        ("lobsters.rss.xml", None),
    ]:
        items = _items(run_callback(spider, response_from(shared_fixtures / "rss_atom" / name, "https://f.example/feed")))
        assert items, name
        assert all(i.url.startswith("http") and i.body.strip() for i in items), name
        assert count is None or len(items) == count
    elementy = _items(run_callback(spider, response_from(shared_fixtures / "rss_atom/elementy_ru.rss.xml", "https://f.example/")))
    assert "Тау-белок" in elementy[0].body


def test_phpbb_prosilver_and_forumotion(shared_fixtures: Path) -> None:
    url = "https://foren.myoos.de/viewtopic.php?t=167&sid=c613f07a94d24ae130f878df2f758925"
    spider = make_spider(make_job("phpbb", urls=[url]))
    (post,) = _items(run_callback(spider, response_from(shared_fixtures / "phpbb/phpbb3_prosilver_viewtopic_de.html", url), topic_url=url))
    assert (post.external_id, post.author, post.published) == ("453", "r23", "21.01.2009, 05:42")
    assert post.url == "https://foren.myoos.de/viewtopic.php?p=453#p453"
    assert post.thread_url == "https://foren.myoos.de/viewtopic.php?t=167" and post.date_languages == ["de"]
    assert post.body.startswith('<div class="content">Was ist Freie Software')
    forum = "https://wolfsrebellen-netz.forumieren.com/t7-forums-regeln"
    spider = make_spider(make_job("phpbb", urls=[forum]))
    posts = _items(run_callback(spider, response_from(shared_fixtures / "phpbb/forumotion_phpbb2style_viewtopic_de.html", forum)))
    assert [p.external_id for p in posts] == ["7", "655", "702"]
    assert {p.author for p in posts} == {"lupa"}
    assert posts[1].published == "26/05/14, 07:41 am"
    assert all("ich bin nicht da" not in p.body for p in posts), "signatures are not part of a post"


def test_discourse_topic_latest_and_legacy_search(shared_fixtures: Path) -> None:
    spider = make_spider(make_job("discourse", urls=["https://try.discourse.example/t/welcome/57"]))
    topic = response_from(shared_fixtures / "discourse/discourse_api_topic.json", "https://try.discourse.example/t/57.json")
    results = run_callback(spider, topic)
    posts = _items(results)
    assert [p.external_id for p in posts] == ["83", "86", "226"], "the 'topic pinned' notice is no post"
    assert posts[0].author == "samsaffron"
    assert posts[0].url == "https://try.discourse.example/t/this-site-is-a-sandbox-it-is-reset-every-day/57/1"
    assert posts[0].published == "2013-02-04T15:26:26.278-05:00"
    latest = response_from(shared_fixtures / "discourse/discourse_api_posts_latest.json", "https://try.discourse.example/posts.json")
    items = _items(run_callback(spider, latest))
    assert [i.external_id for i in items][:2] == ["15", "14"] and items[0].title == "This is an uncategorized title"
    legacy = response_from(shared_fixtures / "discourse/discourse_api_search_legacy.json", "https://try.discourse.example/search.json")
    requests = [r for r in run_callback(spider, legacy) if isinstance(r, Request)]
    assert [r.url for r in requests] == [f"https://try.discourse.example/t/{n}.json" for n in (1, 2, 3)]
    latest_topics = response_from(shared_fixtures / "discourse/discourse_api_latest.json", "https://try.discourse.example/latest.json")
    assert run_callback(spider, latest_topics) == []
    assert stats_of(spider)["mentionwatch/errors/parse"] == 1, "an unknown payload is reported, not a crash"


def test_appstore_itunes_rss_json(shared_fixtures: Path) -> None:
    spider = make_spider(make_job("appstore", urls=[], options={"app_id": "284815942"}, base_url="https://itunes.example"))
    url = "https://itunes.example/us/rss/customerreviews/page=1/id=284815942/sortby=mostrecent/json"
    results = run_callback(spider, response_from(shared_fixtures / "appstore/itunes_rss_reviews.json", url), country="us", page=1)
    items = _items(results)
    assert len(items) == 50
    first = items[0]
    assert (first.external_id, first.rating, first.author) == ("8044879566", "4", "Lantana, FL")
    assert first.published == "2021-11-20T10:25:34-07:00" and first.title == "Usually interesting reading but"
    (next_page,) = [r for r in results if isinstance(r, Request)]
    assert next_page.url.endswith("/us/rss/customerreviews/page=2/id=284815942/sortby=mostrecent/json")
