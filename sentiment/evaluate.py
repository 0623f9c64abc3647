"""How well a classifier labels texts with gold labels: macro-F1 per dataset and language,
the confusion matrix, and how precise the `negative` alerts are at the alert threshold.

Macro-F1 is the headline number because it weighs the three labels equally: a model
that calls everything neutral scores high accuracy on a neutral-heavy feed but misses
exactly the angry customers community managers need to see. A binary dataset (no neutral
text: its annotators could only pick negative or positive) is scored by the F1 of negative
and positive alone, a neutral answer counting as a miss. Alerts go out when the
probability of `negative` reaches the threshold, not on the winning label, so their
precision and recall are measured that way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from sentiment.dataset import LabeledText
from sentiment.prediction import LABELS, Prediction

NEGATIVE = LABELS.index("negative")
POLAR = [LABELS.index("negative"), LABELS.index("positive")]


class Classifier(Protocol):
    """What evaluation needs from a classifier (SentimentClassifier fits)."""

    def expect(self, texts: int) -> None: ...

    def classify(self, texts: Sequence[str]) -> list[Prediction]: ...


@dataclass(frozen=True)
class Scores:
    """Agreement of predictions with gold labels on one group of texts."""

    count: int
    accuracy: float
    macro_f1: float


@dataclass(frozen=True)
class Alerts:
    """`negative` alerts (probability of negative at or above ``threshold``) on a group."""

    threshold: float
    alerts: int
    negatives: int
    precision: float
    recall: float


@dataclass(frozen=True)
class Evaluation:
    """Scores overall, per language and per dataset, the confusion matrix, and alerts.

    ``confusion[i][j]`` counts texts whose gold label is LABELS[i] and whose predicted
    label is LABELS[j]. ``binary`` names the datasets scored on negative and positive only.
    """

    overall: Scores
    by_language: dict[str, Scores]
    by_dataset: dict[str, Scores]
    binary: list[str]
    confusion: list[list[int]]
    alerts: Alerts
    alerts_by_language: dict[str, Alerts]
    # Each binary dataset scored as if the model never answered neutral there (the larger
    # of negative and positive): the most that telling the model "these texts are never
    # neutral", which training must not, could give. It bounds the binary target.
    binary_polar: dict[str, Scores] = field(default_factory=dict)


def confusion_matrix(gold: Sequence[str], predicted: Sequence[str]) -> np.ndarray:
    """Counts of (gold, predicted) label pairs, rows and columns in LABELS order."""
    matrix = np.zeros((len(LABELS), len(LABELS)), dtype=np.int64)
    for g, p in zip(gold, predicted, strict=True):
        matrix[LABELS.index(g), LABELS.index(p)] += 1
    return matrix


def scores(gold: Sequence[str], predicted: Sequence[str], *, binary: bool = False) -> Scores:
    """Accuracy and macro-F1, averaging F1 over labels that occur in gold or predictions.

    A label that neither side uses says nothing about the model, so it is left out of
    the average (as scikit-learn does); a label one side uses and the other never gets
    right counts with F1 = 0. ``binary`` averages over negative and positive only, so a
    neutral answer to a binary set's text costs recall and nothing else.
    """
    matrix = confusion_matrix(gold, predicted)
    true_positives = np.diag(matrix).astype(np.float64)
    gold_counts, predicted_counts = matrix.sum(axis=1), matrix.sum(axis=0)
    used = (gold_counts + predicted_counts) > 0
    if binary:
        used[LABELS.index("neutral")] = False
    f1 = np.divide(2 * true_positives, gold_counts + predicted_counts, out=np.zeros(len(LABELS)), where=used)
    total = int(matrix.sum())
    return Scores(
        count=total,
        accuracy=float(true_positives.sum() / total) if total else 0.0,
        macro_f1=float(f1[used].mean()) if used.any() else 0.0,
    )


def alerts(gold: Sequence[str], prob_negative: np.ndarray, threshold: float) -> Alerts:
    """Precision and recall of alerting on every text whose P(negative) >= ``threshold``."""
    is_negative = np.array([label == "negative" for label in gold], dtype=bool)
    alerted = np.asarray(prob_negative) >= threshold
    hits = int((alerted & is_negative).sum())
    return Alerts(
        threshold=threshold,
        alerts=int(alerted.sum()),
        negatives=int(is_negative.sum()),
        precision=hits / int(alerted.sum()) if alerted.any() else 0.0,
        recall=hits / int(is_negative.sum()) if is_negative.any() else 0.0,
    )


def binary_datasets(rows: Iterable[LabeledText]) -> list[str]:
    """Named datasets with no neutral text: their annotators were never offered "neutral"."""
    rows = list(rows)
    with_neutral = {row.dataset for row in rows if row.label == "neutral"}
    return sorted({row.dataset for row in rows if row.dataset} - with_neutral)


def evaluation(rows: Sequence[LabeledText], probabilities: np.ndarray, threshold: float) -> Evaluation:
    """Scores of the most probable labels, and of alerts at ``threshold``, against the rows' gold labels."""
    gold = [row.label for row in rows]
    predicted = [LABELS[i] for i in np.asarray(probabilities).argmax(axis=1)] if len(rows) else []
    prob_negative = np.asarray(probabilities)[:, NEGATIVE] if len(rows) else np.zeros(0)
    binary = binary_datasets(rows)

    def picked(key: str, value: str) -> list[int]:
        return [i for i, row in enumerate(rows) if getattr(row, key) == value]

    def group_scores(key: str) -> dict[str, Scores]:
        result = {}
        for value in sorted({getattr(row, key) for row in rows} - {""}):
            index = picked(key, value)
            is_binary = key == "dataset" and value in binary
            result[value] = scores([gold[i] for i in index], [predicted[i] for i in index], binary=is_binary)
        return result

    def polar_scores(dataset: str) -> Scores:
        index = picked("dataset", dataset)
        chosen = np.asarray(probabilities)[index][:, POLAR].argmax(axis=1)
        return scores([gold[i] for i in index], [LABELS[POLAR[i]] for i in chosen], binary=True)

    languages = sorted({row.lang for row in rows} - {""})
    return Evaluation(
        overall=scores(gold, predicted),
        by_language=group_scores("lang"),
        by_dataset=group_scores("dataset"),
        binary=binary,
        confusion=confusion_matrix(gold, predicted).tolist(),
        alerts=alerts(gold, prob_negative, threshold),
        alerts_by_language={
            lang: alerts([gold[i] for i in picked("lang", lang)], prob_negative[picked("lang", lang)], threshold)
            for lang in languages
        },
        binary_polar={name: polar_scores(name) for name in binary},
    )


def probabilities_of(predictions: Sequence[Prediction]) -> np.ndarray:
    """The (texts x LABELS) probabilities of a classifier's predictions."""
    rows = [[p.probabilities.get(label, 0.0) for label in LABELS] for p in predictions]
    return np.array(rows, dtype=np.float64).reshape(-1, len(LABELS))


def evaluate_rows(rows: Sequence[LabeledText], classifier: Classifier, threshold: float) -> Evaluation:
    """Classify every labeled text (e.g. from `sentiment.dataset.read_labeled`) and score it."""
    classifier.expect(len(rows))  # a big file is worth compiling for at once
    return evaluation(rows, probabilities_of(classifier.classify([row.text for row in rows])), threshold)
