"""The labels mentionwatch uses and how a checkpoint's own label names map onto them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class Prediction:
    """One text's sentiment: the winning label, its probability, and all three."""

    label: str
    score: float
    probabilities: dict[str, float]


class LabelMapping:
    """Turns a checkpoint's class probabilities into probabilities over LABELS.

    Checkpoints name their classes differently ("LABEL_0", "Negative", five stars...).
    Every class must map to one of ours, several may map to the same one (their
    probabilities add up), so a mistake in the map fails at start-up, not as silent
    mislabels in production.
    """

    def __init__(self, id2label: Mapping[int, str], label_map: Mapping[str, str] | None = None) -> None:
        names = [id2label[i] for i in range(len(id2label))]
        if label_map is None:  # "Negative" or "NEGATIVE" need no map
            mapping = {name: name.lower() for name in names if name.lower() in LABELS}
        else:
            mapping = dict(label_map)
            bad_targets = sorted({target for target in mapping.values() if target not in LABELS})
            if bad_targets:
                raise ValueError(f"label_map targets must be among {LABELS}, got {bad_targets}")
        unmapped = [name for name in names if name not in mapping]
        if unmapped:
            hint = "" if label_map is not None else "; pass label_map, e.g. {'LABEL_0': 'negative', ...}"
            raise ValueError(f"the model's labels {unmapped} do not map to {LABELS}{hint}")
        # One column per class of the checkpoint, one row per label of ours.
        self._matrix = np.zeros((len(LABELS), len(names)), dtype=np.float64)
        for column, name in enumerate(names):
            self._matrix[LABELS.index(mapping[name]), column] = 1.0

    def predictions(self, class_probabilities: np.ndarray) -> list[Prediction]:
        """Map a (texts x classes) probability array to one Prediction per row."""
        ours = class_probabilities.astype(np.float64) @ self._matrix.T
        best = ours.argmax(axis=1)
        return [
            Prediction(
                label=LABELS[winner],
                score=float(row[winner]),
                probabilities={label: float(p) for label, p in zip(LABELS, row, strict=True)},
            )
            for row, winner in zip(ours, best, strict=True)
        ]
