"""`mentionwatch digest`: preview to a file, send once, --force, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from mentionwatch.cli import app
from tests.digest.known_week import fill
from tests.digest.smtp_server import smtp_server

runner = CliRunner()
CONFIG = """
[[brands]]
name = "Acme"
timezone = "Europe/Warsaw"
digest_recipients = ["cx-lead@example.com"]
digest_language = "pl"
"""


@pytest.fixture
def workdir(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path) -> Path:
    fill(sqlite_engine)
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", sqlite_url)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mentionwatch.toml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def test_preview_writes_the_page_and_its_images(workdir: Path) -> None:
    result = runner.invoke(app, ["digest", "--brand", "Acme", "--week", "2026-W47", "--preview", "out/digest.html"])
    assert result.exit_code == 0, result.output
    assert "out/digest.html" in result.output
    html = (workdir / "out" / "digest.html").read_text(encoding="utf-8")
    assert "Tygodniowy raport o reputacji" in html and 'src="digest-daily.png"' in html
    assert sorted(p.name for p in (workdir / "out").glob("*.png")) == [
        "digest-daily.png",
        "digest-ratings.png",
        "digest-sources.png",
        "digest-trend.png",
    ]


def test_send_once_then_force(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server(workdir) as server:
        monkeypatch.setenv("MENTIONWATCH_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("MENTIONWATCH_SMTP_PORT", str(server.port))
        monkeypatch.setenv("MENTIONWATCH_SMTP_STARTTLS", "false")
        command = ["digest", "--brand", "Acme", "--week", "2026-W47", "--send"]
        first = runner.invoke(app, command)
        assert first.exit_code == 0, first.output
        assert "Sent the Acme digest for 2026-W47 to cx-lead@example.com" in first.output
        again = runner.invoke(app, command)
        assert again.exit_code == 0 and "already sent" in again.output and "--force" in again.output
        assert len(server.received) == 1
        forced = runner.invoke(app, [*command, "--force"])
        assert forced.exit_code == 0, forced.output
        assert len(server.received) == 2
    assert server.received[0].message["Subject"].startswith("Acme: tygodniowy raport o reputacji, tydzień 47")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--brand", "Acme"], "nothing to do"),
        (["--brand", "Nope", "--send"], "no brand 'Nope'"),
        (["--brand", "Acme", "--week", "2026-47", "--preview", "x.html"], "--week: '2026-47' is not an ISO week"),
        (["--brand", "Acme", "--send"], "MENTIONWATCH_SMTP_HOST"),
    ],
)
def test_user_errors_exit_2_with_one_message(workdir: Path, arguments: list[str], message: str) -> None:
    result = runner.invoke(app, ["digest", *arguments])
    assert result.exit_code == 2
    assert message in result.output
