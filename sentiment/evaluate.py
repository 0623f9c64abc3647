"""How well a classifier labels a TSV of gold labels: accuracy, macro-F1, confusion matrix.

Macro-F1 is the headline number because it weighs the three labels equally: a model
that calls everything neutral scores high accuracy on a neutral-heavy feed but misses
exactly the angry customers community managers need to see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from sentiment.dataset import LabeledText
from sentiment.prediction import LABELS, Prediction


class Classifier(Protocol):
    """What evaluation needs from a classifier (SentimentClassifier fits)."""

    def classify(self, texts: Sequence[str]) -> list[Prediction]: ...


@dataclass(frozen=True)
class Scores:
    """Agreement of predictions with gold labels on one group of texts."""

    count: int
    accuracy: float
    macro_f1: float


@dataclass(frozen=True)
class Evaluation:
    """Scores overall and per language, and the overall confusion matrix.

    ``confusion[i][j]`` counts texts whose gold label is LABELS[i] and whose predicted
    label is LABELS[j].
    """

    overall: Scores
    by_language: dict[str, Scores]
    confusion: list[list[int]]


def confusion_matrix(gold: Sequence[str], predicted: Sequence[str]) -> np.ndarray:
    """Counts of (gold, predicted) label pairs, rows and columns in LABELS order."""
    matrix = np.zeros((len(LABELS), len(LABELS)), dtype=np.int64)
    for g, p in zip(gold, predicted, strict=True):
        matrix[LABELS.index(g), LABELS.index(p)] += 1
    return matrix


def scores(gold: Sequence[str], predicted: Sequence[str]) -> Scores:
    """Accuracy and macro-F1, averaging F1 over labels that occur in gold or predictions.

    A label that neither side uses says nothing about the model, so it is left out of
    the average (as scikit-learn does); a label one side uses and the other never gets
    right counts with F1 = 0.
    """
    matrix = confusion_matrix(gold, predicted)
    true_positives = np.diag(matrix).astype(np.float64)
    gold_counts, predicted_counts = matrix.sum(axis=1), matrix.sum(axis=0)
    used = (gold_counts + predicted_counts) > 0
    f1 = np.divide(
        2 * true_positives,
        gold_counts + predicted_counts,
        out=np.zeros(len(LABELS)),
        where=used,
    )
    total = int(matrix.sum())
    return Scores(
        count=total,
        accuracy=float(true_positives.sum() / total) if total else 0.0,
        macro_f1=float(f1[used].mean()) if used.any() else 0.0,
    )


def evaluation(rows: Sequence[LabeledText], predicted: Sequence[str]) -> Evaluation:
    """Scores of ``predicted`` against the rows' gold labels, overall and per language."""
    gold = [row.label for row in rows]
    by_language = {}
    for lang in sorted({row.lang for row in rows}):
        picked = [i for i, row in enumerate(rows) if row.lang == lang]
        by_language[lang] = scores([gold[i] for i in picked], [predicted[i] for i in picked])
    return Evaluation(
        overall=scores(gold, predicted),
        by_language=by_language,
        confusion=confusion_matrix(gold, predicted).tolist(),
    )


def evaluate_rows(rows: Sequence[LabeledText], classifier: Classifier) -> Evaluation:
    """Classify every labeled text (e.g. the rows of `sentiment.dataset.read_tsv`) and score it."""
    predictions = classifier.classify([row.text for row in rows])
    return evaluation(rows, [prediction.label for prediction in predictions])
