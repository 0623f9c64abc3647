"""`trustpilot`: a business's review pages (`https://www.trustpilot.com/review/DOMAIN`).

The pages are Next.js: `<script id="__NEXT_DATA__">` holds `props.pageProps.reviews`
and the pager (`filters.pagination`); see shared/fixtures/trustpilot/SOURCES.md. Where
that script is missing, the page's schema.org reviews are read instead. Reviews are
newest-first (`sort=recency`), so paging stops at the first page that reaches a review
the last run saw. The business's replies are not mentions and are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from scrapy.http import Request, Response, TextResponse
from w3lib.url import add_or_replace_parameters

from crawlers.dates import parse_time
from crawlers.items import MentionItem
from crawlers.sources import SourceKind, SourceOptions
from crawlers.sources.schemaorg import reviews_in_page
from crawlers.spiders.base import MentionSpider, dig


class TrustpilotSpider(MentionSpider):
    source_type = "trustpilot"

    def first_requests(self) -> Iterable[Request]:
        for url in self.source.urls:
            first = add_or_replace_parameters(url, {"sort": "recency", "page": "1"})
            yield self.request(first, self.parse, cb_kwargs={"listing_url": url, "page": 1})

    def parse(self, response: Response, listing_url: str = "", page: int = 1) -> Iterable[Any]:
        self.page_seen(response)
        if not isinstance(response, TextResponse):
            self.problem(response, "not an HTML page")
            return
        script = response.css("script#__NEXT_DATA__::text").get()
        if script is None:
            yield from self.schemaorg_fallback(response, listing_url)
            return
        try:
            props = dig(json.loads(script), "props", "pageProps", default={})
        except ValueError as exc:
            self.problem(response, f"__NEXT_DATA__ is not JSON: {exc}")
            return
        reviews = dig(props, "reviews", default=[])
        built = (self.review_item(response, review, listing_url) for review in (reviews if isinstance(reviews, list) else []))
        items = [item for item in built if item is not None]
        _, reached_known = self.fresh(items, lambda item: parse_time(item.published, zone=self.job.timezone), listing_url)
        yield from items  # known ones too: the page is fetched anyway, and an edit shows
        total_pages = dig(props, "filters", "pagination", "totalPages", default=1)
        if not reached_known and isinstance(total_pages, int) and page < total_pages:
            next_url = add_or_replace_parameters(listing_url, {"sort": "recency", "page": str(page + 1)})
            request = self.follow_page(response, next_url, self.parse, cb_kwargs={"listing_url": listing_url, "page": page + 1})
            if request is not None:
                yield request

    def review_item(self, response: Response, review: Any, listing_url: str) -> MentionItem | None:
        review_id, text = dig(review, "id"), dig(review, "text")
        if not isinstance(review_id, str) or not isinstance(text, str):
            self.problem(response, f"review without id or text: {str(review)[:80]!r}")
            return None
        return MentionItem(
            url=response.urljoin(f"/reviews/{review_id}"),
            body=text,
            external_id=review_id,
            title=dig(review, "title"),
            author=dig(review, "consumer", "displayName"),
            published=dig(review, "dates", "publishedDate"),
            thread_url=listing_url,
            rating=dig(review, "rating"),
            rating_best=5,
            rating_worst=1,
        )

    def schemaorg_fallback(self, response: TextResponse, listing_url: str) -> Iterable[MentionItem]:
        reviews = reviews_in_page(response.text, response.url)
        if not reviews:
            self.problem(response, "neither __NEXT_DATA__ nor schema.org reviews on the page")
        for review in reviews:
            yield review.item(listing_url)


KIND = SourceKind("trustpilot", SourceOptions, TrustpilotSpider, reads=frozenset({"urls"}), owned=True)
