"""A loopback site of RSS feeds, one per source, that counts how many requests it serves at once.

Shared by the cluster tests and benchmarks/scale.py: every feed has a few items said an
hour ago (so alerts are not held back as old), and the site remembers the highest number
of requests it was answering at the same time, the cluster's per-host concurrency.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from tests.fakes.site_server import RecordedRequest, Reply, SiteServer

TEXTS = ("the delivery was very late and the service awful", "bad parcel not good", "great shop fine service")


def feed_xml(name: str, items: int, now: datetime) -> str:
    entries = "".join(
        f"<item><title>{escape(name)} #{i}</title><link>https://news.example/{escape(name)}/{i}</link>"
        f"<guid>{escape(name)}-{i}</guid><pubDate>{format_datetime(now - timedelta(hours=1))}</pubDate>"
        f"<description>{TEXTS[i % len(TEXTS)]} ({escape(name)} {i})</description></item>"
        for i in range(items)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{escape(name)}</title>{entries}</channel></rss>'


class FeedSite(SiteServer):
    """`/feed/<source>.xml` for any source name; `delay` seconds per answer (`slow` per name)."""

    def __init__(self, *, items: int = 2, delay: float = 0.0) -> None:
        super().__init__(routes={})
        self.items = items
        self.delay = delay
        self.slow: dict[str, float] = {}
        self.active = 0
        self.max_active = 0
        self._count_lock = threading.Lock()

    def feed_url(self, source: str) -> str:
        return self.url(f"/feed/{source}.xml")

    def feed_requests(self, source: str) -> int:
        return len(self.requested(f"/feed/{source}.xml"))

    def _reply_for(self, request: RecordedRequest) -> Reply:
        path = request.path.split("?")[0]
        if not path.startswith("/feed/"):
            return Reply.text("not found", "text/plain", 404)
        name = Path(path).stem
        with self._count_lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            time.sleep(self.slow.get(name, self.delay))
            return Reply.text(feed_xml(name, self.items, datetime.now(UTC)), "application/rss+xml")
        finally:
            with self._count_lock:
                self.active -= 1


def cluster_config(site: FeedSite, sources: int, brands: dict[str, str]) -> str:
    """A config with `sources` feeds spread over `brands` (name -> channel); every mention alerts."""
    parts = [
        f'[[brands]]\nname = "{brand}"\n[brands.alerts]\nchannel = "{channel}"\nmin_negative = 0.0\n'
        for brand, channel in brands.items()
    ]
    names = list(brands)
    for number in range(sources):
        name = f"feed-{number:04d}"
        parts.append(
            f'[[sources]]\nname = "{name}"\nbrand = "{names[number % len(names)]}"\ntype = "feed"\n'
            f'urls = ["{site.feed_url(name)}"]\nmatch = "all"\ninterval = "1h"\n'
        )
    return "\n".join(parts)
