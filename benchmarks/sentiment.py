"""Sentiment throughput and quality: naive pipeline vs plain batching vs the shipped path.

Runs every path on the same texts in one process and prints one table per text set:
the test split of sentiment/data (synthetic), and, where ../shared/sentiment-real is
present, a fixed sample of its dev split (real mentions: tweets, reviews, posts, news),
with sentences per second (median of --repeat runs), macro-F1, and the first (warm-up)
run's seconds, which for the compiled paths include compiling. The timed
runs take turns (every path once, then again) so that a machine getting slower or faster
halfway does not favour whichever path ran first. The service
compiles the same way once it has spent 20 s classifying (sentiment.compilation).

    python -m benchmarks.sentiment --repeat 3 [--real-sample 1000]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable, Sequence

import torch
from transformers import AutoModelForSequenceClassification, pipeline

from sentiment import LABELS, SentimentClassifier
from sentiment.batching import predict_probabilities, tokenize
from sentiment.compilation import logits_of
from sentiment.dataset import LabeledText, project_data, read_labeled
from sentiment.default_model import TEXT_PREFIX, ensure_built
from sentiment.evaluate import scores
from sentiment.real_data import REAL_DATA_DIR, real_split, training_sample

Labeler = Callable[[Sequence[str]], list[str]]


def quantize_dynamic(model: torch.nn.Module, layers: set[type[torch.nn.Module]], dtype: torch.dtype) -> torch.nn.Module:
    """torch.ao's eager dynamic quantization, without its deprecation notices."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        return torch.ao.quantization.quantize_dynamic(model, layers, dtype=dtype)


def seconds(label: Labeler, texts: Sequence[str]) -> tuple[float, list[str]]:
    started = time.perf_counter()
    labels = label(texts)
    return time.perf_counter() - started, labels


def text_sets(real_sample: int) -> dict[str, list[LabeledText]]:
    """The synthetic test split, and a sample of the real dev split (the same dev texts
    as everywhere, about ``real_sample`` of them, an equal share per dataset) if present."""
    sets = {"synthetic test split": [row for row in project_data() if row.split == "test"]}
    if REAL_DATA_DIR.is_dir():
        dev = real_split(read_labeled(REAL_DATA_DIR)).dev
        per_dataset = real_sample // len({row.dataset for row in dev})
        sets["real dev sample"] = training_sample(dev, per_dataset)
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per path")
    parser.add_argument("--real-sample", type=int, default=1000, help="real dev texts to time (when present)")
    args = parser.parse_args()

    folder = ensure_built()
    pipe = pipeline("text-classification", model=str(folder), device=-1, truncation=True, max_length=128)
    shipped = SentimentClassifier(compile="always")
    classifiers = {
        (precision, policy): SentimentClassifier(precision=precision, compile=policy)
        for precision, policy in [("fp32", "never"), ("bf16", "never"), ("int8", "never"), ("bf16", "always")]
    }

    def with_classifier(clf: SentimentClassifier) -> Labeler:
        return lambda batch: [p.label for p in clf.classify(batch)]

    def with_torch_dynamic_int8() -> Labeler:
        """torch's quantize_dynamic: one activation scale per batch (what int8 used to be)."""
        fp32 = AutoModelForSequenceClassification.from_pretrained(folder, attn_implementation="eager").eval()
        quantized = quantize_dynamic(fp32, {torch.nn.Linear}, dtype=torch.qint8)
        forward = logits_of(quantized)
        return lambda batch: [
            LABELS[i] for i in predict_probabilities(forward, shipped.tokenizer, batch, prefix=TEXT_PREFIX).argmax(1)
        ]

    paths: list[tuple[str, Labeler, bool]] = [
        ("naive pipeline, one text at a time", lambda batch: [pipe(t)[0]["label"] for t in batch], True),
        ("pipeline, batch_size=32", lambda batch: [r["label"] for r in pipe(list(batch), batch_size=32)], True),
        ("buckets + head/tail, fp32", with_classifier(classifiers["fp32", "never"]), False),
        ("buckets + head/tail, bf16", with_classifier(classifiers["bf16", "never"]), False),
        ("the same, torch dynamic int8", with_torch_dynamic_int8(), False),
        ("the same, per-token int8", with_classifier(classifiers["int8", "never"]), False),
        ("the same, bf16 compiled", with_classifier(classifiers["bf16", "always"]), False),
        (f"shipped: {shipped.precision} compiled", with_classifier(shipped), False),
    ]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name, rows in text_sets(args.real_sample).items():
        print_table(name, rows, paths, shipped, args.repeat)


def print_table(
    name: str, rows: Sequence[LabeledText], paths: Sequence[tuple[str, Labeler, bool]], shipped: SentimentClassifier, repeat: int
) -> None:
    """Time every path on ``rows`` (the pipeline paths get e5's prefix themselves) and print the table."""
    texts, gold = [row.text for row in rows], [row.label for row in rows]
    prefixed = [TEXT_PREFIX + text for text in texts]
    tokens = [len(ids) for ids in tokenize(shipped.tokenizer, texts, prefix=TEXT_PREFIX)]
    print(
        f"\n{len(texts)} texts, {name}: median {statistics.median(tokens):.0f} tokens "
        f"(mean {statistics.mean(tokens):.0f}, max {max(tokens)})"
    )
    warm_ups, f1s = [], []
    for _, label, needs_prefix in paths:
        warm_up, labels = seconds(label, prefixed if needs_prefix else texts)
        warm_ups.append(warm_up)
        f1s.append(scores(gold, labels).macro_f1)
    timings: list[list[float]] = [[] for _ in paths]
    for _ in range(repeat):
        for timing, (_, label, needs_prefix) in zip(timings, paths, strict=True):
            timing.append(seconds(label, prefixed if needs_prefix else texts)[0])
    rates = [len(texts) / statistics.median(timing) for timing in timings]
    print(f"| {'path':<36} | {'sentences/s':>11} | {'vs naive':>8} | {'macro-F1':>8} | {'warm-up s':>9} |")
    print(f"|{'-' * 38}|{'-' * 13}:|{'-' * 9}:|{'-' * 9}:|{'-' * 10}:|")
    for (path, _, _), rate, f1, warm_up in zip(paths, rates, f1s, warm_ups, strict=True):
        print(f"| {path:<36} | {rate:>11.0f} | {rate / rates[0]:>7.1f}x | {f1:>8.3f} | {warm_up:>9.1f} |")


if __name__ == "__main__":
    main()
