"""When the classifier compiles its model, and that scoring goes on when compiling fails."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
import torch._inductor.config as inductor_config

from sentiment import SentimentClassifier
from sentiment.compilation import Forward, Inputs, ModelRunner, logits_of
from tests.sentiment.conftest import tiny_model
from tests.sentiment.test_classifier import TEXTS, probabilities


class RecordingCompiler:
    """Stands in for torch.compile: returns the eager forward and counts compiled batches."""

    def __init__(self) -> None:
        self.compiles = 0
        self.batch_sizes: list[int] = []

    def __call__(self, model: torch.nn.Module) -> Forward:
        self.compiles += 1
        eager = logits_of(model)

        def forward(inputs: Inputs) -> torch.Tensor:
            self.batch_sizes.append(int(inputs["input_ids"].shape[0]))
            return eager(inputs)

        return forward


def batch(size: int) -> dict[str, torch.Tensor]:
    ids = torch.randint(4, 20, (size, 6))
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}


@pytest.fixture
def model() -> torch.nn.Module:
    return tiny_model(["negative", "neutral", "positive"])


def test_auto_compiles_once_the_eager_time_spent_reaches_the_threshold(model: torch.nn.Module) -> None:
    compiler = RecordingCompiler()
    runner = ModelRunner(model, "auto", compile_after_seconds=0.05, compiler=compiler)
    while runner.eager_seconds < 0.05:
        runner(batch(4))
    assert compiler.compiles == 0
    runner(batch(4))
    runner(batch(3))
    assert (compiler.compiles, compiler.batch_sizes) == (1, [4, 3])


def test_known_work_ahead_compiles_after_the_first_batch_if_its_eager_time_would_pay_for_it(model: torch.nn.Module) -> None:
    compiler = RecordingCompiler()
    runner = ModelRunner(model, "auto", compile_after_seconds=60.0, compiler=compiler)
    runner.expect(8)  # a few texts: far less eager work than a compile
    runner(batch(4))
    runner(batch(4))
    assert compiler.compiles == 0 and runner.expected_texts == 0
    per_text = runner.eager_seconds / runner.eager_texts
    runner.expect(int(60.0 / per_text) + 10)  # a backlog whose eager time exceeds the compile's cost
    runner(batch(4))
    assert (compiler.compiles, compiler.batch_sizes) == (1, [4])


def test_never_and_always(model: torch.nn.Module) -> None:
    never, always = RecordingCompiler(), RecordingCompiler()
    never_runner = ModelRunner(model, "never", compile_after_seconds=0.0, compiler=never)
    always_runner = ModelRunner(model, "always", compile_after_seconds=1e9, compiler=always)
    for _ in range(3):
        never_runner(batch(4))
        always_runner(batch(4))
    assert (never.compiles, always.compiles, always.batch_sizes) == (0, 1, [4, 4, 4])


def test_a_batch_of_one_runs_eagerly(model: torch.nn.Module) -> None:
    """Size-1 batches would cost torch a second compile for the cheapest batch there is."""
    compiler = RecordingCompiler()
    runner = ModelRunner(model, "always", compiler=compiler)
    runner(batch(1))
    runner(batch(2))
    assert compiler.batch_sizes == [2]


def test_a_failing_compiler_leaves_the_model_running_eagerly(
    model: torch.nn.Module, caplog: pytest.LogCaptureFixture
) -> None:
    attempts = []

    def broken(_: torch.nn.Module) -> Forward:
        attempts.append(1)
        raise RuntimeError("no C++ compiler found")

    runner = ModelRunner(model, "always", compiler=broken)
    expected = logits_of(model)(batch_in := batch(3))
    with caplog.at_level(logging.WARNING):
        torch.testing.assert_close(runner(batch_in), expected)
        runner(batch(3))
    assert len(attempts) == 1
    assert runner.policy == "never"
    assert "no C++ compiler found" in caplog.text


def test_an_unknown_policy_is_refused(model: torch.nn.Module) -> None:
    with pytest.raises(ValueError, match="compile must be one of"):
        ModelRunner(model, "sometimes")  # type: ignore[arg-type]


@pytest.mark.slow
def test_the_compiled_model_gives_the_eager_probabilities(tiny_checkpoint: Path) -> None:
    """Real inductor compile (slow: ~20 s), batches of several lengths through one graph."""
    eager = SentimentClassifier(tiny_checkpoint, batch_size=2, precision="fp32", compile="never")
    compiled = SentimentClassifier(tiny_checkpoint, batch_size=2, precision="fp32", compile="always")
    np.testing.assert_allclose(probabilities(compiled.classify(TEXTS)), probabilities(eager.classify(TEXTS)), atol=1e-4)
    assert compiled.runner.compiled is not None and compiled.runner.policy == "always"


@pytest.mark.slow
def test_a_machine_without_a_cxx_compiler_still_classifies(
    tiny_checkpoint: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """inductor pointed at a compiler that does not exist fails for real; the eager path answers."""
    torch._dynamo.reset()  # forget graphs other tests compiled with a working compiler
    eager = SentimentClassifier(tiny_checkpoint, precision="fp32", compile="never")
    clf = SentimentClassifier(tiny_checkpoint, precision="fp32", compile="always")
    with caplog.at_level(logging.WARNING), inductor_config.patch({"cpp.cxx": ("/nonexistent/g++",)}):
        result = clf.classify(TEXTS)
    np.testing.assert_allclose(probabilities(result), probabilities(eager.classify(TEXTS)), atol=1e-5)
    assert clf.runner.policy == "never"
    assert "compiling the sentiment model failed" in caplog.text
