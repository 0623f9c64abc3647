"""`reddit`: posts and comments from Reddit's public JSON (append `.json` to a page).

- `search` terms: `/search.json?q=TERM&sort=new` (`options.subreddit` keeps it to one
  subreddit), paged by `after`; the comments of every new post are read too
  (`/comments/<id>.json`) unless `options.comments = false`;
- `urls` may list threads (`.../comments/<id>/...`: the post and all its comments, on
  every run) or listings such as `https://www.reddit.com/r/acme/new/`.

Only the URL's path is used, under `base_url` (default https://www.reddit.com).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

from scrapy.http import Request, Response

from crawlers.items import MentionItem
from crawlers.parsers import reddit
from crawlers.parsers.common import Page
from crawlers.spiders.newest_first import NewestFirstSpider

# Reddit's largest page.
PAGE_SIZE = 100


class RedditSpider(NewestFirstSpider):
    source_type = "reddit"
    default_base_url = "https://www.reddit.com"
    next_parameter = "after"

    def json_url(self, path: str, **query: Any) -> str:
        # raw_json=1: bodies without HTML entity escaping.
        return self.api_url(f"{path.rstrip('/')}.json?{urlencode({**query, 'raw_json': 1})}")

    def search_url(self, term: str) -> str:
        subreddit = self.source.options.get("subreddit")
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
        return reddit.parse_listing(response.body)

    def parse(self, response: Response, mark_key: str) -> Iterator[MentionItem | Request]:
        """A listing's fresh posts and comments, each new post followed by its comment page."""
        with_comments = self.source.options.get("comments", True)
        for entry in super().parse(response, mark_key):
            yield entry
            post_id = _post_id(entry)
            if with_comments and post_id:
                yield self.request(self.json_url(f"/comments/{post_id}", sort="new"), self.parse_thread, cb_kwargs={"with_post": False})

    def parse_thread(self, response: Response, with_post: bool) -> Iterator[MentionItem]:
        """A post's page; the post itself only when it was not found by a listing already."""
        page = self.read_page(response, lambda thread: reddit.parse_comments(thread.body))
        if page is None:
            return
        for mention in page.mentions:
            if with_post or not _post_id(mention):
                yield mention


def _post_id(entry: object) -> str | None:
    """The id of a post's mention (external id `t3_<id>`); None for comments and requests."""
    if isinstance(entry, MentionItem) and entry.external_id and entry.external_id.startswith("t3_"):
        return entry.external_id.removeprefix("t3_")
    return None
