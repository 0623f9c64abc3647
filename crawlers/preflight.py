"""What a crawl would refuse, found without fetching anything (for `mentionwatch check`).

Each spider works out its first requests from the source's config alone: the URLs, the
API root, the options and the environment variables it needs. Building them here, with
no reactor and no network, turns a mistake that a crawl would only log (the source
"not crawled") into one line at `check` time.
"""

from __future__ import annotations

import re

from crawlers.job import SourceJob
from mentionwatch.config import Config


def source_problems(config: Config) -> list[str]:
    """One line per source that a crawl could not start, naming it and what it lacks."""
    problems = []
    for source in config.sources:
        job = SourceJob(source=source, brand=config.brand(source.brand), source_id=0, brand_id=0)
        try:
            requests = list(source.kind.spider(job=job).first_requests())
        except (ValueError, NotImplementedError) as exc:
            # Spiders name the source themselves ("source 'x': ..."); say it once.
            reason = re.sub(rf"^source {re.escape(repr(source.name))}:? ", "", str(exc))
            problems.append(f"source {source.name!r}: {reason}")
            continue
        if not requests:
            problems.append(f"source {source.name!r}: nothing to crawl; list its urls (or search terms)")
    return problems
