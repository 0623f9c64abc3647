"""Find stored mentions: a brand query plus filters, newest first, in keyset pages.

One function, `search_mentions`, serves the command line, the API and the benchmark on
both databases. The query runs on the database's own full-text index (SQLite FTS5,
PostgreSQL tsvector + GIN; see migration 0002); on PostgreSQL, whose tokenizer and
distance operator differ from FTS5's, each candidate is confirmed with
Query.matches_fields, so that results agree with the query language everywhere.
Matches are found on the tables, then read from `mention_view`, the view analysts query.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, column, exists, func, literal_column, not_, or_, select, table
from sqlalchemy.sql import Select
from sqlmodel import Session

from store.boolean_query import And, Node, Not, Or, Query
from store.derived import rating_5
from store.fulltext import fts5_expression, tsquery_expression
from store.mention_view import mention_view
from store.models import Brand, Handling, HandlingState, Mention, SentimentScore, Source
from store.queries import LABELS

_fts = table("mentions_fts", column("rowid"))
_m = Mention.__table__.c  # type: ignore[attr-defined]
_search_vector = literal_column("mentions.search_vector")  # migration 0002; not a model column


class FilterError(ValueError):
    """A filter that names something that does not exist, or contradicts itself."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class MentionFilter:
    """What to look for; every field is optional and they combine with AND.

    `since` is inclusive and `until` exclusive, on when the mention happened
    (mention_view.happened_at: published, or fetched where the source gives no date).
    Ratings are on the 1-5 scale of mention_view.rating_5; `sentiment` is the
    effective label.
    """

    query: Query | None = None
    brand: str | None = None
    source: str | None = None
    language: str | None = None
    sentiment: str | None = None
    rating_min: float | None = None
    rating_max: float | None = None
    since: datetime | None = None
    until: datetime | None = None
    state: HandlingState | None = None


def check_filter(session: Session, filters: MentionFilter) -> None:
    """Raise FilterError for a brand or source that does not exist, or an empty range."""
    for model, name, what in ((Brand, filters.brand, "brand"), (Source, filters.source, "source")):
        if name is None:
            continue
        known = list(session.execute(select(model.name).order_by(model.name)).scalars())
        if name not in known:
            raise FilterError(f"unknown {what} {name!r} (known: {', '.join(known) or 'none'})", field=what)
    if filters.sentiment is not None and filters.sentiment not in LABELS:
        raise FilterError(f"sentiment must be one of {', '.join(LABELS)}, not {filters.sentiment!r}", field="sentiment")
    if filters.rating_min is not None and filters.rating_max is not None and filters.rating_min > filters.rating_max:
        raise FilterError(f"rating-min {filters.rating_min} is above rating-max {filters.rating_max}", field="rating_min")
    if filters.since is not None and filters.until is not None and filters.since >= filters.until:
        raise FilterError("since must be before until", field="since")


def _sqlite_condition(node: Node) -> ColumnElement[bool]:
    expression = fts5_expression(node)
    if expression is not None:
        return _m.id.in_(select(_fts.c.rowid).where(literal_column("mentions_fts").op("MATCH")(expression)))
    match node:
        case Not(child):
            return not_(_sqlite_condition(child))
        case And(children):
            return and_(*(_sqlite_condition(c) for c in children))
        case Or(children):
            return or_(*(_sqlite_condition(c) for c in children))
    raise TypeError(f"FTS5 cannot express {node!r}")  # terms, phrases and NEAR always compile


def _postgres_condition(node: Node) -> ColumnElement[bool] | None:
    expression = tsquery_expression(node)
    if expression is None:
        return None
    return _search_vector.op("@@")(func.to_tsquery(literal_column("'mw_search'::regconfig"), expression))


def fulltext_condition(dialect: str, query: Query) -> ColumnElement[bool] | None:
    """The SQL condition on `mentions` for `query` on this database (None: any row; on
    PostgreSQL candidates still need Query.matches_fields, see needs_recheck)."""
    return _sqlite_condition(query.root) if dialect == "sqlite" else _postgres_condition(query.root)


def needs_recheck(dialect: str) -> bool:
    """PostgreSQL's candidates may include near misses (NEAR/n, hyphenated words)."""
    return dialect != "sqlite"


def _happened_between(since: datetime | None, until: datetime | None) -> ColumnElement[bool]:
    # The same as a range on happened_at, spelled so that indexes on published_at serve it.
    def within(column: ColumnElement[datetime]) -> ColumnElement[bool]:
        return and_(*([column >= since] if since else []), *([column < until] if until else []))

    return or_(within(_m.published_at), and_(_m.published_at.is_(None), within(_m.fetched_at)))


