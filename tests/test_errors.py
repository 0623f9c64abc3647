"""Mistakes a person can make get one line naming what is wrong and what to do, exit 2."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from mentionwatch.cli import app
from mentionwatch.settings import Settings
from tests.test_config import MINIMAL

runner = CliRunner()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path) -> Path:
    for name in ("SLACK_TOKEN", "SLACK_CHANNEL", "SMTP_HOST", "SMTP_PORT", "LOG_LEVEL", "CONFIG"):
        monkeypatch.delenv(f"MENTIONWATCH_{name}", raising=False)
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", sqlite_url)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mentionwatch.toml").write_text(MINIMAL, encoding="utf-8")
    return tmp_path


def refused(result: Result, *expected: str) -> str:
    """The one error line of a command that must have stopped with exit 2."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for text in expected:
        assert text in lines[0]
    return lines[0]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


COMMANDS = [
    ["mentions", "search", "x"], ["mentions", "export"], ["check"], ["crawl"], ["score"], ["alerts", "send"],
    ["alerts", "list"], ["digest", "--brand", "Acme", "--send"], ["db", "upgrade"], ["api-token", "list"],
    ["sql", "SELECT 1"],
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SMTP_PORT", "abc", "MENTIONWATCH_SMTP_PORT: input should be a valid integer"),
        ("SMTP_PORT", "70000", "MENTIONWATCH_SMTP_PORT: input should be less than or equal to 65535"),
        ("SMTP_STARTTLS", "maybe", "MENTIONWATCH_SMTP_STARTTLS: input should be a valid boolean"),
        ("LOG_LEVEL", "loud", "MENTIONWATCH_LOG_LEVEL: must be one of DEBUG, INFO"),
        ("SENTIMENT_COMPILE", "sometimes", "MENTIONWATCH_SENTIMENT_COMPILE: input should be 'auto', 'always' or 'never'"),
        ("SENTIMENT_LABEL_MAP", "[1, 2]", "MENTIONWATCH_SENTIMENT_LABEL_MAP: input should be a valid dictionary"),
    ],
)
def test_a_setting_of_the_wrong_type_is_named(
    env: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(f"MENTIONWATCH_{variable}", value)
    line = refused(runner.invoke(app, command), expected, "correct it or unset it")
    assert value not in line.removeprefix(expected)  # values may be secrets: never echoed


def test_an_empty_variable_means_not_set(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As an env file (docker --env-file, systemd EnvironmentFile) writes `MENTIONWATCH_SLACK_TOKEN=`.
    for name in ("SLACK_TOKEN", "SLACK_CHANNEL", "SMTP_PORT", "SMTP_HOST", "SENTIMENT_MODEL", "LOG_LEVEL"):
        monkeypatch.setenv(f"MENTIONWATCH_{name}", "")
    settings = Settings()
    assert settings.slack_token is None and settings.slack_channel is None and settings.smtp_host is None
    assert settings.smtp_port == 587 and settings.sentiment_model is None and settings.log_level == "INFO"
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert "Alerts print to the console" in result.output


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("notaurl", "MENTIONWATCH_DATABASE_URL: not a database URL; use sqlite:///"),
        ("postgresql//mw:s3cret-pw@db/mw", "MENTIONWATCH_DATABASE_URL: not a database URL; use sqlite:///"),
        ("mysql://mw:s3cret-pw@db/mw", "MENTIONWATCH_DATABASE_URL: 'mysql' databases are not supported; use sqlite:///"),
        ("postgresql+asyncpg://mw:s3cret-pw@db/mw", "the database driver 'postgresql+asyncpg' is not installed"),
        ("postgresql://mw:s3cret-pw@127.0.0.1:{port}/mw", "cannot connect to postgresql://mw:***@127.0.0.1:{port}/mw:"),
    ],
)
def test_a_database_url_that_cannot_be_used_is_named_without_its_password(
    env: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], url: str, expected: str
) -> None:
    port = str(closed_port())
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", url.replace("{port}", port))
    line = refused(runner.invoke(app, command), expected.replace("{port}", port))
    assert "s3cret-pw" not in line


