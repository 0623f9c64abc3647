"""Step 1: the stored form of a mention: clean text, canonical URL, UTC time, rating scale.

Markup goes through html-text (which drops scripts and styles and keeps paragraph
breaks); whitespace is collapsed so that the same text always hashes the same.
"""

from __future__ import annotations

import re

import html_text

from crawlers.dates import parse_time
from crawlers.items import BodyFormat, MentionItem
from crawlers.pipelines import PipelineStep
from crawlers.urls import canonical_url, unwrap_redirect
from store.ratings import DEFAULT_BEST, DEFAULT_WORST

_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def clean_text(value: str | None, body_format: BodyFormat = "text") -> str:
    """Plain text with single spaces and at most one blank line between paragraphs."""
    if not value:
        return ""
    text = html_text.extract_text(value, guess_layout=True) if body_format == "html" else value
    text = text.replace("\r\n", "\n").replace("\u00a0", " ").replace("\u200b", "")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def parse_number(value: float | str | None) -> float | None:
    """A number from a rating field: 4, "4", "4,5", " 4.5 / 5" (the first number)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    match = re.search(r"-?\d+(?:[.,]\d+)?", value)
    return float(match.group().replace(",", ".")) if match else None


def rating_scale(
    rating: float | str | None, best: float | str | None, worst: float | str | None
) -> tuple[float | None, float | None, float | None]:
    """(value, best, worst) with schema.org's defaults; None for all three when unusable.

    A value above 5 with no bestRating is read on a 0-100 scale (editorial scores such
    as "87" omit it); a value outside its scale is dropped rather than stored wrong.
    """
    value = parse_number(rating)
    if value is None:
        return None, None, None
    high = parse_number(best)
    if high is None:
        high = DEFAULT_BEST if value <= DEFAULT_BEST else 100.0
    low = parse_number(worst)
    if low is None:
        low = DEFAULT_WORST if high == DEFAULT_BEST and value >= DEFAULT_WORST else 0.0
    if not low <= value <= high or low >= high:
        return None, None, None
    return value, high, low


def _canonical_or_none(url: str | None) -> str | None:
    """Context links are nice to have: a malformed one is left out, not fatal."""
    try:
        return canonical_url(url) if url else None
    except ValueError:
        return None


class NormalizePipeline(PipelineStep):
    def process_item(self, item: MentionItem) -> MentionItem:
        job = self.job
        item.text = clean_text(item.body, item.body_format)
        item.title = clean_text(item.title, item.body_format) or None
        item.author = clean_text(item.author) or None
        if not item.text:
            self.drop("empty", f"no text at {item.url}")
        try:
            item.url = unwrap_redirect(item.url)
            item.canonical_url = canonical_url(item.url)
        except ValueError as exc:
            self.drop("bad_url", f"{item.url!r}: {exc}")
        item.thread_url = _canonical_or_none(item.thread_url)
        item.parent_url = _canonical_or_none(item.parent_url)
        item.published_at = parse_time(item.published, zone=job.timezone, languages=item.date_languages)
        item.rating, item.rating_best, item.rating_worst = rating_scale(item.rating, item.rating_best, item.rating_worst)
        return item
