"""The HTTP API (FastAPI): `create_app(engine, settings)`; served by `mentionwatch api`."""

from mentionwatch.api.app import create_app

__all__ = ["create_app"]
