"""Hacker News through the Algolia search API (`/api/v1/search_by_date`).

A hit is a story or a comment; comment and story texts are HTML with entities
(`&#x27;`). Pages are numbered from 0; the reply says how many there are.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from crawlers.items import MentionItem
from crawlers.parsers.common import (
    ApiModel,
    Page,
    UtcTime,
    load_json,
    read_each,
    validate,
)

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
