"""Migrations and models agree, on both databases, and form a single line of history."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import store.models  # noqa: F401
from store.db import alembic_config, upgrade


def test_single_head(sqlite_engine: Engine) -> None:
    heads = ScriptDirectory.from_config(alembic_config(sqlite_engine)).get_heads()
    assert len(heads) == 1, f"several migration heads {heads}: point one's down_revision at the other"


def test_models_match_migrations(engine: Engine) -> None:
    upgrade(engine)  # a no-op on a migrated store
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _include_name})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], f"models and migrations differ; run `python -m store.autogenerate MESSAGE`: {diff}"


# Full-text objects that migration 0002 manages by hand on PostgreSQL.
_HAND_MADE = {"search_vector", "ix_mentions_search_vector"}


def _include_name(name: str | None, type_: str, _parent: object) -> bool:
    # Objects that migrations manage by hand (full-text tables, views) are not models.
    if type_ == "table":
        return name in SQLModel.metadata.tables
    return name not in _HAND_MADE
