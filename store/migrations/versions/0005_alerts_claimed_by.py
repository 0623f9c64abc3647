"""alert_outbox.claimed_by: the sender holding a claimed row

A sender keeps its claims alive with a heartbeat and changes only rows it still holds,
so a new sender can take over the claims of one that died within seconds.

Revision ID: 0005_alerts
Revises: 0004
Create Date: 2026-12-05 13:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005_alerts"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_outbox", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
