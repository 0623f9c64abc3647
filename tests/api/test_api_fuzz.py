"""Fuzz every route from the API's own OpenAPI schema (schemathesis), on SQLite and PostgreSQL.

Valid and invalid values for every parameter and body, with a write token: no request
may end in a 5xx, and every response must match what the schema says of it. The cases
are derandomized (tests/conftest.py's "ci" profile) and capped per route, so CI runs the
same bounded set every time; `--hypothesis-profile=explore` draws new ones.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.specs.openapi.schemas import OpenApiSchema
from sqlalchemy.engine import Engine

from mentionwatch.api import create_app
from mentionwatch.api.tokens import Scope, create_token
from mentionwatch.settings import Settings
from store.db import session_scope
from tests.analyst.sample_store import fill_sample_store


@pytest.fixture
def write_token(engine: Engine) -> str:
    fill_sample_store(engine)
    with session_scope(engine) as session:
        return create_token(session, name="fuzz", scope=Scope.write)


@pytest.fixture
def api_schema(engine: Engine, write_token: str) -> Iterator[OpenApiSchema]:
    app = create_app(engine, Settings(slack_signing_secret="not-a-real-secret"))  # type: ignore[arg-type]
    yield schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_schema(case: schemathesis.Case, write_token: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {write_token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
