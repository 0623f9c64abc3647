"""A tiny random BERT checkpoint on disk, loaded like any user-configured local model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
WORDS = "good bad okay service parcel late great awful fine the was is very not delivery shop".split()


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """A word-level tokenizer that adds [CLS] ... [SEP], like BERT's."""
    vocab = {token: i for i, token in enumerate(SPECIAL + WORDS)}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    )


def tiny_model(labels: list[str], seed: int = 0) -> BertForSequenceClassification:
    """A random 2-layer BERT with hidden size 32 over the tiny vocabulary."""
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(SPECIAL) + len(WORDS),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    return BertForSequenceClassification(config).eval()


SaveTiny = Callable[..., Path]


@pytest.fixture
def save_tiny(tmp_path: Path) -> SaveTiny:
    """Save a tiny checkpoint with the given label names; returns its folder."""

    def save(labels: tuple[str, ...] = ("negative", "neutral", "positive"), name: str = "tiny", seed: int = 0) -> Path:
        folder = tmp_path / name
        tiny_model(list(labels), seed).save_pretrained(folder)
        tiny_tokenizer().save_pretrained(folder)
        return folder

    return save


@pytest.fixture
def tiny_checkpoint(save_tiny: SaveTiny) -> Path:
    """A tiny checkpoint whose labels are already negative/neutral/positive."""
    return save_tiny()
