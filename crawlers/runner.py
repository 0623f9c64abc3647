"""`run_crawl`: what the command line, the scheduler service and the demo call to crawl.

Each call crawls in a child process (`python -m crawlers.run`) and reads its stats
back. Twisted's reactor cannot be restarted inside one process, so a long-running
caller such as the scheduler could run Scrapy in-process only once; a child process
per call also frees whatever the crawl allocated (lingua's models, Scrapy's queues)
and isolates a crash to one round. The price is a second or two of start-up per call,
nothing next to a crawl's network time.

The child inherits the caller's environment; `settings.database_url`,
`settings.user_agent`, `settings.log_level` and the download size limits are passed
to it explicitly, so a
Settings object built in code (tests, the demo) is honoured. Its log goes to the
caller's stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from crawlers.stats import CrawlRunStats
from mentionwatch.config import Config
from mentionwatch.settings import Settings


class CrawlFailed(RuntimeError):
    """The crawl process died before it could report (not: a source had errors)."""


def run_crawl(
    config: Config,
    settings: Settings,
    *,
    source_names: Sequence[str] | None = None,
    scrapy_overrides: Mapping[str, Any] | None = None,
    timeout: float | None = None,
) -> list[CrawlRunStats]:
    """Crawl the configured sources (or only `source_names`) once; one stats row per source.

    Safe to call repeatedly from one long-running process. Raises KeyError for a
    source name not in the config, CrawlFailed when the crawl process died, and
    subprocess.TimeoutExpired after `timeout` seconds. `scrapy_overrides` are Scrapy
    settings laid over `crawlers.settings` (JSON-serializable values).
    """
    for name in source_names or ():
        config.source(name)
    request = {
        "config": config.model_dump(mode="json"),
        "sources": list(source_names) if source_names else None,
        "scrapy_overrides": dict(scrapy_overrides or {}),
    }
    env = {
        **os.environ,
        "MENTIONWATCH_DATABASE_URL": settings.database_url,
        "MENTIONWATCH_USER_AGENT": settings.user_agent,
        "MENTIONWATCH_LOG_LEVEL": settings.log_level,
    }
    for name in ("download_maxsize", "download_warnsize"):
        if (size := getattr(settings, name)) is not None:
            env[f"MENTIONWATCH_{name.upper()}"] = str(int(size))
    with tempfile.TemporaryDirectory(prefix="mentionwatch-crawl-") as folder:
        stats_file = Path(folder) / "stats.json"
        completed = subprocess.run(
            [sys.executable, "-m", "crawlers.run", "--stats-file", str(stats_file)],
            input=json.dumps(request),
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0 or not stats_file.exists():
            raise CrawlFailed(f"the crawl process exited with status {completed.returncode}; see its log above")
        return [CrawlRunStats.from_json(row) for row in json.loads(stats_file.read_text(encoding="utf-8"))]
