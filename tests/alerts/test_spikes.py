"""Storms: a spike in negative volume gives one spike alert with the mentions in its thread."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from alerts.sender import send_alerts
from alerts.spikes import SpikeRule, check_volume, hourly_counts
from store.db import session_scope
from store.models import AlertOutbox, utcnow
from tests.alerts.conftest import CHANNELS, FAST, World, add_mention, fast_transport, make_config


def _send_at(world: World, at: datetime) -> None:
    send_alerts(
        world.engine,
        world.settings,
        world.config,
        transport=fast_transport(world.settings),
        policy=FAST,
        clock=lambda: at,
    )


def _backdate_outbox(engine: Engine, hours_ago: list[float], now: datetime) -> None:
    """Alert history: one queued alert `h` hours before `now` for each h."""
    with session_scope(engine) as session:
        for h in hours_ago:
            session.add(
                AlertOutbox(brand_id=1, channel="#acme-alerts", status="sent", created_at=now - timedelta(hours=h))
            )


def test_hourly_counts_include_empty_hours() -> None:
    start = datetime(2026, 1, 1, 0, 0)
    times = [start + timedelta(minutes=m) for m in (5, 10, 130, 179)]
    assert hourly_counts(times, start=start, end=start + timedelta(hours=4), window=timedelta(hours=1)) == [2, 0, 2, 0]


def test_a_spike_is_judged_against_the_brands_own_baseline(world: World) -> None:
    now = utcnow()
    rule = SpikeRule(min_count=10)
    # A busy brand: about 20 an hour, every hour of the past week.
    _backdate_outbox(world.engine, [h + 0.5 for h in range(1, 24 * 7) for _ in range(18 + h % 5)], now)
    with session_scope(world.engine) as session:
        normal = check_volume(session, brand_id=1, now=now, adding=25, rule=rule)
        storm = check_volume(session, brand_id=1, now=now, adding=60, rule=rule)
        quiet_brand = check_volume(session, brand_id=2, now=now, adding=12, rule=rule)
        few = check_volume(session, brand_id=2, now=now, adding=9, rule=rule)
    assert 19 < normal.mean < 21 and not normal.is_spike
    assert storm.is_spike
    assert quiet_brand.is_spike and quiet_brand.mean == 0
    assert not few.is_spike  # under the minimum count


def test_a_storm_of_200_negatives_in_10_minutes_gives_one_spike_alert_and_a_thread(world: World) -> None:
    start = utcnow()
    ids: list[int] = []
    for step in range(20):  # 10 new negatives every 30 seconds, a send pass after each
        at = start + timedelta(seconds=30 * step)
        ids += [add_mention(world.engine, text=f"Order {step}-{i} never arrived", fetched_at=at) for i in range(10)]
        _send_at(world, at)

    messages = world.slack.messages(CHANNELS["acme-alerts"])
    top_level = [m for m in messages if m.thread_ts is None]
    assert len(top_level) == 1
    (spike,) = top_level
    assert spike.text.startswith("📈 Spike: 10 negative mentions of Acme in the last hour")
    replies = Counter(m.metadata["event_payload"]["mention_id"] for m in messages if m.thread_ts == spike.ts)
    assert replies == Counter({i: 1 for i in ids})


def test_a_first_crawl_backfilling_old_negatives_is_no_storm(world: World) -> None:
    now = utcnow()
    ids = [
        add_mention(
            world.engine, text=f"Old complaint {i}", fetched_at=now, published_at=now - timedelta(days=2, minutes=30 * i)
        )
        for i in range(30)
    ]
    _send_at(world, now)
    messages = world.slack.messages(CHANNELS["acme-alerts"])
    assert not any(m.text.startswith("📈 Spike") for m in messages)
    assert Counter(m.metadata["event_payload"]["mention_id"] for m in messages) == Counter({i: 1 for i in ids})


def test_after_the_window_a_lasting_storm_gets_a_new_spike_alert(world: World) -> None:
    start = utcnow()
    for _ in range(12):
        add_mention(world.engine, fetched_at=start)
    _send_at(world, start)
    later = start + timedelta(minutes=61)
    for _ in range(12):
        add_mention(world.engine, fetched_at=later)
    _send_at(world, later)
    top_level = [m for m in world.slack.messages(CHANNELS["acme-alerts"]) if m.thread_ts is None]
    assert [m.text.split(" in the last")[0] for m in top_level] == [
        "📈 Spike: 12 negative mentions of Acme",
        "📈 Spike: 12 negative mentions of Acme",
    ]


def _top_level_after_burst(world: World, count: int) -> list[str]:
    now = utcnow()
    for i in range(count):
        add_mention(world.engine, text=f"Card declined again {i}", fetched_at=now)
    _send_at(world, now)
    return [m.text for m in world.slack.messages(CHANNELS["acme-alerts"]) if m.thread_ts is None]


def test_a_brand_can_set_its_own_spike_minimum(world: World) -> None:
    world.config = make_config(rules="spikes = { min_count = 4, sigmas = 2.0 }")
    top_level = _top_level_after_burst(world, 4)
    assert len(top_level) == 1 and top_level[0].startswith("📈 Spike: 4 negative mentions of Acme")


def test_a_brand_can_turn_spike_alerts_off(world: World) -> None:
    world.config = make_config(rules="spikes = { enabled = false }")
    top_level = _top_level_after_burst(world, 12)
    assert len(top_level) == 12 and not any(text.startswith("📈 Spike") for text in top_level)
