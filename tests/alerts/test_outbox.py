"""The outbox on SQLite and PostgreSQL: queued once, claimed by one sender, reclaimed after a crash."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import select

from alerts.outbox import AlertSetupError, claim, enqueue, reclaim_stale, start_attempt
from mentionwatch.settings import Settings
from store.db import session_scope
from store.models import AlertOutbox, OutboxStatus, utcnow
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
    assert (first, second) == (3, 0)
    assert [r.mention_id for r in queued] == [negative, low_stars, relabeled]
    assert {(r.channel, r.status, r.kind) for r in queued} == {("#acme-alerts", OutboxStatus.pending, "mention")}


def test_a_new_channel_does_not_queue_alerted_mentions_again(engine: Engine) -> None:
    config = make_config()
    sync(engine, config)
    add_mention(engine)
    assert enqueue(engine, config=config, settings=SETTINGS) == 1
    moved = make_config(brands={"Acme": "#acme-new"})
    assert enqueue(engine, config=moved, settings=SETTINGS) == 0
    add_mention(engine)
    assert enqueue(engine, config=moved, settings=SETTINGS) == 1
    assert [r.channel for r in rows(engine)] == ["#acme-alerts", "#acme-new"]


def test_old_mentions_are_not_looked_at_again(engine: Engine) -> None:
    config = make_config()
    sync(engine, config)
    add_mention(engine, fetched_at=utcnow() - timedelta(days=30))
    assert enqueue(engine, config=config, settings=SETTINGS) == 0


def test_critical_words_queue_urgent_rows(engine: Engine) -> None:
    config = make_config(rules='critical_words = ["recall"]')
    sync(engine, config)
    add_mention(engine, text="They announced a recall of the kettle")
    enqueue(engine, config=config, settings=SETTINGS)
    (row,) = rows(engine)
    assert row.urgent and row.payload == {"reasons": ["negative 95%"], "critical_words": ["recall"]}


def test_a_brand_without_a_channel_is_an_error_only_when_slack_is_used(engine: Engine) -> None:
    config = make_config(brands={"Acme": ""})
    sync(engine, config)
    add_mention(engine)
    with pytest.raises(AlertSetupError, match="brand 'Acme' has no Slack channel"):
        enqueue(engine, config=config, settings=SETTINGS)
    assert enqueue(engine, config=config, settings=Settings()) == 1
    assert [r.channel for r in rows(engine)] == ["console"]
    add_mention(engine)
    assert enqueue(engine, config=config, settings=Settings(slack_channel="#default")) == 1
    assert [r.channel for r in rows(engine)] == ["console", "#default"]


def test_concurrent_senders_claim_each_row_once(engine: Engine) -> None:
    config = make_config()
    sync(engine, config)
    for brand in ("Acme", "Globex", "Initech"):
        for _ in range(15):
            add_mention(engine, brand=brand)
    assert enqueue(engine, config=config, settings=SETTINGS) == 45
    claimed: list[list[int]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def worker(mine: list[int]) -> None:
        start.wait()
        while batch := claim(engine, now=utcnow(), limit=3):
            mine.extend(r.id for r in batch if r.id is not None)

    threads = [threading.Thread(target=worker, args=(mine,)) for mine in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    everything = [i for mine in claimed for i in mine]
    assert sorted(everything) == [r.id for r in rows(engine)]  # each row once, none left
    assert {r.status for r in rows(engine)} == {OutboxStatus.sending}


def test_rows_left_sending_by_a_dead_sender_are_reclaimed_with_their_attempts(engine: Engine) -> None:
    config = make_config()
    sync(engine, config)
    add_mention(engine)
    add_mention(engine)
    enqueue(engine, config=config, settings=SETTINGS)
    now = utcnow()
    first, second = claim(engine, now=now - timedelta(minutes=10), limit=2)
    assert first.id is not None and start_attempt(engine, first.id, now=now - timedelta(minutes=10), thread_ts=None)
    assert claim(engine, now=now, limit=5) == []

    assert reclaim_stale(engine, now=now, older_than=timedelta(minutes=5)) == 2

    again = claim(engine, now=now, limit=5)
    assert [(r.id, r.attempts) for r in again] == [(first.id, 1), (second.id, 0)]
