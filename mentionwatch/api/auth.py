"""Who may call: no or unknown token is 401, a read token on a write route is 403.

FastAPI reads a request's body before it resolves dependencies, so a token check in a
dependency came after a 300 MB upload had been read. TokenGate is plain ASGI in front
of the routes: it identifies the caller from the headers alone, answers 401 without
touching the body, and leaves the token in the request's state for `reader`/`writer`.
(The body's size is bounded by FastAPI's own max_body_size, see app.py.)
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from mentionwatch.api.tokens import Scope as TokenScope
from mentionwatch.api.tokens import find_token, note_use
from store.db import session_scope
from store.models import ApiToken

bearer = HTTPBearer(auto_error=False, description="A token from `mentionwatch api-token create`.")

# Slack signs its requests with these; the route checks the signature over the body.
SLACK_SIGNATURE_HEADERS = ("x-slack-signature", "x-slack-request-timestamp")


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _token_of(engine: Engine, secret: str) -> ApiToken | None:
    with session_scope(engine) as session:
        token = find_token(session, secret=secret)
    if token is not None:
        note_use(engine, token)
    return token


def _refusal(status: int, message: str, *, challenge: bool = False) -> JSONResponse:
    return JSONResponse({"detail": message}, status, headers={"WWW-Authenticate": "Bearer"} if challenge else None)


class TokenGate:
    """Refuse unauthenticated requests from their headers, before any body is read.

    Paths in `open_paths` (the docs) need nothing; paths in `slack_paths` need Slack's
    signature headers; every other path needs a known bearer token.
    """

    def __init__(
        self, app: ASGIApp, *, engine: Engine, open_paths: Collection[str], slack_paths: Collection[str]
    ) -> None:
        self.app = app
        self.engine = engine
        self.open_paths = set(open_paths)
        self.slack_paths = set(slack_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in self.open_paths:
            headers = Headers(scope=scope)
            if scope["path"] in self.slack_paths:
                if not all(headers.get(name) for name in SLACK_SIGNATURE_HEADERS):
                    await _refusal(401, "not signed by Slack")(scope, receive, send)
                    return
            else:
                scheme, _, secret = headers.get("authorization", "").partition(" ")
                if scheme.lower() != "bearer" or not secret.strip():
                    refusal = _refusal(401, "missing bearer token (Authorization: Bearer <token>)", challenge=True)
                    await refusal(scope, receive, send)
                    return
                token = await run_in_threadpool(_token_of, self.engine, secret.strip())
                if token is None:
                    await _refusal(401, "unknown or revoked token", challenge=True)(scope, receive, send)
                    return
                scope.setdefault("state", {})["token"] = token
        await self.app(scope, receive, send)


def reader(
    request: Request,
    # Declared for the OpenAPI security scheme; TokenGate has already checked the header.
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiToken:
    """The caller's token; any scope may read."""
    token: ApiToken = request.state.token
    return token


def writer(token: Annotated[ApiToken, Depends(reader)]) -> ApiToken:
    """The caller's token, which must have the write scope."""
    if token.scope != TokenScope.write:
        raise HTTPException(403, f"token '{token.name}' is read-only; this needs a write token")
    return token
