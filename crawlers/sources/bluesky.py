"""`bluesky`: posts found by Bluesky's post search, `app.bsky.feed.searchPosts`.

`search` terms are queried with `sort=latest`, paged by `cursor`; after the first clean
run only posts since the last one seen are asked for (`since=`). `base_url` defaults to
the public AppView, https://public.api.bsky.app, which may refuse search to anonymous
callers: then point `base_url` at your PDS (https://bsky.social) and set
`options.token_env` to an environment variable holding a session's access token. The
AppView allows 3,000 requests per 5 minutes per IP.

Bluesky post search: the `app.bsky.feed.searchPosts` XRPC method.

A post is named by an AT URI, `at://<author DID>/app.bsky.feed.post/<record key>`; the
page people open is `https://bsky.app/profile/<handle>/post/<record key>`, where a DID
stands in for a handle that is unknown or invalid. `createdAt` is written by the
posting client and may be anything, so a post's time is never later than the server's
`indexedAt`.
Pages chain by an opaque `cursor`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from pydantic import AfterValidator, Field
from scrapy.http import Response

from crawlers.items import MentionItem
from crawlers.parsers.common import ApiModel, Page, ParseError, UtcTime, load_json, read_each, utc_or_none, validate
from crawlers.sources import SourceKind, TokenOptions
from crawlers.spiders.newest_first import NewestFirstSpider


APP = "https://bsky.app"
POST_COLLECTION = "app.bsky.feed.post"
INVALID_HANDLE = "handle.invalid"


def _post_uri(value: str) -> str:
    author, collection, key = split_post_uri(value)
    if not (author and collection == POST_COLLECTION and key):
        raise ValueError(f"not an AT URI of a post: {value!r}")
    return value


PostUri = Annotated[str, AfterValidator(_post_uri)]


class Author(ApiModel):
    did: str
    handle: str | None = None


class StrongRef(ApiModel):
    uri: PostUri


class ReplyRef(ApiModel):
    root: StrongRef
    parent: StrongRef


class Record(ApiModel):
    text: str = ""
    created_at: Any = Field(default=None, alias="createdAt")
    reply: ReplyRef | None = None


class PostView(ApiModel):
    uri: PostUri
    author: Author
    record: Record
    indexed_at: UtcTime | None = Field(default=None, alias="indexedAt")


class SearchReply(ApiModel):
    posts: list[object]
    cursor: str | None = None


def split_post_uri(uri: str) -> tuple[str, str, str]:
    """(authority, collection, record key) of an AT URI; empty strings where it has none."""
    parts = uri.removeprefix("at://").split("/") if uri.startswith("at://") else []
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else ("", "", "")


def post_url(uri: str, handle: str | None = None) -> str:
    """The bsky.app page of a post; the author's DID stands in for a missing handle."""
    did, _, key = split_post_uri(uri)
    profile = handle if handle and handle != INVALID_HANDLE else did
    return f"{APP}/profile/{profile}/post/{key}"


def _published(post: PostView) -> datetime | None:
    """The earlier of `createdAt` and `indexedAt`: what Bluesky itself sorts search by
    ("sortAt"), and a wrong client clock cannot date a post in the future."""
    created = utc_or_none(post.record.created_at)
    if created is None or post.indexed_at is None:
        return created or post.indexed_at
    return min(created, post.indexed_at)


def post_mentions(post: PostView) -> Iterator[MentionItem]:
    reply = post.record.reply
    yield MentionItem(
        url=post_url(post.uri, post.author.handle),
        body=post.record.text,
        external_id=post.uri,
        author=post.author.handle if post.author.handle != INVALID_HANDLE else post.author.did,
        published=_published(post),
        thread_url=post_url(reply.root.uri) if reply else None,
        parent_url=post_url(reply.parent.uri) if reply else None,
    )


def parse_search(body: bytes | str) -> Page:
    """One page of `searchPosts`; `next` is the cursor, None once a page comes back empty.

    An XRPC error reply (`{"error": ..., "message": ...}`) raises ParseError with both.
    """
    data = load_json(body)
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        raise ParseError(f"XRPC error {data['error']}: {data.get('message')}")
    reply = validate(SearchReply, data, "a searchPosts reply")
    mentions, skipped = read_each(reply.posts, PostView, post_mentions)
    return Page(mentions, next=reply.cursor if reply.posts else None, skipped=skipped)


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
        return parse_search(response.body)


KIND = SourceKind("bluesky", TokenOptions, BlueskySpider, reads=frozenset({"search"}))
