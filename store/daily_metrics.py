"""Each brand's numbers per local day, kept current lazily, so weekly series add up days.

A dashboard polling twelve weeks of a busy brand made the database join some 38,000
mentions with their scores and handling on every call (p95 237 ms on SQLite and 1.3 s on
PostgreSQL with 1,000,000 mentions). Instead, the functions in store.queries that change a
mention, its score or its handling append the hour the mention happened in to
metrics_dirty, and a reader recomputes only the days that are dirty or were never
computed, stores them in daily_metrics and reads the rest from there: in steady state
that is today and any day a late edit, relabel or answer touched. With 1,000,000
mentions (benchmarks/query.py) twelve weeks now take p95 3.5 ms on SQLite and 4.7 ms on
PostgreSQL, 48 and 16 ms right after a relabel.

Days are the brand's local days, so ISO weeks in its time zone are sums of whole days;
the numbers are the weekly digest's definitions (store.derived, mention_view.rating_5).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_
from sqlmodel import Session, col, delete, insert, select

from store.db import conflict_insert
from store.derived import effective_label, happened_at
from store.models import DailyMetrics, DayCounts, Handling, HandlingState, Mention, MetricsDirty, SentimentScore
from store.derived import rating_5

# The summed numbers, in the order the totals query selects them.
COUNTS = ("mentions", "negative", "neutral", "positive", "ratings", "stars_sum", "negatives", "responded", "unhandled")


def mark_changed(session: Session, brand_id: int, moments: Iterable[datetime | None]) -> None:
    """Record that the mentions of ``brand_id`` that happened at ``moments`` changed."""
    hours = {moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0) for moment in moments if moment}
    if hours:
        # One executemany: ORM objects doubled the cost of saving a batch of mentions.
        session.execute(insert(MetricsDirty), [{"brand_id": brand_id, "hour": hour} for hour in sorted(hours)])


def mention_moment(mention: Mention) -> datetime:
    """When the mention happened (store.derived.happened_at, in Python)."""
    return mention.published_at or mention.fetched_at


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``zone``."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def daily_totals(
    session: Session, *, brand_id: int, zone: ZoneInfo, days: Sequence[date], keep: bool = True
) -> dict[date, DayCounts]:
    """The totals of each of ``days`` (local days in ``zone``), recomputing stale ones first.

    With ``keep`` the recomputed days are stored and their marks cleared; without it
    nothing is written, for a reader that must not wait for a writer's lock.
    """
    wanted = set(days)
    stored = {
        row.day: row
        for row in session.exec(
            select(DailyMetrics).where(
                col(DailyMetrics.brand_id) == brand_id, col(DailyMetrics.day).between(min(days), max(days))
            )
        )
        if row.day in wanted and row.timezone == zone.key
    }
    marks = session.exec(select(MetricsDirty.id, MetricsDirty.hour).where(col(MetricsDirty.brand_id) == brand_id)).all()
    # An hour can fall on two local days where the offset is not whole hours (+05:30).
    days_of_mark = {
        mark_id: {moment.astimezone(zone).date() for moment in (hour, hour + timedelta(minutes=59, seconds=59))}
        for mark_id, hour in marks
    }
    dirty = set().union(*days_of_mark.values()) if days_of_mark else set()
    stale = sorted(day for day in wanted if day in dirty or day not in stored)
    fresh: dict[date, DayCounts] = {}
    for run in _contiguous(stale):
        fresh |= compute_days(session, brand_id, zone, run)
    if fresh and keep:
        _store(session, brand_id, zone, fresh)
    if keep:
        done = {mark_id for mark_id, mark_days in days_of_mark.items() if mark_days <= wanted}
        _clear_marks(session, done | _superseded(marks))
    return {day: fresh[day] if day in fresh else _totals_of(stored[day]) for day in days}


def _superseded(marks: Sequence[tuple[int | None, datetime]]) -> set[int]:
    """Every mark but the newest of its hour. Writes append marks (no upsert, so no row
    locks between concurrent savers), so a brand-hour piles one up per write: a re-score,
    or weeks of crawling days no reader asked for. The newest one says all the older say,
    and keeping the newest, not the oldest, keeps a mark written after a concurrent reader
    read the older ones, which that reader then deletes."""
    newest: dict[datetime, int] = {}
    for mark_id, hour in marks:
        assert mark_id is not None
        newest[hour] = max(newest.get(hour, mark_id), mark_id)
    return {mark_id for mark_id, hour in marks if mark_id != newest[hour]}


# Ids per DELETE: under SQLite's limit on bound parameters.
_DELETE_CHUNK = 10_000


def _clear_marks(session: Session, mark_ids: set[int]) -> None:
    ordered = sorted(mark_ids)
    for start in range(0, len(ordered), _DELETE_CHUNK):
        session.execute(delete(MetricsDirty).where(col(MetricsDirty.id).in_(ordered[start : start + _DELETE_CHUNK])))


def _totals_of(row: DailyMetrics) -> DayCounts:
    return DayCounts(**{name: getattr(row, name) for name in DayCounts.model_fields})


def _contiguous(days: Sequence[date]) -> Iterator[list[date]]:
    """Sorted days in runs of consecutive days: each run is one range query."""
    run: list[date] = []
    for day in days:
        if run and day != run[-1] + timedelta(days=1):
            yield run
            run = []
        run.append(day)
    if run:
        yield run


def compute_days(session: Session, brand_id: int, zone: ZoneInfo, days: list[date]) -> dict[date, DayCounts]:
    """The totals of consecutive ``days`` straight from the mentions (two queries), without
    reading or writing daily_metrics: what daily_totals stores, and the benchmark's baseline."""
    ends = [day_start(day + timedelta(days=1), zone) for day in days]
    start, end = day_start(days[0], zone), ends[-1]
    index = case(*((happened_at() < day_end, i) for i, day_end in enumerate(ends)), else_=len(days))
    # An OR rather than a range on happened_at, so that the (brand_id, published_at)
    # index serves the dated mentions.
    published, fetched = col(Mention.published_at), col(Mention.fetched_at)
    of_brand = and_(
        col(Mention.brand_id) == brand_id,
        or_(and_(published >= start, published < end), and_(published.is_(None), fetched >= start, fetched < end)),
    )
    label = effective_label()
    answered = col(Handling.first_response_at)
    negative = label == "negative"
    unhandled = or_(col(Handling.id).is_(None), col(Handling.state) == HandlingState.new.value)
    stars = rating_5()

    def how_many(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    totals = (
        select(  # type: ignore[call-overload]
            index,
            func.count(),
            *(how_many(label == name) for name in ("negative", "neutral", "positive")),
            func.count(stars),
            func.coalesce(func.sum(stars), 0.0),
            how_many(negative),
            how_many(and_(negative, answered.is_not(None))),
            how_many(and_(negative, unhandled)),
        )
        .select_from(Mention)
        .outerjoin(SentimentScore, col(SentimentScore.mention_id) == col(Mention.id))
        .outerjoin(Handling, col(Handling.mention_id) == col(Mention.id))
        .where(of_brand)
        .group_by(index)
    )
    result = {day: DayCounts() for day in days}
    for i, *counts in session.execute(totals):
        if i < len(days):
            result[days[i]] = DayCounts(**dict(zip(COUNTS, counts, strict=True)))
    # Outer joins, as above, keep PostgreSQL reading the brand's mentions of these days
    # first; with inner joins it started from every negative score in the store (120 ms
    # instead of 3 ms for one day, with 300,000 mentions).
    answered_negatives = (
        select(index, happened_at(), answered)  # type: ignore[call-overload]
        .select_from(Mention)
        .outerjoin(SentimentScore, col(SentimentScore.mention_id) == col(Mention.id))
        .outerjoin(Handling, col(Handling.mention_id) == col(Mention.id))
        .where(of_brand, negative, answered.is_not(None))
    )
    for i, happened, answered_at in session.execute(answered_negatives):
        if i < len(days):
            # As in the digest: an answer before the stated time counts as instant.
            result[days[i]].waits.append(max((answered_at - happened).total_seconds(), 0.0))
    return result


def _store(session: Session, brand_id: int, zone: ZoneInfo, totals: dict[date, DayCounts]) -> None:
    """Upsert: two readers recomputing the same day at once both succeed."""
    rows: list[dict[str, Any]] = [
        {"brand_id": brand_id, "day": day, "timezone": zone.key, "waits": day_totals.waits}
        | {name: getattr(day_totals, name) for name in COUNTS}
        for day, day_totals in totals.items()
    ]
    statement = conflict_insert(session, DailyMetrics.__table__)  # type: ignore[attr-defined]
    updated = {name: statement.excluded[name] for name in (*COUNTS, "timezone", "waits")}
    session.execute(statement.on_conflict_do_update(index_elements=["brand_id", "day"], set_=updated), rows)
