"""`googleplay`: an app's Google Play reviews, newest first, through the web store's
`batchexecute` RPC (`UsvDTd`), as the Play Store page itself loads them.

Config: `options.app_id` (required, e.g. `pl.acme.shop`), `options.language` (`hl`,
default `en`) and `options.country` (`gl`, default `us`): the store shows the reviews
written in that language and country. Pages of 100 chain by a token; paging stops at a
known review. No key; this is not a published API, so its shape may change (the parser
skips what it cannot read, with the reason) and heavy use gets HTTP 429.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from scrapy.http import Request, Response

from crawlers.parsers import googleplay
from crawlers.parsers.common import Page
from crawlers.spiders.newest_first import NewestFirstSpider

PAGE_SIZE = 100
SORT_NEWEST = 2
FORM = {"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"}


def reviews_form(app_id: str, token: str | None, *, count: int = PAGE_SIZE) -> str:
    """The `f.req` form body asking for one page of reviews (the first when `token` is None)."""
    arguments = [None, None, [2, SORT_NEWEST, [count, None, token], None, [None, None]], [app_id, 7]]
    return urlencode({"f.req": json.dumps([[[googleplay.RPC_ID, json.dumps(arguments), None, "generic"]]])})


class GooglePlaySpider(NewestFirstSpider):
    source_type = "googleplay"
    default_base_url = "https://play.google.com"

    def first_requests(self) -> Iterable[Request]:
        yield self.request(self.reviews_url(), self.parse, **self.form(token=None))

    def reviews_url(self) -> str:
        options = self.source.options
        query = {"rpcids": googleplay.RPC_ID, "hl": options.get("language", "en"), "gl": options.get("country", "us")}
        return self.api_url(f"/_/PlayStoreUi/data/batchexecute?{urlencode(query)}")

    def form(self, token: str | None) -> dict[str, Any]:
        """The POST of one page of reviews, as keyword arguments of a request."""
        app_id = str(self.option("app_id"))
        return {"method": "POST", "body": reviews_form(app_id, token), "headers": FORM, "cb_kwargs": {"mark_key": app_id}}

    def read(self, response: Response) -> Page:
        return googleplay.parse_reviews(response.body, app_id=str(self.option("app_id")))

    def next_request(self, response: Response, page: Page) -> Request | None:
        return self.follow_page(response, self.reviews_url(), self.parse, **self.form(token=page.next))
