"""Recording a mention's handling: the command line and the HTTP API accept the same."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from mentionwatch.api import create_app
from mentionwatch.api.tokens import Scope, create_token
from mentionwatch.cli import app
from mentionwatch.settings import Settings
from store.db import session_scope
from tests.analyst.sample_store import fill_sample_store

# (state, response URL or None, accepted?)
CASES = [
    ("responded", "https://forum.example/t/88#p3", True),
    ("responded", None, False),
    ("responded", "forum.example/t/88", False),
    ("responded", "https://", False),
    ("responded", "ftp://forum.example/t/88", False),
    ("acknowledged", None, True),
    ("acknowledged", "https://forum.example/t/88#p3", False),
    ("ignored", None, True),
    ("ignored", "https://forum.example/t/88#p3", False),
]


@pytest.fixture
def mention(sqlite_engine: Engine, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", sqlite_url)
    return fill_sample_store(sqlite_engine)["pl-late"]


@pytest.fixture
def client(sqlite_engine: Engine) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with session_scope(sqlite_engine) as session:
        secret = create_token(session, name="ola", scope=Scope.write)
    with TestClient(create_app(sqlite_engine, Settings())) as test_client:
        yield test_client, {"Authorization": f"Bearer {secret}"}


def cli_args(state: str, url: str | None) -> list[str]:
    if state == "responded":
        return ["--responded", url] if url is not None else ["--responded"]
    return [f"--{state}", *(["--responded", url] if url is not None else [])]


@pytest.mark.parametrize(("state", "url", "accepted"), CASES)
def test_cli_and_api_accept_the_same_handling(
    mention: int, client: tuple[TestClient, dict[str, str]], state: str, url: str | None, accepted: bool
) -> None:
    test_client, headers = client
    body = {"state": state, **({"response_url": url} if url is not None else {})}
    api = test_client.post(f"/mentions/{mention}/handle", json=body, headers=headers)
    assert api.status_code == (200 if accepted else 422), api.text
    cli = CliRunner().invoke(app, ["mentions", "handle", str(mention), *cli_args(state, url)])
    assert cli.exit_code == (0 if accepted else 2), cli.output
    if accepted:
        assert api.json()["handled"] == state and f"mention {mention}: {state}" in cli.output
    else:  # one clear message: ours, or click's "Option '--responded' requires an argument"
        assert "Traceback" not in cli.output and ("error: " in cli.output or "requires an argument" in cli.output)
