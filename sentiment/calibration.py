"""Making ``score`` a probability, and choosing the alert threshold from it.

Temperature scaling (Guo et al. 2017) divides the logits by one number fitted on dev
texts to minimise their negative log-likelihood: the winning label never changes, but a
0.9 then means right about nine times in ten. Expected calibration error (ECE) measures
how far that holds: the gap between confidence and accuracy, averaged over confidence
bins weighted by their texts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize_scalar

ECE_BINS = 15
# Candidate thresholds for alerts, in steps of a hundredth as the config file writes them.
THRESHOLDS = np.round(np.arange(0.30, 1.0, 0.01), 2)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def negative_log_likelihood(logits: np.ndarray, gold: np.ndarray) -> float:
    """Mean -log p(gold) under the softmax of ``logits``."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probabilities[np.arange(len(gold)), gold].mean())


def fit_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    """The temperature T > 0 whose softmax(logits / T) fits ``gold`` (label indices) best."""
    result = minimize_scalar(
        lambda log_t: negative_log_likelihood(logits / np.exp(log_t), gold), bounds=(-3.0, 3.0), method="bounded"
    )
    return float(np.exp(result.x))


def expected_calibration_error(probabilities: np.ndarray, gold: np.ndarray, bins: int = ECE_BINS) -> float:
    """Confidence-accuracy gap of the winning label, over equal-width confidence bins."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == gold
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            gap += in_bin.mean() * abs(confidence[in_bin].mean() - correct[in_bin].mean())
    return float(gap)


def alert_threshold(gold: Sequence[str], prob_negative: np.ndarray, min_precision: float) -> float:
    """The threshold on P(negative) with the best recall of negatives among those whose
    alerts are at least ``min_precision`` precise; of equal recalls the highest threshold,
    which can only drop false alerts (the highest candidate if none is precise enough)."""
    is_negative = np.array([label == "negative" for label in gold], dtype=bool)
    best, best_recall = float(THRESHOLDS[-1]), -1.0
    for threshold in THRESHOLDS:
        alerted = prob_negative >= threshold
        if not alerted.any():
            continue
        precision = (alerted & is_negative).sum() / alerted.sum()
        recall = (alerted & is_negative).sum() / max(is_negative.sum(), 1)
        if precision >= min_precision and recall >= best_recall:
            best, best_recall = float(threshold), float(recall)
    return best
