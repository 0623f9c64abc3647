"""`schemaorg`: any page whose reviews are marked up as schema.org Review objects.

JSON-LD, microdata and RDFa are all read (extruct, uniform output); a review marked up
twice (JSON-LD and microdata) is yielded once. Pagination follows rel=next, then the
page's numbered pager links. Pages list reviews newest-first on nearly every shop, so
paging stops at the first page with nothing newer than the last run saw.

AggregateRating alone is not a mention (nobody said anything); it is only logged.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import extruct
from scrapy.http import Request, Response, TextResponse

from crawlers.dates import parse_time
from crawlers.items import MentionItem
from crawlers.sources import SourceKind, SourceOptions
from crawlers.spiders.base import MentionSpider

REVIEW_TYPES = frozenset({"Review", "UserReview", "CriticReview", "EmployerReview", "Comment"})
_PAGER = re.compile(r"pag(?:er|ination|ing)|page-?nav", re.IGNORECASE)


def _types(obj: dict[str, Any]) -> set[str]:
    value = obj.get("@type")
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1] for v in values if v}


def _walk(obj: Any) -> Iterator[dict[str, Any]]:
    """Every object in extruct's output, however deeply nested (reviews sit in products)."""
    if isinstance(obj, dict):
        yield obj
        for value in obj.values():
            yield from _walk(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _walk(value)


def _text(value: Any) -> str | None:
    """A schema.org text property: a string, a {name/@value} object, or a list of those."""
    if isinstance(value, list):
        value = next((v for v in value if v), None)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("text")
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = str(value).strip()
        return text or None
    return None


@dataclass(frozen=True)
class Review:
    """One schema.org review, with only what a mention needs."""

    body: str
    author: str | None
    published: str | None
    title: str | None
    rating: Any
    best: Any
    worst: Any
    url: str | None

    @property
    def key(self) -> str:
        """Stable over edits of the text where the page gives author or date."""
        basis = f"{self.author}|{self.published}" if (self.author or self.published) else self.body
        return hashlib.sha1(basis.encode()).hexdigest()[:16]

    def item(self, listing_url: str) -> MentionItem:
        """The mention; reviews without their own URL get an anchor on the listing."""
        return MentionItem(
            url=self.url or f"{listing_url}#review-{self.key}",
            body=self.body,
            body_format="html" if "<" in self.body else "text",
            external_id=self.url or self.key,
            title=self.title,
            author=self.author,
            published=self.published,
            thread_url=listing_url,
            rating=self.rating,
            rating_best=self.best,
            rating_worst=self.worst,
        )


def syntaxes_in(html: str) -> list[str]:
    """The structured-data syntaxes a page can hold: a cheap look that spares extruct's
    RDFa parser (most of its time) on the many pages without any RDFa."""
    markers = {"json-ld": "application/ld+json", "microdata": "itemscope", "rdfa": "typeof="}
    return [syntax for syntax, marker in markers.items() if marker in html]


def reviews_in_page(html: str, url: str) -> list[Review]:
    """Every distinct Review in the page's structured data, in page order."""
    syntaxes = syntaxes_in(html)
    data = extruct.extract(html, base_url=url, syntaxes=syntaxes, uniform=True, errors="ignore") if syntaxes else {}
    seen: set[tuple[str | None, str | None, str]] = set()
    reviews: list[Review] = []
    for objects in data.values():
        for obj in _walk(objects):
            if not _types(obj) & REVIEW_TYPES:
                continue
            body = _text(obj.get("reviewBody")) or _text(obj.get("description")) or _text(obj.get("text"))
            if not body:
                continue
            rating: dict[str, Any] = value if isinstance(value := obj.get("reviewRating"), dict) else {}
            review = Review(
                body=body,
                author=_text(obj.get("author")),
                published=_text(obj.get("datePublished")) or _text(obj.get("dateCreated")),
                title=_text(obj.get("name")) or _text(obj.get("headline")),
                rating=_text(rating.get("ratingValue")),
                best=_text(rating.get("bestRating")),
                worst=_text(rating.get("worstRating")),
                url=_text(obj.get("url")) or (_text(obj.get("@id")) if str(obj.get("@id", "")).startswith("http") else None),
            )
            identity = (review.author, review.published, " ".join(body.split())[:200])
            if identity not in seen:
                seen.add(identity)
                reviews.append(review)
    return reviews


def has_aggregate_rating(html: str) -> bool:
    return '"AggregateRating"' in html or "schema.org/AggregateRating" in html


class SchemaOrgSpider(MentionSpider):
    source_type = "schemaorg"

    def first_requests(self) -> Iterable[Request]:
        for url in self.source.urls:
            yield self.request(url, self.parse, cb_kwargs={"listing_url": url})

    def parse(self, response: Response, listing_url: str = "") -> Iterable[Any]:
        self.page_seen(response)
        if not isinstance(response, TextResponse):
            self.problem(response, "not an HTML page")
            return
        reviews = reviews_in_page(response.text, response.url)
        if not reviews:
            self.report_no_reviews(response)
        new, _ = self.fresh(reviews, lambda review: parse_time(review.published, zone=self.job.timezone), listing_url)
        for review in reviews:
            yield review.item(listing_url or response.url)
        if reviews and not new:
            self.logger.info("source=%s url=%s: no reviews newer than the last run; stop paging", self.name, response.url)
            return
        next_page = self.next_page_url(response)
        request = self.follow_page(response, next_page, self.parse, cb_kwargs={"listing_url": listing_url})
        if request is not None:
            yield request

    def report_no_reviews(self, response: TextResponse) -> None:
        """A product without reviews is normal; structured data that does not parse is not."""
        for script in response.css('script[type="application/ld+json"]::text').getall():
            try:
                json.loads(script)
            except ValueError as exc:
                self.problem(response, f"JSON-LD that does not parse: {exc}")
                return
        what = "only an AggregateRating" if has_aggregate_rating(response.text) else "no schema.org reviews"
        self.logger.info("source=%s url=%s: %s on the page", self.name, response.url, what)

    @staticmethod
    def next_page_url(response: TextResponse) -> str | None:
        """rel=next, else the pager link numbered one above the current page."""
        rel_next = response.css('link[rel~="next"]::attr(href), a[rel~="next"]::attr(href)').get()
        if rel_next:
            return rel_next
        pagers = [el for el in response.css("nav, ul, ol, div") if _PAGER.search(el.xpath("@class").get(""))]
        for pager in pagers:
            current = pager.css('[aria-current="page"]::text, .active ::text, .current ::text, strong::text').re_first(r"\d+")
            wanted = str(int(current) + 1) if current else "2"
            for link in pager.css("a"):
                if link.css("::text").re_first(r"^\s*(\d+)\s*$") == wanted:
                    return link.xpath("@href").get()
        return None


KIND = SourceKind("schemaorg", SourceOptions, SchemaOrgSpider, reads=frozenset({"urls"}), owned=True)
