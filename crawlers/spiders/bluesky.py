"""`bluesky`: posts found by Bluesky's post search, `app.bsky.feed.searchPosts`.

`search` terms are queried with `sort=latest`, paged by `cursor`; after the first clean
run only posts since the last one seen are asked for (`since=`). `base_url` defaults to
the public AppView, https://public.api.bsky.app, which may refuse search to anonymous
callers: then point `base_url` at your PDS (https://bsky.social) and set
`options.token_env` to an environment variable holding a session's access token. The
AppView allows 3,000 requests per 5 minutes per IP.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from scrapy.http import Response

from crawlers.parsers import bluesky
from crawlers.parsers.common import Page
from crawlers.spiders.newest_first import NewestFirstSpider

PAGE_SIZE = 100


class BlueskySpider(NewestFirstSpider):
    source_type = "bluesky"
    default_base_url = "https://public.api.bsky.app"
    # XRPC explains a bad request in a JSON body ({"error": ..., "message": ...}).
    explained_statuses = (400,)
    next_parameter = "cursor"

    def search_url(self, term: str) -> str:
        query: dict[str, Any] = {"q": term, "sort": "latest", "limit": PAGE_SIZE}
        since = self.saved_mark(term)
        if since is not None:
            query["since"] = since.isoformat().replace("+00:00", "Z")
        return self.api_url(f"/xrpc/app.bsky.feed.searchPosts?{urlencode(query)}")

    def read(self, response: Response) -> Page:
        return bluesky.parse_search(response.body)
