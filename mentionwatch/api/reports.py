"""/metrics, /brands, /sources: what dashboards poll.

The weekly numbers are the weekly digest's (alerts.digest.metrics: its definitions and
summaries), so a dashboard and the Monday e-mail never disagree; weeks are ISO weeks in
the brand's own time zone.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from alerts.digest.metrics import ResponseSummary, SentimentCounts
from alerts.digest.weeks import IsoWeek
from mentionwatch.api.auth import engine_of, reader
from mentionwatch.api.params import ending_week, invalid
from mentionwatch.api.text import Text
from mentionwatch.api.schemas import NEEDS_TOKEN, BrandMetrics, BrandOut, SourceOut
from store.daily_metrics import daily_totals
from store.db import not_waiting, session_scope
from store.models import ApiToken, Brand, DayCounts, Source

router = APIRouter(tags=["reports"], responses=NEEDS_TOKEN)


def weekly_series(
    session: Session, brand: Brand, weeks: int, last: IsoWeek | None, *, keep: bool = True
) -> dict[str, Any]:
    """`weeks` ISO weeks of one brand, ending with `last` (default: the current week).

    Each week adds up its seven local days from store.daily_metrics, which recomputes
    only the days that changed (and, with `keep`, stores them); the numbers are the
    digest's (tests compare them with alerts.digest.metrics week by week).
    """
    assert brand.id is not None
    zone = ZoneInfo(brand.timezone)
    last = last or IsoWeek.containing(datetime.now(UTC).astimezone(zone).date())
    series = [last.shifted(-back) for back in reversed(range(weeks))]
    wanted = [day for week in series for day in week.days]
    days = daily_totals(session, brand_id=brand.id, zone=zone, days=wanted, keep=keep)
    return {
        "brand": brand.name,
        "timezone": brand.timezone,
        "weeks": [_week(week, zone, sum((days[day] for day in week.days), DayCounts())) for week in series],
    }


def _week(week: IsoWeek, zone: ZoneInfo, totals: DayCounts) -> dict[str, Any]:
    """One week's totals, in the digest's summaries."""
    sentiment = SentimentCounts(
        totals.negative, totals.neutral, totals.positive,
        totals.mentions - totals.negative - totals.neutral - totals.positive,
    )  # fmt: skip
    median = timedelta(seconds=statistics.median(totals.waits)) if totals.waits else None
    responses = ResponseSummary(totals.negatives, totals.responded, totals.unhandled, median)
    period = week.period(zone)
    return {
        "week": str(week),
        "start": period.start,
        "end": period.end,
        "mentions": sentiment.total,
        "negative": sentiment.negative,
        "neutral": sentiment.neutral,
        "positive": sentiment.positive,
        "unscored": sentiment.unscored,
        "net_sentiment": sentiment.net_sentiment,
        "ratings": totals.ratings,
        "avg_rating": totals.stars_sum / totals.ratings if totals.ratings else None,
        "negatives_responded": responses.responded,
        "response_rate": responses.response_rate,
        "median_first_response_seconds": median.total_seconds() if median is not None else None,
    }


@router.get("/metrics", response_model=list[BrandMetrics], summary="Weekly series per brand")
def metrics(
    engine: Annotated[Engine, Depends(engine_of)],
    _token: Annotated[ApiToken, Depends(reader)],
    brand: Annotated[Text | None, Query(description="One brand; all brands without it")] = None,
    weeks: Annotated[int, Query(ge=1, le=104, description="How many weeks, ending with last_week")] = 12,
    last_week: Annotated[Text | None, Query(description="ISO week like 2026-W47; default: the current week")] = None,
) -> list[dict[str, Any]]:
    last = ending_week(last_week, weeks)
    with session_scope(engine) as session:
        brands = list(session.exec(select(Brand).order_by(col(Brand.name))))
        if brand is not None:
            brands = [b for b in brands if b.name == brand]
            if not brands:
                raise invalid("brand", f"unknown brand {brand!r}")
        try:
            with not_waiting(session.connection()):
                return [weekly_series(session, b, weeks, last) for b in brands]
        except OperationalError:
            # A crawl holds the write lock: the same numbers, recomputed and not kept.
            session.rollback()
            return [weekly_series(session, b, weeks, last, keep=False) for b in brands]


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
