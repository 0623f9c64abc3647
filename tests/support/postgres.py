"""A throwaway PostgreSQL server on loopback for the store tests.

The tests run against a real server rather than a mock because the differences that
bite (timestamptz, full-text search, upsert conflicts) only show on the real thing.
`MENTIONWATCH_TEST_POSTGRES_URL` points the tests at an existing server instead. Without
a server the PostgreSQL tests are skipped, except in CI (`CI=true`), where they fail.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


class PostgresUnavailable(RuntimeError):
    pass


def running_in_ci() -> bool:
    """Whether `CI` is set, as CI services (and .ci/run) do: there a PostgreSQL that
    cannot start fails the run rather than skipping every PostgreSQL test."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _bin_dir() -> Path:
    if pg_config := shutil.which("pg_config"):
        candidate = Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    for found in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(found).parent
    if initdb := shutil.which("initdb"):
        return Path(initdb).parent
    raise PostgresUnavailable("no PostgreSQL server binaries (initdb) found; install the 'postgresql' package")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_owner(argv: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; CI runs as root, so run the server as 'postgres'.
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            raise PostgresUnavailable("running as root without runuser; cannot start PostgreSQL")
        return [runuser, "-u", "postgres", "--", *argv]
    return argv


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a private cluster on 127.0.0.1 and yield its SQLAlchemy URL."""
    if url := os.environ.get("MENTIONWATCH_TEST_POSTGRES_URL"):
        yield url
        return
    bindir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="mw-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    port = _free_port()
    try:
        result = subprocess.run(
            _as_owner([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "mw", "-E", "UTF8", "--no-sync"]),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {result.stderr.strip()[-500:]}")
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        result = subprocess.run(
            _as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            log = (root / "log").read_text() if (root / "log").exists() else result.stderr
            raise PostgresUnavailable(f"pg_ctl start failed: {log.strip()[-500:]}")
        try:
            yield f"postgresql+psycopg://mw@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                _as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                capture_output=True,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def postgres_or_skip() -> Iterator[str]:
    """`running_postgres`, or the tests that need it skipped with the reason (failed in CI)."""
    try:
        with running_postgres() as url:
            yield url
    except PostgresUnavailable as exc:
        if running_in_ci():
            pytest.fail(f"PostgreSQL could not be started, and CI is set: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL could not be started: {exc}")
