"""The task engine's app on the store's database, with mentionwatch's tasks registered."""

from __future__ import annotations

import procrastinate
from sqlalchemy.engine import make_url

from mentionwatch.cluster import tasks

# Kinds of work; a worker takes all of them unless `--queues` says otherwise.
QUEUES = ("crawl", "score", "alert", "digest")


class NeedsPostgres(ValueError):
    """Workers meet in PostgreSQL; a SQLite store is for one `mentionwatch run`."""


def conninfo(database_url: str) -> str:
    """The libpq form of a SQLAlchemy PostgreSQL URL (password kept, for connecting)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise NeedsPostgres(
            "workers share their work through PostgreSQL: set MENTIONWATCH_DATABASE_URL to a postgresql:// URL"
            " (on SQLite, `mentionwatch run` does all the work in one process)"
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def build_app(database_url: str) -> procrastinate.App:
    """A new app with every task; open it (`open_async`) before use."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(database_url)))
    tasks.register(app)
    return app
