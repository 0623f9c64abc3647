"""Turning what a page says about time into timezone-aware UTC.

Machine-readable times (ISO 8601, RFC 822 in feeds) are parsed exactly; a forum that
only prints "Pon 20 lis 2026, 14:05" or "вчера, 12:30" goes through dateparser, in the
source's time zone and relative to the crawl's own clock.
"""

from __future__ import annotations

import email.utils
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo

import dateparser
from dateparser.data.languages_info import language_order

# Language hints come from pages (<html lang>, a feed's <language>); dateparser refuses the
# whole call for one code it does not know, so unknown ones are dropped first.
DATEPARSER_LANGUAGES = frozenset(language_order)


def to_utc(value: datetime, zone: tzinfo) -> datetime:
    """An aware UTC time; a naive one is read in `zone`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _machine_readable(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def parse_time(
    value: datetime | str | None,
    *,
    zone: tzinfo,
    languages: Sequence[str] = (),
    now: datetime | None = None,
) -> datetime | None:
    """The UTC time `value` stands for, or None when it cannot be read.

    `now` anchors relative dates ("yesterday"); it defaults to the current time.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return to_utc(value, zone)
    text = " ".join(value.split())
    if not text:
        return None
    exact = _machine_readable(text)
    if exact is not None:
        return to_utc(exact, zone)
    local_now = (now or datetime.now(UTC)).astimezone(zone).replace(tzinfo=None)
    parsed = dateparser.parse(
        text,
        languages=[lang for lang in languages if lang in DATEPARSER_LANGUAGES] or None,
        settings={
            "TIMEZONE": str(zone),
            "RETURN_AS_TIMEZONE_AWARE": True,
            "RELATIVE_BASE": local_now,
            "PREFER_DATES_FROM": "past",
            "DATE_ORDER": "DMY",
        },
    )
    return to_utc(parsed, zone) if parsed is not None else None
