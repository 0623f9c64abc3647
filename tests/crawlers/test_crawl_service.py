"""The worker's long-lived crawl process (crawlers.runner.CrawlService) against a loopback feed site."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from crawlers.runner import CrawlFailed, CrawlService
from mentionwatch.config import parse_config
from mentionwatch.settings import Settings
from store.db import make_engine
from store.models import CrawlRun, Mention
from tests.crawlers.conftest import FAST
from tests.scale.cluster_site import FeedSite, cluster_config

SOURCES = 12


@pytest.fixture
def site() -> Iterator[FeedSite]:
    with FeedSite(items=2) as server:
        yield server


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def service(site: FeedSite, database: str, **kwargs: float) -> CrawlService:
    config = parse_config(cluster_config(site, SOURCES, {"Acme": "#acme"}))
    return CrawlService(config, Settings(database_url=database), scrapy_overrides=FAST, **kwargs)


def count(database: str, model: type) -> int:
    with Session(make_engine(database)) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def gone(pid: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_one_process_crawls_source_after_source_and_remembers_what_it_saw(site: FeedSite, database: str) -> None:
    crawls = service(site, database)
    try:
        first = crawls.crawl(["feed-0000"])
        pid = crawls.pid
        rest = [crawls.crawl([f"feed-{n:04d}"]) for n in range(1, SOURCES)]
        again = crawls.crawl(["feed-0000"])
        assert crawls.pid == pid  # no process per crawl
    finally:
        crawls.close()
    assert [(s.source, s.new, s.finish_reason) for s in first] == [("feed-0000", 2, "finished")]
    assert all(stats[0].new == 2 and stats[0].errors == 0 for stats in rest)
    assert again[0].new == 0 and again[0].items_seen == 2
    assert count(database, Mention) == 2 * SOURCES
    assert count(database, CrawlRun) == SOURCES + 1
    assert pid is not None and gone(pid)


def test_several_threads_crawl_at_once_and_each_gets_its_own_answer(site: FeedSite, database: str) -> None:
    site.delay = 0.5
    names = [f"feed-{n:04d}" for n in range(6)]
    crawls = service(site, database)
    try:
        crawls.crawl(["feed-0011"])  # start-up out of the way, so the six overlap
        with ThreadPoolExecutor(len(names)) as pool:
            answers = list(pool.map(lambda name: crawls.crawl([name]), names))
    finally:
        crawls.close()
    assert [stats[0].source for stats in answers] == names
    assert all(stats[0].new == 2 for stats in answers)
    assert site.max_active >= 2  # the site answered several of them at the same time


def test_a_killed_crawl_process_fails_its_crawl_and_the_next_crawl_gets_a_new_one(site: FeedSite, database: str) -> None:
    site.slow["feed-0001"] = 30.0
    crawls = service(site, database)
    try:
        crawls.crawl(["feed-0000"])
        pid = crawls.pid
        assert pid is not None
        failures: list[BaseException] = []

        def slow_crawl() -> None:
            try:
                crawls.crawl(["feed-0001"])
            except CrawlFailed as exc:
                failures.append(exc)

        waiting = threading.Thread(target=slow_crawl)
        waiting.start()
        deadline = time.monotonic() + 30
        while not site.feed_requests("feed-0001") and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
        waiting.join(30)
        assert not waiting.is_alive()
        assert failures and "exited with status -9" in str(failures[0])
        [stats] = crawls.crawl(["feed-0002"])
        assert stats.new == 2 and crawls.pid != pid
    finally:
        crawls.close()


def test_an_old_process_hands_over_to_a_fresh_one_and_exits(site: FeedSite, database: str) -> None:
    crawls = service(site, database, recycle_after=0.0)
    try:
        crawls.crawl(["feed-0000"])
        first = crawls.pid
        crawls.crawl(["feed-0001"])
        assert crawls.pid != first
        assert first is not None and gone(first)
    finally:
        crawls.close()
    assert count(database, Mention) == 4


def test_unknown_sources_are_refused_before_any_process_starts_and_a_closed_service_crawls_nothing(
    site: FeedSite, database: str
) -> None:
    crawls = service(site, database)
    with pytest.raises(KeyError):
        crawls.crawl(["no-such-source"])
    assert crawls.pid is None
    crawls.close()
    with pytest.raises(CrawlFailed, match="closed"):
        crawls.crawl(["feed-0000"])
