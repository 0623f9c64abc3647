"""The alert outbox: each qualifying mention queued once per channel, handed to one sender.

A row's life: pending -> sending (claimed by one sender) -> sent (with Slack's
`slack_ts`) or failed (a permanent error, `last_error` says why). A transient failure
puts it back to pending with a later `next_attempt_at`. `attempts` counts the posts that
were started: a row with attempts > 0 may already be in Slack, so the sender looks for
it there before posting again. A mention that qualifies but was said before the brand's
`max_age` gets a `held` row instead: stored and counted, never posted, decided once.

Queueing is idempotent twice over: candidates are mentions without a row, and the insert
does nothing on the (mention, channel) unique key. Claiming is safe with
several senders: one UPDATE ... RETURNING moves pending rows to sending, with
`FOR UPDATE SKIP LOCKED` on PostgreSQL and the `status = 'pending'` condition of the
UPDATE itself on SQLite, where writers take turns. A claim names its sender
(`claimed_by`), which keeps it alive with a heartbeat (`claimed_at`) while it works and
changes only rows it still holds; a claim whose heartbeat stopped (a killed sender) is
put back to pending by the next sender, which then checks Slack before posting.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from alerts.rules import BrandRules, MentionFacts, Verdict
from alerts.spikes import MENTION_KIND, SPIKE_KIND, SpikeRule, check_volume, happened_recently, open_spike
from mentionwatch.config import Brand as BrandConfig
from mentionwatch.config import Config
from mentionwatch.settings import Settings
from store.db import conflict_insert, session_scope
from store.derived import said_at
from store.models import AlertCheck, AlertOutbox, Brand, Mention, OutboxStatus, SentimentScore, Source, utcnow
from store.queries import get_brand

# Alerts go to the console, not Slack, where no token is set; rows are still marked sent.
CONSOLE_CHANNEL = "console"
# Mentions found, edited or relabeled longer ago than this are not looked at again.
LOOKBACK = timedelta(days=3)


@dataclass(frozen=True)
class Queued:
    """What one queueing pass added: rows to send, and older mentions held back."""

    alerts: int = 0
    held: int = 0

    def __add__(self, other: Queued) -> Queued:
        return Queued(self.alerts + other.alerts, self.held + other.held)


class AlertSetupError(ValueError):
    """The config and settings cannot send a brand's alerts (e.g. no channel for Slack)."""


def alert_channel(brand: BrandConfig, settings: Settings) -> str:
    """Where a brand's alerts go: its own channel, the default one, or the console."""
    channel = brand.alerts.channel or settings.slack_channel
    if channel:
        return channel
    if settings.slack_token is None:
        return CONSOLE_CHANNEL
    raise AlertSetupError(
        f"brand {brand.name!r} has no Slack channel: set [brands.alerts] channel in the config "
        "or MENTIONWATCH_SLACK_CHANNEL"
    )


def check_setup(config: Config, settings: Settings) -> None:
    """Fail early, naming the brand, when some brand's alerts could not be sent."""
    for brand in config.brands:
        if brand.alerts.enabled:
            alert_channel(brand, settings)


# --- queueing ---------------------------------------------------------------------


def enqueue(
    engine: Engine,
    *,
    config: Config,
    settings: Settings,
    now: datetime | None = None,
) -> Queued:
    """Queue every qualifying mention not queued yet; says how many rows were added."""
    now = now or utcnow()
    queued = Queued()
    for brand in config.brands:
        if not brand.alerts.enabled:
            continue
        channel = alert_channel(brand, settings)
        with session_scope(engine) as session:
            queued += _enqueue_brand(session, brand, channel, now=now)
    return queued


def _enqueue_brand(session: Session, brand: BrandConfig, channel: str, *, now: datetime) -> Queued:
    row = get_brand(session, name=brand.name)
    if row is None or row.id is None:
        return Queued()  # not crawled yet: the config was never synced into the store
    brand_id = row.id
    # Writing the brand row first serializes queueing per brand across processes (a row
    # lock on PostgreSQL, the write lock on SQLite), so one storm gets one spike alert.
    session.execute(update(Brand).where(col(Brand.id) == brand_id).values(name=Brand.name))
    rules = BrandRules(brand.alerts)
    digest = rules_digest(brand)
    qualifying: list[tuple[Mention, Verdict]] = []
    passed: list[tuple[Mention, SentimentScore | None]] = []
    for mention, source_name, score in _candidates(session, brand_id, rules, digest, since=now - LOOKBACK):
        verdict = rules.evaluate(_facts(mention, source_name, score))
        if verdict is None:
            passed.append((mention, score))
        else:
            qualifying.append((mention, verdict))
    _remember_passed(session, passed, digest, now=now)
    oldest = now - brand.alerts.max_age_delta
    news = [(mention, verdict) for mention, verdict in qualifying if said_at(mention) >= oldest]
    held = sum(
        _insert_once(session, _row_values(mention, brand_id, channel, verdict, now, status=OutboxStatus.held))
        for mention, verdict in qualifying
        if said_at(mention) < oldest
    )
    if not news:
        return Queued(held=held)
    spike = _spike_for(session, brand, brand_id, channel, news, now=now)
    added = 0
    for mention, verdict in news:
        parent_id = _thread_parent(session, mention, brand_id, channel) or (spike.id if spike else None)
        if _insert_once(session, _row_values(mention, brand_id, channel, verdict, now, parent_id=parent_id)):
            added += 1
    return Queued(alerts=added, held=held)


