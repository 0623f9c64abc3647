"""`mentionwatch run`: the long-running service that schedules every area's job.

Each job is a plain function of its dependencies (`run_crawl`, `send_alerts`,
`send_weekly_digests`, ...) that the command line and the tests call the same way; this module
only decides when they run. APScheduler's BackgroundScheduler runs them with one
instance at a time per job, runs that were missed while a job was busy coalesced into
one, and a grace period for late runs. A job that raises is logged and runs again at its
next time: the service never dies of it. Every `health_interval` one log line says what
happened since the last (crawled, scored, alerted, failed). SIGTERM or SIGINT stop it
cleanly: no new runs start, the alert job stops between two messages, running jobs end.

It sits in the top package because it composes crawlers, sentiment and alerts, which
must not import each other.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import timedelta
from functools import cache, partial
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from alerts.digest import send_weekly_digests
from alerts.sender import send_alerts
from crawlers.runner import run_crawl
from mentionwatch.config import Brand, Config, parse_interval
from mentionwatch.scoring import classifier_from_settings, score_pending
from mentionwatch.settings import Settings
from store.models import utcnow

log = logging.getLogger(__name__)

# Late runs (the machine slept, a long job held the pool) still run within this.
MISFIRE_GRACE = timedelta(minutes=5)
# Every hour on the hour in the brand's zone: the Monday 07:00 digest, and its retries.
DIGEST_CRON = {"minute": 0}


@dataclass(frozen=True)
class Counts:
    """What one job run did, summed into the health line."""

    crawled: int = 0
    scored: int = 0
    alerted: int = 0
    failed: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class ServiceJob:
    id: str
    func: Callable[[], Counts]
    trigger: BaseTrigger
    run_at_start: bool = True
    # The job that uses this one's output: woken at once when this one did something,
    # so a new mention goes crawl -> score -> Slack without waiting out each interval.
    wakes: str | None = None


class Health:
    """Counts since the last health line; jobs add to it from the scheduler's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = Counts()

    def add(self, counts: Counts) -> None:
        with self._lock:
            self._counts += counts

    def take(self) -> Counts:
        with self._lock:
            counts, self._counts = self._counts, Counts()
        return counts

    def log_line(self) -> None:
        c = self.take()
        log.info("health: crawled=%d scored=%d alerted=%d failed=%d", c.crawled, c.scored, c.alerted, c.failed)


class Service:
    """The scheduler with its jobs, a health line, and a clean stop."""

    def __init__(
        self, jobs: Sequence[ServiceJob], *, stop: threading.Event | None = None, health_interval: float = 60.0
    ) -> None:
        self.jobs = list(jobs)
        self.stop_event = stop or threading.Event()
        self.health = Health()
        self.scheduler = BackgroundScheduler(
            timezone="UTC",
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        for job in self.jobs:
            self.scheduler.add_job(
                self._tracked(job),
                job.trigger,
                id=job.id,
                name=job.id,
                misfire_grace_time=int(MISFIRE_GRACE.total_seconds()),
                next_run_time=utcnow() if job.run_at_start else None,
            )
        self.scheduler.add_job(self.health.log_line, IntervalTrigger(seconds=health_interval), id="health")

    def _tracked(self, job: ServiceJob) -> Callable[[], None]:
        def run() -> None:
            try:
                counts = job.func()
            except Exception:
                log.exception("job %s failed; it runs again at its next time", job.id)
                counts = Counts(failed=1)
            self.health.add(counts)
            if job.wakes and (counts.crawled or counts.scored) and self.scheduler.get_job(job.wakes):
                self.scheduler.modify_job(job.wakes, next_run_time=utcnow())

        return run

    def start(self) -> None:
        self.scheduler.start()
        log.info("mentionwatch service started with %d jobs: %s", len(self.jobs), ", ".join(j.id for j in self.jobs))

    def stop(self) -> None:
        self.stop_event.set()

    def run_until_stopped(self) -> None:
        """Run until SIGTERM/SIGINT (or `stop()`), then shut down, waiting for running jobs."""
        previous = {}
        if threading.current_thread() is threading.main_thread():
            previous = {signum: signal.signal(signum, self._on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
        self.start()
        try:
            self.stop_event.wait()
        finally:
            log.info("stopping: waiting for running jobs to finish")
            self.scheduler.shutdown(wait=True)
            self.health.log_line()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            log.info("mentionwatch service stopped")

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        self.stop()


# --- the jobs of each area ----------------------------------------------------------


def alert_job(engine: Engine, settings: Settings, config: Config, stop: threading.Event) -> ServiceJob:
    def run() -> Counts:
        stats = send_alerts(engine, settings, config, stop=stop)
        return Counts(alerted=stats.sent, failed=stats.failed)

    return ServiceJob("alerts", run, IntervalTrigger(seconds=parse_interval(config.alert_interval).total_seconds()))


def crawl_jobs(settings: Settings, config: Config) -> list[ServiceJob]:
    """One job per distinct interval, crawling its sources together in one crawl process."""
    by_interval: dict[timedelta, list[str]] = {}
    for source in config.sources:
        by_interval.setdefault(source.interval_delta, []).append(source.name)
    jobs = []
    for interval, names in sorted(by_interval.items()):

        def run(names: list[str] = names) -> Counts:
            stats = run_crawl(config, settings, source_names=names)
            return Counts(crawled=sum(s.new + s.updated for s in stats))

        trigger = IntervalTrigger(seconds=interval.total_seconds())
        jobs.append(ServiceJob(f"crawl-every-{_span(interval)}", run, trigger, wakes="score"))
    return jobs


def score_job(engine: Engine, settings: Settings, config: Config) -> ServiceJob:
    """Scores what needs it; the model is loaded on the first run (and again after a failure)."""
    classifier = cache(partial(classifier_from_settings, settings))

    def run() -> Counts:
        return Counts(scored=score_pending(engine, classifier()))

    trigger = IntervalTrigger(seconds=parse_interval(config.score_interval).total_seconds())
    return ServiceJob("score", run, trigger, wakes="alerts")


def digest_jobs(engine: Engine, settings: Settings, config: Config) -> list[ServiceJob]:
    """Each brand's digest of the last complete week, from Monday 07:00 in the brand's zone.

    The job runs every hour (and at start): `send_weekly_digests` mails a week once, so
    the hours after a sent digest do nothing, and a digest that failed (the mail server
    down) is tried again each hour until it goes out or the next week's digest is due.
    """
    if settings.smtp_host is None:
        if any(b.digest_recipients for b in config.brands):
            log.warning("weekly digests are not scheduled: set MENTIONWATCH_SMTP_HOST to mail them")
        return []
    jobs = []
    for brand in config.brands:
        if not brand.digest_recipients:
            continue

        def run(brand: Brand = brand) -> Counts:
            if send_weekly_digests(engine, settings, [brand]):
                return Counts()
            log.warning("the %s digest is tried again at the next full hour", brand.name)
            return Counts(failed=1)

        trigger = CronTrigger(**DIGEST_CRON, timezone=brand.tz)
        jobs.append(ServiceJob(f"digest-{brand.name}", run, trigger))
    return jobs


def service_jobs(engine: Engine, settings: Settings, config: Config, stop: threading.Event) -> list[ServiceJob]:
    """Every job the config calls for."""
    return [
        *crawl_jobs(settings, config),
        score_job(engine, settings, config),
        alert_job(engine, settings, config, stop),
        *digest_jobs(engine, settings, config),
    ]


def _span(interval: timedelta) -> str:
    seconds = int(interval.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
