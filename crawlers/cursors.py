"""High-water marks: how a scheduled crawl knows where the last one stopped.

A source's cursor is the newest item id (or time) a previous run saw; spiders that page
newest-first stop as soon as a page holds nothing newer. Marks are strings in the
store (`crawl_cursors.value`): digits for ids, ISO 8601 for times.
"""

from __future__ import annotations

from datetime import datetime

Marker = int | datetime


def parse_marker(value: str | None) -> Marker | None:
    if not value:
        return None
    if value.isdigit():
        return int(value)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def format_marker(marker: Marker) -> str:
    return marker.isoformat() if isinstance(marker, datetime) else str(marker)


class HighWaterMark:
    """The newest marker the last run saved, and the newest this run has seen."""

    def __init__(self, saved: str | None) -> None:
        self.saved = parse_marker(saved)
        self.newest: Marker | None = self.saved

    def is_known(self, marker: Marker) -> bool:
        """Seen by an earlier run: at or below the saved mark (of the same kind)."""
        if self.saved is None or type(self.saved) is not type(marker):
            return False
        return marker <= self.saved  # type: ignore[operator]

    def see(self, marker: Marker) -> None:
        if self.newest is None or type(self.newest) is not type(marker) or marker > self.newest:  # type: ignore[operator]
            self.newest = marker

    @property
    def value(self) -> str | None:
        return format_marker(self.newest) if self.newest is not None else None
