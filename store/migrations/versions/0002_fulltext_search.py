"""full-text search on mentions(title, text)

SQLite: an FTS5 table with external content, kept in sync by triggers. unicode61 with
remove_diacritics 2 folds case and Latin diacritics but keeps ł and ё, which Polish and
Russian users type without; the content is read through a view that folds those two
letters, so the index, 'rebuild' and 'integrity-check' all see the same text.

PostgreSQL: a generated tsvector column with a GIN index, in a 'simple' configuration
with unaccent (when the extension can be created) so that diacritics fold as on SQLite.
Punctuation is turned into spaces before parsing, so that the words and their positions
are those of store.boolean_query (the default parser would also index 'e-mail' as one
word, and URLs and addresses whole). The ranges are explicit rather than [:alnum:],
which would drop every non-ASCII letter in a database with the C locale.

A later migration that rebuilds `mentions` on SQLite (batch mode) drops its triggers:
it must run the trigger statements below again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 13:10:00
"""

import logging
from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

# Letters unicode61 does not fold; the same map as store.boolean_query.EXTRA_FOLDS.
_SQLITE_FOLDS = {"ł": "l", "Ł": "l", "ё": "е", "Ё": "е"}


def _sqlite_fold(expression: str) -> str:
    for letter, replacement in _SQLITE_FOLDS.items():
        expression = f"replace({expression}, '{letter}', '{replacement}')"
    return expression


_NEW = f"new.id, {_sqlite_fold('new.title')}, {_sqlite_fold('new.text')}"
_OLD = f"'delete', old.id, {_sqlite_fold('old.title')}, {_sqlite_fold('old.text')}"

SQLITE_UPGRADE = [
    f"""CREATE VIEW mentions_fts_source AS
        SELECT id, {_sqlite_fold('title')} AS title, {_sqlite_fold('text')} AS text FROM mentions""",
    """CREATE VIRTUAL TABLE mentions_fts USING fts5(
        title, text, content='mentions_fts_source', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER mentions_fts_insert AFTER INSERT ON mentions BEGIN
        INSERT INTO mentions_fts(rowid, title, text) VALUES ({_NEW});
    END""",
    f"""CREATE TRIGGER mentions_fts_delete AFTER DELETE ON mentions BEGIN
        INSERT INTO mentions_fts(mentions_fts, rowid, title, text) VALUES ({_OLD});
    END""",
    f"""CREATE TRIGGER mentions_fts_update AFTER UPDATE OF title, text ON mentions BEGIN
        INSERT INTO mentions_fts(mentions_fts, rowid, title, text) VALUES ({_OLD});
        INSERT INTO mentions_fts(rowid, title, text) VALUES ({_NEW});
    END""",
    "INSERT INTO mentions_fts(mentions_fts) VALUES ('rebuild')",
]

SQLITE_DOWNGRADE = [
    "DROP TRIGGER mentions_fts_update",
    "DROP TRIGGER mentions_fts_delete",
    "DROP TRIGGER mentions_fts_insert",
    "DROP TABLE mentions_fts",
    "DROP VIEW mentions_fts_source",
]

# Runs of ASCII and common Unicode punctuation, symbols, arrows and emoji.
_PG_SEPARATORS = (
    r"[\u0001-\u002f\u003a-\u0040\u005b-\u0060\u007b-\u00bf\u00d7\u00f7"
    r"\u2000-\u2bff\u3000-\u303f\ufe30-\ufe4f\uff00-\uff0f\U0001f000-\U0001faff]+"
)
_PG_TOKEN_TYPES = "asciiword, word, numword, asciihword, hword, numhword, hword_asciipart, hword_part, hword_numpart"


def _postgres_upgrade() -> None:
    bind = op.get_bind()
    dictionaries = "simple"
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
        savepoint.commit()
        dictionaries = "unaccent, simple"
    except Exception as exc:  # noqa: BLE001 - any failure means: no unaccent here
        savepoint.rollback()
        log.warning("unaccent is not available (%s): PostgreSQL search will not fold diacritics", exc)
    op.execute("CREATE TEXT SEARCH CONFIGURATION mw_search (COPY = simple)")
    op.execute(f"ALTER TEXT SEARCH CONFIGURATION mw_search ALTER MAPPING FOR {_PG_TOKEN_TYPES} WITH {dictionaries}")
    op.execute(
        "ALTER TABLE mentions ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector('mw_search'::regconfig,"
        f" regexp_replace(coalesce(title, '') || ' ' || text, '{_PG_SEPARATORS}', ' ', 'g'))) STORED"
    )
    op.execute("CREATE INDEX ix_mentions_search_vector ON mentions USING gin (search_vector)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UPGRADE:
            op.execute(statement)
    else:
        _postgres_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWNGRADE:
            op.execute(statement)
    else:
        op.execute("DROP INDEX ix_mentions_search_vector")
        op.execute("ALTER TABLE mentions DROP COLUMN search_vector")
        op.execute("DROP TEXT SEARCH CONFIGURATION mw_search")
