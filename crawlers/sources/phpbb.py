"""`phpbb`: phpBB boards (prosilver and the phpBB2-style hosted forums), topic by topic.

`urls` may hold topics (read whole, as they are), and places where the board lists new
talk, from which the topics to read are learnt:

- Atom feeds (`feed.php`, `feed.php?mode=topics`, `feed.php?f=N`, `app.php/feed`,
  `app.php/feed/topics`, `app.php/feed/forum/N`); real ones often end with junk after
  `</feed>` (a PHP notice), which is read past;
- forums (`viewforum.php?f=N`): the topic list, newest activity first, paged;
- searches (`search.php?keywords=...`), and `search` terms, sent as
  `search.php?keywords=TERM&sr=topics` to the board's root (`base_url`, else the folder
  of the first URL), where the board lets guests search.

A listed topic is read when its title (for a feed entry, also the post's text) matches
the brand's query (every topic with `match = "all"`), or when an earlier run read it.
Each listing's cursor is the highest post id it showed: rows and entries at or below it
have nothing new, and paging stops at a page that holds one. Topic links are rebuilt
under the listing's own board root (`viewtopic.php?t=N`), so a mirror or a test server
is read as itself.

One mention per post, with its permalink (`viewtopic.php?p=ID#pID`), author and time.
A post's title is its own subject; the automatic "Re: <topic title>" of a reply is
none, so a reply in a thread titled after the brand is matched by what it says.
Quotes of other posts and the signature are cut out before the text is taken, so a
reply is only what its author wrote. Times come from `<time datetime>` where the
style has it, else from the printed date ("Pon 20 lis 2026, 14:05", "вчера, 12:30"),
read in the page's language and the source's time zone.

Incremental: the cursor of each topic is the URL of the last page read; the next run
starts there and follows rel=next, so a long topic is read once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote_plus, urljoin, urlsplit

import feedparser
from parsel import Selector, SelectorList
from scrapy.http import Request, Response, TextResponse
from w3lib.html import remove_tags

from crawlers.items import MentionItem
from crawlers.pipelines.match import brand_query
from crawlers.sources import SourceKind, SourceOptions
from crawlers.spiders.base import MentionSpider
from crawlers.urls import strip_params

if TYPE_CHECKING:
    from mentionwatch.config import Source

# phpBB puts the visitor's session id in every link; it is not part of any address.
SESSION_PARAMS = frozenset({"sid"})
# The post's own text, most specific first (prosilver, Forumotion, older styles).
CONTENT = (".content", ".post-entry", ".postbody .post_content", ".postbody")
CUT_OUT = "blockquote, .signature, .signature_div, .postbody-signature, div.notice, .post-buttons, script, style"
PERMALINK = ('p.author a[href*="p="]', 'h3 a[href*="#"]')
AUTHOR = (".postprofile .username, .postprofile .username-coloured", "p.author a.username", "p.author strong", ".postprofile strong")
# A listing's topic rows (forum, search in topics mode) and result posts (posts mode).
TOPIC_ROWS = "ul.topiclist li.row"
RESULT_POSTS = "div.search.post"
NEXT_PAGE = 'a[rel="next"]::attr(href), li.next a::attr(href)'
_FEED_PATH = re.compile(r"(?:/feed\.php|/app\.php/feed(?:/.*)?)$")
# Where the printed date starts: the first digit, or a relative day word.
_DATE_START = re.compile(
    r"\d|вчера|сегодня|вчора|сьогодні|wczoraj|dzisiaj|dziś|yesterday|today|gestern|heute", re.IGNORECASE
)


def first_match(selector: Selector | TextResponse, queries: Iterable[str]) -> SelectorList[Selector] | None:
    """The matches of the first query that matches: CSS lists match in page order, not by preference."""
    return next((found for query in queries if (found := selector.css(query))), None)


def own_subject(subject: str | None, topic_title: str | None) -> str | None:
    """The title a post gives itself: None for phpBB's automatic "Re: <topic title>".

    A post without a subject of its own (some styles print none) is under the topic's title.
    """
    subject = " ".join((subject or "").split())
    if not subject:
        return topic_title
    quoted = re.sub(r"^(?:re:\s*)+", "", subject, flags=re.IGNORECASE)
    if quoted != subject and quoted.casefold() == " ".join((topic_title or "").split()).casefold():
        return None
    return subject


def printed_date(author_line: str, author: str | None) -> str | None:
    """The date part of a post's byline ("von r23 » 21.01.2009, 05:42")."""
    text = author_line.rsplit("»", 1)[-1]
    if author and "»" not in author_line:
        text = text.split(author, 1)[-1]
    start = _DATE_START.search(text)
    return text[start.start() :].strip(" ,") if start else None


