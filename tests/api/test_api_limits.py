"""The API's limits: bad input is a 422 naming the parameter, reads never write, and
nobody gets a body read before they are authenticated or past 1 MiB."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from mentionwatch.api import create_app
from mentionwatch.api.tokens import Scope, create_token
from mentionwatch.settings import Settings
from store.db import session_scope
from store.models import ApiToken
from tests.analyst.sample_store import fill_sample_store
from tests.api.conftest import Api

DEEP = "(" * 200 + "kurier" + ")" * 200


@pytest.mark.parametrize(
    ("path", "params", "where", "message"),
    [
        ("/mentions", {"cursor": "²"}, ["query", "cursor"], "next_cursor"),
        ("/mentions", {"cursor": "10000000000000000000"}, ["query", "cursor"], "next_cursor"),
        ("/mentions", {"cursor": "0"}, ["query", "cursor"], "next_cursor"),
        ("/mentions", {"cursor": "2147483648"}, ["query", "cursor"], "next_cursor"),
        ("/mentions", {"until": "9999-12-31"}, ["query", "until"], "between 1900-01-01 and 9998-12-31"),
        ("/mentions", {"since": "0001-01-01T00:00:00+01:00"}, ["query", "since"], "between 1900-01-01"),
        ("/mentions", {"q": DEEP}, ["query", "q"], "column 33: query nested deeper than 32 levels"),
        ("/mentions", {"language": "p\x00l"}, ["query", "language"], "must not contain NUL"),
        ("/mentions", {"brand": "Zam\x00"}, ["query", "brand"], "must not contain NUL"),
        ("/mentions/9223372036854775808", {}, ["path", "mention_id"], "less than or equal to 2147483647"),
        ("/metrics", {"last_week": "0001-W02"}, ["query", "last_week"], "1-W02 and the 11 weeks before it"),
        ("/metrics", {"last_week": "9999-W52"}, ["query", "last_week"], "must lie between 1900-01-01 and 9998-12-31"),
        ("/metrics", {"last_week": "1900-W05", "weeks": 8}, ["query", "last_week"], "the 7 weeks before it"),
    ],
)
def test_bad_input_is_422_naming_the_parameter(
    api: Api, path: str, params: dict[str, str], where: list[str], message: str
) -> None:
    response = api.client.get(path, params=params, headers=api.read)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == where and message in error["msg"], response.text


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("handle", '{"state": "ignored", "by": "\\ud800"}'),  # a lone surrogate, as JSON may carry it
        ("relabel", '{"label": "neutral", "by": "o\\u0000la"}'),
    ],
)
def test_text_the_database_cannot_store_is_422(api: Api, action: str, body: str) -> None:
    mention = api.ids["pl-late"]
    before = api.get(f"/mentions/{mention}")
    headers = {**api.write, "Content-Type": "application/json"}
    response = api.client.post(f"/mentions/{mention}/{action}", content=body, headers=headers)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "by"] and "unpaired surrogates" in error["msg"]
    assert api.get(f"/mentions/{mention}") == before


def test_the_edges_of_the_ranges_are_accepted(api: Api) -> None:
    assert api.get("/mentions", since="1900-01-01", until="9998-12-31", cursor=str(2**31 - 1))
    assert api.get("/metrics", last_week="9998-W52", weeks=104)
    assert api.client.get(f"/mentions/{2**31 - 1}", headers=api.read).status_code == 404


@contextmanager
def _writer_holding_the_lock(engine: Engine) -> Iterator[None]:
    """What a crawl saving a batch does to the store: hold the write lock."""
    if engine.dialect.name == "sqlite":
        crawl = sqlite3.connect(engine.url.database or "", isolation_level=None)
        crawl.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            crawl.execute("ROLLBACK")
            crawl.close()
    else:
        with engine.connect() as crawl:
            crawl.execute(text("LOCK TABLE api_tokens IN EXCLUSIVE MODE"))  # readers pass, writers wait
            yield
            crawl.rollback()


def test_reads_go_on_while_a_writer_holds_the_lock(api: Api, engine: Engine) -> None:
    """Every read recorded the token's use, so it waited 30 s for the lock and failed;
    /metrics also stores the days it recomputes, which now waits for nobody either."""
    weeks = {"last_week": "2026-W45", "weeks": "8"}
    with _writer_holding_the_lock(engine):
        for path, params in [("/brands", {}), ("/sources", {}), ("/mentions", {}),
                             (f"/mentions/{api.ids['pl-late']}", {}), ("/metrics", weeks)]:
            started = time.monotonic()
            response = api.client.get(path, params=params, headers=api.read)
            assert response.status_code == 200, response.text
            assert time.monotonic() - started < 3, path
        metrics_while_locked = response.json()
    with session_scope(engine) as session:
        assert session.exec(select(ApiToken.last_used_at).where(ApiToken.name == "looker")).one() is None
    # The lock is gone: the same numbers, and this use is recorded.
    assert api.get("/metrics", **weeks) == metrics_while_locked
    with session_scope(engine) as session:
        assert session.exec(select(ApiToken.last_used_at).where(ApiToken.name == "looker")).one() is not None


def test_token_use_is_recorded_at_most_once_a_minute(api: Api, engine: Engine) -> None:
    def last_used() -> datetime | None:
        with session_scope(engine) as session:
            return session.exec(select(ApiToken.last_used_at).where(ApiToken.name == "looker")).one()

    start = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        api.get("/brands")
        assert last_used() == start
        clock.shift(timedelta(seconds=59))
        api.get("/brands")
        assert last_used() == start
        clock.shift(timedelta(seconds=2))
        api.get("/brands")
        assert last_used() == start + timedelta(seconds=61)


# --- on a real server: what is answered before a body is read ------------------------


@pytest.fixture
def served(sqlite_engine: Engine) -> Iterator[tuple[int, str, int]]:
    """uvicorn on a loopback port: (port, a write token, a mention id)."""
    ids = fill_sample_store(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        secret = create_token(session, name="ola", scope=Scope.write)
    app = create_app(sqlite_engine, Settings(slack_signing_secret="not-a-real-secret"))  # type: ignore[arg-type]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield port, secret, ids["pl-late"]
    server.should_exit = True
    thread.join(timeout=10)


def _status_before_the_body(port: int, head: list[str], body: bytes = b"") -> int:
    """Send the request line, headers and `body` (not all of what they announce): the
    status of an answer that came without the rest; a server that waits for it times out."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(("\r\n".join([*head, "Host: 127.0.0.1", "", ""])).encode() + body)
        return int(sock.recv(65536).split(b" ", 2)[1])


