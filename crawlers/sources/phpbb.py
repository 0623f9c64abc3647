"""`phpbb`: phpBB topic pages (prosilver and the phpBB2-style hosted forums).

One mention per post, with its permalink (`viewtopic.php?p=ID#pID`), author and time.
Quotes of other posts and the signature are cut out before the text is taken, so a
reply is only what its author wrote. Times come from `<time datetime>` where the
style has it, else from the printed date ("Pon 20 lis 2026, 14:05", "вчера, 12:30"),
read in the page's language and the source's time zone.

Incremental: the cursor of each configured topic is the URL of the last page read;
the next run starts there and follows rel=next, so a long topic is read once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from parsel import Selector, SelectorList
from scrapy.http import Request, Response, TextResponse

from crawlers.items import MentionItem
from crawlers.sources import SourceKind, SourceOptions
from crawlers.spiders.base import MentionSpider
from crawlers.urls import strip_params

# phpBB puts the visitor's session id in every link; it is not part of any address.
SESSION_PARAMS = frozenset({"sid"})
# The post's own text, most specific first (prosilver, Forumotion, older styles).
CONTENT = (".content", ".post-entry", ".postbody .post_content", ".postbody")
CUT_OUT = "blockquote, .signature, .signature_div, .postbody-signature, div.notice, .post-buttons, script, style"
PERMALINK = ('p.author a[href*="p="]', 'h3 a[href*="#"]')
AUTHOR = (".postprofile .username, .postprofile .username-coloured", "p.author a.username", "p.author strong", ".postprofile strong")
# Where the printed date starts: the first digit, or a relative day word.
_DATE_START = re.compile(
    r"\d|вчера|сегодня|вчора|сьогодні|wczoraj|dzisiaj|dziś|yesterday|today|gestern|heute", re.IGNORECASE
)


def first_match(selector: Selector | TextResponse, queries: Iterable[str]) -> SelectorList[Selector] | None:
    """The matches of the first query that matches: CSS lists match in page order, not by preference."""
    return next((found for query in queries if (found := selector.css(query))), None)


def printed_date(author_line: str, author: str | None) -> str | None:
    """The date part of a post's byline ("von r23 » 21.01.2009, 05:42")."""
    text = author_line.rsplit("»", 1)[-1]
    if author and "»" not in author_line:
        text = text.split(author, 1)[-1]
    start = _DATE_START.search(text)
    return text[start.start() :].strip(" ,") if start else None


class PhpbbSpider(MentionSpider):
    source_type = "phpbb"

    def first_requests(self) -> Iterable[Request]:
        for url in self.source.urls:
            start = self.job.cursors.get(url) or url
            yield self.request(start, self.parse, cb_kwargs={"topic_url": url})

    def parse(self, response: Response, topic_url: str = "") -> Iterable[Any]:
        self.page_seen(response)
        if not isinstance(response, TextResponse):
            self.problem(response, "not an HTML page")
            return
        topic_url = topic_url or response.url
        posts = response.css("div.post[id], div[id^=p].post")
        if not posts:
            self.problem(response, "no phpBB posts on the page (not a topic, or a login wall)")
            return
        self.job.new_cursors[topic_url] = strip_params(response.url, SESSION_PARAMS)
        languages = [lang[:2].lower()] if (lang := response.css("html::attr(lang)").get()) else []
        title = response.css("h2.topic-title a::text, h2.topic-title::text, h1.page-title a::text, h2 a::text").get()
        canonical = response.css('link[rel="canonical"]::attr(href)').get()
        thread_url = strip_params((canonical and self.web_url(response, canonical)) or topic_url, SESSION_PARAMS)
        yield from self.each_item(
            response,
            posts,
            lambda post: self.post_item(response, post, title=title, thread_url=thread_url, languages=languages),
            "post",
        )
        next_url = response.css('a[rel="next"]::attr(href), li.next a::attr(href)').get()
        request = self.follow_page(response, next_url, self.parse, cb_kwargs={"topic_url": topic_url})
        if request is not None:
            yield request

    def post_item(
        self, response: TextResponse, post: Selector, *, title: str | None, thread_url: str, languages: list[str]
    ) -> MentionItem | None:
        post_id = re.sub(r"\D", "", post.xpath("@id").get(""))
        if post_id.strip("0") == "" and post_id:
            return None  # Forumotion's advert slot, `div#p0.post`
        content = first_match(post, CONTENT)
        if not post_id or not content:
            self.problem(response, f"post {post.xpath('@id').get()!r} has no id or no content")
            return None
        body = content[0]
        for unwanted in body.css(CUT_OUT):
            unwanted.drop()
        names = first_match(post, AUTHOR)
        author = " ".join(names[0].css("::text").getall()).strip() if names else None
        author_line = " ".join(post.css("p.author ::text, .author ::text").getall())
        published = post.css("p.author time::attr(datetime), time::attr(datetime)").get() or printed_date(
            " ".join(author_line.split()), author
        )
        links = first_match(post, PERMALINK)
        link = links.xpath("@href").get() if links else None
        permalink = strip_params(response.urljoin(link or f"viewtopic.php?p={post_id}#p{post_id}"), SESSION_PARAMS)
        return MentionItem(
            url=permalink,
            body=body.get(),
            body_format="html",
            external_id=post_id,
            title=title,
            author=author,
            published=published,
            date_languages=languages,
            thread_url=thread_url,
        )


KIND = SourceKind("phpbb", SourceOptions, PhpbbSpider, reads=frozenset({"urls"}))
