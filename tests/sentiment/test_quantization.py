"""The int8 Linear layer against the float one it replaces."""

from __future__ import annotations

import torch

from sentiment.quantization import Int8Linear, quantize_linears, symmetric_int8


def test_symmetric_int8_restores_each_row_to_within_half_a_step() -> None:
    values = torch.tensor([[0.5, -1.0, 0.25], [100.0, 3.0, -50.0], [0.0, 0.0, 0.0]])
    ints, scale = symmetric_int8(values)
    assert ints.dtype == torch.int8 and ints.abs().max() == 127
    assert torch.all((ints.float() * scale - values).abs() <= scale / 2 + 1e-6)
    assert torch.equal(ints[2], torch.zeros(3, dtype=torch.int8))


def test_int8_linear_is_close_to_the_float_layer_and_keeps_the_shape() -> None:
    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 48)
    x = torch.randn(3, 7, 64)
    expected = linear(x)
    got = Int8Linear(linear)(x)
    assert got.shape == expected.shape and got.dtype == x.dtype
    assert (got - expected).abs().max() < 0.02 * expected.abs().max()


def test_a_row_with_an_outlier_leaves_the_other_rows_exact() -> None:
    """The reason for per-token scales: one token's outlier must not coarsen the rest."""
    torch.manual_seed(1)
    layer = Int8Linear(torch.nn.Linear(32, 16))
    quiet = torch.randn(4, 32)
    loud = torch.cat([quiet, torch.full((1, 32), 1000.0)])
    torch.testing.assert_close(layer(loud)[:4], layer(quiet), rtol=0, atol=0)


def test_quantize_linears_skips_the_head() -> None:
    model = torch.nn.Module()
    model.encoder = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.GELU(), torch.nn.Linear(8, 8))
    model.classifier = torch.nn.Linear(8, 3)
    quantize_linears(model)
    assert [type(m).__name__ for m in model.encoder] == ["Int8Linear", "GELU", "Int8Linear"]
    assert type(model.classifier) is torch.nn.Linear
