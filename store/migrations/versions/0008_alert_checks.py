"""alert_checks: mentions the alert rules judged and let pass, with the facts judged

Queueing reads a mention again only once its text, score, manual label or the brand's
alert settings differ from what was judged, instead of every recent mention each tick.

Revision ID: 0008_alert_checks
Revises: 0007_scale
Create Date: 2026-12-05 18:10:35
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import store.types

revision: str = "0008_alert_checks"
down_revision: str | None = "0007_scale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_checks",
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("rules", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("scored_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("manual_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"]),
        sa.PrimaryKeyConstraint("mention_id"),
    )


def downgrade() -> None:
    op.drop_table("alert_checks")
