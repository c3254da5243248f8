"""Integration tests for Module 15 (not graded): quantize a trained MLP with every piece
real — training from Modules 03–07, calibration, QuantizedLinear and the report."""

import numpy as np
import pytest

from tinytorch.core import Tensor, enable_autograd, no_grad
from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential
from tinytorch.optim import Adam
from tinytorch.quantization import QuantizedLinear, quantization_report, quantize_model
from tinytorch.training import fit

integration = pytest.mark.integration


def blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Four overlapping Gaussian classes in 12 dimensions (fixed centres)."""
    centers = np.random.default_rng(100).normal(size=(4, 12))
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, size=n)
    return (centers[labels] + 1.2 * rng.normal(size=(n, 12))).astype(np.float32), labels


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
