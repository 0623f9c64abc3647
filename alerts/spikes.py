"""Storms: when a brand's negative volume spikes, one alert with the mentions in its thread.

Volume is the brand's queued mention alerts per hour. The last hour (the alerts about to
be queued included, counting only mentions said within it, so a backfill is no storm) is a
spike when it reaches `min_count` and exceeds the brand's own
trailing baseline, mean + `sigmas` standard deviations of the hourly counts over the past
`baseline` (empty hours count as zero). A spike alert stays open for one `window`: every
alert queued meanwhile goes into its thread; a storm that lasts gets a new spike alert
each window, which reports the count again. Each brand sets `sigmas` and `min_count`, or
turns spike alerts off, in its config (`[brands.alerts] spikes = {...}`).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from mentionwatch.config import SpikeRules
from store.derived import happened_at, said_at
from store.models import AlertOutbox, Mention, OutboxStatus

MENTION_KIND = "mention"
SPIKE_KIND = "spike"


@dataclass(frozen=True)
class SpikeRule:
    window: timedelta = timedelta(hours=1)
    baseline: timedelta = timedelta(days=7)
    sigmas: float = 3.0
    min_count: int = 10

    @classmethod
    def configured(cls, rules: SpikeRules) -> SpikeRule:
        """The rule a brand's `[brands.alerts.spikes]` table asks for."""
        return cls(sigmas=rules.sigmas, min_count=rules.min_count)


@dataclass(frozen=True)
class SpikeCheck:
    """The last window's count against the baseline's hourly mean and deviation."""

    count: int
    mean: float
    stdev: float
    rule: SpikeRule

    @property
    def threshold(self) -> float:
        return self.mean + self.rule.sigmas * self.stdev

    @property
    def is_spike(self) -> bool:
        return self.count >= self.rule.min_count and self.count > self.threshold

    def payload(self, *, brand: str, now: datetime) -> dict[str, object]:
        """What the spike message shows, kept in the outbox row."""
        return {
            "brand": brand,
            "count": self.count,
            "window_minutes": int(self.rule.window.total_seconds() // 60),
            "baseline_mean": round(self.mean, 2),
            "threshold": round(self.threshold, 2),
            "detected_at": now.isoformat(),
        }


def hourly_counts(times: Sequence[datetime], *, start: datetime, end: datetime, window: timedelta) -> list[int]:
    """Counts of `times` in consecutive windows from `start` to `end`, empty ones included."""
    buckets = max(1, int((end - start) / window))
    counts = [0] * buckets
    for at in times:
        index = int((at - start) / window)
        if 0 <= index < buckets:
            counts[index] += 1
    return counts


def happened_recently(mention: Mention, *, now: datetime, rule: SpikeRule) -> bool:
    """Whether a mention was said (published, else found) within the spike window."""
    return said_at(mention) > now - rule.window


def check_volume(session: Session, *, brand_id: int, now: datetime, adding: int, rule: SpikeRule) -> SpikeCheck:
    """The spike check for a brand about to queue `adding` more alerts about recent mentions."""
    recent_start = now - rule.window
    baseline_start = recent_start - rule.baseline
    kind_and_brand = (
        col(AlertOutbox.brand_id) == brand_id,
        col(AlertOutbox.kind) == MENTION_KIND,
        col(AlertOutbox.status) != OutboxStatus.held,  # old news, never posted
    )
    # Only mentions that also happened in the window count: a first crawl that backfills
    # weeks of old reviews is not a storm.
    recent = session.exec(
        select(func.count())
        .select_from(AlertOutbox)
        .join(Mention, col(Mention.id) == col(AlertOutbox.mention_id))
        .where(
            *kind_and_brand,
            col(AlertOutbox.created_at) > recent_start,
            happened_at() > recent_start,
        )
    ).one()
    history = session.exec(
        select(AlertOutbox.created_at).where(
            *kind_and_brand,
            col(AlertOutbox.created_at) > baseline_start,
            col(AlertOutbox.created_at) <= recent_start,
        )
    ).all()
    counts = hourly_counts(history, start=baseline_start, end=recent_start, window=rule.window)
    return SpikeCheck(
        count=int(recent) + adding, mean=statistics.fmean(counts), stdev=statistics.pstdev(counts), rule=rule
    )


def open_spike(session: Session, *, brand_id: int, channel: str, now: datetime, rule: SpikeRule) -> AlertOutbox | None:
    """The brand's spike alert in `channel` that is still collecting mentions, if any."""
    return session.exec(
        select(AlertOutbox)
        .where(
            col(AlertOutbox.brand_id) == brand_id,
            col(AlertOutbox.channel) == channel,
            col(AlertOutbox.kind) == SPIKE_KIND,
            col(AlertOutbox.created_at) > now - rule.window,
        )
        .order_by(col(AlertOutbox.id).desc())
    ).first()
