"""A mock web site on 127.0.0.1: serves a folder and a route table, misbehaves on demand.

Spider tests run the real download path against it (robots.txt, pagination, retries,
the pipeline), and can make it answer 429/503 with Retry-After, answer slowly, or send
a broken body:

    with SiteServer(root=SAMPLES, routes={"/feed": Reply.file(path)}) as site:
        site.inject("/feed", Reply(429, headers={"Retry-After": "1"}))
        ... crawl site.url("/feed") ...
        assert [r.path for r in site.requests] == [...]
"""

from __future__ import annotations

import mimetypes
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self
from urllib.parse import unquote, urlsplit

_TYPES = {".json": "application/json", ".xml": "application/xml", ".atom": "application/atom+xml", ".rss": "application/rss+xml"}


def content_type(path: Path) -> str:
    kind = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") or kind.endswith(("json", "xml")) else kind


@dataclass(frozen=True)
class Reply:
    """One response: status, body, headers, and how long to wait before sending it."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0

    @classmethod
    def file(cls, path: Path, *, headers: Mapping[str, str] | None = None) -> Reply:
        return cls(200, path.read_bytes(), {"Content-Type": content_type(path), **(headers or {})})

    @classmethod
    def text(cls, text: str, kind: str = "text/html", status: int = 200) -> Reply:
        return cls(status, text.encode("utf-8"), {"Content-Type": f"{kind}; charset=utf-8"})


@dataclass(frozen=True)
class RecordedRequest:
    path: str  # with the query string
    headers: Mapping[str, str]
    at: float  # time.monotonic() when it arrived
    method: str = "GET"
    body: bytes = b""  # what a POST sent (Google Play's batchexecute pages by it)


Route = Reply | Callable[[RecordedRequest], Reply]


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-body (a crawler refusing an oversized page) is no server error."""

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class SiteServer:
    """A threading HTTP server on an ephemeral loopback port; use it as a context manager.

    Lookup order for a request: injected one-shot replies for its path (with or without
    the query), the route table (path with query, then without), then a file under
    `root` (a folder serves its index.html), else 404.
    """

    def __init__(self, root: Path | None = None, routes: Mapping[str, Route] | None = None) -> None:
        self.root = root
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[RecordedRequest] = []
        self._injected: dict[str, deque[Reply]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="site-server", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def inject(self, path: str, *replies: Reply) -> None:
        """Answer the next requests for `path` with `replies`, in order, then as usual."""
        with self._lock:
            self._injected[path].extend(replies)

    def requested(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path or urlsplit(r.path).path == path]

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _reply_for(self, request: RecordedRequest) -> Reply:
        path_only = urlsplit(request.path).path
        with self._lock:
            for key in (request.path, path_only):
                if self._injected.get(key):
                    return self._injected[key].popleft()
        route = self.routes.get(request.path) or self.routes.get(path_only)
        if route is not None:
            return route(request) if callable(route) else route
        return self._file_reply(unquote(path_only))

    def _file_reply(self, path: str) -> Reply:
        if self.root is None:
            return Reply.text("not found", "text/plain", 404)
        root = self.root.resolve()
        target = (root / path.lstrip("/")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if root not in target.parents or not target.is_file():
            return Reply.text("not found", "text/plain", 404)
        return Reply.file(target)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._answer(RecordedRequest(self.path, dict(self.headers.items()), time.monotonic()))

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._answer(RecordedRequest(self.path, dict(self.headers.items()), time.monotonic(), "POST", body))

            def _answer(self, request: RecordedRequest) -> None:
                with server._lock:
                    server.requests.append(request)
                reply = server._reply_for(request)
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean; `requests` records everything

        return Handler
