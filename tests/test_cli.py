"""The command line: every command documents itself; shared commands work end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from mentionwatch.cli import app
from store.db import make_engine, session_scope
from store.queries import BrandSpec, SourceSpec, save_mention, sync_brands_and_sources

runner = CliRunner()


def _command_paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    # Typer ships its own copy of click, so groups are recognised by their sub-commands.
    paths = [prefix]
    for name, sub in getattr(command, "commands", {}).items():
        paths.extend(_command_paths(sub, (*prefix, name)))
    return paths


ALL_COMMANDS = _command_paths(typer.main.get_command(app))


def test_the_command_tree_is_walked() -> None:
    names = {" ".join(path) for path in ALL_COMMANDS}
    for expected in ("init", "run", "demo", "crawl", "score", "alerts send", "digest", "mentions search",
                     "mentions export", "sentiment classify", "db upgrade", "api"):
        assert expected in names


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda p: " ".join(p) or "root")
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path) -> Path:
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", sqlite_url)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_init_writes_a_config_that_loads(env: Path) -> None:
    result = runner.invoke(app, ["--config", "mw.toml", "init"])
    assert result.exit_code == 0, result.output
    assert (env / "mw.toml").read_text(encoding="utf-8").startswith("# mentionwatch config")
    checked = runner.invoke(app, ["--config", "mw.toml", "check"])
    assert checked.exit_code == 0, checked.output
    assert "shop-reviews" in checked.output and "3 sources" in checked.output
    again = runner.invoke(app, ["--config", "mw.toml", "init"])
    assert again.exit_code == 2


def test_bad_config_gives_one_message_and_exit_2(env: Path) -> None:
    (env / "bad.toml").write_text('[[brands]]\nname = "A"\n[[sources]]\nname="s"\nbrand="B"\ntype="feed"\nurls=["https://f.example/feed.xml"]\n')
    result = runner.invoke(app, ["--config", "bad.toml", "check"])
    assert result.exit_code == 2
    assert "sources[0].brand: 'B' is not one of the brands" in result.output
    missing = runner.invoke(app, ["--config", "nope.toml", "check"])
    assert missing.exit_code == 2 and "no such config file" in missing.output


def test_export_jsonl_has_the_stable_keys(env: Path, sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with session_scope(engine) as session:
        ids = sync_brands_and_sources(
            session, brands=[BrandSpec("Acme")], sources=[SourceSpec("feed", "feed", "Acme")]
        )
        save_mention(
            session, source_id=ids["feed"], brand_id=1, dedup_key="x", content_hash="h",
            fields={"url": "https://e.example/1", "canonical_url": "https://e.example/1", "text": "Acme rocks"},
        )
    engine.dispose()
    result = runner.invoke(app, ["mentions", "export", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    row = json.loads(line)
    for key in ("id", "brand", "source", "url", "author", "published_at", "title", "text", "language",
                "rating", "rating_best", "sentiment", "sentiment_score", "handled"):
        assert key in row
    assert row["text"] == "Acme rocks" and row["sentiment"] is None
    csv_result = runner.invoke(app, ["mentions", "export", "--format", "csv"])
    assert csv_result.output.splitlines()[0].startswith("id,brand,source")
