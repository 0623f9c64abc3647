"""Slack's button clicks, back into the store: POST /slack/actions.

Slack posts a signed `payload` form field for each click on an alert's buttons. The
signature (HMAC of the body with the app's signing secret, and a timestamp at most five
minutes old) is checked before anything is read, so a forged or replayed click gets 401
and changes nothing. "Mark handled" records that the team answered (handling state
`responded`); "Not negative" relabels the mention `neutral`, which wins over the model.
Slack wants an answer within three seconds, so the message is updated to say who did
what (chat.update) after the answer, as a background task.

The HTTP API includes this router: `app.include_router(make_router(get_engine, settings))`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request, Response
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from alerts.slack_blocks import ACTION_HANDLED, ACTION_NOT_NEGATIVE, after_action
from alerts.slack_client import make_client
from mentionwatch.settings import Settings
from store.db import session_scope
from store.models import HandlingState
from store.queries import relabel, set_handling

log = logging.getLogger(__name__)


def make_router(engine_provider: Callable[[], Engine], settings: Settings) -> APIRouter:
    """The router for Slack's interactivity Request URL (`https://<api host>/slack/actions`)."""
    router = APIRouter(tags=["slack"])

    @router.post("/slack/actions", summary="Slack button clicks on alerts")
    async def slack_actions(request: Request, background: BackgroundTasks) -> Response:
        if settings.slack_signing_secret is None:
            raise HTTPException(503, "Slack interactivity is off: set MENTIONWATCH_SLACK_SIGNING_SECRET")
        body = await request.body()
        verifier = SignatureVerifier(settings.slack_signing_secret.get_secret_value())
        if not _signed(verifier, body, request):
            raise HTTPException(401, "invalid or expired Slack signature")
        payload = _payload(body)
        if payload.get("type") != "block_actions":
            return Response(status_code=200)
        notes = await run_in_threadpool(_apply_actions, engine_provider(), payload)
        if notes and settings.slack_token is not None:
            background.add_task(_show_on_message, settings, payload, notes)
        return Response(status_code=200)

    return router


def _signed(verifier: SignatureVerifier, body: bytes, request: Request) -> bool:
    try:
        return verifier.is_valid(
            body=body,
            timestamp=request.headers.get("X-Slack-Request-Timestamp"),
            signature=request.headers.get("X-Slack-Signature"),
        )
    except ValueError:  # a timestamp that is not a number
        return False


def _payload(body: bytes) -> dict[str, Any]:
    try:
        (raw,) = parse_qs(body.decode("utf-8"))["payload"]
        payload = json.loads(raw)
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(400, "expected a form field 'payload' with Slack's JSON") from exc
    if not isinstance(payload, dict):
        raise HTTPException(400, "the payload must be a JSON object")
    return payload


def _apply_actions(engine: Engine, payload: dict[str, Any]) -> list[str]:
    """Record each click in the store; returns what to show on the message."""
    user = payload.get("user") or {}
    user_id = str(user.get("id") or "")
    by = f"slack:{user.get('username') or user.get('name') or user_id or 'unknown'}"
    notes: list[str] = []
    for action in payload.get("actions") or []:
        action_id = action.get("action_id")
        if action_id not in (ACTION_HANDLED, ACTION_NOT_NEGATIVE):
            continue  # the "Open" button only opens a link
        try:
            mention_id = int(action.get("value", ""))
        except ValueError:
            log.warning("Slack action %s with a bad mention id %r", action_id, action.get("value"))
            continue
        who = f"<@{user_id}>" if user_id else by
        try:
            with session_scope(engine) as session:
                if action_id == ACTION_HANDLED:
                    set_handling(session, mention_id=mention_id, state=HandlingState.responded, by=by)
                    notes.append(f"✅ Marked handled by {who}")
                else:
                    relabel(session, mention_id=mention_id, label="neutral", by=by)
                    notes.append(f"🏷️ Relabeled not negative by {who}")
        except LookupError:
            log.warning("Slack action %s for mention %s, which is not in the store", action_id, mention_id)
    return notes


def _show_on_message(settings: Settings, payload: dict[str, Any], notes: list[str]) -> None:
    """Replace the clicked message's buttons with who did what."""
    container = payload.get("container") or {}
    message = payload.get("message") or {}
    channel = container.get("channel_id") or (payload.get("channel") or {}).get("id")
    ts = container.get("message_ts") or message.get("ts")
    if not channel or not ts:
        return
    blocks = after_action(list(message.get("blocks") or []), " · ".join(notes))
    try:
        make_client(settings, timeout=10).chat_update(
            channel=channel, ts=ts, blocks=blocks, text=str(message.get("text") or "")
        )
    except SlackApiError as exc:
        log.warning("could not update the Slack message %s in %s: %s", ts, channel, exc.response.get("error"))