def _spike_for(
    session: Session,
    brand: BrandConfig,
    brand_id: int,
    channel: str,
    qualifying: list[tuple[Mention, Verdict]],
    *,
    now: datetime,
) -> AlertOutbox | None:
    """The spike alert these alerts belong under: the open one, a new one, or none."""
    if not brand.alerts.spikes.enabled:
        return None
    spike_rule = SpikeRule.configured(brand.alerts.spikes)
    spike = open_spike(session, brand_id=brand_id, channel=channel, now=now, rule=spike_rule)
    if spike is None:
        fresh = sum(1 for mention, _ in qualifying if happened_recently(mention, now=now, rule=spike_rule))
        check = check_volume(session, brand_id=brand_id, now=now, adding=fresh, rule=spike_rule)
        if check.is_spike:
            spike = AlertOutbox(
                brand_id=brand_id,
                channel=channel,
                kind=SPIKE_KIND,
                urgent=any(v.urgent for _, v in qualifying),
                created_at=now,
                payload=check.payload(brand=brand.name, now=now),
            )
            session.add(spike)
            session.flush()
    return spike


def rules_digest(brand: BrandConfig) -> str:
    """What a brand's alert settings are, in 16 hex digits: a change judges recent mentions again."""
    return hashlib.sha256(brand.alerts.model_dump_json().encode()).hexdigest()[:16]


def _candidates(
    session: Session, brand_id: int, rules: BrandRules, digest: str, *, since: datetime
) -> list[tuple[Mention, str, SentimentScore | None]]:
    """Recent mentions of the brand, never queued, that may qualify and were not judged
    on these very facts already.

    Queued in any channel counts: moving a brand to a new channel, or from the console to
    Slack, must not post its recent alerts again.
    """
    statement = (
        select(Mention, Source.name, SentimentScore)
        .join(Source, col(Source.id) == col(Mention.source_id))
        .outerjoin(SentimentScore, col(SentimentScore.mention_id) == col(Mention.id))
        .outerjoin(AlertOutbox, col(AlertOutbox.mention_id) == col(Mention.id))
        .outerjoin(AlertCheck, col(AlertCheck.mention_id) == col(Mention.id))
        .where(
            col(Mention.brand_id) == brand_id,
            col(AlertOutbox.id).is_(None),
            or_(
                col(AlertCheck.mention_id).is_(None),
                col(AlertCheck.rules) != digest,
                col(AlertCheck.content_hash) != col(Mention.content_hash),
                col(AlertCheck.scored_at).is_distinct_from(col(SentimentScore.scored_at)),
                col(AlertCheck.manual_at).is_distinct_from(col(SentimentScore.manual_at)),
            ),
            # Not scored_at: a new model re-scoring the archive must not alert on old news.
            or_(
                col(Mention.fetched_at) >= since,
                col(Mention.updated_at) >= since,
                col(SentimentScore.manual_at) >= since,
            ),
        )
        .order_by(col(Mention.id))
    )
    if not rules.has_critical_words:  # a cheap first cut; the rules decide
        statement = statement.where(
            or_(
                col(SentimentScore.manual_label) == "negative",
                col(SentimentScore.prob_negative) >= rules.rules.min_negative,
                col(SentimentScore.label) == "negative",
                col(Mention.rating).is_not(None),
            )
        )
    return [(m, name, s) for m, name, s in session.exec(statement)]


def _remember_passed(
    session: Session, passed: list[tuple[Mention, SentimentScore | None]], digest: str, *, now: datetime
) -> None:
    """Record the facts each let-pass mention was judged on, so it is not read again until they change."""
    if not passed:
        return
    rows = [
        {
            "mention_id": mention.id,
            "rules": digest,
            "content_hash": mention.content_hash,
            "scored_at": score.scored_at if score else None,
            "manual_at": score.manual_at if score else None,
            "checked_at": now,
        }
        for mention, score in passed
    ]
    statement = conflict_insert(session, AlertCheck)
    kept = ("rules", "content_hash", "scored_at", "manual_at", "checked_at")
    upsert = statement.on_conflict_do_update(
        index_elements=["mention_id"], set_={name: statement.excluded[name] for name in kept}
    )
    session.execute(upsert, rows)  # executemany: batched by the driver, any number of rows


