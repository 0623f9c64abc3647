"""A page whose callback raises is logged with source, URL and reason, and the crawl goes on.

Spiders skip a single broken item themselves (`MentionSpider.problem`); this catches
what they did not foresee, so one odd page never ends a source's run. The traceback
is logged at DEBUG for whoever fixes the spider.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.http import Response

from crawlers.stats import count_error

log = logging.getLogger(__name__)


class ParseErrorsMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_spider_exception(self, response: Response, exception: Exception) -> Iterable[Any]:
        assert self.crawler.stats is not None
        count_error(self.crawler.stats, "parse")
        source = getattr(self.crawler.spider, "name", "?")
        log.warning("source=%s url=%s: page skipped, parse failed: %r", source, response.url, exception)
        log.debug("traceback of the parse failure at %s", response.url, exc_info=exception)
        return []
