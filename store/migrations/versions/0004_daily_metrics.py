"""daily_metrics and metrics_dirty: weekly series from per-day totals; undated-mentions index

daily_metrics holds one brand's numbers per local day; metrics_dirty the hours whose
mentions changed since (store.daily_metrics). Both start empty: days are computed on
first read. A partial index on undated mentions' fetched_at serves date ranges, which
read undated mentions by when they were found.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 16:06:02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import store.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "daily_metrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in ("mentions", "negative", "neutral", "positive", "ratings")),
        sa.Column("stars_sum", sa.Float(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in ("negatives", "responded", "unhandled")),
        sa.Column("waits", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("brand_id", "day", name="uq_daily_metrics_brand_day"),
    )
    op.create_table(
        "metrics_dirty",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("hour", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_metrics_dirty_brand_id", "metrics_dirty", ["brand_id"], unique=False)
    undated = sa.text("published_at IS NULL")
    op.create_index(
        "ix_mentions_brand_undated", "mentions", ["brand_id", "fetched_at"], sqlite_where=undated, postgresql_where=undated
    )


def downgrade() -> None:
    op.drop_index("ix_mentions_brand_undated", table_name="mentions")
    op.drop_index("ix_metrics_dirty_brand_id", table_name="metrics_dirty")
    op.drop_table("metrics_dirty")
    op.drop_table("daily_metrics")
