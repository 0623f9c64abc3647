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

    python -m benchmarks.alerts                  # the built-in sentiment model scores
    python -m benchmarks.alerts --samples 4 --classifier stand-in
    python -m benchmarks.alerts --throughput-only

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
from pathlib import Path

from pydantic import SecretStr
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

from alerts.sender import SendPolicy, send_alerts
from alerts.slack_client import SlackTransport, make_client
from alerts.view import Alert
from mentionwatch.config import Config, parse_config
from mentionwatch.scoring import score_pending
from mentionwatch.service import Counts, Service, alert_job, score_job
from mentionwatch.settings import Settings
from sentiment import Prediction
from store.db import make_engine, session_scope, upgrade
from store.models import AlertOutbox
from store.queries import BrandSpec, SourceSpec, save_mention, sync_brands_and_sources
from tests.fakes.slack_api import FakeSlack

console = Console()


def config_for(channels: int) -> Config:
    parts = []
    for i in range(channels):
        parts.append(f'[[brands]]\nname = "Brand{i}"\n[brands.alerts]\nchannel = "#bench-{i}"\n')
    for i in range(channels):
        parts.append(f'[[sources]]\nname = "reviews{i}"\nbrand = "Brand{i}"\ntype = "trustpilot"\n')
    return parse_config("\n".join(parts))


def fresh_store(folder: Path, name: str, config: Config) -> tuple[Engine, str]:
    url = f"sqlite:///{folder / name}.db"
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        sync_brands_and_sources(
            session,
            brands=[BrandSpec(b.name) for b in config.brands],
            sources=[SourceSpec(s.name, s.type, s.brand) for s in config.sources],
        )
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=6, help="mentions of each kind per latency run")
    parser.add_argument("--per-channel", type=int, default=8, help="alerts per channel in the throughput runs")
    parser.add_argument("--classifier", choices=["builtin", "stand-in"], default="builtin")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--throughput-only", action="store_true", help="skip the latency runs (minutes)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mw-bench-alerts-") as tmp:
        folder = Path(tmp)
        latency = Table(title="stored -> Slack message, default intervals (score 20 s, alerts 15 s), seconds")
        for column in ("pipeline", "mention", "n", "median", "mean", "max", "goal"):
            latency.add_column(column, justify="right" if column not in ("pipeline", "mention") else "left")
        for chained in () if args.throughput_only else (False, True):
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


if __name__ == "__main__":
    main()
