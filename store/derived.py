"""SQL expressions for values derived from several columns, shared by every report.

The digest, the spike detector, the API and the demo must agree on when a mention
happened and which label counts, so each is written once here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, case, func, null
from sqlmodel import col

from store.models import Mention, SentimentScore
from store.ratings import DEFAULT_BEST, DEFAULT_WORST

_mention = Mention.__table__.c  # type: ignore[attr-defined]


def happened_at() -> ColumnElement[datetime]:
    """When the mention was said: published, or found where the source gives no date."""
    return func.coalesce(col(Mention.published_at), col(Mention.fetched_at))


def said_at(mention: Mention) -> datetime:
    """happened_at for one loaded mention (the Python twin)."""
    return mention.published_at or mention.fetched_at


def effective_label() -> ColumnElement[str]:
    """The label that counts: a person's correction wins over the model."""
    return func.coalesce(col(SentimentScore.manual_label), col(SentimentScore.label))


def rating_5() -> ColumnElement[float]:
    """mention_view.rating_5 on the mentions table: the rating rescaled to 1-5 from its own
    worst..best (tests check that the two agree; store.ratings is the Python twin)."""
    best, worst = func.coalesce(_mention.rating_best, DEFAULT_BEST), func.coalesce(_mention.rating_worst, DEFAULT_WORST)
    share = (_mention.rating - worst) / func.nullif(best - worst, 0)
    clamped = case((share < 0, 0.0), (share > 1, 1.0), else_=share)
    return case((best > worst, 1 + 4.0 * clamped), else_=null())