def test_no_token_is_401_before_the_body_is_read(served: tuple[int, str, int]) -> None:
    port, _, mention = served
    post = [f"POST /mentions/{mention}/handle HTTP/1.1", "Content-Type: application/json", "Content-Length: 1000"]
    assert _status_before_the_body(port, post) == 401
    assert _status_before_the_body(port, [*post, "Authorization: Bearer mw_wrong"]) == 401
    slack = ["POST /slack/actions HTTP/1.1", "Content-Type: application/x-www-form-urlencoded", "Content-Length: 1000"]
    assert _status_before_the_body(port, slack) == 401


def test_bodies_over_1_mib_are_413_without_reading_them(served: tuple[int, str, int]) -> None:
    port, secret, mention = served
    handle = [f"POST /mentions/{mention}/handle HTTP/1.1", "Content-Type: application/json",
              f"Authorization: Bearer {secret}"]
    started = time.monotonic()
    assert _status_before_the_body(port, [*handle, "Content-Length: 300000000"]) == 413
    assert _status_before_the_body(port, [*handle[:2], "Content-Length: 300000000"]) in (401, 413)
    slack = ["POST /slack/actions HTTP/1.1", "X-Slack-Signature: v0=00", f"X-Slack-Request-Timestamp: {int(time.time())}"]
    assert _status_before_the_body(port, [*slack, "Content-Length: 300000000"]) == 413
    assert time.monotonic() - started < 3
    # Without a Content-Length, the chunks are counted: refused once past 1 MiB.
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b" " * 64 * 1024)
    assert _status_before_the_body(port, [*handle, "Transfer-Encoding: chunked"], chunk * 17) == 413
    assert _status_before_the_body(port, [*slack, "Transfer-Encoding: chunked"], chunk * 17) == 413


def test_small_bodies_still_work(served: tuple[int, str, int]) -> None:
    port, secret, mention = served
    body = b'{"state": "acknowledged"}'
    head = [f"POST /mentions/{mention}/handle HTTP/1.1", "Content-Type: application/json",
            f"Authorization: Bearer {secret}", f"Content-Length: {len(body)}", "Connection: close"]
    assert _status_before_the_body(port, head, body) == 200
