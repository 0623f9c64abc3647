"""Slack button clicks: signed ones update the store and the message, others are refused."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from slack_sdk.signature import SignatureVerifier
from sqlmodel import select

from alerts.sender import send_alerts
from alerts.slack_actions import make_router
from alerts.slack_blocks import ACTION_HANDLED, ACTION_NOT_NEGATIVE, ACTIONS_BLOCK
from store.db import session_scope
from store.models import Handling, HandlingState, SentimentScore
from tests.alerts.conftest import CHANNELS, FAST, World, add_mention, fast_transport
from tests.fakes.slack_api import Message

SECRET = "signing-secret"


@pytest.fixture
def posted(world: World) -> tuple[int, Message]:
    mention = add_mention(world.engine)
    send_alerts(world.engine, world.settings, world.config, transport=fast_transport(world.settings), policy=FAST)
    (message,) = world.slack.messages(CHANNELS["acme-alerts"])
    return mention, message


@pytest.fixture
def client(world: World) -> TestClient:
    app = FastAPI()
    app.include_router(make_router(lambda: world.engine, world.settings))
    return TestClient(app)


def click(message: Message, action_id: str, value: str) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ANN", "username": "ann"},
        "container": {"type": "message", "channel_id": message.channel, "message_ts": message.ts},
        "channel": {"id": message.channel},
        "message": {"ts": message.ts, "text": message.text, "blocks": message.blocks},
        "actions": [{"action_id": action_id, "block_id": ACTIONS_BLOCK, "value": value, "type": "button"}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def signed(body: bytes, *, secret: str = SECRET, age: int = 0) -> dict[str, str]:
    timestamp = str(int(time.time()) - age)
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def test_mark_handled_records_who_answered_and_updates_the_message(
    world: World, client: TestClient, posted: tuple[int, Message]
) -> None:
    mention, message = posted
    body = click(message, ACTION_HANDLED, str(mention))

    response = client.post("/slack/actions", content=body, headers=signed(body))

    assert response.status_code == 200
    with session_scope(world.engine) as session:
        handling = session.exec(select(Handling)).one()
    assert (handling.mention_id, handling.state, handling.updated_by) == (mention, HandlingState.responded, "slack:ann")
    assert handling.first_response_at is not None
    (updated,) = world.slack.messages(CHANNELS["acme-alerts"])
    assert updated.edits == 1
    assert updated.blocks[-1]["elements"][0]["text"] == "✅ Marked handled by <@U0ANN>"
    buttons = [e["action_id"] for b in updated.blocks if b.get("block_id") == ACTIONS_BLOCK for e in b["elements"]]
    assert buttons == ["mentionwatch_open"]


def test_not_negative_relabels_the_mention(world: World, client: TestClient, posted: tuple[int, Message]) -> None:
    mention, message = posted
    body = click(message, ACTION_NOT_NEGATIVE, str(mention))

    assert client.post("/slack/actions", content=body, headers=signed(body)).status_code == 200

    with session_scope(world.engine) as session:
        score = session.exec(select(SentimentScore).where(SentimentScore.mention_id == mention)).one()
    assert (score.manual_label, score.manual_by, score.label) == ("neutral", "slack:ann", "negative")
    assert "Relabeled not negative by <@U0ANN>" in json.dumps(world.slack.messages()[0].blocks, ensure_ascii=False)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda body: signed(body, secret="wrong"), id="bad-signature"),
        pytest.param(lambda body: signed(body, age=6 * 60), id="older-than-5-minutes"),
        pytest.param(lambda body: {"Content-Type": "application/x-www-form-urlencoded"}, id="unsigned"),
        pytest.param(lambda body: signed(body + b"&x=1"), id="body-changed"),
        pytest.param(lambda body: {**signed(body), "X-Slack-Request-Timestamp": "soon"}, id="timestamp-not-a-number"),
    ],
)
def test_bad_or_old_signatures_are_refused_and_change_nothing(
    world: World, client: TestClient, posted: tuple[int, Message], headers: object
) -> None:
    mention, message = posted
    body = click(message, ACTION_HANDLED, str(mention))

    response = client.post("/slack/actions", content=body, headers=headers(body))  # type: ignore[operator]

    assert response.status_code == 401
    with session_scope(world.engine) as session:
        assert session.exec(select(Handling)).all() == []
    assert world.slack.messages()[0].edits == 0


def test_clicks_for_unknown_mentions_are_answered_and_ignored(
    world: World, client: TestClient, posted: tuple[int, Message]
) -> None:
    _, message = posted
    body = click(message, ACTION_HANDLED, "999999")
    assert client.post("/slack/actions", content=body, headers=signed(body)).status_code == 200
    assert world.slack.messages()[0].edits == 0