def test_an_unreachable_postgresql_says_so_and_what_to_check(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", f"postgresql://mw:s3cret-pw@127.0.0.1:{port}/mw")
    refused(runner.invoke(app, ["db", "upgrade"]), "Connection refused", "is the database running there")


def test_a_sqlite_path_that_is_no_database_is_named(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (env / "notes.txt").write_text("not a database, just text that is long enough to have a header\n" * 10)
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", f"sqlite:///{env / 'notes.txt'}")
    refused(runner.invoke(app, ["mentions", "search", ""]), f"cannot open sqlite:///{env / 'notes.txt'}: file is not a database")
    (env / "afile").write_text("")
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", f"sqlite:///{env / 'afile' / 'store.db'}")
    refused(runner.invoke(app, ["mentions", "search", ""]), f"cannot create the folder {env / 'afile'}")


@pytest.mark.postgres
def test_a_postgresql_that_refuses_the_user_or_database_is_named(
    env: Path, monkeypatch: pytest.MonkeyPatch, _postgres_server: str
) -> None:
    server = make_url(_postgres_server)
    for url, expected in [
        (server.set(username="nobody", password="s3cret-pw"), 'role "nobody" does not exist'),
        (server.set(database="no_such_db"), 'database "no_such_db" does not exist'),
    ]:
        monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", url.render_as_string(hide_password=False))
        line = refused(runner.invoke(app, ["mentions", "search", ""]), expected, "with this user and password?")
        assert "s3cret-pw" not in line


def with_source(lines: str) -> str:
    """MINIMAL with its source's type and targets replaced by `lines`."""
    return MINIMAL.replace('type = "feed"\nurls = ["http://127.0.0.1:1/feed.xml"]', lines)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (MINIMAL.replace('query = "acme"', 'query = "(zamówko OR"'),
         "bad query: column 12: expected a word, a \"phrase\" or '(', found the end of the query"),
        (with_source('type = "appstore"'), "sources.0: appstore needs options.app_id or urls of feed pages"),
        (with_source('type = "mastodon"\nsearch = ["acme"]'), "sources.0: mastodon needs base_url, the server to read"),
        (with_source('type = "youtube"\noptions = { video_ids = ["x"], token_env = "MW_TEST_UNSET_KEY" }'),
         "source 'acme-feed': the environment variable MW_TEST_UNSET_KEY (options.token_env) is not set"),
        (with_source('type = "feed"\nurls = ["127.0.0.1:1/feed.xml"]'),
         "sources.0.urls.0: '127.0.0.1:1/feed.xml' is not an http(s) URL"),
        (with_source('type = "feed"'), "sources.0: feed needs urls"),
    ],
    ids=["query", "appstore", "mastodon", "youtube", "url", "no-urls"],
)
def test_check_refuses_what_crawl_would_refuse_later(env: Path, config: str, expected: str) -> None:
    (env / "mentionwatch.toml").write_text(config, encoding="utf-8")
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith("error: mentionwatch.toml: ") and expected in errors[0], result.output


def test_check_refuses_alerts_without_a_channel_and_says_what_is_off(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ok = runner.invoke(app, ["check"])
    assert ok.exit_code == 0, ok.output
    assert "Alerts print to the console: set MENTIONWATCH_SLACK_TOKEN" in ok.output
    assert "Weekly digests are off: no brand has digest_recipients" in ok.output
    (env / "mentionwatch.toml").write_text(MINIMAL.replace('query = "acme"', 'query = "acme"\ndigest_recipients = ["a@example.com"]'))
    assert "Weekly digests are off: set MENTIONWATCH_SMTP_HOST" in runner.invoke(app, ["check"]).output
    monkeypatch.setenv("MENTIONWATCH_SLACK_TOKEN", "xoxb-test")
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 2
    assert "error: mentionwatch.toml: brand 'Acme' has no Slack channel: set [brands.alerts] channel" in result.output
