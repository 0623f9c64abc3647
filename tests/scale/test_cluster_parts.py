"""The cluster's parts on a real PostgreSQL: due sources, host slots, the commands' refusals."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from mentionwatch.cli import app
from mentionwatch.cluster.app import build_app
from mentionwatch.cluster.due import CRAWL_TASK, due_sources
from mentionwatch.cluster.host_slots import HostSlots, source_hosts
from mentionwatch.cluster.workers import retry_stalled_jobs
from mentionwatch.config import parse_config, sync_config
from store.db import alembic_config, session_scope, upgrade
from store.models import CrawlRun, utcnow
from store.queries import get_source

pytestmark = pytest.mark.postgres
runner = CliRunner()

CONFIG = parse_config(
    """
[[brands]]
name = "Acme"
[[sources]]
name = "hourly"
brand = "Acme"
type = "feed"
urls = ["https://News.example/feed.xml", "https://blog.example/rss"]
interval = "1h"
[[sources]]
name = "daily"
brand = "Acme"
type = "feed"
urls = ["https://news.example/other.xml"]
interval = "1d"
"""
)


def _sync(engine: Engine) -> None:
    sync_config(engine, CONFIG)


def _crawled(engine: Engine, name: str, ago: timedelta, refused: dict[str, int] | None = None) -> None:
    with session_scope(engine) as session:
        source = get_source(session, name=name)
        assert source is not None and source.id is not None
        session.add(CrawlRun(source_id=source.id, started_at=utcnow() - ago, finished_at=utcnow() - ago, errors=len(refused or {}), refused=refused))


def _job(engine: Engine, source: str, status: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status)"
                " VALUES ('crawl', :task, jsonb_build_object('source', CAST(:source AS text)), :status)"
            ),
            {"task": CRAWL_TASK, "source": source, "status": status},
        )


def test_a_source_is_due_after_its_interval_unless_a_crawl_of_it_waits_or_runs(postgres_engine: Engine) -> None:
    _sync(postgres_engine)
    now = utcnow()
    assert due_sources(postgres_engine, CONFIG, now=now) == ["hourly", "daily"]  # never crawled

    _crawled(postgres_engine, "hourly", timedelta(minutes=59))
    _crawled(postgres_engine, "daily", timedelta(hours=2))
    assert due_sources(postgres_engine, CONFIG, now=now) == []
    assert due_sources(postgres_engine, CONFIG, now=now + timedelta(minutes=2)) == ["hourly"]

    _job(postgres_engine, "hourly", "doing")
    assert due_sources(postgres_engine, CONFIG, now=now + timedelta(minutes=2)) == []


def test_a_source_whose_crawl_job_failed_for_good_waits_its_interval_too(postgres_engine: Engine) -> None:
    _sync(postgres_engine)
    _job(postgres_engine, "daily", "todo")
    with postgres_engine.begin() as connection:  # the engine's trigger records the failure's time
        connection.execute(text("UPDATE procrastinate_jobs SET status = 'doing'"))
        connection.execute(text("UPDATE procrastinate_jobs SET status = 'failed'"))
    now = utcnow()
    assert due_sources(postgres_engine, CONFIG, now=now) == ["hourly"]
    assert due_sources(postgres_engine, CONFIG, now=now + timedelta(days=1, minutes=1)) == ["hourly", "daily"]


def test_host_slots_let_n_crawls_of_a_host_run_at_once_across_connections(postgres_engine: Engine) -> None:
    assert source_hosts(CONFIG.source("hourly")) == {"news.example", "blog.example"}
    slots = HostSlots(postgres_engine, per_host=2, poll=0.05)
    inside = 0
    most = 0
    lock = threading.Lock()

    def crawl() -> None:
        nonlocal inside, most
        with slots.hold(["news.example", "blog.example"]):
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.3)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=crawl) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert most == 2
    with postgres_engine.connect() as connection:  # every slot given back
        assert connection.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")).scalar() == 0


@pytest.mark.parametrize("command", [["worker"], ["status"]])
def test_the_cluster_commands_need_postgresql(
    command: list[str], monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", sqlite_url)
    config = tmp_path / "mw.toml"
    config.write_text('[[brands]]\nname = "Acme"\n', encoding="utf-8")
    result = runner.invoke(app, ["--config", str(config), *command])
    assert result.exit_code == 2
    assert "workers share their work through PostgreSQL" in result.output


def test_worker_refuses_an_unknown_queue(monkeypatch: pytest.MonkeyPatch, postgres_url: str) -> None:
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", postgres_url)
    result = runner.invoke(app, ["worker", "--queues", "crawl,mail"])
    assert result.exit_code == 2
    assert "mail: choose from crawl,score,alert,digest" in result.output


def test_status_shows_each_source_and_says_when_no_worker_runs(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str, postgres_engine: Engine
) -> None:
    _sync(postgres_engine)
    _crawled(postgres_engine, "daily", timedelta(minutes=5), refused={"169.254.169.254:80": 1})
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", postgres_url)
    monkeypatch.setenv("COLUMNS", "250")
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    assert "workers (0 alive): none" in result.output
    assert "queues: none" in result.output
    daily = next(line for line in result.output.splitlines() if "daily" in line)
    hourly = next(line for line in result.output.splitlines() if "hourly" in line)
    assert str(utcnow().year) in daily and str(utcnow().year) not in hourly
    # What the egress rules refused on a worker shows wherever status is asked.
    assert '{"169.254.169.254:80": 1}' in daily
    report = json.loads(runner.invoke(app, ["status", "--json"]).output)
    assert next(row for row in report["sources"] if row["source"] == "daily")["refused"] == {"169.254.169.254:80": 1}


def test_migration_0007_downgrades_the_task_queue_away_and_back(postgres_engine: Engine) -> None:
    def leftovers() -> int:
        with postgres_engine.connect() as connection:
            return int(
                connection.execute(
                    text(
                        "SELECT (SELECT count(*) FROM pg_proc WHERE starts_with(proname, 'procrastinate'))"
                        " + (SELECT count(*) FROM pg_type WHERE starts_with(typname, 'procrastinate'))"
                        " + (SELECT count(*) FROM pg_tables WHERE starts_with(tablename, 'procrastinate')"
                        " OR tablename = 'worker_processes')"
                    )
                ).scalar_one()
            )

    assert leftovers() > 0
    command.downgrade(alembic_config(postgres_engine), "0006_sources")
    assert leftovers() == 0
    upgrade(postgres_engine)
    assert leftovers() > 0
    assert due_sources(postgres_engine, CONFIG, now=utcnow()) == ["hourly", "daily"]  # reads the jobs table again


def test_a_dead_workers_job_is_queued_again_or_gives_way_to_the_same_work_waiting(postgres_url: str, postgres_engine: Engine) -> None:
    def insert(status: str, channel: str) -> None:
        key = f"send_channel_alerts:{channel}"
        with postgres_engine.begin() as connection:  # no worker_id: its worker is gone
            connection.execute(
                text(
                    "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, lock, queueing_lock)"
                    " VALUES ('alert', 'send_channel_alerts', '{}', :status, :key, :key)"
                ),
                {"status": status, "key": key},
            )

    insert("doing", "#alone")
    insert("doing", "#busy")
    insert("todo", "#busy")  # queued again by a dispatcher while the dead job held the lock

    async def reap() -> int:
        app = build_app(postgres_url)
        async with app.open_async():
            return await retry_stalled_jobs(app)

    assert asyncio.run(reap()) == 2
    with postgres_engine.connect() as connection:
        rows = connection.execute(text("SELECT lock, status FROM procrastinate_jobs ORDER BY id")).all()
    assert [tuple(row) for row in rows] == [
        ("send_channel_alerts:#alone", "todo"),
        ("send_channel_alerts:#busy", "aborted"),
        ("send_channel_alerts:#busy", "todo"),
    ]
