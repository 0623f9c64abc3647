"""`telegram`: public Telegram channels through their web preview, `https://t.me/s/<channel>`.

No API key and no account: the preview page is public HTML. `urls` are channel pages
(`/s/<channel>` on any host, so a mirror or a test server works). A page holds the
channel's latest messages, oldest first, and a "more" link `?before=<id>` to the ones
before; paging back stops at the first page that holds a message the last run saw
(the cursor is the highest message id per channel) or at `max_pages`.

One mention per message that has text (or a poll question): its permalink
`https://t.me/<channel>/<id>` from `data-post` (whatever host served the page), the
channel as thread, the author signature or else the channel's name, the time and the
view count ("37.2K" is 37,200). Service messages ("Channel created") and media without a caption
are no mentions. Channels are not about the brand: items are matched by its query.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from parsel import Selector
from scrapy.http import Request, Response, TextResponse

from crawlers.items import MentionItem
from crawlers.sources import SourceKind, SourceOptions
from crawlers.spiders.base import MentionSpider

if TYPE_CHECKING:
    from mentionwatch.config import Source

PERMALINK = "https://t.me/{}"
_CHANNEL_PAGE = re.compile(r"^/s/([A-Za-z0-9_]{3,})/?$")
_POST = re.compile(r"^([A-Za-z0-9_]+)/(\d+)$")
_VIEWS = re.compile(r"^(\d+(?:\.\d+)?)([KM]?)$")
# The message's own text: a direct child of the bubble (a reply's quote holds another).
TEXT = "div.tgme_widget_message_bubble > div.tgme_widget_message_text"


def view_count(printed: str | None) -> int | None:
    """Telegram's view counter ("842", "37.2K", "1.1M") as a number; None when absent."""
    found = _VIEWS.match((printed or "").strip().upper())
    if found is None:
        return None
    return round(float(found.group(1)) * {"": 1, "K": 1_000, "M": 1_000_000}[found.group(2)])


class TelegramSpider(MentionSpider):
    source_type = "telegram"

    def first_requests(self) -> Iterable[Request]:
        for url in self.source.urls:
            yield self.request(url, self.parse, cb_kwargs={"channel_url": url})

    def parse(self, response: Response, channel_url: str = "") -> Iterable[Any]:
        self.page_seen(response)
        if not isinstance(response, TextResponse):
            self.problem(response, "not an HTML page")
            return
        messages = response.css(".tgme_widget_message[data-post]")
        if not messages:
            self.problem(response, "no channel messages on the page (not a t.me/s/ page, or a private channel)")
            return
        new, met_known = self.fresh(messages, _message_id, channel_url)
        yield from self.each_item(response, new, lambda message: self.message_item(response, message), "message")
        more = response.css("a.tme_messages_more[data-before]::attr(href)").get()
        if not met_known and more and "before=" in more:
            request = self.follow_page(response, more, self.parse, cb_kwargs={"channel_url": channel_url})
            if request is not None:
                yield request

    def message_item(self, response: TextResponse, message: Selector) -> MentionItem | None:
        post = _POST.match(message.attrib.get("data-post", ""))
        if post is None:
            self.problem(response, f"message with an odd data-post {message.attrib.get('data-post')!r}")
            return None
        if "service_message" in message.attrib.get("class", ""):
            return None
        channel, number = post.groups()
        body = message.css(TEXT).get() or message.css(".tgme_widget_message_poll_question").get()
        if body is None:
            return None  # a photo, video or sticker without a caption
        signature = message.css(".tgme_widget_message_from_author::text").get()
        name = " ".join(message.css(".tgme_widget_message_owner_name ::text").getall()).strip()
        return MentionItem(
            url=PERMALINK.format(f"{channel}/{number}"),
            body=body,
            body_format="html",
            external_id=f"{channel}/{number}",
            author=(signature or name or channel).strip(),
            published=message.css(".tgme_widget_message_date time::attr(datetime)").get(),
            thread_url=PERMALINK.format(channel),
            views=view_count(message.css(".tgme_widget_message_views::text").get()),
        )


def _message_id(message: Selector) -> int | None:
    post = _POST.match(message.attrib.get("data-post", ""))
    return int(post.group(2)) if post else None


def _channel_pages(options: SourceOptions, source: Source) -> str | None:
    wrong = [url for url in source.urls if not _CHANNEL_PAGE.match(urlsplit(url).path)]
    if wrong:
        return f"telegram reads channel pages like https://t.me/s/<channel>, not {wrong[0]!r}"
    return None if source.urls else "telegram needs urls"


KIND = SourceKind("telegram", SourceOptions, TelegramSpider, reads=frozenset({"urls"}), requirement=_channel_pages)
