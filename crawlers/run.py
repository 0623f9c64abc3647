"""The crawl process: `python -m crawlers.run --stats-file FILE` with a job on stdin.

Twisted's reactor runs once per process and cannot be restarted, so every crawl gets
a fresh process (`crawlers.runner.run_crawl` starts it); this module is that process.
It reads {"config": ..., "sources": [...] | null, "scrapy_overrides": {...}} as JSON on
stdin, takes the store and user agent from the MENTIONWATCH_* environment (Settings),
crawls every selected source at once in one reactor, records a CrawlRun per source,
saves the cursors of sources that ran clean, and writes the stats as JSON to FILE.
The steps around the reactor (the store's rows, the jobs, the records) are shared with
the long-lived crawl process of a worker (crawlers.serve).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings as ScrapySettings

from crawlers.egress import ALLOWED_ENDPOINTS_SETTING, allowed_endpoints
from crawlers.job import SourceJob
from crawlers.pipelines.language import detector
from crawlers.pipelines.match import brand_query
from crawlers.stats import CrawlRunStats
from crawlers.storage import DATABASE_URL_SETTING, engine_for
from mentionwatch.config import Brand, Config, Source, sync_config
from mentionwatch.settings import Settings
from store.boolean_query import QuerySyntaxError
from store.db import session_scope, upgrade
from store.models import CrawlRun, utcnow
from store.queries import (
    get_brand,
    get_cursors,
    record_crawl_run,
    set_cursor,
)

log = logging.getLogger(__name__)
# The cursor that holds when a source was last read from scratch (Source.recheck).
RECHECKED_AT = "recheck:last"


def scrapy_settings(config: Config, settings: Settings, overrides: Mapping[str, Any] | None = None) -> ScrapySettings:
    """crawlers.settings, then the config's endpoints and the process settings, then the caller's overrides."""
    result = ScrapySettings()
    result.setmodule("crawlers.settings", priority="project")
    result.set(ALLOWED_ENDPOINTS_SETTING, allowed_endpoints(config), priority="cmdline")
    result.set("USER_AGENT", settings.user_agent, priority="cmdline")
    result.set("LOG_LEVEL", settings.log_level.upper(), priority="cmdline")
    result.set(DATABASE_URL_SETTING, settings.database_url, priority="cmdline")
    for key, size in (("DOWNLOAD_MAXSIZE", settings.download_maxsize), ("DOWNLOAD_WARNSIZE", settings.download_warnsize)):
        if size is not None:
            result.set(key, int(size), priority="cmdline")
    for key, value in (overrides or {}).items():
        result.set(key, value, priority="cmdline")
    return result


def sync_store(config: Config, settings: Settings) -> dict[str, int]:
    """Migrate the store and write the config's brands and sources to it; the source ids by name."""
    engine = engine_for(settings.database_url)
    upgrade(engine)
    return sync_config(engine, config)


def prepare_jobs(
    config: Config, settings: Settings, source_names: Sequence[str] | None, ids: Mapping[str, int]
) -> tuple[list[SourceJob], list[CrawlRunStats]]:
    """A job with its cursors for each selected source (`ids` from sync_store); sources that cannot run are reported."""
    selected = [config.source(name) for name in source_names] if source_names else list(config.sources)
    jobs: list[SourceJob] = []
    skipped: list[CrawlRunStats] = []
    with session_scope(engine_for(settings.database_url)) as session:
        for source in selected:
            brand = config.brand(source.brand)
            reason = _invalid_query(brand) if source.match_mode == "query" else None
            if reason:
                log.error("source=%s: not crawled: %s", source.name, reason)
                skipped.append(CrawlRunStats(source=source.name, source_type=source.type, errors=1, finish_reason=reason))
                continue
            brand_row = get_brand(session, name=brand.name)
            assert brand_row is not None and brand_row.id is not None
            source_id = ids[source.name]
            cursors = get_cursors(session, source_id=source_id)
            job = SourceJob(source=source, brand=brand, source_id=source_id, brand_id=brand_row.id, cursors=cursors)
            now = utcnow()
            if recheck_due(source, cursors, now=now):
                # Start from scratch: every listing is read again up to max_pages, and the
                # dedup step stores what changed as updates.
                job.cursors = {}
                job.new_cursors[RECHECKED_AT] = now.isoformat()
            jobs.append(job)
    return jobs, skipped


def recheck_due(source: Source, cursors: Mapping[str, str], *, now: datetime) -> bool:
    """Whether this run should ignore the cursors (see Source.recheck)."""
    every = source.recheck_delta
    if every is None:
        return False
    last = cursors.get(RECHECKED_AT)
    return last is None or now - datetime.fromisoformat(last) >= every


