"""The digest's metrics against the hand-made week in known_week.py, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from alerts.digest.metrics import (
    SentimentCounts,
    WeekReport,
    rescale,
    summarize_ratings,
    week_report,
)
from alerts.digest.weeks import IsoWeek
from store.db import session_scope
from tests.digest.known_week import WARSAW, fill


def report_for(engine: Engine, week: IsoWeek) -> WeekReport:
    with session_scope(engine) as session:
        return week_report(session, brand_id=1, week=week, tz=WARSAW)


@pytest.fixture
def report(engine: Engine) -> WeekReport:
    fill(engine)
    return report_for(engine, IsoWeek(2026, 47))


def test_sentiment_uses_the_local_week_and_the_manual_label(report: WeekReport) -> None:
    # In W47 (Warsaw): m1 m2 m12 m11 positive; m3 m6 m13 m7 m14 negative, and m4, which the
    # model called positive but a person relabelled; m5 m8 neutral; m9 not scored (Monday
    # 00:30 Warsaw is still Sunday in UTC). m10 (Monday 00:10 of the next week in Warsaw) is out.
    assert report.current.sentiment == SentimentCounts(negative=6, neutral=2, positive=4, unscored=1)
    assert report.current.sentiment.total == 13
    # 6 negative of 12 scored.
    assert report.current.sentiment.negative_share == pytest.approx(0.5)
    # (4 - 6) / (4 + 6)
    assert report.current.sentiment.net_sentiment == pytest.approx(-0.2)


def test_ratings_are_rescaled_before_csat_and_nps(report: WeekReport) -> None:
    ratings = report.current.ratings
    # m1 5/5 -> 5 stars, 10 points (promoter); m2 4/5 -> 4, 7.5 -> 8 (passive);
    # m12 4.5/5 -> 4.5, 8.75 -> 9 (promoter); m3 2/5 -> 2, 2.5 -> 3 (detractor);
    # m4 1/5 -> 1, 0 (detractor); m5 8 of 0..10 -> 4.2 stars, 8 points (passive);
    # m11 10 of 1..10 -> 5, 10 (promoter).
    assert ratings.count == 7
    assert ratings.average == pytest.approx((5 + 4 + 4.5 + 2 + 1 + 4.2 + 5) / 7)
    # 4 stars or more: m1, m2, m12, m5, m11.
    assert ratings.csat == pytest.approx(5 / 7)
    assert (ratings.promoters, ratings.passives, ratings.detractors) == (3, 2, 2)
    assert ratings.nps == pytest.approx(100 * (3 - 2) / 7)
    # Rounded stars: 1 (m4), 2 (m3), 4 (m2, m5), 5 (m1, m11, m12; 4.5 rounds up).
    assert ratings.distribution == (1, 1, 0, 2, 3)


def test_response_metrics_cover_the_weeks_negatives(report: WeekReport) -> None:
    responses = report.current.responses
    # Negatives m3 (answered after 2 h), m4 (6 h), m13 (30 min), m7 (acknowledged, no
    # answer), m6 (no handling row), m14 (handling state "new").
    assert responses.negatives == 6
    assert responses.responded == 3
    assert responses.response_rate == pytest.approx(0.5)
    assert responses.median_response == timedelta(hours=2)
    # m6 and m14; m7 was acknowledged.
    assert responses.unhandled == 2


def test_lists_and_breakdowns(report: WeekReport) -> None:
    assert [link.url.rsplit("/", 1)[1] for link in report.unhandled] == ["m6", "m14"]  # oldest first
    # The most confidently positive first.
    assert [link.url.rsplit("/", 1)[1] for link in report.top_positive] == ["m11", "m1", "m12", "m2"]
    assert report.top_positive[0].stars == pytest.approx(5.0)
    assert [(name, counts.total) for name, counts in report.sources] == [("forum", 6), ("shop", 5), ("appstore", 2)]
    assert dict(report.sources)["forum"].negative == 4
    assert report.languages == [("en", 8), ("pl", 3), ("de", 1), ("ru", 1)]
    # Monday: m1 and m9; Sunday: m14 and m8 (23:30 Warsaw); m7 counts on Saturday, when it was fetched.
    assert [day.total for day in report.days] == [2, 2, 1, 2, 3, 1, 2]
    assert report.days[5].negative == 1


def test_previous_week_and_trend(report: WeekReport) -> None:
    previous = report.previous
    assert previous.sentiment == SentimentCounts(negative=1, positive=1)
    assert previous.ratings.average == pytest.approx(3.0)
    assert previous.responses.median_response == timedelta(hours=10)
    assert [str(week) for week, _ in report.trend] == [f"2026-W{n}" for n in range(40, 48)]
    nets = [counts.net_sentiment for _, counts in report.trend]
    assert nets[:4] == [None] * 4
    assert nets[4:] == [pytest.approx(1.0), pytest.approx(-1.0), pytest.approx(0.0), pytest.approx(-0.2)]


def test_an_empty_week_has_no_undefined_numbers(engine: Engine) -> None:
    fill(engine)
    report = report_for(engine, IsoWeek(2025, 1))
    current = report.current
    assert current.sentiment.total == 0
    assert current.sentiment.negative_share is None and current.sentiment.net_sentiment is None
    assert current.ratings.count == 0 and current.ratings.average is None
    assert current.ratings.csat is None and current.ratings.nps is None
    assert current.responses.response_rate is None and current.responses.median_response is None
    assert report.unhandled == [] and report.top_positive == [] and report.sources == [] and report.languages == []


@pytest.mark.parametrize(
    ("rating", "best", "worst", "stars"),
    [
        (3, None, None, 3.0),
        (10, 10, 0, 5.0),
        (0, 10, 0, 1.0),
        (7, 10, 1, 1 + 4 * 6 / 9),
        (6, 5, 1, 5.0),
        (3, 3, 3, None),
    ],
)
def test_rescale(rating: float, best: float | None, worst: float | None, stars: float | None) -> None:
    assert rescale(rating, best=best, worst=worst, low=1, high=5) == (
        pytest.approx(stars) if stars is not None else None
    )


def test_a_rating_on_a_broken_scale_is_left_out() -> None:
    summary = summarize_ratings([(4, 5, 1, 2), (3, 3, 3, 5)])
    assert summary.count == 2 and summary.csat == 1.0
