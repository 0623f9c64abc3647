"""Building the default model once into the cache, safely; the build itself is the tiny model."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from transformers import PreTrainedModel

from sentiment import SentimentClassifier, default_model
from tests.sentiment.conftest import tiny_model, tiny_tokenizer


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Replace the 470 MB build with the tiny model; records when each build ran."""
    started: list[float] = []

    def build(*, progress: bool = False) -> PreTrainedModel:
        started.append(time.monotonic())
        time.sleep(0.3)  # long enough for a second process to arrive mid-build
        return tiny_model(["negative", "neutral", "positive"])

    monkeypatch.setattr(default_model, "merged_model", build)
    monkeypatch.setattr(default_model, "load_tokenizer", tiny_tokenizer)
    monkeypatch.setattr(default_model, "shipped_version", lambda: "0123abcd")
    return started


def test_concurrent_first_uses_build_once(builds: list[float], tmp_path: Path) -> None:
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(default_model.ensure_built(tmp_path))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    assert len(set(results)) == 1
    built = results[0]
    assert built == tmp_path / "models" / "e5-small-sentiment-0123abcd"
    assert (built / "config.json").is_file() and (built / "tokenizer.json").is_file()
    assert not list(built.parent.glob(".building-*"))
    default_model.ensure_built(tmp_path)
    assert len(builds) == 1


def test_a_failed_build_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def broken(*, progress: bool = False) -> PreTrainedModel:
        raise RuntimeError("disk full")

    monkeypatch.setattr(default_model, "merged_model", broken)
    monkeypatch.setattr(default_model, "shipped_version", lambda: "0123abcd")
    with pytest.raises(RuntimeError, match="disk full"):
        default_model.ensure_built(tmp_path)
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["e5-small-sentiment-0123abcd.lock"]


def test_the_classifier_names_the_default_model_and_its_shipped_version(builds: list[float], tmp_path: Path) -> None:
    clf = SentimentClassifier(cache_dir=tmp_path)
    assert (clf.name, clf.version) == (default_model.NAME, "0123abcd")
    assert len(clf.classify(["good", "bad"])) == 2
