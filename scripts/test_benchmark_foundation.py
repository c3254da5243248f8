"""The foundation benchmark compares like with like, and reports its targets honestly.

No timing is asserted here (speed is printed by the script, never tested): these tests check
that the hand-written NumPy references compute exactly what TinyTorch computes, so a ratio
between them means something, and that the verdict logic cannot call a miss a pass.
"""

from __future__ import annotations

import numpy as np
import pytest

from scripts import benchmark_foundation as bench


def test_numpy_mlp_step_matches_the_tinytorch_step_of_milestone_3():
    from milestones.m3_mlp_1986 import build_model
    from tinytorch.core import Tensor, enable_autograd
    from tinytorch.nn import CrossEntropyLoss
    from tinytorch.optim import Adam

    enable_autograd()
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (32, 64)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    model = build_model(bench.MLP_HIDDEN, seed=0)
    reference = bench.NumpyMLP(np.random.default_rng(0))
    reference.params = [p.data.copy() for p in model.parameters()]
    optimizer = Adam(model.parameters(), lr=bench.MLP_LR)
    for _ in range(3):
        optimizer.zero_grad()
        loss = CrossEntropyLoss()(model(Tensor(x)), Tensor(y))
        loss.backward()
        optimizer.step()
        assert reference.step(x, y) == pytest.approx(loss.item(), rel=1e-5)
    for ours, theirs in zip(model.parameters(), reference.params, strict=True):
        np.testing.assert_allclose(ours.data, theirs, rtol=1e-4, atol=1e-6)


def test_numpy_linear_relu_gradients_match_tinytorch():
    from tinytorch.core import Tensor, enable_autograd
    from tinytorch.nn import Linear, ReLU

    enable_autograd()
    rng = np.random.default_rng(0)
    reference = bench.NumpyLinearReLU(rng)
    layer = Linear(bench.LINEAR_IN, bench.LINEAR_OUT, rng=0)
    layer.weight.data[...] = reference.weight
    x = rng.standard_normal((8, bench.LINEAR_IN)).astype(np.float32)
    out, (grad_weight, grad_bias) = reference.forward_backward(x)
    ours = ReLU()(layer(Tensor(x)))
    ours.sum().backward()
    np.testing.assert_allclose(ours.data, out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.weight.grad.data, grad_weight, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.bias.grad.data, grad_bias, rtol=1e-5, atol=1e-5)


def test_numpy_softmax_is_a_softmax():
    probabilities = bench.numpy_softmax(np.array([1000.0, 0.0, -1000.0], dtype=np.float32))
    np.testing.assert_allclose(probabilities, [1.0, 0.0, 0.0])


def test_report_marks_met_missed_and_unmeasured_targets():
    times = {
        "matmul": {"tinytorch": 2.0, "numpy": 1.0, "torch": None},
        "softmax": {"tinytorch": 1.0, "numpy": 1.0, "torch": None},
        "linear": {"tinytorch": 1.0, "numpy": 1.0, "torch": None},
        "mlp": {"tinytorch": 1.0, "numpy": 1.0, "torch": None},
    }
    table, verdicts = bench.report(times)
    assert "2.00×" in table[2] and "—" in table[2]
    assert verdicts[0].endswith("2.00× NumPy, target <= 1.2×: MISSED")
    assert verdicts[1].endswith("NOT MEASURED")
    times["matmul"]["tinytorch"], times["mlp"]["torch"] = 1.1, 1.25
    _, verdicts = bench.report(times)
    assert verdicts[0].endswith("1.10× NumPy, target <= 1.2×: met")
    assert verdicts[1].endswith("0.80× PyTorch CPU, target <= 1.0×: met")


def test_time_round_reports_seconds_per_call():
    calls = []
    assert bench.time_round(lambda: calls.append(1), 5) >= 0.0 and len(calls) == 5
    assert bench.calls_per_round(lambda: None, min_time=0.0, warmup=1) == 1
