"""/metrics, /brands, /sources: what dashboards poll.

The weekly numbers are the weekly digest's (alerts.digest.metrics: its definitions and
summaries), so a dashboard and the Monday e-mail never disagree; weeks are ISO weeks in
the brand's own time zone.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from sqlalchemy import ColumnElement, and_, case, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from alerts.digest.metrics import ResponseSummary, SentimentCounts, effective_label, happened_at, summarize_ratings
from alerts.digest.weeks import IsoWeek, Period
from mentionwatch.api.auth import engine_of, reader
from mentionwatch.api.mentions import invalid
from mentionwatch.api.schemas import BrandMetrics, BrandOut, SourceOut
from store.db import session_scope
from store.models import ApiToken, Brand, Handling, HandlingState, Mention, SentimentScore, Source

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
    are the digest's (tests compare them with alerts.digest.metrics week by week).
    """
    assert brand.id is not None
    zone = ZoneInfo(brand.timezone)
    last = last or IsoWeek.containing(datetime.now(UTC).astimezone(zone).date())
    series = [last.shifted(-back) for back in reversed(range(weeks))]
    periods = [week.period(zone) for week in series]
    index, of_brand = _in_buckets(brand.id, periods)
    label = effective_label()
    rating, best, worst = col(Mention.rating), col(Mention.rating_best), col(Mention.rating_worst)
    answered = col(Handling.first_response_at)
    responded = case((answered.is_not(None), 1), else_=0)
    unhandled = case((or_(col(Handling.id).is_(None), col(Handling.state) == HandlingState.new.value), 1), else_=0)
    joined = (
        select(index, label, rating, best, worst, responded, unhandled, func.count())
        .select_from(Mention)
        .outerjoin(SentimentScore, col(SentimentScore.mention_id) == col(Mention.id))
        .outerjoin(Handling, col(Handling.mention_id) == col(Mention.id))
        .where(of_brand)
        .group_by(index, label, rating, best, worst, responded, unhandled)
    )
    buckets = [_Bucket() for _ in periods]
    for i, row_label, row_rating, row_best, row_worst, is_responded, is_unhandled, count in session.execute(joined):
        buckets[i].add(row_label, row_rating, row_best, row_worst, bool(is_responded), bool(is_unhandled), count)
    waits = (
        select(index, happened_at(), answered)
        .select_from(Mention)
        .join(SentimentScore, col(SentimentScore.mention_id) == col(Mention.id))
        .join(Handling, col(Handling.mention_id) == col(Mention.id))
        .where(of_brand, label == "negative", answered.is_not(None))
    )
    for i, happened, answered_at in session.execute(waits):
        # As in the digest: an answer before the stated time counts as instant.
        buckets[i].waits.append(max(answered_at - happened, timedelta(0)))
    return {
        "brand": brand.name,
        "timezone": brand.timezone,
        "weeks": [bucket.summary(str(week), period) for week, period, bucket in zip(series, periods, buckets, strict=True)],
    }


@dataclass
class _Bucket:
    """One week's grouped rows, folded into the digest's summaries."""

    labels: list[tuple[str | None, int]] = field(default_factory=list)
    ratings: list[tuple[float, float | None, float | None, int]] = field(default_factory=list)
    negatives: int = 0
    responded: int = 0
    unhandled: int = 0
    waits: list[timedelta] = field(default_factory=list)

    def add(self, label: str | None, rating: float | None, best: float | None, worst: float | None,
            responded: bool, unhandled: bool, count: int) -> None:
        self.labels.append((label, count))
        if rating is not None:
            self.ratings.append((rating, best, worst, count))
        if label == "negative":
            self.negatives += count
            self.responded += count if responded else 0
            self.unhandled += count if unhandled else 0

    def summary(self, week: str, period: Period) -> dict[str, Any]:
        sentiment = SentimentCounts.from_rows(self.labels)
        ratings = summarize_ratings(self.ratings)
        median = statistics.median(self.waits) if self.waits else None
        responses = ResponseSummary(self.negatives, self.responded, self.unhandled, median)
        return {
            "week": week,
            "start": period.start,
            "end": period.end,
            "mentions": sentiment.total,
            "negative": sentiment.negative,
            "neutral": sentiment.neutral,
            "positive": sentiment.positive,
            "unscored": sentiment.unscored,
            "net_sentiment": sentiment.net_sentiment,
            "ratings": ratings.count,
            "avg_rating": ratings.average,
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
