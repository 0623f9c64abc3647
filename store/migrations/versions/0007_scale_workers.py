"""worker_processes, and on PostgreSQL the task queue's own schema (procrastinate)

`mentionwatch worker` processes share their work through procrastinate's tables in the
same database; applying its schema here keeps one upgrade path (`mentionwatch db
upgrade`, or any command's start). SQLite stores run one `mentionwatch run` and need
no queue. procrastinate is pinned to 3.10.x: a newer schema comes as a new migration
made of its own migration scripts.

Revision ID: 0007_scale
Revises: 0006_sources
Create Date: 2026-12-05 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from store.types import UTCDateTime

revision: str = "0007_scale"
down_revision: str | None = "0006_sources"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What procrastinate's schema creates besides its tables and functions.
_TASK_QUEUE_TYPES = ("procrastinate_job_to_defer_v1", "procrastinate_job_event_type", "procrastinate_job_status")
_TASK_QUEUE_TABLES = ("procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs", "procrastinate_workers")


def upgrade() -> None:
    op.create_table(
        "worker_processes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("queues", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        # Straight to psycopg without parameters, which runs the script as written
        # (through SQLAlchemy its '%' and ':' would be read as placeholders).
        with bind.connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute(SchemaManager.get_schema())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in _TASK_QUEUE_TABLES:
            bind.exec_driver_sql(f"DROP TABLE IF EXISTS {table} CASCADE")
        functions = bind.exec_driver_sql(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = current_schema() AND starts_with(p.proname, 'procrastinate')"
        )
        for (signature,) in list(functions):
            bind.exec_driver_sql(f"DROP FUNCTION IF EXISTS {signature} CASCADE")
        for name in _TASK_QUEUE_TYPES:
            bind.exec_driver_sql(f"DROP TYPE IF EXISTS {name} CASCADE")
    op.drop_table("worker_processes")
