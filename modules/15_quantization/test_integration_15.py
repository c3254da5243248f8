"""Integration tests for Module 15 (not graded): quantize a trained MLP with every piece
real — training from Modules 03–07, calibration, QuantizedLinear and the report."""

import numpy as np
import pytest

from tinytorch._testing import blobs
from tinytorch.core import Tensor, enable_autograd, no_grad
from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential
from tinytorch.optim import Adam
from tinytorch.quantization import (
    QuantizedLinear,
    quantization_report,
    quantize_model,
    quantize_tensor,
)
from tinytorch.training import fit

integration = pytest.mark.integration


@pytest.fixture(scope="module")
def trained():
    enable_autograd()
    x, y = blobs(600, seed=1)
    model = Sequential(Linear(12, 48, rng=0), ReLU(), Linear(48, 48, rng=1), ReLU())
    model.layers.append(Linear(48, 4, rng=2))
    fit(model, CrossEntropyLoss(), Adam(model.parameters(), lr=0.01), x, y, epochs=12)
    return model, x


@integration
def test_a_trained_mlp_keeps_its_accuracy_at_a_quarter_of_the_weight_bytes(trained):
    model, x_train = trained
    x_test, y_test = blobs(1000, seed=2)
    small = quantize_model(model, [x_train[:300]])
    assert sum(isinstance(layer, QuantizedLinear) for layer in small.layers) == 3
    report = quantization_report(model, small, x_test, y_test)
    assert report.float_accuracy > 0.8, "the float model should have learned the task"
    assert report.weight_ratio == 4.0
    assert report.float_weight_bytes == (12 * 48 + 48 * 48 + 48 * 4) * 4
    assert abs(report.accuracy_change) <= 0.02, (
        f"int8 accuracy {report.quantized_accuracy:.3f} vs float {report.float_accuracy:.3f}"
    )
    with no_grad():
        exact = model(Tensor(x_test)).data
    approx = small(Tensor(x_test)).data
    relative = np.abs(approx - exact).mean() / np.abs(exact).mean()
    assert relative < 0.02, f"outputs moved by {relative:.1%} on average"


@integration
def test_per_channel_gives_every_column_a_step_that_fits_it():
    w = np.random.default_rng(1).uniform(-1, 1, size=(6, 3)) * np.array([0.01, 1.0, 100.0])
    per_tensor = quantize_tensor(w, symmetric=True)
    per_channel = quantize_tensor(w, symmetric=True, axis=1)
    np.testing.assert_allclose(per_channel.scale[0], np.abs(w).max(axis=0) / 127, rtol=1e-6)
    lost = np.abs(per_tensor.dequantize().data[:, 0] - w[:, 0]).max()
    assert lost >= 0.5 * np.abs(w[:, 0]).max(), "one scale for all: the small column is lost"
    relative = np.abs(per_channel.dequantize().data - w).max(axis=0) / np.abs(w).max(axis=0)
    assert np.all(relative <= 0.5 / 127 + 1e-6), "per channel: half a step of its own range"


@integration
def test_quantized_linear_stays_within_the_rounding_error_bound():
    rng = np.random.default_rng(3)
    linear = Linear(32, 8, rng=1)
    x = rng.normal(size=(50, 32)).astype(np.float32)
    for input_range in (None, (float(x.min()), float(x.max()))):
        layer = QuantizedLinear.from_linear(linear, input_range)
        approx = layer(Tensor(x)).data
        exact = x @ linear.weight.data + linear.bias.data
        x_step = (max(x.max(), 0) - min(x.min(), 0)) / 255
        w_step = layer.weight.scale
        # |x̂ŵ - xw| <= |x|·|δw| + |δx|·|w| + |δx|·|δw|, with |δx| <= x_step/2, |δw| <= w_step/2
        bound = (
            np.abs(x) @ np.broadcast_to(w_step / 2, (32, 8))
            + (x_step / 2) * np.abs(linear.weight.data).sum(axis=0)
            + 32 * x_step * w_step / 4
        )
        assert np.all(np.abs(approx - exact) <= bound + 1e-5)
