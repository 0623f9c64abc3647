"""What reaches the channel: no backfill, critical words on their own, why a message is in a thread."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from rich.console import Console
from typer.testing import CliRunner

from alerts.console import ConsoleTransport
from alerts.sender import send_alerts
from mentionwatch.cli import app
from mentionwatch.settings import Settings
from tests.alerts.conftest import (
    CHANNELS,
    FAST,
    World,
    add_mention,
    config_toml,
    fast_transport,
    make_config,
    posted_mention_ids,
)
from tests.crawlers.conftest import SAMPLES, crawl, stored
from tests.crawlers.conftest import make_config as make_crawl_config
from tests.fakes.site_server import Reply, SiteServer
from tests.fakes.slack_api import Message

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _context(message: Message) -> str:
    return " ".join(e["text"] for b in message.blocks if b["type"] == "context" for e in b["elements"])


def test_a_first_crawl_of_old_reviews_is_stored_without_alerts_and_the_run_says_so(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Like the App Store sample's first crawl: 44 low-rated reviews from 2017-2022, found now.
    for i in range(44):
        said = datetime(2017 + i % 6, 1 + i % 12, 1 + i % 28, tzinfo=UTC)
        add_mention(world.engine, negative=None, rating=1 + i % 2, fetched_at=NOW, published_at=said)
    news = add_mention(world.engine, rating=1, fetched_at=NOW, published_at=NOW - timedelta(hours=5))
    (tmp_path / "mw.toml").write_text(config_toml(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "DATABASE_URL": world.settings.database_url,
        "SLACK_TOKEN": world.slack.token,
        "SLACK_BASE_URL": world.slack.base_url,
    }.items():
        monkeypatch.setenv(f"MENTIONWATCH_{name}", value)

    with time_machine.travel(NOW + timedelta(minutes=1)):
        first = CliRunner().invoke(app, ["--config", "mw.toml", "alerts", "send"])
        second = CliRunner().invoke(app, ["--config", "mw.toml", "alerts", "send"])

    assert first.exit_code == 0, first.output
    assert "queued 1, sent 1" in first.output
    assert "44 older mentions stored without an alert" in first.output
    assert "older mentions" not in second.output  # decided once
    assert posted_mention_ids(world.slack) == Counter({news: 1})


APPSTORE_PAGE = "/us/rss/customerreviews/page={n}/id=284815942/sortby=mostrecent/json"


@pytest.mark.slow  # a real crawl, in a child process
def test_the_first_crawl_of_the_recorded_app_store_reviews_posts_nothing(
    world: World, shared_fixtures: Path, sqlite_url: str
) -> None:
    routes = {
        APPSTORE_PAGE.format(n=1): Reply.file(shared_fixtures / "appstore/itunes_rss_reviews.json"),
        APPSTORE_PAGE.format(n=2): Reply.file(SAMPLES / "appstore/empty-page.json"),
    }
    source = {"name": "acme-reviews", "type": "appstore", "options": {"app_id": "284815942", "countries": ["us"]}}
    with SiteServer(routes=routes) as site:
        config = make_crawl_config({**source, "base_url": site.base_url}, brand=world.config.brands[0])
        (stats,) = crawl(config, Settings(database_url=sqlite_url, user_agent="mentionwatch-tests")).values()
    reviews = stored(world.engine, "acme-reviews")
    found = max(m.fetched_at for m in reviews)
    low = [m for m in reviews if m.rating is not None and m.rating <= 2]
    assert stats.new == len(reviews) == 50 and len(low) >= 10
    assert max(m.published_at for m in reviews if m.published_at).year <= 2022

    sent = send_alerts(
        world.engine,
        world.settings,
        world.config,
        transport=fast_transport(world.settings),
        policy=FAST,
        clock=lambda: found + timedelta(minutes=1),
    )

    assert (sent.enqueued, sent.held, sent.sent) == (0, len(low), 0)
    assert world.slack.messages() == []


def test_a_neutral_mention_with_a_critical_word_is_posted_as_urgent(world: World) -> None:
    world.config = make_config(rules='critical_words = ["recall"]')
    recall = add_mention(world.engine, text="Zefir recalls Z300 espresso machines over scalding risk", negative=0.04)
    add_mention(world.engine, text="Zefir launches the Z400", negative=0.04)

    send_alerts(world.engine, world.settings, world.config, transport=fast_transport(world.settings), policy=FAST)

    assert posted_mention_ids(world.slack) == Counter({recall: 1})
    (message,) = world.slack.messages(CHANNELS["acme-alerts"])
    assert message.blocks[0]["text"]["text"] == "🚨 Urgent: Mention of Acme on acme-reviews"
    assert "Critical words: *recall*" in _context(message) and "Why: critical words: recall" in _context(message)


REPLY_NOTE = "In the thread of alert #1: it replies in the forum thread or post that alert is about."


def _forum_thread(world: World, send: Callable[[], object]) -> None:
    """An opening post that alerts, then two replies in its thread."""
    thread = "https://forum.example/t/42"
    add_mention(world.engine, source="acme-forum", url=thread, thread_url=thread)
    send()
    for post in (2, 3):
        add_mention(world.engine, source="acme-forum", url=f"{thread}#p{post}", thread_url=thread)
    send()


def test_a_reply_in_slack_says_why_it_is_in_the_thread(world: World) -> None:
    transport = fast_transport(world.settings)
    _forum_thread(world, lambda: send_alerts(world.engine, world.settings, world.config, transport=transport))

    opening, *replies = world.slack.messages(CHANNELS["acme-alerts"])
    assert len(replies) == 2 and all(r.thread_ts == opening.ts and REPLY_NOTE in _context(r) for r in replies)
    assert "In the thread" not in _context(opening)


def test_a_reply_on_the_console_says_which_thread_it_belongs_in_and_why(world: World) -> None:
    console = Console(record=True, width=200)
    settings = Settings(database_url=world.settings.database_url)  # no token: the console
    config = make_config(brands={"Acme": ""})
    _forum_thread(world, lambda: send_alerts(world.engine, settings, config, transport=ConsoleTransport(console)))

    printed = console.export_text()
    assert printed.count("alert #3 · in the thread of alert #1") == 1
    assert printed.count(REPLY_NOTE + " In Slack it is posted as a reply there.") == 2


def test_a_mention_during_a_spike_says_it_is_in_the_spikes_thread(world: World) -> None:
    world.config = make_config(rules="spikes = { min_count = 3 }")
    for _ in range(3):
        add_mention(world.engine, fetched_at=NOW)

    transport = fast_transport(world.settings)
    send_alerts(world.engine, world.settings, world.config, transport=transport, policy=FAST, clock=lambda: NOW)

    spike, *mentions = world.slack.messages(CHANNELS["acme-alerts"])
    assert spike.text.startswith("📈 Spike") and len(mentions) == 3
    assert all("In the thread of alert #1: it is one of the mentions of the spike" in _context(m) for m in mentions)


def test_a_three_star_review_is_shown_judged_with_its_stars_and_five_stars_stay_quiet(world: World) -> None:
    good_but = add_mention(world.engine, text="Good, but the delivery was two days late", negative=0.97, rating=3)
    add_mention(world.engine, text="Love it, but the box was dented", negative=0.97, rating=5)

    send_alerts(world.engine, world.settings, world.config, transport=fast_transport(world.settings), policy=FAST)

    assert posted_mention_ids(world.slack) == Counter({good_but: 1})
    (message,) = world.slack.messages(CHANNELS["acme-alerts"])
    fields = " ".join(f["text"] for f in message.blocks[1]["fields"])
    assert "negative 74% with the stars (text alone: negative, negative 97%)" in fields
    assert "Why: negative 74% with 3.0 of 5" in _context(message)