def _invalid_query(brand: Brand) -> str | None:
    try:
        brand_query(brand)
    except QuerySyntaxError as exc:
        return f"the query of brand {brand.name!r} is invalid: {exc}"
    return None


def finish(settings: Settings, job: SourceJob, crawler: Crawler) -> CrawlRunStats:
    """Record the run; advance the cursors only when nothing failed."""
    assert crawler.stats is not None
    stats = CrawlRunStats.from_scrapy(source=job.source.name, source_type=job.source.type, stats=crawler.stats.get_stats())
    clean = stats.errors == 0 and stats.finish_reason == "finished"
    with session_scope(engine_for(settings.database_url)) as session:
        record_crawl_run(
            session,
            run=CrawlRun(
                source_id=job.source_id,
                started_at=stats.started_at or utcnow(),
                finished_at=stats.finished_at,
                pages=stats.pages,
                items_seen=stats.items_seen,
                items_new=stats.new,
                items_updated=stats.updated,
                errors=stats.errors,
                dropped=stats.dropped,
                refused=stats.refused or None,
                finish_reason=stats.finish_reason,
            ),
        )
        if clean:
            for key, value in job.new_cursors.items():
                set_cursor(session, source_id=job.source_id, key=key, value=value)
    if not clean and job.new_cursors:
        log.info("source=%s: cursors kept where they were: the run had errors", job.source.name)
    return stats


def _warnings_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


def crawler_process(config: Config, settings: Settings, overrides: Mapping[str, Any] | None) -> CrawlerProcess:
    """Scrapy's process for these settings, quiet below WARNING unless the log level is DEBUG."""
    quiet = logging.getLevelName(settings.log_level.upper()) != logging.DEBUG
    if quiet:
        # Making the CrawlerProcess resets Scrapy's logger levels, then logs "Scrapy 2.x started":
        # only a filter on the logger that says it outlasts the reset (the levels are set below).
        logging.getLogger("scrapy.utils.log").addFilter(_warnings_only)
    detector()  # loads lingua's models now rather than stalling the reactor at the first item
    process = CrawlerProcess(scrapy_settings(config, settings, overrides))
    if quiet:
        # Scrapy's start-up and stats dumps drown the per-source warnings; DEBUG shows all.
        logging.getLogger("scrapy").setLevel(logging.WARNING)
    return process


def in_order(results: Sequence[CrawlRunStats], names: Sequence[str]) -> list[CrawlRunStats]:
    """The stats in the order of `names` (the config's order when the caller named none)."""
    order = {name: i for i, name in enumerate(names)}
    return sorted(results, key=lambda s: order.get(s.source, len(order)))


def crawl_in_this_process(
    config: Config,
    settings: Settings,
    *,
    source_names: Sequence[str] | None = None,
    scrapy_overrides: Mapping[str, Any] | None = None,
) -> list[CrawlRunStats]:
    """Crawl the selected sources (all by default) once. Runs the reactor: once per process."""
    jobs, results = prepare_jobs(config, settings, source_names, sync_store(config, settings))
    if not jobs:
        return results
    process = crawler_process(config, settings, scrapy_overrides)
    running: list[tuple[SourceJob, Crawler]] = []
    for job in jobs:
        crawler = process.create_crawler(job.source.kind.spider)
        process.crawl(crawler, job=job)
        running.append((job, crawler))
    process.start()
    results.extend(finish(settings, job, crawler) for job, crawler in running)
    return in_order(results, source_names or [s.name for s in config.sources])


def exit_with_parent(poll: float = 1.0) -> None:
    """End this process when the one that started it is gone (killed, even by SIGKILL).

    A crawl orphaned by a killed worker would go on while the task engine gives the
    source to another worker: two crawls of one source at once, and a host slot the
    cluster no longer counts.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    exit_with_parent()
    parser = argparse.ArgumentParser(prog="python -m crawlers.run", description=__doc__.splitlines()[0])
    parser.add_argument("--stats-file", required=True, help="where to write the stats (JSON list)")
    args = parser.parse_args(argv)
    request = json.load(sys.stdin)
    config = Config.model_validate(request["config"])
    results = crawl_in_this_process(
        config,
        Settings(),
        source_names=request.get("sources"),
        scrapy_overrides=request.get("scrapy_overrides"),
    )
    with open(args.stats_file, "w", encoding="utf-8") as out:
        json.dump([r.to_json() for r in results], out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
