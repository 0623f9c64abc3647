"""Evaluation metrics on small hand-made TSVs whose answers are worked out by hand."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

import numpy as np

from sentiment.dataset import LabeledText, parse_tsv, read_labeled, read_tsv
from sentiment.evaluate import alerts, evaluate_rows, evaluation, scores
from sentiment.prediction import Prediction

# gold label per text, and what the fake classifier answers
ROWS = [
    ("pl", "negative", "Paczka nie doszła.", "negative"),
    ("pl", "negative", "Obsługa olała reklamację.", "neutral"),
    ("pl", "neutral", "Zamówienie złożone wczoraj.", "neutral"),
    ("pl", "positive", "Super sklep!", "positive"),
    ("en", "positive", "Love it", "positive"),
    ("en", "negative", "Oh great, broken again.", "positive"),
]


class FakeClassifier:
    """Answers from a fixed table, so the expected metrics are known exactly."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.expected = 0

    def expect(self, texts: int) -> None:
        self.expected = texts

    def classify(self, texts: Sequence[str]) -> list[Prediction]:
        return [Prediction(self.answers[t], 1.0, {self.answers[t]: 1.0}) for t in texts]


@pytest.fixture
def gold_tsv(tmp_path: Path) -> Path:
    path = tmp_path / "gold.tsv"
    lines = ["split\tlang\tlabel\tkind\ttext"] + [f"test\t{lang}\t{label}\treview\t{text}" for lang, label, text, _ in ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_accuracy_macro_f1_and_confusion_per_language(gold_tsv: Path) -> None:
    classifier = FakeClassifier({text: answer for _, _, text, answer in ROWS})
    result = evaluate_rows(read_tsv(gold_tsv), classifier, threshold=0.5)
    assert classifier.expected == len(ROWS)
    # pl: 3 of 4 right; F1 negative 2/3, neutral 2/3, positive 1.
    assert result.by_language["pl"].count == 4
    assert result.by_language["pl"].accuracy == pytest.approx(0.75)
    assert result.by_language["pl"].macro_f1 == pytest.approx(7 / 9)
    # en: 1 of 2; F1 negative 0, positive 2/3; neutral occurs nowhere and is left out.
    assert result.by_language["en"].accuracy == pytest.approx(0.5)
    assert result.by_language["en"].macro_f1 == pytest.approx(1 / 3)
    # overall: 4 of 6; F1 = 2 tp / (gold + predicted): negative 2/4, neutral 2/3, positive 4/5.
    assert result.overall.accuracy == pytest.approx(4 / 6)
    assert result.overall.macro_f1 == pytest.approx((0.5 + 2 / 3 + 0.8) / 3)
    assert result.confusion == [[1, 1, 1], [0, 1, 0], [0, 0, 2]]


def test_a_perfect_and_a_useless_classifier() -> None:
    assert scores(["negative", "positive"], ["negative", "positive"]).macro_f1 == 1.0
    assert scores(["negative", "positive"], ["positive", "negative"]).macro_f1 == 0.0
    assert scores([], []).count == 0


def test_extra_columns_are_ignored_and_quotes_are_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "x.tsv"
    path.write_text('id\tlang\ttext\tlabel\n7\ten\t"quoted" and\ttabs\tneutral\n', encoding="utf-8")
    with pytest.raises(ValueError, match="label 'tabs'"):
        read_tsv(path)
    (row,) = parse_tsv(['lang\tlabel\ttext\n', 'en\tneutral\t"Fine," he said.\n'], "inline")
    assert row.text == '"Fine," he said.'


def test_a_file_without_the_needed_columns_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lacks the column"):
        parse_tsv(["lang\ttext\n", "en\thello\n"], "no-label.tsv")
    with pytest.raises(ValueError, match="no .tsv files"):
        read_labeled(tmp_path)


def test_a_folder_is_read_file_by_file_and_a_file_without_dataset_column_is_its_own_dataset(tmp_path: Path) -> None:
    (tmp_path / "b_tweets.tsv").write_text("text\tlabel\nok\tneutral\n", encoding="utf-8")
    (tmp_path / "a_mixed.tsv").write_text("text\tlabel\tlang\tdataset\nzle\tnegative\tpl\tpolemo\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not data", encoding="utf-8")
    rows = read_labeled(tmp_path)
    assert [(r.text, r.lang, r.dataset) for r in rows] == [("zle", "pl", "polemo"), ("ok", "", "b_tweets")]


def test_a_binary_dataset_is_scored_on_negative_and_positive_with_neutral_answers_as_misses() -> None:
    gold = ["negative", "negative", "positive", "positive"]
    # negative: 1 of 2 found, 1 predicted -> F1 2/3; positive: 2 of 2, 2 predicted -> F1 1.
    predicted = ["negative", "neutral", "positive", "positive"]
    assert scores(gold, predicted, binary=True).macro_f1 == pytest.approx((2 / 3 + 1) / 2)
    # Three-class scoring would add neutral's F1 of 0 to the average.
    assert scores(gold, predicted).macro_f1 == pytest.approx((2 / 3 + 0 + 1) / 3)


def test_scores_per_dataset_know_which_sets_are_binary_and_alerts_follow_the_threshold() -> None:
    rows = [
        LabeledText("pl", "negative", "a", dataset="binary_set"),
        LabeledText("pl", "positive", "b", dataset="binary_set"),
        LabeledText("en", "neutral", "c", dataset="three_class"),
        LabeledText("en", "negative", "d", dataset="three_class"),
    ]
    probabilities = np.array([[0.7, 0.2, 0.1], [0.5, 0.1, 0.4], [0.2, 0.7, 0.1], [0.4, 0.5, 0.1]])
    result = evaluation(rows, probabilities, threshold=0.45)
    assert result.binary == ["binary_set"]
    assert result.by_dataset["binary_set"].macro_f1 == pytest.approx((2 / 3 + 0) / 2)
    # b's 0.4 positive loses to its 0.5 negative even without neutral: the bound is 2/3 too;
    # a three-class set has no bound.
    assert set(result.binary_polar) == {"binary_set"}
    assert result.binary_polar["binary_set"].macro_f1 == pytest.approx((2 / 3 + 0) / 2)
    assert result.by_dataset["three_class"].macro_f1 == pytest.approx((0 + 2 / 3) / 2)
    # Alerts at 0.45 fire on a and b (the winning label of d is neutral, its 0.4 is below).
    assert (result.alerts.alerts, result.alerts.precision, result.alerts.recall) == (2, 0.5, 0.5)
    assert result.alerts_by_language["en"].alerts == 0 and result.alerts_by_language["pl"].recall == 1.0
    assert alerts(["negative", "neutral"], np.array([0.9, 0.3]), 0.95).precision == 0.0


def test_the_binary_bound_counts_a_neutral_answer_by_the_larger_of_its_polar_probabilities() -> None:
    rows = [LabeledText("es", label, text, dataset="tweets") for label, text in (("negative", "a"), ("positive", "b"))]
    probabilities = np.array([[0.3, 0.6, 0.1], [0.1, 0.6, 0.3]])
    result = evaluation(rows, probabilities, threshold=0.5)
    assert result.by_dataset["tweets"].macro_f1 == 0.0
    assert result.binary_polar["tweets"].macro_f1 == 1.0
