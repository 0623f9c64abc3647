"""The schema: every table mentionwatch keeps, in one module.

The database is the only queue between the pipeline's steps (crawl -> score -> alert
-> digest), so the unique constraints here are what make each step idempotent: a
re-crawl cannot store a mention twice, an alert cannot be queued twice for a channel.
All times are stored as timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


def _utc_column(*, index: bool = False) -> Any:
    """An optional UTC timestamp column."""
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=True, index=index))


def _utc_now_column() -> Any:
    """A required UTC timestamp column that defaults to the time of insertion."""
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class HandlingState(StrEnum):
    new = "new"
    acknowledged = "acknowledged"
    responded = "responded"
    ignored = "ignored"


class OutboxStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    # Qualified, but said before the brand's alert max_age: kept so it is decided once.
    held = "held"


class Brand(SQLModel, table=True):
    __tablename__ = "brands"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    query: str = ""
    timezone: str = "UTC"


class Source(SQLModel, table=True):
    __tablename__ = "sources"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    type: str
    brand_id: int = Field(foreign_key="brands.id", index=True)


class Mention(SQLModel, table=True):
    """One review, post or comment about a brand, as last seen at its source."""

    __tablename__ = "mentions"
    __table_args__ = (
        # Re-crawling finds the same item by its external id, or by URL where there is none.
        UniqueConstraint("source_id", "dedup_key", name="uq_mentions_source_dedup"),
        Index("ix_mentions_brand_published", "brand_id", "published_at"),
        # Mentions without a date happened when found: date ranges read them from here.
        Index(
            "ix_mentions_brand_undated",
            "brand_id",
            "fetched_at",
            sqlite_where=text("published_at IS NULL"),
            postgresql_where=text("published_at IS NULL"),
        ),
        Index("ix_mentions_brand_hash", "brand_id", "content_hash"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="sources.id", index=True)
    brand_id: int = Field(foreign_key="brands.id")
    dedup_key: str
    external_id: str | None = None
    url: str
    canonical_url: str = Field(index=True)
    thread_url: str | None = None
    parent_url: str | None = None
    author: str | None = None
    title: str | None = None
    text: str = Field(sa_column=Column(Text, nullable=False))
    language: str | None = Field(default=None, index=True)
    rating: float | None = None
    rating_best: float | None = None
    rating_worst: float | None = None
    # How many people saw it, where the source counts (Telegram, VK), as of the last save.
    views: int | None = None
    published_at: datetime | None = _utc_column()
    fetched_at: datetime = _utc_now_column()
    updated_at: datetime | None = _utc_column()
    # Hash of the normalized text: finds syndicated copies and tells scoring that an
    # edited mention needs a new score.
    content_hash: str


class SentimentScore(SQLModel, table=True):
    """The current sentiment of a mention: the model's and, if set, a person's."""

    __tablename__ = "sentiment_scores"

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id", unique=True)
    label: str | None = None
    score: float | None = None
    prob_negative: float | None = None
    prob_neutral: float | None = None
    prob_positive: float | None = None
    model_name: str | None = None
    model_version: str | None = None
    # The mention's content_hash when it was scored; a mismatch means re-score.
    scored_hash: str | None = None
    scored_at: datetime | None = _utc_column()
    manual_label: str | None = None
    manual_by: str | None = None
    manual_at: datetime | None = _utc_column()

    @property
    def effective_label(self) -> str | None:
        """A person's correction wins over the model in alerts and metrics."""
        return self.manual_label or self.label


class Handling(SQLModel, table=True):
    """Where the team is with a mention; no row means it is new."""

    __tablename__ = "handling"

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id", unique=True)
    state: str = Field(default=HandlingState.new, index=True)
    updated_by: str | None = None
    updated_at: datetime | None = _utc_column()
    response_url: str | None = None
    # Set once, the first time the team answered: the base of response-time metrics.
    first_response_at: datetime | None = _utc_column()


