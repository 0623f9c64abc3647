"""Crawl limits as errors of their source: responses over DOWNLOAD_MAXSIZE, redirect loops.

Scrapy enforces both limits but reports them in ways a source's stats never show: an
oversized download fails as a bare "download cancelled", a decompression bomb is
dropped as an IgnoreRequest, and a redirect loop ends silently because the second
visit of a URL is filtered as a duplicate. These subclasses of Scrapy's own
middlewares (they replace them in `crawlers.settings`) raise errors that say why.
"""

from __future__ import annotations

from urllib.parse import urldefrag

from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response

from crawlers.middlewares.errors import RedirectFailed, ResponseTooLarge


class ResponseSizeMiddleware(HttpCompressionMiddleware):
    """Decompression as Scrapy does it (bounded by DOWNLOAD_MAXSIZE); going over the limit
    while downloading or decompressing is a ResponseTooLarge."""

    def _limit(self, request: Request) -> str:
        size = int(request.meta.get("download_maxsize", self._max_size))
        return f"over the size limit (DOWNLOAD_MAXSIZE = {size} bytes)"

    def process_response(self, request: Request, response: Response) -> Request | Response:
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:  # its only refusal: the body grew past the limit
            raise ResponseTooLarge(f"response {self._limit(request)} once decompressed: {exc}") from exc

    def process_exception(self, request: Request, exception: Exception) -> None:
        # The HTTP handler cancels a download when its Content-Length or the bytes
        # received so far pass the limit; it cancels nothing else mid-crawl.
        if isinstance(exception, DownloadCancelledError):
            detail = f": {exception}" if str(exception) else ""
            raise ResponseTooLarge(f"response {self._limit(request)}{detail}") from exception


class _RedirectChecks:
    """Ends a redirect chain that comes back to one of its URLs, or grows too long, with a RedirectFailed."""

    max_redirect_times: int

    def process_response(self, request: Request, response: Response) -> Request | Response:
        try:
            result = super().process_response(request, response)  # type: ignore[misc]
        except IgnoreRequest as exc:  # its only refusal: past REDIRECT_MAX_TIMES
            chain = [*request.meta.get("redirect_urls", []), request.url]
            raise RedirectFailed(f"more than {self.max_redirect_times} redirects: {' -> '.join(chain)}") from exc
        if isinstance(result, Request):
            chain = result.meta.get("redirect_urls", [])
            if _page(result.url) in map(_page, chain):
                raise RedirectFailed(f"redirect loop: {' -> '.join([*chain, result.url])}")
        return result  # type: ignore[no-any-return]


def _page(url: str) -> str:
    """The URL without its fragment, which the server never sees."""
    return urldefrag(url).url


class LoopCheckingRedirectMiddleware(_RedirectChecks, RedirectMiddleware):
    pass


class LoopCheckingMetaRefreshMiddleware(_RedirectChecks, MetaRefreshMiddleware):
    pass
