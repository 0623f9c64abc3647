"""Daily metrics stay equal to a computation from scratch through every kind of write."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from store.daily_metrics import compute_days, daily_totals, mark_changed
from store.db import session_scope
from store.models import DailyMetrics, DayCounts, HandlingState, Mention, MetricsDirty
from store.queries import (
    BrandSpec,
    MentionInput,
    SourceSpec,
    relabel,
    save_mention,
    save_mentions,
    save_score,
    set_handling,
    sync_brands_and_sources,
)

WARSAW = ZoneInfo("Europe/Warsaw")
DAYS = [date(2026, 11, 16) + timedelta(days=i) for i in range(14)]
PROBABILITIES = {"negative": 0.9, "neutral": 0.05, "positive": 0.05}


def _fields(key: str, published: datetime | None, rating: float | None = None) -> dict[str, object]:
    url = f"https://shop.example/r/{key}"
    return {"url": url, "canonical_url": url, "text": f"review {key}", "rating": rating, "published_at": published}


def _store_with_mentions(engine: Engine) -> tuple[int, int, list[int]]:
    with session_scope(engine) as session:
        ids = sync_brands_and_sources(
            session, brands=[BrandSpec("Zamówko", "", "Europe/Warsaw")], sources=[SourceSpec("shop", "schemaorg", "Zamówko")]
        )
        brand_id = session.exec(select(Mention.brand_id).limit(1)).first() or 1
        # Local midnight and 23:30 in Warsaw fall on different UTC days than local days.
        moments = [datetime(2026, 11, 16 + i // 3, [0, 12, 23][i % 3], 30, tzinfo=WARSAW) for i in range(30)]
        saved = save_mentions(
            session,
            items=[MentionInput(ids["shop"], brand_id, f"k{i}", f"h{i}", _fields(f"k{i}", m, rating=1 + i % 5))
                   for i, m in enumerate(moments)],
        )  # fmt: skip
        mention_ids = [mention_id for _, mention_id in saved]
        for n, mention_id in enumerate(mention_ids):
            mention = session.get(Mention, mention_id)
            assert mention is not None
            label = ("negative", "neutral", "positive")[n % 3]
            save_score(session, mention=mention, label=label, score=0.9, probabilities=PROBABILITIES,
                       model_name="m", model_version="1")  # fmt: skip
    return brand_id, ids["shop"], mention_ids


def _from_scratch(session: Session, brand_id: int) -> dict[date, DayCounts]:
    return compute_days(session, brand_id, WARSAW, DAYS)


def _check(engine: Engine, brand_id: int) -> dict[date, DayCounts]:
    with session_scope(engine) as session:
        kept = daily_totals(session, brand_id=brand_id, zone=WARSAW, days=DAYS)
    with session_scope(engine) as session:
        assert kept == _from_scratch(session, brand_id)
        assert session.exec(select(func.count()).select_from(MetricsDirty)).one() == 0
    return kept


# Undated mentions count on the day they are found, so the clock must fall inside DAYS.
@time_machine.travel(datetime(2026, 11, 24, 10, 0, tzinfo=UTC), tick=False)
def test_every_write_is_seen_and_only_changed_days_are_recomputed(engine: Engine) -> None:
    brand_id, source_id, ids = _store_with_mentions(engine)
    first = _check(engine, brand_id)
    assert sum(day.mentions for day in first.values()) == 30
    assert first[date(2026, 11, 16)].mentions == 3  # 00:30 local is still the 16th

    with session_scope(engine) as session:
        relabel(session, mention_id=ids[1], label="negative", by="ania")
        set_handling(session, mention_id=ids[0], state=HandlingState.responded, by="ania",
                     at=datetime(2026, 11, 16, 2, 0, tzinfo=UTC))  # fmt: skip
        marked = session.exec(select(func.count()).select_from(MetricsDirty)).one()
    assert marked == 2
    with session_scope(engine) as session:
        before = {row.day: row.id for row in session.exec(select(DailyMetrics))}
    second = _check(engine, brand_id)
    assert second[date(2026, 11, 16)].negative == first[date(2026, 11, 16)].negative + 1
    assert second[date(2026, 11, 16)].responded == 1 and second[date(2026, 11, 16)].waits == [9000.0]
    with session_scope(engine) as session:
        assert {row.day: row.id for row in session.exec(select(DailyMetrics))} == before  # updated in place

    # An edit that moves a mention to another day changes both days.
    with session_scope(engine) as session:
        save_mention(session, source_id=source_id, brand_id=brand_id, dedup_key="k0", content_hash="edited",
                     fields=_fields("k0", datetime(2026, 11, 25, 9, 0, tzinfo=WARSAW), rating=5))  # fmt: skip
    third = _check(engine, brand_id)
    assert third[date(2026, 11, 16)].mentions == 2 and third[date(2026, 11, 25)].mentions == first[date(2026, 11, 25)].mentions + 1

    # A mention without a date counts on the day it was found.
    with session_scope(engine) as session:
        save_mentions(session, items=[MentionInput(source_id, brand_id, "undated", "hu", _fields("undated", None))])
        session.exec(select(Mention).where(col(Mention.dedup_key) == "undated")).one()
    fourth = _check(engine, brand_id)
    assert fourth[date(2026, 11, 24)].mentions == third[date(2026, 11, 24)].mentions + 1


def test_a_brand_moved_to_another_time_zone_is_recomputed(engine: Engine) -> None:
    brand_id, _, _ = _store_with_mentions(engine)
    _check(engine, brand_id)
    tokyo = ZoneInfo("Asia/Tokyo")
    with session_scope(engine) as session:
        in_tokyo = daily_totals(session, brand_id=brand_id, zone=tokyo, days=DAYS)
    with session_scope(engine) as session:
        assert in_tokyo == compute_days(session, brand_id, tokyo, DAYS)
    assert in_tokyo != _check(engine, brand_id)


def test_marks_of_days_no_reader_asks_for_shrink_to_the_newest_of_each_hour(engine: Engine) -> None:
    brand_id, _, _ = _store_with_mentions(engine)
    _check(engine, brand_id)
    old_hour = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)  # outside DAYS: the readers below never recompute it
    with session_scope(engine) as session:
        for _ in range(3):  # say, a re-score, a relabel and an edit of mentions of that hour
            mark_changed(session, brand_id, [old_hour, old_hour + timedelta(minutes=20)])
    with session_scope(engine) as session:
        newest = session.exec(select(func.max(MetricsDirty.id))).one()

    def marks() -> list[tuple[int | None, datetime]]:
        with session_scope(engine) as session:
            return [(row.id, row.hour) for row in session.exec(select(MetricsDirty))]

    assert len(marks()) == 3
    with session_scope(engine) as session:  # a reader of DAYS, as a dashboard polls them
        daily_totals(session, brand_id=brand_id, zone=WARSAW, days=DAYS)
    assert marks() == [(newest, old_hour)], "one mark per hour is left, the newest"
    with session_scope(engine) as session:
        daily_totals(session, brand_id=brand_id, zone=WARSAW, days=DAYS, keep=False)
        mark_changed(session, brand_id, [old_hour])
    with session_scope(engine) as session:
        daily_totals(session, brand_id=brand_id, zone=WARSAW, days=[date(2025, 3, 1)])
    assert marks() == [], "a reader of that day clears them"
