"""What big unauthenticated uploads cost the API server, and the readers next to them.

Starts `mentionwatch api` on loopback over a small SQLite store, then four clients at
once each start a 300 MB POST (the issue's case) and stream it in 1 MB chunks until the
server answers: without a token (and, to see the 401, a 1 MB one), with a token but no
Content-Length (chunked), and with a token and the Content-Length. Meanwhile a reader polls GET /brands. The table shows
when each upload was answered, how much of it had been sent by then, the server's peak
memory above its idle size, and the reader's latency.

Before TokenGate and the 1 MiB body limit, the issue measured 7.8 s and 900 MB for one
such upload before its 401, 2.7 GB for four at once, and reads slowing from 0.03 s to
1.6 s meanwhile.

    python -m benchmarks.api_limits
"""

from __future__ import annotations

import argparse
import os
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from mentionwatch.api.tokens import Scope, create_token
from store.db import make_engine, session_scope, upgrade
from tests.analyst.sample_store import fill_sample_store

CHUNK = b"x" * (1024 * 1024)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_kib(pid: int) -> int:
    """The process's peak resident memory (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc")


def _upload(port: int, head: list[str], megabytes: int, chunked: bool, out: list[tuple[int, float, int]]) -> None:
    """Send the head, then the body in chunks until the server answers; record
    (status, seconds to the answer, megabytes sent by then)."""
    started = time.monotonic()
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall("\r\n".join([*head, "Host: 127.0.0.1", "", ""]).encode())
        while sent < megabytes:
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK) if chunked else CHUNK)
            except OSError:  # the server answered and closed the connection
                break
            sent += 1
        status = int(sock.recv(65536).split(b" ", 2)[1])
    out.append((status, time.monotonic() - started, sent))


def _reader(base: str, token: str, stop: threading.Event, latencies: list[float]) -> None:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        while not stop.is_set():
            started = time.monotonic()
            client.get("/brands").raise_for_status()
            latencies.append(time.monotonic() - started)
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=300, help="size of each upload")
    parser.add_argument("--clients", type=int, default=4, help="uploads at once")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mw-bench-api-"))
    url = f"sqlite:///{folder / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    mention = fill_sample_store(engine)["pl-late"]
    with session_scope(engine) as session:
        token = create_token(session, name="bench", scope=Scope.write)
    engine.dispose()
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("mentionwatch")), "api", "--port", str(port)],
        env={**os.environ, "MENTIONWATCH_DATABASE_URL": url}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/docs")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        idle_latencies: list[float] = []
        stop = threading.Event()
        threading.Timer(2.0, stop.set).start()
        _reader(base, token, stop, idle_latencies)
        idle_kib = _peak_kib(server.pid)
        post = [f"POST /mentions/{mention}/handle HTTP/1.1", "Content-Type: application/json"]
        size = f"Content-Length: {args.megabytes * len(CHUNK)}"
        cases = [
            ("no token, 1 MB", [*post, f"Content-Length: {len(CHUNK)}"], 1, False),
            ("no token, Content-Length", [*post, size], args.megabytes, False),
            ("token, chunked", [*post, f"Authorization: Bearer {token}", "Transfer-Encoding: chunked"],
             args.megabytes, True),
            ("token, Content-Length", [*post, f"Authorization: Bearer {token}", size], args.megabytes, False),
        ]
        print(f"{args.clients} uploads of {args.megabytes} MB at once; GET /brands idle: "
              f"median {statistics.median(idle_latencies) * 1000:.1f} ms")
        print(f"{'upload':<26} {'status':>6} {'answered after':>15} {'MB sent':>8} {'server peak +MB':>16} "
              f"{'GET /brands median / max':>25}")
        for name, head, megabytes, chunked in cases:
            results: list[tuple[int, float, int]] = []
            latencies: list[float] = []
            stop = threading.Event()
            reader = threading.Thread(target=_reader, args=(base, token, stop, latencies))
            reader.start()
            uploads = [threading.Thread(target=_upload, args=(port, head, megabytes, chunked, results))
                       for _ in range(args.clients)]
            for upload in uploads:
                upload.start()
            for upload in uploads:
                upload.join()
            time.sleep(0.2)
            stop.set()
            reader.join()
            statuses = "/".join(sorted({str(r[0]) for r in results}))
            slowest = max(r[1] for r in results)
            sent = max(r[2] for r in results)
            grown = (_peak_kib(server.pid) - idle_kib) / 1024
            print(f"{name:<26} {statuses:>6} {slowest:>13.3f} s {sent:>8} {grown:>16.1f} "
                  f"{statistics.median(latencies) * 1000:>12.1f} / {max(latencies) * 1000:.1f} ms")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
