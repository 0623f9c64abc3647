"""Fuzz every route from the API's own OpenAPI schema (schemathesis), on SQLite and PostgreSQL.

Valid and invalid values for every parameter and body, with a write token: no request
may end in a 5xx, and every response must match what the schema says of it. The cases
are derandomized (tests/conftest.py's "ci" profile) and capped per route, so CI runs the
same bounded set every time; `--hypothesis-profile=explore` draws new ones. Random
strings rarely hold what once broke the API (a NUL, `²`, a date at the end of the
calendar), so each of HOSTILE is also tried in every parameter of every route.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.core.result import Ok
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


# Values that ended in a 500 before the API checked its parameters (and their neighbours).
HOSTILE = [
    "\x00", "pl\x00", "²", "10000000000000000000", "9223372036854775808", "2147483648", "-1", "0",
    "9999-12-31", "0001-01-01", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "0001-W02", "9999-W52",
    "(" * 200 + "a" + ")" * 200, "-" * 300 + "a", "NOT " * 300 + "a", "a NEAR/1001 b", '"', "*", " ",
]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_values_in_every_parameter(api_schema: OpenApiSchema, write_token: str, value: str) -> None:
    headers = {"Authorization": f"Bearer {write_token}"}
    tried = 0
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok)
        operation = result.ok()
        for parameter in operation.query:
            case = operation.Case(query={parameter.name: value})
            case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])
            tried += 1
        # A valid body for handle and relabel, so that only the id is wrong.
        body = {"body": {"state": "ignored", "label": "neutral"}} if operation.method.upper() == "POST" else {}
        for parameter in operation.path_parameters:
            case = operation.Case(path_parameters={parameter.name: value}, **body)
            case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])
            tried += 1
    assert tried >= 17  # every query and path parameter of the API
