"""One `mentionwatch worker` process: the task engine's worker plus the cluster's upkeep.

Beside the jobs, every worker every HEARTBEAT:
- marks its row in worker_processes (host, pid, queues) for `mentionwatch status`;
- gives back the jobs of workers whose engine heartbeat stopped for STALLED_AFTER (a
  SIGKILL, a lost machine): they are retried by whichever worker takes them next, so a
  killed worker's job runs again within STALLED_AFTER + HEARTBEAT (30 s), well inside
  the minute the cluster promises. Every worker does it, so no single one is needed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import procrastinate
from procrastinate import exceptions
from procrastinate.jobs import Status
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine

from mentionwatch.cluster.app import build_app
from mentionwatch.cluster.deps import WorkerDeps
from store.db import make_engine, session_scope
from store.models import WorkerProcess, utcnow

log = logging.getLogger(__name__)

HEARTBEAT = 5.0
STALLED_AFTER = 20.0
# Rows of workers not seen for this long are dropped from worker_processes.
FORGET_AFTER = timedelta(days=1)


# An advisory lock key of its own: workers starting together upgrade the schema and
# write the config's brands and sources one after the other, not into each other.
_STARTUP_LOCK = 0x6D77_0001


@contextmanager
def startup_lock(database_url: str) -> Iterator[None]:
    """Hold the cluster's start-up lock for the block (released if the process dies)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            connection.execute(select(func.pg_advisory_lock(_STARTUP_LOCK)))
            connection.commit()
            try:
                yield
            finally:
                connection.execute(select(func.pg_advisory_unlock(_STARTUP_LOCK)))
                connection.commit()
    finally:
        engine.dispose()


def _register(engine: Engine, queues: Sequence[str], concurrency: int) -> int:
    with session_scope(engine) as session:
        row = WorkerProcess(host=socket.gethostname(), pid=os.getpid(), queues=",".join(queues), concurrency=concurrency)
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def _mark_seen(engine: Engine, worker_id: int) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        session.execute(update(WorkerProcess).where(WorkerProcess.id == worker_id).values(last_seen=now))
        session.execute(delete(WorkerProcess).where(WorkerProcess.last_seen < now - FORGET_AFTER))


def _unregister(engine: Engine, worker_id: int) -> None:
    with session_scope(engine) as session:
        session.execute(delete(WorkerProcess).where(WorkerProcess.id == worker_id))


async def retry_stalled_jobs(app: procrastinate.App) -> int:
    """Put the jobs of dead workers back in their queue; how many were.

    While a dead job held its lock, a dispatcher may have queued the same work again (the
    next alerts of its channel, another scoring batch): that one cannot run before the
    dead one ends, and the dead one cannot wait beside it. Then the dead job is ended as
    aborted and the waiting one does the work.
    """
    retried = 0
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER):
        try:
            try:
                await app.job_manager.retry_job(job)
            except exceptions.UniqueViolation:
                await app.job_manager.finish_job(job, status=Status.ABORTED, delete_job=False)
        except Exception:  # another worker handled it first
            log.debug("job %s was handled elsewhere", job.id, exc_info=True)
            continue
        retried += 1
        log.warning("job %s (%s %s) of a worker that stopped answering runs again", job.id, job.task_name, job.task_kwargs)
    return retried


async def _upkeep(app: procrastinate.App, engine: Engine, worker_id: int) -> None:
    while True:
        try:
            await asyncio.to_thread(_mark_seen, engine, worker_id)
            await retry_stalled_jobs(app)
        except Exception:  # a database hiccup: the next round tries again
            log.warning("worker upkeep failed; trying again in %.0f s", HEARTBEAT, exc_info=True)
        await asyncio.sleep(HEARTBEAT)


def run_worker(deps: WorkerDeps, *, queues: Sequence[str], concurrency: int) -> None:
    """Work until SIGTERM/SIGINT: then take no new jobs and let running ones finish."""
    app = build_app(deps.settings.database_url)

    async def main() -> None:
        # Every job's blocking part runs in a thread: enough threads for all of them.
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(concurrency + 2))
        worker_id = await asyncio.to_thread(_register, deps.engine, queues, concurrency)
        async with app.open_async():
            upkeep = asyncio.create_task(_upkeep(app, deps.engine, worker_id))
            try:
                await app.run_worker_async(
                    queues=list(queues),
                    concurrency=concurrency,
                    name=f"{socket.gethostname()}:{os.getpid()}",
                    additional_context={"deps": deps},
                    update_heartbeat_interval=HEARTBEAT,
                    stalled_worker_timeout=STALLED_AFTER,
                )
            finally:
                deps.stop.set()
                upkeep.cancel()
                await asyncio.to_thread(deps.close)
                await asyncio.to_thread(_unregister, deps.engine, worker_id)

    if logging.getLevelName(deps.settings.log_level.upper()) != logging.DEBUG:
        # A line per job start and end drowns what matters; DEBUG shows them.
        logging.getLogger("procrastinate").setLevel(logging.WARNING)
    log.info("worker %s:%d on queues %s with concurrency %d", socket.gethostname(), os.getpid(), ",".join(queues), concurrency)
    asyncio.run(main())
