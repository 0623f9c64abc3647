"""The PostgreSQL test set-up: skipped where no server can start, except in CI."""

from __future__ import annotations

import pytest

from tests.support import postgres


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing() -> None:
        raise postgres.PostgresUnavailable("no PostgreSQL server binaries (initdb) found")

    monkeypatch.setattr(postgres, "running_postgres", failing)


@pytest.mark.parametrize("ci", [None, "", "false", "0"])
def test_without_a_server_the_postgres_tests_skip_outside_ci(
    no_server: None, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match="initdb"), postgres.postgres_or_skip():
        pass


@pytest.mark.parametrize("ci", ["true", "1", "TRUE"])
def test_in_ci_a_server_that_cannot_start_fails_the_run(no_server: None, monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="CI is set.*initdb"), postgres.postgres_or_skip():
        pass
