"""How fast a negative mention reaches Slack, and how many alerts a second Slack lets through.

Both parts run the real code against the loopback fake Slack (tests/fakes/slack_api.py),
on a SQLite file in WAL mode as in production.

1. Latency, mention stored -> its Slack message, with the default intervals (score every
   20 s, alerts every 15 s). The service's real score and alert jobs run in this process
   on the real scheduler; mentions are stored at random moments, as a crawl would. Two
   kinds: a 1-star review (alerts on its stars, no score needed) and a text-only post
   (needs its score first). Two ways:
   - naive: each job on its own interval, as a cron-like pipeline does;
   - chained (the service): a job that did something wakes the next one at once.
2. Throughput against Slack's limit of about one message a second per channel, which the
   fake enforces (a closer post gets 429). Two ways:
   - naive: one message a second overall, which keeps under the limit the simple way;
   - per-channel pacing (the sender): each channel paced alone, channels taken in turn,
     with the sender's claim batch (5 rows of each channel, so a killed sender holds few
     alerts) and with 50 rows of each channel.

3. Queueing at agency size: many brands, thousands of rated reviews each in the last three
   days (4 and 5 stars: candidates, since a rating can alert, that never qualify), and a
   few new ones before every pass. Two ways:
   - naive: every recent candidate read and judged again each pass (what queueing did
     before it remembered its checks: the same code with nothing written to `alert_checks`);
   - remembered checks: a mention is read again only when its text, score, manual label
     or the brand's rules changed.

    python -m benchmarks.alerts                  # the built-in sentiment model scores
    python -m benchmarks.alerts --samples 4 --classifier stand-in
    python -m benchmarks.alerts --only throughput
    python -m benchmarks.alerts --only queueing --brands 200 --reviews 2000

`--classifier stand-in` scores every text negative at once (when the built-in model is not
built here): it measures the pipeline's waits without the model's few milliseconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from unittest.mock import patch

from pydantic import SecretStr
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from alerts.outbox import enqueue
from alerts.sender import SendPolicy, send_alerts
from alerts.slack_client import SlackTransport, make_client
from alerts.view import Alert
from mentionwatch.config import Config, parse_config, sync_config
from mentionwatch.scoring import score_pending
from mentionwatch.service import Counts, Service, alert_job, score_job
from mentionwatch.settings import Settings
from sentiment import Prediction
from store.db import make_engine, session_scope, upgrade
from store.models import AlertOutbox, SentimentScore, utcnow
from store.queries import MentionInput, save_mention, save_mentions
from tests.fakes.slack_api import FakeSlack

console = Console()
PARTS = ["latency", "throughput", "queueing"]


def config_for(channels: int) -> Config:
    parts = []
    for i in range(channels):
        parts.append(f'[[brands]]\nname = "Brand{i}"\n[brands.alerts]\nchannel = "#bench-{i}"\n')
    for i in range(channels):
        parts.append(
            f'[[sources]]\nname = "reviews{i}"\nbrand = "Brand{i}"\ntype = "trustpilot"\n'
            f'urls = ["https://www.trustpilot.com/review/brand{i}.example"]\n'
        )
    return parse_config("\n".join(parts))


def fresh_store(folder: Path, name: str, config: Config) -> tuple[Engine, str]:
    url = f"sqlite:///{folder / name}.db"
    engine = make_engine(url)
    upgrade(engine)
    sync_config(engine, config)
    return engine, url


def store_mention(engine: Engine, number: int, *, brand: int = 0, stars: float | None = None) -> int:
    url = f"https://reviews.example/{brand}/{number}"
    fields = {
        "url": url,
        "canonical_url": url,
        "text": "Terrible service: the parcel never came and nobody answers. Never again!",
        "language": "en",
        "rating": stars,
    }
    with session_scope(engine) as session:
        _, mention = save_mention(
            session,
            source_id=brand + 1,
            brand_id=brand + 1,
            dedup_key=str(number),
            content_hash=str(number),
            fields=fields,
        )
        assert mention.id is not None
        return mention.id


class StandInClassifier:
    """Every text negative, at once: the pipeline's waits without the model's compute."""

    name, version = "stand-in", "1"

    def classify(self, texts: Sequence[str]) -> list[Prediction]:
        probabilities = {"negative": 0.97, "neutral": 0.02, "positive": 0.01}
        return [Prediction(label="negative", score=0.97, probabilities=probabilities) for _ in texts]


def latency_run(folder: Path, *, chained: bool, samples: int, classifier: str, seed: int) -> dict[str, list[float]]:
    """Seconds from storing each mention to its message in the fake, by kind."""
    config = config_for(1)
    engine, url = fresh_store(folder, f"latency-{'chained' if chained else 'naive'}", config)
    rng = random.Random(seed)
    with FakeSlack(channels={"bench-0": "C0BENCH0"}) as slack:
        settings = Settings(database_url=url, slack_token=SecretStr(slack.token), slack_base_url=slack.base_url)
        stop = threading.Event()
        score = score_job(engine, settings, config)
        if classifier == "stand-in":
            stand_in = StandInClassifier()
            score = dataclasses.replace(
                score,
                func=lambda: Counts(scored=score_pending(engine, stand_in)),  # type: ignore[arg-type]
            )
        jobs = [score, alert_job(engine, settings, config, stop)]
        if not chained:
            jobs = [dataclasses.replace(job, wakes=None) for job in jobs]
        score.func()  # loads the model before the clock starts, as a running service has
        service = Service(jobs, stop=stop)
        service.start()
        stored: dict[int, tuple[str, float]] = {}
        try:
            for number in range(samples * 2):
                time.sleep(rng.uniform(4, 12))
                kind = "1-star review" if number % 2 else "text, scored"
                mention = store_mention(engine, number, stars=1 if number % 2 else None)
                stored[mention] = (kind, time.time())
            deadline = time.monotonic() + 120
            while len(_posted(slack)) < len(stored) and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            service.stop()
            service.scheduler.shutdown(wait=True)
        posted = _posted(slack)
    engine.dispose()
    result: dict[str, list[float]] = {}
    for mention, (kind, at) in stored.items():
        result.setdefault(kind, []).append(posted.get(mention, float("inf")) - at)
    return result


def _posted(slack: FakeSlack) -> dict[int, float]:
    return {
        int(m.metadata["event_payload"]["mention_id"]): m.posted_at
        for m in slack.messages()
        if m.metadata and m.metadata["event_payload"]["mention_id"]
    }


class GloballyPaced:
    """The naive limit: one message a second overall, whatever the channel."""

    min_interval = 0.0

    def __init__(self, inner: SlackTransport, interval: float = 1.0) -> None:
        self.inner, self.interval, self._last = inner, interval, 0.0

    def deliver(self, row: AlertOutbox, alert: Alert, *, thread_ts: str | None) -> object:
        time.sleep(max(0.0, self._last + self.interval - time.monotonic()))
        try:
            return self.inner.deliver(row, alert, thread_ts=thread_ts)
        finally:
            self._last = time.monotonic()


def throughput_run(
    folder: Path, *, channels: int, per_channel: int, naive: bool, batch_size: int
) -> tuple[float, int, int]:
    """Seconds to send `channels` x `per_channel` alerts, messages posted, 429s got."""
    config = config_for(channels)
    engine, url = fresh_store(folder, f"throughput-{channels}-{'naive' if naive else 'paced'}-{batch_size}", config)
    for brand in range(channels):
        for n in range(per_channel):
            store_mention(engine, brand * 1000 + n, brand=brand, stars=1)
    ids = {f"bench-{i}": f"C0BENCH{i}" for i in range(channels)}
    with FakeSlack(channels=ids, enforce_per_channel_interval=1.0) as slack:
        settings = Settings(database_url=url, slack_token=SecretStr(slack.token), slack_base_url=slack.base_url)
        transport = SlackTransport(make_client(settings, timeout=10), min_interval=0.0 if naive else 1.0)
        chosen = GloballyPaced(transport) if naive else transport
        start = time.perf_counter()
        policy = SendPolicy(batch_size=batch_size)
        stats = send_alerts(engine, settings, config, transport=chosen, policy=policy)  # type: ignore[arg-type]
        seconds = time.perf_counter() - start
        posted, limited = len(slack.messages()), slack.rate_limited
    engine.dispose()
    assert stats.sent == channels * per_channel, stats
    return seconds, posted, limited


def add_content_reviews(engine: Engine, *, brands: int, per_brand: int, start: int, now: datetime) -> None:
    """`per_brand` scored 4- and 5-star reviews for each brand, found just now."""
    with session_scope(engine) as session:
        for brand in range(brands):
            items = [
                MentionInput(
                    source_id=brand + 1,
                    brand_id=brand + 1,
                    dedup_key=f"r{number}",
                    content_hash=f"r{number}",
                    fields={
                        "url": f"https://reviews.example/{brand}/r{number}",
                        "canonical_url": f"https://reviews.example/{brand}/r{number}",
                        "text": "Fast delivery, but the box was a bit dented.",
                        "language": "en",
                        "rating": 4 + number % 2,
                        "published_at": now,
                    },
                )
                for number in range(start, start + per_brand)
            ]
            ids = [mention_id for _, mention_id in save_mentions(session, items=items)]
            session.execute(
                insert(SentimentScore),
                [
                    {"mention_id": i, "label": "neutral", "score": 0.5, "prob_negative": 0.3, "prob_neutral": 0.5,
                     "prob_positive": 0.2, "model_name": "bench", "model_version": "1", "scored_at": now}
                    for i in ids
                ],
            )


def queueing_run(folder: Path, *, brands: int, per_brand: int, arriving: int, passes: int, naive: bool) -> tuple[float, float]:
    """Seconds of the first queueing pass and the mean of the later ones."""
    config = config_for(brands)
    engine, _ = fresh_store(folder, f"queueing-{'naive' if naive else 'checks'}", config)
    now = utcnow()
    add_content_reviews(engine, brands=brands, per_brand=per_brand, start=0, now=now)
    settings = Settings()
    seconds = []
    for number in range(passes):
        if number:
            add_content_reviews(engine, brands=brands, per_brand=arriving, start=per_brand + number * arriving, now=now)
        # Naive: nothing remembered, so every candidate is read and judged every pass.
        with patch("alerts.outbox._remember_passed") if naive else nullcontext():
            start = time.perf_counter()
            queued = enqueue(engine, config=config, settings=settings, now=now)
            seconds.append(time.perf_counter() - start)
        assert queued.alerts == 0, queued
    engine.dispose()
    return seconds[0], statistics.fmean(seconds[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=6, help="mentions of each kind per latency run")
    parser.add_argument("--per-channel", type=int, default=8, help="alerts per channel in the throughput runs")
    parser.add_argument("--classifier", choices=["builtin", "stand-in"], default="builtin")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=PARTS, help="run one part (latency takes minutes)")
    parser.add_argument("--brands", type=int, default=50, help="brands in the queueing runs")
    parser.add_argument("--reviews", type=int, default=1000, help="rated reviews per brand in the last 3 days (queueing)")
    parser.add_argument("--arriving", type=int, default=5, help="new reviews per brand before each queueing pass")
    parser.add_argument("--passes", type=int, default=4, help="queueing passes per run")
    args = parser.parse_args()
    parts = [args.only] if args.only else PARTS

    with tempfile.TemporaryDirectory(prefix="mw-bench-alerts-") as tmp:
        folder = Path(tmp)
        latency = Table(title="stored -> Slack message, default intervals (score 20 s, alerts 15 s), seconds")
        for column in ("pipeline", "mention", "n", "median", "mean", "max", "goal"):
            latency.add_column(column, justify="right" if column not in ("pipeline", "mention") else "left")
        for chained in (False, True) if "latency" in parts else ():
            runs = latency_run(
                folder, chained=chained, samples=args.samples, classifier=args.classifier, seed=args.seed
            )
            for kind, seconds in sorted(runs.items()):
                latency.add_row(
                    "chained (service)" if chained else "naive (fixed intervals)",
                    kind,
                    str(len(seconds)),
                    f"{statistics.median(seconds):.1f}",
                    f"{statistics.fmean(seconds):.1f}",
                    f"{max(seconds):.1f}",
                    "< 60" if max(seconds) < 60 else "MISSED 60",
                )
        if latency.rows:
            console.print(latency)

        if "queueing" in parts:
            print_queueing(folder, args)
        if "throughput" not in parts:
            return
        throughput = Table(title=f"throughput, {args.per_channel} alerts per channel, fake Slack limit 1 msg/s/channel")
        for column in ("sender", "claimed/channel", "channels", "messages", "seconds", "msg/s", "429s"):
            throughput.add_column(column, justify="left" if column == "sender" else "right")
        batch = SendPolicy().batch_size
        for channels in (1, 3, 6):
            for naive, batch_size in ((True, batch), (False, batch), (False, 50)):
                seconds, posted, limited = throughput_run(
                    folder, channels=channels, per_channel=args.per_channel, naive=naive, batch_size=batch_size
                )
                throughput.add_row(
                    "naive (1 msg/s overall)" if naive else "per-channel pacing",
                    str(batch_size),
                    str(channels),
                    str(posted),
                    f"{seconds:.1f}",
                    f"{posted / seconds:.2f}",
                    str(limited),
                )
        console.print(throughput)


def print_queueing(folder: Path, args: argparse.Namespace) -> None:
    title = (
        f"queueing a pass, {args.brands} brands x {args.reviews} rated reviews in the last 3 days, "
        f"+{args.arriving} per brand each pass, SQLite"
    )
    table = Table(title=title)
    for column in ("queueing", "first pass s", "later passes s (mean)", "speed-up"):
        table.add_column(column, justify="left" if column == "queueing" else "right")
    runs = {
        naive: queueing_run(
            folder, brands=args.brands, per_brand=args.reviews, arriving=args.arriving, passes=args.passes, naive=naive
        )
        for naive in (True, False)
    }
    for naive, (first, later) in runs.items():
        name = "naive (every candidate judged each pass)" if naive else "remembered checks"
        table.add_row(name, f"{first:.2f}", f"{later:.3f}", f"{runs[True][1] / later:.1f}x")
    console.print(table)


if __name__ == "__main__":
    main()
