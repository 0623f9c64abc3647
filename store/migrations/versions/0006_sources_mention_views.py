"""mentions.views: how many saw a mention, where the source counts (Telegram, VK)

Revision ID: 0006_sources
Revises: 0005_alerts
Create Date: 2026-12-05 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_sources"
down_revision: str | None = "0005_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("mentions", sa.Column("views", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("mentions", "views")
