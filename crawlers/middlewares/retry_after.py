"""Retrying 429 and 503 the way the server asks: after Retry-After, for the whole host.

Scrapy's stock RetryMiddleware retries at once, which is exactly what a rate-limited
API punishes. This one waits for the Retry-After the server sent (seconds or an HTTP
date; a doubling default without one) and holds every other request to that host for
as long. A wait longer than MENTIONWATCH_RETRY_AFTER_MAX gives the page up for this
run: the cursor is not advanced, so the next scheduled run fetches it.
"""

from __future__ import annotations

import email.utils
import logging
import time
from datetime import UTC, datetime
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.asyncio import sleep
from scrapy.utils.httpobj import urlparse_cached

from crawlers.stats import count_error

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 503})
_TIMES_META = "retry_after_times"
# Set on a request given up on, so the spider's errback does not count it again.
GAVE_UP_META = "retry_after_gave_up"


def retry_after_seconds(header: bytes | str | None, *, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for; None when absent or unreadable."""
    if header is None:
        return None
    value = header.decode("latin-1") if isinstance(header, bytes) else header
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.max_wait = settings.getfloat("MENTIONWATCH_RETRY_AFTER_MAX")
        self.default_wait = settings.getfloat("MENTIONWATCH_RETRY_AFTER_DEFAULT")
        self.max_times = settings.getint("MENTIONWATCH_RETRY_AFTER_TIMES")
        # host -> monotonic time before which nothing is sent to it.
        self._paused_until: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @staticmethod
    def _host(request: Request) -> str:
        return urlparse_cached(request).netloc

    async def process_request(self, request: Request) -> None:
        wait = self._paused_until.get(self._host(request), 0.0) - time.monotonic()
        if wait > 0:
            await sleep(wait)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in RETRY_STATUSES:
            return response
        times = int(request.meta.get(_TIMES_META, 0))
        asked = retry_after_seconds(response.headers.get("Retry-After"))
        wait = asked if asked is not None else self.default_wait * 2**times
        source = getattr(self.crawler.spider, "name", "?")
        if times >= self.max_times or wait > self.max_wait:
            assert self.crawler.stats is not None
            count_error(self.crawler.stats, "rate_limited")
            log.warning(
                "source=%s url=%s: HTTP %d, giving up until the next run (retried %d times, server asks %.0fs)",
                source, request.url, response.status, times, wait,
            )  # fmt: skip
            request.meta[GAVE_UP_META] = True
            return response
        host = self._host(request)
        self._paused_until[host] = max(self._paused_until.get(host, 0.0), time.monotonic() + wait)
        log.info("source=%s url=%s: HTTP %d, retrying in %.1fs", source, request.url, response.status, wait)
        await sleep(wait)
        retry = request.replace(dont_filter=True)
        retry.meta[_TIMES_META] = times + 1
        return retry
