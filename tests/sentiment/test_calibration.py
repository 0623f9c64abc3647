"""Temperature scaling, calibration error and the alert threshold, on numbers with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from sentiment.calibration import alert_threshold, expected_calibration_error, fit_temperature, softmax


def test_the_fitted_temperature_undoes_overconfident_logits() -> None:
    rng = np.random.default_rng(0)
    true_logits = rng.normal(scale=2.0, size=(4000, 3))
    probabilities = softmax(true_logits)
    gold = np.array([rng.choice(3, p=p) for p in probabilities])
    # A model three times too sure of itself: its logits are the true ones times 3.
    assert fit_temperature(3 * true_logits, gold) == pytest.approx(3.0, rel=0.1)
    assert expected_calibration_error(probabilities, gold) < 0.03
    assert expected_calibration_error(softmax(3 * true_logits), gold) > 0.1


def test_the_threshold_is_the_one_with_the_best_recall_at_the_required_precision() -> None:
    gold = ["negative"] * 8 + ["neutral"] * 4
    # Negatives at 0.95 ... 0.60; the other texts at 0.90, 0.55, 0.50, 0.45.
    prob_negative = np.array([0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.9, 0.55, 0.5, 0.45])
    # From 0.51 up to 0.60 all 8 negatives alert (precision 8/10, then 8/9): the higher wins.
    assert alert_threshold(gold, prob_negative, 0.8) == 0.6
    # 0.9 precision needs a threshold above the neutral 0.90: only the 0.95 negative alerts.
    assert alert_threshold(gold, prob_negative, 0.9) == 0.95
    # Unreachable precision: the strictest threshold.
    assert alert_threshold(["neutral"], np.array([0.99]), 0.8) == 0.99
