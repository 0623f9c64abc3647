"""`hackernews`: stories and comments from the Hacker News Algolia search API.

`search` terms go to `/api/v1/search_by_date?query=TERM&tags=(story,comment)`, newest
first, paged by `page`; after the first clean run only items newer than the last one
seen are asked for (`numericFilters=created_at_i>T`). No key; Algolia allows about
10,000 requests an hour per IP. `base_url` defaults to https://hn.algolia.com.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from scrapy.http import Response

from crawlers.parsers import hackernews
from crawlers.parsers.common import Page
from crawlers.spiders.newest_first import NewestFirstSpider

PAGE_SIZE = 100


class HackerNewsSpider(NewestFirstSpider):
    source_type = "hackernews"
    default_base_url = "https://hn.algolia.com"
    next_parameter = "page"

    def search_url(self, term: str) -> str:
        query: dict[str, Any] = {"query": term, "tags": "(story,comment)", "hitsPerPage": PAGE_SIZE}
        since = self.saved_mark(term)
        if since is not None:
            query["numericFilters"] = f"created_at_i>{int(since.timestamp())}"
        return self.api_url(f"/api/v1/search_by_date?{urlencode(query)}")

    def read(self, response: Response) -> Page:
        return hackernews.parse_search(response.body)
