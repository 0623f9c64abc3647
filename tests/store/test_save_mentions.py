"""save_mentions (batch) gives the outcomes and the rows that save_mention one by one gives."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from store.db import make_engine, session_scope, upgrade
from store.models import Mention
from store.queries import (
    BrandSpec,
    MentionInput,
    SaveOutcome,
    SourceSpec,
    save_mention,
    save_mentions,
    sync_brands_and_sources,
)


def _items(source_ids: list[int]) -> list[MentionInput]:
    rng = random.Random(7)
    items = []
    for _ in range(400):
        key = str(rng.randint(0, 120))  # keys repeat, within and across chunks
        version = rng.randint(0, 2)  # and sometimes come back edited
        items.append(
            MentionInput(
                source_id=rng.choice(source_ids), brand_id=1, dedup_key=key, content_hash=f"{key}-{version}",
                fields={"url": f"https://e.test/{key}", "canonical_url": f"https://e.test/{key}",
                        "text": f"tekst {key} wersja {version}", "rating": float(version),
                        "published_at": datetime(2026, 11, 1, tzinfo=UTC)},
            )
        )
    return items


def _store(engine: Engine) -> list[int]:
    with session_scope(engine) as session:
        ids = sync_brands_and_sources(
            session, brands=[BrandSpec("B")], sources=[SourceSpec("a", "feed", "B"), SourceSpec("b", "feed", "B")]
        )
    return list(ids.values())


def _rows(engine: Engine) -> list[tuple[object, ...]]:
    with session_scope(engine) as session:
        return [
            (m.id, m.source_id, m.dedup_key, m.content_hash, m.text, m.rating, m.updated_at is not None)
            for m in session.exec(select(Mention).order_by(col(Mention.id)))
        ]


def test_batch_and_one_by_one_agree(engine: Engine, tmp_path: Path) -> None:
    reference = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    upgrade(reference)
    items = _items(_store(engine))
    _store(reference)
    with session_scope(reference) as session:
        expected = []
        for item in items:
            outcome, mention = save_mention(
                session, source_id=item.source_id, brand_id=item.brand_id, dedup_key=item.dedup_key,
                content_hash=item.content_hash, fields=item.fields,
            )
            expected.append((outcome, mention.id))
    with session_scope(engine) as session:
        first = save_mentions(session, items=items[:150], chunk_size=64)
        rest = save_mentions(session, items=items[150:], chunk_size=64)
    assert first + rest == expected
    assert {o for o, _ in expected} == set(SaveOutcome)
    assert _rows(engine) == _rows(reference)
    reference.dispose()


def test_unknown_fields_are_refused_before_anything_is_written(engine: Engine) -> None:
    (source, _) = _store(engine)
    good = MentionInput(source, 1, "k", "h", {"url": "u", "canonical_url": "u", "text": "t"})
    bad = MentionInput(source, 1, "k2", "h", {"url": "u", "canonical_url": "u", "text": "t", "stars": 5})
    with session_scope(engine) as session, pytest.raises(ValueError, match="unknown mention fields: stars"):
        save_mentions(session, items=[good, bad])
    assert _rows(engine) == []
