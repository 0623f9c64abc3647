"""The scheduler service: one instance per job, failures survived, a health line, clean stops."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlmodel import select

import tests.digest.smtp_server as smtp_server_module
from mentionwatch.config import parse_config
from mentionwatch.service import Counts, Service, ServiceJob, digest_jobs
from mentionwatch.settings import Settings
from store.db import session_scope
from store.models import DigestLog
from tests.alerts.conftest import sync
from tests.digest.smtp_server import smtp_server


class FakeJob:
    """A job callable that records its runs and how many ran at once."""

    def __init__(self, seconds: float = 0.0, result: Counts = Counts(), fail: bool = False) -> None:
        self.seconds, self.result, self.fail = seconds, result, fail
        self.runs = 0
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def __call__(self) -> Counts:
        with self._lock:
            self.runs += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            time.sleep(self.seconds)
            if self.fail:
                raise RuntimeError("the source is down")
            return self.result
        finally:
            with self._lock:
                self.running -= 1


def every(seconds: float) -> IntervalTrigger:
    return IntervalTrigger(seconds=seconds)


def run_for(service: Service, seconds: float) -> None:
    """Run the service in this (the main) thread, as `mentionwatch run` does, then stop it."""
    threading.Timer(seconds, service.stop).start()
    service.run_until_stopped()


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_slow_job_runs_one_instance_at_a_time_and_missed_runs_coalesce() -> None:
    slow = FakeJob(seconds=0.5)
    service = Service([ServiceJob("slow", slow, every(0.1))])

    run_for(service, 2.0)

    assert slow.most_at_once == 1
    # Every 0.1 s for 2 s would be 20 runs; busy 0.5 s each, at most about 4 fit.
    assert 2 <= slow.runs <= 5


def test_a_failing_job_is_logged_and_retried_while_the_others_go_on(caplog: pytest.LogCaptureFixture) -> None:
    failing = FakeJob(fail=True)
    working = FakeJob(result=Counts(alerted=1))
    service = Service(
        [ServiceJob("failing", failing, every(0.1)), ServiceJob("working", working, every(0.1))], health_interval=0.5
    )

    with caplog.at_level(logging.INFO, logger="mentionwatch.service"):
        run_for(service, 1.2)

    assert failing.runs >= 3 and working.runs >= 3
    messages = [r.getMessage() for r in caplog.records]
    assert sum("job failing failed; it runs again at its next time" in m for m in messages) == failing.runs
    health = [m for m in messages if m.startswith("health: ")]
    assert len(health) >= 2  # one per interval, one at the stop
    totals = [int(part.split("=")[1]) for line in health for part in line.split()[1:] if part.startswith("failed=")]
    assert sum(totals) == failing.runs
    assert messages[-1] == "mentionwatch service stopped"


def test_a_job_that_did_something_wakes_the_job_that_uses_its_output() -> None:
    crawl = FakeJob(result=Counts(crawled=3))
    score = FakeJob()
    service = Service(
        [
            ServiceJob("crawl", crawl, every(3600), wakes="score"),
            ServiceJob("score", score, every(3600), run_at_start=False),
        ]
    )
    service.start()
    try:
        wait_for(lambda: score.runs == 1)
    finally:
        service.stop()
        service.scheduler.shutdown(wait=True)
    assert crawl.runs == 1


def test_stop_waits_for_the_running_job_to_finish() -> None:
    long = FakeJob(seconds=0.8)
    service = Service([ServiceJob("long", long, every(60))])

    run_for(service, 0.3)

    assert long.runs == 1 and long.running == 0


WARSAW = ZoneInfo("Europe/Warsaw")


def test_a_failed_digest_is_retried_every_hour_from_monday_seven_until_it_is_sent(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    config = parse_config(
        '[[brands]]\nname = "Acme"\ntimezone = "Europe/Warsaw"\ndigest_recipients = ["cx@acme.example"]\n'
    )
    sync(sqlite_engine, config)
    port = smtp_server_module._free_port()
    monkeypatch.setattr(smtp_server_module, "_free_port", lambda: port)  # the server comes back on the same port
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    (job,) = digest_jobs(sqlite_engine, settings, config)
    monday = datetime(2026, 11, 23, tzinfo=WARSAW)

    # On time: the job's hours in the brand's zone, Monday 07:00 the first with a week due.
    fire = job.trigger.get_next_fire_time(None, monday + timedelta(hours=6, minutes=30))
    assert fire == monday + timedelta(hours=7)
    assert job.trigger.get_next_fire_time(fire, fire + timedelta(seconds=1)) == monday + timedelta(hours=8)
    with time_machine.travel(monday + timedelta(hours=7), tick=False):
        assert job.func() == Counts(failed=1)  # the mail server is down
    assert "the Acme digest is tried again at the next full hour" in caplog.text
    with smtp_server(tmp_path) as server, time_machine.travel(monday + timedelta(hours=8), tick=True):
        assert job.func() == Counts()
        assert job.func() == Counts()  # the next hours: sent once
    (mail,) = server.received
    assert "week 47" in str(mail.message["Subject"])
    with session_scope(sqlite_engine) as session:
        assert [row.week for row in session.exec(select(DigestLog))] == ["2026-W47"]
