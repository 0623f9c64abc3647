"""Keyword-only query functions: the one way the other packages read and write the store.

Each function takes an open Session and leaves committing to the caller's
`session_scope`, so a pipeline step can group its writes into one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, or_
from sqlmodel import Session, col, select

from store.daily_metrics import mark_changed, mention_moment
from store.models import (
    Brand,
    CrawlCursor,
    CrawlRun,
    Handling,
    HandlingState,
    Mention,
    SentimentScore,
    Source,
    utcnow,
)

LABELS = ("negative", "neutral", "positive")


class SaveOutcome(StrEnum):
    new = "new"
    updated = "updated"
    unchanged = "unchanged"


@dataclass(frozen=True)
class BrandSpec:
    name: str
    query: str = ""
    timezone: str = "UTC"


@dataclass(frozen=True)
class SourceSpec:
    name: str
    type: str
    brand: str


def sync_brands_and_sources(
    session: Session, *, brands: Iterable[BrandSpec], sources: Iterable[SourceSpec]
) -> dict[str, int]:
    """Make the brand and source rows match the config; returns source name -> id.

    Rows are never deleted: a source removed from the config keeps its history.
    """
    brand_ids: dict[str, int] = {}
    for spec in brands:
        brand = session.exec(select(Brand).where(Brand.name == spec.name)).first() or Brand(name=spec.name)
        brand.query, brand.timezone = spec.query, spec.timezone
        session.add(brand)
        session.flush()
        assert brand.id is not None
        brand_ids[spec.name] = brand.id
    source_ids: dict[str, int] = {}
    for spec in sources:
        source = session.exec(select(Source).where(Source.name == spec.name)).first()
        if source is None:
            source = Source(name=spec.name, type=spec.type, brand_id=brand_ids[spec.brand])
        source.type, source.brand_id = spec.type, brand_ids[spec.brand]
        session.add(source)
        session.flush()
        assert source.id is not None
        source_ids[spec.name] = source.id
    return source_ids


def get_brand(session: Session, *, name: str) -> Brand | None:
    return session.exec(select(Brand).where(Brand.name == name)).first()


def get_source(session: Session, *, name: str) -> Source | None:
    return session.exec(select(Source).where(Source.name == name)).first()


_MENTION_CONTENT_FIELDS = (
    "url",
    "canonical_url",
    "thread_url",
    "parent_url",
    "author",
    "title",
    "text",
    "language",
    "rating",
    "rating_best",
    "rating_worst",
    "views",
    "published_at",
    "external_id",
)


def save_mention(
    session: Session,
    *,
    source_id: int,
    brand_id: int,
    dedup_key: str,
    content_hash: str,
    fields: Mapping[str, Any],
) -> tuple[SaveOutcome, Mention]:
    """Insert a mention, or update it when its content changed since the last crawl.

    An edit changes `content_hash`, which is what makes the scoring job score it again.
    """
    _check_fields(fields)
    existing = session.exec(
        select(Mention).where(Mention.source_id == source_id, Mention.dedup_key == dedup_key)
    ).first()
    if existing is None:
        mention = Mention(
            source_id=source_id, brand_id=brand_id, dedup_key=dedup_key, content_hash=content_hash, **fields
        )
        session.add(mention)
        session.flush()
        mark_changed(session, brand_id, [mention_moment(mention)])
        return SaveOutcome.new, mention
    outcome = _apply_edit(session, existing, content_hash=content_hash, fields=fields)
    session.flush()
    return outcome, existing


def _check_fields(fields: Mapping[str, Any]) -> None:
    unknown = set(fields) - set(_MENTION_CONTENT_FIELDS)
    if unknown:
        raise ValueError(f"unknown mention fields: {', '.join(sorted(unknown))}")


def _apply_edit(session: Session, existing: Mention, *, content_hash: str, fields: Mapping[str, Any]) -> SaveOutcome:
    if existing.content_hash == content_hash:
        return SaveOutcome.unchanged
    before = mention_moment(existing)
    for name, value in fields.items():
        setattr(existing, name, value)
    mark_changed(session, existing.brand_id, [before, mention_moment(existing)])
    existing.content_hash = content_hash
    existing.updated_at = utcnow()
    session.add(existing)
    return SaveOutcome.updated


@dataclass(frozen=True)
class MentionInput:
    """One item for save_mentions: the arguments of one save_mention call."""

    source_id: int
    brand_id: int
    dedup_key: str
    content_hash: str
    fields: Mapping[str, Any]


def save_mentions(
    session: Session, *, items: Sequence[MentionInput], chunk_size: int = 500
) -> list[tuple[SaveOutcome, int]]:
    """save_mention for many items at once: (outcome, mention id) per item, in order.

    Per chunk, one SELECT finds the keys already stored and one multi-row INSERT adds
    the rest, instead of a SELECT and an INSERT per item (see benchmarks/query.py). The
    outcomes are those of saving the items one by one: a chunk ends before a key that
    repeats in it, so the repeat sees the first as stored.
    """
    for item in items:
        _check_fields(item.fields)
    results: list[tuple[SaveOutcome, int]] = []
    chunk: list[MentionInput] = []
    keys: set[tuple[int, str]] = set()
    for item in items:
        key = (item.source_id, item.dedup_key)
        if key in keys or len(chunk) == chunk_size:
            results += _save_chunk(session, chunk)
            chunk, keys = [], set()
        chunk.append(item)
        keys.add(key)
    if chunk:
        results += _save_chunk(session, chunk)
    return results


def _with_keys(keys: list[tuple[int, str]]) -> Any:
    # Per source rather than a (source_id, dedup_key) IN list of pairs: SQLite scans the
    # whole table for the latter instead of using the unique index.
    by_source: dict[int, list[str]] = {}
    for source_id, dedup_key in keys:
        by_source.setdefault(source_id, []).append(dedup_key)
    return or_(
        *(and_(col(Mention.source_id) == source, col(Mention.dedup_key).in_(found)) for source, found in by_source.items())
    )


def _save_chunk(session: Session, items: list[MentionInput]) -> list[tuple[SaveOutcome, int]]:
    keys = [(i.source_id, i.dedup_key) for i in items]
    existing = {(m.source_id, m.dedup_key): m for m in session.exec(select(Mention).where(_with_keys(keys)))}
    outcomes: list[tuple[SaveOutcome, int | None]] = []
    new_rows: list[dict[str, Any]] = []
    now = utcnow()
    for item in items:
        mention = existing.get((item.source_id, item.dedup_key))
        if mention is None:
            new_rows.append(
                dict.fromkeys(_MENTION_CONTENT_FIELDS)
                | dict(item.fields)
                | {"source_id": item.source_id, "brand_id": item.brand_id, "dedup_key": item.dedup_key,
                   "content_hash": item.content_hash, "fetched_at": now}
            )
            outcomes.append((SaveOutcome.new, None))
        else:
            outcomes.append((_apply_edit(session, mention, content_hash=item.content_hash, fields=item.fields),
                             mention.id))
    session.flush()
    new_ids: dict[tuple[int, str], int] = {}
    for brand_id in {row["brand_id"] for row in new_rows}:
        mark_changed(session, brand_id, [row["published_at"] or now for row in new_rows if row["brand_id"] == brand_id])
    if new_rows:
        # A plain executemany, then the ids by key: ordered RETURNING makes SQLAlchemy
        # insert one row per statement on SQLite.
        session.execute(insert(Mention.__table__), new_rows)  # type: ignore[arg-type]
        new_keys = [(row["source_id"], row["dedup_key"]) for row in new_rows]
        found = session.execute(
            select(col(Mention.source_id), col(Mention.dedup_key), col(Mention.id)).where(_with_keys(new_keys))
        )
        new_ids = {(source_id, key): mention_id for source_id, key, mention_id in found}
    return [(outcome, mention_id if mention_id is not None else new_ids[key])
            for (outcome, mention_id), key in zip(outcomes, keys, strict=True)]


def find_same_text(session: Session, *, brand_id: int, content_hash: str, exclude_dedup_key: str) -> Mention | None:
    """A mention of the brand with the same text under another key: a syndicated copy."""
    return session.exec(
        select(Mention).where(
            Mention.brand_id == brand_id,
            Mention.content_hash == content_hash,
            Mention.dedup_key != exclude_dedup_key,
        )
    ).first()


def stored_texts(session: Session, *, brand_id: int, content_hashes: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """find_same_text for a batch: content hash -> [(dedup_key, url)] of the brand's mentions."""
    found: dict[str, list[tuple[str, str]]] = {}
    hashes = sorted(set(content_hashes))
    for start in range(0, len(hashes), 500):
        rows = session.exec(
            select(Mention.content_hash, Mention.dedup_key, Mention.url).where(
                Mention.brand_id == brand_id, col(Mention.content_hash).in_(hashes[start : start + 500])
            )
        )
        for content_hash, key, url in rows:
            found.setdefault(content_hash, []).append((key, url))
    return found


