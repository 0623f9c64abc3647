"""A worker's long-lived crawl process: `python -m crawlers.serve`, driven by crawlers.runner.CrawlService.

A cluster worker crawls one source per job, thousands of jobs an hour. A process per
crawl (crawlers.run) pays Scrapy's imports and the language detector's models, several
CPU-seconds, for every crawl of a feed that parses in milliseconds; this process pays
them once, keeps its reactor running and crawls each request as it arrives, several at
once.

Its stdin carries JSON lines: first {"config": ..., "scrapy_overrides": {...}}, then one
{"id": N, "sources": [...]} per crawl. Each answer is one JSON line, {"id": N, "stats":
[...]} or {"id": N, "error": "..."}, on the stdout the process was started with; what
else it prints goes to stderr, so a stray print cannot break an answer. At the end of
its stdin it finishes the crawls under way and exits; it also exits when the process
that started it dies, even by SIGKILL (crawlers.run.exit_with_parent).

The store's brands and sources are written once, at start: the config is the process's
for life, and the runner starts a new process for another config.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.utils.reactor import install_reactor
from twisted.internet import defer, threads
from twisted.python.failure import Failure

from crawlers.job import SourceJob
from crawlers.run import crawler_process, exit_with_parent, finish, in_order, prepare_jobs, sync_store
from crawlers.stats import CrawlRunStats
from mentionwatch.config import Config
from mentionwatch.settings import Settings

log = logging.getLogger(__name__)


class CrawlServer:
    """Takes requests from a reader thread, crawls them in the reactor, writes each answer."""

    def __init__(
        self, process: CrawlerProcess, config: Config, settings: Settings, ids: Mapping[str, int], replies: IO[str]
    ) -> None:
        self.process = process
        self.config = config
        self.settings = settings
        self.ids = ids
        self.replies = replies
        self.active = 0
        self.closing = False

    def read(self, lines: Iterable[str]) -> None:
        """Runs in its own thread: hands every request line to the reactor, then the end of input."""
        from twisted.internet import reactor

        for line in lines:
            if line.strip():
                reactor.callFromThread(self.start, line)
        reactor.callFromThread(self.close)

    def start(self, line: str) -> None:
        try:
            request = json.loads(line)
            number, names = request["id"], request["sources"]
        except (ValueError, KeyError, TypeError):
            log.error("a crawl request without an id or sources was ignored: %.200s", line)
            return
        self.active += 1
        answer = defer.maybeDeferred(self._crawl, names)
        answer.addErrback(lambda failure: {"error": failure.getErrorMessage() or repr(failure.value)})
        answer.addCallback(self._reply, number)
        answer.addBoth(self._done)

    @defer.inlineCallbacks
    def _crawl(self, names: Sequence[str]) -> Any:
        jobs, skipped = yield threads.deferToThread(prepare_jobs, self.config, self.settings, names, self.ids)
        running: list[tuple[SourceJob, Crawler]] = [
            (job, self.process.create_crawler(job.source.kind.spider)) for job in jobs
        ]
        outcomes = yield defer.DeferredList(
            [self.process.crawl(crawler, job=job) for job, crawler in running], consumeErrors=True
        )
        for (job, _), (ok, failure) in zip(running, outcomes, strict=True):
            if not ok:  # recorded by `finish` like the others, with the stats it has
                log.error("source=%s: the crawl failed: %s", job.source.name, failure.getTraceback())
        done: list[CrawlRunStats] = yield threads.deferToThread(
            lambda: [finish(self.settings, job, crawler) for job, crawler in running]
        )
        return {"stats": [row.to_json() for row in in_order([*skipped, *done], names)]}

    def _reply(self, answer: dict[str, Any], number: int) -> None:
        answer["id"] = number
        self.replies.write(json.dumps(answer) + "\n")
        self.replies.flush()

    def _done(self, result: Any) -> None:
        self.active -= 1
        if isinstance(result, Failure):  # the answer could not be written: the runner is gone
            log.error("crawl answer lost: %s", result.getErrorMessage())
        self._stop_if_idle()

    def close(self) -> None:
        self.closing = True
        self._stop_if_idle()

    def _stop_if_idle(self) -> None:
        from twisted.internet import reactor

        if self.closing and not self.active and reactor.running:
            reactor.stop()


def main() -> int:
    exit_with_parent()
    # Ctrl-C in a terminal reaches the whole process group: the worker decides when this
    # process ends (by closing its stdin), so that crawls under way finish and report.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    setup = json.loads(sys.stdin.readline())
    config = Config.model_validate(setup["config"])
    settings = Settings()
    ids = sync_store(config, settings)
    process = crawler_process(config, settings, setup.get("scrapy_overrides"))
    # Scrapy installs its reactor with the first crawler; the request thread needs it now.
    install_reactor(process.settings["TWISTED_REACTOR"], process.settings["ASYNCIO_EVENT_LOOP"])
    server = CrawlServer(process, config, settings, ids, replies)
    threading.Thread(target=server.read, args=(sys.stdin,), name="crawl-requests", daemon=True).start()
    process.start(stop_after_crawl=False, install_signal_handlers=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
