"""Scaling out: crawl time and scoring-backlog drain with 1, 2 and 4 worker processes.

One loopback feed site with `--sources` sources (one host; each answer takes `--delay`
seconds, as a real server's would) and a `--backlog` of stored mentions to score
(0: crawling only), on a private PostgreSQL. For each worker count, a fresh database:
start the workers, then time from the first crawl's start to the last one's end (the
dispatcher's first tick, up to 10 s, is not counted), and, separately, from all workers
registered until the backlog is scored. The site records the
most requests it answered at once: the per-host limit (`--per-host`) must hold
whatever the worker count. Prints one table; ratios are to 1 worker. CPU seconds
are the workers' and their crawl processes' own (PostgreSQL's are not counted).

The naive way, measured in the same run on `--naive` of the sources: one crawl process
per crawl (`crawlers.runner.run_crawl`, what the command line does), which is what a
worker did before it kept a long-lived crawl process (crawlers.runner.CrawlService).

    python -m benchmarks.scale                                   # the issue's sizes
    python -m benchmarks.scale --sources 40 --backlog 4000       # a few minutes on 2 cores
    python -m benchmarks.scale --delay 0 --backlog 0             # crawling bound by the CPU alone
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, func, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col, select

from crawlers.runner import run_crawl
from mentionwatch.config import parse_config, sync_config
from mentionwatch.settings import Settings
from store.db import make_engine, session_scope, upgrade
from store.models import CrawlRun, Mention, SentimentScore, WorkerProcess
from store.queries import get_brand, get_source, save_mention
from tests.scale.cluster_site import TEXTS, FeedSite, cluster_config
from tests.support.postgres import running_postgres

CLI = [sys.executable, "-c", "from mentionwatch.cli import app; app()"]
BRANDS = {"Acme": "#acme", "Globex": "#globex"}
_numbers = itertools.count()


@dataclass
class Result:
    workers: int
    crawl_s: float
    crawl_cpu_s: float
    backlog_s: float | None
    max_per_host: int


def _children_cpu() -> float:
    """CPU seconds of the waited-for child processes (and theirs) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _fresh_database(server: str) -> str:
    name = f"mw_scale_{os.getpid()}_{next(_numbers)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@contextmanager
def _workers(count: int, env: dict[str, str], args: list[str], log: Path) -> Iterator[None]:
    with log.open("a", encoding="utf-8") as out:
        processes = [subprocess.Popen([*CLI, "worker", *args], env=env, stdout=out, stderr=out) for _ in range(count)]
        try:
            yield
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(120)
                except subprocess.TimeoutExpired:
                    process.kill()


def _count(engine: Engine, statement: object) -> int:
    with Session(engine) as session:
        return int(session.exec(statement).one())  # type: ignore[call-overload]


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise SystemExit(f"timed out waiting for {what}; see the workers' log")
        time.sleep(0.2)
    return time.monotonic() - started


def _makespan(engine: Engine) -> float:
    """Seconds from the first crawl's start to the last one's end (not the wait for the first dispatcher tick)."""
    with Session(engine) as session:
        first, last = session.exec(select(func.min(CrawlRun.started_at), func.max(CrawlRun.finished_at))).one()
    return (last - first).total_seconds()


def _backlog(engine: Engine, size: int) -> None:
    with session_scope(engine) as session:
        brand = get_brand(session, name="Acme")
        source = get_source(session, name="feed-0000")
        assert brand and brand.id and source and source.id
        for n in range(size):
            text_ = f"{TEXTS[n % len(TEXTS)]} {n}"
            fields = {"url": f"https://backlog.example/{n}", "canonical_url": f"https://backlog.example/{n}", "text": text_}
            save_mention(session, source_id=source.id, brand_id=brand.id, dedup_key=f"b{n}", content_hash=f"h{n}", fields=fields)


