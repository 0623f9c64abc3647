"""Which mentions are worth a Slack message, and which of those are urgent.

A brand's `AlertRules` (config) say it, in the listed languages and sources:

- a star rating at or below `max_rating` (rescaled to 1-5 from the mention's own
  worst/best, since sites use 5, 10 or 100 point scales) alerts on its own;
- the text alerts when it is negative enough: the model's negative probability, for a
  rated mention judged together with the stars (the author's own verdict: a 3-star
  "good, but..." is not a near-certain negative), at or above `min_negative`. 4-5 stars
  never alert on the text;
- a person's relabel wins over the model and the stars: "negative" alerts, anything
  else does not;
- critical words ("recall", "отзыв", "oszustwo") alert on their own, as urgent, whatever
  the sentiment: a neutral news item about a recall needs an answer fast. They match
  like the brand query language does (case and diacritics folded) and also in inflected
  forms (oszustwa, отзывом, recalled).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mentionwatch.config import AlertRules
from store.boolean_query import Phrase, Query, Term, fold, tokenize
from store.ratings import stars as rating_stars

# Trailing vowels are where Polish, Russian and English inflect; a stem keeps this many letters.
_INFLECTED_ENDING = re.compile(r"[aeiouyаеёиоуыэюяйь]+$")
_MIN_STEM = 4
# From this many stars up, the author is content: the text alone never alerts.
CONTENT_STARS = 4.0


@dataclass(frozen=True)
class Verdict:
    """Why a mention alerts: `reasons` go into the message, `urgent` marks it, `negative`
    says it alerted as a negative (not only for its critical words)."""

    reasons: tuple[str, ...]
    urgent: bool = False
    critical_words: tuple[str, ...] = ()
    negative: bool = True


def rated_negative(prob_negative: float, stars: float | None) -> float:
    """The negative probability of a mention, judged with its stars where it has them.

    The stars give their own probability (1 star 100%, 3 stars 50%, 5 stars 0%) and
    count as much as the model: they are the author's own verdict, so a 3-star review
    whose words complain ("good, but...") is a likely negative, not a near-certain one.
    """
    if stars is None:
        return prob_negative
    return (prob_negative + (5.0 - stars) / 4.0) / 2.0


def _stem(word: str) -> str:
    stem = _INFLECTED_ENDING.sub("", word)
    return stem if len(stem) >= _MIN_STEM else word


def critical_word_query(word: str) -> Query | None:
    """A query matching `word` and its inflected forms; None for a word without letters.

    A word written with a trailing `*` is taken as the user's own prefix.
    """
    prefix_given = word.endswith("*")
    tokens = tokenize(word.rstrip("*"))
    if not tokens:
        return None
    last = tokens[-1] if prefix_given else _stem(tokens[-1])
    terms = [Term(t) for t in tokens[:-1]] + [Term(last, prefix=True)]
    return Query(word, terms[0] if len(terms) == 1 else Phrase(tuple(terms)))


@dataclass(frozen=True)
class MentionFacts:
    """What the rules look at, read from a mention, its source and its score."""

    source: str
    language: str | None
    text: str
    rating: float | None = None
    rating_best: float | None = None
    rating_worst: float | None = None
    label: str | None = None
    prob_negative: float | None = None
    manual_label: str | None = None


class BrandRules:
    """A brand's `AlertRules`, prepared once (the critical words parsed) for many mentions."""

    def __init__(self, rules: AlertRules) -> None:
        self.rules = rules
        self._languages = {fold(lang) for lang in rules.languages}
        self._sources = set(rules.sources)
        self._critical = [(w, q) for w in rules.critical_words if (q := critical_word_query(w)) is not None]

    @property
    def has_critical_words(self) -> bool:
        """Whether any mention may alert for its words alone, whatever its sentiment."""
        return bool(self._critical)

    def evaluate(self, facts: MentionFacts) -> Verdict | None:
        """The verdict for one mention, or None when it does not alert."""
        rules = self.rules
        if not rules.enabled:
            return None
        if self._sources and facts.source not in self._sources:
            return None
        if self._languages and fold(facts.language or "") not in self._languages:
            return None
        negative = self._negative_reasons(facts)
        found = self._critical_words_in(facts.text)
        if not negative and not found:
            return None
        reasons = negative + ((f"critical words: {', '.join(found)}",) if found else ())
        return Verdict(reasons=reasons, urgent=bool(found), critical_words=found, negative=bool(negative))

    def _negative_reasons(self, facts: MentionFacts) -> tuple[str, ...]:
        if facts.manual_label is not None:
            return ("relabeled negative",) if facts.manual_label == "negative" else ()
        stars = rating_stars(facts.rating, best=facts.rating_best, worst=facts.rating_worst)
        if stars is not None and self.rules.max_rating is not None and stars <= self.rules.max_rating:
            return (f"rated {stars:.1f} of 5",)
        if stars is not None and stars >= CONTENT_STARS:
            return ()
        if facts.prob_negative is not None:
            judged = rated_negative(facts.prob_negative, stars)
            if judged >= self.rules.min_negative:
                return (f"negative {judged:.0%}" + (f" with {stars:.1f} of 5" if stars is not None else ""),)
        elif facts.label == "negative" and stars is None:
            return ("negative",)
        return ()

    def _critical_words_in(self, text: str) -> tuple[str, ...]:
        return tuple(word for word, query in self._critical if query.matches(text))