@dataclass(frozen=True)
class ListedTopic:
    """A topic as a listing shows it: where it is, what it is called, its latest post."""

    url: str
    title: str
    last_post: int | None
    text: str = ""


def board_root(url: str) -> str:
    """The board's folder: `https://h/forum/` for `https://h/forum/app.php/feed/forum/3`."""
    parts = urlsplit(url)
    folder = parts.path.split("/app.php/", 1)[0] if "/app.php/" in parts.path else parts.path.rsplit("/", 1)[0]
    return f"{parts.scheme}://{parts.netloc}{folder}/"


def topic_under(root: str, link: str) -> str | None:
    """The topic a link points into, as `viewtopic.php?t=N` (or `?p=N`) under `root`."""
    query = parse_qs(urlsplit(link).query)
    for name in ("t", "p"):
        value = query.get(name, [""])[0]
        if value.isdigit():
            return urljoin(root, f"viewtopic.php?{name}={value}")
    return None


def post_number(link: str | None) -> int | None:
    value = parse_qs(urlsplit(link or "").query).get("p", [""])[0]
    return int(value) if value.isdigit() else None


def listing_kind(url: str) -> str:
    """"feed", "listing" (a forum or a search) or "topic"."""
    path = urlsplit(url).path
    if _FEED_PATH.search(path):
        return "feed"
    if re.search(r"/(?:viewforum|search)\.php[^/]*$", path):
        return "listing"
    return "topic"


