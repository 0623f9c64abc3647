"""The Slack token is checked with auth.test before alerts start, without ever showing it."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from alerts.outbox import AlertSetupError
from alerts.slack_client import check_token
from mentionwatch.cli import app
from mentionwatch.settings import Settings
from tests.fakes.slack_api import FakeSlack

WRONG_TOKEN = "xoxb-0000-wrong-token"


def settings_for(base_url: str, token: str | None) -> Settings:
    return Settings(slack_token=SecretStr(token) if token else None, slack_base_url=base_url)


def test_a_valid_token_names_the_bot_and_team(slack: FakeSlack) -> None:
    assert check_token(settings_for(slack.base_url, slack.token)) == "mentionwatch in Fake"
    assert [call.method for call in slack.calls] == ["auth.test"]


def test_a_refused_token_is_a_setup_error_that_does_not_show_it(slack: FakeSlack) -> None:
    with pytest.raises(AlertSetupError, match=r"invalid_auth") as refused:
        check_token(settings_for(slack.base_url, WRONG_TOKEN))
    assert WRONG_TOKEN not in str(refused.value)


def test_no_token_or_no_slack_right_now_lets_the_service_start(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert check_token(settings_for(f"http://127.0.0.1:{port}/api/", None)) is None
    with caplog.at_level(logging.WARNING):
        assert check_token(settings_for(f"http://127.0.0.1:{port}/api/", "xoxb-any")) is None
    assert "could not reach Slack" in caplog.text and "xoxb-any" not in caplog.text


def test_alerts_send_with_a_refused_token_stops_with_exit_2(
    slack: FakeSlack, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MENTIONWATCH_SLACK_TOKEN", WRONG_TOKEN)
    monkeypatch.setenv("MENTIONWATCH_SLACK_BASE_URL", slack.base_url)
    monkeypatch.setenv("MENTIONWATCH_SLACK_CHANNEL", "#alerts")
    runner = CliRunner()
    assert runner.invoke(app, ["--config", "mw.toml", "init"]).exit_code == 0
    result = runner.invoke(app, ["--config", "mw.toml", "alerts", "send"])
    assert result.exit_code == 2
    assert "Slack refused MENTIONWATCH_SLACK_TOKEN (invalid_auth)" in result.output
    assert WRONG_TOKEN not in result.output
    assert not slack.calls_to("chat.postMessage")
    checked = runner.invoke(app, ["--config", "mw.toml", "check"])  # check refuses it too, before any send
    assert checked.exit_code == 2
    assert "error: Slack refused MENTIONWATCH_SLACK_TOKEN (invalid_auth)" in checked.output
    assert WRONG_TOKEN not in checked.output
