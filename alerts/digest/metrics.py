"""Reputation and customer-experience metrics, computed by aggregate queries on the store.

Pure functions of the store: each takes an open Session, a brand id and UTC periods, and
returns plain frozen dataclasses, so the digest, the HTTP API and a notebook all get the
same numbers. The heavy lifting is GROUP BY in the database: a week of 10,000 mentions
comes back as a few dozen rows, not 10,000 ORM objects (see benchmarks/digest.py).

Definitions (also in the digest's footer):
- A mention happens at `published_at`, or at `fetched_at` where the source gives no date.
- Its sentiment is the person's `manual_label` where set, else the model's `label`.
- Ratings are rescaled from their own worst..best (schema.org defaults 1..5) to 1..5 stars;
  CSAT is the share of ratings at 4 stars or more; the NPS-style score rescales to 0..10,
  rounds, and counts 9-10 as promoters, 7-8 as passives and 0-6 as detractors.
- A negative mention is handled once anyone acknowledged, answered or ignored it; its
  response time runs from when it happened to `Handling.first_response_at`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, or_, union_all
from sqlmodel import Session, col, select

from alerts.digest.weeks import IsoWeek, Period
from store.derived import effective_label, happened_at
from store.models import Handling, HandlingState, Mention, SentimentScore, Source
from store.queries import LABELS
from store.ratings import rescale

_EPSILON = 1e-9


def _of_brand_in(brand_id: int, period: Period) -> ColumnElement[bool]:
    """The brand's mentions that happened in `period`.

    Written as `id IN (dated UNION ALL undated)` so that both halves are range scans of
    the (brand_id, published_at) index: the cost follows the mentions of the period, not
    the brand's whole history, which `coalesce(...) BETWEEN` or an OR would scan.
    """
    published, fetched = col(Mention.published_at), col(Mention.fetched_at)
    of_brand = col(Mention.brand_id) == brand_id
    dated = select(col(Mention.id)).where(of_brand, published >= period.start, published < period.end)
    undated = select(col(Mention.id)).where(
        of_brand, published.is_(None), fetched >= period.start, fetched < period.end
    )
    return col(Mention.id).in_(union_all(dated, undated))


@dataclass(frozen=True)
class SentimentCounts:
    negative: int = 0
    neutral: int = 0
    positive: int = 0
    unscored: int = 0

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str | None, int]]) -> SentimentCounts:
        """Sum (label, count) rows; a missing or unknown label counts as not scored yet."""
        counts = dict.fromkeys((*LABELS, "unscored"), 0)
        for label, count in rows:
            counts[label if label in LABELS else "unscored"] += count
        return cls(**counts)

    @property
    def total(self) -> int:
        return self.negative + self.neutral + self.positive + self.unscored

    @property
    def labelled(self) -> int:
        return self.negative + self.neutral + self.positive

    @property
    def negative_share(self) -> float | None:
        """Negatives among the scored mentions; None when nothing was scored."""
        return self.negative / self.labelled if self.labelled else None

    @property
    def net_sentiment(self) -> float | None:
        """(positive - negative) / (positive + negative), from -1 to 1; None without either."""
        polar = self.positive + self.negative
        return (self.positive - self.negative) / polar if polar else None


def sentiment_by_bucket(session: Session, *, brand_id: int, buckets: Sequence[Period]) -> list[SentimentCounts]:
    """Sentiment counts for each of several adjacent periods (days, weeks) in one query."""
    if not buckets:
        return []
    when = happened_at()
    index = case(*((when < bucket.end, i) for i, bucket in enumerate(buckets)), else_=len(buckets))
    label = effective_label()
    statement = (
        select(index, label, func.count())
        .select_from(Mention)
        .outerjoin(SentimentScore, col(SentimentScore.mention_id) == col(Mention.id))
        .where(_of_brand_in(brand_id, Period(buckets[0].start, buckets[-1].end)))
        .group_by(index, label)
    )
    rows: list[list[tuple[str | None, int]]] = [[] for _ in buckets]
    for i, row_label, count in session.exec(statement):
        rows[i].append((row_label, count))
    return [SentimentCounts.from_rows(bucket_rows) for bucket_rows in rows]


def sentiment_counts(session: Session, *, brand_id: int, period: Period) -> SentimentCounts:
    return sentiment_by_bucket(session, brand_id=brand_id, buckets=[period])[0]


def sentiment_by_source(session: Session, *, brand_id: int, period: Period) -> list[tuple[str, SentimentCounts]]:
    """Each source's sentiment counts, busiest source first."""
    label = effective_label()
    statement = (
        select(col(Source.name), label, func.count())
        .select_from(Mention)
        .join(Source, col(Source.id) == col(Mention.source_id))
        .outerjoin(SentimentScore, col(SentimentScore.mention_id) == col(Mention.id))
        .where(_of_brand_in(brand_id, period))
        .group_by(col(Source.name), label)
    )
    grouped: dict[str, list[tuple[str | None, int]]] = {}
    for name, row_label, count in session.exec(statement):
        grouped.setdefault(name, []).append((row_label, count))
    by_source = [(name, SentimentCounts.from_rows(rows)) for name, rows in grouped.items()]
    return sorted(by_source, key=lambda item: (-item[1].total, item[0]))


