"""A store with brands and sources, mentions to alert on, and the fake Slack."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from alerts.sender import SendPolicy
from alerts.slack_client import SlackTransport, make_client
from mentionwatch.config import Config, parse_config, sync_config
from mentionwatch.settings import Settings
from store.db import session_scope
from store.queries import (
    get_brand,
    get_source,
    relabel,
    save_mention,
    save_score,
)
from tests.fakes.slack_api import FakeSlack

CHANNELS = {"acme-alerts": "C0ACME01", "globex-alerts": "C0GLOBEX", "initech-alerts": "C0INITEC"}
BRANDS = {"Acme": "#acme-alerts", "Globex": "#globex-alerts", "Initech": "#initech-alerts"}
_numbers = itertools.count(1)
# No waiting between passes: a row that failed for now is due again at once.
FAST = SendPolicy(retry_delay=timedelta(0), thread_wait=timedelta(0))


def fast_transport(settings: Settings, *, timeout: float = 0.5, tries: int = 4) -> SlackTransport:
    """Real retries and lookups, with waits short enough for tests (and Retry-After 0)."""
    client = make_client(settings, timeout=timeout)
    return SlackTransport(client, min_interval=0.0, tries=tries, backoff=0.01, max_backoff=0.05)


def config_toml(brands: dict[str, str] = BRANDS, rules: str = "", *, sources: bool = True) -> str:
    """A config with one review source and one forum per brand, alerts to its channel."""
    parts = []
    for name, channel in brands.items():
        parts.append(f'[[brands]]\nname = "{name}"\ntimezone = "Europe/Warsaw"\n')
        parts.append(f'[brands.alerts]\nchannel = "{channel}"\n{rules}\n')
    for name in brands if sources else ():
        slug = name.lower()
        parts.append(f'[[sources]]\nname = "{slug}-reviews"\nbrand = "{name}"\ntype = "trustpilot"\nurls = ["https://www.trustpilot.com/review/{slug}.example"]\n')
        parts.append(f'[[sources]]\nname = "{slug}-forum"\nbrand = "{name}"\ntype = "phpbb"\nurls = ["https://forum.example/viewtopic.php?t=1"]\n')
    return "\n".join(parts)


def make_config(brands: dict[str, str] = BRANDS, rules: str = "") -> Config:
    return parse_config(config_toml(brands, rules))


def sync(engine: Engine, config: Config) -> None:
    sync_config(engine, config)


def add_mention(
    engine: Engine,
    *,
    brand: str = "Acme",
    source: str | None = None,
    text: str = "Terrible service, never again.",
    negative: float | None = 0.95,
    rating: float | None = None,
    rating_best: float | None = None,
    language: str | None = "en",
    thread_url: str | None = None,
    url: str | None = None,
    fetched_at: datetime | None = None,
    published_at: datetime | None = None,
    manual_label: str | None = None,
) -> int:
    """Store a mention (and its score, when `negative` is given); returns its id."""
    number = next(_numbers)
    url = url or f"https://reviews.example/{brand.lower()}/{number}"
    fields: dict[str, Any] = {
        "url": url,
        "canonical_url": url,
        "text": text,
        "language": language,
        "author": f"customer{number}",
        "rating": rating,
        "rating_best": rating_best,
        "thread_url": thread_url,
        "published_at": published_at,
    }
    with session_scope(engine) as session:
        brand_row = get_brand(session, name=brand)
        source_row = get_source(session, name=source or f"{brand.lower()}-reviews")
        assert brand_row and brand_row.id and source_row and source_row.id
        _, mention = save_mention(
            session,
            source_id=source_row.id,
            brand_id=brand_row.id,
            dedup_key=f"k{number}",
            content_hash=f"h{number}",
            fields=fields,
        )
        if fetched_at is not None:
            mention.fetched_at = fetched_at
        if negative is not None:
            rest = (1 - negative) / 2
            label = "negative" if negative >= max(rest, 0.34) else "neutral"
            save_score(
                session,
                mention=mention,
                label=label,
                score=negative,
                probabilities={"negative": negative, "neutral": rest, "positive": rest},
                model_name="test",
                model_version="1",
            )
        session.flush()
        assert mention.id is not None
        if manual_label is not None:
            relabel(session, mention_id=mention.id, label=manual_label, by="ann")
        return mention.id


def posted_mention_ids(slack: FakeSlack) -> Counter[int]:
    """How many Slack messages each mention got, from the messages' metadata."""
    return Counter(
        int(m.metadata["event_payload"]["mention_id"])
        for m in slack.messages()
        if m.metadata and m.metadata["event_payload"]["mention_id"]
    )


@dataclass
class World:
    """A synced store, its config, settings pointing at the fake Slack, and the fake."""

    engine: Engine
    config: Config
    settings: Settings
    slack: FakeSlack
    extra: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(channels=CHANNELS) as fake:
        yield fake


@pytest.fixture
def world(sqlite_engine: Engine, sqlite_url: str, slack: FakeSlack) -> World:
    config = make_config()
    sync(sqlite_engine, config)
    settings = Settings(
        database_url=sqlite_url,
        slack_token=SecretStr(slack.token),
        slack_base_url=slack.base_url,
        slack_signing_secret=SecretStr("signing-secret"),
    )
    return World(sqlite_engine, config, settings, slack)
