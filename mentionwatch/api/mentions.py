"""/mentions: search with the brand query language, read one, record handling and relabels."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mentionwatch.api.auth import engine_of, reader, writer
from mentionwatch.api.params import MentionId, cursor_id, invalid, moment
from mentionwatch.api.text import Text
from mentionwatch.api.schemas import (
    NEEDS_TOKEN,
    NEEDS_WRITE_TOKEN,
    ONE_MENTION,
    HandleIn,
    Label,
    MentionOut,
    MentionPage,
    RelabelIn,
)
from store.boolean_query import QuerySyntaxError, parse_query
from store.db import session_scope
from store.models import ApiToken, HandlingState
from store.queries import relabel, set_handling
from store.search import FilterError, MentionFilter, check_filter, get_mention, search_mentions

router = APIRouter(tags=["mentions"], responses=NEEDS_TOKEN)


@router.get("/mentions", response_model=MentionPage, summary="Search mentions, newest first")
def list_mentions(
    engine: Annotated[Engine, Depends(engine_of)],
    _token: Annotated[ApiToken, Depends(reader)],
    q: Annotated[Text | None, Query(description="Brand query, e.g. `zamów* NEAR/3 kurier -praca`")] = None,
    brand: Text | None = None,
    source: Text | None = None,
    language: Annotated[Text | None, Query(description="Language code: pl, ru, en, ...")] = None,
    sentiment: Annotated[Label | None, Query(description="Effective label (a manual relabel wins)")] = None,
    rating_min: Annotated[float | None, Query(ge=1, le=5, description="On the 1-5 scale")] = None,
    rating_max: Annotated[float | None, Query(ge=1, le=5, description="On the 1-5 scale")] = None,
    since: Annotated[date | datetime | None, Query(description="Inclusive; a date is its UTC day")] = None,
    until: Annotated[date | datetime | None, Query(description="Exclusive; a date includes its UTC day")] = None,
    state: HandlingState | None = None,
    cursor: Annotated[Text | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    try:
        query = parse_query(q) if q is not None and q.strip() else None
    except QuerySyntaxError as exc:
        raise invalid("q", f"bad query: {exc}", column=exc.column) from exc
    filters = MentionFilter(
        query=query, brand=brand, source=source, language=language, sentiment=sentiment, rating_min=rating_min,
        rating_max=rating_max, since=moment("since", since), until=moment("until", until, end=True), state=state,
    )
    before_id = cursor_id(cursor)
    with session_scope(engine) as session:
        try:
            check_filter(session, filters)
        except FilterError as exc:
            raise invalid(exc.field, str(exc)) from exc
        rows = list(search_mentions(session, filters=filters, before_id=before_id, limit=limit + 1))
    more = len(rows) > limit
    return {"items": rows[:limit], "next_cursor": str(rows[limit - 1]["id"]) if more else None}


def _mention_or_404(engine: Engine, mention_id: int) -> dict[str, Any]:
    with session_scope(engine) as session:
        row = get_mention(session, mention_id=mention_id)
    if row is None:
        raise HTTPException(404, f"no mention with id {mention_id}")
    return row


@router.get("/mentions/{mention_id}", response_model=MentionOut, summary="One mention", responses=ONE_MENTION)
def read_mention(
    mention_id: MentionId, engine: Annotated[Engine, Depends(engine_of)], _token: Annotated[ApiToken, Depends(reader)]
) -> dict[str, Any]:
    return _mention_or_404(engine, mention_id)


def _change(engine: Engine, mention_id: int, change: Callable[[Session], object]) -> dict[str, Any]:
    """Apply `change` in one transaction (404 for an unknown mention); the mention after it."""
    with session_scope(engine) as session:
        try:
            change(session)
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from exc
    return _mention_or_404(engine, mention_id)


@router.post(
    "/mentions/{mention_id}/handle",
    response_model=MentionOut,
    summary="Record acknowledged/responded/ignored",
    responses=NEEDS_WRITE_TOKEN | ONE_MENTION,
)
def handle_mention(
    mention_id: MentionId,
    body: HandleIn,
    engine: Annotated[Engine, Depends(engine_of)],
    token: Annotated[ApiToken, Depends(writer)],
) -> dict[str, Any]:
    url = str(body.response_url) if body.response_url else None
    return _change(
        engine,
        mention_id,
        lambda session: set_handling(
            session, mention_id=mention_id, state=HandlingState(body.state), by=body.by or token.name, response_url=url
        ),
    )


@router.post(
    "/mentions/{mention_id}/relabel",
    response_model=MentionOut,
    summary="Correct the sentiment label",
    responses=NEEDS_WRITE_TOKEN | ONE_MENTION,
)
def relabel_mention(
    mention_id: MentionId,
    body: RelabelIn,
    engine: Annotated[Engine, Depends(engine_of)],
    token: Annotated[ApiToken, Depends(writer)],
) -> dict[str, Any]:
    return _change(
        engine,
        mention_id,
        lambda session: relabel(session, mention_id=mention_id, label=body.label, by=body.by or token.name),
    )
