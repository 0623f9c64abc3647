"""How long one weekly digest takes to build for a week of 10,000 mentions.

Fills a SQLite store (a file, WAL, as in production) with a brand's mentions over eight
ISO weeks: N in the digest's week, N in the week before, N/5 in each of six earlier weeks
(for the trend), with scores, manual corrections, ratings on three scales and handling.
Then it computes the digest's numbers two ways and checks that they agree:

- naive: load the mentions as ORM objects and fetch each one's score, handling and source with
  its own query (what a first version of such a report usually does);
- aggregate: alerts.digest.metrics.week_report, a dozen GROUP BY queries;

and times the whole build_digest (numbers, four charts, HTML and text) as the scheduler
runs it.

    python -m benchmarks.digest              # N = 10,000
    python -m benchmarks.digest --mentions 2000 --repeat 3
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

# Run as a script, this folder comes first on sys.path, and benchmarks/alerts.py would
# then shadow the alerts package.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

from sqlalchemy import event, func, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from alerts.digest import IsoWeek, build_digest
from alerts.digest.metrics import (
    Headline,
    MentionLink,
    ResponseSummary,
    SentimentCounts,
    WeekReport,
    rescale,
    summarize_ratings,
    week_report,
)
from mentionwatch.config import Brand
from store.db import make_engine, session_scope, upgrade
from store.models import Handling, HandlingState, Mention, SentimentScore, Source
from store.queries import BrandSpec, SourceSpec, sync_brands_and_sources

WEEK = IsoWeek(2026, 47)
TZ = ZoneInfo("Europe/Warsaw")
BRAND = Brand(name="Acme", timezone=TZ.key, digest_language="pl", digest_recipients=["cx@example.com"])
# name, type, rating scale (best, worst) or None for unrated sources
SOURCES = [
    ("shop", "schemaorg", (5.0, 1.0)),
    ("appstore", "appstore", (5.0, 1.0)),
    ("googleplay", "googleplay", (5.0, 1.0)),
    ("review-site", "trustpilot", (10.0, 1.0)),
    ("reddit", "reddit", None),
    ("forum", "phpbb", None),
    ("news", "feed", None),
]
T = TypeVar("T")


def fill(engine: Engine, per_week: int, seed: int = 47) -> int:
    """Store the brand's mentions with bulk inserts; returns how many there are."""
    rng = random.Random(seed)
    with session_scope(engine) as session:
        ids = sync_brands_and_sources(
            session,
            brands=[BrandSpec(BRAND.name, "acme", BRAND.timezone)],
            sources=[SourceSpec(name, kind, BRAND.name) for name, kind, _ in SOURCES],
        )
    weeks = [(WEEK.shifted(-back), per_week if back < 2 else per_week // 5) for back in range(8)]
    mentions, scores, handling = [], [], []
    next_id = 1
    for week, count in weeks:
        period = week.period(TZ)
        span = (period.end - period.start).total_seconds()
        for _ in range(count):
            name, _kind, scale = rng.choice(SOURCES)
            when = period.start + timedelta(seconds=rng.random() * span)
            mention: dict[str, Any] = {
                "id": next_id,
                "source_id": ids[name],
                "brand_id": 1,
                "dedup_key": f"k{next_id}",
                "url": f"https://{name}.example/{next_id}",
                "canonical_url": f"https://{name}.example/{next_id}",
                "text": f"Mention {next_id} of Acme " + "lorem ipsum " * rng.randint(3, 30),
                "language": rng.choices(["pl", "en", "ru", "de", None], [50, 30, 14, 5, 1])[0],
                "content_hash": f"h{next_id}",
                # One mention in ten has no date at its source: it happened when fetched.
                "published_at": None if rng.random() < 0.1 else when,
                "fetched_at": when + timedelta(minutes=rng.randint(1, 90)),
                "rating": None,
                "rating_best": None,
                "rating_worst": None,
            }
            if mention["published_at"] is None:
                mention["fetched_at"] = when
            label = rng.choices(["negative", "neutral", "positive"], [25, 35, 40])[0]
            if scale is not None and rng.random() < 0.8:
                best, worst = scale
                mention["rating"] = float(rng.randint(int(worst), int(best)))
                mention["rating_best"], mention["rating_worst"] = best, worst
            mentions.append(mention)
            if rng.random() < 0.95:
                scores.append(
                    {
                        "mention_id": next_id,
                        "label": label,
                        "score": 0.9,
                        "prob_positive": rng.random(),
                        "manual_label": rng.choice(["negative", "positive"]) if rng.random() < 0.03 else None,
                        "model_name": "bench",
                        "model_version": "1",
                        "scored_hash": f"h{next_id}",
                    }
                )
                if label == "negative" and rng.random() < 0.7:
                    answered = rng.random() < 0.8
                    at = when + timedelta(hours=rng.lognormvariate(1.5, 1.0))
                    handling.append(
                        {
                            "mention_id": next_id,
                            "state": HandlingState.responded if answered else HandlingState.acknowledged,
                            "updated_at": at,
                            "first_response_at": at if answered else None,
                        }
                    )
            next_id += 1
    with engine.begin() as connection:
        connection.execute(insert(Mention), mentions)
        connection.execute(insert(SentimentScore), scores)
        connection.execute(insert(Handling), handling)
    return len(mentions)


def naive_week_report(session: Session, *, brand_id: int, week: IsoWeek, tz: ZoneInfo) -> WeekReport:
    """The same report from ORM objects, one score and one handling query per mention."""
    trend_weeks = [week.shifted(-back) for back in range(7, -1, -1)]
    start, end = trend_weeks[0].period(tz).start, week.period(tz).end
    when = func.coalesce(col(Mention.published_at), col(Mention.fetched_at))
    loaded = session.exec(select(Mention).where(Mention.brand_id == brand_id, when >= start, when < end)).all()
    rows = []
    for mention in loaded:
        score = session.exec(select(SentimentScore).where(SentimentScore.mention_id == mention.id)).first()
        handled = session.exec(select(Handling).where(Handling.mention_id == mention.id)).first()
        source = session.get(Source, mention.source_id)
        assert source is not None
        happened = mention.published_at or mention.fetched_at
        label = score.effective_label if score else None
        rows.append((mention, score, handled, source.name, happened, label))

    def in_week(w: IsoWeek) -> list[Any]:
        period = w.period(tz)
        return [row for row in rows if period.start <= row[4] < period.end]

    def counts(selected: list[Any]) -> SentimentCounts:
        return SentimentCounts.from_rows((row[5], 1) for row in selected)

    def headline(selected: list[Any]) -> Headline:
        negatives = [row for row in selected if row[5] == "negative"]
        waits = [
            max(row[2].first_response_at - row[4], timedelta(0))
            for row in negatives
            if row[2] and row[2].first_response_at
        ]
        unhandled = sum(1 for row in negatives if row[2] is None or row[2].state == HandlingState.new)
        return Headline(
            counts(selected),
            summarize_ratings((m.rating, m.rating_best, m.rating_worst, 1) for m, *_ in selected),
            ResponseSummary(len(negatives), len(waits), unhandled, statistics.median(waits) if waits else None),
        )

    def link(row: Any) -> MentionLink:
        m = row[0]
        stars = (
            rescale(m.rating, best=m.rating_best, worst=m.rating_worst, low=1.0, high=5.0)
            if m.rating is not None
            else None
        )
        return MentionLink(m.id, m.url, row[3], row[4], m.text, m.title, m.author, stars)

    current = in_week(week)
    by_source: dict[str, list[Any]] = {}
    for row in current:
        by_source.setdefault(row[3], []).append(row)
    unhandled = sorted(
        (r for r in current if r[5] == "negative" and (r[2] is None or r[2].state == HandlingState.new)),
        key=lambda r: (r[4], r[0].id),
    )
    positive = sorted(
        (r for r in current if r[5] == "positive"),
        key=lambda r: (-(r[1].prob_positive or 0.0), -(r[0].rating or 0.0), r[0].id),
    )
    languages = Counter(row[0].language for row in current)
    return WeekReport(
        week=week,
        timezone=tz.key,
        current=headline(current),
        previous=headline(in_week(week.shifted(-1))),
        days=[counts([r for r in current if p.start <= r[4] < p.end]) for p in week.day_periods(tz)],
        sources=sorted(((n, counts(rs)) for n, rs in by_source.items()), key=lambda i: (-i[1].total, i[0])),
        languages=sorted(languages.items(), key=lambda i: (-i[1], i[0] or "~")),
        unhandled=[link(r) for r in unhandled[:10]],
        top_positive=[link(r) for r in positive[:5]],
        trend=[(w, counts(in_week(w))) for w in trend_weeks],
    )


def same_report(a: WeekReport, b: WeekReport) -> bool:
    """Equal, but for the float rounding of a sum taken in another order."""

    def ratings_of(h: Headline) -> tuple[Any, ...]:
        r = h.ratings
        return (r.count, round(r.stars_sum, 6), r.distribution, r.satisfied, r.promoters, r.passives, r.detractors)

    return (
        all(
            (x.sentiment, x.responses, ratings_of(x)) == (y.sentiment, y.responses, ratings_of(y))
            for x, y in ((a.current, b.current), (a.previous, b.previous))
        )
        and (a.days, a.sources, a.languages, a.trend) == (b.days, b.sources, b.languages, b.trend)
        and [m.id for m in a.unhandled] == [m.id for m in b.unhandled]
        and [m.id for m in a.top_positive] == [m.id for m in b.top_positive]
    )


@contextmanager
def counting_queries(engine: Engine) -> Iterator[Counter[str]]:
    counter: Counter[str] = Counter()

    def count(*_: Any) -> None:
        counter["queries"] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", count)


def timed(engine: Engine, repeat: int, work: Callable[[], T]) -> tuple[float, int, T]:
    """Best wall time of `repeat` runs, the queries of one run, and the last result."""
    times, result = [], None
    with counting_queries(engine) as counter:
        for _ in range(repeat):
            started = time.perf_counter()
            result = work()
            times.append(time.perf_counter() - started)
    assert result is not None
    return min(times), counter["queries"] // repeat, result


def report_with(engine: Engine, compute: Callable[..., WeekReport]) -> Callable[[], WeekReport]:
    def run() -> WeekReport:
        with session_scope(engine) as session:
            return compute(session, brand_id=1, week=WEEK, tz=TZ)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=10_000, help="mentions in the digest's week")
    parser.add_argument("--repeat", type=int, default=5, help="runs of the fast paths (best is shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade(engine)
        started = time.perf_counter()
        total = fill(engine, args.mentions)
        filled = time.perf_counter() - started
        naive_s, naive_q, naive = timed(engine, 1, report_with(engine, naive_week_report))
        fast_s, fast_q, fast = timed(engine, args.repeat, report_with(engine, week_report))
        build_s, build_q, digest = timed(
            engine, args.repeat, lambda: build_digest(engine, BRAND, WEEK, now=datetime(2026, 11, 23, tzinfo=UTC))
        )
        engine.dispose()
    if not same_report(naive, fast):
        raise SystemExit("the naive and the aggregate report differ: a bug in one of them")
    print(
        f"Digest of one brand for {WEEK}: {fast.current.sentiment.total:,} mentions in the week, "
        f"{total:,} in the SQLite store (filled in {filled:.1f} s); naive and aggregate numbers agree."
    )
    print()
    rows = [
        ("naive: ORM objects + a query per score, handling, source", naive_s, naive_q),
        ("aggregate: metrics.week_report (numbers only)", fast_s, fast_q),
        ("build_digest: numbers + 4 charts + HTML and text", build_s, build_q),
    ]
    print(f"| {'path':<56} | {'queries':>8} | {'time':>9} | {'vs naive':>8} |")
    print(f"|{'-' * 58}|{'-' * 9}:|{'-' * 10}:|{'-' * 9}:|")
    for name, seconds, queries in rows:
        print(f"| {name:<56} | {queries:>8,} | {seconds * 1000:>6,.0f} ms | {naive_s / seconds:>7.1f}x |")
    print()
    print(
        f"(best of {args.repeat} runs for the last two; the email is {len(digest.html):,} characters of HTML "
        f"and {sum(len(c.png) for c in digest.charts):,} bytes of PNG)"
    )


if __name__ == "__main__":
    main()
