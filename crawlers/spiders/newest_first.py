"""The shared base of the API sources that list newest first: Reddit, Hacker News,
Mastodon, Bluesky, Stack Exchange, Google Play and YouTube.

Each of those spiders builds its requests and hands the body to a pure parser from
`crawlers.parsers`; this base does the rest the same way for all of them:

- a body the parser refuses (`ParseError`) and every item it skipped are logged with
  source, URL and reason (`MentionSpider.problem`), and the crawl goes on;
- the high-water mark is the newest publication time seen, per listing (`mark_key`);
  a mention at or below the last run's mark is known and not yielded again, and a
  page that reached one is the last page fetched;
- secrets come from the environment variable `options.token_env` names, never from the
  config itself, and go into headers, which Scrapy does not log (URLs it does).

A plain search API needs only `search_url(term)`, `read(response)` (its parser) and
`next_parameter` (the query parameter that carries `Page.next`).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar, TypeVar

from scrapy.http import Request, Response
from w3lib.url import add_or_replace_parameter

from crawlers.items import MentionItem
from crawlers.parsers.common import Page, ParseError
from crawlers.spiders.base import Callback, MentionSpider

AnyPage = TypeVar("AnyPage", bound=Page)


class MissingOption(ValueError):
    """The source's config lacks what this type needs; the message says what to add."""


class NewestFirstSpider(MentionSpider):
    # Statuses whose body is still read: the APIs explain refusals (a spent quota, a
    # bad parameter) in a JSON error the parser turns into a readable ParseError.
    explained_statuses: ClassVar[tuple[int, ...]] = ()
    # The query parameter that asks a search API for the page after `Page.next`.
    next_parameter: ClassVar[str] = ""

    async def start(self) -> AsyncIterator[Request]:
        try:
            requests = list(self.first_requests())
        except MissingOption as exc:
            self.count_error("config")
            self.logger.error("source=%s: not crawled: %s", self.name, exc)
            return
        for request in requests:
            yield request

    def first_requests(self) -> Iterable[Request]:
        for term in self.source.search:
            yield self.request(self.search_url(term), self.parse, cb_kwargs={"mark_key": term})

    def request(self, url: str, callback: Callback, **kwargs: Any) -> Request:
        kwargs["headers"] = {**self.api_headers, **kwargs.get("headers", {})}
        if self.explained_statuses:
            meta = kwargs.setdefault("meta", {})
            meta.setdefault("handle_httpstatus_list", list(self.explained_statuses))
        return super().request(url, callback, **kwargs)

    @cached_property
    def api_headers(self) -> dict[str, str]:
        """Headers of every request; by default a bearer token from `options.token_env`, if set."""
        token = self.secret()
        return {"Authorization": f"Bearer {token}"} if token else {}

    def secret(self) -> str | None:
        """The value of the environment variable that `options.token_env` names, if it names one.

        The config check makes sure a type that needs a secret names its variable (types
        that never send one have no `token_env`); whether it is set can only be known in
        the process that crawls.
        """
        variable = getattr(self.options, "token_env", None)
        if not variable:
            return None
        value = os.environ.get(variable)
        if not value:
            raise MissingOption(f"the environment variable {variable} (options.token_env) is not set")
        return value

    def read(self, response: Response) -> Page:
        """The page a search response holds: the type's parser applied to it."""
        raise NotImplementedError

    def parse(self, response: Response, mark_key: str) -> Iterator[MentionItem | Request]:
        """A page of search results: its fresh mentions, then the next page."""
        page = self.read_page(response, self.read)
        if page is not None:
            yield from self.listing(response, page, mark_key=mark_key)

    def next_url(self, response: Response, page: Page) -> str | None:
        """The URL of the page after `page`: this one's with `next_parameter` set to `page.next`."""
        return add_or_replace_parameter(response.url, self.next_parameter, page.next) if page.next else None

    def read_page(self, response: Response, parse: Callable[[Response], AnyPage]) -> AnyPage | None:
        """`parse(response)`, with its refusal or skipped items logged; None when refused."""
        self.page_seen(response)
        try:
            page = parse(response)
        except ParseError as exc:
            status = f"HTTP {response.status}: " if response.status >= 400 else ""
            self.problem(response, f"{status}{exc}")
            return None
        for reason in page.skipped:
            self.problem(response, reason)
        return page

    def saved_mark(self, mark_key: str) -> datetime | None:
        """The newest time the last clean run saw in this listing, for APIs that filter by it."""
        saved = self.mark(mark_key).saved
        return saved if isinstance(saved, datetime) else None

    def listing(self, response: Response, page: Page, *, mark_key: str) -> Iterator[MentionItem | Request]:
        """The fresh mentions of a page, then the next page unless this one reached known ground."""
        mentions, reached_known = self.fresh(page.mentions, _published, mark_key)
        yield from mentions
        if not reached_known and page.next:
            following = self.next_request(response, page)
            if following is not None:
                yield following

    def next_request(self, response: Response, page: Page) -> Request | None:
        """The request of the page after `page`, to the same callback with the same arguments."""
        request = response.request
        assert request is not None and request.callback is not None
        return self.follow_page(response, self.next_url(response, page), request.callback, cb_kwargs=request.cb_kwargs)


def _published(mention: MentionItem) -> datetime | None:
    return mention.published if isinstance(mention.published, datetime) else None
