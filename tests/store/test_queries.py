"""The store's query functions on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from store.db import session_scope
from store.models import Handling, HandlingState, Mention
from store.queries import (
    BrandSpec,
    SaveOutcome,
    SourceSpec,
    export_rows,
    find_same_text,
    get_brand,
    get_cursor,
    mentions_to_score,
    relabel,
    save_mention,
    save_score,
    set_cursor,
    set_handling,
    sync_brands_and_sources,
)

WARSAW_NOON = datetime(2026, 11, 20, 12, 0, tzinfo=timezone(timedelta(hours=1)))


def _setup(engine: Engine) -> tuple[int, int]:
    with session_scope(engine) as session:
        ids = sync_brands_and_sources(
            session,
            brands=[BrandSpec("Zamówko", "zamówko", "Europe/Warsaw")],
            sources=[SourceSpec("shop", "schemaorg", "Zamówko")],
        )
        brand = get_brand(session, name="Zamówko")
        assert brand is not None and brand.id is not None
        return brand.id, ids["shop"]


def _save(engine: Engine, brand_id: int, source_id: int, *, key: str = "r1", text: str = "Super sklep", h: str = "h1"):
    with session_scope(engine) as session:
        outcome, mention = save_mention(
            session,
            source_id=source_id,
            brand_id=brand_id,
            dedup_key=key,
            content_hash=h,
            fields={
                "url": f"https://shop.example/p/1#{key}",
                "canonical_url": f"https://shop.example/p/1#{key}",
                "author": "Ania",
                "text": text,
                "language": "pl",
                "rating": 5.0,
                "rating_best": 5.0,
                "rating_worst": 1.0,
                "published_at": WARSAW_NOON,
            },
        )
        return outcome, mention.id


def test_sync_is_idempotent(engine: Engine) -> None:
    first = _setup(engine)
    assert _setup(engine) == first


def test_save_mention_new_unchanged_updated(engine: Engine) -> None:
    brand_id, source_id = _setup(engine)
    outcome, mention_id = _save(engine, brand_id, source_id)
    assert outcome is SaveOutcome.new
    assert _save(engine, brand_id, source_id) == (SaveOutcome.unchanged, mention_id)
    outcome, same_id = _save(engine, brand_id, source_id, text="Super sklep, ale dostawa wolna", h="h2")
    assert (outcome, same_id) == (SaveOutcome.updated, mention_id)
    with session_scope(engine) as session:
        mentions = session.exec(select(Mention)).all()
        assert len(mentions) == 1
        assert mentions[0].text == "Super sklep, ale dostawa wolna"
        assert mentions[0].updated_at is not None


def test_times_come_back_as_utc(engine: Engine) -> None:
    brand_id, source_id = _setup(engine)
    _, mention_id = _save(engine, brand_id, source_id)
    with session_scope(engine) as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None
        assert mention.published_at == WARSAW_NOON
        assert mention.published_at.tzinfo is not None
        assert mention.published_at.utcoffset() == timedelta(0)
        assert mention.published_at.hour == 11


def test_naive_times_are_refused(engine: Engine) -> None:
    brand_id, source_id = _setup(engine)
    with pytest.raises(Exception, match="naive datetime"):
        with session_scope(engine) as session:
            save_mention(
                session,
                source_id=source_id,
                brand_id=brand_id,
                dedup_key="naive",
                content_hash="x",
                fields={"url": "u", "canonical_url": "u", "text": "t", "published_at": datetime(2026, 1, 1)},
            )


def test_unique_source_and_key(engine: Engine) -> None:
    brand_id, source_id = _setup(engine)
    _save(engine, brand_id, source_id)
    with pytest.raises(IntegrityError):
        with session_scope(engine) as session:
            session.add(
                Mention(
                    source_id=source_id, brand_id=brand_id, dedup_key="r1", url="u", canonical_url="u",
                    text="t", content_hash="h",
                )
            )


def test_scoring_queue_follows_edits_and_model_versions(engine: Engine) -> None:
    brand_id, source_id = _setup(engine)
    _, first = _save(engine, brand_id, source_id, key="a", h="ha")
    _, second = _save(engine, brand_id, source_id, key="b", h="hb")
    with session_scope(engine) as session:
        pending = mentions_to_score(session, model_name="m", model_version="1", limit=10)
        assert [m.id for m in pending] == [first, second]
        for mention in pending:
            save_score(
                session, mention=mention, label="positive", score=0.9,
                probabilities={"negative": 0.05, "neutral": 0.05, "positive": 0.9},
                model_name="m", model_version="1",
            )
    with session_scope(engine) as session:
        assert mentions_to_score(session, model_name="m", model_version="1", limit=10) == []
        assert len(mentions_to_score(session, model_name="m", model_version="2", limit=10)) == 2
    _save(engine, brand_id, source_id, key="b", text="Edited: terrible", h="hb2")
    with session_scope(engine) as session:
        assert [m.id for m in mentions_to_score(session, model_name="m", model_version="1", limit=10)] == [second]


@pytest.mark.postgres
def test_two_scorers_on_postgresql_claim_different_mentions(postgres_engine: Engine) -> None:
    """The first scorer's batch stays locked until it commits; the second takes the next ones."""
    brand_id, source_id = _setup(postgres_engine)
    ids = [_save(postgres_engine, brand_id, source_id, key=key, h=f"h{key}")[1] for key in "abcde"]
    with session_scope(postgres_engine) as first, session_scope(postgres_engine) as second:
        claimed_first = [m.id for m in mentions_to_score(first, model_name="m", model_version="1", limit=2)]
        claimed_second = [m.id for m in mentions_to_score(second, model_name="m", model_version="1", limit=10)]
    assert (claimed_first, claimed_second) == (ids[:2], ids[2:])