def run_one(server: str, workers: int, args: argparse.Namespace, env: dict[str, str], folder: Path, site: FeedSite) -> Result:
    url = _fresh_database(server)
    engine = make_engine(url)
    config_path = folder / f"scale-{workers}.toml"
    config_path.write_text(cluster_config(site, args.sources, BRANDS), encoding="utf-8")
    config = parse_config(config_path.read_text(encoding="utf-8"))
    sync_config(engine, config)
    env = env | {"MENTIONWATCH_DATABASE_URL": url, "MENTIONWATCH_CONFIG": str(config_path)}
    log = folder / "workers.log"
    site.max_active = 0
    common = ["--concurrency", str(args.concurrency), "--per-host", str(args.per_host)]
    common += ["--crawl-setting", "AUTOTHROTTLE_ENABLED=false"]
    registered = lambda: _count(engine, select(func.count()).select_from(WorkerProcess)) >= workers  # noqa: E731

    cpu_before = _children_cpu()
    with _workers(workers, env, [*common, "--queues", "crawl"], log):
        _wait(registered, 600, "the crawl workers to start")
        crawled = lambda: _count(engine, select(func.count(func.distinct(col(CrawlRun.source_id))))) >= args.sources  # noqa: E731
        _wait(crawled, args.timeout, "every source crawled")
    _wait(lambda: _count(engine, select(func.count()).select_from(WorkerProcess)) == 0, 120, "the workers to stop")
    crawl_cpu_s = _children_cpu() - cpu_before  # start-up included: a worker's, once
    crawl_s = _makespan(engine)

    if not args.backlog:
        engine.dispose()
        return Result(workers, crawl_s, crawl_cpu_s, None, site.max_active)
    _backlog(engine, args.backlog)
    total = _count(engine, select(func.count()).select_from(Mention))
    with _workers(workers, env, [*common, "--queues", "score"], log):
        _wait(registered, 600, "the score workers to start")
        scored = lambda: _count(engine, select(func.count()).select_from(SentimentScore)) >= total  # noqa: E731
        backlog_s = _wait(scored, args.timeout, "the backlog scored")
    engine.dispose()
    return Result(workers, crawl_s, crawl_cpu_s, backlog_s, site.max_active)


def naive_crawls(server: str, args: argparse.Namespace, site: FeedSite) -> tuple[float, float]:
    """Seconds and CPU seconds per crawl with a process per crawl, over `--naive` sources one after another."""
    url = _fresh_database(server)
    config = parse_config(cluster_config(site, args.sources, BRANDS))
    settings = Settings(database_url=url, log_level="WARNING")
    overrides = {"AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}
    cpu_before, started = _children_cpu(), time.monotonic()
    for source in config.sources[: args.naive]:
        run_crawl(config, settings, source_names=[source.name], scrapy_overrides=overrides)
    return (time.monotonic() - started) / args.naive, (_children_cpu() - cpu_before) / args.naive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=400)
    parser.add_argument("--backlog", type=int, default=20_000, help="mentions to score (0: none)")
    parser.add_argument("--delay", type=float, default=0.3, help="seconds the site takes to answer a request")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts to compare")
    parser.add_argument("--concurrency", type=int, default=2, help="jobs per worker process")
    parser.add_argument("--per-host", type=int, default=8, help="the cluster's limit of crawls per host")
    parser.add_argument("--model", help="checkpoint to score with (default: the built-in model)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per measurement")
    parser.add_argument("--naive", type=int, default=10, help="sources crawled with a process per crawl, for comparison")
    args = parser.parse_args()

    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTIONWATCH_")}
    env |= {"MENTIONWATCH_LOG_LEVEL": "WARNING", "MENTIONWATCH_SENTIMENT_COMPILE": "never"}
    if args.model:
        env["MENTIONWATCH_SENTIMENT_MODEL"] = args.model
    results = []
    with ExitStack() as stack:
        server = stack.enter_context(running_postgres())
        site = stack.enter_context(FeedSite(items=2, delay=args.delay))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mw-scale-")))
        naive_s, naive_cpu_s = naive_crawls(server, args, site)
        print(f"  a process per crawl: {naive_s:.2f} s a crawl", file=sys.stderr, flush=True)
        for count in (int(n) for n in args.workers.split(",")):
            results.append(run_one(server, count, args, env, folder, site))
            r = results[-1]
            print(f"  {count} workers: crawl {r.crawl_s:.1f} s, backlog {r.backlog_s or 0:.1f} s", file=sys.stderr, flush=True)

    base = results[0]
    print(f"\n{args.sources} sources on one host answering in {args.delay} s (per-host limit {args.per_host}),")
    print(f"backlog {args.backlog} mentions,", end=" ")
    print(f"{args.concurrency} jobs per worker, {os.cpu_count()} CPUs\n")
    print(
        "| workers | crawl all (s) | per crawl (s) | CPU-s per crawl | speed-up | drain backlog (s) | mentions/s"
        " | speed-up | most requests at once to the host |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| 1, a process per crawl ({args.naive} sources, one at a time) | {naive_s * args.sources:.0f} (projected)"
        f" | {naive_s:.2f} | {naive_cpu_s:.2f} | | | | | 1 |"
    )
    for r in results:
        print(
            f"| {r.workers} | {r.crawl_s:.1f} | {r.crawl_s / args.sources:.3f} | {r.crawl_cpu_s / args.sources:.3f}"
            f" | {base.crawl_s / r.crawl_s:.2f}x | {_backlog_cells(args.backlog, base.backlog_s, r.backlog_s)} | {r.max_per_host} |"
        )


def _backlog_cells(size: int, base: float | None, seconds: float | None) -> str:
    if base is None or seconds is None:
        return "– | – | –"
    return f"{seconds:.1f} | {size / seconds:.0f} | {base / seconds:.2f}x"


if __name__ == "__main__":
    main()
