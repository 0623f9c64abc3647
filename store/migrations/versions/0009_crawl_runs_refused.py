"""crawl_runs.refused: the connections the egress rules refused in a run, by endpoint

A crawl on a worker logs refusals on that worker's machine; stored with the run,
`mentionwatch status` shows them wherever it is asked.

Revision ID: 0009_crawl_runs_refused
Revises: 0008_alert_checks
Create Date: 2026-12-05 21:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_crawl_runs_refused"
down_revision: str | None = "0008_alert_checks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch:
        batch.add_column(sa.Column("refused", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_column("refused")