class AlertOutbox(SQLModel, table=True):
    """One Slack message to send, per (mention, channel), created once."""

    __tablename__ = "alert_outbox"
    __table_args__ = (UniqueConstraint("mention_id", "channel", name="uq_outbox_mention_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int | None = Field(default=None, foreign_key="mentions.id", index=True)
    brand_id: int = Field(foreign_key="brands.id", index=True)
    channel: str
    kind: str = "mention"
    urgent: bool = False
    status: str = Field(default=OutboxStatus.pending, index=True)
    attempts: int = 0
    last_error: str | None = None
    created_at: datetime = _utc_now_column()
    next_attempt_at: datetime | None = _utc_column()
    # Set when claimed and kept fresh by the claiming sender's heartbeat while it works.
    claimed_at: datetime | None = _utc_column()
    # The claiming sender's random id: a sender changes only rows it still holds.
    claimed_by: str | None = None
    sent_at: datetime | None = _utc_column()
    slack_ts: str | None = None
    # The Slack thread this message belongs to (a spike alert or an earlier alert in the same thread).
    thread_ts: str | None = None
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class AlertCheck(SQLModel, table=True):
    """A mention the alert rules judged and let pass, with the facts they judged it on.

    Queueing looks at a mention again only once one of those facts changes (its text, its
    score, a person's label, the brand's rules), not on every tick: a brand with thousands
    of rated reviews a day would otherwise have them all read again every few seconds.
    Equality, not time order, decides, so the clocks of different machines never matter.
    """

    __tablename__ = "alert_checks"

    mention_id: int = Field(foreign_key="mentions.id", primary_key=True)
    # A digest of the brand's alert settings the rules were built from.
    rules: str
    content_hash: str
    scored_at: datetime | None = _utc_column()
    manual_at: datetime | None = _utc_column()
    checked_at: datetime = _utc_now_column()


class CrawlCursor(SQLModel, table=True):
    """Where the last crawl of a source stopped, so the next fetches only what is new."""

    __tablename__ = "crawl_cursors"
    __table_args__ = (UniqueConstraint("source_id", "key", name="uq_cursor_source_key"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="sources.id")
    key: str = "default"
    value: str
    updated_at: datetime = _utc_now_column()


class CrawlRun(SQLModel, table=True):
    __tablename__ = "crawl_runs"

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="sources.id", index=True)
    started_at: datetime = _utc_now_column()
    finished_at: datetime | None = _utc_column()
    pages: int = 0
    items_seen: int = 0
    items_new: int = 0
    items_updated: int = 0
    errors: int = 0
    dropped: dict[str, int] | None = Field(default=None, sa_column=Column(JSON))
    # Connections the egress rules refused, by endpoint: a worker's log may be on another
    # machine, so what a source tried to reach stays next to its run.
    refused: dict[str, int] | None = Field(default=None, sa_column=Column(JSON))
    finish_reason: str | None = None


class DigestLog(SQLModel, table=True):
    """One row per brand and ISO week that was mailed: re-runs don't mail again."""

    __tablename__ = "digest_log"
    __table_args__ = (UniqueConstraint("brand_id", "week", name="uq_digest_brand_week"),)

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id")
    week: str
    recipients: str
    sent_at: datetime = _utc_now_column()


class MetricsDirty(SQLModel, table=True):
    """An hour of a brand whose mentions, scores or handling changed since its daily
    metrics were last computed; appended on write, removed when the days are recomputed."""

    __tablename__ = "metrics_dirty"

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True)
    # UTC, cut to the hour: the hour in which the changed mentions happened.
    hour: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class DayCounts(SQLModel):
    """A brand's numbers for one day, or, added up, for a week (store.daily_metrics)."""

    mentions: int = 0
    negative: int = 0
    neutral: int = 0
    positive: int = 0
    ratings: int = 0
    stars_sum: float = 0.0
    negatives: int = 0
    responded: int = 0
    unhandled: int = 0
    # Seconds from each answered negative to its first response: the weekly median needs them all.
    waits: list[float] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))

    def __add__(self, other: DayCounts) -> DayCounts:
        added = {name: getattr(self, name) + getattr(other, name) for name in DayCounts.model_fields}
        return DayCounts(**added)


class DailyMetrics(DayCounts, table=True):
    """One brand's numbers for one local day, so weekly series add up days instead of
    reading every mention."""

    __tablename__ = "daily_metrics"
    __table_args__ = (UniqueConstraint("brand_id", "day", name="uq_daily_metrics_brand_day"),)

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id")
    day: date
    # The time zone the day was cut in: a brand moved to another zone is recomputed.
    timezone: str


class ApiToken(SQLModel, table=True):
    """A bearer token for the HTTP API; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    token_hash: str = Field(unique=True, index=True)
    scope: str = "read"
    created_at: datetime = _utc_now_column()
    last_used_at: datetime | None = _utc_column()


class WorkerProcess(SQLModel, table=True):
    """A `mentionwatch worker` that is running (or was, until `last_seen` stopped moving).

    The task engine knows its workers only by number; this row says where each one runs,
    so `mentionwatch status` can tell an operator which machine and process to look at.
    """

    __tablename__ = "worker_processes"

    id: int | None = Field(default=None, primary_key=True)
    host: str
    pid: int
    queues: str
    concurrency: int
    started_at: datetime = _utc_now_column()
    last_seen: datetime = _utc_now_column()
