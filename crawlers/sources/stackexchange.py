"""`stackexchange`: questions from a Stack Exchange site through the API 2.3.

`search` terms go to `/2.3/search/advanced?q=TERM&site=SITE&sort=creation&filter=withbody`
(`options.site`, default `stackoverflow`; `ru.stackoverflow`, `superuser`, ...), newest
first, paged by `page`; after the first clean run only questions since the last one seen
are asked for (`fromdate=`). Without a key an IP may make 300 requests a day; an app key
(`options.key`, public by design, so it lives in the config) raises that to 10,000. The
spider waits the `backoff` seconds the API asks for before the next page, and stops
paging when `quota_remaining` is spent. Replies are gzip-compressed, always.

The Stack Exchange API 2.3: question search (`/2.3/search/advanced?filter=withbody`).

Every reply is the common wrapper: `items`, `has_more`, `quota_remaining` (requests
left today for this IP or key) and, when the API is under load, `backoff`: seconds to
wait before calling the same method again, which the spider must honour. An error
comes in the same wrapper as `error_id`/`error_name`/`error_message`. Titles and
bodies are HTML; times are Unix seconds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from pydantic import Field
from scrapy.http import Request, Response
from scrapy.utils.asyncio import sleep

from crawlers.items import MentionItem
from crawlers.parsers.common import ApiModel, Page, ParseError, UtcTime, WebUrl, load_json, read_each, validate
from crawlers.sources import SourceKind, SourceOptions
from crawlers.spiders.newest_first import NewestFirstSpider


class Owner(ApiModel):
    display_name: str | None = None


class Question(ApiModel):
    question_id: int
    link: WebUrl
    title: str
    creation_date: UtcTime
    body: str = ""
    owner: Owner | None = None


class Wrapper(ApiModel):
    items: list[object] = Field(default_factory=list)
    has_more: bool = False
    quota_remaining: int | None = None
    backoff: int | None = None
    error_id: int | None = None
    error_name: str | None = None
    error_message: str | None = None


@dataclass
class WrapperPage(Page):
    """A page plus what the wrapper says about the quota and the pace."""

    quota_remaining: int | None = None
    backoff: int | None = None


def question_mentions(question: Question) -> Iterator[MentionItem]:
    yield MentionItem(
        url=question.link,
        body=question.body or question.title,
        body_format="html",
        external_id=f"q{question.question_id}",
        title=question.title,
        author=question.owner.display_name if question.owner else None,
        published=question.creation_date,
    )


def parse_search(body: bytes | str, *, page: int = 1) -> WrapperPage:
    """One page of questions; `next` is the next page number while `has_more`.

    An error reply raises ParseError with the API's own name and message for it.
    """
    wrapper = validate(Wrapper, load_json(body), "a Stack Exchange API reply")
    if wrapper.error_id is not None:
        raise ParseError(f"Stack Exchange error {wrapper.error_id} {wrapper.error_name}: {wrapper.error_message}")
    mentions, skipped = read_each(wrapper.items, Question, question_mentions)
    return WrapperPage(
        mentions,
        next=str(page + 1) if wrapper.has_more else None,
        skipped=skipped,
        quota_remaining=wrapper.quota_remaining,
        backoff=wrapper.backoff,
    )


PAGE_SIZE = 100


class Options(SourceOptions):
    site: str = "stackoverflow"
    # An app key is public by design, so it lives in the config itself.
    key: str | None = None


class StackExchangeSpider(NewestFirstSpider):
    source_type = "stackexchange"
    options: Options
    default_base_url = "https://api.stackexchange.com"
    # Errors (a bad parameter, a throttle violation) come as HTTP 400 with the wrapper.
    explained_statuses = (400,)
    next_parameter = "page"

    def search_url(self, term: str) -> str:
        query: dict[str, Any] = {
            "q": term,
            "site": self.options.site,
            "sort": "creation",
            "order": "desc",
            "filter": "withbody",
            "pagesize": PAGE_SIZE,
            "page": 1,
        }
        if self.options.key:
            query["key"] = self.options.key
        since = self.saved_mark(term)
        if since is not None:
            query["fromdate"] = int(since.timestamp())
        return self.api_url(f"/2.3/search/advanced?{urlencode(query)}")

    def read(self, response: Response) -> WrapperPage:
        page = int(parse_qs(urlsplit(response.url).query).get("page", ["1"])[0])
        return parse_search(response.body, page=page)

    async def parse(self, response: Response, mark_key: str) -> AsyncIterator[MentionItem | Request]:  # type: ignore[override]
        """The page's fresh questions; the next page after the backoff the API asked for."""
        page = self.read_page(response, self.read)
        if page is None:
            return
        if page.quota_remaining == 0 and page.next:
            self.logger.warning("source=%s url=%s: the daily API quota is spent; stopping here", self.name, response.url)
            page.next = None
        for entry in self.listing(response, page, mark_key=mark_key):
            if isinstance(entry, Request) and page.backoff:
                self.logger.info("source=%s: the API asks to wait %ss before the next page", self.name, page.backoff)
                await sleep(page.backoff)
            yield entry


KIND = SourceKind("stackexchange", Options, StackExchangeSpider, reads=frozenset({"search"}))
