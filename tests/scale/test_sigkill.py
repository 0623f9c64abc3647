"""A worker SIGKILLed mid-crawl, mid-score and mid-send: another one finishes its job
within a minute, and nothing is lost or done twice."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from sqlmodel import Session, func, select

from mentionwatch.config import parse_config
from store.models import AlertOutbox, OutboxStatus, WorkerProcess
from tests.alerts.conftest import add_mention, posted_mention_ids, sync
from tests.fakes.slack_api import Fault
from tests.scale.conftest import Cluster

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # worker start-ups and the wait for the dead one to go stale

# The dead worker's job runs again within this (the promise).
WITHIN = 60.0


def _registered(cluster: Cluster, count: int) -> bool:
    with Session(cluster.engine) as session:
        return session.exec(select(func.count()).select_from(WorkerProcess)).one() >= count


def _statuses(cluster: Cluster) -> Counter[str]:
    with Session(cluster.engine) as session:
        return Counter(session.exec(select(AlertOutbox.status)).all())


def _sync(cluster: Cluster) -> None:
    sync(cluster.engine, parse_config(open(cluster.env["MENTIONWATCH_CONFIG"], encoding="utf-8").read()))


def test_sigkill_mid_crawl_the_source_is_crawled_once_by_another_worker(cluster_factory) -> None:
    cluster: Cluster = cluster_factory(sources=2, items=2)
    cluster.site.slow["feed-0000"] = 30.0  # the first worker is killed while it reads this feed
    doomed = cluster.start_worker("--queues", "crawl")
    cluster.wait_until(lambda: cluster.site.feed_requests("feed-0000") == 1, 300, "the crawl of feed-0000 to start")
    survivor = cluster.start_worker("--queues", "crawl,score,alert")
    cluster.wait_until(lambda: _registered(cluster, 2), 120, "the second worker")
    cluster.site.slow.clear()

    cluster.kill(doomed)
    took = cluster.wait_until(lambda: "feed-0000" in cluster.crawl_runs(), 120, "feed-0000 crawled again")
    cluster.wait_until(lambda: len(cluster.slack.messages()) == 4, 120, "every alert posted")
    print(f"mid-crawl: the source was crawled again {took:.1f} s after the kill")  # shown with -rP

    assert took < WITHIN, f"the killed worker's crawl ran again {took:.0f} s after the kill"
    assert cluster.crawl_runs() == {"feed-0000": 1, "feed-0001": 1}
    assert cluster.site.feed_requests("feed-0000") == 2  # the killed read, and the retry's
    assert cluster.counts() == (4, 4)
    assert set(posted_mention_ids(cluster.slack).values()) == {1}
    assert survivor.process.poll() is None


def test_sigkill_mid_score_every_mention_is_scored_once(cluster_factory) -> None:
    cluster: Cluster = cluster_factory(sources=1)
    _sync(cluster)
    text = " ".join(["the delivery was very late and the service awful"] * 20)
    total = 3000
    for _ in range(total):
        add_mention(cluster.engine, brand="Acme", source="feed-0000", text=text, negative=None)
    doomed = cluster.start_worker("--queues", "score")
    cluster.wait_until(lambda: cluster.counts()[1] > 0, 300, "scoring to start")
    cluster.kill(doomed)
    assert cluster.counts()[1] < total, "scoring ended before the kill: make the backlog bigger"

    cluster.start_worker("--queues", "score")
    took = cluster.wait_until(lambda: cluster.counts() == (total, total), 180, "every mention scored")
    print(f"mid-score: all {total} mentions scored {took:.1f} s after the new worker started")
    assert took < WITHIN + 60  # the new worker's start-up and model load, then the rest


def test_sigkill_mid_send_every_alert_is_posted_once(cluster_factory) -> None:
    cluster: Cluster = cluster_factory(sources=1)
    _sync(cluster)
    ids = [add_mention(cluster.engine, brand=brand, source="feed-0000") for brand in ("Acme", "Globex", "Initech") for _ in range(3)]
    # The 3rd post is stored by Slack and its answer held: the worker dies waiting for it.
    cluster.slack.inject("chat.postMessage", None, None, Fault.hold())
    doomed = cluster.start_worker("--queues", "alert")
    cluster.wait_until(cluster.slack.held.is_set, 300, "a post to be held")
    survivor = cluster.start_worker("--queues", "alert")
    cluster.wait_until(lambda: _registered(cluster, 2), 120, "the second worker")

    killed_at = time.monotonic()
    cluster.kill(doomed)
    cluster.slack.release()
    cluster.wait_until(lambda: _statuses(cluster) == Counter({OutboxStatus.sent: 9}), 120, "every alert sent")
    took = time.monotonic() - killed_at
    print(f"mid-send: every alert sent {took:.1f} s after the kill")

    assert took < WITHIN, f"the killed worker's alerts went out {took:.0f} s after the kill"
    assert posted_mention_ids(cluster.slack) == Counter({i: 1 for i in ids})
    assert survivor.process.poll() is None
