"""Turning texts into model inputs cheaply: head+tail truncation, length buckets, padding.

Training and inference share these functions so the model always sees texts cut the
same way it was trained on.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from sentiment.compilation import Forward

# 128 tokens cover most mentions whole; a long review keeps its first 97 tokens (the
# start token and 96 of text) and its last 31 (30 of text and the end token), because
# reviewers tend to state the verdict at the start or sum it up at the end.
MAX_TOKENS = 128
TAIL_TOKENS = 31


def truncate_head_tail(ids: Sequence[int], max_tokens: int = MAX_TOKENS, tail: int = TAIL_TOKENS) -> list[int]:
    """Keep the first ``max_tokens - tail`` and the last ``tail`` ids of a long sequence.

    The ids include the tokenizer's start and end tokens, so both survive the cut.
    """
    if len(ids) <= max_tokens:
        return list(ids)
    return [*ids[: max_tokens - tail], *ids[len(ids) - tail :]]


def tokenize(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], *, prefix: str = "") -> list[list[int]]:
    """Token ids (with special tokens) of each text, cut to MAX_TOKENS head+tail."""
    if not texts:  # the fast tokenizer fails on an empty batch
        return []
    encoded = tokenizer([prefix + text for text in texts], add_special_tokens=True, truncation=False)
    return [truncate_head_tail(ids) for ids in encoded["input_ids"]]


def pad(tokenizer: PreTrainedTokenizerBase, sequences: Sequence[list[int]]) -> dict[str, torch.Tensor]:
    """Pad a batch to its own longest sequence (dynamic padding), with attention mask."""
    return dict(tokenizer.pad({"input_ids": list(sequences)}, return_tensors="pt"))


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
    """Indices grouped into batches of similar length, so little compute goes to padding."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size].tolist()


def predict_probabilities(
    forward: Forward,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    *,
    prefix: str = "",
    batch_size: int = 32,
    device: torch.device | str = "cpu",
) -> np.ndarray:
    """Class probabilities (texts x classes) in input order, computed in length buckets.

    ``forward`` maps a padded batch to logits: ``logits_of(model)`` or a ModelRunner.
    """
    sequences = tokenize(tokenizer, texts, prefix=prefix)
    rows: list[int] = []
    parts: list[np.ndarray] = []
    with torch.inference_mode():
        for batch in length_sorted_batches([len(ids) for ids in sequences], batch_size):
            inputs = {k: v.to(device) for k, v in pad(tokenizer, [sequences[i] for i in batch]).items()}
            parts.append(torch.softmax(forward(inputs).float(), dim=-1).cpu().numpy())
            rows.extend(batch)
    if not parts:
        return np.zeros((0, 0), dtype=np.float32)
    probabilities = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
    probabilities[rows] = np.concatenate(parts)
    return probabilities
