"""Run an analyst's SQL against the store as a sandbox: read only, within a time limit.

The guard is the database's, not a keyword filter. SQLite opens the file read-only
(`mode=ro`, no migration), sets `PRAGMA query_only` and installs an authorizer that
allows reading and nothing else, and denies functions that reach outside the query
(`load_extension`, `fts3_tokenizer`, which hands out a native pointer); a progress
handler stops the query at the deadline. PostgreSQL runs the statement in a READ ONLY
transaction through a server-side cursor (DECLARE accepts one SELECT or VALUES and
streams rows, so `SELECT 1; DROP TABLE mentions` and a smuggled `COMMIT` are refused)
with `statement_timeout` set to the time that is left before each batch. What the
statement may call (pg_terminate_backend, ...) is the role's business: point
MENTIONWATCH_SQL_DATABASE_URL at a read-only role (docs/analysts.md).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from store.db import first_line, unavailable

_BATCH = 1000
# How many SQLite virtual machine steps between two looks at the clock (about 1 ms).
_SQLITE_STEPS = 10_000


class ReadOnlySQLError(ValueError):
    """The statement was refused, failed or ran out of time; the message says why."""


@dataclass
class SQLResult:
    """Column names and a stream of rows; iterate `rows` inside the `read_only_query` block."""

    columns: list[str]
    rows: Iterator[tuple[Any, ...]]


def _stream(cursor: Any, before_batch: Callable[[], None] = lambda: None) -> Iterator[tuple[Any, ...]]:
    while True:
        before_batch()
        batch = cursor.fetchmany(_BATCH)
        if not batch:
            return
        yield from (tuple(row) for row in batch)


def _too_slow(timeout: float) -> str:
    return f"the query ran longer than {timeout:g} s and was stopped (--timeout)"


@contextmanager
def _sqlite_query(database: str | None, sql: str, timeout: float) -> Iterator[SQLResult]:
    if not database or database == ":memory:":
        raise ReadOnlySQLError("read-only SQL needs a SQLite file, not an in-memory database")
    path = Path(database).resolve()
    if not path.is_file():
        raise ReadOnlySQLError(f"no store at {path} (nothing has been crawled there yet?)")
    deadline = time.monotonic() + timeout
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        connection.execute("PRAGMA query_only = ON")
        connection.set_authorizer(_sqlite_authorizer)
        # A non-zero answer interrupts the statement, however it loops (WITH RECURSIVE).
        connection.set_progress_handler(lambda: time.monotonic() > deadline, _SQLITE_STEPS)
        cursor = connection.execute(sql)
        yield SQLResult([d[0] for d in cursor.description or ()], _stream(cursor))
    except (sqlite3.DatabaseError, sqlite3.ProgrammingError, sqlite3.Warning) as exc:
        raise ReadOnlySQLError(_sqlite_message(exc, timeout)) from exc
    finally:
        connection.close()


_SQLITE_READING = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE}
# Pragmas that only read; others could switch query_only off again.
_SQLITE_PRAGMAS = {"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list",
                   "data_version"}
# Functions that reach outside the query: a native pointer, native code.
_SQLITE_DENIED_FUNCTIONS = {"load_extension", "fts3_tokenizer"}


def _sqlite_authorizer(action: int, arg1: str | None, arg2: str | None, *_: object) -> int:
    """Allow reading only: SELECT, reading columns, recursive CTEs, harmless functions and
    pragmas; deny everything else (writes, ATTACH, transactions, schema changes)."""
    if action in _SQLITE_READING:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_DENY if (arg2 or "").lower() in _SQLITE_DENIED_FUNCTIONS else sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _SQLITE_PRAGMAS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master":
        # FTS5 asks this while it connects the full-text table; the file is open
        # read-only and `writable_schema` is a denied pragma, so nothing can change.
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _explained(text: str, *, a_write: bool) -> str:
    if a_write:
        return f"only reading queries are allowed ({text})"
    if "one statement at a time" in text or "multiple commands" in text:
        return "one statement at a time, please (no ';' between statements)"
    return text


def _sqlite_message(exc: Exception, timeout: float) -> str:
    text = str(exc)
    if text == "interrupted":
        return _too_slow(timeout)
    if text.startswith("not authorized to use function: "):
        return f"the function {text.rsplit(' ', 1)[-1]} is not allowed in mentionwatch sql"
    return _explained(text, a_write="readonly" in text or "read-only" in text or "not authorized" in text)


@contextmanager
def _postgres_query(url: str, sql: str, timeout: float) -> Iterator[SQLResult]:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    deadline = time.monotonic() + timeout

    def limit_the_next_statement(raw: psycopg.Connection[Any]) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ReadOnlySQLError(_too_slow(timeout))
        raw.execute("SELECT set_config('statement_timeout', %s, true)", (f"{max(int(left * 1000), 1)}ms",))

    try:
        raw = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise unavailable(url, exc) from None
    try:
        with raw:
            # Rolled back at the end: a read-only query has nothing to keep.
            with raw.transaction(force_rollback=True):
                raw.execute("SET TRANSACTION READ ONLY")
                limit_the_next_statement(raw)
                with raw.cursor(name="mentionwatch_sql") as cursor:
                    cursor.execute(sql.strip().rstrip(";"))
                    columns = [d.name for d in cursor.description or ()]
                    yield SQLResult(columns, _stream(cursor, lambda: limit_the_next_statement(raw)))
    except psycopg.errors.QueryCanceled as exc:
        raise ReadOnlySQLError(_too_slow(timeout) if "statement timeout" in str(exc) else first_line(exc)) from exc
    except psycopg.Error as exc:
        raise ReadOnlySQLError(_postgres_message(exc, sql)) from exc


# Statements DECLARE ... CURSOR FOR rejects with a syntax error, though they are not typos.
_NOT_READING = set(
    "insert update delete merge create drop alter truncate grant revoke copy vacuum reindex cluster comment lock "
    "call do set reset begin start commit rollback end savepoint release analyze refresh import prepare execute "
    "discard listen notify unlisten load checkpoint security".split()
)


def _postgres_message(exc: psycopg.Error, sql: str) -> str:
    first = sql.split(None, 1)[0].lower() if sql.split() else ""
    if isinstance(exc, psycopg.errors.SyntaxError) and first in _NOT_READING:
        return f"only reading queries (SELECT, WITH, TABLE, VALUES) are allowed, not {first.upper()}"
    return _explained(first_line(exc), a_write=isinstance(exc, psycopg.errors.ReadOnlySqlTransaction))


@contextmanager
def read_only_query(url: str, sql: str, *, timeout: float = 30.0) -> Iterator[SQLResult]:
    """Run one reading statement on the store at `url` (a SQLAlchemy URL), stopping it
    after `timeout` seconds; raise ReadOnlySQLError for writes, bad SQL and time-outs."""
    if not sql.strip():
        raise ReadOnlySQLError("no SQL given")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with _sqlite_query(parsed.database, sql, timeout) as result:
            yield result
    else:
        with _postgres_query(url, sql, timeout) as result:
            yield result