def _needs_scoring(model_name: str, model_version: str) -> ColumnElement[bool]:
    """Never scored, edited since, or scored by another model or version."""
    return or_(
        col(SentimentScore.id).is_(None),
        col(SentimentScore.scored_hash).is_(None),
        col(SentimentScore.scored_hash) != col(Mention.content_hash),
        col(SentimentScore.model_name) != model_name,
        col(SentimentScore.model_version) != model_version,
    )


def mentions_to_score(session: Session, *, model_name: str, model_version: str, limit: int) -> list[Mention]:
    """Mentions never scored, edited since, or scored by another model or version.

    The rows are claimed for the caller's transaction: on PostgreSQL they are locked and
    rows another scorer holds are skipped, so several scorers share a backlog without
    scoring a mention twice. SQLite has no row locks: run one scorer per SQLite store.
    """
    statement = (
        select(Mention)
        .outerjoin(SentimentScore, col(SentimentScore.mention_id) == col(Mention.id))
        .where(_needs_scoring(model_name, model_version))
        .order_by(col(Mention.id))
        .limit(limit)
        .with_for_update(skip_locked=True, of=Mention)
    )
    return list(session.exec(statement))


def count_to_score(session: Session, *, model_name: str, model_version: str) -> int:
    """How many mentions `mentions_to_score` would still hand out in all (locked ones
    included): the scorers' backlog."""
    statement = (
        select(func.count())
        .select_from(Mention)
        .outerjoin(SentimentScore, col(SentimentScore.mention_id) == col(Mention.id))
        .where(_needs_scoring(model_name, model_version))
    )
    return int(session.exec(statement).one())


