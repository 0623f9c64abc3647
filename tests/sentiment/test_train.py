"""Training end to end on a few texts with a one-layer e5 (slow: reads the 71 MB encoder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from sentiment import default_model, train

pytestmark = pytest.mark.slow


def test_training_writes_an_adapter_the_build_step_can_merge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    data.mkdir()
    rows = [("negative", "Paczka zaginęła, nie polecam."), ("neutral", "Kiedy otwieracie sklep?"), ("positive", "Super, polecam!")]
    lines = ["split\tlang\tlabel\tkind\ttext"]
    lines += [f"{split}\tpl\t{label}\tshort\t{text}" for split in ("train", "dev", "test") for label, text in rows]
    (data / "labeled.pl.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "weights"
    try:
        train.main(["--data-dir", str(data), "--out", str(out), "--layers", "1", "--epochs", "1", "--rank", "2"])
    finally:
        torch.use_deterministic_algorithms(False)  # main sets it for the whole process
    assert {p.name for p in out.iterdir()} == {*default_model.SHIPPED_FILES, "training.json"}
    report = json.loads((out / "training.json").read_text(encoding="utf-8"))
    assert report["train_texts"] == 3 and report["best_epoch"] == 1
    assert set(report["test"]["by_language"]) == {"pl"}
    monkeypatch.setattr(default_model, "WEIGHTS_DIR", out)
    merged = default_model.merged_model()
    assert merged.config.num_hidden_layers == 1 and merged.config.text_prefix == default_model.TEXT_PREFIX
