"""The command line starts fast: the heavy libraries load only in the commands that use them.

`mentionwatch --help` and `mentions search` once took 6 s, importing torch, transformers
and matplotlib for nothing. `python -m benchmarks.startup` prints the times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

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
    assert "scrapy" in imported_heavy(["check"], env)


def fastest(args: list[str], env: dict[str, str], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, *args], env=env, capture_output=True, check=True, timeout=300)
        times.append(time.perf_counter() - started)
    return min(times)


@pytest.mark.slow
def test_help_and_search_start_about_as_fast_as_their_libraries_import(env: dict[str, str]) -> None:
    floor = fastest(["-c", "import typer, rich, sqlalchemy, pydantic"], env)
    cli = "import sys; from mentionwatch.cli import app; sys.exit(app(prog_name='mentionwatch'))"
    for args in (["--help"], ["mentions", "search", ""]):
        took = fastest(["-c", cli, *args], env)
        # Generous for a busy machine; importing torch and transformers alone takes several seconds.
        assert took < 4 * floor + 1.0, f"mentionwatch {' '.join(args)}: {took:.2f} s, libraries {floor:.2f} s"
