"""The real command line in child processes: killed mid-batch, stopped by SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlmodel import select

from store.db import session_scope
from store.models import AlertOutbox, OutboxStatus
from tests.alerts.conftest import World, add_mention, config_toml, posted_mention_ids
from tests.fakes.slack_api import Fault

CLI = [sys.executable, "-c", "from mentionwatch.cli import app; app()"]


class Child:
    """A `mentionwatch` process whose output is collected as it comes."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, condition: Callable[[], bool], timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None and not condition():
                raise AssertionError(f"exited with {self.process.returncode} first:\n{self.output}")
            assert time.monotonic() < deadline, f"timed out; output so far:\n{self.output}"
            time.sleep(0.05)

    def finish(self, timeout: float = 120.0) -> int:
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code


@contextmanager
def child(args: list[str], env: dict[str, str]) -> Iterator[Child]:
    process = Child(args, env)
    try:
        yield process
    finally:
        if process.process.poll() is None:
            process.process.kill()
            process.process.wait()


def child_env(world: World, tmp_path: Path, *, slack: bool = True, sources: bool = True) -> dict[str, str]:
    config = tmp_path / "mentionwatch.toml"
    config.write_text(config_toml(sources=sources), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTIONWATCH_")}
    env |= {
        "MENTIONWATCH_DATABASE_URL": world.settings.database_url,
        "MENTIONWATCH_CONFIG": str(config),
        "COLUMNS": "120",
    }
    if slack:
        env |= {"MENTIONWATCH_SLACK_TOKEN": world.slack.token, "MENTIONWATCH_SLACK_BASE_URL": world.slack.base_url}
    return env


def statuses(world: World) -> Counter[str]:
    with session_scope(world.engine) as session:
        return Counter(row.status for row in session.exec(select(AlertOutbox).where(AlertOutbox.kind == "mention")))


@pytest.mark.slow  # two CLI start-ups: about a minute on a busy machine
def test_fault_a_sender_killed_between_posting_and_recording_loses_and_doubles_nothing(
    world: World, tmp_path: Path
) -> None:
    ids = [add_mention(world.engine, brand=brand) for brand in ("Acme", "Globex", "Initech") for _ in range(3)]
    # The 5th post is stored by Slack, and its answer held: the sender is killed waiting for it.
    world.slack.inject("chat.postMessage", None, None, None, None, Fault.hold())
    env = child_env(world, tmp_path)

    with child(["alerts", "send"], env) as first:
        first.wait_for(world.slack.held.is_set)
        os.kill(first.process.pid, signal.SIGKILL)
        assert first.finish() == -signal.SIGKILL
    world.slack.release()
    # Four recorded; the batch's other five still claimed, one of them posted but not recorded.
    assert statuses(world) == Counter({OutboxStatus.sent: 4, OutboxStatus.sending: 5})
    with session_scope(world.engine) as session:
        started = session.exec(
            select(AlertOutbox).where(AlertOutbox.status == "sending", AlertOutbox.attempts > 0)
        ).all()
    assert len(started) == 1
    assert len(world.slack.messages()) == 5

    with child(["alerts", "send", "--reclaim-after", "0"], env) as second:
        assert second.finish() == 0, second.output

    assert posted_mention_ids(world.slack) == Counter({i: 1 for i in ids})
    assert statuses(world) == Counter({OutboxStatus.sent: 9})
    assert "sent 5 (1 found already posted)" in second.output


@pytest.mark.slow  # two CLI start-ups and the wait for the dead sender's heartbeat to go stale
def test_fault_run_restarted_after_a_sigkill_mid_send_posts_the_claimed_alerts_within_a_minute_once(
    world: World, tmp_path: Path
) -> None:
    ids = [add_mention(world.engine, brand=brand) for brand in ("Acme", "Globex", "Initech") for _ in range(3)]
    world.slack.inject("chat.postMessage", None, None, None, None, Fault.hold())
    env = child_env(world, tmp_path, sources=False)
    env["MENTIONWATCH_SENTIMENT_MODEL"] = str(tmp_path / "no-such-model")  # nothing to score here

    with child(["alerts", "send"], env) as crashed:
        crashed.wait_for(world.slack.held.is_set)
        os.kill(crashed.process.pid, signal.SIGKILL)
        assert crashed.finish() == -signal.SIGKILL
    world.slack.release()
    assert statuses(world)[OutboxStatus.sending] == 5  # claimed by the dead sender, one of them posted

    restarted_at = time.monotonic()
    with child(["run"], env) as service:
        service.wait_for(lambda: statuses(world) == Counter({OutboxStatus.sent: 9}), timeout=90)
        took = time.monotonic() - restarted_at
        service.process.send_signal(signal.SIGTERM)
        assert service.finish(timeout=60) == 0, service.output

    assert took < 60, f"the claimed alerts went out {took:.0f} s after the restart"
    assert posted_mention_ids(world.slack) == Counter({i: 1 for i in ids})
    # All five, at once or in two goes (the row whose post started was marked later).
    taken = re.findall(r"taking over (\d+) alerts of a sender that stopped", " ".join(service.output.split()))
    assert sum(map(int, taken)) == 5, service.output


@pytest.mark.slow  # a CLI start-up
def test_run_alerts_survives_a_failing_job_and_stops_cleanly_on_sigterm(world: World, tmp_path: Path) -> None:
    add_mention(world.engine, text="Zepsuty czajnik, nie polecam", language="pl")
    env = child_env(world, tmp_path, slack=False, sources=False)
    env["MENTIONWATCH_SENTIMENT_MODEL"] = str(tmp_path / "no-such-model")  # the score job fails each run

    with child(["run"], env) as service:
        service.wait_for(lambda: "Zepsuty czajnik" in service.output and "job score failed" in service.output)
        service.process.send_signal(signal.SIGTERM)
        code = service.finish(timeout=60)

    assert code == 0, service.output
    assert "Negative mention of Acme on acme-reviews" in service.output
    assert "received SIGTERM" in service.output and "mentionwatch service stopped" in service.output
    # It says what is off, and APScheduler's INFO lines (every job's start and end) stay out.
    assert "Alerts print to the console" in service.output and "Weekly digests are off" in service.output
    assert "Running job" not in service.output and "executed successfully" not in service.output
    health = re.search(r"health: crawled=0 scored=0 alerted=1 failed=(\d+)", service.output)
    assert health is not None and int(health.group(1)) >= 1  # the score job's runs
    assert statuses(world) == Counter({OutboxStatus.sent: 1})
