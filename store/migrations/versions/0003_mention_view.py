"""mention_view: one row per mention with brand, source, sentiment and handling

The documented entry point for analysts' SQL and what search and metrics read: the
effective sentiment label (a person's correction wins over the model), the rating
rescaled to 1-5 from its own best/worst (5 and 1 when the source gives none), the
handling state ('new' without a row) and the seconds from the mention to the first answer.

A later migration that rebuilds mentions, brands, sources, sentiment_scores or handling
on SQLite (batch mode) must drop this view first and create it again afterwards:
SQLite refuses to rename a table while a view names a missing one.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 13:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The definitions match alerts/digest/metrics.py, so SQL, the API and the digest agree:
# a mention happens when published (when fetched where the source gives no date), and
# ratings are clamped to their own scale before rescaling.
_DIALECT = {
    "sqlite": {
        "least": "min",
        "greatest": "max",
        # julianday() is a float of days: rounding to milliseconds hides its error.
        "seconds": "round((julianday(h.first_response_at) - julianday(coalesce(m.published_at, m.fetched_at)))"
        " * 86400.0, 3)",
    },
    "postgresql": {
        "least": "least",
        "greatest": "greatest",
        "seconds": "extract(epoch FROM h.first_response_at - coalesce(m.published_at, m.fetched_at))",
    },
}

_VIEW = """CREATE VIEW mention_view AS
SELECT
    m.id, b.name AS brand, s.name AS source, s.type AS source_type,
    m.url, m.canonical_url, m.thread_url, m.parent_url, m.external_id, m.author,
    m.published_at, m.fetched_at, coalesce(m.published_at, m.fetched_at) AS happened_at, m.updated_at,
    m.title, m.text, m.language,
    m.rating, m.rating_best, m.rating_worst,
    CASE
        WHEN m.rating IS NULL OR coalesce(m.rating_best, 5) <= coalesce(m.rating_worst, 1) THEN NULL
        ELSE 1 + 4.0 * {least}(1.0, {greatest}(0.0,
            (m.rating - coalesce(m.rating_worst, 1)) / (coalesce(m.rating_best, 5) - coalesce(m.rating_worst, 1))))
    END AS rating_5,
    coalesce(sc.manual_label, sc.label) AS sentiment,
    CASE WHEN sc.manual_label IS NOT NULL THEN 1.0 ELSE sc.score END AS sentiment_score,
    sc.label AS model_label, sc.model_name AS sentiment_model,
    sc.manual_label, sc.manual_by, sc.manual_at,
    coalesce(h.state, 'new') AS handled, h.updated_by AS handled_by, h.updated_at AS handled_at,
    h.response_url, h.first_response_at,
    {greatest}(0.0, {seconds}) AS response_seconds,
    m.brand_id, m.source_id
FROM mentions m
JOIN brands b ON b.id = m.brand_id
JOIN sources s ON s.id = m.source_id
LEFT JOIN sentiment_scores sc ON sc.mention_id = m.id
LEFT JOIN handling h ON h.mention_id = m.id"""


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute(_VIEW.format(**_DIALECT[dialect]))


def downgrade() -> None:
    op.execute("DROP VIEW mention_view")
