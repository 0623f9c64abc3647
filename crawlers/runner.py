"""`run_crawl`: what the command line, the scheduler service and the demo call to crawl.

Each call crawls in a child process (`python -m crawlers.run`) and reads its stats
back. Twisted's reactor cannot be restarted inside one process, so a long-running
caller such as the scheduler could run Scrapy in-process only once; a child process
per call also frees whatever the crawl allocated (lingua's models, Scrapy's queues)
and isolates a crash to one round. The price is a second or two of start-up per call,
nothing next to a crawl's network time.

A cluster worker crawls one source per job, thousands of jobs an hour, and there the
start-up would be most of the cost: `CrawlService` keeps one long-lived crawl process
(`python -m crawlers.serve`) per worker and sends it each crawl.

The child inherits the caller's environment; `settings.database_url`,
`settings.user_agent`, `settings.log_level` and the download size limits are passed
to it explicitly, so a
Settings object built in code (tests, the demo) is honoured. Its log goes to the
caller's stderr.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

from crawlers.stats import CrawlRunStats
from mentionwatch.config import Config
from mentionwatch.settings import Settings


log = logging.getLogger(__name__)


class CrawlFailed(RuntimeError):
    """The crawl process died before it could report (not: a source had errors)."""


def child_env(settings: Settings) -> dict[str, str]:
    """The caller's environment with `settings` written into it, for a crawl process."""
    env = {
        **os.environ,
        "MENTIONWATCH_DATABASE_URL": settings.database_url,
        "MENTIONWATCH_USER_AGENT": settings.user_agent,
        "MENTIONWATCH_LOG_LEVEL": settings.log_level,
    }
    for name in ("download_maxsize", "download_warnsize"):
        if (size := getattr(settings, name)) is not None:
            env[f"MENTIONWATCH_{name.upper()}"] = str(int(size))
    return env


def run_crawl(
    config: Config,
    settings: Settings,
    *,
    source_names: Sequence[str] | None = None,
    scrapy_overrides: Mapping[str, Any] | None = None,
    timeout: float | None = None,
) -> list[CrawlRunStats]:
    """Crawl the configured sources (or only `source_names`) once; one stats row per source.

    Safe to call repeatedly from one long-running process. Raises KeyError for a
    source name not in the config, CrawlFailed when the crawl process died, and
    subprocess.TimeoutExpired after `timeout` seconds. `scrapy_overrides` are Scrapy
    settings laid over `crawlers.settings` (JSON-serializable values).
    """
    for name in source_names or ():
        config.source(name)
    request = {
        "config": config.model_dump(mode="json"),
        "sources": list(source_names) if source_names else None,
        "scrapy_overrides": dict(scrapy_overrides or {}),
    }
    with tempfile.TemporaryDirectory(prefix="mentionwatch-crawl-") as folder:
        stats_file = Path(folder) / "stats.json"
        completed = subprocess.run(
            [sys.executable, "-m", "crawlers.run", "--stats-file", str(stats_file)],
            input=json.dumps(request),
            text=True,
            env=child_env(settings),
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0 or not stats_file.exists():
            raise CrawlFailed(f"the crawl process exited with status {completed.returncode}; see its log above")
        return [CrawlRunStats.from_json(row) for row in json.loads(stats_file.read_text(encoding="utf-8"))]


class _ServeProcess:
    """One `crawlers.serve` child: requests written to its stdin, answers read by a thread."""

    def __init__(self, config: Config, settings: Settings, scrapy_overrides: Mapping[str, Any]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crawlers.serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=child_env(settings),
        )
        self.started = time.monotonic()
        self.pending: dict[int, Future[list[CrawlRunStats]]] = {}
        self.lock = threading.Lock()
        self.retiring = False
        self.exit_status: int | None = None  # set once the answers have ended
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), name="crawl-answers", daemon=True).start()
        setup = {"config": config.model_dump(mode="json"), "scrapy_overrides": dict(scrapy_overrides)}
        try:
            self._write(json.dumps(setup))
        except OSError:  # the child died at start: `alive` says so and the next call starts another
            pass

    @property
    def alive(self) -> bool:
        return self.process.poll() is None and not self.retiring

    def submit(self, number: int, source_names: Sequence[str]) -> Future[list[CrawlRunStats]]:
        future: Future[list[CrawlRunStats]] = Future()
        with self.lock:
            if self.exit_status is not None:
                future.set_exception(self._exited())
                return future
            self.pending[number] = future
        try:
            self._write(json.dumps({"id": number, "sources": list(source_names)}))
        except OSError:  # the child is gone: the reader fails the pending answers
            pass
        return future

    def retire(self) -> None:
        """Take no more requests; the child finishes the crawls under way and exits."""
        self.retiring = True
        assert self.process.stdin is not None
        try:
            self.process.stdin.close()
        except OSError:
            pass

    def _write(self, line: str) -> None:
        assert self.process.stdin is not None
        with self.lock:
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()

    def _read(self, answers: IO[str]) -> None:
        for line in answers:
            try:
                answer = json.loads(line)
                with self.lock:
                    future = self.pending.pop(answer["id"], None)
            except (ValueError, KeyError, TypeError):
                log.error("the crawl process wrote something other than an answer: %.200s", line)
                continue
            if future is None:
                continue
            if "error" in answer:
                future.set_exception(CrawlFailed(f"the crawl failed: {answer['error']}"))
            else:
                future.set_result([CrawlRunStats.from_json(row) for row in answer["stats"]])
        status = self.process.wait()
        with self.lock:
            self.exit_status = status
            lost, self.pending = self.pending, {}
        for future in lost.values():
            future.set_exception(self._exited())

    def _exited(self) -> CrawlFailed:
        return CrawlFailed(f"the crawl process exited with status {self.exit_status}; see its log above")


