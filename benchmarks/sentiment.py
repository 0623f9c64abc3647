"""Sentiment throughput and quality: naive pipeline vs plain batching vs the shipped path.

Runs every path on the same texts (the test split of sentiment/data) in one process and
prints one table: sentences per second (median of --repeat runs) and macro-F1.

    python -m benchmarks.sentiment --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence

import torch
from transformers import pipeline

from sentiment import SentimentClassifier
from sentiment.batching import tokenize
from sentiment.dataset import project_data
from sentiment.default_model import TEXT_PREFIX, ensure_built
from sentiment.evaluate import scores

Labeler = Callable[[Sequence[str]], list[str]]


def measure(label: Labeler, texts: Sequence[str], repeat: int) -> tuple[float, list[str]]:
    """Median sentences/s over ``repeat`` timed runs after one warm-up, and the labels."""
    labels = label(texts)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        label(texts)
        timings.append(time.perf_counter() - started)
    return len(texts) / statistics.median(timings), labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per path")
    args = parser.parse_args()

    rows = [row for row in project_data() if row.split == "test"]
    texts, gold = [row.text for row in rows], [row.label for row in rows]
    folder = ensure_built()
    pipe = pipeline("text-classification", model=str(folder), device=-1, truncation=True, max_length=128)
    prefixed = [TEXT_PREFIX + text for text in texts]
    shipped = SentimentClassifier()
    fp32 = SentimentClassifier(precision="fp32")
    int8 = SentimentClassifier(precision="int8")

    def with_classifier(clf: SentimentClassifier) -> Labeler:
        return lambda batch: [p.label for p in clf.classify(batch)]

    paths: list[tuple[str, Labeler, Sequence[str]]] = [
        ("naive pipeline, one text at a time", lambda batch: [pipe(t)[0]["label"] for t in batch], prefixed),
        ("pipeline, batch_size=32", lambda batch: [r["label"] for r in pipe(list(batch), batch_size=32)], prefixed),
        ("buckets + head/tail, fp32", with_classifier(fp32), texts),
        ("buckets + head/tail, int8 (dynamic)", with_classifier(int8), texts),
        (f"shipped: buckets + head/tail, {shipped.precision}", with_classifier(shipped), texts),
    ]
    tokens = [len(ids) for ids in tokenize(shipped.tokenizer, texts, prefix=TEXT_PREFIX)]
    print(
        f"{len(texts)} test-split texts, median {statistics.median(tokens):.0f} tokens "
        f"(mean {statistics.mean(tokens):.0f}, max {max(tokens)}); torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads"
    )
    print(f"| {'path':<36} | {'sentences/s':>11} | {'vs naive':>8} | {'macro-F1':>8} |")
    print(f"|{'-' * 38}|{'-' * 13}:|{'-' * 9}:|{'-' * 9}:|")
    naive_rate = None
    for name, label, inputs in paths:
        rate, labels = measure(label, inputs, args.repeat)
        naive_rate = naive_rate or rate
        f1 = scores(gold, labels).macro_f1
        print(f"| {name:<36} | {rate:>11.0f} | {rate / naive_rate:>7.1f}x | {f1:>8.3f} |", flush=True)


if __name__ == "__main__":
    main()
