"""Sending: every negative mention reaches Slack once, whatever Slack or the network does."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from rich.console import Console
from sqlmodel import select

from alerts.console import ConsoleTransport
from alerts.outbox import claim, start_attempt
from alerts.sender import SendPolicy, SendStats, send_alerts
from alerts.slack_blocks import ACTION_HANDLED, ACTION_NOT_NEGATIVE, EVENT_TYPE
from alerts.slack_client import SlackTransport
from alerts.view import load_alert
from mentionwatch.settings import Settings
from store.db import session_scope
from store.models import AlertOutbox, OutboxStatus, utcnow
from tests.alerts.conftest import CHANNELS, FAST, World, add_mention, fast_transport, posted_mention_ids
from tests.fakes.slack_api import FakeSlack, Fault, Message


def send_until_done(world: World, transport: SlackTransport, passes: int = 20) -> SendStats:
    total = SendStats()
    for _ in range(passes):
        stats = send_alerts(world.engine, world.settings, world.config, transport=transport, policy=FAST)
        for name in ("enqueued", "sent", "recovered", "failed", "retrying"):
            setattr(total, name, getattr(total, name) + getattr(stats, name))
        if not stats.retrying and not stats.enqueued and not stats.sent:
            break
    return total


def outbox_rows(world: World) -> list[AlertOutbox]:
    with session_scope(world.engine) as session:
        return list(session.exec(select(AlertOutbox).order_by(AlertOutbox.id)))  # type: ignore[arg-type]


def test_each_negative_mention_is_posted_once_with_what_is_needed_to_answer(world: World) -> None:
    bad = add_mention(world.engine, text="The parcel never came & support <ignores> me", negative=0.93, rating=1)
    add_mention(world.engine, text="Lovely, thank you", negative=0.02)
    other = add_mention(world.engine, brand="Globex", negative=0.81)

    stats = send_alerts(
        world.engine, world.settings, world.config, transport=fast_transport(world.settings), policy=FAST
    )
    again = send_alerts(
        world.engine, world.settings, world.config, transport=fast_transport(world.settings), policy=FAST
    )

    assert (stats.enqueued, stats.sent, again.enqueued, again.sent) == (2, 2, 0, 0)
    assert posted_mention_ids(world.slack) == Counter({bad: 1, other: 1})
    (message,) = world.slack.messages(CHANNELS["acme-alerts"])
    assert message.metadata == {
        "event_type": EVENT_TYPE,
        "event_payload": {"outbox_id": 1, "mention_id": bad, "brand": "Acme"},
    }
    fields = " ".join(f["text"] for f in message.blocks[1]["fields"])
    for expected in (
        "acme-reviews (trustpilot)",
        "customer",
        "★☆☆☆☆ 1/5",
        "negative 97% with the stars (text alone: negative, negative 93%)",
        "en",
        "<!date^",
    ):
        assert expected in fields
    assert "The parcel never came &amp; support &lt;ignores&gt; me" in message.blocks[2]["text"]["text"]
    buttons = {b["action_id"]: b for b in message.blocks[-1]["elements"]}
    assert buttons[ACTION_HANDLED]["value"] == buttons[ACTION_NOT_NEGATIVE]["value"] == str(bad)
    assert any(b.get("url", "").startswith("https://reviews.example/acme/") for b in buttons.values())
    rows = outbox_rows(world)
    assert {r.status for r in rows} == {OutboxStatus.sent}
    assert rows[0].slack_ts == message.ts


def _fault_plan(seed: int, count: int) -> list[Fault]:
    rng = random.Random(seed)
    kinds = [
        None,
        None,
        None,
        Fault.rate_limited(retry_after=0),
        Fault.server_error(),
        Fault.server_error(after=True),
        Fault.dropped(),
        Fault.dropped(after=True),
        Fault.slow(0.6, after=True),
    ]
    return [f for f in (rng.choice(kinds) for _ in range(count)) if f is not None] or [Fault.server_error(after=True)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fault_injected_errors_post_each_negative_mention_exactly_once(world: World, seed: int) -> None:
    ids = [add_mention(world.engine, brand=brand) for brand in ("Acme", "Globex", "Initech") for _ in range(6)]
    # Faults on the posts and on the lookups that follow unclear failures.
    world.slack.inject("chat.postMessage", *_fault_plan(seed, 40))
    world.slack.inject("conversations.history", *_fault_plan(seed + 100, 6))

    stats = send_until_done(world, fast_transport(world.settings, timeout=0.3))

    assert posted_mention_ids(world.slack) == Counter({i: 1 for i in ids})
    assert {r.status for r in outbox_rows(world)} == {OutboxStatus.sent}
    assert stats.failed == 0 and stats.sent == len(ids)
    # The faults did bite: posts were repeated, and some were found already made.
    assert len(world.slack.calls_to("chat.postMessage")) > len(ids) and stats.recovered >= 1


def test_fault_timeout_after_posting_is_found_in_history_not_posted_again(world: World) -> None:
    mention = add_mention(world.engine)
    world.slack.inject("chat.postMessage", Fault.slow(0.8, after=True))

    stats = send_alerts(
        world.engine, world.settings, world.config, transport=fast_transport(world.settings, timeout=0.3), policy=FAST
    )

    assert posted_mention_ids(world.slack) == Counter({mention: 1})
    assert (stats.sent, stats.recovered) == (1, 1)
    assert len(world.slack.calls_to("conversations.history")) == 1
    (row,) = outbox_rows(world)
    assert row.slack_ts == world.slack.messages()[0].ts


def test_fault_crash_after_posting_is_recorded_on_restart_without_a_second_post(world: World) -> None:
    """A sender died between chat.postMessage and recording it: the row stayed 'sending'."""
    first, second = add_mention(world.engine), add_mention(world.engine)
    transport = fast_transport(world.settings)
    send_alerts(world.engine, world.settings, world.config, transport=transport, policy=SendPolicy(batch_size=0))
    (row, _) = claim(world.engine, now=utcnow(), limit=2, sender="crashed")
    assert row.id is not None and start_attempt(world.engine, row.id, sender="crashed", now=utcnow(), thread_ts=None)
    with session_scope(world.engine) as session:
        transport.deliver(row, load_alert(session, row), thread_ts=None)  # posted, never recorded

    stats = send_alerts(
        world.engine,
        world.settings,
        world.config,
        transport=transport,
        policy=SendPolicy(reclaim_after=timedelta(0), retry_delay=timedelta(0)),
    )

    assert posted_mention_ids(world.slack) == Counter({first: 1, second: 1})
    assert (stats.sent, stats.recovered) == (2, 1)


def test_fault_permanent_errors_fail_their_rows_and_the_rest_go_on(world: World, slack: FakeSlack) -> None:
    slack.channels.pop("globex-alerts")  # channel_not_found
    slack.not_in.add(CHANNELS["initech-alerts"])  # not_in_channel
    add_mention(world.engine, brand="Globex")
    add_mention(world.engine, brand="Initech")
    fine = add_mention(world.engine, brand="Acme")

    stats = send_alerts(
        world.engine, world.settings, world.config, transport=fast_transport(world.settings), policy=FAST
    )

    assert (stats.sent, stats.failed) == (1, 2)
    assert posted_mention_ids(world.slack) == Counter({fine: 1})
    failed = {r.channel: r.last_error for r in outbox_rows(world) if r.status == OutboxStatus.failed}
    assert failed == {"#globex-alerts": "channel_not_found", "#initech-alerts": "not_in_channel"}


def test_fault_rate_limits_are_waited_out_not_failed(world: World) -> None:
    mention = add_mention(world.engine)
    world.slack.inject("chat.postMessage", Fault.rate_limited(retry_after=0), Fault.rate_limited(retry_after=0))

    stats = send_alerts(
        world.engine, world.settings, world.config, transport=fast_transport(world.settings), policy=FAST
    )

    assert (stats.sent, stats.retrying) == (1, 0)
    assert posted_mention_ids(world.slack) == Counter({mention: 1})
    # A 429 is a clear "not posted": no history lookup was needed.
    assert world.slack.calls_to("conversations.history") == []


def test_a_reply_in_a_forum_thread_that_already_alerted_goes_into_its_slack_thread(world: World) -> None:
    thread = "https://forum.example/t/42"
    opening = add_mention(world.engine, source="acme-forum", url=thread, thread_url=thread)
    transport = fast_transport(world.settings)
    send_alerts(world.engine, world.settings, world.config, transport=transport, policy=FAST)
    reply = add_mention(world.engine, source="acme-forum", url=thread + "#p2", thread_url=thread)
    unrelated = add_mention(world.engine, source="acme-forum", thread_url="https://forum.example/t/7")

    send_alerts(world.engine, world.settings, world.config, transport=transport, policy=FAST)

    by_mention: dict[int, Message] = {
        m.metadata["event_payload"]["mention_id"]: m for m in world.slack.messages() if m.metadata
    }
    assert by_mention[reply].thread_ts == by_mention[opening].ts
    assert by_mention[opening].thread_ts is None and by_mention[unrelated].thread_ts is None


def test_without_a_token_alerts_print_to_the_console_and_are_not_repeated(world: World) -> None:
    add_mention(world.engine, text="Oszustwo! Paczka nie dotarła.", language="pl", rating=2, rating_best=10)
    settings = Settings(database_url=world.settings.database_url)
    console = Console(record=True, width=100)
    transport = ConsoleTransport(console)

    first = send_alerts(world.engine, settings, world.config, transport=transport)
    second = send_alerts(world.engine, settings, world.config, transport=transport)

    output = console.export_text()
    assert (first.sent, second.sent) == (1, 0)
    assert "Negative mention of Acme on acme-reviews" in output and "Oszustwo! Paczka nie dotarła." in output
    assert "★☆☆☆☆ 2/10" in output
    assert world.slack.calls == []


def test_fault_a_slow_post_keeps_its_claim_alive_so_a_second_sender_leaves_it_alone(world: World) -> None:
    mention = add_mention(world.engine)
    world.slack.inject("chat.postMessage", Fault.hold())  # posted, and the answer held
    quick = SendPolicy(heartbeat=timedelta(seconds=0.05), reclaim_after=timedelta(seconds=0.3))
    results: list[SendStats] = []

    def send() -> SendStats:
        transport = fast_transport(world.settings, timeout=5)
        return send_alerts(world.engine, world.settings, world.config, transport=transport, policy=quick)

    first = threading.Thread(target=lambda: results.append(send()))
    first.start()
    assert world.slack.held.wait(10)
    time.sleep(0.6)  # twice reclaim_after: only the heartbeat keeps the claim
    second = send()
    world.slack.release()
    first.join(10)

    assert (second.sent, results[0].sent) == (0, 1)
    assert posted_mention_ids(world.slack) == Counter({mention: 1})
    assert world.slack.calls_to("conversations.history") == []  # nobody had to look
