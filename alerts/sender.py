"""One pass of the alert job: queue what qualifies, then send every due outbox row.

The scheduler, `mentionwatch alerts send` and the tests all call `send_alerts`. Slack
allows about one message a second per channel, so the pass paces each channel on its
own and goes round the channels, oldest row first: several channels together go
faster than one. A permanent error fails that row and the pass goes on; a transient one
puts it back for a later pass, with a growing delay.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rich.console import Console
from sqlalchemy.engine import Engine

from alerts import outbox
from alerts.console import ConsoleTransport
from alerts.delivery import PermanentSendError, TransientSendError, Transport
from alerts.slack_client import SlackTransport, make_client
from alerts.view import load_alert
from mentionwatch.config import Config
from mentionwatch.settings import Settings
from store.db import session_scope
from store.models import AlertOutbox, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendPolicy:
    batch_size: int = 50
    # A row claimed longer ago than this belongs to a sender that died: send it again
    # (after checking Slack for it). Longer than any one post with its retries takes.
    reclaim_after: timedelta = timedelta(minutes=5)
    # After a transient failure a row waits this long, doubled on each further failure.
    retry_delay: timedelta = timedelta(seconds=30)
    max_retry_delay: timedelta = timedelta(minutes=30)
    # How long a thread reply waits for its thread's first message to be posted.
    thread_wait: timedelta = timedelta(seconds=2)


@dataclass
class SendStats:
    enqueued: int = 0
    sent: int = 0
    # Found already in Slack (an earlier attempt posted it) and recorded, not reposted.
    recovered: int = 0
    failed: int = 0
    retrying: int = 0
    errors: list[str] = field(default_factory=list)


def default_transport(settings: Settings, console: Console | None = None) -> Transport:
    """Slack with a token; Rich panels on the console without one."""
    if settings.slack_token is None:
        return ConsoleTransport(console)
    return SlackTransport(make_client(settings))


def send_alerts(
    engine: Engine,
    settings: Settings,
    config: Config,
    *,
    transport: Transport | None = None,
    policy: SendPolicy = SendPolicy(),
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> SendStats:
    """Queue and send; returns what happened. `stop` ends the pass between two messages."""
    transport = transport or default_transport(settings)
    stop = stop or threading.Event()
    stats = SendStats()
    stats.enqueued = outbox.enqueue(engine, config=config, settings=settings, now=clock())
    reclaimed = outbox.reclaim_stale(engine, now=clock(), older_than=policy.reclaim_after)
    if reclaimed:
        log.warning("%d alerts were left mid-send by a stopped sender; checking Slack before resending", reclaimed)
    pacer = _ChannelPacer(transport.min_interval)
    while not stop.is_set():
        rows = outbox.claim(engine, now=clock(), limit=policy.batch_size)
        if not rows:
            break
        _send_batch(engine, transport, rows, pacer, stats, policy, stop, clock)
    return stats


class _ChannelPacer:
    """Per channel, the earliest moment the next message may go."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._ready: dict[str, float] = {}

    def ready_at(self, channel: str) -> float:
        return self._ready.get(channel, 0.0)

    def sent(self, channel: str) -> None:
        self._ready[channel] = time.monotonic() + self.interval


def _send_batch(
    engine: Engine,
    transport: Transport,
    rows: list[AlertOutbox],
    pacer: _ChannelPacer,
    stats: SendStats,
    policy: SendPolicy,
    stop: threading.Event,
    clock: Callable[[], datetime],
) -> None:
    queues: dict[str, deque[AlertOutbox]] = {}
    for row in rows:
        queues.setdefault(row.channel, deque()).append(row)
    while queues:
        # The channel that may post soonest; among equals, the oldest row.
        channel = min(queues, key=lambda c: (pacer.ready_at(c), queues[c][0].id or 0))
        delay = pacer.ready_at(channel) - time.monotonic()
        if delay > 0 and stop.wait(delay):
            break
        if stop.is_set():
            break
        row = queues[channel].popleft()
        if not queues[channel]:
            del queues[channel]
        if _send_row(engine, transport, row, stats, policy, clock):
            pacer.sent(channel)
    for left in queues.values():  # stopped: hand the rest back untouched
        for row in left:
            assert row.id is not None
            outbox.release(engine, row.id, at=clock())


def _send_row(
    engine: Engine,
    transport: Transport,
    row: AlertOutbox,
    stats: SendStats,
    policy: SendPolicy,
    clock: Callable[[], datetime],
) -> bool:
    """Send one claimed row; True when a message went out to its channel (or was tried)."""
    assert row.id is not None
    with session_scope(engine) as session:
        place = outbox.thread_place(session, row)
        alert = None if place.wait else load_alert(session, row)
    if alert is None:
        outbox.release(engine, row.id, at=clock() + policy.thread_wait)
        return False
    if not outbox.start_attempt(engine, row.id, now=clock(), thread_ts=place.thread_ts):
        log.warning("alert %s was taken over by another sender; leaving it to that one", row.id)
        return False
    try:
        delivery = transport.deliver(row, alert, thread_ts=place.thread_ts)
    except PermanentSendError as exc:
        outbox.mark_failed(engine, row.id, reason=str(exc))
        stats.failed += 1
        stats.errors.append(f"alert {row.id} to {row.channel}: {exc}")
        log.error(
            "alert %s to %s failed for good: %s (see `mentionwatch alerts list --failed`)", row.id, row.channel, exc
        )
        return True
    except TransientSendError as exc:
        wait = min(policy.retry_delay * 2**row.attempts, policy.max_retry_delay)
        outbox.release(engine, row.id, at=clock() + wait, reason=str(exc))
        stats.retrying += 1
        log.warning("alert %s to %s: %s; trying again in %s", row.id, row.channel, exc, wait)
        return True
    outbox.mark_sent(engine, row.id, now=clock(), slack_ts=delivery.ts)
    stats.sent += 1
    stats.recovered += delivery.recovered
    return True
