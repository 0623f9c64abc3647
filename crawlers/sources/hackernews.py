"""`hackernews`: stories and comments from the Hacker News Algolia search API.

`search` terms go to `/api/v1/search_by_date?query=TERM&tags=(story,comment)`, newest
first, paged by `page`; after the first clean run only items newer than the last one
seen are asked for (`numericFilters=created_at_i>T`). No key; Algolia allows about
10,000 requests an hour per IP. `base_url` defaults to https://hn.algolia.com.

Hacker News through the Algolia search API (`/api/v1/search_by_date`).

A hit is a story or a comment; comment and story texts are HTML with entities
(`&#x27;`). Pages are numbered from 0; the reply says how many there are.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from pydantic import Field
from scrapy.http import Response

from crawlers.items import MentionItem
from crawlers.parsers.common import ApiModel, Page, UtcTime, load_json, read_each, validate
from crawlers.sources import SourceKind, SourceOptions
from crawlers.spiders.newest_first import NewestFirstSpider


ITEM_URL = "https://news.ycombinator.com/item?id={}"


class Hit(ApiModel):
    object_id: str = Field(alias="objectID")
    created_at: UtcTime
    author: str | None = None
    title: str | None = None
    story_text: str | None = None
    comment_text: str | None = None
    story_id: int | None = None
    parent_id: int | None = None
    tags: list[str] = Field(default=[], alias="_tags")


class SearchReply(ApiModel):
    hits: list[object]
    page: int = 0
    nb_pages: int = Field(default=0, alias="nbPages")


def hit_mention(hit: Hit) -> Iterator[MentionItem]:
    """A comment, or a story with its text (or, for a bare link, its title) as the body."""
    url = ITEM_URL.format(hit.object_id)
    if hit.comment_text is not None or "comment" in hit.tags:
        yield MentionItem(
            url=url,
            body=hit.comment_text or "",
            body_format="html",
            external_id=hit.object_id,
            author=hit.author,
            published=hit.created_at,
            thread_url=ITEM_URL.format(hit.story_id) if hit.story_id else None,
            parent_url=ITEM_URL.format(hit.parent_id) if hit.parent_id else None,
        )
    elif hit.title or hit.story_text:
        yield MentionItem(
            url=url,
            body=hit.story_text or hit.title or "",
            body_format="html",
            external_id=hit.object_id,
            title=hit.title,
            author=hit.author,
            published=hit.created_at,
        )


def parse_search(body: bytes | str) -> Page:
    """One page of search hits; `next` is the next page number while there is one."""
    reply = validate(SearchReply, load_json(body), "an Algolia search reply")
    mentions, skipped = read_each(reply.hits, Hit, hit_mention)
    more = reply.page + 1 < reply.nb_pages
    return Page(mentions, next=str(reply.page + 1) if more else None, skipped=skipped)


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
        return parse_search(response.body)


KIND = SourceKind("hackernews", SourceOptions, HackerNewsSpider, reads=frozenset({"search"}))
