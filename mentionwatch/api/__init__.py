"""The HTTP API (FastAPI): `create_app(engine, settings)`; served by `mentionwatch api`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mentionwatch.api.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # FastAPI and the report queries load only when the app is made: the command line
    # imports mentionwatch.api.tokens for `api-token`, and every command pays its imports.
    if name == "create_app":
        from mentionwatch.api.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
