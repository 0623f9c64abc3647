"""The HTTP API's application: routes, token checks and, where present, Slack's buttons."""

from __future__ import annotations

import json
from importlib.util import find_spec
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine

from mentionwatch.api import mentions, reports
from mentionwatch.api.auth import TokenGate
from mentionwatch.settings import Settings

DESCRIPTION = """Read what mentionwatch stored and record how the team handled it.

Every route needs `Authorization: Bearer <token>` (create one with
`mentionwatch api-token create --name NAME --scope read|write`); read tokens cannot
handle or relabel. Search uses the brand query language described in the README.
Request bodies over 1 MiB are refused with 413 before they are read.
"""

# Handling and relabelling send a few hundred bytes, Slack's button clicks a few KB.
MAX_BODY = 1024 * 1024


class _AsciiJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


async def _validation_failed(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, as ASCII JSON: the input it echoes may hold an unpaired surrogate,
    which UTF-8 cannot encode (the default handler then failed with a 500)."""
    assert isinstance(exc, RequestValidationError)
    return _AsciiJSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)


def create_app(engine: Engine, settings: Settings) -> FastAPI:
    """The API on `engine`; Slack's interactivity endpoint is included when alerts provides it."""
    app = FastAPI(title="mentionwatch", version="1", description=DESCRIPTION, max_body_size=MAX_BODY)
    app.state.engine = engine
    app.add_exception_handler(RequestValidationError, _validation_failed)
    app.include_router(mentions.router)
    app.include_router(reports.router)
    slack_paths: set[str] = set()
    # Slack signs its clicks itself, so this router has no bearer-token check.
    if find_spec("alerts.slack_actions") is not None:
        from alerts.slack_actions import make_router

        slack = make_router(lambda: engine, settings)
        app.include_router(slack)
        slack_paths = {route.path for route in slack.routes}  # type: ignore[attr-defined]
    docs = {app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    app.add_middleware(TokenGate, engine=engine, open_paths={p for p in docs if p}, slack_paths=slack_paths)
    return app
