"""The one item every spider yields: a mention as found at its source, before clean-up.

Spiders fill in what the page says, as raw as it comes (HTML bodies, date strings,
ratings as text); the pipeline steps in `crawlers.pipelines` turn that into the stored
form. Keeping spiders that dumb is what makes a new source type a small module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

BodyFormat = Literal["html", "text"]


@dataclass
class MentionItem:
    """A review, post or comment as the spider saw it.

    Filled by the spider:
        url: the item's permalink (a redirect wrapper such as google.com/url is fine).
        body: the item's own text, without quoted replies or signatures.
        body_format: "html" when `body` (and `title`) are markup, "text" otherwise.
        external_id: the source's id for the item; re-crawls find it by this, so it
            must not change when the text is edited.
        published: an aware or naive datetime (naive = the source's time zone), or
            the date as the page shows it ("2026-11-20T14:05:00+01:00", "вчера, 12:30").
        date_languages: ISO 639-1 hints for parsing a localized `published` string.
        rating, rating_best, rating_worst: as given (numbers or text like "4,5").
        views: how many saw it, where the source counts.

    Filled by the pipeline: text, canonical_url, language, dedup_key, content_hash.
    """

    url: str
    body: str
    body_format: BodyFormat = "text"
    external_id: str | None = None
    title: str | None = None
    author: str | None = None
    published: datetime | str | None = None
    date_languages: list[str] = field(default_factory=list)
    thread_url: str | None = None
    parent_url: str | None = None
    rating: float | str | None = None
    rating_best: float | str | None = None
    rating_worst: float | str | None = None
    views: int | None = None

    text: str = ""
    canonical_url: str = ""
    published_at: datetime | None = None
    language: str | None = None
    dedup_key: str = ""
    content_hash: str = ""
