"""One pass of the alert job: queue what qualifies, then send every due outbox row.

The scheduler, `mentionwatch alerts send` and the tests all call `send_alerts`. Slack
allows about one message a second per channel, so the pass paces each channel on its
own and goes round the channels, oldest row first: several channels together go
faster than one. A permanent error fails that row and the pass goes on; a transient one
puts it back for a later pass, with a growing delay.

A pass claims small batches (a few rows of each channel) and, while it works, a heartbeat thread keeps its claims
fresh; before each batch it takes back the claims of senders whose heartbeat stopped (a
crash, a SIGKILL), so their alerts go out within seconds, still exactly once.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
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
    # Rows claimed per channel at a time: few, so a sender that dies holds few alerts,
    # yet every channel with alerts is in each batch, so channels still post side by side.
    batch_size: int = 5
    # While it works, a sender marks its claims alive this often...
    heartbeat: timedelta = timedelta(seconds=5)
    # ... so a claim not marked for this long belongs to a sender that died: another one
    # sends it (after checking Slack for it). Four missed heartbeats, so a busy database
    # rarely makes a live sender lose a row; if it does, the claim's owner check and the
    # lookup in Slack still keep the message single.
    reclaim_after: timedelta = timedelta(seconds=20)
    # After a transient failure a row waits this long, doubled on each further failure.
    retry_delay: timedelta = timedelta(seconds=30)
    max_retry_delay: timedelta = timedelta(minutes=30)
    # How long a thread reply waits for its thread's first message to be posted.
    thread_wait: timedelta = timedelta(seconds=2)


@dataclass
class SendStats:
    enqueued: int = 0
    # Qualified, but said before the brand's max_age: stored without an alert.
    held: int = 0
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
    channels: Collection[str] | None = None,
) -> SendStats:
    """Queue and send; returns what happened. `stop` ends the pass between two messages.

    With `channels`, the pass only sends those channels' due rows and queues nothing:
    the cluster's workers each take one channel at a time (so Slack's pace per channel
    holds across machines), after one of them queued the new alerts.
    """
    transport = transport or default_transport(settings)
    stop = stop or threading.Event()
    stats = SendStats()
    if channels is None:
        queued = outbox.enqueue(engine, config=config, settings=settings, now=clock())
        stats.enqueued, stats.held = queued.alerts, queued.held
        if queued.held:
            log.info("%d older mentions stored without an alert (said before the brand's max_age)", queued.held)
    sender = _Sender(engine, transport, stats, policy, stop, clock)
    with _heartbeat(engine, sender.id, policy.heartbeat, clock):
        while not stop.is_set():
            reclaimed = outbox.reclaim_stale(engine, now=clock(), older_than=policy.reclaim_after)
            if reclaimed:
                log.warning(
                    "taking over %d alerts of a sender that stopped; checking Slack before resending", reclaimed
                )
            rows = [
                row
                for channel in outbox.due_channels(engine, now=clock())
                if channels is None or channel in channels
                for row in outbox.claim(
                    engine, now=clock(), limit=policy.batch_size, sender=sender.id, channel=channel
                )
            ]
            if not rows:
                break
            sender.send_batch(rows)
    return stats


@contextmanager
def _heartbeat(engine: Engine, sender: str, every: timedelta, clock: Callable[[], datetime]) -> Iterator[None]:
    """A thread that marks `sender`'s claims alive every `every` until the block ends."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(every.total_seconds()):
            try:
                outbox.heartbeat(engine, sender=sender, now=clock())
            except Exception:  # a database hiccup: the next beat tries again
                log.warning("alert sender heartbeat failed", exc_info=True)

    thread = threading.Thread(target=beat, name="alert-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


class _ChannelPacer:
    """Per channel, the earliest moment the next message may go."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._ready: dict[str, float] = {}

    def ready_at(self, channel: str) -> float:
        return self._ready.get(channel, 0.0)

    def sent(self, channel: str) -> None:
        self._ready[channel] = time.monotonic() + self.interval


@dataclass
class _Sender:
    """One pass's sender: its id names its claims; it sends claimed rows, paced per channel."""

    engine: Engine
    transport: Transport
    stats: SendStats
    policy: SendPolicy
    stop: threading.Event
    clock: Callable[[], datetime]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        self.pacer = _ChannelPacer(self.transport.min_interval)

    def send_batch(self, rows: list[AlertOutbox]) -> None:
        queues: dict[str, deque[AlertOutbox]] = {}
        for row in rows:
            queues.setdefault(row.channel, deque()).append(row)
        pacer = self.pacer
        while queues:
            # The channel that may post soonest; among equals, the oldest row.
            channel = min(queues, key=lambda c: (pacer.ready_at(c), queues[c][0].id or 0))
            delay = pacer.ready_at(channel) - time.monotonic()
            if delay > 0 and self.stop.wait(delay):
                break
            if self.stop.is_set():
                break
            row = queues[channel].popleft()
            if not queues[channel]:
                del queues[channel]
            if self._send_row(row):
                pacer.sent(channel)
        for left in queues.values():  # stopped: hand the rest back untouched
            for row in left:
                assert row.id is not None
                outbox.release(self.engine, row.id, sender=self.id, at=self.clock())

    def _send_row(self, row: AlertOutbox) -> bool:
        """Send one claimed row; True when a message went out to its channel (or was tried)."""
        assert row.id is not None
        engine, stats, clock = self.engine, self.stats, self.clock
        with session_scope(engine) as session:
            place = outbox.thread_place(session, row)
            alert = None if place.wait else load_alert(session, row)
        if alert is None:
            outbox.release(engine, row.id, sender=self.id, at=clock() + self.policy.thread_wait)
            return False
        if not outbox.start_attempt(engine, row.id, sender=self.id, now=clock(), thread_ts=place.thread_ts):
            log.warning("alert %s was taken over by another sender; leaving it to that one", row.id)
            return False
        try:
            delivery = self.transport.deliver(row, alert, thread_ts=place.thread_ts)
        except PermanentSendError as exc:
            outbox.mark_failed(engine, row.id, sender=self.id, reason=str(exc))
            stats.failed += 1
            stats.errors.append(f"alert {row.id} to {row.channel}: {exc}")
            log.error(
                "alert %s to %s failed for good: %s (see `mentionwatch alerts list --failed`)",
                row.id,
                row.channel,
                exc,
            )
            return True
        except TransientSendError as exc:
            wait = min(self.policy.retry_delay * 2**row.attempts, self.policy.max_retry_delay)
            outbox.release(engine, row.id, sender=self.id, at=clock() + wait, reason=str(exc))
            stats.retrying += 1
            log.warning("alert %s to %s: %s; trying again in %s", row.id, row.channel, exc, wait)
            return True
        if not outbox.mark_sent(engine, row.id, sender=self.id, now=clock(), slack_ts=delivery.ts):
            log.warning("alert %s was posted, but another sender took it over meanwhile", row.id)
        stats.sent += 1
        stats.recovered += delivery.recovered
        return True
