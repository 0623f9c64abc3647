"""Engines, sessions and schema upgrades for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlmodel import Session, create_engine

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
URL_FORMS = "sqlite:///path/to/file.db or postgresql://user:password@host:port/dbname"
# Seconds a PostgreSQL connection attempt may take, unless the URL says (?connect_timeout=):
# a host that drops packets should fail a command, not hang it.
CONNECT_TIMEOUT = 10


class StoreUnavailable(RuntimeError):
    """The store cannot be opened: a malformed or unsupported URL, or a database that
    refuses the connection. The message says which, and never holds the password."""


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        # The text itself is not repeated: a mistyped URL may still hold a password.
        raise StoreUnavailable(f"not a database URL; use {URL_FORMS}") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql", "postgres"):
        raise StoreUnavailable(f"{parsed.get_backend_name()!r} databases are not supported; use {URL_FORMS}")
    return parsed


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain `postgresql://` URLs, as copied from a hosting dashboard.

    Raises StoreUnavailable for a URL that is no database URL, names a database other than
    SQLite or PostgreSQL, or a driver that is not installed.
    """
    parsed = _parse(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        parsed.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError):
        raise StoreUnavailable(f"the database driver {parsed.drivername!r} is not installed; use {URL_FORMS}") from None
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the crawler write while the alert sender and the API read; busy_timeout
    # makes concurrent writers wait instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`, creating the SQLite file's folder where needed.

    Raises StoreUnavailable for what normalize_url refuses, or a folder it cannot create.
    """
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailable(f"cannot create the folder {folder} for the SQLite file ({exc.strerror})") from None
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    timeout = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT}
    return create_engine(url, pool_pre_ping=True, connect_args=timeout)


def conflict_insert(session: Session, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` that takes ON CONFLICT clauses: both stores have them, each
    through its own dialect's construct, so upserts pick the one of the session's database."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def first_line(error: BaseException) -> str:
    """The first line of a driver's message (they go on with hints and context), or the error's type."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def unavailable(url: str, error: BaseException) -> StoreUnavailable:
    """The error for a database at `url` that refused to open: the first line of the
    driver's reason, with the password masked (drivers do not quote it, but make sure)."""
    reason = first_line(error)
    reason = reason.removeprefix("connection failed: ")
    given = make_url(url)
    if given.password:
        reason = reason.replace(str(given.password), "***")
    where = given.render_as_string(hide_password=True)
    if given.get_backend_name() == "sqlite":
        return StoreUnavailable(f"cannot open {where}: {reason}")
    return StoreUnavailable(
        f"cannot connect to {where}: {reason} (is the database running there, with this user and password?)"
    )


def open_store(url: str) -> Engine:
    """An engine for `url` whose database answers and has the newest schema.

    A database that cannot be reached (not running, wrong port, host or password, missing
    database) raises StoreUnavailable naming the driver's reason, before any migration runs.
    """
    engine = make_engine(url)
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        engine.dispose()
        raise unavailable(url, exc.orig) from None
    upgrade(engine)
    return engine


def alembic_config(engine: Engine) -> AlembicConfig:
    # Alembic loads only where the schema is upgraded, not for every command's start.
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; cheap when it is already there."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def not_waiting(connection: Connection) -> Iterator[None]:
    """Writes in this block fail at once (OperationalError) where another writer holds
    the lock, instead of waiting up to busy_timeout: for writes a reader may skip."""
    if connection.dialect.name == "sqlite":
        previous = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        connection.exec_driver_sql("PRAGMA busy_timeout = 0")
        try:
            yield
        finally:
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(previous or 0)}")
    else:
        # For the rest of the transaction; 0 would mean no limit.
        connection.exec_driver_sql("SET LOCAL lock_timeout = '10ms'")
        yield