def _facts(mention: Mention, source_name: str, score: SentimentScore | None) -> MentionFacts:
    return MentionFacts(
        source=source_name,
        language=mention.language,
        text=f"{mention.title or ''}\n{mention.text}",
        rating=mention.rating,
        rating_best=mention.rating_best,
        rating_worst=mention.rating_worst,
        label=score.label if score else None,
        prob_negative=score.prob_negative if score else None,
        manual_label=score.manual_label if score else None,
    )


def _thread_parent(session: Session, mention: Mention, brand_id: int, channel: str) -> int | None:
    """The first alert in `channel` about the forum thread or post this mention replies in."""
    if not mention.thread_url:
        return None
    url = mention.thread_url
    return session.exec(
        select(AlertOutbox.id)
        .join(Mention, col(Mention.id) == col(AlertOutbox.mention_id))
        .where(
            col(AlertOutbox.brand_id) == brand_id,
            col(AlertOutbox.channel) == channel,
            col(AlertOutbox.kind) == MENTION_KIND,
            col(AlertOutbox.status).not_in([OutboxStatus.failed, OutboxStatus.held]),
            col(AlertOutbox.mention_id) != mention.id,
            or_(col(Mention.thread_url) == url, col(Mention.url) == url, col(Mention.canonical_url) == url),
        )
        .order_by(col(AlertOutbox.id))
    ).first()


def _row_values(
    mention: Mention,
    brand_id: int,
    channel: str,
    verdict: Verdict,
    now: datetime,
    *,
    parent_id: int | None = None,
    status: OutboxStatus = OutboxStatus.pending,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "reasons": list(verdict.reasons),
        "critical_words": list(verdict.critical_words),
        "negative": verdict.negative,
    }
    if parent_id is not None:
        payload["parent_id"] = parent_id
    return {
        "mention_id": mention.id,
        "brand_id": brand_id,
        "channel": channel,
        "kind": MENTION_KIND,
        "urgent": verdict.urgent,
        "status": status.value,
        "attempts": 0,
        "created_at": now,
        "payload": payload,
    }


def _insert_once(session: Session, values: dict[str, Any]) -> bool:
    """Insert a row unless one exists for its (mention, channel); True when inserted."""
    statement = (
        conflict_insert(session, AlertOutbox)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["mention_id", "channel"])
        .returning(col(AlertOutbox.id))
    )
    return session.execute(statement).scalar_one_or_none() is not None


# --- sending ----------------------------------------------------------------------


def _due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        col(AlertOutbox.status) == OutboxStatus.pending,
        or_(col(AlertOutbox.next_attempt_at).is_(None), col(AlertOutbox.next_attempt_at) <= now),
    )


def due_channels(engine: Engine, *, now: datetime) -> list[str]:
    """The channels with rows due to be sent."""
    with session_scope(engine) as session:
        statement = select(AlertOutbox.channel).where(*_due(now)).distinct().order_by(col(AlertOutbox.channel))
        return list(session.exec(statement))


