"""`googleplay`: an app's Google Play reviews, newest first, through the web store's
`batchexecute` RPC (`UsvDTd`), as the Play Store page itself loads them.

Config: `options.app_id` (required, e.g. `pl.acme.shop`), `options.languages` (`hl`,
default `["en"]`) and `options.countries` (`gl`, default `["us"]`): the store shows the
reviews written in a language and country; each pair is a listing with its own cursor.
Pages of 100 chain by a token; paging stops at a known review. No key; this is not a published API, so its shape may change (the parser
skips what it cannot read, with the reason) and heavy use gets HTTP 429.

Google Play reviews from the web store's `batchexecute` RPC `UsvDTd`.

The reply is not plain JSON: it starts with the anti-hijacking prefix `)]}'`, then
either one JSON array of envelopes or, with `rt=c`, several arrays each preceded by
its length. The envelope `["wrb.fr", "UsvDTd", "<JSON text>", ...]` carries the
reviews as a JSON *string* of nested positional arrays:

    [[review, ...], [null, "<next page token>"]]
    review = [id, [author, ...], stars, null, text, [unix seconds, nanos],
              thumbs up, [null, developer reply, [seconds]], ..., app version, ...]

Positions are read defensively: a review whose shape moved is skipped, not guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
import json
from typing import Any
from urllib.parse import urlencode

from pydantic import Field
from scrapy.http import Request, Response

from crawlers.items import MentionItem
from crawlers.parsers.common import ApiModel, Page, ParseError, UtcTime, read_each
from crawlers.sources import SourceKind, SourceOptions
from crawlers.spiders.newest_first import NewestFirstSpider


RPC_ID = "UsvDTd"
XSSI_PREFIX = ")]}'"
STORE = "https://play.google.com/store/apps/details"


class Review(ApiModel):
    id: str = Field(min_length=1)
    author: str | None = None
    stars: int = Field(ge=1, le=5)
    text: str | None = None
    time: UtcTime


def at(value: Any, *path: int) -> Any:
    """`value[i][j]...`, or None where a position is missing or not a list."""
    for index in path:
        if not isinstance(value, list) or not -len(value) <= index < len(value):
            return None
        value = value[index]
    return value


def envelopes(body: str) -> Iterator[list[Any]]:
    """Every top-level envelope of a batchexecute reply, in either framing."""
    text = body.removeprefix(XSSI_PREFIX)
    decoder = json.JSONDecoder()
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        try:
            chunk, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise ParseError(f"not a batchexecute reply: {exc}") from exc
        # In the length-prefixed framing the numbers are byte counts, not data.
        if isinstance(chunk, list):
            yield from (entry for entry in chunk if isinstance(entry, list))


def rpc_payload(body: str, rpc_id: str = RPC_ID) -> Any:
    """The decoded JSON that the `wrb.fr` envelope of `rpc_id` carries as a string."""
    for entry in envelopes(body):
        if at(entry, 0) == "wrb.fr" and at(entry, 1) == rpc_id:
            payload = at(entry, 2)
            if not isinstance(payload, str):
                raise ParseError(f"the {rpc_id} reply carries no data (error code {at(entry, 5)!r})")
            try:
                return json.loads(payload)
            except json.JSONDecodeError as exc:
                raise ParseError(f"the {rpc_id} payload is not JSON: {exc}") from exc
    raise ParseError(f"no {rpc_id} reply in the batchexecute body")


def _review_fields(entry: Any) -> dict[str, Any]:
    return {"id": at(entry, 0), "author": at(entry, 1, 0), "stars": at(entry, 2), "text": at(entry, 4), "time": at(entry, 5, 0)}


def review_url(app_id: str, review_id: str) -> str:
    return f"{STORE}?{urlencode({'id': app_id, 'reviewId': review_id})}"


def parse_reviews(body: bytes | str, *, app_id: str) -> Page:
    """One page of an app's reviews, 1-5 stars; `next` is the page token, None on the last page."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    payload = rpc_payload(text)
    reviews = at(payload, 0)
    if not isinstance(payload, list) or (reviews is not None and not isinstance(reviews, list)):
        raise ParseError("not a review list: the payload is not [[review, ...], [null, token]]")

    def build(review: Review) -> Iterator[MentionItem]:
        yield MentionItem(
            url=review_url(app_id, review.id),
            body=review.text or "",
            external_id=review.id,
            author=review.author,
            published=review.time,
            rating=review.stars,
            rating_best=5,
            rating_worst=1,
        )

    mentions, skipped = read_each(map(_review_fields, reviews or []), Review, build)
    token = at(payload, 1, 1)
    return Page(mentions, next=token if isinstance(token, str) and token else None, skipped=skipped)


PAGE_SIZE = 100
SORT_NEWEST = 2
FORM = {"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"}


def reviews_form(app_id: str, token: str | None, *, count: int = PAGE_SIZE) -> str:
    """The `f.req` form body asking for one page of reviews (the first when `token` is None)."""
    arguments = [None, None, [2, SORT_NEWEST, [count, None, token], None, [None, None]], [app_id, 7]]
    return urlencode({"f.req": json.dumps([[[RPC_ID, json.dumps(arguments), None, "generic"]]])})


class Options(SourceOptions):
    app_id: str
    # The store shows the reviews written in a language (`hl`) in a country (`gl`).
    languages: list[str] = ["en"]
    countries: list[str] = ["us"]


class GooglePlaySpider(NewestFirstSpider):
    source_type = "googleplay"
    default_base_url = "https://play.google.com"
    options: Options

    def first_requests(self) -> Iterable[Request]:
        """One listing per language and country, each with its own cursor."""
        for language in self.options.languages:
            for country in self.options.countries:
                query = {"rpcids": RPC_ID, "hl": language, "gl": country}
                url = self.api_url(f"/_/PlayStoreUi/data/batchexecute?{urlencode(query)}")
                yield self.request(url, self.parse, **self.form(None, mark_key=f"{self.options.app_id} {language}-{country}"))

    def form(self, token: str | None, *, mark_key: str) -> dict[str, Any]:
        """The POST of one page of reviews, as keyword arguments of a request."""
        body = reviews_form(self.options.app_id, token)
        return {"method": "POST", "body": body, "headers": FORM, "cb_kwargs": {"mark_key": mark_key}}

    def read(self, response: Response) -> Page:
        return parse_reviews(response.body, app_id=self.options.app_id)

    def next_request(self, response: Response, page: Page) -> Request | None:
        """The same URL again; the page is chosen by the token in the form."""
        assert response.request is not None
        form = self.form(page.next, mark_key=response.request.cb_kwargs["mark_key"])
        return self.follow_page(response, response.url, self.parse, **form)


KIND = SourceKind("googleplay", Options, GooglePlaySpider, reads=frozenset(), owned=True)
