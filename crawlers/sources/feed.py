"""`feed`: RSS and Atom feeds, Google Alerts feeds included (feedparser).

Feeds have no pages to stop at, so incrementality is HTTP's own: the ETag and
Last-Modified of the last fetch are the cursor, and an unchanged feed answers 304.
Google Alerts' `google.com/url?...&url=` links are unwrapped by the normalize step.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from time import struct_time
from typing import Any

import feedparser
from scrapy.http import Request, Response

from crawlers.items import MentionItem
from crawlers.sources import SourceKind, SourceOptions
from crawlers.spiders.base import MentionSpider


def _entry_time(entry: Any) -> datetime | str | None:
    """feedparser's parsed time (UTC), else the raw string for the normalize step."""
    for name in ("published", "updated", "created"):
        parsed = entry.get(f"{name}_parsed")
        if isinstance(parsed, struct_time):
            return datetime(*parsed[:6], tzinfo=UTC)
        if entry.get(name):
            return str(entry.get(name))
    return None


def _entry_body(entry: Any) -> str:
    contents = [c.get("value", "") for c in entry.get("content", []) if c.get("value")]
    return "\n".join(contents) or str(entry.get("summary", "") or "")


class FeedSpider(MentionSpider):
    source_type = "feed"

    def first_requests(self) -> Iterable[Request]:
        for url in self.source.urls:
            validators = json.loads(self.job.cursors.get(url) or "{}")
            headers = {}
            if validators.get("etag"):
                headers["If-None-Match"] = validators["etag"]
            if validators.get("modified"):
                headers["If-Modified-Since"] = validators["modified"]
            yield self.request(
                url, self.parse, headers=headers, meta={"handle_httpstatus_list": [304]}, cb_kwargs={"feed_url": url}
            )

    def parse(self, response: Response, feed_url: str = "") -> Iterable[MentionItem]:
        self.page_seen(response)
        if response.status == 304:
            self.logger.info("source=%s url=%s: feed unchanged since the last run", self.name, response.url)
            return
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
        try:
            parsed = feedparser.parse(response.body, response_headers={"content-type": content_type})
        except ValueError as exc:  # feedparser lets some undecodable bodies through as UnicodeError
            self.problem(response, f"not a readable feed: {exc!r}")
            return
        if not parsed.entries:
            if parsed.get("bozo"):
                self.problem(response, f"not a readable feed: {parsed.get('bozo_exception')!r}")
            return
        self._remember_validators(response, feed_url)
        language = parsed.feed.get("language", "")[:2]
        yield from self.each_item(
            response, parsed.entries, lambda entry: self._entry_item(response, entry, language), "entry"
        )

    def _entry_item(self, response: Response, entry: feedparser.FeedParserDict, language: str) -> MentionItem | None:
        link = entry.get("link") or ""
        body = _entry_body(entry)
        if not link or not body.strip():
            self.problem(response, f"entry {entry.get('id') or entry.get('title')!r} has no link or no text")
            return None
        return MentionItem(
            url=response.urljoin(link),
            body=body,
            body_format="html",
            external_id=entry.get("id") or None,
            title=entry.get("title"),
            author=entry.get("author") or None,
            published=_entry_time(entry),
            date_languages=[language] if language else [],
        )

    def _remember_validators(self, response: Response, feed_url: str) -> None:
        etag = response.headers.get("ETag")
        modified = response.headers.get("Last-Modified")
        if etag or modified:
            self.job.new_cursors[feed_url] = json.dumps(
                {"etag": etag.decode("latin-1") if etag else None, "modified": modified.decode("latin-1") if modified else None}
            )


KIND = SourceKind("feed", SourceOptions, FeedSpider, reads=frozenset({"urls"}))
