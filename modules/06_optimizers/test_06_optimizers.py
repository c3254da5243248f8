"""Graded tests for Module 06 (Optimizers). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

Gradients are set by hand (`param.grad = Tensor(...)`), so these tests need no
autograd. Every update is compared with a few lines of NumPy reference written
below, computed in float64 (your float32 results must agree to about 1e-5).
"""

import numpy as np
import pytest

from tinytorch.core import Tensor
from tinytorch.optim import SGD, Adam, AdamW, Optimizer

exercise = pytest.mark.exercise

SHAPES = [(3, 4), (4,)]  # a weight matrix and a bias: 16 entries, 64 bytes


def start_values(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape).astype(np.float32) for shape in SHAPES]


def gradient_sequence(steps: int, seed: int = 1) -> list[list[np.ndarray]]:
    """One gradient per parameter per step, fixed by the seed."""
    rng = np.random.default_rng(seed)
    return [[rng.normal(size=shape).astype(np.float32) for shape in SHAPES] for _ in range(steps)]


def run_optimizer(make, steps: int = 3, seed: int = 0):
    """Build parameters, then `steps` times: set .grad by hand and call step()."""
    params = [Tensor(value.copy()) for value in start_values(seed)]
    optimizer = make(params)
    for grads in gradient_sequence(steps):
        for param, grad in zip(params, grads, strict=True):
            param.grad = Tensor(grad)
        optimizer.step()
    return params, optimizer


# ---- NumPy references (float64) -------------------------------------------------
def sgd_reference(steps, lr, momentum=0.0, weight_decay=0.0):
    params = [value.astype(np.float64) for value in start_values()]
    velocity = [np.zeros_like(p) for p in params]
    for grads in gradient_sequence(steps):
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            d = g + weight_decay * p
            if momentum:
                velocity[i] = momentum * velocity[i] + d
                d = velocity[i]
            params[i] = p - lr * d
    return params


