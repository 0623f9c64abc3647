"""Step 4: what makes a mention the same mention, on re-crawl and across sites.

- The dedup key: the source's own id for the item, else its canonical URL; the store
  keeps one row per (source, key), and saving turns a re-crawl into unchanged or
  updated.
- The content hash: normalized text plus rating. An edit changes it, which is how
  scoring learns to re-score; the same hash under another key of the same brand is a
  syndicated copy (a press release on ten portals) and is stored once.
- Short texts are never called syndicated: two customers who both wrote "polecam!"
  are two mentions.

`DedupPipeline` stamps key and hash on each item; the look-up for syndicated copies
(`SyndicationCheck`) runs in the save step's transaction, one query per batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlmodel import Session

from crawlers.items import MentionItem
from crawlers.pipelines import PipelineStep
from store.queries import stored_texts

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


class SyndicationCheck:
    """Which items of a batch about to be saved repeat a text the brand already has.

    Built inside the save step's transaction: one query finds the stored mentions with
    the batch's hashes, and copies within the batch itself count too.
    """

    def __init__(self, session: Session, *, brand_id: int, items: Iterable[MentionItem]) -> None:
        hashes = [item.content_hash for item in items if may_be_syndicated(item)]
        self.stored = stored_texts(session, brand_id=brand_id, content_hashes=hashes)
        self.first_in_batch: dict[str, MentionItem] = {}

    def original_of(self, item: MentionItem) -> str | None:
        """The URL of an earlier copy under another key; None when `item` is no copy."""
        if not may_be_syndicated(item):
            return None
        for key, url in self.stored.get(item.content_hash, []):
            if key != item.dedup_key:
                return url
        earlier = self.first_in_batch.setdefault(item.content_hash, item)
        return earlier.url if earlier.dedup_key != item.dedup_key else None


class DedupPipeline(PipelineStep):
    def process_item(self, item: MentionItem) -> MentionItem:
        item.dedup_key = dedup_key(item)
        item.content_hash = content_hash(item)
        return item
