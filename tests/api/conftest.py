"""The API over a real store with a read and a write token."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from mentionwatch.api import create_app
from mentionwatch.api.tokens import Scope, create_token
from mentionwatch.settings import Settings
from store.db import session_scope
from tests.analyst.sample_store import fill_sample_store


@dataclass
class Api:
    client: TestClient
    ids: dict[str, int]
    read: dict[str, str]
    write: dict[str, str]

    def get(self, path: str, **params: object) -> dict | list:  # type: ignore[type-arg]
        response = self.client.get(path, params=params, headers=self.read)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


@pytest.fixture
def api(engine: Engine) -> Iterator[Api]:
    ids = fill_sample_store(engine)
    with session_scope(engine) as session:
        read = create_token(session, name="looker", scope=Scope.read)
        write = create_token(session, name="ola", scope=Scope.write)
    with TestClient(create_app(engine, Settings())) as client:
        yield Api(client, ids, {"Authorization": f"Bearer {read}"}, {"Authorization": f"Bearer {write}"})