class CrawlService:
    """A long-lived crawl process shared by a worker's job threads.

    Each `crawl` is a request to the process, answered when the sources' crawls end;
    several run in its reactor at once. A process that died is replaced at the next
    call (the crawls it had under way raise CrawlFailed, and the task engine retries
    them). After `recycle_after` seconds a process takes no new crawls and exits once
    its own are done, while a fresh one takes over: its DNS answers (cached for the
    process's life, so that the egress checks hold) and its memory do not grow old.
    """

    def __init__(
        self,
        config: Config,
        settings: Settings,
        *,
        scrapy_overrides: Mapping[str, Any] | None = None,
        recycle_after: float = 3600.0,
    ) -> None:
        self.config = config
        self.settings = settings
        self.scrapy_overrides = dict(scrapy_overrides or {})
        self.recycle_after = recycle_after
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._child: _ServeProcess | None = None
        self._closed = False

    @property
    def pid(self) -> int | None:
        """The current crawl process's pid (None before the first crawl)."""
        return self._child.process.pid if self._child else None

    def crawl(self, source_names: Sequence[str]) -> list[CrawlRunStats]:
        """Crawl these sources once; one stats row per source, in their order.

        Raises KeyError for a name not in the config, CrawlFailed when the crawl process
        died or could not take the request.
        """
        for name in source_names:
            self.config.source(name)
        with self._lock:
            if self._closed:
                raise CrawlFailed("the crawl service is closed")
            future = self._current().submit(next(self._numbers), source_names)
        return future.result()

    def close(self, timeout: float = 60.0) -> None:
        """Let the crawls under way finish, then end the process (killed after `timeout` s)."""
        with self._lock:
            self._closed = True
            child, self._child = self._child, None
        if child is None:
            return
        child.retire()
        try:
            child.process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("the crawl process did not finish in %.0f s; killed", timeout)
            child.process.kill()
            child.process.wait()

    def _current(self) -> _ServeProcess:
        child = self._child
        if child is not None and child.alive and time.monotonic() - child.started >= self.recycle_after:
            child.retire()
        if child is None or not child.alive:
            child = self._child = _ServeProcess(self.config, self.settings, self.scrapy_overrides)
        return child
