"""`discourse`: Discourse forums through their JSON API.

- `urls` may list topics (`/t/slug/123`, read whole) or a forum's root (its latest
  posts, `/posts.json`, paged back with `before=` until a known post);
- `search` terms use `/search.json?q=TERM order:latest`; each hit's post is fetched
  whole (`/posts/ID.json`), since search returns only a blurb.

The API root is the config's `base_url`, else the scheme and host of the first URL.
Quotes (`aside.quote`) are cut from a post's HTML. The cursor is the highest post id
seen: listings stop there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlsplit

from parsel import Selector
from scrapy.http import Request, Response

from crawlers.items import MentionItem
from crawlers.sources import SourceKind, SourceOptions
from crawlers.spiders.base import JsonApiSpider, dig

_TOPIC_PATH = re.compile(r"/t/(?:[^/]+/)?(\d+)")
QUOTES = "aside.quote, blockquote, .quote"
# post_type of what people write; 2-4 are moderator actions, small actions, whispers.
REGULAR = 1
# Discourse's own page size for /t/ID/posts.json?post_ids[]=...
POSTS_PER_REQUEST = 20


def _post_id(post: Any) -> int | None:
    post_id = dig(post, "id")
    return post_id if isinstance(post_id, int) else None


def cooked_without_quotes(cooked: str) -> str:
    selector = Selector(text=f"<div>{cooked}</div>")
    for quoted in selector.css(QUOTES):
        quoted.drop()
    return selector.css("body > div").get() or ""


class DiscourseSpider(JsonApiSpider):
    source_type = "discourse"

    def api_url(self, path: str) -> str:
        if not self.source.base_url and self.source.urls:
            parts = urlsplit(self.source.urls[0])
            return f"{parts.scheme}://{parts.netloc}/{path.lstrip('/')}"
        return super().api_url(path)

    def search_url(self, term: str) -> str:
        return self.api_url(f"/search.json?q={quote(term + ' order:latest')}")

    def first_requests(self) -> Iterable[Request]:
        for url in self.source.urls:
            topic = _TOPIC_PATH.search(urlsplit(url).path)
            if topic:
                yield self.request(self.api_url(f"/t/{topic.group(1)}.json"), self.parse)
            else:
                yield self.request(self.api_url("/posts.json"), self.parse)
        for term in self.source.search:
            yield self.request(self.search_url(term), self.parse)

    def parse_json(self, response: Response, data: Any, **kwargs: Any) -> Iterable[Any]:
        """Dispatch on the payload's shape: topic, latest posts, search (current or legacy), post."""
        if isinstance(data, list):
            yield from self.legacy_search(data)
        elif not isinstance(data, dict):
            self.problem(response, f"unexpected JSON {type(data).__name__}")
        elif "post_stream" in data:
            yield from self.topic(response, data)
        elif "latest_posts" in data:
            yield from self.latest_posts(response, data["latest_posts"])
        elif "grouped_search_result" in data or ("posts" in data and "topics" in data):
            yield from self.search_results(response, data)
        elif "cooked" in data:
            yield from self.posts(response, [data], {})
        else:
            self.problem(response, f"unknown Discourse payload with keys {sorted(data)[:8]}")

    def posts(self, response: Response, posts: Any, topic: dict[str, Any]) -> Iterable[MentionItem]:
        for post in posts if isinstance(posts, list) else []:
            item = self.post_item(response, post, topic)
            if item is not None:
                yield item

    def post_item(self, response: Response, post: Any, topic: dict[str, Any]) -> MentionItem | None:
        post_id, topic_id = dig(post, "id"), dig(post, "topic_id", default=topic.get("id"))
        cooked = dig(post, "cooked")
        if not isinstance(post_id, int) or not isinstance(cooked, str):
            self.problem(response, f"post without id or text: {str(post)[:80]!r}")
            return None
        if post.get("hidden") or post.get("deleted_at") or dig(post, "post_type", default=REGULAR) != REGULAR:
            return None  # hidden, deleted, "topic pinned" notices and staff whispers
        self.mark().see(post_id)
        slug = dig(post, "topic_slug", default=topic.get("slug")) or "-"
        thread_url = self.api_url(f"/t/{slug}/{topic_id}")
        return MentionItem(
            url=f"{thread_url}/{dig(post, 'post_number', default=1)}",
            body=cooked_without_quotes(cooked),
            body_format="html",
            external_id=str(post_id),
            title=dig(post, "topic_title", default=topic.get("title")),
            author=dig(post, "username") or dig(post, "name"),
            published=dig(post, "created_at"),
            thread_url=thread_url,
        )

    def topic(self, response: Response, data: dict[str, Any]) -> Iterable[Any]:
        posts = dig(data, "post_stream", "posts", default=[])
        topic = {"id": data.get("id"), "slug": data.get("slug"), "title": data.get("title")}
        yield from self.posts(response, posts, topic)
        loaded = {dig(p, "id") for p in posts if isinstance(p, dict)}
        stream = [i for i in dig(data, "post_stream", "stream", default=[]) if isinstance(i, int) and i not in loaded]
        missing = [i for i in stream if not self.mark().is_known(i)]
        for start in range(0, len(missing), POSTS_PER_REQUEST):
            ids = "&".join(f"post_ids[]={i}" for i in missing[start : start + POSTS_PER_REQUEST])
            url = self.api_url(f"/t/{topic['id']}/posts.json?{ids}")
            yield self.request(url, self.parse_topic_posts, cb_kwargs={"topic": topic})

    def parse_topic_posts(self, response: Response, topic: dict[str, Any]) -> Iterable[Any]:
        self.page_seen(response)
        data = self.json_body(response)
        if data is not None:
            yield from self.posts(response, dig(data, "post_stream", "posts", default=[]), topic)

    def latest_posts(self, response: Response, posts: Any) -> Iterable[Any]:
        if not isinstance(posts, list):
            self.problem(response, "latest_posts is not a list")
            return
        fresh, met_known = self.fresh(posts, _post_id)
        yield from self.posts(response, fresh, {})
        ids = [post_id for post in fresh if (post_id := _post_id(post)) is not None]
        if ids and not met_known:
            oldest = min(ids)
            request = self.follow_page(response, self.api_url(f"/posts.json?before={oldest}"), self.parse)
            if request is not None:
                yield request

    def search_results(self, response: Response, data: dict[str, Any]) -> Iterable[Request]:
        for hit in dig(data, "posts", default=[]) or []:
            post_id = dig(hit, "id")
            if isinstance(post_id, int) and not self.mark().is_known(post_id):
                yield self.request(self.api_url(f"/posts/{post_id}.json"), self.parse)

    def legacy_search(self, groups: list[Any]) -> Iterable[Request]:
        """The pre-2014 search shape: a list of result groups with topic URLs."""
        for group in groups:
            for result in dig(group, "results", default=[]) or []:
                topic = _TOPIC_PATH.search(str(dig(result, "url", default="")))
                if topic:
                    yield self.request(self.api_url(f"/t/{topic.group(1)}.json"), self.parse)


KIND = SourceKind("discourse", SourceOptions, DiscourseSpider, reads=frozenset({"urls", "search"}))
