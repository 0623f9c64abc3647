"""Search on SQLite FTS5 and PostgreSQL tsvector agrees with Query.matches_fields."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, inspect, select, text
from sqlalchemy.engine import Engine

from store.boolean_query import QuerySyntaxError, parse_query
from store.db import session_scope
from store.mention_view import mention_view
from store.models import HandlingState, Mention, SentimentScore
from store.queries import BrandSpec, SourceSpec, save_mention, sync_brands_and_sources
from store.search import FilterError, MentionFilter, check_filter, get_mention, search_mentions
from tests.analyst.sample_store import OCT, fill_sample_store


def _keys(engine: Engine, ids: dict[str, int], **filters: object) -> set[str]:
    by_id = {v: k for k, v in ids.items()}
    with session_scope(engine) as session:
        return {by_id[row["id"]] for row in search_mentions(session, filters=MentionFilter(**filters))}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kurier*", {"pl-ok", "pl-late", "pl-job", "acme-1"}),
        ("zamów*", {"pl-ok", "pl-job"}),
        ("lodz", {"pl-late"}),
        ("доставк*", {"ru-late", "ru-ok"}),
        ("елку", {"ru-ok"}),
        ("курьер NEAR/1 опоздал", {"ru-late"}),
        ("задержали NEAR/1 опоздал", set()),
        ('"na czas"', {"pl-ok"}),
        ("cafe e-mail", {"en-mixed"}),
        ("late -delivery", set()),
        ("-kurier* -доставк*", {"en-mixed", "en-late"}),
        ("praca OR (late NOT again)", {"pl-job"}),
        # a phrase does not run from the title into the text
        ('"zamówko szukamy"', set()),
        ("zamówko szukamy", {"pl-job"}),
    ],
)
def test_search_finds_what_the_query_matches(engine: Engine, query: str, expected: set[str]) -> None:
    ids = fill_sample_store(engine)
    assert _keys(engine, ids, query=parse_query(query)) == expected


def test_filters(engine: Engine) -> None:
    ids = fill_sample_store(engine)
    assert _keys(engine, ids, brand="Acme") == {"acme-1"}
    assert _keys(engine, ids, source="forum", language="ru") == {"ru-late", "ru-ok"}
    # the manual relabel wins over the model's positive
    assert _keys(engine, ids, sentiment="neutral") == {"pl-job", "en-mixed"}
    # 4 on a 0-10 scale is 2.6 on 1-5; 4 without best/worst is taken as 1-5
    assert _keys(engine, ids, rating_min=2.5, rating_max=3) == {"ru-late"}
    assert _keys(engine, ids, rating_min=4) == {"pl-ok", "en-mixed"}
    october = {"since": datetime(2026, 10, 1, tzinfo=UTC), "until": datetime(2026, 11, 1, tzinfo=UTC)}
    assert _keys(engine, ids, query=parse_query("доставк*"), **october) == {"ru-late", "ru-ok"}
    assert _keys(engine, ids, since=datetime(2026, 10, 14, 9, 30, tzinfo=UTC), until=datetime(2026, 11, 1, tzinfo=UTC)) == {
        "ru-late",
        "ru-ok",
    }
    # en-late has no publication date: it happened when it was fetched
    assert _keys(engine, ids, since=datetime(2026, 11, 1, tzinfo=UTC), language="en") == {"en-mixed", "en-late"}
    assert _keys(engine, ids, state=HandlingState.responded) == {"ru-late"}
    assert "pl-ok" in _keys(engine, ids, state=HandlingState.new)


def test_rows_carry_the_view_columns(engine: Engine) -> None:
    ids = fill_sample_store(engine)
    with session_scope(engine) as session:
        row = get_mention(session, mention_id=ids["ru-late"])
        assert get_mention(session, mention_id=10_000) is None
    assert row is not None
    assert row["brand"] == "Zamówko" and row["source"] == "forum" and row["source_type"] == "phpbb"
    assert row["rating_5"] == pytest.approx(2.6)
    assert row["handled"] == "responded" and row["handled_by"] == "ivan"
    assert row["response_url"] == "https://forum.example/t/1#p2"
    assert row["published_at"] == OCT and row["response_seconds"] == pytest.approx(9000)
    assert set(row) == {c.name for c in mention_view.columns}


def test_the_view_has_the_declared_columns(engine: Engine) -> None:
    columns = [c["name"] for c in inspect(engine).get_columns("mention_view")]
    assert columns == [c.name for c in mention_view.columns]


def test_keyset_pages_cover_every_match_once(engine: Engine) -> None:
    ids = fill_sample_store(engine)
    seen: list[int] = []
    before: int | None = None
    with session_scope(engine) as session:
        while True:
            page = list(search_mentions(session, filters=MentionFilter(brand="Zamówko"), before_id=before, limit=3,
                                        batch_size=2))
            if not page:
                break
            assert len(page) <= 3
            seen.extend(r["id"] for r in page)
            before = page[-1]["id"]
    assert seen == sorted((v for k, v in ids.items() if k != "acme-1"), reverse=True)


def test_check_filter_names_what_is_wrong(engine: Engine) -> None:
    fill_sample_store(engine)
    with session_scope(engine) as session:
        with pytest.raises(FilterError, match=r"unknown brand 'Acne' \(known: Acme, Zamówko\)"):
            check_filter(session, MentionFilter(brand="Acne"))
        with pytest.raises(FilterError, match="unknown source"):
            check_filter(session, MentionFilter(source="nope"))
        with pytest.raises(FilterError, match="sentiment must be one of"):
            check_filter(session, MentionFilter(sentiment="angry"))
        with pytest.raises(FilterError, match="rating-min 4"):
            check_filter(session, MentionFilter(rating_min=4, rating_max=2))
        check_filter(session, MentionFilter(brand="Acme", source="shop", sentiment="negative"))


def test_the_index_follows_inserts_edits_and_deletes(engine: Engine) -> None:
    ids = fill_sample_store(engine)
    with session_scope(engine) as session:
        mention = session.get(Mention, ids["acme-1"])
        assert mention is not None
        mention.text = "Acme paczka dotarła cała"
        session.add(mention)
        session.execute(delete(SentimentScore).where(SentimentScore.mention_id == ids["pl-ok"]))  # type: ignore[arg-type]
        session.delete(session.get(Mention, ids["pl-ok"]))
    assert _keys(engine, ids, query=parse_query("zgubił")) == set()
    assert _keys(engine, ids, query=parse_query("dotarła")) == {"acme-1"}
    assert _keys(engine, ids, query=parse_query('"na czas"')) == set()
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO mentions_fts(mentions_fts, rank) VALUES ('integrity-check', 1)"))


# --- agreement with the query language on a random corpus ------------------------------

VOCABULARY = (
    "zamówko Zamowko ZAMÓWIENIE zamowienia dostawa dostawę na czas kurier kuriera Łódź lodz praca "
    "доставка Доставку ёлка елка курьер опоздал e-mail email don't café cafe x2 on time late"
).split() + ["—", ",", "!", "«", "»", "...", "-", "(", ")", ":"]
TERMS = [
    "zamowko", "zamów*", "dostaw*", "na", "czas", "kurier", "kurier*", "lodz", "łódź", "praca", "доставк*",
    "ёлка", "курьер", "e-mail", "e-ma*", "email", "cafe", "x2", "late", "time", "don't", '"na czas"',
    '"dostawa na czas"', '"on time"', '"kurier kuriera"',
]


def _random_query(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth > 2 or roll < 0.35:
        return rng.choice(TERMS)
    if roll < 0.5:
        return f"{rng.choice(TERMS)} NEAR/{rng.randint(0, 4)} {rng.choice(TERMS)}"
    if roll < 0.6:
        return f"-{_random_query(rng, depth + 1)}" if rng.random() < 0.5 else f"NOT {_random_query(rng, depth + 1)}"
    operator = rng.choice([" ", " AND ", " OR "])
    parts = [_random_query(rng, depth + 1) for _ in range(rng.randint(2, 3))]
    return "(" + operator.join(parts) + ")"


def _random_text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(words)).replace(" ,", ",")


def test_random_queries_agree_with_the_query_language(engine: Engine) -> None:
    rng = random.Random(20261125)
    documents: dict[int, tuple[str | None, str]] = {}
    with session_scope(engine) as session:
        sources = sync_brands_and_sources(session, brands=[BrandSpec("B")], sources=[SourceSpec("s", "feed", "B")])
        for n in range(250):
            title = _random_text(rng, rng.randint(1, 4)) if rng.random() < 0.4 else None
            body = _random_text(rng, rng.randint(0, 14))
            _, mention = save_mention(
                session, source_id=sources["s"], brand_id=1, dedup_key=str(n), content_hash=str(n),
                fields={"url": f"u{n}", "canonical_url": f"u{n}", "title": title, "text": body},
            )
            assert mention.id is not None
            documents[mention.id] = (title, body)
    checked = 0
    with session_scope(engine) as session:
        for _ in range(150):
            try:
                query = parse_query(_random_query(rng))
            except QuerySyntaxError:
                continue
            expected = {i for i, fields in documents.items() if query.matches_fields(fields)}
            found = {row["id"] for row in search_mentions(session, filters=MentionFilter(query=query))}
            assert found == expected, (query.text, str(query))
            checked += 1
    assert checked > 100


def test_search_reads_the_view(engine: Engine) -> None:
    """mention_view is what analysts query: it must stay selectable on both databases."""
    fill_sample_store(engine)
    with engine.connect() as conn:
        assert conn.execute(select(mention_view.c.id)).all()


def test_rating_filters_agree_with_the_views_rating_5(engine: Engine) -> None:
    ids = fill_sample_store(engine)
    with session_scope(engine) as session:
        session.execute(text("UPDATE mentions SET rating = 12, rating_best = 10, rating_worst = 0 WHERE id = :id"),
                        {"id": ids["acme-1"]})  # above its scale: clamped to 5
        ratings = {i: r for i, r in session.execute(select(mention_view.c.id, mention_view.c.rating_5))}
    assert ratings[ids["acme-1"]] == 5
    for threshold in sorted({r for r in ratings.values() if r is not None}):
        at_least = {k for k, v in ids.items() if ratings[v] is not None and ratings[v] >= threshold}
        at_most = {k for k, v in ids.items() if ratings[v] is not None and ratings[v] <= threshold}
        assert _keys(engine, ids, rating_min=threshold) == at_least
        assert _keys(engine, ids, rating_max=threshold) == at_most
