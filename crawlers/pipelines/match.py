"""Step 3: is the item about the brand?

Sources whose `match_mode` is "all" (the brand's own product, app or review pages)
keep everything. "query" sources (feeds, forums, searches) keep only items whose title
or text matches the brand's boolean query (`store.boolean_query`). A brand without a
query is matched on its name as a phrase, so a general feed cannot flood the store.
"""

from __future__ import annotations

from functools import cache

from crawlers.items import MentionItem
from crawlers.pipelines import PipelineStep
from mentionwatch.config import Brand
from store.boolean_query import Query, parse_query


@cache
def _parse(text: str) -> Query:
    return parse_query(text)


def brand_query(brand: Brand) -> Query:
    """The brand's parsed query; raises QuerySyntaxError (with the column) when it is bad."""
    text = brand.query.strip() or '"{}"'.format(brand.name.replace('"', " "))
    return _parse(text)


class BrandMatchPipeline(PipelineStep):
    def process_item(self, item: MentionItem) -> MentionItem:
        job = self.job
        if job.source.match_mode == "all":
            return item
        if not brand_query(job.brand).matches_fields([item.title, item.text]):
            self.drop("no_match", f"{item.url} does not match the query of {job.brand.name!r}")
        return item
