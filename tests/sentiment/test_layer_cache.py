"""Training from cached lower layers computes what the whole model computes."""

from __future__ import annotations

import torch

from sentiment.batching import pad, tokenize
from sentiment.layer_cache import lower_states, pad_states, top_logits
from tests.sentiment.conftest import tiny_model, tiny_tokenizer

TEXTS = ["good service", "the parcel was very late not good at all", "fine", "bad"]


def test_top_layers_on_cached_states_give_the_full_models_logits() -> None:
    model, tokenizer = tiny_model(["negative", "neutral", "positive"]), tiny_tokenizer()
    model.config._attn_implementation = "eager"
    sequences = tokenize(tokenizer, TEXTS)
    with torch.no_grad():
        expected = model(**pad(tokenizer, sequences)).logits
        states = lower_states(model, tokenizer, sequences, frozen_layers=1, batch_size=3)
        assert [len(state) for state in states] == [len(ids) for ids in sequences]
        got = top_logits(model, *pad_states(states), frozen_layers=1)
    torch.testing.assert_close(got, expected, atol=1e-3, rtol=1e-3)
