"""The HTTP API's application: routes, token checks and, where present, Slack's buttons."""

from __future__ import annotations

from importlib.util import find_spec

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from mentionwatch.api import mentions, reports
from mentionwatch.settings import Settings

DESCRIPTION = """Read what mentionwatch stored and record how the team handled it.

Every route needs `Authorization: Bearer <token>` (create one with
`mentionwatch api-token create --name NAME --scope read|write`); read tokens cannot
handle or relabel. Search uses the brand query language described in the README.
"""


def create_app(engine: Engine, settings: Settings) -> FastAPI:
    """The API on `engine`; Slack's interactivity endpoint is included when alerts provides it."""
    app = FastAPI(title="mentionwatch", version="1", description=DESCRIPTION)
    app.state.engine = engine
    app.include_router(mentions.router)
    app.include_router(reports.router)
    # Slack signs its clicks itself, so this router has no bearer-token check.
    if find_spec("alerts.slack_actions") is not None:
        from alerts.slack_actions import make_router

        app.include_router(make_router(lambda: engine, settings))
    return app
