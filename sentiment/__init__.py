"""Sentiment of mentions: negative, neutral or positive, in many languages.

Imports nothing from the rest of mentionwatch (store, crawlers, alerts): it is a plain
library the scoring job, the CLI and the benchmarks all call the same way.
"""

from sentiment.classifier import ModelLoadError, SentimentClassifier
from sentiment.prediction import LABELS, Prediction

__all__ = ["LABELS", "ModelLoadError", "Prediction", "SentimentClassifier"]
