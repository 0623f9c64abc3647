"""Run an analyst's SQL against the store without any chance of changing it.

The guard is the database's, not a keyword filter: SQLite opens the file read-only and
sets `PRAGMA query_only`; PostgreSQL runs the statement in a READ ONLY transaction
through a server-side cursor (DECLARE accepts one SELECT or VALUES and streams rows),
so `SELECT 1; DROP TABLE mentions` and a `COMMIT` smuggled in between are refused too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import Engine, make_url

_BATCH = 1000


class ReadOnlySQLError(ValueError):
    """The statement was refused or failed; the message says why, in the database's words."""


@dataclass
class SQLResult:
    """Column names and a stream of rows; iterate `rows` inside the `read_only_query` block."""

    columns: list[str]
    rows: Iterator[tuple[Any, ...]]


def _stream(cursor: Any) -> Iterator[tuple[Any, ...]]:
    while batch := cursor.fetchmany(_BATCH):
        yield from (tuple(row) for row in batch)


@contextmanager
def _sqlite_query(engine: Engine, sql: str) -> Iterator[SQLResult]:
    database = make_url(engine.url).database
    if not database or database == ":memory:":
        raise ReadOnlySQLError("read-only SQL needs a SQLite file, not an in-memory database")
    connection = sqlite3.connect(f"{Path(database).resolve().as_uri()}?mode=ro", uri=True)
    try:
        connection.execute("PRAGMA query_only = ON")
        connection.set_authorizer(_sqlite_authorizer)
        cursor = connection.execute(sql)
        yield SQLResult([d[0] for d in cursor.description or ()], _stream(cursor))
    except (sqlite3.DatabaseError, sqlite3.ProgrammingError, sqlite3.Warning) as exc:
        raise ReadOnlySQLError(_sqlite_message(exc)) from exc
    finally:
        connection.close()


# Pragmas that only read; others could switch query_only off again.
_SQLITE_PRAGMAS = {"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list",
                   "data_version"}


def _sqlite_authorizer(action: int, name: str | None, *_: object) -> int:
    """Deny ATTACH (which creates a file) and pragmas that change settings; the read-only
    open and query_only already refuse every write to the store itself."""
    if action == sqlite3.SQLITE_ATTACH:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and (name or "").lower() not in _SQLITE_PRAGMAS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _explained(text: str, *, a_write: bool) -> str:
    if a_write:
        return f"only reading queries are allowed ({text})"
    if "one statement at a time" in text or "multiple commands" in text:
        return "one statement at a time, please (no ';' between statements)"
    return text


def _sqlite_message(exc: Exception) -> str:
    text = str(exc)
    return _explained(text, a_write="readonly" in text or "read-only" in text or "not authorized" in text)


@contextmanager
def _postgres_query(engine: Engine, sql: str) -> Iterator[SQLResult]:
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        try:
            # Rolled back at the end: a read-only query has nothing to keep.
            with raw.transaction(force_rollback=True):
                raw.execute("SET TRANSACTION READ ONLY")
                with raw.cursor(name="mentionwatch_sql") as cursor:
                    cursor.execute(sql.strip().rstrip(";"))
                    yield SQLResult([d.name for d in cursor.description or ()], _stream(cursor))
        except psycopg.Error as exc:
            raise ReadOnlySQLError(_postgres_message(exc, sql)) from exc


# Statements DECLARE ... CURSOR FOR rejects with a syntax error, though they are not typos.
_NOT_READING = set(
    "insert update delete merge create drop alter truncate grant revoke copy vacuum reindex cluster comment lock "
    "call do set reset begin start commit rollback end savepoint release analyze refresh import prepare execute "
    "discard listen notify unlisten load checkpoint security".split()
)


def _postgres_message(exc: psycopg.Error, sql: str) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    first = sql.split(None, 1)[0].lower() if sql.split() else ""
    if isinstance(exc, psycopg.errors.SyntaxError) and first in _NOT_READING:
        return f"only reading queries (SELECT, WITH, TABLE, VALUES) are allowed, not {first.upper()}"
    return _explained(text, a_write=isinstance(exc, psycopg.errors.ReadOnlySqlTransaction))


@contextmanager
def read_only_query(engine: Engine, sql: str) -> Iterator[SQLResult]:
    """Run one reading statement; raise ReadOnlySQLError for writes and bad SQL."""
    if not sql.strip():
        raise ReadOnlySQLError("no SQL given")
    query = _sqlite_query if engine.dialect.name == "sqlite" else _postgres_query
    with query(engine, sql) as result:
        yield result
