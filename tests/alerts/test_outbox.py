"""The outbox on SQLite and PostgreSQL: queued once, claimed by one sender, reclaimed after a crash."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import select

from alerts.outbox import (
    AlertSetupError,
    Queued,
    claim,
    due_channels,
    enqueue,
    heartbeat,
    mark_sent,
    reclaim_stale,
    start_attempt,
)
from alerts.rules import BrandRules
from mentionwatch.settings import Settings
from store.db import session_scope
from store.models import AlertOutbox, Mention, OutboxStatus, utcnow
from store.queries import relabel, save_mention, save_score
from tests.alerts.conftest import add_mention, make_config, sync

SETTINGS = Settings(slack_token=SecretStr("xoxb-test"))


def rows(engine: Engine) -> list[AlertOutbox]:
    with session_scope(engine) as session:
        return list(session.exec(select(AlertOutbox).order_by(AlertOutbox.id)))  # type: ignore[arg-type]


def test_qualifying_mentions_are_queued_once(engine: Engine) -> None:
    config = make_config()
    sync(engine, config)
    negative = add_mention(engine, negative=0.9)
    add_mention(engine, negative=0.1)
    low_stars = add_mention(engine, negative=None, rating=1)
    add_mention(engine, negative=None)  # not scored yet, no rating: wait for the score
    relabeled = add_mention(engine, negative=0.1, manual_label="negative")
    add_mention(engine, negative=0.99, manual_label="neutral")

    first = enqueue(engine, config=config, settings=SETTINGS)
    second = enqueue(engine, config=config, settings=SETTINGS)

    queued = rows(engine)
    assert (first, second) == (Queued(alerts=3), Queued())
    assert [r.mention_id for r in queued] == [negative, low_stars, relabeled]
    assert {(r.channel, r.status, r.kind) for r in queued} == {("#acme-alerts", OutboxStatus.pending, "mention")}


def test_a_new_channel_does_not_queue_alerted_mentions_again(engine: Engine) -> None:
    config = make_config()
    sync(engine, config)
    add_mention(engine)
    assert enqueue(engine, config=config, settings=SETTINGS).alerts == 1
    moved = make_config(brands={"Acme": "#acme-new"})
    assert enqueue(engine, config=moved, settings=SETTINGS).alerts == 0
    add_mention(engine)
    assert enqueue(engine, config=moved, settings=SETTINGS).alerts == 1
    assert [r.channel for r in rows(engine)] == ["#acme-alerts", "#acme-new"]


def test_old_mentions_are_not_looked_at_again(engine: Engine) -> None:
    config = make_config()
    sync(engine, config)
    add_mention(engine, fetched_at=utcnow() - timedelta(days=30))
    assert enqueue(engine, config=config, settings=SETTINGS).alerts == 0


def test_critical_words_queue_urgent_rows(engine: Engine) -> None:
    config = make_config(rules='critical_words = ["recall"]')
    sync(engine, config)
    add_mention(engine, text="They announced a recall of the kettle")
    enqueue(engine, config=config, settings=SETTINGS)
    (row,) = rows(engine)
    assert row.urgent and row.payload == {
        "reasons": ["negative 95%", "critical words: recall"],
        "critical_words": ["recall"],
        "negative": True,
    }


def test_critical_words_alone_queue_an_urgent_alert_even_unscored_or_neutral(engine: Engine) -> None:
    config = make_config(rules='critical_words = ["recall"]')
    sync(engine, config)
    neutral = add_mention(engine, text="Zefir recalls Z300 espresso machines over scalding risk", negative=0.05)
    unscored = add_mention(engine, text="Another recall?", negative=None)
    add_mention(engine, text="Nice machine", negative=0.05)

    assert enqueue(engine, config=config, settings=SETTINGS) == Queued(alerts=2)

    queued = rows(engine)
    assert [r.mention_id for r in queued] == [neutral, unscored]
    assert all(r.urgent and r.payload and r.payload["negative"] is False for r in queued)


def test_a_mention_let_pass_is_judged_again_only_when_its_facts_or_the_rules_change(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = 'critical_words = ["recall"]\nmin_negative = '  # words: every recent mention is a candidate
    sync(engine, make_config(brands={"Acme": "#acme-alerts"}))
    judged: list[str] = []
    evaluate = BrandRules.evaluate
    monkeypatch.setattr(BrandRules, "evaluate", lambda self, facts: judged.append(facts.text.strip()) or evaluate(self, facts))
    mild = add_mention(engine, text="mild", negative=0.5)
    rescored = add_mention(engine, text="rescored", negative=0.1)
    edited = add_mention(engine, text="edited", negative=0.2)
    relabeled = add_mention(engine, text="relabeled", negative=0.1)
    waiting = add_mention(engine, text="waiting", negative=None)  # not scored yet

    def tick(min_negative: float = 0.6) -> tuple[Queued, list[str]]:
        judged.clear()
        config = make_config(brands={"Acme": "#acme-alerts"}, rules=f"{rules}{min_negative}")
        queued = enqueue(engine, config=config, settings=SETTINGS)
        return queued, sorted(judged)

    assert tick() == (Queued(), ["edited", "mild", "relabeled", "rescored", "waiting"])
    assert tick() == (Queued(), [])  # nothing changed: nothing read again
    with session_scope(engine) as session:
        mention = session.get(Mention, rescored)
        assert mention is not None
        save_score(session, mention=mention, label="negative", score=0.9, model_name="test", model_version="2",
                   probabilities={"negative": 0.9, "neutral": 0.05, "positive": 0.05})
        relabel(session, mention_id=relabeled, label="negative", by="ann")
        edit = session.get(Mention, edited)
        assert edit is not None and edit.source_id and edit.brand_id
        save_mention(session, source_id=edit.source_id, brand_id=edit.brand_id, dedup_key=edit.dedup_key,
                     content_hash="edited again", fields={"text": "edited twice"})
    assert tick() == (Queued(alerts=2), ["edited twice", "relabeled", "rescored"])
    assert tick() == (Queued(), [])
    assert tick(0.45) == (Queued(alerts=1), ["edited twice", "mild", "waiting"])
    assert [r.mention_id for r in rows(engine)] == [rescored, relabeled, mild]
    assert waiting not in {r.mention_id for r in rows(engine)}


NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_mentions_said_before_max_age_are_held_once_and_the_rest_alert(engine: Engine) -> None:
    config = make_config(rules='max_age = "2d"')
    sync(engine, config)
    years_ago = [datetime(2017 + i, 5, 1, tzinfo=UTC) for i in range(6)]
    backfill = [add_mention(engine, fetched_at=NOW, published_at=said) for said in years_ago]
    recent = add_mention(engine, fetched_at=NOW, published_at=NOW - timedelta(days=1, hours=23))
    undated = add_mention(engine, fetched_at=NOW - timedelta(hours=1))  # said when found
    add_mention(engine, fetched_at=NOW, published_at=datetime(2018, 1, 1, tzinfo=UTC), negative=0.1)  # never qualified

    first = enqueue(engine, config=config, settings=SETTINGS, now=NOW)
    second = enqueue(engine, config=config, settings=SETTINGS, now=NOW + timedelta(minutes=1))

    assert (first, second) == (Queued(alerts=2, held=6), Queued())
    by_status = {(r.mention_id, r.status) for r in rows(engine)}
    assert by_status == {(m, OutboxStatus.held) for m in backfill} | {
        (recent, OutboxStatus.pending),
        (undated, OutboxStatus.pending),
    }
    assert [r.mention_id for r in claim(engine, now=NOW, limit=10, sender="s")] == [recent, undated]  # never held ones


def test_a_brand_without_a_channel_is_an_error_only_when_slack_is_used(engine: Engine) -> None:
    config = make_config(brands={"Acme": ""})
    sync(engine, config)
    add_mention(engine)
    with pytest.raises(AlertSetupError, match="brand 'Acme' has no Slack channel"):
        enqueue(engine, config=config, settings=SETTINGS)
    assert enqueue(engine, config=config, settings=Settings()).alerts == 1
    assert [r.channel for r in rows(engine)] == ["console"]
    add_mention(engine)
    assert enqueue(engine, config=config, settings=Settings(slack_channel="#default")).alerts == 1
    assert [r.channel for r in rows(engine)] == ["console", "#default"]


def test_concurrent_senders_claim_each_row_once(engine: Engine) -> None:
    config = make_config()
    sync(engine, config)
    for brand in ("Acme", "Globex", "Initech"):
        for _ in range(15):
            add_mention(engine, brand=brand)
    assert enqueue(engine, config=config, settings=SETTINGS).alerts == 45
    claimed: list[list[int]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def worker(mine: list[int]) -> None:
        start.wait()
        while batch := claim(engine, now=utcnow(), limit=3, sender=f"sender-{id(mine)}"):
            mine.extend(r.id for r in batch if r.id is not None)

    threads = [threading.Thread(target=worker, args=(mine,)) for mine in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    everything = [i for mine in claimed for i in mine]
    assert sorted(everything) == [r.id for r in rows(engine)]  # each row once, none left
    assert {r.status for r in rows(engine)} == {OutboxStatus.sending}


def test_a_sender_claims_a_few_rows_of_each_channel_oldest_first(engine: Engine) -> None:
    config = make_config()
    sync(engine, config)
    ids = {brand: [add_mention(engine, brand=brand) for _ in range(4)] for brand in ("Acme", "Globex", "Initech")}
    enqueue(engine, config=config, settings=SETTINGS, now=NOW)

    assert due_channels(engine, now=NOW) == ["#acme-alerts", "#globex-alerts", "#initech-alerts"]
    claimed = claim(engine, now=NOW, limit=3, sender="s", channel="#globex-alerts")
    assert [r.mention_id for r in claimed] == ids["Globex"][:3]
    assert claim(engine, now=NOW, limit=3, sender="s", channel="#globex-alerts")[0].mention_id == ids["Globex"][3]
    assert due_channels(engine, now=NOW) == ["#acme-alerts", "#initech-alerts"]


def test_a_claim_whose_heartbeat_stopped_is_taken_over_and_its_old_sender_changes_nothing(engine: Engine) -> None:
    config = make_config()
    sync(engine, config)
    for _ in range(3):
        add_mention(engine)
    enqueue(engine, config=config, settings=SETTINGS, now=NOW)
    first, second = claim(engine, now=NOW, limit=2, sender="dead")
    (working,) = claim(engine, now=NOW, limit=1, sender="alive")
    assert first.id is not None and second.id is not None and working.id is not None
    assert start_attempt(engine, first.id, sender="dead", now=NOW, thread_ts=None)
    # Only the live sender beats: 40 s on, the dead one's claims are 40 s old, its own 5 s.
    assert heartbeat(engine, sender="alive", now=NOW + timedelta(seconds=35)) == 1
    assert claim(engine, now=NOW + timedelta(seconds=40), limit=5, sender="new") == []

    assert reclaim_stale(engine, now=NOW + timedelta(seconds=40), older_than=timedelta(seconds=30)) == 2

    again = claim(engine, now=NOW + timedelta(seconds=40), limit=5, sender="new")
    assert [(r.id, r.attempts) for r in again] == [(first.id, 1), (second.id, 0)]  # the lookup will be done
    # The old sender, were it only stuck, finds its rows taken and leaves them alone.
    assert not mark_sent(engine, first.id, sender="dead", now=NOW, slack_ts="1.1")
    assert not start_attempt(engine, second.id, sender="dead", now=NOW, thread_ts=None)
    assert mark_sent(engine, working.id, sender="alive", now=NOW, slack_ts="2.2")
