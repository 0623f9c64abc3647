"""`youtube`: comments (and the answers shown with them) on videos or a whole channel,
through the YouTube Data API v3 `commentThreads`.

Config: `options.token_env` (required) names the environment variable that holds the
API key; the key goes in the `X-Goog-Api-Key` header, never in a URL, so it is never
logged. What to read: `options.video_ids`, video links in `urls`
(`watch?v=`, `youtu.be/`, `/shorts/`) and `options.channel_ids` (every comment on the
channel's videos). `search` terms, if any, filter each of those (`searchTerms=`).
Threads come newest first (`order=time`), 100 a page by `pageToken`, to a known one.
Each page costs 1 unit of the key's daily quota (10,000 by default); a spent quota is
reported as `quotaExceeded`.

YouTube Data API v3: comment threads (`commentThreads?part=snippet,replies`) and the
answers to one comment (`comments?parentId=`).

A thread is a top-level comment plus the first few answers to it. `textOriginal` is
the comment as written, sent only where the caller may see it; `textDisplay` is the
HTML rendering. A comment's page is its video's page with `lc=<comment id>`. An API
error (a spent quota, a bad key) is a JSON `error` object; its reason is reported,
never the request, which would carry the key.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from pydantic import Field
from scrapy.http import Request, Response

from crawlers.items import MentionItem
from crawlers.parsers.common import ApiModel, Page, ParseError, UtcTime, load_json, read_each, validate
from crawlers.sources import EnvironmentName, SourceKind, TokenOptions
from crawlers.spiders.newest_first import NewestFirstSpider

if TYPE_CHECKING:
    from mentionwatch.config import Source


WATCH = "https://www.youtube.com/watch"
CHANNEL = "https://www.youtube.com/channel/"


class CommentSnippet(ApiModel):
    published_at: UtcTime = Field(alias="publishedAt")
    author: str | None = Field(default=None, alias="authorDisplayName")
    text_original: str | None = Field(default=None, alias="textOriginal")
    text_display: str | None = Field(default=None, alias="textDisplay")
    video_id: str | None = Field(default=None, alias="videoId")
    channel_id: str | None = Field(default=None, alias="channelId")
    parent_id: str | None = Field(default=None, alias="parentId")


class Comment(ApiModel):
    id: str
    snippet: CommentSnippet


class ThreadSnippet(ApiModel):
    top_level_comment: Comment = Field(alias="topLevelComment")
    video_id: str | None = Field(default=None, alias="videoId")
    channel_id: str | None = Field(default=None, alias="channelId")


class Replies(ApiModel):
    comments: list[Comment] = Field(default_factory=list)


class Thread(ApiModel):
    id: str
    snippet: ThreadSnippet
    replies: Replies | None = None


class ErrorDetail(ApiModel):
    reason: str | None = None


class Error(ApiModel):
    code: int | None = None
    message: str | None = None
    errors: list[ErrorDetail] = Field(default_factory=list)


class ListReply(ApiModel):
    items: list[object] = Field(default_factory=list)
    next_page_token: str | None = Field(default=None, alias="nextPageToken")
    error: Error | None = None


def comment_url(comment_id: str, *, video_id: str | None, channel_id: str | None) -> str:
    """The comment's place on its video's page (or, for a channel comment, the channel's)."""
    if video_id:
        return f"{WATCH}?{urlencode({'v': video_id, 'lc': comment_id})}"
    if channel_id:
        return f"{CHANNEL}{channel_id}?{urlencode({'lc': comment_id})}"
    return f"{WATCH}?{urlencode({'lc': comment_id})}"


def comment_mention(comment: Comment, *, video_id: str | None, channel_id: str | None, parent_url: str | None) -> MentionItem:
    snippet = comment.snippet
    video_id = snippet.video_id or video_id
    channel_id = snippet.channel_id or channel_id
    original = snippet.text_original
    return MentionItem(
        url=comment_url(comment.id, video_id=video_id, channel_id=channel_id),
        body=original if original is not None else snippet.text_display or "",
        body_format="text" if original is not None else "html",
        external_id=comment.id,
        author=snippet.author,
        published=snippet.published_at,
        thread_url=f"{WATCH}?{urlencode({'v': video_id})}" if video_id else None,
        parent_url=parent_url,
    )


def thread_mentions(thread: Thread) -> Iterator[MentionItem]:
    """The top-level comment, then the answers that came with it."""
    ids = {"video_id": thread.snippet.video_id, "channel_id": thread.snippet.channel_id}
    top = comment_mention(thread.snippet.top_level_comment, parent_url=None, **ids)
    yield top
    for reply in thread.replies.comments if thread.replies else []:
        yield comment_mention(reply, parent_url=top.url, **ids)


def _reply(body: bytes | str) -> ListReply:
    reply = validate(ListReply, load_json(body), "a YouTube API list reply")
    if reply.error is not None:
        reasons = ", ".join(detail.reason for detail in reply.error.errors if detail.reason) or "unknown"
        raise ParseError(f"YouTube API error {reply.error.code} ({reasons}): {reply.error.message}")
    return reply


def parse_threads(body: bytes | str) -> Page:
    """One page of comment threads; `next` is the page token."""
    reply = _reply(body)
    mentions, skipped = read_each(reply.items, Thread, thread_mentions)
    return Page(mentions, next=reply.next_page_token, skipped=skipped)


def parse_comments(body: bytes | str, *, video_id: str | None = None) -> Page:
    """One page of answers to a comment (`comments?parentId=`); `next` is the page token."""
    reply = _reply(body)

    def build(comment: Comment) -> Iterator[MentionItem]:
        parent_id = comment.snippet.parent_id
        video = comment.snippet.video_id or video_id
        parent = comment_url(parent_id, video_id=video, channel_id=None) if parent_id else None
        yield comment_mention(comment, video_id=video_id, channel_id=None, parent_url=parent)

    mentions, skipped = read_each(reply.items, Comment, build)
    return Page(mentions, next=reply.next_page_token, skipped=skipped)


PAGE_SIZE = 100


def video_id(url: str) -> str | None:
    """The video id of a YouTube link, None for other links."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.").removeprefix("m.")
    if host == "youtu.be":
        return parts.path.strip("/") or None
    if host.endswith("youtube.com"):
        if parts.path.startswith("/shorts/"):
            return parts.path.removeprefix("/shorts/").strip("/") or None
        return next(iter(parse_qs(parts.query).get("v", [])), None)
    return None


class Options(TokenOptions):
    # Required here: the API answers nobody without a key.
    token_env: EnvironmentName
    video_ids: list[str] = []
    channel_ids: list[str] = []


class YouTubeSpider(NewestFirstSpider):
    source_type = "youtube"
    default_base_url = "https://www.googleapis.com/youtube/v3"
    # Refusals (a bad key, a spent quota, comments turned off) come as JSON errors.
    explained_statuses = (400, 403, 404)
    next_parameter = "pageToken"
    options: Options

    @cached_property
    def api_headers(self) -> dict[str, str]:
        key = self.secret()
        assert key is not None  # token_env is required, and secret() refuses an unset variable
        return {"X-Goog-Api-Key": key}

    def targets(self) -> list[tuple[str, str]]:
        """(query parameter, value) of every video and channel to read."""
        videos = self.options.video_ids + [v for v in map(video_id, self.source.urls) if v]
        targets = [("videoId", v) for v in dict.fromkeys(videos)]
        return targets + [("allThreadsRelatedToChannelId", c) for c in self.options.channel_ids]

    def first_requests(self) -> Iterable[Request]:
        for parameter, value in self.targets():
            for term in self.source.search or [None]:
                query: dict[str, Any] = {"part": "snippet,replies", parameter: value, "order": "time", "maxResults": PAGE_SIZE}
                if term:
                    query["searchTerms"] = term
                url = self.api_url(f"/commentThreads?{urlencode(query)}")
                yield self.request(url, self.parse, cb_kwargs={"mark_key": f"{value} {term}" if term else value})

    def read(self, response: Response) -> Page:
        return parse_threads(response.body)


def _something_to_read(options: Options, source: Source) -> str | None:
    if options.video_ids or options.channel_ids or any(video_id(url) for url in source.urls):
        return None
    return "youtube needs options.video_ids, video links in urls or options.channel_ids"


KIND = SourceKind("youtube", Options, YouTubeSpider, reads=frozenset({"urls", "search"}), requirement=_something_to_read)
