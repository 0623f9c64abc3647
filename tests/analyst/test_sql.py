"""Read-only SQL as a sandbox on both databases: reads stream; writes, escapes and endless queries are stopped."""

from __future__ import annotations

import re
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from store.sql import ReadOnlySQLError, read_only_query
from tests.analyst.sample_store import fill_sample_store

DOCS = Path(__file__).resolve().parents[2] / "docs" / "analysts.md"


def _all(url: str, sql: str, timeout: float = 30.0) -> list[tuple[object, ...]]:
    with read_only_query(url, sql, timeout=timeout) as result:
        return list(result.rows)


def test_reads_the_view(engine: Engine, database_url: str) -> None:
    fill_sample_store(engine)
    sql = "SELECT brand, sentiment, count(*) AS n FROM mention_view GROUP BY brand, sentiment ORDER BY brand, sentiment"
    with read_only_query(database_url, sql) as result:
        assert result.columns == ["brand", "sentiment", "n"]
        rows = list(result.rows)
    assert rows[0] == ("Acme", "negative", 1)
    assert ("Zamówko", "neutral", 2) in rows


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DELETE FROM mentions", "only reading queries"),
        ("UPDATE brands SET name = 'x'", "only reading queries"),
        ("DROP TABLE handling", "only reading queries"),
        ("CREATE TABLE t (a int)", "only reading queries"),
        ("SELECT 1; DROP TABLE mentions", "one statement at a time"),
        ("SELECT 1; COMMIT; DROP TABLE mentions", "one statement at a time"),
        ("SELEC 1", "syntax error"),
        ("   ", "no SQL given"),
    ],
)
def test_writes_and_bad_sql_are_refused(engine: Engine, database_url: str, sql: str, message: str) -> None:
    fill_sample_store(engine)
    with pytest.raises(ReadOnlySQLError, match=message):
        _all(database_url, sql)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM mentions")).scalar() == 8
        assert conn.execute(text("SELECT count(*) FROM handling")).scalar() == 3


def test_engine_specific_escapes_are_closed(engine: Engine, database_url: str) -> None:
    escape = "PRAGMA query_only = OFF" if engine.dialect.name == "sqlite" else "SELECT nextval('brands_id_seq')"
    with pytest.raises(ReadOnlySQLError, match="only reading queries"):
        _all(database_url, escape)


ENDLESS = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"


def test_endless_queries_stop_at_the_time_limit(engine: Engine, database_url: str) -> None:
    slow = [ENDLESS] + (["SELECT pg_sleep(120)"] if engine.dialect.name == "postgresql" else [])
    for sql in slow:
        started = time.monotonic()
        with pytest.raises(ReadOnlySQLError, match=r"ran longer than 0\.5 s and was stopped \(--timeout\)"):
            _all(database_url, sql, timeout=0.5)
        assert time.monotonic() - started < 5, sql


def test_a_slow_stream_of_rows_stops_at_the_time_limit(engine: Engine, database_url: str) -> None:
    """The limit is on the whole query, not on each batch of rows that is fetched."""
    rows = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) SELECT i FROM n"
    started = time.monotonic()
    with pytest.raises(ReadOnlySQLError, match="ran longer than"):
        with read_only_query(database_url, rows, timeout=0.5) as result:
            for _ in result.rows:
                time.sleep(0.0001)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("sql", "refused"),
    [
        ("SELECT fts3_tokenizer('simple')", "fts3_tokenizer"),  # printed a native memory address
        ("SELECT load_extension('/tmp/evil.so')", "load_extension"),
    ],
)
def test_sqlite_functions_that_reach_outside_the_query_are_denied(sqlite_url: str, sql: str, refused: str) -> None:
    with pytest.raises(ReadOnlySQLError, match=f"the function {refused} is not allowed"):
        _all(sqlite_url, sql)


def test_sqlite_authorizer_still_allows_full_text_views_and_functions(sqlite_engine: Engine, sqlite_url: str) -> None:
    ids = fill_sample_store(sqlite_engine)
    sql = ("SELECT id, lower(brand), length(text) > 0 FROM mention_view "
           "WHERE id IN (SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH 'kurier*') ORDER BY id")
    assert [row[0] for row in _all(sqlite_url, sql)] == sorted(ids[k] for k in ("pl-ok", "pl-late", "pl-job", "acme-1"))
    assert _all(sqlite_url, "PRAGMA table_info(brands)")[0][1] == "id"
    with pytest.raises(ReadOnlySQLError, match="only reading queries"):
        _all(sqlite_url, "ATTACH DATABASE '/tmp/other.db' AS other")


def test_sqlite_store_that_does_not_exist_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.db"
    with pytest.raises(ReadOnlySQLError, match="no store at"):
        _all(f"sqlite:///{missing}", "SELECT 1")
    assert not missing.exists()


def _documented_role_sql() -> str:
    match = re.search(r"<!-- read-only-role -->\n```sql\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert match, "docs/analysts.md lost its read-only role example"
    return match.group(1)


@pytest.mark.postgres
def test_documented_read_only_role_reads_the_view_and_cannot_touch_other_sessions(
    postgres_engine: Engine, postgres_url: str
) -> None:
    """As the service's own role, `sql` could end the service's sessions; as the documented
    analyst role it reads mention_view and nothing else."""
    fill_sample_store(postgres_engine)
    with postgres_engine.connect() as admin:
        admin.execute(text("CREATE ROLE mw_service LOGIN PASSWORD 'service' NOSUPERUSER"))
        admin.execute(text(_documented_role_sql()))
        admin.commit()
    as_role = make_url(postgres_url).set(drivername="postgresql")
    service_url = as_role.set(username="mw_service", password="service").render_as_string(hide_password=False)
    analyst_url = as_role.set(username="mentionwatch_analyst", password="change-me").render_as_string(hide_password=False)
    try:
        with psycopg.connect(service_url) as service:
            pid = service.info.backend_pid
            assert _all(analyst_url, "SELECT count(*) FROM mention_view") == [(8,)]
            for sql in (f"SELECT pg_terminate_backend({pid})", f"SELECT pg_cancel_backend({pid})",
                        "SELECT token_hash FROM api_tokens"):
                with pytest.raises(ReadOnlySQLError) as refused:
                    _all(analyst_url, sql)
                assert isinstance(refused.value.__cause__, psycopg.errors.InsufficientPrivilege), sql
            assert service.execute("SELECT 1").fetchone() == (1,)  # still alive
            assert _all(service_url, f"SELECT pg_cancel_backend({pid})") == [(True,)]  # what the role prevents
    finally:
        with postgres_engine.connect() as admin:
            admin.execute(text("DROP OWNED BY mentionwatch_analyst"))
            admin.execute(text("DROP ROLE mentionwatch_analyst, mw_service"))
            admin.commit()
