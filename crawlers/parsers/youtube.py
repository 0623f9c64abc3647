"""YouTube Data API v3: comment threads (`commentThreads?part=snippet,replies`) and the
answers to one comment (`comments?parentId=`).

A thread is a top-level comment plus the first few answers to it. `textOriginal` is
the comment as written, sent only where the caller may see it; `textDisplay` is the
HTML rendering. A comment's page is its video's page with `lc=<comment id>`. An API
error (a spent quota, a bad key) is a JSON `error` object; its reason is reported,
never the request, which would carry the key.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

from pydantic import Field

from crawlers.items import MentionItem
from crawlers.parsers.common import (
    ApiModel,
    Page,
    ParseError,
    UtcTime,
    load_json,
    read_each,
    validate,
)

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