class PhpbbSpider(MentionSpider):
    source_type = "phpbb"

    def first_requests(self) -> Iterable[Request]:
        for url in self.source.urls:
            kind = listing_kind(url)
            if kind == "topic":
                yield self.topic_request(url)
            else:
                callback = self.parse_feed if kind == "feed" else self.parse_listing
                yield self.request(url, callback, cb_kwargs={"listing": url})
        for term in self.source.search:
            root = self.source.base_url.rstrip("/") + "/" if self.source.base_url else board_root(self.source.urls[0])
            url = f"{root}search.php?keywords={quote_plus(term)}&sr=topics&sf=all&sk=t&sd=d"
            yield self.request(url, self.parse_listing, cb_kwargs={"listing": f"search:{term}"})

    def topic_request(self, topic_url: str) -> Request:
        """The topic from where the last run stopped reading it (its first page if never)."""
        return self.request(self.job.cursors.get(topic_url) or topic_url, self.parse, cb_kwargs={"topic_url": topic_url})

    def wanted(self, topic: ListedTopic) -> bool:
        """Whether a listed topic is read: about the brand, or read before."""
        if topic.url in self.job.cursors or self.source.match_mode == "all":
            return True
        return brand_query(self.job.brand).matches_fields([topic.title, topic.text])

    def topics_to_read(self, topics: list[ListedTopic], listing: str) -> tuple[list[Request], bool]:
        """Requests for the wanted topics with news since the last run, and whether the
        listing reached what the last run saw."""
        fresh, met_known = self.fresh(topics, lambda topic: topic.last_post, listing)
        return [self.topic_request(topic.url) for topic in fresh if self.wanted(topic)], met_known

    def parse_feed(self, response: Response, listing: str) -> Iterable[Request]:
        """A board, forum or new-topics Atom feed: its entries' topics."""
        self.page_seen(response)
        body = response.body
        end = body.rfind(b"</feed>")
        parsed = feedparser.parse(body[: end + len(b"</feed>")] if end >= 0 else body)
        if not parsed.entries:
            self.problem(response, f"not a readable feed: {parsed.get('bozo_exception')!r}")
            return
        root = board_root(response.url)
        topics = []
        for entry in parsed.entries:
            link = entry.get("link") or entry.get("id") or ""
            url = topic_under(root, link)
            if url is None:
                self.problem(response, f"feed entry {link!r} links to no topic")
                continue
            title = str(entry.get("title", "")).rsplit(" \u2022 ", 1)[-1]
            text = " ".join(remove_tags(c.get("value", "")) for c in entry.get("content", []))
            topics.append(ListedTopic(url, title, post_number(link), text))
        yield from self.topics_to_read(topics, listing)[0]

    def parse_listing(self, response: Response, listing: str) -> Iterable[Request]:
        """A forum's topic list or a search's results: their topics, then the next page."""
        self.page_seen(response)
        if not isinstance(response, TextResponse):
            self.problem(response, "not an HTML page")
            return
        root = board_root(response.url)
        topics = [topic for row in response.css(TOPIC_ROWS) if (topic := self.listed(root, row))]
        topics += [topic for post in response.css(RESULT_POSTS) if (topic := self.result(root, post))]
        if not topics:
            refused = response.css('input[name="username"], form#login')
            what = "the board lets no guest search or read it" if refused else "no topics listed"
            self.logger.info("source=%s url=%s: %s", self.name, response.url, what)
            return
        requests, met_known = self.topics_to_read(topics, listing)
        yield from requests
        if not met_known:
            request = self.follow_page(response, response.css(NEXT_PAGE).get(), self.parse_listing, cb_kwargs={"listing": listing})
            if request is not None:
                yield request

    @staticmethod
    def listed(root: str, row: Selector) -> ListedTopic | None:
        link = row.css("a.topictitle")
        url = topic_under(root, link.attrib.get("href", "")) if link else None
        if url is None:
            return None
        last = row.css('dd.lastpost a[href*="p="]::attr(href)').get()
        return ListedTopic(url, " ".join(link.css("::text").getall()).strip(), post_number(last))

    @staticmethod
    def result(root: str, post: Selector) -> ListedTopic | None:
        """A post found by a search in posts mode, under its topic's title."""
        link = post.css("h3 a")
        topic_link = post.css('dd a[href*="t="]')
        url = topic_under(root, (topic_link or link).attrib.get("href", "")) if (topic_link or link) else None
        if url is None:
            return None
        title = " ".join((topic_link or link).css("::text").getall()).strip()
        text = " ".join(post.css(".content ::text").getall())
        return ListedTopic(url, title, post_number(link.attrib.get("href")) if link else None, text)

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
        subject = post.css("h3")  # the post's own; a heading in its text comes later
        links = first_match(post, PERMALINK)
        link = links.xpath("@href").get() if links else None
        permalink = strip_params(response.urljoin(link or f"viewtopic.php?p={post_id}#p{post_id}"), SESSION_PARAMS)
        return MentionItem(
            url=permalink,
            body=body.get(),
            body_format="html",
            external_id=post_id,
            title=own_subject(" ".join(subject[0].css("::text").getall()) if subject else None, title),
            author=author,
            published=published,
            date_languages=languages,
            thread_url=thread_url,
        )




def _board_for_search(options: SourceOptions, source: Source) -> str | None:
    if source.search and not (source.urls or source.base_url):
        return "phpbb needs urls or base_url (the board's root) to search"
    return None if source.urls or source.search else "phpbb needs urls"


KIND = SourceKind("phpbb", SourceOptions, PhpbbSpider, reads=frozenset({"urls", "search"}), requirement=_board_for_search)
