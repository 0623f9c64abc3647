"""`vk`: VK (VKontakte) posts found by `newsfeed.search`, and the comments of given posts.

- `search` terms go to `newsfeed.search?q=TERM&extended=1`, newest first, paged by
  `next_from` (sent back as `start_from`); after the first clean run only posts since the
  last one seen are asked for (`start_time=`);
- `urls` of wall posts (`https://vk.com/wall-69459624_482121`) have their comments read
  through `wall.getComments` (newest first, `sort=desc`, paged by `offset`).

Requests go to `{base_url}/method/<name>` (default https://api.vk.com) with `v` =
`options.api_version`. The API needs an access token (a service token of a VK app will
do): `options.token_env` names the environment variable that holds it, and it is sent
as an `Authorization: Bearer` header, never in a URL. VK answers errors with HTTP 200
and `{"error": {"error_code", "error_msg"}}`: error 6 (too many requests per second) is
retried like any API's 429 (`RateLimitAs429` below, before `RetryAfterMiddleware`), the
others skip the page with VK's message.

Texts are plain with HTML entities (`&#10071;`); a post's author is the profile or
community that wrote it (`from_id`, resolved through the reply's `profiles`/`groups`).
Deleted comments are skipped.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from scrapy.http import Request, Response
from scrapy.settings import BaseSettings
from w3lib.url import add_or_replace_parameter

from crawlers.items import MentionItem
from crawlers.parsers.common import ApiModel, Page, ParseError, UtcTime, load_json, read_each, validate
from crawlers.sources import EnvironmentName, SourceKind, TokenOptions
from crawlers.spiders.newest_first import NewestFirstSpider

if TYPE_CHECKING:
    from mentionwatch.config import Source

SITE = "https://vk.com"
SEARCH_PAGE = 200  # newsfeed.search's maximum `count`
COMMENTS_PAGE = 100  # wall.getComments' maximum `count`
TOO_MANY_REQUESTS = 6
# What a wall.getComments URL says about its page, as parse_comments' arguments.
_COMMENT_QUERY = ("owner_id", "post_id", "offset")
_WALL_POST = re.compile(r"^/wall(-?\d+)_(\d+)/?$")


class Options(TokenOptions):
    # Required here: VK answers no method without an access token.
    token_env: EnvironmentName
    api_version: str = "5.199"


class Author(ApiModel):
    id: int
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None


class Counter(ApiModel):
    count: int


class Post(ApiModel):
    id: int
    owner_id: int
    from_id: int | None = None
    date: UtcTime
    text: str = ""
    views: Counter | None = None


class Comment(ApiModel):
    id: int
    from_id: int | None = None
    date: UtcTime
    text: str = ""
    deleted: bool = False
    reply_to_comment: int | None = None


class Reply(ApiModel):
    items: list[object]
    profiles: list[Author] = []
    groups: list[Author] = []
    next_from: str | None = None
    current_level_count: int | None = None
    count: int | None = None


class ErrorReply(ApiModel):
    error_code: int
    error_msg: str = ""


def post_url(owner_id: int, post_id: int) -> str:
    return f"{SITE}/wall{owner_id}_{post_id}"


def _authors(reply: Reply) -> dict[int, str]:
    """from_id -> name: people by their positive id, communities by their negative one."""
    names = {p.id: " ".join(filter(None, [p.first_name, p.last_name])) for p in reply.profiles}
    names |= {-g.id: g.name or "" for g in reply.groups}
    return {key: name for key, name in names.items() if name}


def read_reply(body: bytes | str) -> Reply:
    """The `response` of a VK reply; ParseError with VK's code and message for an error."""
    data = load_json(body.decode("utf-8-sig") if isinstance(body, bytes) else body.lstrip("\ufeff"))
    if isinstance(data, dict) and "error" in data:
        error = validate(ErrorReply, data["error"], "a VK error")
        raise ParseError(f"VK API error {error.error_code}: {error.error_msg}")
    return validate(Reply, data.get("response") if isinstance(data, dict) else None, "a VK API reply")


def parse_search(body: bytes | str) -> Page:
    """A page of `newsfeed.search`; `next` is its `next_from` while it found anything."""
    reply = read_reply(body)
    authors = _authors(reply)

    def mention(post: Post) -> Iterator[MentionItem]:
        if post.text.strip():
            yield MentionItem(
                url=post_url(post.owner_id, post.id),
                body=html.unescape(post.text),
                external_id=f"{post.owner_id}_{post.id}",
                author=authors.get(post.from_id or post.owner_id),
                published=post.date,
                views=post.views.count if post.views else None,
            )

    mentions, skipped = read_each(reply.items, Post, mention)
    return Page(mentions, next=reply.next_from if reply.items and reply.next_from else None, skipped=skipped)