def _score_row(session: Session, mention_id: int) -> SentimentScore:
    return session.exec(select(SentimentScore).where(SentimentScore.mention_id == mention_id)).first() or (
        SentimentScore(mention_id=mention_id)
    )


def save_score(
    session: Session,
    *,
    mention: Mention,
    label: str,
    score: float,
    probabilities: Mapping[str, float],
    model_name: str,
    model_version: str,
) -> SentimentScore:
    if label not in LABELS:
        raise ValueError(f"label must be one of {LABELS}, not {label!r}")
    assert mention.id is not None
    row = _score_row(session, mention.id)
    row.label, row.score = label, score
    row.prob_negative = probabilities.get("negative")
    row.prob_neutral = probabilities.get("neutral")
    row.prob_positive = probabilities.get("positive")
    row.model_name, row.model_version = model_name, model_version
    row.scored_hash, row.scored_at = mention.content_hash, utcnow()
    session.add(row)
    mark_changed(session, mention.brand_id, [mention_moment(mention)])
    return row


def _mention(session: Session, mention_id: int) -> Mention:
    mention = session.get(Mention, mention_id)
    if mention is None:
        raise LookupError(f"no mention with id {mention_id}")
    return mention


def relabel(session: Session, *, mention_id: int, label: str, by: str) -> SentimentScore:
    """A person's correction; it wins over the model and survives re-scoring."""
    if label not in LABELS:
        raise ValueError(f"label must be one of {', '.join(LABELS)}, not {label!r}")
    mention = _mention(session, mention_id)
    row = _score_row(session, mention_id)
    row.manual_label, row.manual_by, row.manual_at = label, by, utcnow()
    session.add(row)
    mark_changed(session, mention.brand_id, [mention_moment(mention)])
    return row


