"""The cluster's tasks: dispatchers that turn the config into jobs, and the jobs.

Dispatchers run every DISPATCH_EVERY on every worker's clock, but the task engine
defers each periodic run once for the whole cluster, and their locks keep one of a
kind running at a time. The jobs and their guarantees:

- crawl_source: one job per due source; its lock means a source is never crawled by
  two workers at once; it holds a host slot (host_slots) for the crawl, which runs in
  the worker's long-lived crawl process (crawlers.runner.CrawlService).
- score_batch: one batch of the backlog; PostgreSQL's SKIP LOCKED keeps two batches
  from scoring the same mention.
- send_channel_alerts: one channel's due alerts; its lock means one sender per
  channel in the cluster, so Slack's one message per second per channel holds; the
  outbox's claims keep each alert single.
- send_digests: the weekly digests, hourly; the digest log mails each week once.

Blocking work runs in threads (`asyncio.to_thread`) so one worker runs `--concurrency`
jobs at once. A crawl that raises is retried (CRAWL_RETRY); a job whose worker died is
given back by the surviving workers (mentionwatch.cluster.workers).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.job_context import JobContext

from alerts import outbox
from alerts.digest import send_weekly_digests
from alerts.sender import SendPolicy, send_alerts
from mentionwatch.cluster.deps import WorkerDeps
from mentionwatch.cluster.due import CRAWL_TASK, due_sources
from mentionwatch.cluster.host_slots import source_hosts
from mentionwatch.scoring import score_pending
from store.db import session_scope
from store.models import utcnow
from store.queries import count_to_score

log = logging.getLogger(__name__)

DISPATCH_EVERY = "* * * * * */10"  # cron with seconds: every 10 s
DIGEST_EVERY = "0 * * * *"  # hourly: Monday 07:00 in each brand's zone, then retries
# A crawl that raised is tried again 30 s later, three times at most. Scoring batches and
# alert senders are not retried: the next tick queues the same work again (the mentions
# are still unscored, the alerts still due), and a retry would collide with that job.
CRAWL_RETRY = procrastinate.RetryStrategy(max_attempts=3, wait=30)
# Scoring batches waiting at a time; the dispatcher tops them up on each tick.
MAX_WAITING_BATCHES = 64


def _deps(context: JobContext) -> WorkerDeps:
    deps = (context.additional_context or {}).get("deps")
    if not isinstance(deps, WorkerDeps):
        raise RuntimeError("mentionwatch tasks run in `mentionwatch worker`, which passes their dependencies")
    return deps


async def defer_once(app: procrastinate.App, task: str, *, key: str | None = None, **kwargs: Any) -> bool:
    """Defer `task`; False when the same one already waits.

    Without `key` the task's own locks apply; with one (a source, a channel) one job per
    key waits and one runs, while other keys' jobs run side by side.
    """
    locks = {} if key is None else {"lock": f"{task}:{key}", "queueing_lock": f"{task}:{key}"}
    try:
        await app.configure_task(task, allow_unknown=False, **locks).defer_async(**kwargs)
    except AlreadyEnqueued:
        return False
    return True


async def wake(app: procrastinate.App, dispatcher: str) -> None:
    """Run `dispatcher` now rather than at its next tick: new work goes on at once."""
    await defer_once(app, dispatcher, timestamp=int(time.time()))


# --- crawling ----------------------------------------------------------------------


async def dispatch_crawls(context: JobContext, timestamp: int) -> None:
    deps = _deps(context)
    names = await asyncio.to_thread(due_sources, deps.engine, deps.config, now=utcnow())
    deferred = [name for name in names if await defer_once(context.app, CRAWL_TASK, key=name, source=name)]
    if deferred:
        log.info("crawls queued: %s", ", ".join(deferred))


def _crawl(deps: WorkerDeps, name: str) -> int:
    try:
        source = deps.config.source(name)
    except KeyError:
        log.warning("source %s is no longer in the config; not crawled", name)
        return 0
    with deps.host_slots.hold(source_hosts(source), stop=deps.stop):
        stats = deps.crawl_service().crawl([name])
    return sum(s.new + s.updated for s in stats)


async def crawl_source(context: JobContext, source: str) -> None:
    if await asyncio.to_thread(_crawl, _deps(context), source):
        await wake(context.app, "dispatch_scoring")


# --- scoring -----------------------------------------------------------------------


def _pending(deps: WorkerDeps) -> int:
    classifier = deps.classifier()
    with session_scope(deps.engine) as session:
        return count_to_score(session, model_name=classifier.name, model_version=classifier.version)


async def dispatch_scoring(context: JobContext, timestamp: int) -> None:
    deps = _deps(context)
    pending = await asyncio.to_thread(_pending, deps)
    batches = min(math.ceil(pending / deps.score_batch), MAX_WAITING_BATCHES)
    for number in range(batches):
        await defer_once(context.app, "score_batch", key=str(number))


async def score_batch(context: JobContext) -> None:
    deps = _deps(context)
    size = deps.score_batch
    scored = await asyncio.to_thread(
        lambda: score_pending(deps.engine, deps.classifier(), batch_size=size, limit=size)
    )
    if scored:
        await wake(context.app, "dispatch_alerts")


# --- alerts ------------------------------------------------------------------------


def _queue_alerts(deps: WorkerDeps) -> list[str]:
    now = utcnow()
    queued = outbox.enqueue(deps.engine, config=deps.config, settings=deps.settings, now=now)
    if queued.held:
        log.info("%d older mentions stored without an alert (said before the brand's max_age)", queued.held)
    # Claims of a sender that died outside a job (a killed `alerts send`) become due again.
    outbox.reclaim_stale(deps.engine, now=now, older_than=SendPolicy().reclaim_after)
    return outbox.due_channels(deps.engine, now=now)


async def dispatch_alerts(context: JobContext, timestamp: int) -> None:
    channels = await asyncio.to_thread(_queue_alerts, _deps(context))
    for channel in channels:
        await defer_once(context.app, "send_channel_alerts", key=channel, channel=channel)


async def send_channel_alerts(context: JobContext, channel: str) -> None:
    deps = _deps(context)
    stats = await asyncio.to_thread(
        send_alerts, deps.engine, deps.settings, deps.config, channels=[channel], stop=deps.stop
    )
    if stats.sent or stats.failed:
        log.info("alerts to %s: %d sent, %d failed", channel, stats.sent, stats.failed)


# --- digests -----------------------------------------------------------------------


async def send_digests(context: JobContext, timestamp: int) -> None:
    deps = _deps(context)
    if deps.settings.smtp_host is None:
        return
    await asyncio.to_thread(send_weekly_digests, deps.engine, deps.settings, deps.config.brands)


def register(app: procrastinate.App) -> None:
    """Add every task to `app`, each with its queue, locks, retries and schedule."""
    for dispatcher, queue, cron in (
        (dispatch_crawls, "crawl", DISPATCH_EVERY),
        (dispatch_scoring, "score", DISPATCH_EVERY),
        (dispatch_alerts, "alert", DISPATCH_EVERY),
        (send_digests, "digest", DIGEST_EVERY),
    ):
        name = dispatcher.__name__
        task = app.task(name=name, queue=queue, pass_context=True, lock=name, queueing_lock=name)(dispatcher)
        app.periodic(cron=cron)(task)
    app.task(name=CRAWL_TASK, queue="crawl", pass_context=True, retry=CRAWL_RETRY)(crawl_source)
    app.task(name="score_batch", queue="score", pass_context=True)(score_batch)
    app.task(name="send_channel_alerts", queue="alert", pass_context=True)(send_channel_alerts)
