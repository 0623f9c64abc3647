"""The analyst commands end to end: search, handle, relabel, sql, api-token, api."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from mentionwatch.cli import app
from store.db import make_engine, upgrade
from tests.analyst.sample_store import fill_sample_store

runner = CliRunner()


@pytest.fixture
def ids(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path) -> dict[str, int]:
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("COLUMNS", "250")  # a wide terminal, so that table cells are not folded
    monkeypatch.chdir(tmp_path)
    engine = make_engine(sqlite_url)
    filled = fill_sample_store(engine)
    engine.dispose()
    return filled


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_search_prints_a_table_and_streams_machine_formats(ids: dict[str, int]) -> None:
    code, output = _run("mentions", "search", "доставк*", "--language", "ru", "--since", "2026-10-01",
                        "--until", "2026-10-31")
    assert code == 0, output
    assert "Доставку задержали" in output and "Ёлку привезли" in output and "Dostawa" not in output
    code, output = _run("mentions", "search", "kurier*", "--sentiment", "negative", "--format", "jsonl")
    rows = [json.loads(line) for line in output.splitlines()]
    assert [r["id"] for r in rows] == [ids["acme-1"], ids["pl-late"]]
    assert rows[1]["brand"] == "Zamówko" and rows[1]["published_at"].startswith("2026-11-03T18:00")
    code, output = _run("mentions", "search", "", "--state", "responded", "--format", "csv")
    (row,) = list(csv.DictReader(io.StringIO(output)))
    assert row["response_url"] == "https://forum.example/t/1#p2" and row["response_seconds"] == "9000.0"
    code, output = _run("mentions", "search", "--brand", "Acme", "--format", "json")
    assert [r["text"] for r in json.loads(output)] == ["Acme kurier zgubił paczkę"]
    code, output = _run("mentions", "search", "nothing-like-this", "--format", "json")
    assert json.loads(output) == []


def test_search_errors_are_one_clear_line_and_exit_2(ids: dict[str, int]) -> None:
    code, output = _run("mentions", "search", "kurier NEAR/x paczka")
    assert code == 2
    assert "bad query: column 8: expected NEAR/n" in output
    assert "       ^" in output  # the caret under column 8
    code, output = _run("mentions", "search", "kurier", "--brand", "Acne")
    assert code == 2 and "unknown brand 'Acne' (known: Acme, Zamówko)" in output


def test_table_says_when_it_shows_only_the_newest(ids: dict[str, int]) -> None:
    code, output = _run("mentions", "search", "--limit", "2")
    assert code == 0 and "Showing the newest 2" in output


def test_handle_and_relabel(ids: dict[str, int]) -> None:
    mention = str(ids["pl-late"])
    code, output = _run("mentions", "handle", mention, "--responded", "https://shop.example/r/2", "--by", "ola")
    assert code == 0, output
    assert f"mention {mention}: responded by ola, first answered" in output
    code, output = _run("mentions", "handle", mention, "--ignored", "--acknowledged")
    assert code == 2 and "exactly one of" in output
    code, output = _run("mentions", "handle", mention, "--responded", "answered by phone")
    assert code == 2 and "http(s) URL" in output
    code, output = _run("mentions", "handle", "99999", "--acknowledged")
    assert code == 2 and "no mention with id 99999" in output
    code, output = _run("mentions", "relabel", mention, "neutral", "--by", "kasia")
    assert code == 0 and "sentiment neutral" in output
    code, output = _run("mentions", "search", "", "--sentiment", "neutral", "--format", "jsonl")
    assert ids["pl-late"] in [json.loads(line)["id"] for line in output.splitlines()]
    code, output = _run("mentions", "relabel", mention, "angry")
    assert code == 2


def test_sql_reads_and_refuses_writes(ids: dict[str, int]) -> None:
    code, output = _run("sql", "SELECT brand, count(*) AS n FROM mention_view GROUP BY brand ORDER BY brand",
                        "--format", "csv")
    assert code == 0, output
    assert output.splitlines() == ["brand,n", "Acme,1", "Zamówko,7"]
    code, output = _run("sql", "DELETE FROM mentions")
    assert code == 2 and "only reading queries are allowed" in output
    code, output = _run("sql", "SELECT 1; DROP TABLE mentions")
    assert code == 2 and "one statement at a time" in output
    code, output = _run("sql", "SELECT count(*) AS n FROM mentions", "--format", "jsonl")
    assert json.loads(output) == {"n": 8}


def test_sql_neither_migrates_nor_creates_the_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine, "0003")
    engine.dispose()
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", f"sqlite:///{path}")
    code, output = _run("sql", "SELECT version_num FROM alembic_version", "-f", "csv")
    assert (code, output.splitlines()) == (0, ["version_num", "0003"])
    code, output = _run("sql", "SELECT count(*) FROM daily_metrics")  # a table of migration 0004
    assert code == 2 and "no such table: daily_metrics" in output
    missing = tmp_path / "missing" / "store.db"
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", f"sqlite:///{missing}")
    code, output = _run("sql", "SELECT 1")
    assert code == 2 and "no store at" in output and not missing.parent.exists()


def test_sql_uses_its_own_database_url_a_time_limit_and_a_row_limit(
    ids: dict[str, int], monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'service-only.db'}")
    monkeypatch.setenv("MENTIONWATCH_SQL_DATABASE_URL", sqlite_url)
    numbers = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500) SELECT i FROM n"
    code, output = _run("sql", numbers)
    assert code == 0 and "│ 1000 │" in output and "│ 1001 │" not in output
    assert "Showing the first 1000 rows; --limit N or --format csv for more." in output
    code, output = _run("sql", numbers, "-f", "csv")
    assert len(output.splitlines()) == 1501 and "Showing" not in output
    code, output = _run("sql", numbers, "-f", "jsonl", "--limit", "3")
    rows = [json.loads(line)["i"] for line in output.splitlines() if line.startswith("{")]
    assert rows == [1, 2, 3] and "Showing the first 3 rows" in output
    code, output = _run("sql", "SELECT count(*) FROM mention_view", "-f", "csv")
    assert output.splitlines()[1] == "8"
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) FROM n"
    code, output = _run("sql", endless, "--timeout", "0.5")
    assert code == 2 and "ran longer than 0.5 s" in output
    assert not (tmp_path / "service-only.db").exists()


def test_api_tokens_create_list_revoke(ids: dict[str, int]) -> None:
    code, output = _run("api-token", "create", "--name", "looker")
    assert code == 0
    secret = output.splitlines()[0]
    assert secret.startswith("mw_") and len(secret) > 40
    code, output = _run("api-token", "list")
    assert "looker" in output and "read" in output and secret not in output
    code, output = _run("api-token", "revoke", "looker")
    assert code == 0 and "Revoked 1" in output
    code, output = _run("api-token", "revoke", "looker")
    assert code == 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_api_command_serves_on_loopback(ids: dict[str, int], sqlite_url: str) -> None:
    code, output = _run("api-token", "create", "--name", "bot", "--scope", "write")
    secret = output.splitlines()[0]
    port = _free_port()
    env = {**os.environ, "MENTIONWATCH_DATABASE_URL": sqlite_url}
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("mentionwatch")), "api", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            try:
                if httpx.get(f"{base}/docs").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        response = httpx.get(f"{base}/mentions", params={"q": "lodz"}, headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200, response.text
        assert [m["id"] for m in response.json()["items"]] == [ids["pl-late"]]
    finally:
        server.terminate()
        server.wait(timeout=10)
