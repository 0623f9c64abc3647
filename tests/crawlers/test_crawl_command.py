"""`mentionwatch crawl`: the stable interface scripts rely on."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from mentionwatch.cli import app
from tests.crawlers.conftest import DEMO_CONFIG, DEMO_SITE, stored
from tests.fakes.site_server import SiteServer

runner = CliRunner()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path) -> Path:
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MENTIONWATCH_LOG_LEVEL", "WARNING")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _write_config(folder: Path, base_url: str) -> Path:
    path = folder / "demo.toml"
    path.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace("{base_url}", base_url), encoding="utf-8")
    return path


@pytest.mark.slow
def test_crawl_twice_adds_no_duplicates(env: Path, sqlite_engine: Engine) -> None:
    with SiteServer(root=DEMO_SITE) as site:
        config = _write_config(env, site.base_url)
        first = runner.invoke(app, ["--config", str(config), "crawl"])
        assert first.exit_code == 0, first.output
        count = len(stored(sqlite_engine))
        second = runner.invoke(app, ["--config", str(config), "crawl", "--source", "shop-reviews", "-s", "app-store"])
        assert second.exit_code == 0, second.output
    assert count == 8 + 5 + 4 + 6
    assert len(stored(sqlite_engine)) == count
    assert "shop-reviews" in first.output and "no_match 2" in first.output
    assert "city-forum" not in second.output and "app-store" in second.output


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_exit_status_says_whether_anything_was_crawled(env: Path) -> None:
    config = _write_config(env, f"http://127.0.0.1:{_closed_port()}")
    unknown = runner.invoke(app, ["--config", str(config), "crawl", "--source", "nope"])
    assert unknown.exit_code == 2 and "no such source" in unknown.output
    nothing = runner.invoke(app, ["--config", str(config), "crawl", "--source", "google-alerts"])
    assert nothing.exit_code == 1, nothing.output
    assert "nothing could be crawled" in nothing.output
