"""At most N crawls at a time per host, across every worker of the cluster.

Each crawl process keeps to one request at a time per host, and holds one of the host's
N slots while it runs; a slot is a PostgreSQL session advisory lock on (host, slot
number). The database counts for the whole cluster, and a worker that dies, even by
SIGKILL, loses its connection and with it its slots, so nothing needs cleaning up.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from mentionwatch.config import Source


def source_hosts(source: Source) -> set[str]:
    """The hosts a source's crawl requests: its URLs' and its API base URL's."""
    urls = [*source.urls, *([source.base_url] if source.base_url else [])]
    return {host for url in urls if (host := (urlsplit(url).hostname or "").lower())}


def _host_key(host: str) -> int:
    # pg_advisory_lock(int4, int4): the host's CRC-32 as a signed 32-bit number.
    return zlib.crc32(host.encode()) - 2**31


class HostSlots:
    """`hold(hosts)` waits for a free slot of each host, holds them, then gives them back."""

    def __init__(self, engine: Engine, per_host: int, *, poll: float = 0.2) -> None:
        if per_host < 1:
            raise ValueError("per_host must be at least 1")
        self.engine = engine
        self.per_host = per_host
        self.poll = poll

    @contextmanager
    def hold(self, hosts: Iterable[str], stop: threading.Event | None = None) -> Iterator[None]:
        held: list[tuple[int, int]] = []
        with self.engine.connect() as connection:
            try:
                # One host at a time, in a fixed order: two crawls never wait on each other.
                for host in sorted(set(hosts)):
                    held.append(self._take(connection, _host_key(host), stop))
                yield
            finally:
                for key, slot in held:
                    connection.execute(select(func.pg_advisory_unlock(key, slot)))
                connection.commit()

    def _take(self, connection: Connection, key: int, stop: threading.Event | None) -> tuple[int, int]:
        while True:
            for slot in range(self.per_host):
                if connection.execute(select(func.pg_try_advisory_lock(key, slot))).scalar_one():
                    connection.commit()
                    return key, slot
            connection.commit()
            if stop is not None and stop.is_set():
                raise InterruptedError("stopping while waiting for a host slot")
            time.sleep(self.poll)
