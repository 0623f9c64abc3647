"""ISO weeks in a brand's time zone."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from alerts.digest.weeks import IsoWeek

WARSAW = ZoneInfo("Europe/Warsaw")


def test_parse_and_print() -> None:
    assert IsoWeek.parse("2026-W47") == IsoWeek(2026, 47)
    assert IsoWeek.parse("2026w07") == IsoWeek(2026, 7)
    assert str(IsoWeek(2026, 7)) == "2026-W07"
    for bad in ("2026-47", "W47", "2026-W54", "2025-W53"):
        with pytest.raises(ValueError, match="ISO week"):
            IsoWeek.parse(bad)
    assert IsoWeek.parse("2026-W53") == IsoWeek(2026, 53)


def test_the_week_is_local_midnight_to_midnight() -> None:
    period = IsoWeek(2026, 47).period(WARSAW)
    assert period.start == datetime(2026, 11, 15, 23, tzinfo=UTC)
    assert period.end == datetime(2026, 11, 22, 23, tzinfo=UTC)


def test_days_follow_daylight_saving_time() -> None:
    # Sunday 25 October 2026: Warsaw goes from UTC+2 to UTC+1, a 25-hour day.
    days = IsoWeek(2026, 43).day_periods(WARSAW)
    assert [d.end - d.start for d in days] == [timedelta(hours=24)] * 6 + [timedelta(hours=25)]
    assert all(a.end == b.start for a, b in itertools.pairwise(days))


def test_last_complete_week_and_shifting_across_a_year() -> None:
    # Monday 4 January 2027 at 00:30 in Warsaw is still Sunday in UTC.
    now = datetime(2027, 1, 3, 23, 30, tzinfo=UTC)
    assert IsoWeek.last_complete(WARSAW, now=now) == IsoWeek(2026, 53)
    assert IsoWeek.last_complete(ZoneInfo("UTC"), now=now) == IsoWeek(2026, 52)
    assert IsoWeek(2027, 1).shifted(-1) == IsoWeek(2026, 53)
    assert IsoWeek(2026, 53).shifted(1) == IsoWeek(2027, 1)
