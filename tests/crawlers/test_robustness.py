"""Broken input never crashes a crawl: mutated real pages and arbitrary bytes go through
every spider's parsing and the normalize step, which may skip them but never raise."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse, Request, TextResponse

from crawlers.items import MentionItem
from crawlers.middlewares.retry_after import retry_after_seconds
from crawlers.pipelines.normalize import NormalizePipeline
from tests.crawlers.conftest import DEMO_SITE, SAMPLES, make_job, make_spider

# (source type, sample, callback keyword arguments)
PAGES = [
    ("schemaorg", DEMO_SITE / "sklep/zamowko-box/opinie.html", {"listing_url": "https://s.example/"}),
    ("feed", DEMO_SITE / "feeds/zamowko-alerts.xml", {"feed_url": "https://s.example/"}),
    ("phpbb", SAMPLES / "phpbb/topic-15-page1.html", {"topic_url": "https://s.example/"}),
    ("discourse", SAMPLES / "discourse/topic-77.json", {}),
    ("appstore", DEMO_SITE / "appstore/customerreviews-1555000111.json", {"country": "url", "page": 1}),
    ("trustpilot", SAMPLES / "trustpilot/zamowko-page1.html", {"listing_url": "https://s.example/", "page": 1}),
]
SPIDERS = {kind: make_spider(make_job(kind)) for kind, _, _ in PAGES}
NORMALIZE = NormalizePipeline.from_crawler(SPIDERS["feed"].crawler)


def _parse(kind: str, body: bytes, kwargs: dict[str, object], html: bool) -> list[object]:
    cls = HtmlResponse if html else TextResponse
    url = "https://s.example/page"
    response = cls(url=url, body=body, encoding="utf-8", request=Request(url))
    return list(SPIDERS[kind].parse(response, **kwargs))


def _mutations(data: bytes) -> st.SearchStrategy[bytes]:
    """Cuts, splices and byte flips of a real body: what a flaky server or proxy sends."""
    size = len(data)
    cut = st.integers(0, size).map(lambda n: data[:n])
    splice = st.tuples(st.integers(0, size), st.integers(0, size), st.binary(max_size=40)).map(
        lambda t: data[: min(t[0], t[1])] + t[2] + data[max(t[0], t[1]) :]
    )
    return st.one_of(cut, splice, st.binary(max_size=300))


@pytest.mark.parametrize(("kind", "path", "kwargs"), PAGES, ids=[p[0] for p in PAGES])
def test_spiders_survive_mutated_pages(kind: str, path: Path, kwargs: dict[str, object]) -> None:
    data = path.read_bytes()

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=_mutations(data))
    def check(body: bytes) -> None:
        for result in _parse(kind, body, kwargs, html=path.suffix == ".html"):
            assert isinstance(result, MentionItem | Request)
            if isinstance(result, MentionItem):
                try:
                    NORMALIZE.process_item(result)
                except DropItem:
                    pass

    check()


def test_one_mangled_post_costs_only_itself() -> None:
    """Found by the fuzz test: a control character in a post's markup made lxml refuse the
    post and the whole page was lost; a mangled link parsed as another URL scheme."""
    page = (SAMPLES / "phpbb/topic-15-page1.html").read_text(encoding="utf-8")
    whole = [r for r in _parse("phpbb", page.encode(), {"topic_url": "https://s.example/"}, html=True)]
    first_post = page.index('class="post')
    mangled = page[:first_post] + "\x01" + page[first_post:]
    next_link = 'href="./viewtopic.php?t=15&amp;sid=9d8c7b&amp;start=3" rel="next"'
    mangled = mangled.replace('lang="pl"', 'lang="p\x01"').replace(next_link, 'href="o2026-11-12t12:30:00" rel="next"')
    results = _parse("phpbb", mangled.encode(), {"topic_url": "https://s.example/"}, html=True)
    items = [r for r in results if isinstance(r, MentionItem)]
    assert len(items) >= len([r for r in whole if isinstance(r, MentionItem)]) - 1 > 0
    assert not any(isinstance(r, Request) and not r.url.startswith("http") for r in results)
    for item in items:
        NORMALIZE.process_item(item)


@pytest.mark.parametrize(
    "payload",
    [[], {}, None, 3, "text", {"feed": {"entry": "x"}}, {"feed": {"entry": [None, 1, {"id": 5}]}},
     {"post_stream": {"posts": [{"id": "x", "cooked": None}], "stream": "no"}}, {"latest_posts": {"a": 1}},
     {"posts": [{"id": None}], "topics": []}, [{"results": [{"url": None}]}], {"cooked": 5}],
)  # fmt: skip
def test_odd_json_is_reported_not_raised(payload: object) -> None:
    body = json.dumps(payload).encode()
    for kind in ("discourse", "appstore"):
        kwargs = {"country": "url", "page": 1} if kind == "appstore" else {}
        results = _parse(kind, body, kwargs, html=False)
        assert all(isinstance(r, MentionItem | Request) for r in results)


@given(
    st.builds(
        MentionItem,
        url=st.text(max_size=60),
        body=st.text(max_size=200),
        body_format=st.sampled_from(["html", "text"]),
        title=st.none() | st.text(max_size=40),
        author=st.none() | st.text(max_size=20),
        published=st.none() | st.text(max_size=30) | st.datetimes(timezones=st.none() | st.just(UTC)),
        rating=st.none() | st.text(max_size=6) | st.floats(allow_nan=True),
        rating_best=st.none() | st.text(max_size=6) | st.integers(-5, 200),
    )
)
@settings(max_examples=150, deadline=None)
def test_normalize_never_raises_on_odd_fields(item: MentionItem) -> None:
    try:
        result = NORMALIZE.process_item(item)
    except DropItem:
        return
    assert result.text and "  " not in result.text
    assert result.published_at is None or result.published_at.tzinfo is not None
    if result.rating is not None:
        assert result.rating_worst is not None and result.rating_best is not None
        assert result.rating_worst <= result.rating <= result.rating_best


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(b"120", 120.0), ("0", 0.0), (b"Wed, 25 Nov 2026 12:00:30 GMT", 30.0), (b"Wed, 25 Nov 2026 11:00:00 GMT", 0.0),
     (b"soon", None), (None, None), (b"-5", None)],
)  # fmt: skip
def test_retry_after_header(header: bytes | str | None, seconds: float | None) -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert retry_after_seconds(header, now=now) == seconds
