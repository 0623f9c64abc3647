"""SQL expressions for values derived from several columns, shared by every report.

The digest, the spike detector, the API and the demo must agree on when a mention
happened and which label counts, so each is written once here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func
from sqlmodel import col

from store.models import Mention, SentimentScore


def happened_at() -> ColumnElement[datetime]:
    """When the mention was said: published, or found where the source gives no date."""
    return func.coalesce(col(Mention.published_at), col(Mention.fetched_at))


def effective_label() -> ColumnElement[str]:
    """The label that counts: a person's correction wins over the model."""
    return func.coalesce(col(SentimentScore.manual_label), col(SentimentScore.label))