def _labelled(label: str) -> ColumnElement[bool]:
    # The effective label, spelled on plain columns so that the planner can estimate it.
    score = SentimentScore.__table__.c  # type: ignore[attr-defined]
    effective = or_(score.manual_label == label, and_(score.manual_label.is_(None), score.label == label))
    return exists().where(score.mention_id == _m.id, effective)


def _in_state(state: str) -> ColumnElement[bool]:
    handling = Handling.__table__.c  # type: ignore[attr-defined]
    if state == HandlingState.new:
        return ~exists().where(handling.mention_id == _m.id, handling.state != HandlingState.new.value)
    return exists().where(handling.mention_id == _m.id, handling.state == state)


@dataclass(frozen=True)
class _Plan:
    """How to find the matches: conditions on `mentions`, and on SQLite the FTS5
    expression that drives the search when the whole query is one."""

    conditions: list[ColumnElement[bool]]
    fts_match: str | None = None


def _plan(dialect: str, filters: MentionFilter) -> _Plan:
    """Filters on `mentions` and EXISTS on its scores and handling, not on the view: the
    planners see indexed columns and real statistics, and can walk the newest first."""
    conditions: list[ColumnElement[bool]] = []
    fts_match = fts5_expression(filters.query.root) if dialect == "sqlite" and filters.query is not None else None
    if fts_match is None and filters.query is not None:
        if (fulltext := fulltext_condition(dialect, filters.query)) is not None:
            conditions.append(fulltext)
    if filters.brand is not None:
        conditions.append(_m.brand_id == select(Brand.id).where(Brand.name == filters.brand).scalar_subquery())
    if filters.source is not None:
        conditions.append(_m.source_id == select(Source.id).where(Source.name == filters.source).scalar_subquery())
    if filters.language is not None:
        conditions.append(_m.language == filters.language)
    if filters.sentiment is not None:
        conditions.append(_labelled(filters.sentiment))
    if filters.state is not None:
        conditions.append(_in_state(filters.state))
    if filters.rating_min is not None:
        conditions.append(rating_5() >= filters.rating_min)
    if filters.rating_max is not None:
        conditions.append(rating_5() <= filters.rating_max)
    if filters.since is not None or filters.until is not None:
        conditions.append(_happened_between(filters.since, filters.until))
    return _Plan(conditions, fts_match)


def _page(plan: _Plan, before_id: int | None, size: int) -> Select[Any]:
    """A page of mention_view rows: the ids found on `mentions`, then their view rows."""
    if plan.fts_match is None:
        below = [_m.id < before_id] if before_id is not None else []
        ids = select(_m.id).where(*plan.conditions, *below).order_by(_m.id.desc()).limit(size)
    else:
        # FTS5 hands out its matches newest first and stops at the LIMIT; an IN (MATCH)
        # subquery would collect every match of a common word first.
        below = [_fts.c.rowid < before_id] if before_id is not None else []
        ids = (
            select(_fts.c.rowid)
            .select_from(_fts.join(Mention.__table__, _m.id == _fts.c.rowid))
            .where(literal_column("mentions_fts").op("MATCH")(plan.fts_match), *plan.conditions, *below)
            .order_by(_fts.c.rowid.desc())
            .limit(size)
        )
    return select(mention_view).where(mention_view.c.id.in_(ids)).order_by(mention_view.c.id.desc())


def search_mentions(
    session: Session,
    *,
    filters: MentionFilter,
    before_id: int | None = None,
    limit: int | None = None,
    batch_size: int = 500,
) -> Iterator[dict[str, Any]]:
    """Mentions matching `filters` as mention_view rows, by descending id, streamed.

    `before_id` continues after the last row of a previous page (keyset pagination);
    without `limit` it streams every match in batches, for exports of any size.
    """
    dialect = session.get_bind().dialect.name
    plan = _plan(dialect, filters)
    recheck = filters.query if filters.query is not None and needs_recheck(dialect) else None
    remaining = limit
    widen = 1  # rechecked candidates can be rejected: ask for more each round
    while remaining is None or remaining > 0:
        fetch = batch_size if remaining is None else min(batch_size, remaining * widen)
        if recheck is not None:
            widen *= 2
        rows = session.execute(_page(plan, before_id, fetch)).mappings().all()
        for row in rows:
            if recheck is None or recheck.matches_fields((row["title"], row["text"])):
                yield dict(row)
                if remaining is not None:
                    remaining -= 1
                    if remaining == 0:
                        return
        if len(rows) < fetch:
            return
        before_id = rows[-1]["id"]


def get_mention(session: Session, *, mention_id: int) -> dict[str, Any] | None:
    """One mention as a mention_view row, or None."""
    row = session.execute(select(mention_view).where(mention_view.c.id == mention_id)).mappings().first()
    return dict(row) if row is not None else None
