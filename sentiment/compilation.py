"""Running the model eagerly or compiled, and compiling only once it pays back.

``torch.compile`` (inductor, dynamic shapes) over BERT's plain ("eager") attention made the
built-in model 1.12-1.25x faster on 2 CPU cores (284 -> 316-348 sentences/s, eager and
compiled runs interleaved in one process; the labels of 285 of 286 test texts unchanged),
but compiling costs 15-35 s of CPU the first time (about 11-16 s once inductor's on-disk
cache is warm). For the demo's 23 mentions or a `sentiment classify` of a few lines that is
pure loss; for a service scoring all day, or a backlog of 100,000 mentions, it is a quarter
more throughput. The "auto" policy decides like the ski-rental problem: keep running
eagerly until the eager time spent equals what a compile costs, then compile. Whatever the
workload, that never spends more than about twice what the best choice in hindsight would.
When the caller knows how much work is coming (the scoring job counts its backlog, the
classify command a file's lines), ``expect`` lets it compile as soon as the first batch
shows that the known work would take longer eagerly than a compile costs, instead of
half-way through the job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args

import torch
from transformers import PreTrainedModel

log = logging.getLogger(__name__)

CompilePolicy = Literal["auto", "always", "never"]
COMPILE_POLICIES: tuple[str, ...] = get_args(CompilePolicy)
# About what a compile costs on 2 cores with a warm inductor cache (cold: up to 30 s).
COMPILE_AFTER_SECONDS = 20.0

Inputs = Mapping[str, torch.Tensor]
Forward = Callable[[Inputs], torch.Tensor]


def logits_of(model: Callable[..., Any]) -> Forward:
    """The plain eager forward pass: padded inputs in, logits out."""
    return lambda inputs: model(**inputs).logits


def compile_model(model: torch.nn.Module) -> Forward:
    """The model compiled by inductor, one graph for every batch size above one and length.

    Without ``dynamic=True`` every new text length would cost another compile.
    """
    return logits_of(torch.compile(model, dynamic=True))


class ModelRunner:
    """Runs padded batches through ``model``, switching to a compiled copy per ``policy``.

    A batch of one text always runs eagerly: torch specializes size-1 dimensions, so it
    would cost a second compile for the one batch that is cheap anyway. If compiling fails
    (no C++ compiler on the machine, an operator inductor cannot handle) the runner logs
    why once and stays eager: scoring must go on either way.
    """

    def __init__(
        self,
        model: PreTrainedModel | torch.nn.Module,
        policy: CompilePolicy = "auto",
        *,
        compile_after_seconds: float = COMPILE_AFTER_SECONDS,
        compiler: Callable[[torch.nn.Module], Forward] = compile_model,
    ) -> None:
        if policy not in COMPILE_POLICIES:
            raise ValueError(f"compile must be one of {COMPILE_POLICIES}, not {policy!r}")
        self.policy: CompilePolicy = policy
        self.eager = logits_of(model)
        self.compiled: Forward | None = None
        self._model = model
        self._compiler = compiler
        self._compile_after = 0.0 if policy == "always" else compile_after_seconds
        self.eager_seconds = 0.0
        self.eager_texts = 0
        self.expected_texts = 0

    def expect(self, texts: int) -> None:
        """Say that ``texts`` more texts are coming (replacing what was said before)."""
        self.expected_texts = texts

    def __call__(self, inputs: Inputs) -> torch.Tensor:
        """Logits for one padded batch."""
        rows = inputs["input_ids"].shape[0]
        self.expected_texts = max(0, self.expected_texts - rows)
        if rows > 1 and self._wants_compiled():
            try:
                return self._compiled_forward()(inputs)
            except Exception as exc:  # noqa: BLE001 - any compiler failure means: stay eager
                log.warning("compiling the sentiment model failed, running it uncompiled: %s", exc)
                self.policy = "never"
                self.compiled = None
        started = time.perf_counter()
        logits = self.eager(inputs)
        self.eager_seconds += time.perf_counter() - started
        self.eager_texts += rows
        return logits

    def _wants_compiled(self) -> bool:
        if self.policy == "never":
            return False
        if self.eager_seconds >= self._compile_after:
            return True
        # The known work still ahead, at the eager rate seen so far, would cost more than compiling.
        return self.eager_texts > 0 and self.expected_texts * self.eager_seconds / self.eager_texts >= self._compile_after

    def _compiled_forward(self) -> Forward:
        if self.compiled is None:
            log.info("compiling the sentiment model (%.0f s spent uncompiled so far)", self.eager_seconds)
            self.compiled = self._compiler(self._model)
        return self.compiled
