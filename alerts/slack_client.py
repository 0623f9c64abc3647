"""Posting alerts to Slack exactly once, through timeouts, 5xx, 429 and crashes.

The hard case is a post whose answer is lost: a timeout, a dropped connection or a 5xx
after Slack stored the message, or a sender killed between posting and recording it.
Posting again would double it, not posting could lose it. So every message carries
metadata naming its outbox row, and whenever a post may already have happened (a retry
after an unclear failure, or a row an earlier attempt started) the channel's history —
or the thread's replies — is searched for that row before posting.

A 429 is clear (Slack did not post): slack_sdk's RateLimitErrorRetryHandler waits the
Retry-After and tries again. slack_sdk's connection-error retry is left out on purpose:
it would repost blindly. Errors that need a person (channel_not_found, not_in_channel,
invalid_auth, ...) raise PermanentSendError at once.
"""

from __future__ import annotations

import http.client
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.web import SlackResponse
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from alerts.delivery import Delivery, PermanentSendError, TransientSendError
from alerts.outbox import AlertSetupError
from alerts.slack_blocks import SlackMessage, is_message_for, render
from alerts.view import Alert
from mentionwatch.settings import Settings
from store.models import AlertOutbox

log = logging.getLogger(__name__)

# Slack errors worth another try; every other `ok: false` needs a person.
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
# Slack's clock and ours may differ: search history from a little before the row was queued.
_CLOCK_SLACK = timedelta(minutes=5)


class _NotPosted(Exception):
    """Slack clearly did not act (a 429): try again without looking first."""


class _Unclear(Exception):
    """The call may or may not have taken effect: look before posting again."""


def make_client(settings: Settings, *, timeout: float = 30.0, rate_limit_retries: int = 3) -> WebClient:
    """A WebClient for the bot token that waits out 429s and does not retry blindly."""
    if settings.slack_token is None:
        raise ValueError("no Slack token: set MENTIONWATCH_SLACK_TOKEN")
    return WebClient(
        token=settings.slack_token.get_secret_value(),
        base_url=settings.slack_base_url,
        timeout=timeout,  # type: ignore[arg-type]  # urllib takes float seconds
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries)],
    )


# auth.test answers that mean the token itself is wrong: every post would fail the same way.
BAD_TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"})


def check_token(settings: Settings) -> str | None:
    """Ask Slack whose token this is (auth.test) before the service starts.

    A wrong token would otherwise show only as every alert failing, one by one, after the
    service had been up for a while. Returns "bot in team" for the start-up log, or None
    without a token (alerts go to the console) or when Slack cannot be reached now: that
    is a passing outage, and the outbox keeps the alerts until Slack answers.
    """
    if settings.slack_token is None:
        return None
    client = make_client(settings, timeout=10.0, rate_limit_retries=1)
    try:
        identity = client.auth_test()
    except SlackApiError as exc:
        code = _error_code(exc)
        if code in BAD_TOKEN_ERRORS:
            raise AlertSetupError(f"Slack refused MENTIONWATCH_SLACK_TOKEN ({code}): set a valid bot token") from exc
        log.warning("could not check the Slack token (%s); starting anyway", code)
        return None
    except (OSError, http.client.HTTPException) as exc:
        log.warning("could not reach Slack to check the token (%s); starting anyway", exc)
        return None
    return f"{identity.get('user')} in {identity.get('team')}"


def _error_code(exc: SlackApiError) -> str:
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    return str(data.get("error") or f"http_{exc.response.status_code}")


