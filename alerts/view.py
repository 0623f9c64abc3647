"""What an alert shows, read from the store when it is sent.

Both ways of showing an alert — a Slack Block Kit message and a console panel — take
these plain values, so neither touches the database and both say the same things.
The values are read at send time, not at queue time: a label a person corrected in
between is what the message shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from alerts.spikes import SPIKE_KIND
from store.models import AlertOutbox, Brand, Mention, SentimentScore, Source
from store.ratings import stars as rating_stars


@dataclass(frozen=True)
class MentionAlert:
    outbox_id: int
    mention_id: int
    brand: str
    timezone: str
    source: str
    source_type: str
    url: str
    author: str | None
    title: str | None
    text: str
    language: str | None
    published_at: datetime | None
    fetched_at: datetime
    rating: float | None
    rating_best: float | None
    stars: float | None
    label: str | None
    prob_negative: float | None
    relabeled_by: str | None
    reasons: tuple[str, ...]
    critical_words: tuple[str, ...]
    urgent: bool
    # False when only its critical words made it alert (a neutral news item, a 5-star review).
    negative: bool = True
    # The alert whose Slack thread this one goes into, and that alert's kind (see `thread_note`).
    thread_parent: int | None = None
    thread_parent_kind: str | None = None

    @property
    def thread_note(self) -> str | None:
        """Why the alert is in another alert's thread, said so that a reader who sees
        "in the thread of alert #10" in Slack or on the console knows what that means."""
        if self.thread_parent is None:
            return None
        if self.thread_parent_kind == SPIKE_KIND:
            why = "it is one of the mentions of the spike that alert reports"
            why += " (they all go there, so the channel stays readable)"
        else:
            why = "it replies in the forum thread or post that alert is about"
        return f"In the thread of alert #{self.thread_parent}: {why}."

    @property
    def headline(self) -> str:
        """What the message's title says it is (Slack and the console mark urgency their own way)."""
        what = "Negative mention" if self.negative else "Mention"
        return f"{what} of {self.brand} on {self.source}"

    @property
    def when(self) -> datetime:
        """When it was written, or when it was found where the source does not say."""
        return self.published_at or self.fetched_at

    @property
    def local_time(self) -> str:
        """`when` in the brand's time zone, as the team reads it."""
        return f"{self.when.astimezone(ZoneInfo(self.timezone)):%Y-%m-%d %H:%M %Z}"


@dataclass(frozen=True)
class SpikeAlert:
    outbox_id: int
    brand: str
    count: int
    window_minutes: int
    baseline_mean: float
    urgent: bool


Alert = MentionAlert | SpikeAlert


def load_alert(session: Session, row: AlertOutbox) -> Alert:
    """The alert for an outbox row, with the mention as it is stored now."""
    assert row.id is not None
    payload: dict[str, Any] = row.payload or {}
    brand = session.get(Brand, row.brand_id)
    if brand is None:
        raise LookupError(f"outbox row {row.id}: no brand {row.brand_id}")
    if row.kind == SPIKE_KIND:
        return SpikeAlert(
            outbox_id=row.id,
            brand=brand.name,
            count=int(payload.get("count", 0)),
            window_minutes=int(payload.get("window_minutes", 60)),
            baseline_mean=float(payload.get("baseline_mean", 0.0)),
            urgent=row.urgent,
        )
    found = session.exec(
        select(Mention, Source, SentimentScore)
        .join(Source, col(Source.id) == col(Mention.source_id))
        .outerjoin(SentimentScore, col(SentimentScore.mention_id) == col(Mention.id))
        .where(col(Mention.id) == row.mention_id)
    ).first()
    if found is None:
        raise LookupError(f"outbox row {row.id}: no mention {row.mention_id}")
    mention, source, score = found
    assert mention.id is not None
    parent = session.get(AlertOutbox, payload["parent_id"]) if payload.get("parent_id") else None
    return MentionAlert(
        outbox_id=row.id,
        mention_id=mention.id,
        brand=brand.name,
        timezone=brand.timezone,
        source=source.name,
        source_type=source.type,
        url=mention.url,
        author=mention.author,
        title=mention.title,
        text=mention.text,
        language=mention.language,
        published_at=mention.published_at,
        fetched_at=mention.fetched_at,
        rating=mention.rating,
        rating_best=mention.rating_best,
        stars=rating_stars(mention.rating, best=mention.rating_best, worst=mention.rating_worst),
        label=score.effective_label if score else None,
        prob_negative=score.prob_negative if score else None,
        relabeled_by=score.manual_by if score and score.manual_label else None,
        reasons=tuple(payload.get("reasons", ())),
        critical_words=tuple(payload.get("critical_words", ())),
        urgent=row.urgent,
        # Queued for its critical words before the model read it as negative: it is now.
        negative=bool(payload.get("negative", True)) or (score is not None and score.effective_label == "negative"),
        thread_parent=parent.id if parent else None,
        thread_parent_kind=parent.kind if parent else None,
    )
