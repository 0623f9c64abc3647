"""A connection the egress rules refused is an error of its source that names the address.

`crawlers.egress.EgressResolver` withholds refused addresses, so the download fails
as a DNS lookup error ("no results for hostname lookup"). This middleware runs before
the retry middleware sees that error (which would retry it as a DNS hiccup) and
replaces it with `EgressRefused`, carrying the refused host, port and address.
"""

from __future__ import annotations

from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import CannotResolveHostError
from scrapy.utils.misc import load_object

from crawlers.egress import EgressResolver
from crawlers.middlewares.errors import EgressRefused


class EgressMiddleware:
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        resolver = crawler.settings["TWISTED_DNS_RESOLVER"]
        if not issubclass(load_object(resolver), EgressResolver):
            # Without it every address is reachable: better no crawl than that.
            raise RuntimeError(f"the egress rules need TWISTED_DNS_RESOLVER = 'crawlers.egress.EgressResolver', not {resolver!r}")
        return cls()

    def process_exception(self, request: Request, exception: Exception) -> None:
        if not isinstance(exception, CannotResolveHostError):
            return
        # The process's resolver, installed on the reactor when the crawl starts.
        from twisted.internet import reactor

        resolver = reactor.nameResolver  # type: ignore[attr-defined]
        refusal = resolver.refusal_for(request.url) if isinstance(resolver, EgressResolver) else None
        if refusal is not None:
            origin = request.meta.get("redirect_urls", [None])[0]
            raise EgressRefused(refusal, redirected_from=origin) from exception
