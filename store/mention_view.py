"""`mention_view`, the documented read model (migration 0003), as a table to query.

It lives in its own MetaData, not SQLModel's, so that autogenerate never tries to
create it as a table; tests check that these columns are the view's.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text

from store.types import UTCDateTime

mention_view = Table(
    "mention_view",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("brand", String),
    Column("source", String),
    Column("source_type", String),
    Column("url", String),
    Column("canonical_url", String),
    Column("thread_url", String),
    Column("parent_url", String),
    Column("external_id", String),
    Column("author", String),
    Column("published_at", UTCDateTime()),
    Column("fetched_at", UTCDateTime()),
    Column("happened_at", UTCDateTime()),
    Column("updated_at", UTCDateTime()),
    Column("title", String),
    Column("text", Text),
    Column("language", String),
    Column("rating", Float),
    Column("rating_best", Float),
    Column("rating_worst", Float),
    Column("rating_5", Float),
    Column("sentiment", String),
    Column("sentiment_score", Float),
    Column("model_label", String),
    Column("sentiment_model", String),
    Column("manual_label", String),
    Column("manual_by", String),
    Column("manual_at", UTCDateTime()),
    Column("handled", String),
    Column("handled_by", String),
    Column("handled_at", UTCDateTime()),
    Column("response_url", String),
    Column("first_response_at", UTCDateTime()),
    Column("response_seconds", Float),
    Column("brand_id", Integer),
    Column("source_id", Integer),
)