def set_handling(
    session: Session,
    *,
    mention_id: int,
    state: HandlingState,
    by: str,
    response_url: str | None = None,
    at: datetime | None = None,
) -> Handling:
    mention = _mention(session, mention_id)
    at = at or utcnow()
    row = session.exec(select(Handling).where(Handling.mention_id == mention_id)).first() or Handling(
        mention_id=mention_id
    )
    row.state, row.updated_by, row.updated_at = state, by, at
    if response_url:
        row.response_url = response_url
    if state == HandlingState.responded and row.first_response_at is None:
        row.first_response_at = at
    session.add(row)
    mark_changed(session, mention.brand_id, [mention_moment(mention)])
    return row


def get_cursor(session: Session, *, source_id: int, key: str = "default") -> str | None:
    row = session.exec(
        select(CrawlCursor).where(CrawlCursor.source_id == source_id, CrawlCursor.key == key)
    ).first()
    return row.value if row else None


def get_cursors(session: Session, *, source_id: int) -> dict[str, str]:
    """Every cursor of a source (key -> value): a spider may keep one per topic or feed."""
    rows = session.exec(select(CrawlCursor).where(CrawlCursor.source_id == source_id))
    return {row.key: row.value for row in rows}


def set_cursor(session: Session, *, source_id: int, value: str, key: str = "default") -> None:
    row = session.exec(
        select(CrawlCursor).where(CrawlCursor.source_id == source_id, CrawlCursor.key == key)
    ).first() or CrawlCursor(source_id=source_id, key=key, value=value)
    row.value, row.updated_at = value, utcnow()
    session.add(row)


def record_crawl_run(session: Session, *, run: CrawlRun) -> CrawlRun:
    session.add(run)
    session.flush()
    return run


def export_rows(session: Session, *, brand: str | None = None, batch_size: int = 1000) -> Iterator[dict[str, Any]]:
    """Every stored mention as a flat dict with the stable export keys, streamed by id."""
    last_id = 0
    while True:
        statement = (
            select(Mention, Brand, Source, SentimentScore, Handling)
            .join(Brand, col(Brand.id) == col(Mention.brand_id))
            .join(Source, col(Source.id) == col(Mention.source_id))
            .outerjoin(SentimentScore, col(SentimentScore.mention_id) == col(Mention.id))
            .outerjoin(Handling, col(Handling.mention_id) == col(Mention.id))
            .where(col(Mention.id) > last_id)
            .order_by(col(Mention.id))
            .limit(batch_size)
        )
        if brand is not None:
            statement = statement.where(Brand.name == brand)
        rows = session.exec(statement).all()
        if not rows:
            return
        for mention, brand_row, source, score, handling in rows:
            yield mention_row(mention, brand_row, source, score, handling)
        last_id = rows[-1][0].id


def mention_row(
    mention: Mention,
    brand: Brand,
    source: Source,
    score: SentimentScore | None,
    handling: Handling | None,
) -> dict[str, Any]:
    """The export shape of a mention: the keys scripts rely on, kept stable."""
    label = score.effective_label if score else None
    if score is None or label is None:
        sentiment_score = None
    elif score.manual_label:
        sentiment_score = 1.0
    else:
        sentiment_score = score.score
    return {
        "id": mention.id,
        "brand": brand.name,
        "source": source.name,
        "source_type": source.type,
        "url": mention.url,
        "canonical_url": mention.canonical_url,
        "thread_url": mention.thread_url,
        "external_id": mention.external_id,
        "author": mention.author,
        "published_at": mention.published_at.isoformat() if mention.published_at else None,
        "fetched_at": mention.fetched_at.isoformat(),
        "title": mention.title,
        "text": mention.text,
        "language": mention.language,
        "rating": mention.rating,
        "rating_best": mention.rating_best,
        "rating_worst": mention.rating_worst,
        "sentiment": label,
        "sentiment_score": sentiment_score,
        "sentiment_model": score.model_name if score else None,
        "handled": handling.state if handling else HandlingState.new.value,
        "response_url": handling.response_url if handling else None,
    }


def manual_corrections(session: Session) -> Iterator[tuple[str, str, str]]:
    """(language, label, text) of every mention a person relabeled: new training data."""
    statement = (
        select(Mention.language, SentimentScore.manual_label, Mention.text)
        .join(SentimentScore, col(SentimentScore.mention_id) == col(Mention.id))
        .where(col(SentimentScore.manual_label).is_not(None))
        .order_by(col(Mention.id))
    )
    for language, label, text in session.exec(statement):
        yield language or "", label, text
