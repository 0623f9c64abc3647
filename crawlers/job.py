"""What one spider run is about: a configured source, its brand, its store ids and cursors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from mentionwatch.config import Brand, Source


@dataclass
class SourceJob:
    """Handed to a spider as its `job` argument; the pipeline steps read it too.

    `cursors` holds the values saved by the previous run (key -> value, see
    `MentionSpider.cursor`); `new_cursors` collects what this run has seen, and is saved
    only when the run ended without errors, so a failed page is fetched again next time.
    """

    source: Source
    brand: Brand
    source_id: int
    brand_id: int
    cursors: Mapping[str, str] = field(default_factory=dict)
    new_cursors: dict[str, str] = field(default_factory=dict)

    @property
    def timezone(self) -> ZoneInfo:
        """The zone of the source's naive and localized times: `options.timezone`, else the brand's."""
        name = self.source.options.get("timezone")
        return ZoneInfo(name) if isinstance(name, str) else self.brand.tz
