"""SentimentClassifier on a tiny checkpoint, loaded through the user-model code path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from sentiment import LABELS, ModelLoadError, Prediction, SentimentClassifier
from sentiment.quantization import Int8Linear
from tests.sentiment.conftest import SaveTiny

TEXTS = [
    "good",
    "the parcel was very late and the service was awful",
    "okay",
    "not bad",
    "great shop , fine delivery , the service is good , very good",
    "bad bad bad",
]


def probabilities(predictions: list[Prediction]) -> np.ndarray:
    return np.array([[p.probabilities[label] for label in LABELS] for p in predictions])


def test_predictions_are_well_formed_and_in_input_order(tiny_checkpoint: Path) -> None:
    clf = SentimentClassifier(str(tiny_checkpoint), batch_size=2, precision="fp32")
    predictions = clf.classify(TEXTS)
    assert len(predictions) == len(TEXTS)
    one_by_one = [clf.classify([text])[0] for text in TEXTS]
    assert [p.label for p in predictions] == [p.label for p in one_by_one]
    for prediction in predictions:
        assert set(prediction.probabilities) == set(LABELS)
        assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert prediction.score == max(prediction.probabilities.values())
        assert prediction.label == max(prediction.probabilities, key=prediction.probabilities.__getitem__)
    assert clf.classify([]) == []


def test_length_buckets_and_padding_give_the_probabilities_of_one_by_one(tiny_checkpoint: Path) -> None:
    batched = SentimentClassifier(tiny_checkpoint, batch_size=4, precision="fp32")
    reversed_texts = TEXTS[::-1]
    together = probabilities(batched.classify(reversed_texts))
    alone = probabilities([batched.classify([text])[0] for text in reversed_texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precisions_stay_close_to_fp32(tiny_checkpoint: Path, precision: str) -> None:
    fp32 = probabilities(SentimentClassifier(tiny_checkpoint, precision="fp32").classify(TEXTS))
    reduced = SentimentClassifier(tiny_checkpoint, precision=precision)
    np.testing.assert_allclose(probabilities(reduced.classify(TEXTS)), fp32, atol=0.05)


def test_int8_quantizes_the_encoder_and_keeps_the_head_in_float(tiny_checkpoint: Path) -> None:
    int8 = SentimentClassifier(tiny_checkpoint, precision="int8").model
    assert isinstance(int8.bert.encoder.layer[0].attention.self.query, Int8Linear)
    assert isinstance(int8.bert.encoder.layer[1].output.dense, Int8Linear)
    assert type(int8.classifier) is type(int8.bert.pooler.dense) is torch.nn.Linear


def test_an_int8_label_does_not_depend_on_the_other_texts_in_its_batch(tiny_checkpoint: Path) -> None:
    """Per-token scales: a loud neighbour no longer coarsens a text's activations."""
    clf = SentimentClassifier(tiny_checkpoint, batch_size=8, precision="int8", compile="never")
    together = probabilities(clf.classify(TEXTS))
    alone = probabilities([clf.classify([text])[0] for text in TEXTS])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_the_default_precision_fits_the_cpu(tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"avx512_vnni": True, "avx512_bf16": True})
    assert SentimentClassifier(tiny_checkpoint).precision == "int8"
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"avx512_bf16": True})
    assert SentimentClassifier(tiny_checkpoint).model.dtype == torch.bfloat16
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {})
    assert SentimentClassifier(tiny_checkpoint).model.dtype == torch.float32
    with pytest.raises(ValueError, match="precision must be one of"):
        SentimentClassifier(tiny_checkpoint, precision="int4")


def test_name_and_version_follow_the_weights(save_tiny: SaveTiny) -> None:
    first = save_tiny(name="a", seed=0)
    same = save_tiny(name="b", seed=0)
    other = save_tiny(name="c", seed=1)
    clf = SentimentClassifier(str(first), precision="fp32")
    assert clf.name == str(first)
    assert clf.version == SentimentClassifier(str(same), precision="fp32").version
    assert clf.version != SentimentClassifier(str(other), precision="fp32").version


def test_a_changed_weight_changes_the_version(tiny_checkpoint: Path) -> None:
    before = SentimentClassifier(tiny_checkpoint, precision="fp32").version
    weights = tiny_checkpoint / "model.safetensors"
    tensors = load_file(weights)
    tensors["classifier.bias"] = tensors["classifier.bias"] + 1e-3
    save_file(tensors, weights, metadata={"format": "pt"})
    assert SentimentClassifier(tiny_checkpoint, precision="fp32").version != before


def test_label_map_maps_checkpoint_names(save_tiny: SaveTiny) -> None:
    folder = save_tiny(("LABEL_0", "LABEL_1", "LABEL_2"))
    with pytest.raises(ValueError, match="pass label_map"):
        SentimentClassifier(str(folder))
    mapped = SentimentClassifier(
        str(folder), label_map={"LABEL_0": "negative", "LABEL_1": "neutral", "LABEL_2": "positive"}, precision="fp32"
    )
    assert {p.label for p in mapped.classify(TEXTS)} <= set(LABELS)


def test_label_map_can_merge_classes(save_tiny: SaveTiny) -> None:
    stars = ("1 star", "2 stars", "3 stars", "4 stars", "5 stars")
    folder = save_tiny(stars)
    label_map = dict(zip(stars, ("negative", "negative", "neutral", "positive", "positive"), strict=True))
    clf = SentimentClassifier(str(folder), label_map=label_map, precision="fp32")
    for prediction in clf.classify(TEXTS):
        assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-5)


def test_label_map_errors_name_the_problem(save_tiny: SaveTiny) -> None:
    folder = save_tiny(("Negative", "Neutral", "Positive"))
    assert SentimentClassifier(str(folder), precision="fp32").classify(["good"])[0].label in LABELS
    with pytest.raises(ValueError, match=r"\['Positive'\]"):
        SentimentClassifier(str(folder), label_map={"Negative": "negative", "Neutral": "neutral"})
    with pytest.raises(ValueError, match="'angry'"):
        SentimentClassifier(str(folder), label_map={"Negative": "angry", "Neutral": "neutral", "Positive": "positive"})


def test_a_missing_model_folder_gives_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelLoadError, match="does not exist"):
        SentimentClassifier(str(missing))


def test_a_folder_without_a_checkpoint_gives_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="sequence-classification checkpoint"):
        SentimentClassifier(tmp_path / "empty")
