"""Step 5: writing the mention to the store and counting what happened to it."""

from __future__ import annotations

from crawlers.items import MentionItem
from crawlers.pipelines import PipelineStep
from crawlers.stats import SAVED
from crawlers.storage import crawl_engine
from store.db import session_scope
from store.queries import save_mention


class SavePipeline(PipelineStep):
    def open_spider(self) -> None:
        assert self.crawler.settings is not None
        self.engine = crawl_engine(self.crawler.settings)

    def process_item(self, item: MentionItem) -> MentionItem:
        job = self.job
        with session_scope(self.engine) as session:
            outcome, _ = save_mention(
                session,
                source_id=job.source_id,
                brand_id=job.brand_id,
                dedup_key=item.dedup_key,
                content_hash=item.content_hash,
                fields={
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
                    "published_at": item.published_at,
                },
            )
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(SAVED + outcome.value)
        return item
