"""Bearer tokens for the HTTP API: created once, shown once, stored only as a hash.

A token is 32 random bytes (secrets.token_urlsafe); with that much entropy a plain
SHA-256 is enough to make a stolen database useless for calling the API, and it lets the
API find a token with one indexed lookup.

Reads never write: when a token was last used is recorded at most once a minute, and
never waits for a lock, so while a crawl holds SQLite's write lock the API still reads.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from store.db import not_waiting
from store.models import ApiToken, utcnow

TOKEN_PREFIX = "mw_"
USE_RECORDED_EVERY = timedelta(minutes=1)

log = logging.getLogger(__name__)


class Scope(StrEnum):
    read = "read"
    write = "write"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(session: Session, *, name: str, scope: Scope) -> str:
    """Store a new token under `name` and return its secret (the only time it is known)."""
    if not name.strip():
        raise ValueError("a token needs a name (who or what uses it)")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name.strip(), token_hash=_hash(secret), scope=scope.value))
    return secret


def find_token(session: Session, *, secret: str) -> ApiToken | None:
    """The token with this secret; None for an unknown secret."""
    return session.exec(select(ApiToken).where(ApiToken.token_hash == _hash(secret))).first()


def note_use(engine: Engine, token: ApiToken) -> None:
    """Record that `token` was used now, unless that was recorded within the last minute.

    Best effort: when the store is locked or read-only, the use is not recorded (the
    next request tries again) and the request goes on.
    """
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < USE_RECORDED_EVERY:
        return
    try:
        with engine.connect() as connection, not_waiting(connection):
            connection.execute(update(ApiToken).where(col(ApiToken.id) == token.id).values(last_used_at=now))
            connection.commit()
    except SQLAlchemyError as exc:
        log.debug("API token %r: use not recorded (%s)", token.name, exc.__class__.__name__)


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).order_by(col(ApiToken.id))))


def revoke_token(session: Session, *, name: str) -> int:
    """Delete every token called `name`; how many there were."""
    tokens = list(session.exec(select(ApiToken).where(ApiToken.name == name)))
    for token in tokens:
        session.delete(token)
    return len(tokens)