def language_counts(session: Session, *, brand_id: int, period: Period) -> list[tuple[str | None, int]]:
    """Mentions per language code (None: not detected), most frequent first."""
    language = col(Mention.language)
    statement = select(language, func.count()).where(_of_brand_in(brand_id, period)).group_by(language)
    return sorted(session.exec(statement).all(), key=lambda item: (-item[1], item[0] or "~"))


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5 + _EPSILON)


@dataclass(frozen=True)
class RatingSummary:
    count: int = 0
    stars_sum: float = 0.0
    # Ratings per whole star, 1 to 5, after rescaling and rounding.
    distribution: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    satisfied: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    @property
    def average(self) -> float | None:
        return self.stars_sum / self.count if self.count else None

    @property
    def csat(self) -> float | None:
        """Share of ratings at 4 or 5 stars, 0 to 1."""
        return self.satisfied / self.count if self.count else None

    @property
    def nps(self) -> float | None:
        """Promoters minus detractors, in percent of ratings: -100 to 100."""
        return 100.0 * (self.promoters - self.detractors) / self.count if self.count else None


def summarize_ratings(rows: Iterable[tuple[float | None, float | None, float | None, int]]) -> RatingSummary:
    """Fold (rating, best, worst, count) rows into the rating metrics; unrated rows are skipped."""
    count, stars_sum, satisfied = 0, 0.0, 0
    distribution = [0] * 5
    nps_groups = {"promoters": 0, "passives": 0, "detractors": 0}
    for rating, best, worst, n in rows:
        if rating is None:
            continue
        stars = rescale(rating, best=best, worst=worst, low=1.0, high=5.0)
        points = rescale(rating, best=best, worst=worst, low=0.0, high=10.0)
        if stars is None or points is None:
            continue
        count += n
        stars_sum += stars * n
        distribution[_round_half_up(stars) - 1] += n
        satisfied += n if stars >= 4.0 - _EPSILON else 0
        nps_point = _round_half_up(points)
        group = "promoters" if nps_point >= 9 else "passives" if nps_point >= 7 else "detractors"
        nps_groups[group] += n
    d1, d2, d3, d4, d5 = distribution
    return RatingSummary(count, stars_sum, (d1, d2, d3, d4, d5), satisfied, **nps_groups)


def rating_summary(session: Session, *, brand_id: int, period: Period) -> RatingSummary:
    rating, best, worst = col(Mention.rating), col(Mention.rating_best), col(Mention.rating_worst)
    statement = (
        select(rating, best, worst, func.count())
        .where(_of_brand_in(brand_id, period), rating.is_not(None))
        .group_by(rating, best, worst)
    )
    return summarize_ratings(session.exec(statement).all())


@dataclass(frozen=True)
class ResponseSummary:
    negatives: int = 0
    responded: int = 0
    unhandled: int = 0
    median_response: timedelta | None = None

    @property
    def response_rate(self) -> float | None:
        return self.responded / self.negatives if self.negatives else None


def _is_unhandled() -> ColumnElement[bool]:
    return or_(col(Handling.id).is_(None), col(Handling.state) == HandlingState.new.value)


def _negatives_of(statement: Any, brand_id: int, period: Period) -> Any:
    return (
        statement.join(SentimentScore, col(SentimentScore.mention_id) == col(Mention.id))
        .outerjoin(Handling, col(Handling.mention_id) == col(Mention.id))
        .where(_of_brand_in(brand_id, period), effective_label() == "negative")
    )


def response_summary(session: Session, *, brand_id: int, period: Period) -> ResponseSummary:
    """How fast and how completely the team answered the period's negative mentions."""
    responded_at = col(Handling.first_response_at)
    counts = select(
        func.count(), func.count(responded_at), func.coalesce(func.sum(case((_is_unhandled(), 1), else_=0)), 0)
    ).select_from(Mention)
    negatives, responded, unhandled = session.exec(_negatives_of(counts, brand_id, period)).one()
    times = _negatives_of(select(happened_at(), responded_at).select_from(Mention), brand_id, period).where(
        responded_at.is_not(None)
    )
    # A reply can predate a mention's stated time (a source's clock or date-only
    # publication); it counts as instant rather than as a negative delay.
    waits = [max(answered - happened, timedelta(0)) for happened, answered in session.exec(times)]
    median = statistics.median(waits) if waits else None
    return ResponseSummary(negatives, responded, unhandled, median)


