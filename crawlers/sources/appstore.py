"""`appstore`: App Store customer reviews from the iTunes customer-reviews RSS (JSON).

Config: `options.app_id` (required) and `options.countries` (default `["us"]`); the
API root is `base_url`, default https://itunes.apple.com. The feed gives 50 reviews a
page, newest first, at most 10 pages; paging stops at the first page that holds a
review id the last run saw (the cursor is kept per country), or one that is not full. Quirks handled: a page with one review has `entry` as an object, an
empty one has no `entry`, and older feeds put the app itself first (no rating).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from scrapy.http import Request, Response

from crawlers.items import MentionItem
from crawlers.sources import SourceKind, SourceOptions
from crawlers.spiders.base import JsonApiSpider, dig

if TYPE_CHECKING:
    from mentionwatch.config import Source

# Apple serves no more than this many pages of reviews, of this many each.
APPLE_MAX_PAGES = 10
APPLE_PAGE_SIZE = 50


def _label(entry: Any, *path: str) -> str | None:
    value = dig(entry, *path, "label")
    return str(value) if value not in (None, "") else None


class Options(SourceOptions):
    app_id: str | None = None
    countries: list[str] = ["us"]


class AppStoreSpider(JsonApiSpider):
    source_type = "appstore"
    default_base_url = "https://itunes.apple.com"
    options: Options

    def page_url(self, country: str, page: int) -> str:
        return self.api_url(f"/{country}/rss/customerreviews/page={page}/id={self.options.app_id}/sortby=mostrecent/json")

    def first_requests(self) -> Iterable[Request]:
        for url in self.source.urls:
            yield self.request(url, self.parse, cb_kwargs={"country": "url", "page": 1})
        if self.options.app_id:
            for country in self.options.countries:
                yield self.request(self.page_url(country, 1), self.parse, cb_kwargs={"country": country, "page": 1})

    def parse_json(self, response: Response, data: Any, **kwargs: Any) -> Iterable[Any]:
        country, page = str(kwargs["country"]), int(kwargs["page"])
        entries = dig(data, "feed", "entry", default=[])
        entries = [entries] if isinstance(entries, dict) else entries
        if not isinstance(entries, list):
            self.problem(response, "feed.entry is neither a list nor an object")
            return
        reviews: list[MentionItem] = []
        for entry in entries:
            review_id = _label(entry, "id")
            if dig(entry, "im:rating") is None:
                continue  # the app's own entry at the top of older feeds
            if review_id is None or not review_id.isdigit():
                self.problem(response, f"review without a numeric id: {str(entry)[:80]!r}")
                continue
            reviews.append(
                MentionItem(
                    url=f"{dig(entry, 'link', 'attributes', 'href') or response.url}#review-{review_id}",
                    body=_label(entry, "content") or "",
                    external_id=review_id,
                    title=_label(entry, "title"),
                    author=_label(entry, "author", "name"),
                    published=_label(entry, "updated"),
                    rating=_label(entry, "im:rating"),
                    rating_best=5,
                    rating_worst=1,
                )
            )
        _, reached_known = self.fresh(reviews, lambda review: int(str(review.external_id)), country)
        # Known reviews are still yielded: the page is fetched anyway, and an edit shows.
        yield from reviews
        full = len(entries) >= APPLE_PAGE_SIZE
        if full and not reached_known and country != "url" and page < APPLE_MAX_PAGES:
            request = self.follow_page(
                response, self.page_url(country, page + 1), self.parse, cb_kwargs={"country": country, "page": page + 1}
            )
            if request is not None:
                yield request


def _app_or_urls(options: Options, source: Source) -> str | None:
    return None if options.app_id or source.urls else "appstore needs options.app_id or urls of feed pages"


KIND = SourceKind("appstore", Options, AppStoreSpider, reads=frozenset({"urls"}), owned=True, requirement=_app_or_urls)
