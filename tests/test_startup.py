"""The command line starts fast: the heavy libraries load only in the commands that use them.

`mentionwatch --help` and `mentions search` once took 6 s, importing torch, transformers
and matplotlib for nothing. `python -m benchmarks.startup` prints the times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.startup import COMMANDS, seconds

HEAVY = ("torch", "transformers", "matplotlib", "scrapy", "twisted", "apscheduler", "fastapi", "uvicorn", "psycopg", "slack_sdk")
# Runs a command as the console script does, then lists the heavy modules it imported.
PROBE = f"""
import json, sys
from mentionwatch.cli import app
try:
    app(sys.argv[1:], prog_name="mentionwatch")
except SystemExit:
    pass
print("HEAVY=" + json.dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)
"""
LIGHT_COMMANDS = [
    ["--help"],
    ["mentions", "search", "kurier*"],
    ["mentions", "--help"],
    ["alerts", "list"],
    ["sentiment", "--help"],
    ["api-token", "list"],
]


@pytest.fixture
def env(tmp_path: Path, sqlite_url: str) -> dict[str, str]:
    (tmp_path / "mentionwatch.toml").write_text('[[brands]]\nname = "Acme"\n', encoding="utf-8")
    return {**os.environ, "MENTIONWATCH_DATABASE_URL": sqlite_url, "MENTIONWATCH_CONFIG": str(tmp_path / "mentionwatch.toml")}


def imported_heavy(args: list[str], env: dict[str, str]) -> list[str]:
    run = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, timeout=300)
    marker = [line for line in run.stderr.splitlines() if line.startswith("HEAVY=")]
    assert marker, run.stderr
    return json.loads(marker[0].removeprefix("HEAVY="))  # type: ignore[no-any-return]


@pytest.mark.parametrize("args", LIGHT_COMMANDS, ids=" ".join)
def test_light_commands_do_not_import_the_heavy_libraries(args: list[str], env: dict[str, str]) -> None:
    assert imported_heavy(args, env) == []


def test_the_probe_sees_a_command_that_does_import_them(env: dict[str, str]) -> None:
    # `check` builds each source's first requests with the spiders: it needs Scrapy.
    config = Path(env["MENTIONWATCH_CONFIG"])
    config.write_text(
        config.read_text(encoding="utf-8")
        + '[[sources]]\nname = "feed"\nbrand = "Acme"\ntype = "feed"\nurls = ["https://example.com/feed.xml"]\n',
        encoding="utf-8",
    )
    assert "scrapy" in imported_heavy(["check"], env)


@pytest.mark.slow
def test_help_and_search_start_about_as_fast_as_their_libraries_import(env: dict[str, str], tmp_path: Path) -> None:
    def cpu_seconds(args: list[str]) -> float:
        # CPU (user + system) time: on a busy machine wall-clock time says more about the neighbours.
        return min(seconds(args, env, tmp_path)[1] for _ in range(3))

    floor = cpu_seconds(COMMANDS["import typer, rich, sqlalchemy, pydantic"])
    for name in ("mentionwatch --help", "mentionwatch mentions search ''"):
        took = cpu_seconds(COMMANDS[name])
        # Importing torch and transformers alone takes several seconds; the store's models,
        # migrations and queries take some.
        assert took < 3 * floor + 0.5, f"{name}: {took:.2f} s of CPU, the libraries {floor:.2f} s"