class SlackTransport:
    """Delivers alerts with chat.postMessage, each exactly once."""

    def __init__(
        self,
        client: WebClient,
        *,
        min_interval: float = 1.0,
        tries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        history_pages: int = 10,
    ) -> None:
        self.client = client
        self.min_interval = min_interval
        self.tries = tries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.history_pages = history_pages
        self._channel_ids: dict[str, str] = {}

    def deliver(self, row: AlertOutbox, alert: Alert, *, thread_ts: str | None) -> Delivery:
        message = render(alert)
        maybe_posted = row.attempts > 0

        def attempt() -> Delivery:
            nonlocal maybe_posted
            if maybe_posted:
                try:
                    found = self._find_posted(row, thread_ts)
                except PermanentSendError as exc:
                    # Without the history there is no telling; failing beats posting twice.
                    raise PermanentSendError(f"{exc} (while checking whether it was already posted)") from exc
                if found is not None:
                    return Delivery(found, recovered=True)
            try:
                return Delivery(self._post(row.channel, message, thread_ts))
            except _Unclear:
                maybe_posted = True
                raise

        retrying = Retrying(
            stop=stop_after_attempt(self.tries),
            wait=wait_exponential_jitter(multiplier=self.backoff, max=self.max_backoff),
            retry=retry_if_exception_type((_Unclear, _NotPosted)),
            before_sleep=lambda state: log.info(
                "alert %s: retrying after %s", row.id, state.outcome.exception() if state.outcome else "?"
            ),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except (_Unclear, _NotPosted) as exc:
            raise TransientSendError(str(exc)) from exc

    def _post(self, channel: str, message: SlackMessage, thread_ts: str | None) -> str:
        response = self._call(
            self.client.chat_postMessage,
            channel=channel,
            text=message.text,
            blocks=message.blocks,
            metadata=message.metadata,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
        )
        self._channel_ids[channel.lstrip("#")] = str(response["channel"])
        return str(response["ts"])

    def _find_posted(self, row: AlertOutbox, thread_ts: str | None) -> str | None:
        """The ts of this row's message if an earlier attempt posted it, else None."""
        assert row.id is not None
        channel_id = self._channel_id(row.channel)
        oldest = f"{(row.created_at - _CLOCK_SLACK).timestamp():.6f}"
        method: Callable[..., SlackResponse]
        args: dict[str, Any] = {"channel": channel_id, "oldest": oldest, "include_all_metadata": True, "limit": 200}
        if thread_ts:
            method, args["ts"] = self.client.conversations_replies, thread_ts
        else:
            method = self.client.conversations_history
        cursor: str | None = None
        for _ in range(self.history_pages):
            response = self._call(method, cursor=cursor, **args)
            for message in response.get("messages") or []:
                if is_message_for(message.get("metadata"), row.id):
                    log.info("alert %s was already posted (ts %s); not posting again", row.id, message["ts"])
                    return str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        log.warning("alert %s: not found in the last %d history pages; posting it", row.id, self.history_pages)
        return None

    def _channel_id(self, channel: str) -> str:
        """conversations.history needs the id; config may name the channel (#alerts)."""
        name = channel.lstrip("#")
        if _CHANNEL_ID.match(name):
            return name
        if name not in self._channel_ids:
            cursor: str | None = None
            while True:
                response = self._call(
                    self.client.conversations_list,
                    types="public_channel,private_channel",
                    exclude_archived=True,
                    limit=1000,
                    cursor=cursor,
                )
                for found in response.get("channels") or []:
                    self._channel_ids[str(found["name"])] = str(found["id"])
                cursor = (response.get("response_metadata") or {}).get("next_cursor")
                if name in self._channel_ids or not cursor:
                    break
        if name not in self._channel_ids:
            raise PermanentSendError(f"channel_not_found: {channel}")
        return self._channel_ids[name]

    @staticmethod
    def _call(method: Callable[..., SlackResponse], **kwargs: Any) -> SlackResponse:
        """Call the Web API, sorting failures into clear, unclear and permanent."""
        try:
            return method(**kwargs)
        except SlackApiError as exc:
            status, code = exc.response.status_code, _error_code(exc)
            if status == 429 or code == "ratelimited":
                raise _NotPosted(f"rate limited ({code})") from exc
            if status >= 500 or code in TRANSIENT_ERRORS:
                raise _Unclear(f"HTTP {status}: {code}") from exc
            raise PermanentSendError(code) from exc
        except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, dropped connections
            raise _Unclear(f"{type(exc).__name__}: {exc}") from exc