def adam_reference(steps, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    beta1, beta2 = betas
    params = [value.astype(np.float64) for value in start_values()]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t, grads in enumerate(gradient_sequence(steps), start=1):
        for i, g in enumerate(grads):
            p = params[i]
            if decoupled:
                p = p - lr * weight_decay * p
            else:
                g = g + weight_decay * p
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g**2
            m_hat, v_hat = m[i] / (1 - beta1**t), v[i] / (1 - beta2**t)
            params[i] = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return params


def assert_params_match(params, expected, what: str):
    for index, (param, want) in enumerate(zip(params, expected, strict=True)):
        assert param.data.dtype == np.float32, (
            f"{what}: parameter {index} became {param.data.dtype}; updates must keep float32"
        )
        np.testing.assert_allclose(
            param.data,
            want,
            rtol=1e-5,
            atol=1e-6,
            err_msg=f"{what}: parameter {index} (shape {want.shape}) differs from the reference",
        )


# ---- 06.1 zero_grad ---------------------------------------------------------------
@exercise("06.1")
def test_06_1_zero_grad_sets_every_grad_to_none():
    params = [Tensor(value) for value in start_values()]
    for param in params:
        param.grad = Tensor(np.ones(param.shape))
    optimizer = SGD(params, lr=0.1)
    optimizer.zero_grad()
    assert all(param.grad is None for param in params), (
        "after zero_grad() every parameter's .grad should be None, got "
        f"{[type(param.grad).__name__ for param in params]}"
    )


@exercise("06.1")
def test_06_1_zero_grad_leaves_values_alone_and_a_step_after_it_changes_nothing():
    params = [Tensor(value.copy()) for value in start_values()]
    optimizer = Adam(params, lr=0.1)
    for param in params:
        param.grad = Tensor(np.full(param.shape, 5.0))
    optimizer.zero_grad()
    optimizer.step()  # no gradients left: every parameter is skipped
    for param, value in zip(params, start_values(), strict=True):
        np.testing.assert_array_equal(
            param.data, value, err_msg="zero_grad() must clear .grad, not the parameter values"
        )


# ---- 06.2 sgd ---------------------------------------------------------------------
@exercise("06.2")
def test_06_2_sgd_matches_reference_and_updates_in_place():
    params = [Tensor(value.copy()) for value in start_values()]
    arrays = [param.data for param in params]
    optimizer = SGD(params, lr=0.1)
    for grads in gradient_sequence(3):
        for param, grad in zip(params, grads, strict=True):
            param.grad = Tensor(grad)
        optimizer.step()
    assert_params_match(params, sgd_reference(3, lr=0.1), "SGD(lr=0.1), 3 steps")
    assert all(param.data is array for param, array in zip(params, arrays, strict=True)), (
        "update param.data in place (param.data -= ...), do not assign a new array: "
        "the layer that owns the parameter holds the same array"
    )
    assert optimizer.step_count == 3, (
        f"three step() calls: step_count should be 3, got {optimizer.step_count}"
    )


@exercise("06.2")
def test_06_2_sgd_coupled_weight_decay_matches_reference():
    params, _ = run_optimizer(lambda p: SGD(p, lr=0.05, weight_decay=0.1))
    assert_params_match(
        params,
        sgd_reference(3, lr=0.05, weight_decay=0.1),
        "SGD(lr=0.05, weight_decay=0.1): the gradient should be g + 0.1 * p",
    )


@exercise("06.2")
def test_06_2_sgd_skips_missing_grads_and_never_changes_grad():
    w, b = (Tensor(value.copy()) for value in start_values())
    grad = np.ones(w.shape, dtype=np.float32)
    w.grad = Tensor(grad.copy())
    SGD([w, b], lr=0.5, weight_decay=0.2).step()
    np.testing.assert_array_equal(
        b.data, start_values()[1], err_msg="a parameter whose .grad is None must not move"
    )
    np.testing.assert_allclose(
        w.data, start_values()[0] - 0.5 * (grad + 0.2 * start_values()[0]), rtol=1e-6
    )
    np.testing.assert_array_equal(
        w.grad.data,
        grad,
        err_msg="the update changed w.grad: build a new array (grad = grad + ...) "
        "instead of adding the weight decay into grad in place",
    )


@exercise("06.2")
def test_06_2_sgd_then_a_wrong_shaped_gradient_is_refused():
    w = Tensor(np.ones((2, 3)))
    optimizer = SGD([w], lr=1.0)
    w.grad = Tensor(np.ones((2, 3)))
    optimizer.step()
    np.testing.assert_allclose(w.data, np.zeros((2, 3)), err_msg="1 - 1.0 * 1 should be 0")
    w.grad = Tensor(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        optimizer.step()


# ---- 06.3 sgd_momentum ----------------------------------------------------------
@exercise("06.3")
def test_06_3_momentum_matches_reference():
    params, optimizer = run_optimizer(lambda p: SGD(p, lr=0.1, momentum=0.9), steps=4)
    assert_params_match(
        params,
        sgd_reference(4, lr=0.1, momentum=0.9),
        "SGD(lr=0.1, momentum=0.9), 4 steps: v = 0.9 * v + g, p = p - lr * v",
    )


@exercise("06.3")
def test_06_3_velocity_buffer_holds_the_running_sum():
    value = np.array([1.0, -2.0], dtype=np.float32)
    w = Tensor(value.copy())
    optimizer = SGD([w], lr=0.1, momentum=0.5, weight_decay=0.1)
    for _ in range(2):
        w.grad = Tensor([1.0, 1.0])
        optimizer.step()
    # by hand: d1 = 1 + 0.1*p0, v1 = d1, p1 = p0 - 0.1*v1; d2 = 1 + 0.1*p1, v2 = 0.5*v1 + d2
    d1 = 1.0 + 0.1 * value
    p1 = value - 0.1 * d1
    v2 = 0.5 * d1 + (1.0 + 0.1 * p1)
    np.testing.assert_allclose(
        optimizer.state["velocity"][0],
        v2,
        rtol=1e-6,
        err_msg="state['velocity'][0] should hold v = momentum * v + (g + weight_decay * p), "
        "updated in place in its buffer",
    )
    np.testing.assert_allclose(w.data, p1 - 0.1 * v2, rtol=1e-6)


# ---- 06.4 adam ----------------------------------------------------------------------
@exercise("06.4")
def test_06_4_first_adam_step_moves_each_entry_by_lr():
    value = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    w = Tensor(value.copy())
    w.grad = Tensor([1e-3, -50.0, 4.0])
    Adam([w], lr=0.01).step()
    np.testing.assert_allclose(
        w.data - value,
        [-0.01, 0.01, -0.01],
        atol=1e-6,
        err_msg="with bias correction the first Adam step moves every entry by about lr "
        "against the sign of its gradient, whatever the gradient's size. A step of about "
        "3.2·lr means neither m nor v was divided by 1 - beta ** step_count; 0.1·lr: m was "
        "not; 32·lr: v was not",
    )


@exercise("06.4")
def test_06_4_adam_matches_reference():
    params, optimizer = run_optimizer(lambda p: Adam(p, lr=0.01, betas=(0.8, 0.99)), steps=5)
    assert_params_match(
        params, adam_reference(5, lr=0.01, betas=(0.8, 0.99)), "Adam(lr=0.01, betas=(0.8, 0.99))"
    )
    beta1 = 0.8
    expected_m = sum(
        (1 - beta1) * beta1 ** (4 - k) * grads[1] for k, grads in enumerate(gradient_sequence(5))
    )
    np.testing.assert_allclose(
        optimizer.state["m"][1],
        expected_m,
        rtol=1e-5,
        atol=1e-7,
        err_msg="state['m'] should hold the running mean m = beta1 * m + (1 - beta1) * g "
        "(without bias correction: that is applied only when stepping)",
    )


@exercise("06.4")
def test_06_4_adam_coupled_weight_decay_matches_reference():
    params, _ = run_optimizer(lambda p: Adam(p, lr=0.01, weight_decay=0.5))
    assert_params_match(
        params,
        adam_reference(3, lr=0.01, weight_decay=0.5),
        "Adam(lr=0.01, weight_decay=0.5): the decay is added to the gradient before m and v",
    )


# ---- 06.5 adamw ----------------------------------------------------------------------
@exercise("06.5")
def test_06_5_adamw_matches_reference():
    params, _ = run_optimizer(lambda p: AdamW(p, lr=0.01, weight_decay=0.5), steps=4)
    assert_params_match(
        params,
        adam_reference(4, lr=0.01, weight_decay=0.5, decoupled=True),
        "AdamW(lr=0.01, weight_decay=0.5): shrink p by (1 - lr * wd), then Adam with raw g",
    )


@exercise("06.5")
def test_06_5_adamw_decay_does_not_pass_through_the_moments():
    value = np.array([4.0, -0.25], dtype=np.float32)
    w = Tensor(value.copy())
    optimizer = AdamW([w], lr=0.1, weight_decay=0.2)
    w.grad = Tensor(np.zeros(2))
    optimizer.step()
    np.testing.assert_allclose(
        w.data,
        value * (1 - 0.1 * 0.2),
        rtol=1e-6,
        err_msg="with a zero gradient AdamW only shrinks every weight by the same factor "
        "1 - lr * weight_decay; if the decay went into the gradient, Adam would instead move "
        "each weight by about lr",
    )
    np.testing.assert_array_equal(optimizer.state["m"][0], [0.0, 0.0])


@exercise("06.5")
def test_06_5_adamw_without_decay_is_adam():
    adamw_params, _ = run_optimizer(lambda p: AdamW(p, lr=0.02, weight_decay=0.0))
    assert_params_match(
        adamw_params, adam_reference(3, lr=0.02), "AdamW(weight_decay=0) should equal Adam"
    )


# ---- 06.6 state_memory ------------------------------------------------------------
@exercise("06.6")
def test_06_6_state_bytes_of_each_optimizer():
    params = [Tensor(value) for value in start_values()]
    expected = {
        "SGD": (SGD(params, lr=0.1), 0),
        "SGD with momentum": (SGD(params, lr=0.1, momentum=0.9), 64),
        "Adam": (Adam(params), 128),
        "AdamW": (AdamW(params), 128),
    }
    for name, (optimizer, want) in expected.items():
        assert optimizer.parameter_bytes() == 64, (
            f"{name}: 16 float32 entries (3×4 weight + 4 bias) are 64 bytes, "
            f"got {optimizer.parameter_bytes()}"
        )
        assert optimizer.state_bytes() == want, (
            f"{name}: state_bytes() should be {want} for 64 bytes of parameters, "
            f"got {optimizer.state_bytes()}"
        )


@exercise("06.6")
def test_06_6_adam_state_is_twice_a_large_parameter():
    weight = Tensor(np.zeros((1000, 1000)))
    for optimizer in (Adam([weight], lr=0.1), AdamW([weight], lr=0.1)):
        assert optimizer.parameter_bytes() == 4_000_000, "1000×1000 float32: 4,000,000 bytes"
        assert optimizer.state_bytes() == 8_000_000, (
            f"{type(optimizer).__name__} keeps m and v, two float32 buffers of 4,000,000 bytes "
            f"each: 8,000,000 bytes, got {optimizer.state_bytes():,}"
        )


@exercise("06.6")
def test_06_6_state_bytes_counts_whatever_buffers_the_state_holds():
    class ThreeBuffers(Optimizer):
        """An optimizer that remembers three arrays per parameter."""

        def __init__(self, params):
            super().__init__(params, lr=0.1)
            for name in ("a", "b", "c"):
                self.state[name] = self._new_buffers()

    params = [Tensor(np.zeros((5, 6))), Tensor(np.zeros(6)), Tensor(np.zeros((2, 2, 2)))]
    optimizer = ThreeBuffers(params)
    assert optimizer.parameter_bytes() == (30 + 6 + 8) * 4, (
        f"parameters of shapes (5, 6), (6,), (2, 2, 2) hold (30 + 6 + 8) · 4 = 176 bytes, got "
        f"{optimizer.parameter_bytes()}"
    )
    assert optimizer.state_bytes() == 3 * (30 + 6 + 8) * 4, (
        "state_bytes() should add up .nbytes of every array in every list of self.state, "
        f"whatever the optimizer: expected 528 for three buffers, got {optimizer.state_bytes()}"
    )


# ---- integration: a real gradient from autograd --------------------------------
@pytest.mark.integration
@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, lr=0.1),
        lambda p: SGD(p, lr=0.05, momentum=0.9),
        lambda p: Adam(p, lr=0.1),
        lambda p: AdamW(p, lr=0.1, weight_decay=1e-4),
    ],
    ids=["sgd", "momentum", "adam", "adamw"],
)
def test_optimizers_minimize_a_quadratic_with_autograd(make):
    from tinytorch.core import enable_autograd

    enable_autograd()
    target = np.array([[1.0, -2.0], [0.5, 3.0]], dtype=np.float32)
    x = Tensor(np.zeros((2, 2)), requires_grad=True)
    optimizer = make([x])
    first = None
    for _ in range(200):
        optimizer.zero_grad()
        loss = ((x - Tensor(target)) ** 2).sum()
        first = loss.item() if first is None else first
        loss.backward()
        optimizer.step()
    final = ((x - Tensor(target)) ** 2).sum().item()
    assert final < 1e-3 * first, f"{optimizer!r}: loss went from {first:.4f} to {final:.6f}"
    np.testing.assert_allclose(x.data, target, atol=0.05)
