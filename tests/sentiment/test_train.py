"""Training: the loss for binary sets and the label weights (fast), and a whole run end to end
on a few texts with a two-layer e5 (slow: reads the 71 MB encoder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from sentiment import default_model, train
from sentiment.dataset import LabeledText


def test_binary_rows_never_learn_that_a_text_is_not_neutral() -> None:
    logits = torch.tensor([[1.0, 3.0, 0.0], [1.0, 3.0, 0.0]], requires_grad=True)
    masked = train.masked_logits(logits, torch.tensor([True, False]))
    loss = torch.nn.functional.cross_entropy(masked, torch.tensor([0, 0]), reduction="none")
    loss[0].backward()
    # The binary row's loss is a two-way choice and gives neutral's logit no gradient.
    assert loss[0].item() == pytest.approx(torch.log1p(torch.exp(torch.tensor(-1.0))).item())
    assert logits.grad is not None and logits.grad[0, 1] == 0.0
    assert torch.isfinite(masked[1]).all()


def test_label_weights_favour_rare_labels_and_keep_the_average_row_at_one() -> None:
    rows = [LabeledText("en", label, "x") for label in ["negative"] * 6 + ["neutral"] * 3 + ["positive"]]
    frequency = torch.tensor([0.6, 0.3, 0.1])
    for kind in ("none", "sqrt", "balanced"):
        weights = train.label_weights(rows, kind)
        assert (weights * frequency).sum().item() == pytest.approx(1.0)
    balanced = train.label_weights(rows, "balanced")
    assert balanced[2] / balanced[0] == pytest.approx(6.0)
    assert train.label_weights(rows, "sqrt")[2] / train.label_weights(rows, "sqrt")[0] == pytest.approx(6.0**0.5)


def test_dataset_caps_are_parsed_and_bad_caps_or_layer_counts_refused(capsys: pytest.CaptureFixture[str]) -> None:
    args = train.parse_args(["--cap", "pl_polemo2_medicine_sentences=15000", "--cap", "en_airline_tweets=100"])
    assert dict(args.cap) == {"pl_polemo2_medicine_sentences": 15000, "en_airline_tweets": 100}
    assert train.parse_args(["--repeat", "pl_polemo2_medicine_sentences=2"]).repeat == [("pl_polemo2_medicine_sentences", 2)]
    for option in ("--cap", "--repeat"):
        for bad in ("polemo", "polemo=", "=5", "polemo=many"):
            with pytest.raises(SystemExit):
                train.parse_args([option, bad])
            assert "expected DATASET=N" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train.parse_args(["--layers", "4", "--frozen", "4"])
    assert "at least one of the 4 layers" in capsys.readouterr().err


@pytest.mark.slow
def test_training_writes_a_calibrated_adapter_the_build_step_can_merge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tmp_path / "real"
    real.mkdir()
    texts = {"negative": "Paczka zaginęła, nie polecam", "neutral": "Kiedy otwieracie sklep", "positive": "Super, polecam"}
    three = ["text\tlabel\tlang\tdataset"] + [f"{texts[label]} {i}\t{label}\tpl\tthree" for label in texts for i in range(8)]
    binary = ["text\tlabel\tlang\tdataset"] + [f"{texts[label]} {i}\t{label}\tpl\ttwo" for label in ("negative", "positive") for i in range(8)]
    (real / "three.tsv").write_text("\n".join(three) + "\n", encoding="utf-8")
    (real / "two.tsv").write_text("\n".join(binary) + "\n", encoding="utf-8")
    own = tmp_path / "own"
    own.mkdir()
    lines = ["split\tlang\tlabel\tkind\ttext"] + [f"{split}\ten\t{label}\tshort\t{label} text" for split in ("train", "dev", "test") for label in texts]
    (own / "labeled.en.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, again = tmp_path / "weights", tmp_path / "again"
    try:
        for folder in (out, again):
            train.main(["--data", str(real), "--project-data", str(own), "--out", str(folder), "--layers", "2", "--frozen", "1", "--epochs", "1", "--rank", "2",
                        "--repeat", "two=2"])  # fmt: skip
    finally:
        torch.use_deterministic_algorithms(False)  # main sets it for the whole process
    # The same seed gives the same weights: the shipped ones can be rebuilt from the data.
    first, second = (load_file(folder / "adapter_model.safetensors") for folder in (out, again))
    assert first.keys() == second.keys() and all(torch.equal(first[name], second[name]) for name in first)
    assert {p.name for p in out.iterdir()} == {*default_model.SHIPPED_FILES, "training.json"}
    report = json.loads((out / "training.json").read_text(encoding="utf-8"))
    # The project's own texts count four times (--project-repeat), so their style is not
    # drowned out, and --repeat shows a set's texts more often in the same way.
    assert report["train_by_dataset"] == {"project_synthetic": 12, "three": 21, "two": 28}
    assert report["dev"]["binary"] == ["two"] and set(report["dev"]["by_dataset"]) == {"three", "two", "project_synthetic"}
    assert report["temperature"] > 0 and 0.3 <= report["min_negative"] <= 0.99
    assert set(report["test"]["by_language"]) == {"en"}
    monkeypatch.setattr(default_model, "WEIGHTS_DIR", out)
    merged = default_model.merged_model()
    assert merged.config.num_hidden_layers == 2 and merged.config.text_prefix == default_model.TEXT_PREFIX
