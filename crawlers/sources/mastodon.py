"""`mastodon`: public statuses from one Mastodon server (`base_url`, required).

- a `search` term starting with `#` reads that tag's public timeline,
  `/api/v1/timelines/tag/<tag>`; any other term uses `/api/v2/search?type=statuses`,
  which most servers answer only for a logged-in account: set `options.token_env` to
  the name of an environment variable holding an access token (scope `read:search`);
- pages go back in time by `max_id` (the timeline's `Link: rel="next"`), to the first
  status seen before. Servers allow 300 requests per 5 minutes per account or IP.

Mastodon's REST API: a tag timeline (`/api/v1/timelines/tag/<tag>`) and status search
(`/api/v2/search?type=statuses`).

A status's `content` is HTML; a content warning (`spoiler_text`) reads as its title. A
boost carries the boosted status in `reblog`, which is the mention. Status ids are
numbers in strings that grow with time, so "newer than the last crawl" is a number
comparison, and pages go back in time by `max_id`, which the timeline's `Link` header
names (search has no header: the next page starts below the last id).
"""

from __future__ import annotations

from collections.abc import Iterator
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from scrapy.http import Response

from crawlers.items import MentionItem
from crawlers.parsers.common import ApiModel, Page, ParseError, UtcTime, WebUrl, load_json, read_each, validate
from crawlers.sources import SourceKind, TokenOptions
from crawlers.spiders.newest_first import NewestFirstSpider

if TYPE_CHECKING:
    from mentionwatch.config import Source


_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";]+)"?')
# Mastodon wraps the words of hashtags and mentions (`#<span>acme</span>`) and the
# hidden parts of long links in spans; unwrapped, they read "#acme" and a whole URL
# instead of "# acme" and pieces.
_SPAN = re.compile(r"</?span\b[^>]*>")


class Account(ApiModel):
    acct: str
    display_name: str | None = None


class Status(ApiModel):
    id: str
    uri: WebUrl
    created_at: UtcTime
    account: Account
    url: WebUrl | None = None
    content: str = ""
    spoiler_text: str = ""
    reblog: dict[str, Any] | None = None


class SearchReply(ApiModel):
    statuses: list[object]


def link_targets(header: str | None) -> dict[str, str]:
    """An RFC 8288 `Link` header as rel -> URL."""
    return {rel: url for url, rel in _LINK.findall(header or "")}


def status_mentions(status: Status) -> Iterator[MentionItem]:
    if status.reblog is not None:
        yield from status_mentions(Status.model_validate(status.reblog))
        return
    yield MentionItem(
        url=status.url or status.uri,
        body=_SPAN.sub("", status.content),
        body_format="html",
        # The ActivityPub URI is the same on every server that shows the status.
        external_id=status.uri,
        title=status.spoiler_text or None,
        author=status.account.acct,
        published=status.created_at,
    )


def _next_max_id(link_header: str | None, last_id: str | None) -> str | None:
    target = link_targets(link_header).get("next")
    if target:
        max_ids = parse_qs(urlsplit(target).query).get("max_id")
        if max_ids:
            return max_ids[0]
    return last_id


def parse_statuses(body: bytes | str, link_header: str | None = None) -> Page:
    """A timeline (a list of statuses) or a v2 search reply; `next` is the next page's `max_id`.

    An empty page is the last one.
    """
    data = load_json(body)
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        raise ParseError(f"Mastodon error: {data['error']}")
    if isinstance(data, dict):
        entries = validate(SearchReply, data, "a Mastodon search reply").statuses
    elif isinstance(data, list):
        entries = data
    else:
        raise ParseError("not a Mastodon timeline or search reply: neither a list nor an object")
    mentions, skipped = read_each(entries, Status, status_mentions)
    last = entries[-1].get("id") if entries and isinstance(entries[-1], dict) else None
    next_id = _next_max_id(link_header, last if isinstance(last, str) else None) if entries else None
    return Page(mentions, next=next_id, skipped=skipped)


PAGE_SIZE = 40


class MastodonSpider(NewestFirstSpider):
    source_type = "mastodon"
    # Refusals come with {"error": "..."} (no token, a token without the scope).
    explained_statuses = (401, 403, 422)
    next_parameter = "max_id"

    def search_url(self, term: str) -> str:
        if term.startswith("#"):
            return self.api_url(f"/api/v1/timelines/tag/{quote(term[1:], safe='')}?limit={PAGE_SIZE}")
        return self.api_url(f"/api/v2/search?{urlencode({'q': term, 'type': 'statuses', 'limit': PAGE_SIZE})}")

    def read(self, response: Response) -> Page:
        link = response.headers.get("Link")
        return parse_statuses(response.body, link.decode("latin-1") if link else None)


def _server_and_search(options: TokenOptions, source: Source) -> str | None:
    if not source.base_url:
        return "mastodon needs base_url, the server to read"
    return None if source.search else "mastodon needs search"


KIND = SourceKind("mastodon", TokenOptions, MastodonSpider, reads=frozenset({"search"}), requirement=_server_and_search)
