"""`reddit`: posts and comments from Reddit's public JSON (append `.json` to a page).

- `search` terms: `/search.json?q=TERM&sort=new` (`options.subreddit` keeps it to one
  subreddit), paged by `after`; the comments of every new post are read too
  (`/comments/<id>.json`) unless `options.comments = false`;
- `urls` may list threads (`.../comments/<id>/...`: the post and all its comments, on
  every run) or listings such as `https://www.reddit.com/r/acme/new/`.

A busy thread's page holds only some of its comments; the rest are "more" stubs. The
spider loads them (`/api/morechildren` for "load more comments", the comment's own page
for "continue this thread"), at most `options.more_comments` requests per thread, so the
angry answer at the bottom of a long thread is found too.

Only the URL's path is used, under `base_url` (default https://www.reddit.com).

Reddit's JSON listings: search results (posts) and a post's comment tree.

Every Reddit object is a "thing" `{"kind": "t3", "data": {...}}`: t3 a post, t1 a
comment, "more" a stub for comments not sent. A post's text is its self-text, or its title for a link
post, so that "Acme lost my parcel" posted as a bare link is still a mention.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
import html
from typing import Any, Literal
from urllib.parse import urlencode, urljoin, urlsplit

from pydantic import Field, ValidationError
from scrapy.http import Request, Response

from crawlers.items import MentionItem
from crawlers.parsers.common import ApiModel, Page, ParseError, UtcTime, describe, load_json, read_each, validate
from crawlers.sources import SourceKind, TokenOptions
from crawlers.spiders.newest_first import NewestFirstSpider


SITE = "https://www.reddit.com"
# What Reddit leaves of a deleted or removed comment.
_GONE = frozenset({"[deleted]", "[removed]"})


class Thing(ApiModel):
    kind: str
    data: dict[str, Any]


class ListingData(ApiModel):
    children: list[Any]
    after: str | None = None


class Listing(ApiModel):
    kind: Literal["Listing"]
    data: ListingData


class More(ApiModel):
    """A stub for comments Reddit did not send: the ids to load ("load more comments"),
    or none when a reply chain was cut at its depth ("continue this thread", read from
    the page of its `parent_id`)."""

    parent_id: str
    children: list[str] = []


class MoreChildrenData(ApiModel):
    things: list[Any] = []


class MoreChildrenReply(ApiModel):
    errors: list[Any] = []
    data: MoreChildrenData = MoreChildrenData()


class MoreChildren(ApiModel):
    """`/api/morechildren?api_type=json`: `{"json": {"errors": [], "data": {"things": [...]}}}`."""

    reply: MoreChildrenReply = Field(alias="json")


@dataclass
class ThreadPage(Page):
    """The comments of a page, and the stubs of those Reddit left out of it."""

    more: list[More] = field(default_factory=list)


class Post(ApiModel):
    name: str
    permalink: str
    title: str
    created_utc: UtcTime
    author: str | None = None
    selftext: str | None = None
    selftext_html: str | None = None


class Comment(ApiModel):
    name: str
    id: str
    permalink: str
    created_utc: UtcTime
    parent_id: str
    author: str | None = None
    body: str | None = None
    body_html: str | None = None
    link_permalink: str | None = None


def _markup(escaped_html: str | None, markdown: str | None) -> tuple[str, Literal["html", "text"]]:
    """The rendered HTML where sent (entity-escaped unless `raw_json=1`), else the markdown."""
    if escaped_html:
        return (html.unescape(escaped_html) if escaped_html.lstrip().startswith("&lt;") else escaped_html), "html"
    return markdown or "", "text"


def _author(name: str | None) -> str | None:
    return None if name in _GONE else name


def post_mention(post: Post) -> MentionItem:
    body, body_format = _markup(post.selftext_html, post.selftext)
    if not body.strip():
        body, body_format = post.title, "text"
    return MentionItem(
        url=urljoin(SITE, post.permalink),
        body=body,
        body_format=body_format,
        external_id=post.name,
        title=post.title,
        author=_author(post.author),
        published=post.created_utc,
    )


def comment_mention(comment: Comment, thread_url: str | None = None) -> MentionItem | None:
    """The comment as a mention; None when it was deleted or removed."""
    if comment.body in _GONE:
        return None
    thread = thread_url or (urljoin(SITE, comment.link_permalink) if comment.link_permalink else None)
    parent = thread
    if thread and comment.parent_id.startswith("t1_"):
        parent = urljoin(thread, comment.parent_id.removeprefix("t1_") + "/")
    body, body_format = _markup(comment.body_html, comment.body)
    return MentionItem(
        url=urljoin(SITE, comment.permalink),
        body=body,
        body_format=body_format,
        external_id=comment.name,
        author=_author(comment.author),
        published=comment.created_utc,
        thread_url=thread,
        parent_url=parent,
    )


def _flatten(children: list[Any]) -> Iterator[Any]:
    """The things of a listing and, depth first, the answers nested in each comment."""
    for child in children:
        yield child
        data = child.get("data") if isinstance(child, dict) else None
        replies = data.get("replies") if isinstance(data, dict) else None
        listing = replies.get("data") if isinstance(replies, dict) else None
        if isinstance(listing, dict) and isinstance(listing.get("children"), list):
            yield from _flatten(listing["children"])


def _thing_mentions(thing: Thing, thread_url: str | None) -> Iterator[MentionItem]:
    if thing.kind == "t3":
        yield post_mention(Post.model_validate(thing.data))
    elif thing.kind == "t1" and (mention := comment_mention(Comment.model_validate(thing.data), thread_url)):
        yield mention


def _read_things(children: list[Any], thread_url: str | None, after: str | None = None) -> ThreadPage:
    things = list(_flatten(children))
    mentions, skipped = read_each(things, Thing, lambda thing: _thing_mentions(thing, thread_url))
    more: list[More] = []
    for thing in things:
        if isinstance(thing, dict) and thing.get("kind") == "more":
            try:
                more.append(More.model_validate(thing.get("data")))
            except ValidationError as exc:
                skipped.append(f"a 'more' stub: {describe(exc)}")
    return ThreadPage(mentions, next=after, skipped=skipped, more=more)


def _read_listing(data: Any, thread_url: str | None = None) -> ThreadPage:
    listing = validate(Listing, data, "a Reddit Listing")
    return _read_things(listing.data.children, thread_url, listing.data.after)


def parse_listing(body: bytes | str) -> Page:
    """A listing of posts or comments (search, /r/x/new, /r/x/comments); `next` is `after`."""
    return _read_listing(load_json(body))


def parse_comments(body: bytes | str) -> ThreadPage:
    """A post's page (`/comments/<id>.json`): the post, then its comments, all in one page.

    Comments get the post's permalink as their thread URL and their parent comment's
    (or the post's) permalink as their parent URL.
    """
    data = load_json(body)
    if not isinstance(data, list) or len(data) != 2:
        raise ParseError("not a Reddit post page: expected a list of two Listings (the post, its comments)")
    post_page = _read_listing(data[0])
    thread_url = post_page.mentions[0].url if post_page.mentions else None
    comment_page = _read_listing(data[1], thread_url)
    return ThreadPage(
        post_page.mentions + comment_page.mentions, skipped=post_page.skipped + comment_page.skipped, more=comment_page.more
    )


def parse_more_children(body: bytes | str, thread_url: str | None) -> ThreadPage:
    """The comments `/api/morechildren` loaded for stubs: a flat list (each comment's
    `parent_id` says where it hangs), itself holding stubs where Reddit stopped again."""
    answer = validate(MoreChildren, load_json(body), "a Reddit morechildren answer")
    if answer.reply.errors:
        raise ParseError(f"Reddit refused to load the comments: {answer.reply.errors!r}"[:300])
    return _read_things(answer.reply.data.things, thread_url)


# Reddit's largest page, and the most comment ids one morechildren request may ask for.
PAGE_SIZE = 100


class Options(TokenOptions):
    subreddit: str | None = None
    comments: bool = True
    # Requests per thread for the comments its page left out (0: only the page).
    more_comments: int = Field(default=10, ge=0)


class RedditSpider(NewestFirstSpider):
    source_type = "reddit"
    options: Options
    default_base_url = "https://www.reddit.com"
    next_parameter = "after"

    def json_url(self, path: str, **query: Any) -> str:
        # raw_json=1: bodies without HTML entity escaping.
        return self.api_url(f"{path.rstrip('/')}.json?{urlencode({**query, 'raw_json': 1})}")

    def search_url(self, term: str) -> str:
        subreddit = self.options.subreddit
        if subreddit:
            return self.json_url(f"/r/{subreddit}/search", q=term, sort="new", limit=PAGE_SIZE, restrict_sr=1)
        return self.json_url("/search", q=term, sort="new", limit=PAGE_SIZE)

    def first_requests(self) -> Iterable[Request]:
        for url in self.source.urls:
            path = urlsplit(url).path
            if "/comments/" in path:
                yield self.request(self.json_url(path), self.parse_thread, cb_kwargs={"with_post": True})
            else:
                yield self.request(self.json_url(path, limit=PAGE_SIZE), self.parse, cb_kwargs={"mark_key": path})
        yield from super().first_requests()

    def read(self, response: Response) -> Page:
        return parse_listing(response.body)

    def parse(self, response: Response, mark_key: str) -> Iterator[MentionItem | Request]:
        """A listing's fresh posts and comments, each new post followed by its comment page."""
        with_comments = self.options.comments
        for entry in super().parse(response, mark_key):
            yield entry
            post_id = _post_id(entry)
            if with_comments and post_id:
                yield self.request(self.json_url(f"/comments/{post_id}", sort="new"), self.parse_thread, cb_kwargs={"with_post": False})

    def parse_thread(self, response: Response, with_post: bool) -> Iterator[MentionItem | Request]:
        """A post's page; the post itself only when it was not found by a listing already.
        Then the comments the page left out."""
        page = self.read_page(response, lambda thread: parse_comments(thread.body))
        if page is None:
            return
        post = next((mention for mention in page.mentions if _post_id(mention)), None)
        for mention in page.mentions:
            if with_post or mention is not post:
                yield mention
        if post is not None:
            yield from self.more_requests(page.more, post)

    def parse_more(self, response: Response, post: MentionItem) -> Iterator[MentionItem | Request]:
        """Comments loaded for a thread's stubs, and the stubs among them."""
        page = self.read_page(response, lambda answer: parse_more_children(answer.body, post.url))
        if page is None:
            return
        yield from page.mentions
        yield from self.more_requests(page.more, post)

    @cached_property
    def more_requests_made(self) -> Counter[str]:
        """Requests for left-out comments so far, per thread (its post's id)."""
        return Counter()

    def more_requests(self, stubs: list[More], post: MentionItem) -> Iterator[Request]:
        """Requests for the comments behind `stubs`, within the thread's budget."""
        post_id = _post_id(post)
        assert post_id is not None
        for stub in stubs:
            for request in self.stub_requests(stub, post, post_id):
                if self.more_requests_made[post_id] >= self.options.more_comments:
                    return
                self.more_requests_made[post_id] += 1
                yield request

    def stub_requests(self, stub: More, post: MentionItem, post_id: str) -> Iterator[Request]:
        """Its ids in batches of PAGE_SIZE to morechildren; a cut reply chain as its comment's page."""
        ids = stub.children
        for start in range(0, len(ids), PAGE_SIZE):
            children = ",".join(ids[start : start + PAGE_SIZE])
            url = self.json_url("/api/morechildren", api_type="json", link_id=f"t3_{post_id}", children=children, sort="new")
            yield self.request(url, self.parse_more, cb_kwargs={"post": post})
        if not ids and stub.parent_id.startswith("t1_"):
            url = self.json_url(f"/comments/{post_id}/_/{stub.parent_id.removeprefix('t1_')}", sort="new")
            yield self.request(url, self.parse_thread, cb_kwargs={"with_post": False})

def _post_id(entry: object) -> str | None:
    """The id of a post's mention (external id `t3_<id>`); None for comments and requests."""
    if isinstance(entry, MentionItem) and entry.external_id and entry.external_id.startswith("t3_"):
        return entry.external_id.removeprefix("t3_")
    return None


KIND = SourceKind("reddit", Options, RedditSpider, reads=frozenset({"urls", "search"}))
