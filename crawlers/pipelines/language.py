"""Step 2: the mention's language as an ISO 639-1 code, or None when the text does not say.

lingua is accurate on the short Polish, Russian and Ukrainian posts this service sees,
where n-gram detectors guess. The detector is built once per process, restricted to
the languages brands are watched in, so that a short Polish review is not read as
Slovak. Its models load when it is built (a few seconds); the crawl process builds it
before its reactor starts, so the load never stalls downloads.
"""

from __future__ import annotations

from functools import cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from crawlers.items import MentionItem
from crawlers.pipelines import PipelineStep

LANGUAGES = (
    Language.ENGLISH, Language.POLISH, Language.RUSSIAN, Language.UKRAINIAN, Language.GERMAN,
    Language.FRENCH, Language.SPANISH, Language.ITALIAN, Language.CZECH, Language.PORTUGUESE,
)  # fmt: skip
# How far ahead the best language must be of the runner-up; below it the answer is None.
MIN_RELATIVE_DISTANCE = 0.1
# Shorter texts ("ok", "10/10") carry no language.
MIN_LETTERS = 3


@cache
def detector() -> LanguageDetector:
    builder = LanguageDetectorBuilder.from_languages(*LANGUAGES).with_minimum_relative_distance(MIN_RELATIVE_DISTANCE)
    return builder.with_preloaded_language_models().build()


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of `text`'s language, None when unsure."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return None
    language = detector().detect_language_of(text)
    return language.iso_code_639_1.name.lower() if language is not None else None


class LanguagePipeline(PipelineStep):
    def process_item(self, item: MentionItem) -> MentionItem:
        # A one-word review says little; its title often says the rest.
        sample = item.text if len(item.text) >= 40 or not item.title else f"{item.title}\n{item.text}"
        item.language = detect_language(sample)
        return item
