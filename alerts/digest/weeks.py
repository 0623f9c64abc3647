"""ISO weeks in a brand's time zone, and the UTC periods the store is queried with.

A manager in Warsaw reads "week 47" as Monday 00:00 to Sunday 24:00 Warsaw time, so every
bucket boundary is computed as local midnight and converted to UTC here, once; the SQL
then compares plain UTC timestamps and stays the same on SQLite and PostgreSQL, across
daylight-saving changes included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from store.daily_metrics import day_start

_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Period:
    """A half-open span of time [start, end), both ends timezone-aware UTC."""

    start: datetime
    end: datetime


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    def __post_init__(self) -> None:
        try:
            date.fromisocalendar(self.year, self.week, 1)
        except ValueError as exc:
            raise ValueError(f"{self.year}-W{self.week:02d} is not an ISO week") from exc

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """Read '2026-W47' (or '2026W47'); a bad value raises ValueError naming the format."""
        match = _ISO_WEEK.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not an ISO week like 2026-W47")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, day: date) -> IsoWeek:
        year, week, _ = day.isocalendar()
        return cls(year, week)

    @classmethod
    def last_complete(cls, tz: ZoneInfo, *, now: datetime | None = None) -> IsoWeek:
        """The most recent week that has ended in `tz`: the default week of a digest."""
        local_today = (now or datetime.now(UTC)).astimezone(tz).date()
        return cls.containing(local_today - timedelta(days=7))

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def days(self) -> list[date]:
        return [self.monday + timedelta(days=i) for i in range(7)]

    def shifted(self, weeks: int) -> IsoWeek:
        return IsoWeek.containing(self.monday + timedelta(weeks=weeks))

    def period(self, tz: ZoneInfo) -> Period:
        return Period(day_start(self.monday, tz), day_start(self.monday + timedelta(days=7), tz))

    def day_periods(self, tz: ZoneInfo) -> list[Period]:
        """The seven local days; 23 or 25 hours long where the clocks change."""
        return [Period(day_start(d, tz), day_start(d + timedelta(days=1), tz)) for d in self.days]
