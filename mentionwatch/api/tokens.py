"""Bearer tokens for the HTTP API: created once, shown once, stored only as a hash.

A token is 32 random bytes (secrets.token_urlsafe); with that much entropy a plain
SHA-256 is enough to make a stolen database useless for calling the API, and it lets the
API find a token with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum

from sqlmodel import Session, col, select

from store.models import ApiToken, utcnow

TOKEN_PREFIX = "mw_"


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
    """The token with this secret, its last use recorded; None for an unknown secret."""
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == _hash(secret))).first()
    if token is not None:
        token.last_used_at = utcnow()
        session.add(token)
    return token


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).order_by(col(ApiToken.id))))


def revoke_token(session: Session, *, name: str) -> int:
    """Delete every token called `name`; how many there were."""
    tokens = list(session.exec(select(ApiToken).where(ApiToken.name == name)))
    for token in tokens:
        session.delete(token)
    return len(tokens)
