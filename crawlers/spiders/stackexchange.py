"""`stackexchange`: questions from a Stack Exchange site through the API 2.3.

`search` terms go to `/2.3/search/advanced?q=TERM&site=SITE&sort=creation&filter=withbody`
(`options.site`, default `stackoverflow`; `ru.stackoverflow`, `superuser`, ...), newest
first, paged by `page`; after the first clean run only questions since the last one seen
are asked for (`fromdate=`). Without a key an IP may make 300 requests a day; an app key
(`options.key`, public by design, so it lives in the config) raises that to 10,000. The
spider waits the `backoff` seconds the API asks for before the next page, and stops
paging when `quota_remaining` is spent. Replies are gzip-compressed, always.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from scrapy.http import Request, Response
from scrapy.utils.asyncio import sleep

from crawlers.items import MentionItem
from crawlers.parsers import stackexchange
from crawlers.parsers.stackexchange import WrapperPage
from crawlers.spiders.newest_first import NewestFirstSpider

PAGE_SIZE = 100


class StackExchangeSpider(NewestFirstSpider):
    source_type = "stackexchange"
    default_base_url = "https://api.stackexchange.com"
    # Errors (a bad parameter, a throttle violation) come as HTTP 400 with the wrapper.
    explained_statuses = (400,)
    next_parameter = "page"

    def search_url(self, term: str) -> str:
        query: dict[str, Any] = {
            "q": term,
            "site": self.source.options.get("site", "stackoverflow"),
            "sort": "creation",
            "order": "desc",
            "filter": "withbody",
            "pagesize": PAGE_SIZE,
            "page": 1,
        }
        if self.source.options.get("key"):
            query["key"] = self.source.options["key"]
        since = self.saved_mark(term)
        if since is not None:
            query["fromdate"] = int(since.timestamp())
        return self.api_url(f"/2.3/search/advanced?{urlencode(query)}")

    def read(self, response: Response) -> WrapperPage:
        page = int(parse_qs(urlsplit(response.url).query).get("page", ["1"])[0])
        return stackexchange.parse_search(response.body, page=page)

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
