"""What `mentionwatch status` shows: workers, queue depths, each source's last crawl, failures."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from mentionwatch.cluster.due import CRAWL_TASK
from mentionwatch.cluster.workers import STALLED_AFTER
from store.models import CrawlRun, Source, WorkerProcess


@dataclass(frozen=True)
class WorkerRow:
    host: str
    pid: int
    queues: str
    concurrency: int
    started_at: datetime
    last_seen: datetime
    alive: bool


@dataclass(frozen=True)
class QueueRow:
    queue: str
    waiting: int
    running: int
    failed_last_day: int


@dataclass(frozen=True)
class SourceRow:
    source: str
    last_crawl: datetime | None
    finished: datetime | None
    new: int
    updated: int
    errors: int
    refused: dict[str, int] | None
    finish_reason: str | None
    failed_jobs: int


@dataclass(frozen=True)
class FailureRow:
    task: str
    args: dict[str, Any]
    at: datetime
    attempts: int


@dataclass(frozen=True)
class ClusterStatus:
    workers: list[WorkerRow]
    queues: list[QueueRow]
    sources: list[SourceRow]
    failures: list[FailureRow]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_QUEUES = text(
    """
    SELECT queue_name,
           count(*) FILTER (WHERE status = 'todo') AS waiting,
           count(*) FILTER (WHERE status = 'doing') AS running,
           count(*) FILTER (WHERE status = 'failed' AND e.at > now() - interval '1 day') AS failed_last_day
      FROM procrastinate_jobs j
      LEFT JOIN LATERAL (SELECT max(at) AS at FROM procrastinate_events WHERE job_id = j.id) e ON true
     WHERE status IN ('todo', 'doing', 'failed')
     GROUP BY queue_name
    """
)
_FAILED_CRAWLS = text(
    "SELECT args->>'source', count(*) FROM procrastinate_jobs WHERE task_name = :task AND status = 'failed' GROUP BY 1"
)
_FAILURES = text(
    """
    SELECT j.task_name, j.args, e.at, j.attempts
      FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'failed'
     ORDER BY e.at DESC
     LIMIT :limit
    """
)


def cluster_status(engine: Engine, *, now: datetime, failures: int = 10) -> ClusterStatus:
    """Read the whole picture in one session (PostgreSQL: the task engine's tables)."""
    with Session(engine) as session:
        connection = session.connection()
        workers = [
            WorkerRow(
                w.host,
                w.pid,
                w.queues,
                w.concurrency,
                w.started_at,
                w.last_seen,
                w.last_seen > now - timedelta(seconds=STALLED_AFTER),
            )
            for w in session.exec(select(WorkerProcess).order_by(col(WorkerProcess.host), col(WorkerProcess.pid)))
        ]
        queues = [QueueRow(*row) for row in connection.execute(_QUEUES)]
        failed_crawls = dict(connection.execute(_FAILED_CRAWLS, {"task": CRAWL_TASK}).all())
        last_run = (
            select(CrawlRun.source_id, func.max(CrawlRun.id).label("run_id")).group_by(col(CrawlRun.source_id)).subquery()
        )
        sources = [
            SourceRow(
                source.name,
                run.started_at if run else None,
                run.finished_at if run else None,
                run.items_new if run else 0,
                run.items_updated if run else 0,
                run.errors if run else 0,
                run.refused if run else None,
                run.finish_reason if run else None,
                int(failed_crawls.get(source.name, 0)),
            )
            for source, run in session.exec(
                select(Source, CrawlRun)
                .outerjoin(last_run, last_run.c.source_id == col(Source.id))
                .outerjoin(CrawlRun, col(CrawlRun.id) == last_run.c.run_id)
                .order_by(col(Source.name))
            )
        ]
        recent_failures = [FailureRow(*row) for row in connection.execute(_FAILURES, {"limit": failures})]
    return ClusterStatus(workers, queues, sources, recent_failures)