def claim(
    engine: Engine, *, now: datetime, limit: int, sender: str, channel: str | None = None
) -> list[AlertOutbox]:
    """Move up to `limit` due pending rows (of one `channel`, or any) to sending for
    `sender`, oldest first."""
    # A materialized CTE: as a plain IN (subquery), PostgreSQL may run the LIMIT ... SKIP
    # LOCKED query more than once and claim more rows than `limit`.
    due = (
        select(col(AlertOutbox.id))
        .where(*_due(now), *(() if channel is None else (col(AlertOutbox.channel) == channel,)))
        .order_by(col(AlertOutbox.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
        .prefix_with("MATERIALIZED")
    )
    statement = (
        update(AlertOutbox)
        .where(col(AlertOutbox.id).in_(select(due.c.id)), col(AlertOutbox.status) == OutboxStatus.pending)
        .values(status=OutboxStatus.sending, claimed_at=now, claimed_by=sender)
        .returning(col(AlertOutbox.id))
    )
    with session_scope(engine) as session:
        ids = list(session.execute(statement).scalars())
        if not ids:
            return []
        return list(session.exec(select(AlertOutbox).where(col(AlertOutbox.id).in_(ids)).order_by(col(AlertOutbox.id))))


def heartbeat(engine: Engine, *, sender: str, now: datetime) -> int:
    """Mark every row `sender` holds as still being worked on; returns how many it holds."""
    statement = (
        update(AlertOutbox)
        .where(col(AlertOutbox.status) == OutboxStatus.sending, col(AlertOutbox.claimed_by) == sender)
        .values(claimed_at=now)
    )
    with session_scope(engine) as session:
        return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def reclaim_stale(engine: Engine, *, now: datetime, older_than: timedelta) -> int:
    """Put rows whose sender's heartbeat stopped `older_than` ago back to pending.

    Their `attempts` stay, so the next sender checks Slack before posting them again.
    """
    statement = (
        update(AlertOutbox)
        .where(col(AlertOutbox.status) == OutboxStatus.sending, col(AlertOutbox.claimed_at) < now - older_than)
        .values(status=OutboxStatus.pending, claimed_by=None)
    )
    with session_scope(engine) as session:
        return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def _update_claimed(engine: Engine, row_id: int, sender: str, **values: Any) -> bool:
    """Update a row `sender` still holds; False when it lost it to another sender."""
    statement = (
        update(AlertOutbox)
        .where(
            col(AlertOutbox.id) == row_id,
            col(AlertOutbox.status) == OutboxStatus.sending,
            col(AlertOutbox.claimed_by) == sender,
        )
        .values(**values)
    )
    with session_scope(engine) as session:
        return int(session.execute(statement).rowcount) == 1  # type: ignore[attr-defined]


def start_attempt(engine: Engine, row_id: int, *, sender: str, now: datetime, thread_ts: str | None) -> bool:
    """Record, before posting, that a post starts and into which thread."""
    return _update_claimed(
        engine, row_id, sender, attempts=AlertOutbox.attempts + 1, claimed_at=now, thread_ts=thread_ts
    )


def mark_sent(engine: Engine, row_id: int, *, sender: str, now: datetime, slack_ts: str | None) -> bool:
    return _update_claimed(
        engine, row_id, sender, status=OutboxStatus.sent, sent_at=now, slack_ts=slack_ts, last_error=None
    )


def mark_failed(engine: Engine, row_id: int, *, sender: str, reason: str) -> bool:
    return _update_claimed(engine, row_id, sender, status=OutboxStatus.failed, last_error=reason)


def release(engine: Engine, row_id: int, *, sender: str, at: datetime, reason: str | None = None) -> bool:
    """Give a claimed row back, due again at `at` (with why, after a failure)."""
    values: dict[str, Any] = {"status": OutboxStatus.pending, "next_attempt_at": at, "claimed_by": None}
    if reason is not None:
        values["last_error"] = reason
    return _update_claimed(engine, row_id, sender, **values)


@dataclass(frozen=True)
class ThreadPlace:
    """Where a row's message goes: `wait` while its thread's first message is unsent."""

    thread_ts: str | None
    wait: bool = False


def thread_place(session: Session, row: AlertOutbox) -> ThreadPlace:
    """The Slack thread for a row: its own from an earlier attempt, else its parent's."""
    if row.thread_ts:
        return ThreadPlace(row.thread_ts)
    parent_id = (row.payload or {}).get("parent_id")
    parent = session.get(AlertOutbox, parent_id) if parent_id else None
    if parent is None or parent.status == OutboxStatus.failed:
        return ThreadPlace(None)
    if parent.status != OutboxStatus.sent:
        return ThreadPlace(None, wait=True)
    # Slack threads are one level deep: a reply to a reply goes under the first message.
    return ThreadPlace(parent.thread_ts or parent.slack_ts)


def requeue_failed(engine: Engine, *, ids: list[int] | None = None) -> int:
    """Put failed rows (all, or those `ids`) back to pending once the cause is fixed."""
    statement = update(AlertOutbox).where(col(AlertOutbox.status) == OutboxStatus.failed)
    if ids:
        statement = statement.where(col(AlertOutbox.id).in_(ids))
    statement = statement.values(status=OutboxStatus.pending, next_attempt_at=None)
    with session_scope(engine) as session:
        return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


# --- reading ----------------------------------------------------------------------


def list_rows(session: Session, *, failed_only: bool = False, limit: int = 50) -> list[tuple[AlertOutbox, str]]:
    """The newest outbox rows with their brand's name, for `mentionwatch alerts list`."""
    statement = (
        select(AlertOutbox, Brand.name)
        .join(Brand, col(Brand.id) == col(AlertOutbox.brand_id))
        .order_by(col(AlertOutbox.id).desc())
        .limit(limit)
    )
    if failed_only:
        statement = statement.where(col(AlertOutbox.status) == OutboxStatus.failed)
    return [(row, name) for row, name in session.exec(statement)]
