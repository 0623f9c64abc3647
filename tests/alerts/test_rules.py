"""Which mentions alert: negative probability, low stars, filters, relabels, critical words."""

from __future__ import annotations

import pytest

from alerts.rules import BrandRules, MentionFacts, critical_word_query, rated_negative
from mentionwatch.config import AlertRules
from store.ratings import stars as rating_stars


def facts(**kwargs: object) -> MentionFacts:
    values: dict[str, object] = {"source": "reviews", "language": "pl", "text": "Obsługa była w porządku."}
    values.update(kwargs)
    return MentionFacts(**values)  # type: ignore[arg-type]


RULES = BrandRules(
    AlertRules(min_negative=0.6, max_rating=2, critical_words=["oszustwo", "отзыв", "recall", "data leak"])
)


@pytest.mark.parametrize(
    ("rating", "best", "worst", "stars"),
    [(1, 5, 1, 1.0), (5, 5, 1, 5.0), (2, 10, 1, 1 + 4 / 9), (20, 100, 0, 1.8), (3, None, None, 3.0), (0, 5, 0, 1.0)],
)
def test_ratings_are_rescaled_to_one_to_five_from_their_own_scale(
    rating: float, best: float | None, worst: float | None, stars: float
) -> None:
    assert rating_stars(rating, best=best, worst=worst) == pytest.approx(stars)


def test_negative_probability_at_or_above_the_threshold_alerts() -> None:
    assert RULES.evaluate(facts(prob_negative=0.59)) is None
    verdict = RULES.evaluate(facts(prob_negative=0.6))
    assert verdict is not None and verdict.reasons == ("negative 60%",) and not verdict.urgent


def test_a_low_star_rating_alerts_on_its_own_even_unscored() -> None:
    verdict = RULES.evaluate(facts(rating=3, rating_best=10, rating_worst=1))
    assert verdict is not None and verdict.reasons == ("rated 1.9 of 5",) and verdict.negative
    assert RULES.evaluate(facts(rating=4, rating_best=10, rating_worst=1)) is None
    assert RULES.evaluate(facts(rating=3, rating_best=5)) is None
    assert BrandRules(AlertRules(max_rating=None)).evaluate(facts(rating=1)) is None


@pytest.mark.parametrize("rating", [4, 5, 8.5])
def test_four_or_five_stars_never_alert_on_the_text_alone(rating: float) -> None:
    best = 10 if rating > 5 else 5
    assert RULES.evaluate(facts(rating=rating, rating_best=best, prob_negative=0.99, label="negative")) is None
    verdict = RULES.evaluate(facts(rating=rating, rating_best=best, prob_negative=0.99, text="Recall notice"))
    assert verdict is not None and verdict.urgent and verdict.reasons == ("critical words: recall",)


def test_a_rated_text_is_judged_with_its_stars() -> None:
    # "Good, but the delivery was late" with 3 stars: the model's 97% is not a near-certain negative.
    assert rated_negative(0.97, 3.0) == pytest.approx(0.735)
    assert rated_negative(0.97, None) == 0.97
    strict = BrandRules(AlertRules(min_negative=0.8, max_rating=2))
    assert strict.evaluate(facts(rating=3, prob_negative=0.97)) is None
    assert strict.evaluate(facts(prob_negative=0.97)) is not None  # the same text, unrated
    verdict = RULES.evaluate(facts(rating=3, prob_negative=0.97))
    assert verdict is not None and verdict.reasons == ("negative 74% with 3.0 of 5",)
    assert RULES.evaluate(facts(rating=3, prob_negative=0.65)) is None  # 57% with its stars


def test_a_manual_relabel_wins_over_the_model_and_the_stars() -> None:
    assert RULES.evaluate(facts(prob_negative=0.99, rating=1, manual_label="neutral")) is None
    verdict = RULES.evaluate(facts(prob_negative=0.05, label="positive", manual_label="negative"))
    assert verdict is not None and verdict.reasons == ("relabeled negative",)


def test_languages_and_sources_filter() -> None:
    rules = BrandRules(AlertRules(languages=["pl", "RU"], sources=["reviews"]))
    assert rules.evaluate(facts(prob_negative=0.9, language="ru")) is not None
    assert rules.evaluate(facts(prob_negative=0.9, language="en")) is None
    assert rules.evaluate(facts(prob_negative=0.9, language=None)) is None
    assert rules.evaluate(facts(prob_negative=0.9, source="forum")) is None
    assert BrandRules(AlertRules(enabled=False)).evaluate(facts(prob_negative=0.9)) is None


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("To OSZUSTWO, nie kupujcie", ("oszustwo",)),
        ("Padłem ofiarą oszustwa", ("oszustwo",)),  # inflected
        ("Oszuście zapłacili", ()),  # another word: oszuści/oszuście are listed separately
        ("Пришлось оформить отзыв товара, отзывом занимается суд", ("отзыв",)),
        ("The blenders were RECALLED last week", ("recall",)),
        ("Huge data leaks at the shop", ("data leak",)),
        ("Recalculated totals", ()),
        ("Nothing to see", ()),
    ],
)
def test_critical_words_match_case_diacritics_and_inflection_insensitively_and_mark_urgent(
    text: str, found: tuple[str, ...]
) -> None:
    verdict = RULES.evaluate(facts(text=text, prob_negative=0.9))
    assert verdict is not None and verdict.critical_words == found and verdict.urgent == bool(found)


def test_critical_words_alert_on_their_own_as_urgent_whatever_the_sentiment() -> None:
    text = "Zefir recalls Z300 espresso machines over scalding risk"
    for sentiment in ({"prob_negative": 0.1, "label": "neutral"}, {}, {"manual_label": "positive"}):
        verdict = RULES.evaluate(facts(text=text, **sentiment))
        assert verdict is not None and verdict.urgent and not verdict.negative
        assert verdict.reasons == ("critical words: recall",)
    assert RULES.evaluate(facts(text="Product launch announced", prob_negative=0.1)) is None


def test_a_trailing_star_is_the_users_own_prefix() -> None:
    query = critical_word_query("zwrot*")
    assert query is not None and query.matches("Żądam zwrotu pieniędzy")
    assert critical_word_query("!!!") is None
