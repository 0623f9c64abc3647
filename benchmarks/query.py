"""Analyst searches on a store of a million mentions, on SQLite and on PostgreSQL.

Fills each database with N synthetic mentions in Polish, Russian, English and German
(bulk: executemany on SQLite, COPY on PostgreSQL; the full-text index is maintained as
in production, by the triggers and the generated column), with scores, manual
corrections, ratings on two scales and handling. Then it times, p50 and p95 over
--repeat runs, what analysts and dashboards ask (store.search.search_mentions, a page of
50, and the API's weekly metrics), next to the naive way (LIKE '%word%'), and the ingest
rate through the real save path with dedup: store.queries.save_mention one item at a
time and save_mentions in batches. Goal: p95 under 100 ms; 5,000 mentions/s ingest.

    python -m benchmarks.query                   # 1,000,000 mentions, both databases
    python -m benchmarks.query --rows 100000 --databases sqlite
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from alerts.digest.weeks import IsoWeek
from mentionwatch.api.reports import weekly_series
from store.boolean_query import parse_query
from store.db import make_engine, session_scope, upgrade
from store.daily_metrics import compute_days
from store.models import Brand, Mention
from store.queries import (
    BrandSpec,
    MentionInput,
    SourceSpec,
    relabel,
    save_mention,
    save_mentions,
    sync_brands_and_sources,
)
from store.search import MentionFilter, search_mentions
from tests.support.postgres import running_postgres

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LAST_WEEK = IsoWeek(2026, 47)
SPAN_DAYS = 730
BRANDS = [("Zamówko", "Europe/Warsaw"), ("Acme", "Europe/Berlin"), ("Dostawex", "Europe/Moscow")]
# name, type, brand index, rating scale (best, worst) or None
SOURCES = [
    ("shop", "schemaorg", 0, (5.0, 1.0)), ("forum", "phpbb", 0, None), ("reddit", "reddit", 0, None),
    ("appstore", "appstore", 1, (5.0, 1.0)), ("feed", "feed", 1, None), ("trustpilot", "trustpilot", 1, (5.0, 1.0)),
    ("otzovik", "phpbb", 2, (10.0, 1.0)), ("vk-feed", "feed", 2, None), ("googleplay", "googleplay", 2, (5.0, 1.0)),
]
WORDS = {
    "pl": "zamówienie zamówiłem zamówiłam zamowienia dostawa dostawy dostawę dostawca kurier kuriera kurierem "
    "paczka paczki paczkę na czas spóźniona spóźniony szybko wolno obsługa sklep produkt cena jakość zwrot "
    "Łódź Warszawa Kraków polecam nie polecam świetny fatalny super tragedia dzień tydzień telefon mail "
    "zamówko zamowko bardzo dobrze źle aplikacja płatność karta blik".split(),
    "ru": "заказ заказал заказала заказа доставка доставку доставки доставкой курьер курьера курьером опоздал "
    "опоздала вовремя быстро медленно поддержка магазин товар цена качество возврат ёлка ёлку Москва "
    "отлично ужасно хорошо плохо рекомендую не рекомендую приложение оплата карта день неделя".split(),
    "en": "order ordered delivery delivered courier late on time fast slow support shop product price quality "
    "refund great terrible good bad recommend app payment card day week package parcel box email".split(),
    "de": "Bestellung bestellt Lieferung geliefert Kurier pünktlich spät schnell langsam Kundenservice Shop "
    "Produkt Preis Qualität Rückgabe super schlecht gut empfehlen App Zahlung Karte Tag Woche Paket".split(),
}
LANGUAGES = ["pl"] * 40 + ["ru"] * 25 + ["en"] * 25 + ["de"] * 10
LABELS = ["negative"] * 3 + ["neutral"] * 3 + ["positive"] * 4
RARE = "reklamacja"  # in about 0.3% of mentions
MENTION_COLUMNS = (
    "source_id", "brand_id", "dedup_key", "url", "canonical_url", "author", "title", "text", "language",
    "rating", "rating_best", "rating_worst", "published_at", "fetched_at", "content_hash",
)


def synthetic_mentions(rows: int, source_ids: list[int], seed: int = 1) -> Iterator[tuple[Any, ...]]:
    """Mention rows in MENTION_COLUMNS order, times spread over two years, oldest first."""
    rng = random.Random(seed)
    for n in range(rows):
        name, _, brand, scale = SOURCES[n % len(SOURCES)]
        language = rng.choice(LANGUAGES)
        words = rng.choices(WORDS[language], k=rng.randint(6, 40))
        if rng.random() < 0.003:
            words.insert(rng.randrange(len(words)), RARE)
        body = " ".join(words).capitalize() + rng.choice([".", "!", "?", "…"])
        title = " ".join(rng.choices(WORDS[language], k=3)) if rng.random() < 0.3 else None
        happened = NOW - timedelta(days=SPAN_DAYS * (rows - n) / rows, minutes=rng.randint(0, 600))
        rating = best = worst = None
        if scale is not None:
            best, worst = scale
            rating = float(rng.randint(int(worst), int(best)))
        published = happened if rng.random() > 0.03 else None
        url = f"https://{name}.example/{n}"
        yield (source_ids[n % len(SOURCES)], brand + 1, f"k{n}", url, url, f"user{rng.randint(1, 50000)}", title,
               body, language, rating, best, worst, published, happened + timedelta(minutes=5), f"h{n}")


def _sqlite_value(value: Any) -> Any:
    # The text form SQLAlchemy's SQLite DateTime writes and reads: naive UTC.
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


def _scores_and_handling(rows: int, seed: int = 2) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rng = random.Random(seed)
    scores, handling = [], []
    for mention_id in range(1, rows + 1):
        if rng.random() < 0.05:
            continue  # not scored yet
        label = rng.choice(LABELS)
        manual = rng.choice(["neutral", "positive"]) if label == "negative" and rng.random() < 0.05 else None
        scores.append((mention_id, label, 0.5 + rng.random() / 2, "bench-model", "1", f"h{mention_id - 1}", manual))
        if label == "negative" and rng.random() < 0.6:
            state = rng.choice(["acknowledged", "responded", "responded", "ignored"])
            handling.append((mention_id, state, "ola", rng.randint(5, 3000)))
    return scores, handling


def fill(engine: Engine, rows: int) -> float:
    """Bulk-load `rows` mentions with scores and handling; returns seconds taken."""
    with session_scope(engine) as session:
        ids = sync_brands_and_sources(
            session,
            brands=[BrandSpec(name, name.lower(), tz) for name, tz in BRANDS],
            sources=[SourceSpec(name, kind, BRANDS[brand][0]) for name, kind, brand, _ in SOURCES],
        )
    source_ids = [ids[name] for name, *_ in SOURCES]
    scores, handling = _scores_and_handling(rows)
    started = time.perf_counter()
    mentions = synthetic_mentions(rows, source_ids)
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "sqlite":
            _fill_sqlite(raw, mentions, scores, handling)
        else:
            _fill_postgres(raw.driver_connection, mentions, scores, handling)  # type: ignore[arg-type]
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


def _fill_sqlite(raw: Any, mentions: Iterator[tuple[Any, ...]], scores: list[Any], handling: list[Any]) -> None:
    cursor = raw.cursor()
    insert = f"INSERT INTO mentions ({', '.join(MENTION_COLUMNS)}) VALUES ({', '.join('?' * len(MENTION_COLUMNS))})"
    chunk: list[tuple[Any, ...]] = []
    for row in mentions:
        chunk.append(tuple(_sqlite_value(v) for v in row))
        if len(chunk) == 20_000:
            cursor.executemany(insert, chunk)
            chunk = []
    cursor.executemany(insert, chunk)
    cursor.executemany(
        "INSERT INTO sentiment_scores (mention_id, label, score, model_name, model_version, scored_hash, manual_label)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)", scores,
    )
    cursor.executemany(
        "INSERT INTO handling (mention_id, state, updated_by, updated_at, first_response_at)"
        " SELECT ?1, ?2, ?3, fetched_at, CASE WHEN ?2 = 'responded'"
        " THEN datetime(fetched_at, '+' || ?4 || ' minutes') END FROM mentions WHERE id = ?1",
        handling,
    )


def _fill_postgres(raw: psycopg.Connection, mentions: Iterator[tuple[Any, ...]], scores: list[Any],
                   handling: list[Any]) -> None:
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY mentions ({', '.join(MENTION_COLUMNS)}) FROM STDIN") as copy:
            for row in mentions:
                copy.write_row(row)
        with cursor.copy("COPY sentiment_scores (mention_id, label, score, model_name, model_version, scored_hash,"
                         " manual_label) FROM STDIN") as copy:
            for row in scores:
                copy.write_row(row)
        cursor.execute("CREATE TEMP TABLE h (mention_id int, state text, by text, minutes int)")
        with cursor.copy("COPY h FROM STDIN") as copy:
            for row in handling:
                copy.write_row(row)
        cursor.execute(
            "INSERT INTO handling (mention_id, state, updated_by, updated_at, first_response_at)"
            " SELECT h.mention_id, h.state, h.by, m.fetched_at, CASE WHEN h.state = 'responded'"
            " THEN m.fetched_at + h.minutes * interval '1 minute' END FROM h JOIN mentions m ON m.id = h.mention_id"
        )


def _search(**filters: Any) -> Callable[[Session], int]:
    query = filters.pop("q", None)
    mention_filter = MentionFilter(query=parse_query(query) if query else None, **filters)
    return lambda session: len(list(search_mentions(session, filters=mention_filter, limit=50)))


def _brand(session: Session, name: str) -> Brand:
    return session.exec(select(Brand).where(Brand.name == name)).one()


def _metrics(brand_name: str) -> Callable[[Session], int]:
    return lambda session: len(weekly_series(session, _brand(session, brand_name), 12, LAST_WEEK)["weeks"])


def _metrics_after_relabel(brand_name: str) -> Callable[[Session], int]:
    """A person relabels a mention of the last 12 weeks, then the dashboard polls: one day
    is recomputed from its mentions, the other 83 are read from daily_metrics."""
    rng = random.Random(5)
    candidates: list[int] = []

    def run(session: Session) -> int:
        brand = _brand(session, brand_name)
        if not candidates:  # the warm-up call picks the mentions, outside the timed runs
            since = LAST_WEEK.shifted(-11).period(ZoneInfo(brand.timezone)).start
            candidates.extend(session.exec(select(Mention.id).where(
                Mention.brand_id == brand.id, col(Mention.published_at) >= since).limit(1000)))  # fmt: skip
        mention_id = rng.choice(candidates)
        relabel(session, mention_id=mention_id, label=rng.choice(["negative", "neutral", "positive"]), by="bench")
        return len(weekly_series(session, brand, 12, LAST_WEEK)["weeks"])

    return run


def _metrics_from_scratch(brand_name: str) -> Callable[[Session], int]:
    """The way before daily_metrics: every mention of the 12 weeks, each call."""

    def run(session: Session) -> int:
        brand = _brand(session, brand_name)
        assert brand.id is not None
        days = [day for back in range(12) for day in LAST_WEEK.shifted(-back).days]
        return len(compute_days(session, brand.id, ZoneInfo(brand.timezone), sorted(days))) // 7

    return run


def _like(word: str) -> Callable[[Session], int]:
    statement = text("SELECT id FROM mention_view WHERE text LIKE :pattern OR title LIKE :pattern"
                     " ORDER BY id DESC LIMIT 50")
    return lambda session: len(session.execute(statement, {"pattern": f"%{word}%"}).all())


QUERIES: list[tuple[str, Callable[[Session], int]]] = [
    ("full text, common prefix: dostaw*", _search(q="dostaw*")),
    ("full text, rare word: reklamacja", _search(q=RARE)),
    ("naive LIKE '%reklamacja%'", _like(RARE)),
    ('phrase + brand: "na czas"', _search(q='"na czas"', brand="Zamówko")),
    ("boolean: (zamówko OR zamowko) kurier* -praca", _search(q="(zamówko OR zamowko) kurier* -praca")),
    ("NEAR + language + October: доставк* NEAR/3 курьер*",
     _search(q="доставк* NEAR/3 курьер*", language="ru", since=datetime(2026, 10, 1, tzinfo=UTC),
             until=datetime(2026, 11, 1, tzinfo=UTC))),
    ("latest negatives of a brand", _search(sentiment="negative", brand="Acme")),
    ("unanswered negatives of a brand", _search(sentiment="negative", state="new", brand="Dostawex")),
    ("rating <= 2, last 30 days", _search(rating_max=2, since=NOW - timedelta(days=30))),
    ("text + rating + source: kurier rating<=2", _search(q="kurier", rating_max=2, source="shop")),
    ("weekly metrics, 12 weeks, one brand", _metrics("Zamówko")),
    ("relabel one mention, then weekly metrics", _metrics_after_relabel("Zamówko")),
    ("weekly metrics from every mention (before daily_metrics)", _metrics_from_scratch("Zamówko")),
]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def time_queries(engine: Engine, repeat: int) -> list[tuple[str, float, float, int]]:
    results = []
    with Session(engine) as session:
        for name, run in QUERIES:
            found = run(session)  # warm-up, and the row count
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                run(session)
                samples.append((time.perf_counter() - started) * 1000)
            results.append((name, *_percentiles(samples), found))
    return results


def _ingest_items(count: int, existing_rows: int, source_ids: list[int], seed: int) -> list[MentionInput]:
    """New items, with one in ten a re-crawl of a stored one (dedup: unchanged) and one in twenty edited."""
    rng = random.Random(seed)
    items = []
    for n, row in enumerate(synthetic_mentions(count, source_ids, seed=seed)):
        values = dict(zip(MENTION_COLUMNS, row, strict=True))
        key, content_hash = f"new{seed}-{n}", values["content_hash"] + f"-{seed}"
        roll = rng.random()
        if roll < 0.15 and existing_rows:
            stored = rng.randrange(existing_rows)
            source = source_ids[stored % len(SOURCES)]
            values["source_id"], key = source, f"k{stored}"
            content_hash = f"h{stored}" if roll < 0.10 else f"h{stored}-edited"
        fields = {k: values[k] for k in MENTION_COLUMNS if k not in
                  ("source_id", "brand_id", "dedup_key", "content_hash", "fetched_at")}
        items.append(MentionInput(values["source_id"], values["brand_id"], key, content_hash, fields))
    return items


def time_ingest(engine: Engine, rows: int, count: int) -> list[tuple[str, float]]:
    with session_scope(engine) as session:
        ids = {name: id_ for name, id_ in session.execute(text("SELECT name, id FROM sources"))}
    source_ids = [ids[name] for name, *_ in SOURCES]
    results = []
    one_by_one = _ingest_items(count, rows, source_ids, seed=11)
    started = time.perf_counter()
    for start in range(0, count, 500):
        with session_scope(engine) as session:
            for item in one_by_one[start:start + 500]:
                save_mention(session, source_id=item.source_id, brand_id=item.brand_id, dedup_key=item.dedup_key,
                             content_hash=item.content_hash, fields=item.fields)
    results.append(("save_mention, one by one (commit per 500)", count / (time.perf_counter() - started)))
    batched = _ingest_items(count, rows, source_ids, seed=12)
    started = time.perf_counter()
    for start in range(0, count, 500):
        with session_scope(engine) as session:
            save_mentions(session, items=batched[start:start + 500])
    results.append(("save_mentions, batches of 500", count / (time.perf_counter() - started)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--ingest", type=int, default=20_000, help="items for the ingest measurement")
    parser.add_argument("--databases", default="sqlite,postgres")
    args = parser.parse_args()
    print(f"{args.rows:,} mentions; p50/p95 of {args.repeat} runs; goal p95 < 100 ms\n")
    for database in args.databases.split(","):
        with ExitStack() as stack:
            if database == "sqlite":
                folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
                url = f"sqlite:///{folder / 'bench.db'}"
            else:
                url = stack.enter_context(running_postgres())
            engine = make_engine(url)
            upgrade(engine)
            seconds = fill(engine, args.rows)
            print(f"## {database}: filled {args.rows:,} mentions in {seconds:.0f} s ({args.rows / seconds:,.0f}/s)")
            print(f"{'query':58} {'p50 ms':>8} {'p95 ms':>8} {'rows':>5}  goal")
            for name, p50, p95, found in time_queries(engine, args.repeat):
                print(f"{name:58} {p50:8.1f} {p95:8.1f} {found:5}  {'ok' if p95 < 100 else 'MISSED'}")
            print(f"\n{'ingest through the save path, dedup on':58} {'mentions/s':>10}")
            for name, rate in time_ingest(engine, args.rows, args.ingest):
                print(f"{name:58} {rate:10,.0f}")
            print()
            engine.dispose()


if __name__ == "__main__":
    main()
