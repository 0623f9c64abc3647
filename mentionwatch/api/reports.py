"""/metrics, /brands, /sources: what dashboards poll.

The weekly numbers are the weekly digest's (alerts.digest.metrics: its definitions and
summaries), so a dashboard and the Monday e-mail never disagree; weeks are ISO weeks in
the brand's own time zone.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from sqlalchemy import ColumnElement, and_, case, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from alerts.digest.metrics import ResponseSummary, SentimentCounts
from alerts.digest.weeks import IsoWeek, Period
from mentionwatch.api.auth import engine_of, reader
from mentionwatch.api.mentions import invalid
from mentionwatch.api.schemas import BrandMetrics, BrandOut, SourceOut
from store.db import session_scope
from store.derived import effective_label, happened_at
from store.models import ApiToken, Brand, Handling, HandlingState, Mention, SentimentScore, Source
from store.queries import LABELS
from store.search import rating_5

router = APIRouter(tags=["reports"])


def _in_buckets(brand_id: int, periods: list[Period]) -> tuple[ColumnElement[int], ColumnElement[bool]]:
    """The bucket index of a mention, and the condition for the brand and the whole span.

    The span is spelled as an OR rather than a range on happened_at so that the
    (brand_id, published_at) index serves the dated mentions, as in the digest.
    """
    index = case(*((happened_at() < p.end, i) for i, p in enumerate(periods)), else_=len(periods))
    start, end = periods[0].start, periods[-1].end
    published, fetched = col(Mention.published_at), col(Mention.fetched_at)
    span = or_(and_(published >= start, published < end), and_(published.is_(None), fetched >= start, fetched < end))
    return index, and_(col(Mention.brand_id) == brand_id, span)


def weekly_series(session: Session, brand: Brand, weeks: int, last: IsoWeek | None) -> dict[str, Any]:
    """`weeks` ISO weeks of one brand, ending with `last` (default: the current week).

    Two queries for the whole series instead of the digest's few per week; the numbers
    are the digest's (tests compare them with alerts.digest.metrics week by week), the
    average rating on mention_view.rating_5, the digest's rescaling in SQL.
    """
    assert brand.id is not None
    zone = ZoneInfo(brand.timezone)
    last = last or IsoWeek.containing(datetime.now(UTC).astimezone(zone).date())
    series = [last.shifted(-back) for back in reversed(range(weeks))]
    periods = [week.period(zone) for week in series]
    index, of_brand = _in_buckets(brand.id, periods)
    label = effective_label()
    answered = col(Handling.first_response_at)
    negative = label == "negative"
    unhandled = or_(col(Handling.id).is_(None), col(Handling.state) == HandlingState.new.value)
    stars = rating_5()

    def how_many(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    totals = (
        select(
            index,
            func.count(),
            *(how_many(label == name) for name in LABELS),
            func.count(stars),
            func.sum(stars),
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
    rows = {row[0]: row[1:] for row in session.execute(totals)}
    waits: list[list[timedelta]] = [[] for _ in periods]
    answered_negatives = (
        select(index, happened_at(), answered)
        .select_from(Mention)
        .join(SentimentScore, col(SentimentScore.mention_id) == col(Mention.id))
        .join(Handling, col(Handling.mention_id) == col(Mention.id))
        .where(of_brand, negative, answered.is_not(None))
    )
    for i, happened, answered_at in session.execute(answered_negatives):
        # As in the digest: an answer before the stated time counts as instant.
        waits[i].append(max(answered_at - happened, timedelta(0)))
    return {
        "brand": brand.name,
        "timezone": brand.timezone,
        "weeks": [
            _week(str(week), period, rows.get(i, (0,) * 9), waits[i])
            for i, (week, period) in enumerate(zip(series, periods, strict=True))
        ],
    }


def _week(name: str, period: Period, totals: Sequence[Any], waits: list[timedelta]) -> dict[str, Any]:
    """One week's totals, in the digest's summaries."""
    total, negative, neutral, positive, ratings, stars_sum, negatives, responded, unhandled = totals
    sentiment = SentimentCounts(negative, neutral, positive, total - negative - neutral - positive)
    median = statistics.median(waits) if waits else None
    responses = ResponseSummary(negatives, responded, unhandled, median)
    return {
        "week": name,
        "start": period.start,
        "end": period.end,
        "mentions": sentiment.total,
        "negative": sentiment.negative,
        "neutral": sentiment.neutral,
        "positive": sentiment.positive,
        "unscored": sentiment.unscored,
        "net_sentiment": sentiment.net_sentiment,
        "ratings": ratings,
        "avg_rating": float(stars_sum) / ratings if ratings else None,
        "negatives_responded": responses.responded,
        "response_rate": responses.response_rate,
        "median_first_response_seconds": median.total_seconds() if median is not None else None,
    }


@router.get("/metrics", response_model=list[BrandMetrics], summary="Weekly series per brand")
def metrics(
    engine: Annotated[Engine, Depends(engine_of)],
    _token: Annotated[ApiToken, Depends(reader)],
    brand: Annotated[str | None, Query(description="One brand; all brands without it")] = None,
    weeks: Annotated[int, Query(ge=1, le=104, description="How many weeks, ending with last_week")] = 12,
    last_week: Annotated[str | None, Query(description="ISO week like 2026-W47; default: the current week")] = None,
) -> list[dict[str, Any]]:
    try:
        last = IsoWeek.parse(last_week) if last_week is not None else None
    except ValueError as exc:
        raise invalid("last_week", str(exc)) from exc
    with session_scope(engine) as session:
        brands = list(session.exec(select(Brand).order_by(col(Brand.name))))
        if brand is not None:
            brands = [b for b in brands if b.name == brand]
            if not brands:
                raise invalid("brand", f"unknown brand {brand!r}")
        return [weekly_series(session, b, weeks, last) for b in brands]


@router.get("/brands", response_model=list[BrandOut], summary="The brands in the store")
def brands(
    engine: Annotated[Engine, Depends(engine_of)], _token: Annotated[ApiToken, Depends(reader)]
) -> list[Brand]:
    with session_scope(engine) as session:
        return list(session.exec(select(Brand).order_by(col(Brand.name))))


@router.get("/sources", response_model=list[SourceOut], summary="The sources in the store, with their brand")
def sources(
    engine: Annotated[Engine, Depends(engine_of)], _token: Annotated[ApiToken, Depends(reader)]
) -> list[dict[str, Any]]:
    with session_scope(engine) as session:
        rows = session.exec(
            select(Source, Brand).join(Brand, col(Brand.id) == col(Source.brand_id)).order_by(col(Source.name))
        )
        return [{"id": s.id, "name": s.name, "type": s.type, "brand": b.name} for s, b in rows]
