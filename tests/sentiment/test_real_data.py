"""The fixed dev split and the training sample of the real labelled data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sentiment.dataset import LabeledText, read_labeled
from sentiment.evaluate import Alerts, Evaluation, Scores
from sentiment.real_data import BINARY_GROUP, BINARY_POLAR_GROUP, NEGATIVE_PRECISION, group_scores, real_split, training_sample, write_dev_split


def rows_of(dataset: str, counts: dict[str, int]) -> list[LabeledText]:
    return [LabeledText("pl", label, f"{dataset} {label} {i}", dataset=dataset) for label, n in counts.items() for i in range(n)]


def test_dev_is_stratified_per_dataset_capped_and_disjoint_from_train() -> None:
    big = rows_of("big", {"negative": 3000, "neutral": 1000, "positive": 1000})
    small = rows_of("small", {"negative": 20, "positive": 80})
    split = real_split(big + small)
    dev = Counter((r.dataset, r.label) for r in split.dev)
    # big: 15 % would be 750, the cap is 600, in the set's 3:1:1 proportions.
    assert (dev["big", "negative"], dev["big", "neutral"], dev["big", "positive"]) == (360, 120, 120)
    assert (dev["small", "negative"], dev["small", "positive"]) == (3, 12)
    assert not {r.text for r in split.dev} & {r.text for r in split.train}
    assert len(split.dev) + len(split.train) == len(big) + len(small)


def test_the_split_is_fixed_and_a_dataset_keeps_its_split_when_other_files_change() -> None:
    polemo = rows_of("polemo", {"negative": 50, "neutral": 50, "positive": 50})
    alone = real_split(polemo).dev
    assert real_split(polemo).dev == alone
    with_another = [r for r in real_split(polemo + rows_of("tweets", {"negative": 40, "positive": 40})).dev if r.dataset == "polemo"]
    assert {r.text for r in with_another} == {r.text for r in alone}
    assert {r.text for r in real_split(polemo, seed=1).dev} != {r.text for r in alone}


def test_the_training_sample_caps_each_dataset_and_keeps_its_label_shares() -> None:
    rows = rows_of("big", {"negative": 900, "positive": 100}) + rows_of("small", {"neutral": 30})
    sample = Counter((r.dataset, r.label) for r in training_sample(rows, cap=200))
    assert sample == {("big", "negative"): 180, ("big", "positive"): 20, ("small", "neutral"): 30}


def test_one_dataset_can_have_its_own_cap() -> None:
    rows = rows_of("big", {"negative": 900, "positive": 100}) + rows_of("other", {"neutral": 300})
    sample = Counter((r.dataset, r.label) for r in training_sample(rows, cap=200, caps={"big": 500}))
    assert sample == {("big", "negative"): 450, ("big", "positive"): 50, ("other", "neutral"): 200}


def test_the_dev_split_is_written_one_file_per_dataset_and_reads_back(tmp_path: Path) -> None:
    source = tmp_path / "real"
    source.mkdir()
    lines = ["text\tlabel\tlang\tdataset"] + [f"tekst {i}\t{('negative', 'positive')[i % 2]}\tpl\tallegro" for i in range(40)]
    (source / "pl_allegro.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (written,) = write_dev_split(source, tmp_path / "dev")
    assert written.name == "allegro.tsv"
    assert read_labeled(written) == real_split(read_labeled(source)).dev


def test_group_scores_average_their_datasets_and_pool_negative_precision() -> None:
    def s(f1: float) -> Scores:
        return Scores(count=10, accuracy=f1, macro_f1=f1)

    no_alerts = Alerts(threshold=0.5, alerts=0, negatives=0, precision=0.0, recall=0.0)
    result = Evaluation(
        overall=s(0.5),
        by_language={},
        by_dataset={"en_xlmt_umsab": s(0.6), "de_xlmt_umsab": s(0.8), "pl_allegro": s(0.9), "cs_alza": s(0.7)},
        binary=["cs_alza", "pl_allegro"],
        confusion=[[6, 1, 1], [2, 5, 0], [2, 0, 9]],
        alerts=no_alerts,
        alerts_by_language={},
        binary_polar={"pl_allegro": s(0.95), "cs_alza": s(0.85)},
    )
    groups = group_scores(result)
    assert groups["tweets en de es fr it pt (UMSAB)"] == pytest.approx(0.7)
    assert groups[BINARY_GROUP] == pytest.approx(0.8)
    assert groups[BINARY_POLAR_GROUP] == pytest.approx(0.9)
    assert groups[NEGATIVE_PRECISION] == pytest.approx(6 / 10)
    assert "Polish PolEmo 2.0 sentences" not in groups