def test_manual_label_wins_in_export(engine: Engine) -> None:
    brand_id, source_id = _setup(engine)
    _, mention_id = _save(engine, brand_id, source_id)
    with session_scope(engine) as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None
        save_score(
            session, mention=mention, label="positive", score=0.8,
            probabilities={"negative": 0.1, "neutral": 0.1, "positive": 0.8}, model_name="m", model_version="1",
        )
    with session_scope(engine) as session:
        relabel(session, mention_id=mention_id, label="negative", by="kasia")
    with session_scope(engine) as session:
        (row,) = list(export_rows(session))
    assert row["sentiment"] == "negative"
    assert row["published_at"] == "2026-11-20T11:00:00+00:00"
    assert row["brand"] == "Zamówko" and row["handled"] == "new"
    with session_scope(engine) as session, pytest.raises(ValueError, match="label must be one of"):
        relabel(session, mention_id=mention_id, label="angry", by="kasia")


def test_handling_keeps_first_response_time(engine: Engine) -> None:
    brand_id, source_id = _setup(engine)
    _, mention_id = _save(engine, brand_id, source_id)
    first = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
    with session_scope(engine) as session:
        set_handling(session, mention_id=mention_id, state=HandlingState.acknowledged, by="kasia", at=first)
        set_handling(
            session, mention_id=mention_id, state=HandlingState.responded, by="kasia",
            response_url="https://shop.example/p/1#reply", at=first + timedelta(hours=1),
        )
    with session_scope(engine) as session:
        set_handling(session, mention_id=mention_id, state=HandlingState.responded, by="olek", at=first + timedelta(hours=5))
    with session_scope(engine) as session:
        handling = session.exec(select(Handling)).one()
        assert handling.first_response_at == first + timedelta(hours=1)
        assert handling.updated_by == "olek"
        with pytest.raises(LookupError):
            set_handling(session, mention_id=999, state=HandlingState.ignored, by="x")


def test_syndicated_copy_lookup_and_cursor(engine: Engine) -> None:
    brand_id, source_id = _setup(engine)
    _, mention_id = _save(engine, brand_id, source_id, key="orig", h="same")
    with session_scope(engine) as session:
        copy = find_same_text(session, brand_id=brand_id, content_hash="same", exclude_dedup_key="copy")
        assert copy is not None and copy.id == mention_id
        assert find_same_text(session, brand_id=brand_id, content_hash="same", exclude_dedup_key="orig") is None
        assert get_cursor(session, source_id=source_id) is None
        set_cursor(session, source_id=source_id, value="2026-11-20T11:00:00Z")
    with session_scope(engine) as session:
        set_cursor(session, source_id=source_id, value="2026-11-21T11:00:00Z")
    with session_scope(engine) as session:
        assert get_cursor(session, source_id=source_id) == "2026-11-21T11:00:00Z"


def test_export_streams_in_batches(engine: Engine) -> None:
    brand_id, source_id = _setup(engine)
    for i in range(7):
        _save(engine, brand_id, source_id, key=f"k{i}", h=f"h{i}")
    with session_scope(engine) as session:
        ids = [row["id"] for row in export_rows(session, batch_size=3)]
    assert ids == sorted(ids) and len(ids) == 7
