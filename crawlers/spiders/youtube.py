"""`youtube`: comments (and the answers shown with them) on videos or a whole channel,
through the YouTube Data API v3 `commentThreads`.

Config: `options.api_key_env` (required) names the environment variable that holds the
API key; the key goes in the `X-Goog-Api-Key` header, never in a URL, so it is never
logged. What to read: `options.video_ids`, video links in `urls`
(`watch?v=`, `youtu.be/`, `/shorts/`) and `options.channel_id` (every comment on the
channel's videos). `search` terms, if any, filter each of those (`searchTerms=`).
Threads come newest first (`order=time`), 100 a page by `pageToken`, to a known one.
Each page costs 1 unit of the key's daily quota (10,000 by default); a spent quota is
reported as `quotaExceeded`.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from scrapy.http import Request, Response

from crawlers.parsers import youtube
from crawlers.parsers.common import Page
from crawlers.spiders.newest_first import MissingOption, NewestFirstSpider

PAGE_SIZE = 100


def video_id(url: str) -> str | None:
    """The video id of a YouTube link, None for other links."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.").removeprefix("m.")
    if host == "youtu.be":
        return parts.path.strip("/") or None
    if host.endswith("youtube.com"):
        if parts.path.startswith("/shorts/"):
            return parts.path.removeprefix("/shorts/").strip("/") or None
        return next(iter(parse_qs(parts.query).get("v", [])), None)
    return None


class YouTubeSpider(NewestFirstSpider):
    source_type = "youtube"
    default_base_url = "https://www.googleapis.com/youtube/v3"
    # Refusals (a bad key, a spent quota, comments turned off) come as JSON errors.
    explained_statuses = (400, 403, 404)
    next_parameter = "pageToken"

    @cached_property
    def api_headers(self) -> dict[str, str]:
        key = self.secret("api_key_env", required=True)
        assert key is not None
        return {"X-Goog-Api-Key": key}

    def targets(self) -> list[tuple[str, str]]:
        """(query parameter, value) of every video and channel to read."""
        videos = [str(v) for v in self.source.options.get("video_ids", [])]
        videos += [v for v in map(video_id, self.source.urls) if v]
        channels = self.source.options.get("channel_id")
        targets = [("videoId", v) for v in dict.fromkeys(videos)]
        targets += [("allThreadsRelatedToChannelId", str(c)) for c in ([channels] if isinstance(channels, str) else channels or [])]
        if not targets:
            raise MissingOption("source type 'youtube' needs options.video_ids, video links in urls or options.channel_id")
        return targets

    def first_requests(self) -> Iterable[Request]:
        for parameter, value in self.targets():
            for term in self.source.search or [None]:
                query: dict[str, Any] = {"part": "snippet,replies", parameter: value, "order": "time", "maxResults": PAGE_SIZE}
                if term:
                    query["searchTerms"] = term
                url = self.api_url(f"/commentThreads?{urlencode(query)}")
                yield self.request(url, self.parse, cb_kwargs={"mark_key": f"{value} {term}" if term else value})

    def read(self, response: Response) -> Page:
        return youtube.parse_threads(response.body)
