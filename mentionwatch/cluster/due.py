"""Which sources are due for a crawl: the crawl dispatcher's one question to the store.

A source is due when its interval has passed since its last crawl started (or its
last crawl job failed for good), and no crawl job for it is waiting or running. The
dispatcher itself runs once per tick for the whole cluster, so each due source gets
one job per due time however many workers run.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from mentionwatch.config import Config
from store.models import CrawlRun, Source

CRAWL_TASK = "crawl_source"

_CRAWL_JOBS = text(
    """
    SELECT j.args->>'source' AS source,
           bool_or(j.status IN ('todo', 'doing')) AS busy,
           max(e.at) FILTER (WHERE e.type = 'failed') AS failed_at
      FROM procrastinate_jobs j
      LEFT JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'failed'
     WHERE j.task_name = :task
       AND (j.status IN ('todo', 'doing') OR e.type = 'failed')
     GROUP BY 1
    """
)


def due_sources(engine: Engine, config: Config, *, now: datetime) -> list[str]:
    """Names of the config's sources to crawl now, in config order."""
    with Session(engine) as session:
        last_started = dict(
            session.exec(
                select(Source.name, func.max(CrawlRun.started_at))
                .join(CrawlRun, col(CrawlRun.source_id) == col(Source.id))
                .group_by(col(Source.name))
            ).all()
        )
        jobs = {row.source: row for row in session.connection().execute(_CRAWL_JOBS, {"task": CRAWL_TASK})}
    due = []
    for source in config.sources:
        job = jobs.get(source.name)
        if job is not None and job.busy:
            continue
        attempts = [t for t in (last_started.get(source.name), job.failed_at if job else None) if t is not None]
        if not attempts or max(attempts) + source.interval_delta <= now:
            due.append(source.name)
    return due
