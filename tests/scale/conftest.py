"""A cluster on loopback: PostgreSQL, a feed site, the fake Slack, a tiny model, worker processes."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from store.db import make_engine
from store.models import CrawlRun, Mention, SentimentScore, Source
from tests.alerts.conftest import BRANDS, CHANNELS
from tests.alerts.test_processes import Child
from tests.fakes.slack_api import FakeSlack
from tests.scale.cluster_site import FeedSite, cluster_config
from tests.sentiment.conftest import tiny_model, tiny_tokenizer


@dataclass
class Cluster:
    engine: Engine
    site: FeedSite
    slack: FakeSlack
    env: dict[str, str]
    workers: list[Child] = field(default_factory=list)

    def start_worker(self, *args: str) -> Child:
        worker = Child(["worker", "--concurrency", "2", "--crawl-setting", "AUTOTHROTTLE_ENABLED=false", *args], self.env)
        self.workers.append(worker)
        return worker

    def kill(self, worker: Child) -> None:
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.finish()

    def stop_all(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.finish(timeout=60)
            except Exception:
                worker.process.kill()

    def crawl_runs(self) -> dict[str, int]:
        """Finished crawls per source name."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(Source.name, func.count(col(CrawlRun.id)))
                .join(CrawlRun, col(CrawlRun.source_id) == col(Source.id))
                .group_by(col(Source.name))
            ).all()
        return dict(rows)

    def counts(self) -> tuple[int, int]:
        """(mentions stored, mentions scored)."""
        with Session(self.engine) as session:
            mentions = session.exec(select(func.count()).select_from(Mention)).one()
            scored = session.exec(select(func.count()).select_from(SentimentScore)).one()
        return int(mentions), int(scored)

    def wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> float:
        """Seconds it took for `condition` to hold; fails with the workers' output after `timeout`."""
        started = time.monotonic()
        while not condition():
            if time.monotonic() - started > timeout:
                logs = "\n".join(f"--- worker {w.process.pid}:\n{w.output[-3000:]}" for w in self.workers)
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{logs}")
            time.sleep(0.1)
        return time.monotonic() - started


@pytest.fixture
def cluster_factory(postgres_url: str, tmp_path: Path) -> Iterator[Callable[..., Cluster]]:
    """`make(sources=, items=, delay=)`: a cluster world; workers are started by the test."""
    stack = ExitStack()
    model = tmp_path / "tiny-model"
    tiny_model(["negative", "neutral", "positive"]).save_pretrained(model)
    tiny_tokenizer().save_pretrained(model)

    def make(*, sources: int, items: int = 2, delay: float = 0.0) -> Cluster:
        site = stack.enter_context(FeedSite(items=items, delay=delay))
        slack = stack.enter_context(FakeSlack(channels=CHANNELS))
        config = tmp_path / "cluster.toml"
        config.write_text(cluster_config(site, sources, BRANDS), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MENTIONWATCH_")}
        env |= {
            "MENTIONWATCH_DATABASE_URL": postgres_url,
            "MENTIONWATCH_CONFIG": str(config),
            "MENTIONWATCH_SLACK_TOKEN": slack.token,
            "MENTIONWATCH_SLACK_BASE_URL": slack.base_url,
            "MENTIONWATCH_SENTIMENT_MODEL": str(model),
            "MENTIONWATCH_SENTIMENT_COMPILE": "never",
            "MENTIONWATCH_CACHE_DIR": str(tmp_path / "cache"),
            "COLUMNS": "200",
        }
        engine = make_engine(postgres_url)
        stack.callback(engine.dispose)
        cluster = Cluster(engine, site, slack, env)
        stack.callback(cluster.stop_all)
        return cluster

    with stack:
        yield make
