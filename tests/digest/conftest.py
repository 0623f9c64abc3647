"""Fixtures of the digest tests: a store holding the hand-made week of known_week.py."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tests.digest.known_week import fill


@pytest.fixture
def filled_sqlite(sqlite_engine: Engine) -> Engine:
    fill(sqlite_engine)
    return sqlite_engine
