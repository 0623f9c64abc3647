"""Bearer-token checks: no or unknown token is 401, a read token on a write route is 403."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine

from mentionwatch.api.tokens import Scope, find_token
from store.db import session_scope
from store.models import ApiToken

bearer = HTTPBearer(auto_error=False, description="A token from `mentionwatch api-token create`.")


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def reader(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> ApiToken:
    """The caller's token; any scope may read."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise HTTPException(401, "missing bearer token (Authorization: Bearer <token>)", headers=challenge)
    with session_scope(engine_of(request)) as session:
        token = find_token(session, secret=credentials.credentials)
    if token is None:
        raise HTTPException(401, "unknown or revoked token", headers=challenge)
    return token


def writer(token: Annotated[ApiToken, Depends(reader)]) -> ApiToken:
    """The caller's token, which must have the write scope."""
    if token.scope != Scope.write:
        raise HTTPException(403, f"token '{token.name}' is read-only; this needs a write token")
    return token
