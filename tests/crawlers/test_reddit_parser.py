"""Reddit listings and comment trees, on recorded API bodies and on our own samples."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from crawlers.sources import reddit
from crawlers.parsers.common import ParseError
from tests.crawlers.recorded import (
    assert_well_formed,
    cassette,
    damaged,
    parse_or_refuse,
    sample,
)


@pytest.mark.parametrize(
    ("name", "count", "after"),
    [
        ("go-reddit_search-posts.json", 2, "t3_hmwhd7"),
        ("asyncpraw_search.body.json", 31, None),
        ("asyncpraw_askreddit_comments.body.json", 100, "t1_fxl1nct"),
    ],
)
def test_recorded_listings(shared_fixtures: Path, name: str, count: int, after: str | None) -> None:
    page = reddit.parse_listing((shared_fixtures / "reddit" / name).read_bytes())
    assert (len(page.mentions), page.next, page.skipped) == (count, after, [])
    assert_well_formed(page.mentions)


def test_recorded_search_cassette_matches_its_extracted_body(shared_fixtures: Path) -> None:
    recorded = [r for r in cassette(shared_fixtures / "reddit" / "asyncpraw_TestSubreddit.test_search.json") if r.method == "GET"]
    from_cassette = reddit.parse_listing(recorded[0].body)
    extracted = reddit.parse_listing((shared_fixtures / "reddit" / "asyncpraw_search.body.json").read_bytes())
    assert [m.external_id for m in from_cassette.mentions] == [m.external_id for m in extracted.mentions]


def test_recorded_post_title_author_time(shared_fixtures: Path) -> None:
    page = reddit.parse_listing((shared_fixtures / "reddit" / "go-reddit_search-posts.json").read_bytes())
    first = page.mentions[0]
    assert first.external_id == "t3_hybow9"
    assert first.url == "https://www.reddit.com/r/WatchPeopleDieInside/comments/hybow9/pregnancy_test/"
    # A video post has no self-text: the title is the text.
    assert (first.title, first.body, first.author) == ("Pregnancy test", "Pregnancy test", "chocolat_ice_cream")
    assert first.published == datetime.fromtimestamp(1595787264, UTC)


def test_recorded_comment_listing_points_at_each_thread(shared_fixtures: Path) -> None:
    page = reddit.parse_listing((shared_fixtures / "reddit" / "asyncpraw_askreddit_comments.body.json").read_bytes())
    first = page.mentions[0]
    thread = "https://www.reddit.com/r/AskReddit/comments/hoocpo/dear_non_germans_what_do_you_think_of_germany/"
    assert first.thread_url == thread
    assert first.parent_url == thread + "fxj90f6/"
    assert first.body_format == "html" and "resilient group" in first.body


def test_recorded_post_with_comment_tree(shared_fixtures: Path) -> None:
    page = reddit.parse_comments((shared_fixtures / "reddit" / "go-reddit_post-with-comments.json").read_bytes())
    post, first, answer = page.mentions
    assert [m.external_id for m in page.mentions] == ["t3_testpost", "t1_testc1", "t1_testc2"]
    assert first.thread_url == answer.thread_url == post.url
    assert (first.parent_url, answer.parent_url) == (post.url, first.url)
    # go-reddit recorded without raw_json=1: the HTML arrives entity-escaped.
    assert answer.body == '<div class="md"><p>Hello</p>\n</div>'


def test_sample_search_pages() -> None:
    first = reddit.parse_listing(sample("reddit", "search_page1.json"))
    assert first.next == "t3_1ru2"
    polish, russian = first.mentions
    assert polish.title == "Acme zgubiło moją paczkę, trzeci raz w tym miesiącu"
    assert polish.body_format == "html" and "<strong>Acme</strong> dwa tygodnie" in polish.body
    assert polish.published == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    # A link post by a deleted account: the title is the text, no author.
    assert (russian.body, russian.author) == ("Кто-нибудь заказывал в Acme? Доставка в Москву за три дня", None)
    last = reddit.parse_listing(sample("reddit", "search_page2.json"))
    assert (len(last.mentions), last.next) == (2, None)


def test_sample_comment_tree_skips_removed_and_keeps_the_stubs_of_left_out_comments() -> None:
    page = reddit.parse_comments(sample("reddit", "comments_1pl1.json"))
    ids = [m.external_id for m in page.mentions]
    assert ids == ["t3_1pl1", "t1_c1", "t1_c2", "t1_c4"]
    post, complaint, answer, russian = page.mentions
    assert answer.parent_url == complaint.url == post.url + "c1/"
    assert russian.body == "У меня Acme тоже потеряли заказ, деньги вернули только через месяц."
    assert russian.body_format == "text" and russian.parent_url == post.url
    assert page.skipped == []
    assert page.more == [reddit.More(parent_id="t1_c1", children=["c9", "c10"])]


THREAD = "https://www.reddit.com/r/Polska/comments/1pl1/acme_zgubilo_moja_paczke/"


def test_loaded_more_children_hang_in_the_thread_by_their_parent_ids() -> None:
    page = reddit.parse_more_children(sample("reddit", "morechildren_1pl1.json"), THREAD)
    assert [m.external_id for m in page.mentions] == ["t1_c9", "t1_c11", "t1_c10"]
    first, answer, deleted_account = page.mentions
    assert first.thread_url == answer.thread_url == THREAD
    assert (first.parent_url, answer.parent_url) == (THREAD + "c1/", THREAD + "c9/")
    assert first.body_format == "html" and first.body.startswith('<div class="md"><p>Potwierdzam, kurier Acme')
    assert (deleted_account.author, deleted_account.body_format) == (None, "html")
    # Reddit cut the reply chain below c11 ("continue this thread"): a stub without ids.
    assert page.more == [reddit.More(parent_id="t1_c11", children=[])]
    assert page.skipped == []


def test_a_continued_reply_chain_is_a_comment_page_rooted_at_its_comment() -> None:
    page = reddit.parse_comments(sample("reddit", "comments_1pl1_c11.json"))
    assert [m.external_id for m in page.mentions] == ["t3_1pl1", "t1_c11", "t1_c12"]
    _, root, answer = page.mentions
    assert (root.parent_url, answer.parent_url) == (THREAD + "c9/", THREAD + "c11/")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"json": {"errors": [["RATELIMIT", "you are doing that too much", "ratelimit"]]}}', "refused to load"),
        (b'{"json": {"errors": [], "data": {"things": {}}}}', "things"),
        (b"[]", "morechildren"),
        (b"<html>503</html>", "not JSON"),
    ],
)
def test_a_refused_or_odd_morechildren_answer_says_why(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        reddit.parse_more_children(body, THREAD)


def test_a_broken_stub_is_skipped_with_its_reason_and_the_comments_still_count() -> None:
    data = json.loads(sample("reddit", "morechildren_1pl1.json"))
    del data["json"]["data"]["things"][2]["data"]["parent_id"]
    page = reddit.parse_more_children(json.dumps(data), THREAD)
    assert len(page.mentions) == 3 and page.more == []
    assert page.skipped == ["a 'more' stub: parent_id: Field required"]


@pytest.mark.parametrize("body", [b"", b"<html>Too Many Requests</html>", b"[]", b'{"kind": "Listing"}', b'"t3"'])
def test_not_a_listing(body: bytes) -> None:
    with pytest.raises(ParseError):
        reddit.parse_listing(body)


def test_a_broken_post_is_skipped_with_its_reason() -> None:
    data = json.loads(sample("reddit", "search_page1.json"))
    del data["data"]["children"][0]["data"]["permalink"]
    page = reddit.parse_listing(json.dumps(data))
    assert [m.external_id for m in page.mentions] == ["t3_1ru2"]
    assert page.skipped == ["item 0: permalink: Field required"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=damaged(json.loads(sample("reddit", "comments_1pl1.json"))))
def test_damaged_comment_pages_never_crash(document: Any) -> None:
    parse_or_refuse(reddit.parse_comments, json.dumps(document))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=damaged(json.loads(sample("reddit", "search_page1.json"))))
def test_damaged_listings_never_crash(document: Any) -> None:
    parse_or_refuse(reddit.parse_listing, json.dumps(document))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=damaged(json.loads(sample("reddit", "morechildren_1pl1.json"))))
def test_damaged_morechildren_answers_never_crash(document: Any) -> None:
    parse_or_refuse(lambda body: reddit.parse_more_children(body, THREAD), json.dumps(document))
