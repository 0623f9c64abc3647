"""Step 5: writing mentions to the store, in batches, and counting what happened to each.

Items are buffered and written in one transaction per batch (store.queries.save_mentions:
one SELECT and one multi-row INSERT) when BATCH_SIZE are waiting or the oldest has
waited FLUSH_SECONDS, and when the spider closes. A transaction never stays open across network waits, so
the other writers of a shared SQLite file (the alert sender, a second crawl) are held
up for milliseconds only. The syndication check runs in the same transaction.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from crawlers.items import MentionItem
from crawlers.pipelines import PipelineStep
from crawlers.pipelines.dedup import SyndicationCheck
from crawlers.stats import SAVED, count_drop, count_error
from crawlers.storage import crawl_engine
from store.db import session_scope
from store.queries import MentionInput, SaveOutcome, save_mentions

log = logging.getLogger(__name__)
BATCH_SIZE = 200
FLUSH_SECONDS = 1.0


def mention_fields(item: MentionItem) -> dict[str, Any]:
    return {
        "url": item.url,
        "canonical_url": item.canonical_url,
        "thread_url": item.thread_url,
        "parent_url": item.parent_url,
        "external_id": item.external_id,
        "author": item.author,
        "title": item.title,
        "text": item.text,
        "language": item.language,
        "rating": item.rating,
        "rating_best": item.rating_best,
        "rating_worst": item.rating_worst,
        "views": item.views,
        "published_at": item.published_at,
    }


class SavePipeline(PipelineStep):
    def open_spider(self) -> None:
        assert self.crawler.settings is not None
        self.engine = crawl_engine(self.crawler.settings)
        self.pending: list[MentionItem] = []
        self.oldest = 0.0

    def process_item(self, item: MentionItem) -> MentionItem:
        if not self.pending:
            self.oldest = time.monotonic()
        self.pending.append(item)
        if len(self.pending) >= BATCH_SIZE or time.monotonic() - self.oldest >= FLUSH_SECONDS:
            self.flush()
        return item

    def close_spider(self) -> None:
        self.flush()

    def flush(self) -> None:
        """Write what is waiting: copies dropped, the rest new, updated or unchanged."""
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        stats = self.crawler.stats
        assert stats is not None
        try:
            outcomes = self._write(batch)
        except SQLAlchemyError as exc:
            # Counted as an error, so the cursor stays and the next run fetches these again.
            count_error(stats, "store")
            log.error("source=%s: %d mentions not saved: %s", self.job.source.name, len(batch), exc)
            return
        for outcome, _ in outcomes:
            stats.inc_value(SAVED + outcome.value)

    def _write(self, batch: list[MentionItem]) -> list[tuple[SaveOutcome, int]]:
        job = self.job
        stats = self.crawler.stats
        assert stats is not None
        with session_scope(self.engine) as session:
            syndication = SyndicationCheck(session, brand_id=job.brand_id, items=batch)
            keep: list[MentionItem] = []
            for item in batch:
                original = syndication.original_of(item)
                if original is not None:
                    count_drop(stats, "syndicated")
                    log.debug("source=%s: %s repeats %s", job.source.name, item.url, original)
                else:
                    keep.append(item)
            return save_mentions(
                session,
                items=[
                    MentionInput(job.source_id, job.brand_id, item.dedup_key, item.content_hash, mention_fields(item))
                    for item in keep
                ],
            )
