"""What the API accepts: every parameter is checked here, so bad input is a 422 naming it.

Each check stands for a 500 that a value once caused: a cursor of `²` (a digit to
str.isdigit, not to int) or of 20 digits (beyond any integer column; ids are
32-bit on PostgreSQL), `until=9999-12-31` (its next day does not exist), `last_week=0001-W02` (the
weeks before it do not), a NUL character (PostgreSQL text cannot hold one) and an
unpaired surrogate (not encodable as UTF-8): see mentionwatch.api.text.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import HTTPException, Path
from alerts.digest.weeks import IsoWeek

MAX_ID = 2**31 - 1  # ids are INTEGER columns: 32 bits on PostgreSQL
# Dates outside these years are typos; inside, every day, week and time zone exists.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9998, 12, 31)

MentionId = Annotated[int, Path(ge=1, le=MAX_ID, description="A mention's id")]


def invalid(field: str, message: str, **extra: Any) -> HTTPException:
    """A 422 shaped like FastAPI's own validation errors, naming the parameter."""
    return HTTPException(422, [{"loc": ["query", field], "msg": message, "type": "value_error", **extra}])


def cursor_id(value: str | None) -> int | None:
    """The id a page continues below; only what next_cursor hands out is accepted."""
    if value is None:
        return None
    if not re.fullmatch(r"[0-9]{1,10}", value) or not 1 <= int(value) <= MAX_ID:
        raise invalid("cursor", "use the next_cursor of the previous page")
    return int(value)


def moment(field: str, value: date | datetime | None, *, end: bool = False) -> datetime | None:
    """A datetime in UTC (naive means UTC); a bare date is its whole UTC day (`end`: the
    day after it, so that an exclusive bound includes the day)."""
    if value is None:
        return None
    day = value.date() if isinstance(value, datetime) else value
    if not FIRST_DAY <= day <= LAST_DAY:
        raise invalid(field, f"must be between {FIRST_DAY} and {LAST_DAY}")
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    start = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return start + timedelta(days=1) if end else start


def ending_week(value: str | None, weeks: int) -> IsoWeek | None:
    """The ISO week a series ends with; the `weeks` weeks up to it must lie within the years."""
    if value is None:
        return None
    try:
        week = IsoWeek.parse(value)
    except ValueError as exc:
        raise invalid("last_week", str(exc)) from exc
    if not FIRST_DAY + timedelta(weeks=weeks - 1) <= week.monday <= LAST_DAY - timedelta(days=6):
        raise invalid("last_week", f"{week} and the {weeks - 1} weeks before it must lie between {FIRST_DAY} and "
                                   f"{LAST_DAY}")
    return week
