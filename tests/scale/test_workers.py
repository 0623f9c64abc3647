"""Several `mentionwatch worker` processes against one PostgreSQL: everything done once."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy import text

from tests.alerts.conftest import posted_mention_ids
from tests.alerts.test_processes import Child
from tests.scale.conftest import Cluster

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # worker start-ups and one crawl process per source

SOURCES = 6
ITEMS = 2


def _all_done(cluster: Cluster) -> bool:
    return (
        len(cluster.crawl_runs()) == SOURCES
        and cluster.counts() == (SOURCES * ITEMS, SOURCES * ITEMS)
        and len(cluster.slack.messages()) == SOURCES * ITEMS
    )


def test_three_workers_crawl_each_source_once_score_everything_and_post_each_alert_once(cluster_factory) -> None:
    cluster: Cluster = cluster_factory(sources=SOURCES, items=ITEMS, delay=0.5)
    for _ in range(3):
        cluster.start_worker("--per-host", "2")
    cluster.wait_until(lambda: _all_done(cluster), timeout=400, what="all crawled, scored and posted")
    assert [w.process.poll() for w in cluster.workers] == [None, None, None]

    assert cluster.crawl_runs() == {f"feed-{n:04d}": 1 for n in range(SOURCES)}
    assert all(cluster.site.feed_requests(f"feed-{n:04d}") == 1 for n in range(SOURCES))
    assert 1 <= cluster.site.max_active <= 2  # the per-host limit held across the three workers
    posted = posted_mention_ids(cluster.slack)
    assert len(posted) == SOURCES * ITEMS and set(posted.values()) == {1}
    with cluster.engine.connect() as connection:
        # Each tick's crawl dispatch was deferred once, though three workers keep the clock.
        per_tick = connection.execute(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'dispatch_crawls' GROUP BY args->>'timestamp'")
        ).scalars()
        assert set(per_tick) == {1}
        ran_crawls = Counter(
            connection.execute(text("SELECT worker_id FROM procrastinate_jobs WHERE task_name = 'crawl_source'")).scalars()
        )
    assert sum(ran_crawls.values()) == SOURCES

    status = Child(["status", "--json"], cluster.env)
    assert status.finish(60) == 0, status.output
    report = json.loads(status.output)
    assert [w["alive"] for w in report["workers"]] == [True, True, True]
    assert {s["source"]: s["new"] for s in report["sources"]} == {f"feed-{n:04d}": ITEMS for n in range(SOURCES)}
    assert {q["queue"] for q in report["queues"]} <= {"crawl", "score", "alert", "digest"}
    assert report["failures"] == []
