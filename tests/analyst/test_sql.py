"""Read-only SQL on both databases: reads stream, every kind of write is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from store.sql import ReadOnlySQLError, read_only_query
from tests.analyst.sample_store import fill_sample_store


def test_reads_the_view(engine: Engine) -> None:
    fill_sample_store(engine)
    sql = "SELECT brand, sentiment, count(*) AS n FROM mention_view GROUP BY brand, sentiment ORDER BY brand, sentiment"
    with read_only_query(engine, sql) as result:
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
def test_writes_and_bad_sql_are_refused(engine: Engine, sql: str, message: str) -> None:
    fill_sample_store(engine)
    with pytest.raises(ReadOnlySQLError, match=message):
        with read_only_query(engine, sql) as result:
            list(result.rows)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM mentions")).scalar() == 8
        assert conn.execute(text("SELECT count(*) FROM handling")).scalar() == 3


def test_engine_specific_escapes_are_closed(engine: Engine) -> None:
    escape = "PRAGMA query_only = OFF" if engine.dialect.name == "sqlite" else "SELECT nextval('brands_id_seq')"
    with pytest.raises(ReadOnlySQLError, match="only reading queries"):
        with read_only_query(engine, escape) as result:
            list(result.rows)