@dataclass(frozen=True)
class MentionLink:
    """A mention as a line in a list: enough to recognise it and a link to open it."""

    id: int
    url: str
    source: str
    happened_at: datetime
    text: str
    title: str | None = None
    author: str | None = None
    stars: float | None = None


def _mention_links(session: Session, statement: Any) -> list[MentionLink]:
    links = []
    for mention, source, when in session.exec(statement):
        stars = (
            rescale(mention.rating, best=mention.rating_best, worst=mention.rating_worst, low=1.0, high=5.0)
            if mention.rating is not None
            else None
        )
        links.append(
            MentionLink(mention.id, mention.url, source, when, mention.text, mention.title, mention.author, stars)
        )
    return links


def _listed(brand_id: int, period: Period) -> Any:
    return (
        select(Mention, col(Source.name), happened_at())
        .join(Source, col(Source.id) == col(Mention.source_id))
        .join(SentimentScore, col(SentimentScore.mention_id) == col(Mention.id))
        .where(_of_brand_in(brand_id, period))
    )


def unhandled_negatives(session: Session, *, brand_id: int, period: Period, limit: int) -> list[MentionLink]:
    """Negative mentions nobody has acted on yet, oldest (most overdue) first."""
    statement = (
        _listed(brand_id, period)
        .outerjoin(Handling, col(Handling.mention_id) == col(Mention.id))
        .where(effective_label() == "negative", _is_unhandled())
        .order_by(happened_at(), col(Mention.id))
        .limit(limit)
    )
    return _mention_links(session, statement)


def top_positive(session: Session, *, brand_id: int, period: Period, limit: int) -> list[MentionLink]:
    """The most clearly positive mentions: the ones worth thanking or sharing."""
    statement = (
        _listed(brand_id, period)
        .where(effective_label() == "positive")
        .order_by(
            func.coalesce(col(SentimentScore.prob_positive), 0.0).desc(),
            func.coalesce(col(Mention.rating), 0.0).desc(),
            col(Mention.id),
        )
        .limit(limit)
    )
    return _mention_links(session, statement)


@dataclass(frozen=True)
class Headline:
    """The numbers a manager compares week on week."""

    sentiment: SentimentCounts
    ratings: RatingSummary
    responses: ResponseSummary


def headline(session: Session, *, brand_id: int, period: Period) -> Headline:
    return Headline(
        sentiment_counts(session, brand_id=brand_id, period=period),
        rating_summary(session, brand_id=brand_id, period=period),
        response_summary(session, brand_id=brand_id, period=period),
    )


@dataclass(frozen=True)
class WeekReport:
    """Everything the weekly digest shows about one brand and ISO week."""

    week: IsoWeek
    timezone: str
    current: Headline
    previous: Headline
    days: list[SentimentCounts]
    sources: list[tuple[str, SentimentCounts]]
    languages: list[tuple[str | None, int]]
    unhandled: list[MentionLink]
    top_positive: list[MentionLink]
    trend: list[tuple[IsoWeek, SentimentCounts]]


def week_report(
    session: Session,
    *,
    brand_id: int,
    week: IsoWeek,
    tz: ZoneInfo,
    list_limit: int = 10,
    positive_limit: int = 5,
    trend_weeks: int = 8,
) -> WeekReport:
    """All of a week's metrics in a dozen aggregate queries, whatever the number of mentions."""
    period = week.period(tz)
    trend = [week.shifted(-back) for back in range(trend_weeks - 1, -1, -1)]
    return WeekReport(
        week=week,
        timezone=tz.key,
        current=headline(session, brand_id=brand_id, period=period),
        previous=headline(session, brand_id=brand_id, period=week.shifted(-1).period(tz)),
        days=sentiment_by_bucket(session, brand_id=brand_id, buckets=week.day_periods(tz)),
        sources=sentiment_by_source(session, brand_id=brand_id, period=period),
        languages=language_counts(session, brand_id=brand_id, period=period),
        unhandled=unhandled_negatives(session, brand_id=brand_id, period=period, limit=list_limit),
        top_positive=top_positive(session, brand_id=brand_id, period=period, limit=positive_limit),
        trend=list(
            zip(
                trend,
                sentiment_by_bucket(session, brand_id=brand_id, buckets=[w.period(tz) for w in trend]),
                strict=True,
            )
        ),
    )
