"""Why a source's request was given up, as exceptions that carry a kind and a reason.

The middlewares raise them; `MentionSpider.on_download_error` counts each under its
`kind` (`mentionwatch/errors/<kind>`) and logs its reason with the source and URL.
They are IgnoreRequests, so Scrapy treats them as decisions rather than crashes: the
robots.txt middleware and requests without an errback drop them without a traceback,
and the retry middleware does not retry them.
"""

from __future__ import annotations

from typing import ClassVar

from scrapy.exceptions import IgnoreRequest

from crawlers.egress import Refusal


class SourceRequestFailed(IgnoreRequest):
    kind: ClassVar[str] = "download"


class EgressRefused(SourceRequestFailed):
    """The address the request would connect to is not one the crawler may reach."""

    kind = "refused"

    def __init__(self, refusal: Refusal, *, redirected_from: str | None = None) -> None:
        super().__init__(f"{refusal} (redirected from {redirected_from})" if redirected_from else str(refusal))
        self.refusal = refusal


class RedirectFailed(SourceRequestFailed):
    """A redirect loop, or more redirects than REDIRECT_MAX_TIMES."""

    kind = "redirect"


class ResponseTooLarge(SourceRequestFailed):
    """A response over DOWNLOAD_MAXSIZE, as sent or once decompressed."""

    kind = "too_large"
