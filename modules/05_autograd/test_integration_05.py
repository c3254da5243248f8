"""Integration tests for Module 05 across modules 01–04 (ungraded): autograd through
real layers and losses agrees with central differences, and gradient_check itself
accepts right rules and rejects wrong ones."""

import numpy as np
import pytest

from tinytorch.core import (
    Tensor,
    attach_backward,
    enable_autograd,
    gradient_check,
    graph_stats,
    no_grad,
)
from tinytorch.nn import (
    BinaryCrossEntropyLoss,
    CrossEntropyLoss,
    Linear,
    MSELoss,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def autograd_on():
    enable_autograd()


def test_linear_and_cross_entropy_match_central_differences():
    rng = np.random.default_rng(0)
    layer = Linear(4, 3, rng=0)
    x = Tensor(rng.standard_normal((6, 4)))
    labels = [0, 2, 1, 1, 0, 2]
    loss = CrossEntropyLoss()
    error = gradient_check(lambda w, b: loss(layer(x), labels), layer.weight, layer.bias)
    assert error < 1e-2


def test_small_network_with_mse_matches_central_differences():
    rng = np.random.default_rng(1)
    model = Sequential(Linear(3, 5, rng=1), Tanh(), Linear(5, 2, rng=2))
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    targets = Tensor(rng.standard_normal((4, 2)))
    error = gradient_check(lambda *_: MSELoss()(model(x), targets), x, *model.parameters())
    assert error < 1e-2


def test_binary_cross_entropy_after_relu_and_sigmoid_layers():
    rng = np.random.default_rng(2)
    model = Sequential(Linear(3, 4, rng=3), ReLU(), Linear(4, 1, rng=4), Sigmoid())
    x = Tensor(rng.standard_normal((5, 3)))
    targets = Tensor(rng.integers(0, 2, size=(5, 1)).astype(float))
    parameters = model.parameters()
    error = gradient_check(lambda *_: BinaryCrossEntropyLoss()(model(x), targets), *parameters)
    assert error < 1e-2


def test_backward_fills_every_parameter_and_nothing_else():
    rng = np.random.default_rng(3)
    model = Sequential(Linear(3, 4, rng=5), ReLU(), Linear(4, 2, rng=6))
    x = Tensor(rng.standard_normal((8, 3)))
    MSELoss()(model(x), Tensor(np.zeros((8, 2)))).backward()
    for parameter in model.parameters():
        assert parameter.grad is not None and parameter.grad.shape == parameter.shape
    assert x.grad is None, "the input batch did not ask for a gradient"


def test_gradient_check_accepts_a_right_rule_and_names_the_entry_of_a_wrong_one():
    def cube(x: Tensor, rule_factor: float) -> Tensor:
        return attach_backward(
            Tensor(x.data**3), (x,), lambda grad: (grad * rule_factor * x.data**2,)
        )

    x = Tensor([[0.5, -1.0], [1.5, 2.0]], requires_grad=True)
    assert gradient_check(lambda t: cube(t, 3.0).sum(), x) < 1e-2
    with pytest.raises(AssertionError, match="input 0"):
        gradient_check(lambda t: cube(t, 2.0).sum(), x)
    assert x.grad is None, "gradient_check leaves the inputs' .grad as it found them"


def test_graph_of_a_network_holds_every_intermediate_result():
    rng = np.random.default_rng(4)
    model = Sequential(Linear(20, 30, rng=7), ReLU(), Linear(30, 10, rng=8))
    x = Tensor(rng.standard_normal((16, 20)))
    stats = graph_stats(model(x))
    # matmul, + bias, * mask (ReLU), matmul, + bias: five (16, ·) float32 results
    assert stats.operations == 5 and stats.leaves == 4
    assert stats.saved_bytes == 4 * 16 * (30 + 30 + 30 + 10 + 10)
    with no_grad():
        assert graph_stats(model(x)).operations == 0


@pytest.mark.integration
def test_a_dropped_graph_is_freed_without_the_garbage_collector():
    """No rule may keep its own result alive: a cycle would hold every step's graph until a
    full garbage collection (milestones grew to gigabytes that way)."""
    import gc
    import weakref

    enable_autograd()
    x = Tensor(np.random.default_rng(0).normal(size=(8, 8)), requires_grad=True)
    gc.disable()
    try:
        exps, peaks = x.exp(), x.max(axis=1)
        probes = [weakref.ref(exps), weakref.ref(peaks)]
        out = (exps.sum(axis=1) * peaks.exp()).log().sum()
        out.backward()
        del exps, peaks, out
        alive = [probe() for probe in probes if probe() is not None]
        assert not alive, "a backward rule keeps its own result Tensor alive (a cycle)"
    finally:
        gc.enable()
