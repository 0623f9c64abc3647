"""The base classes every source type builds on.

A source type's module (`crawlers.sources.<type>`) holds one subclass of
`MentionSpider` (or `JsonApiSpider` for JSON APIs) that sets `source_type` to the
config's `type` and writes the parse callbacks. The base gives it:

- construction from a `SourceJob` (the configured source, its brand, store ids, cursors)
  and `options`, the source's options read as the type's `Options` model;
- `start_urls_for_source()`: the config's `urls`, or `search` terms through `search_url()`;
- `request()` with an errback that logs and counts download failures (refused
  addresses, oversized responses and redirect loops included, see crawlers.middlewares);
- `follow_page()`: pagination bounded by the source's `max_pages`;
- `problem()`: one broken item or page is logged with source, URL and reason, and skipped;
- `each_item()`: builds a page's items one by one, so one mangled post costs only itself;
- `mark()`: high-water marks (`crawlers.cursors`) saved after a clean run, and
  `fresh()`, the one rule of "stop at what the last run saw";
- `api_url()`: the config's `base_url` override (tests point API sources at loopback).

Spiders yield `crawlers.items.MentionItem`s with raw values; the pipeline cleans them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any, ClassVar, TypeVar
from urllib.parse import urljoin

import scrapy
from scrapy.http import Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawlers.cursors import HighWaterMark, Marker
from crawlers.items import MentionItem
from crawlers.job import SourceJob
from crawlers.middlewares.errors import EgressRefused, SourceRequestFailed
from crawlers.middlewares.retry_after import GAVE_UP_META
from crawlers.sources import SourceOptions, source_kind
from crawlers.stats import PAGES, count_error, count_refusal
from crawlers.urls import is_web_url

Callback = Callable[..., Any]
T = TypeVar("T")
_PAGE_META = "mentionwatch_page"


class MentionSpider(scrapy.Spider):
    """One configured source's crawl; subclasses parse its pages into MentionItems."""

    source_type: ClassVar[str] = ""
    # The API root used when the config gives no `base_url` (API sources only).
    default_base_url: ClassVar[str | None] = None

    def __init__(self, job: SourceJob, **kwargs: Any) -> None:
        super().__init__(name=job.source.name, **kwargs)
        self.job = job
        self.source = job.source
        # Validated with the config already; read again here as the type's model.
        self.options: SourceOptions = source_kind(job.source.type).options.model_validate(job.source.options)
        self._marks: dict[str, HighWaterMark] = {}

    # -- starting ------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Request]:
        for request in self.first_requests():
            yield request

    def first_requests(self) -> Iterable[Request]:
        """One request per configured URL and per search term; override for other shapes."""
        for url in self.start_urls_for_source():
            yield self.request(url, self.parse)

    def start_urls_for_source(self) -> list[str]:
        return [*self.source.urls, *(self.search_url(term) for term in self.source.search)]

    def search_url(self, term: str) -> str:
        raise NotImplementedError(f"source type {self.source_type!r} does not support `search`; list `urls` instead")

    def api_url(self, path: str) -> str:
        """`path` under the config's `base_url`, else under the type's default API root."""
        base = self.source.base_url or self.default_base_url
        if not base:
            raise ValueError(f"source {self.source.name!r} needs base_url")
        return urljoin(base.rstrip("/") + "/", path.lstrip("/"))

    # -- requests ------------------------------------------------------------------
    def request(self, url: str, callback: Callback, **kwargs: Any) -> Request:
        kwargs.setdefault("errback", self.on_download_error)
        return Request(url, callback=callback, **kwargs)

    def follow_page(self, response: Response, url: str | None, callback: Callback, **kwargs: Any) -> Request | None:
        """The next page of a listing, unless there is none, it is no web page, or
        `max_pages` is reached."""
        if not url:
            return None
        absolute = self.web_url(response, url)
        if absolute is None:
            self.problem(response, f"next-page link {url!r} is not an http(s) URL")
            return None
        page = int(response.meta.get(_PAGE_META, 1))
        if page >= self.source.max_pages:
            self.logger.info("source=%s url=%s: stopping at max_pages=%d", self.name, response.url, page)
            return None
        meta = {**kwargs.pop("meta", {}), _PAGE_META: page + 1}
        return self.request(absolute, callback, meta=meta, **kwargs)

    @staticmethod
    def web_url(response: Response, href: str) -> str | None:
        """``href`` made absolute against the page, or None unless it is an http(s) URL.

        A mangled page can hold links urllib refuses ("Invalid IPv6 URL") or that parse as
        some other scheme ("o2026-11-12t12:30" reads as scheme "o2026-11-12t12").
        """
        try:
            url = response.urljoin(href)
        except ValueError:
            return None
        return url if is_web_url(url) else None

    def on_download_error(self, failure: Failure) -> None:
        request: Request = failure.request  # type: ignore[attr-defined]
        if request.meta.get(GAVE_UP_META):
            return  # RetryAfterMiddleware has logged and counted it
        if failure.check(HttpError):
            reason = f"HTTP {failure.value.response.status}"
            kind = "http"
        elif failure.check(SourceRequestFailed):
            reason, kind = str(failure.value), failure.value.kind
            if failure.check(EgressRefused):
                assert self.crawler.stats is not None
                count_refusal(self.crawler.stats, failure.value.refusal.target)
        else:
            reason = f"{type(failure.value).__name__}: {failure.value}"
            kind = "robots" if "robots.txt" in str(failure.value) else "download"
        self.count_error(kind)
        self.logger.warning("source=%s url=%s: not fetched: %s", self.name, request.url, reason)

    # -- parsing -------------------------------------------------------------------
    def page_seen(self, response: Response) -> None:
        """Count a fetched page; call once per page the callback read."""
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(PAGES)

    def problem(self, response: Response, reason: str) -> None:
        """A broken item or page: logged with source, URL and reason, counted, skipped."""
        self.count_error("parse")
        self.logger.warning("source=%s url=%s: skipped: %s", self.name, response.url, reason)

    def each_item(
        self, response: Response, parts: Iterable[T], build: Callable[[T], MentionItem | None], what: str
    ) -> Iterator[MentionItem]:
        """``build(part)`` for every post, entry or review of a page, skipping the ones it
        cannot build. One mangled part (a control character lxml refuses, a link urllib
        cannot parse) is one logged problem; the page's other parts are still stored."""
        for part in parts:
            try:
                item = build(part)
            except ValueError as exc:  # UnicodeError and lxml's and urllib's refusals are ValueErrors
                self.problem(response, f"{what} skipped: {type(exc).__name__}: {exc}")
                continue
            if item is not None:
                yield item

    def count_error(self, kind: str) -> None:
        assert self.crawler.stats is not None
        count_error(self.crawler.stats, kind)

    def json_body(self, response: Response) -> Any | None:
        """The decoded JSON of a response, or None (logged) when it is not JSON."""
        if not isinstance(response, TextResponse):
            self.problem(response, f"expected JSON, got a {type(response).__name__}")
            return None
        try:
            return json.loads(response.text)
        except ValueError as exc:
            self.problem(response, f"not valid JSON: {exc}")
            return None

    # -- cursors -------------------------------------------------------------------
    def mark(self, key: str = "default") -> HighWaterMark:
        if key not in self._marks:
            self._marks[key] = HighWaterMark(self.job.cursors.get(key))
        return self._marks[key]

    def fresh(self, items: Iterable[T], marker: Callable[[T], Marker | None], key: str = "default") -> tuple[list[T], bool]:
        """The items the last clean run did not see, and whether a known one was met.

        An item is known when its marker (an id or a time) is at or below the mark the
        last clean run saved under `key`; the others move the mark. An item without a
        marker counts as new. Listings that run newest first stop paging at a page that
        met a known item.
        """
        mark = self.mark(key)
        new: list[T] = []
        met_known = False
        for item in items:
            value = marker(item)
            if value is not None and mark.is_known(value):
                met_known = True
                continue
            if value is not None:
                mark.see(value)
            new.append(item)
        return new, met_known

    def closed(self, reason: str) -> None:
        for key, mark in self._marks.items():
            if mark.value is not None:
                self.job.new_cursors[key] = mark.value


class JsonApiSpider(MentionSpider):
    """A source read from a JSON API: `parse_json` gets the decoded body, never a broken one."""

    def parse(self, response: Response, **kwargs: Any) -> Iterable[Any]:
        self.page_seen(response)
        data = self.json_body(response)
        if data is None:
            return
        yield from self.parse_json(response, data, **kwargs)

    def parse_json(self, response: Response, data: Any, **kwargs: Any) -> Iterable[Any]:
        raise NotImplementedError


def dig(data: Any, *path: str | int, default: Any = None) -> Any:
    """`data[path[0]][path[1]]...`, or `default` where any step is missing or of the wrong kind.

    API payloads change shape without notice; this keeps a missing field from
    becoming a crash.
    """
    for step in path:
        in_list = isinstance(step, int) and isinstance(data, list) and -len(data) <= step < len(data)
        in_dict = isinstance(step, str) and isinstance(data, dict) and step in data
        if not (in_list or in_dict):
            return default
        data = data[step]  # type: ignore[index]
    return data
