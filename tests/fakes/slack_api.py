"""A fake Slack Web API on loopback, with the faults the real one has.

It is a real HTTP server (127.0.0.1, a free port) so that slack_sdk's own WebClient runs
its real request, retry and error code against it. It implements what mentionwatch
calls — auth.test, chat.postMessage, chat.update, conversations.history and
conversations.replies (with message metadata), conversations.list — records every call,
and can inject, per method and in order: 429 with Retry-After, 500 (before or after the
message was stored), slow responses and dropped connections (also before or after), and
a response held until the test releases it (to SIGKILL a sender at the worst moment).

    with FakeSlack(channels={"alerts": "C0ALERTS"}) as slack:
        slack.inject("chat.postMessage", Fault.rate_limited(retry_after=0), Fault.dropped(after=True))
        ... WebClient(token=slack.token, base_url=slack.base_url) ...
        slack.messages("C0ALERTS")

Run it alone for manual tries: `python -m tests.fakes.slack_api` prints its base URL.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BOT_TOKEN = "xoxb-fake-token"


@dataclass(frozen=True)
class Fault:
    """What to do instead of (or besides) the normal answer to one call.

    `after`: the call takes effect (the message is stored) before the fault, which is the
    case a sender cannot tell from a lost request.
    """

    kind: str  # rate_limited | server_error | slow | dropped | hold
    after: bool = False
    retry_after: int = 0
    delay: float = 0.0

    @classmethod
    def rate_limited(cls, retry_after: int = 0) -> Fault:
        return cls("rate_limited", retry_after=retry_after)

    @classmethod
    def server_error(cls, *, after: bool = False) -> Fault:
        return cls("server_error", after=after)

    @classmethod
    def slow(cls, delay: float, *, after: bool = True) -> Fault:
        return cls("slow", after=after, delay=delay)

    @classmethod
    def dropped(cls, *, after: bool = False) -> Fault:
        return cls("dropped", after=after)

    @classmethod
    def hold(cls) -> Fault:
        """Store the message, then answer only once `FakeSlack.release()` is called."""
        return cls("hold", after=True)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    fault: Fault | None = None


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    thread_ts: str | None = None
    posted_at: float = 0.0
    edits: int = 0

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def as_api(self, *, with_metadata: bool) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text, "blocks": self.blocks}
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        if with_metadata and self.metadata:
            data["metadata"] = self.metadata
        return data


class _ApiError(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class FakeSlack:
    """The server, its recorded state and its fault plan; a context manager."""

    def __init__(
        self,
        *,
        channels: dict[str, str] | None = None,
        not_in: set[str] | None = None,
        token: str = BOT_TOKEN,
        page_size: int = 100,
        enforce_per_channel_interval: float | None = None,
    ) -> None:
        # Channel name (without '#') -> id; the bot is a member of all but `not_in`.
        self.channels = dict(channels or {"alerts": "C0ALERTS"})
        self.not_in = set(not_in or ())
        self.token = token
        self.page_size = page_size
        # Like Slack's chat.postMessage limit: posts to one channel closer than this get 429.
        self.enforce_per_channel_interval = enforce_per_channel_interval
        self.calls: list[Call] = []
        # Posts refused with 429 by `enforce_per_channel_interval`.
        self.rate_limited = 0
        self._messages: dict[str, list[Message]] = defaultdict(list)
        self._faults: dict[str, deque[Fault | None]] = defaultdict(deque)
        self._last_post: dict[str, float] = {}
        self._last_ts = 0.0
        self._lock = threading.Lock()
        self._released = threading.Event()
        self.held = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-slack", daemon=True
        )

    # --- lifecycle ----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/api/"

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    # --- test controls --------------------------------------------------------------

    def inject(self, method: str, *faults: Fault | None) -> None:
        """Queue faults for the next calls of `method`, one per call, in order (None: no fault)."""
        with self._lock:
            self._faults[method].extend(faults)

    def release(self) -> None:
        """Let held responses go out."""
        self._released.set()

    def messages(self, channel_id: str | None = None) -> list[Message]:
        """Every stored message, replies included, in posting order."""
        with self._lock:
            if channel_id is not None:
                return list(self._messages[channel_id])
            return sorted((m for ms in self._messages.values() for m in ms), key=lambda m: float(m.ts))

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    # --- the API ------------------------------------------------------------------

    def take_fault(self, method: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(method)
            return queue.popleft() if queue else None

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def handle(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if token != self.token:
            raise _ApiError("invalid_auth")
        handler = _METHODS.get(method)
        if handler is None:
            raise _ApiError("unknown_method")
        with self._lock:
            return handler(self, params)

    def _channel_id(self, value: Any) -> str:
        name = str(value or "").lstrip("#")
        channel_id = self.channels.get(name) or (name if name in self.channels.values() else None)
        if channel_id is None:
            raise _ApiError("channel_not_found")
        if channel_id in self.not_in or name in self.not_in:
            raise _ApiError("not_in_channel")
        return channel_id

    def _new_ts(self) -> str:
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def _find(self, channel_id: str, ts: Any) -> Message:
        for message in self._messages[channel_id]:
            if message.ts == ts:
                return message
        raise _ApiError("message_not_found")

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.test/",
            "team": "Fake",
            "user": "mentionwatch",
            "user_id": "UBOT",
        }

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._channel_id(params.get("channel"))
        now = time.monotonic()
        limit = self.enforce_per_channel_interval
        if limit is not None and now - self._last_post.get(channel_id, -limit) < limit:
            self.rate_limited += 1
            raise _RateLimited(1)
        self._last_post[channel_id] = now
        if not params.get("text") and not params.get("blocks"):
            raise _ApiError("no_text")
        thread_ts = params.get("thread_ts") or None
        if thread_ts is not None:
            self._find(channel_id, thread_ts)
        message = Message(
            channel=channel_id,
            ts=self._new_ts(),
            text=str(params.get("text") or ""),
            blocks=_json_param(params.get("blocks")) or [],
            metadata=_json_param(params.get("metadata")),
            thread_ts=thread_ts,
            posted_at=time.time(),
        )
        self._messages[channel_id].append(message)
        return {"ok": True, "channel": channel_id, "ts": message.ts, "message": message.as_api(with_metadata=True)}

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._channel_id(params.get("channel"))
        message = self._find(channel_id, params.get("ts"))
        if "text" in params:
            message.text = str(params["text"])
        if "blocks" in params:
            message.blocks = _json_param(params["blocks"]) or []
        message.edits += 1
        return {"ok": True, "channel": channel_id, "ts": message.ts, "text": message.text}

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._channel_id(params.get("channel"))
        top_level = [m for m in self._messages[channel_id] if not m.is_reply]
        # Newest first, as Slack returns them.
        return self._page(list(reversed(top_level)), params)

    def _replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._channel_id(params.get("channel"))
        parent = self._find(channel_id, params.get("ts"))
        thread = [parent] + [m for m in self._messages[channel_id] if m.thread_ts == parent.ts and m.is_reply]
        return self._page(thread, params)

    def _page(self, messages: list[Message], params: dict[str, Any]) -> dict[str, Any]:
        oldest = float(params.get("oldest") or 0)
        messages = [m for m in messages if float(m.ts) >= oldest]
        start = int(params.get("cursor") or 0)
        size = min(int(params.get("limit") or self.page_size), self.page_size)
        page = messages[start : start + size]
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        more = start + size < len(messages)
        return {
            "ok": True,
            "messages": [m.as_api(with_metadata=with_metadata) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + size) if more else ""},
        }

    def _list(self, params: dict[str, Any]) -> dict[str, Any]:
        channels = [
            {"id": cid, "name": name, "is_member": cid not in self.not_in} for name, cid in self.channels.items()
        ]
        return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}


class _RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


_METHODS = {
    "auth.test": FakeSlack._auth_test,
    "chat.postMessage": FakeSlack._post_message,
    "chat.update": FakeSlack._update,
    "conversations.history": FakeSlack._history,
    "conversations.replies": FakeSlack._replies,
    "conversations.list": FakeSlack._list,
}


def _json_param(value: Any) -> Any:
    """Block Kit and metadata arrive as JSON strings in form bodies, as objects in JSON bodies."""
    if isinstance(value, str):
        return json.loads(value) if value else None
    return value


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            """Quiet: the test reads `fake.calls`, not stderr."""

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self.do_POST()

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            url = urlsplit(self.path)
            method = url.path.rsplit("/", 1)[-1]
            params: dict[str, Any] = dict(parse_qsl(url.query))
            params.update(self._body())
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.get("token")
            fault = fake.take_fault(method)
            fake.record(Call(method, params, time.time(), fault))
            try:
                self._answer(method, params, token, fault)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout): nothing to answer to

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not raw:
                return {}
            if self.headers.get_content_type() == "application/json":
                return dict(json.loads(raw))
            return dict(parse_qsl(raw.decode("utf-8")))

        def _answer(self, method: str, params: dict[str, Any], token: str | None, fault: Fault | None) -> None:
            if fault is not None and not fault.after:
                self._fail_before(fault)
                return
            try:
                result = fake.handle(method, params, token)
            except _RateLimited as exc:
                self._send(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(exc.retry_after)})
                return
            except _ApiError as exc:
                result = {"ok": False, "error": exc.error}
            if fault is None:
                self._send(200, result)
                return
            # The call took effect; now the answer goes wrong.
            if fault.kind == "slow":
                time.sleep(fault.delay)
                self._send(200, result)
            elif fault.kind == "hold":
                fake.held.set()
                fake._released.wait()
                self._send(200, result)
            elif fault.kind == "server_error":
                self._send_text(500, "Internal Server Error")
            elif fault.kind == "dropped":
                self.close_connection = True
            else:
                self._send(200, result)

        def _fail_before(self, fault: Fault) -> None:
            if fault.kind == "rate_limited":
                self._send(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(fault.retry_after)})
            elif fault.kind == "server_error":
                self._send_text(500, "Internal Server Error")
            elif fault.kind == "slow":
                time.sleep(fault.delay)
                self._send(500, {"ok": False, "error": "request_timeout"})
            else:  # dropped before the call took effect
                self.close_connection = True

        def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _send_text(self, status: int, text: str) -> None:
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


if __name__ == "__main__":
    with FakeSlack() as server:
        print(f"fake Slack at {server.base_url} (token {server.token}); Ctrl-C stops it", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
