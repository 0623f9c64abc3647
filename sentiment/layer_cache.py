"""Training only the top of the encoder: the frozen lower layers run once per text, not per epoch.

With the lower layers frozen (no adapter there), their output for a text never changes,
so training computes it once, keeps it (fp16, without padding), and every epoch and dev
evaluation runs only the trained top layers, the pooler and the head on it. On 2 CPU
cores that made an epoch about as cheap as its top layers' share of the model.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from tqdm.auto import tqdm
from transformers import BertForSequenceClassification, PreTrainedTokenizerBase

from sentiment.batching import length_sorted_batches, pad


def additive_mask(attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """BERT's eager attention mask: 0 where a token is attended, the dtype's minimum on padding."""
    return (1.0 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def run_layers(layers: Sequence[torch.nn.Module], hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Hidden states after ``layers`` (BertLayer modules), padding masked out."""
    mask = additive_mask(attention_mask, hidden.dtype)
    for layer in layers:
        hidden = layer(hidden, mask)
    return hidden


def lower_states(
    model: BertForSequenceClassification,
    tokenizer: PreTrainedTokenizerBase,
    sequences: Sequence[list[int]],
    frozen_layers: int,
    *,
    batch_size: int = 64,
    desc: str = "Caching frozen layers",
) -> list[torch.Tensor]:
    """Each sequence's hidden states after the embeddings and the first ``frozen_layers``
    layers, as a (tokens x hidden) fp16 tensor in input order."""
    model.eval()
    states: list[torch.Tensor | None] = [None] * len(sequences)
    batches = list(length_sorted_batches([len(ids) for ids in sequences], batch_size))
    with torch.inference_mode():
        for batch in tqdm(batches, desc=desc, unit="batch"):
            inputs = pad(tokenizer, [sequences[i] for i in batch])
            hidden = model.bert.embeddings(input_ids=inputs["input_ids"])
            hidden = run_layers(model.bert.encoder.layer[:frozen_layers], hidden, inputs["attention_mask"])
            for row, index in enumerate(batch):
                states[index] = hidden[row, : len(sequences[index])].to(torch.float16).clone()
    return [state for state in states if state is not None]


def pad_states(states: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of cached states padded to its longest (fp32), and its attention mask."""
    longest = max(len(state) for state in states)
    hidden = torch.zeros(len(states), longest, states[0].shape[1])
    mask = torch.zeros(len(states), longest, dtype=torch.long)
    for row, state in enumerate(states):
        hidden[row, : len(state)] = state.float()
        mask[row, : len(state)] = 1
    return hidden, mask


def top_logits(
    model: BertForSequenceClassification, hidden: torch.Tensor, attention_mask: torch.Tensor, frozen_layers: int
) -> torch.Tensor:
    """The classifier's logits from cached lower states: the model's own forward pass from
    layer ``frozen_layers`` on (top layers, pooler, dropout, head)."""
    hidden = run_layers(model.bert.encoder.layer[frozen_layers:], hidden, attention_mask)
    return model.classifier(model.dropout(model.bert.pooler(hidden)))