def parse_comments(body: bytes | str, *, owner_id: int, post_id: int, offset: int) -> Page:
    """A page of `wall.getComments` of one post; `next` is the offset of the next page."""
    reply = read_reply(body)
    authors = _authors(reply)
    thread = post_url(owner_id, post_id)

    def mention(comment: Comment) -> Iterator[MentionItem]:
        if comment.deleted or not comment.text.strip():
            return
        parent = f"{thread}?reply={comment.reply_to_comment}" if comment.reply_to_comment else thread
        yield MentionItem(
            url=f"{thread}?reply={comment.id}",
            body=html.unescape(comment.text),
            external_id=f"{owner_id}_{post_id}_{comment.id}",
            author=authors.get(comment.from_id) if comment.from_id else None,
            published=comment.date,
            thread_url=thread,
            parent_url=parent,
        )

    mentions, skipped = read_each(reply.items, Comment, mention)
    total = reply.current_level_count if reply.current_level_count is not None else reply.count or 0
    following = offset + len(reply.items)
    return Page(mentions, next=str(following) if reply.items and following < total else None, skipped=skipped)


class RateLimitAs429:
    """Downloader middleware: VK's error 6 (HTTP 200) becomes the 429 it means, so that
    `RetryAfterMiddleware` waits and retries it as it does every API's rate limit."""

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status != 200 or b'"error_code"' not in response.body[:200]:
            return response
        try:
            code = json.loads(response.body.decode("utf-8-sig"))["error"]["error_code"]
        except (ValueError, KeyError, TypeError):
            return response
        return response.replace(status=429) if code == TOO_MANY_REQUESTS else response


class VkSpider(NewestFirstSpider):
    source_type = "vk"
    default_base_url = "https://api.vk.com"
    options: Options

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
        # Above RetryAfterMiddleware (560): responses pass the higher number first.
        settings.set("DOWNLOADER_MIDDLEWARES", {**middlewares, f"{__name__}.RateLimitAs429": 565}, priority="spider")

    def method_url(self, name: str, **query: Any) -> str:
        return self.api_url(f"/method/{name}?{urlencode({**query, 'v': self.options.api_version})}")

    def search_url(self, term: str) -> str:
        query: dict[str, Any] = {"q": term, "count": SEARCH_PAGE, "extended": 1}
        since = self.saved_mark(term)
        if since is not None:
            query["start_time"] = int(since.timestamp())
        return self.method_url("newsfeed.search", **query)

    def first_requests(self) -> Iterable[Request]:
        yield from super().first_requests()
        for url in self.source.urls:
            owner_id, post_id = _wall_post(url)
            query = {"owner_id": owner_id, "post_id": post_id, "count": COMMENTS_PAGE, "sort": "desc", "extended": 1, "offset": 0}
            yield self.request(self.method_url("wall.getComments", **query), self.parse, cb_kwargs={"mark_key": f"{owner_id}_{post_id}"})

    def read(self, response: Response) -> Page:
        if "/method/wall.getComments" not in response.url:
            return parse_search(response.body)
        query = {name: int(values[-1]) for name, values in parse_qs(urlsplit(response.url).query).items() if name in _COMMENT_QUERY}
        return parse_comments(response.body, **query)

    def next_url(self, response: Response, page: Page) -> str | None:
        if page.next is None:
            return None
        parameter = "offset" if "/method/wall.getComments" in response.url else "start_from"
        return add_or_replace_parameter(response.url, parameter, page.next)


def _wall_post(url: str) -> tuple[int, int]:
    found = _WALL_POST.match(urlsplit(url).path)
    assert found is not None, "the config check accepts wall post links only"
    return int(found.group(1)), int(found.group(2))


def _posts_or_search(options: Options, source: Source) -> str | None:
    wrong = [url for url in source.urls if not _WALL_POST.match(urlsplit(url).path)]
    if wrong:
        return f"vk reads the comments of wall posts like https://vk.com/wall-1_2, not {wrong[0]!r}"
    return None if source.urls or source.search else "vk needs search or urls"


KIND = SourceKind("vk", Options, VkSpider, reads=frozenset({"urls", "search"}), requirement=_posts_or_search)
