"""Step 4: what makes a mention the same mention, on re-crawl and across sites.

- The dedup key: the source's own id for the item, else its canonical URL; the store
  keeps one row per (source, key), and `save_mention` turns a re-crawl into unchanged
  or updated.
- The content hash: normalized text plus rating. An edit changes it, which is how
  scoring learns to re-score; the same hash under another key of the same brand is a
  syndicated copy (a press release on ten portals) and is dropped.
- Short texts are never called syndicated: two customers who both wrote "polecam!"
  are two mentions.
"""

from __future__ import annotations

import hashlib

from crawlers.items import MentionItem
from crawlers.pipelines import PipelineStep
from crawlers.storage import crawl_engine
from store.db import session_scope
from store.queries import find_same_text

# Fewer words than this and a text is too common to prove copying.
MIN_SYNDICATION_WORDS = 8


def dedup_key(item: MentionItem) -> str:
    return f"id:{item.external_id}" if item.external_id else f"url:{item.canonical_url}"


def content_hash(item: MentionItem) -> str:
    """Stable over whitespace and case, changed by any edit of the words or the rating."""
    words = " ".join(item.text.casefold().split())
    rating = "" if item.rating is None else f"{item.rating:g}/{item.rating_best:g}"
    return hashlib.sha256(f"{words}\x1f{rating}".encode()).hexdigest()


def may_be_syndicated(item: MentionItem) -> bool:
    return len(item.text.split()) >= MIN_SYNDICATION_WORDS


class DedupPipeline(PipelineStep):
    def open_spider(self) -> None:
        assert self.crawler.settings is not None
        self.engine = crawl_engine(self.crawler.settings)

    def process_item(self, item: MentionItem) -> MentionItem:
        item.dedup_key = dedup_key(item)
        item.content_hash = content_hash(item)
        if may_be_syndicated(item):
            with session_scope(self.engine) as session:
                original = find_same_text(
                    session,
                    brand_id=self.job.brand_id,
                    content_hash=item.content_hash,
                    exclude_dedup_key=item.dedup_key,
                )
            if original is not None:
                self.drop("syndicated", f"{item.url} repeats {original.url}")
        return item
