"""The real labelled sets in ../shared/sentiment-real: the fixed dev split and the training sample.

The data stays outside the repository; what the repository holds is how it is cut, so
the same folder always gives the same split. Each dataset is cut on its own and within
each label (stratified), with a random generator seeded by the seed and the dataset's
name: adding or removing another file never moves a text between train and dev.
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sentiment.dataset import LabeledText, read_labeled
from sentiment.evaluate import Evaluation

# Where the shared data lies next to a checkout: ../shared/sentiment-real from the repo root.
REAL_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "sentiment-real"
SPLIT_SEED = 20261205
# Dev takes this share of each dataset, at most DEV_CAP texts of it, so that a big set
# does not dominate the pooled numbers and a small one still gets a measurable dev part.
DEV_FRACTION = 0.15
DEV_CAP = 600
# The groupings of issue 12's targets; each group's score is the mean macro-F1 of its sets.
TARGET_GROUPS = {
    "tweets en de es fr it pt (UMSAB)": [f"{lang}_xlmt_umsab" for lang in ("en", "de", "es", "fr", "it", "pt")],
    "Polish PolEmo 2.0 sentences": ["pl_polemo2_medicine_sentences"],
    "Russian three-class (VK, bank/telecom tweets, news)": [
        "ru_rusentiment",
        "ru_sentirueval2015_banks",
        "ru_sentirueval2015_telecom",
        "ru_rusentne2023_news",
    ],
    "English three-class (tweets, airline, brand, financial news)": [
        "en_tweeteval_sentiment_val",
        "en_airline_tweets",
        "en_sanders_brand_tweets",
        "en_financial_phrasebank",
    ],
}
BINARY_GROUP = "binary sets (negative/positive F1)"
BINARY_POLAR_GROUP = "binary sets if never answered neutral (bound)"
NEGATIVE_PRECISION = "precision of negative, pooled"


@dataclass(frozen=True)
class RealSplit:
    """The texts the model may learn from and the fixed dev texts that choose its recipe."""

    train: list[LabeledText]
    dev: list[LabeledText]


def by_dataset(rows: Iterable[LabeledText]) -> dict[str, list[LabeledText]]:
    """Rows grouped by their dataset name, in first-seen order."""
    groups: dict[str, list[LabeledText]] = defaultdict(list)
    for row in rows:
        groups[row.dataset].append(row)
    return dict(groups)


def stratified_take(rows: Sequence[LabeledText], count: int, rng: random.Random) -> tuple[list[LabeledText], list[LabeledText]]:
    """``count`` rows with the labels in the proportions of ``rows`` (each label at least one
    where it has two or more), and the rest; both in a shuffled order."""
    per_label: dict[str, list[LabeledText]] = defaultdict(list)
    for row in rows:
        per_label[row.label].append(row)
    taken: list[LabeledText] = []
    rest: list[LabeledText] = []
    for label in sorted(per_label):
        group = per_label[label]
        rng.shuffle(group)
        share = round(count * len(group) / len(rows))
        if len(group) > 1:
            share = min(max(share, 1), len(group) - 1)
        taken.extend(group[:share])
        rest.extend(group[share:])
    rng.shuffle(taken)
    rng.shuffle(rest)
    return taken, rest


def dataset_rng(seed: int, dataset: str, purpose: str) -> random.Random:
    """A generator that depends only on the seed, the dataset and what it is used for."""
    return random.Random(f"{seed}:{purpose}:{dataset}")


def real_split(rows: Sequence[LabeledText], *, seed: int = SPLIT_SEED) -> RealSplit:
    """Every dataset cut into dev (DEV_FRACTION, at most DEV_CAP, stratified) and train."""
    train: list[LabeledText] = []
    dev: list[LabeledText] = []
    for name, group in sorted(by_dataset(rows).items()):
        size = min(round(len(group) * DEV_FRACTION), DEV_CAP)
        picked, rest = stratified_take(group, size, dataset_rng(seed, name, "dev"))
        dev.extend(picked)
        train.extend(rest)
    return RealSplit(train=train, dev=dev)


def training_sample(
    rows: Sequence[LabeledText], cap: int, *, caps: Mapping[str, int] | None = None, seed: int = SPLIT_SEED
) -> list[LabeledText]:
    """At most ``cap`` rows of each dataset (``caps`` overrides it per dataset), stratified,
    so training time stays bounded and no single big set outweighs the others."""
    sample: list[LabeledText] = []
    for name, group in sorted(by_dataset(rows).items()):
        most = (caps or {}).get(name, cap)
        sample.extend(group if len(group) <= most else stratified_take(group, most, dataset_rng(seed, name, "train"))[0])
    return sample


def group_scores(result: Evaluation) -> dict[str, float]:
    """The issue's target rows for an evaluation: mean macro-F1 of each group's datasets
    (those present), of all binary datasets (and their bound, were neutral never answered
    there), and the pooled precision of `negative`."""
    groups = {name: [result.by_dataset[d].macro_f1 for d in sets if d in result.by_dataset] for name, sets in TARGET_GROUPS.items()}
    groups[BINARY_GROUP] = [result.by_dataset[d].macro_f1 for d in result.binary]
    groups[BINARY_POLAR_GROUP] = [scores.macro_f1 for scores in result.binary_polar.values()]
    means = {name: sum(values) / len(values) for name, values in groups.items() if values}
    predicted_negative = sum(row[0] for row in result.confusion)
    means[NEGATIVE_PRECISION] = result.confusion[0][0] / predicted_negative if predicted_negative else 0.0
    return means


def write_dev_split(source: Path, out: Path, *, seed: int = SPLIT_SEED) -> list[Path]:
    """The dev split of ``source`` as one TSV per dataset in ``out`` (for `sentiment evaluate`)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in sorted(by_dataset(real_split(read_labeled(source), seed=seed).dev).items()):
        path = out / f"{name}.tsv"
        lines = ["text\tlabel\tlang\tdataset", *(f"{r.text}\t{r.label}\t{r.lang}\t{r.dataset}" for r in rows)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sentiment.real_data",
        description="Write the fixed dev split of the real labelled data, one TSV per dataset (keep it outside the repository).",
    )
    parser.add_argument("out", type=Path, help="folder to write the dev TSVs into")
    parser.add_argument("--data", type=Path, default=REAL_DATA_DIR, help="folder of real labelled TSVs")
    args = parser.parse_args(argv)
    written = write_dev_split(args.data, args.out)
    print(f"{len(written)} dev files written to {args.out}")


if __name__ == "__main__":
    main()
