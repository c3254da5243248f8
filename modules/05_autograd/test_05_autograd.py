"""Graded tests for Module 05 (Autograd). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

How the tests stay independent of each other's exercises:
- a backward rule (05.2–05.6) is tested by calling the autograd version of its
  primitive directly and handing an upstream gradient to the rule it recorded
  (`out.grad_fn.backward(upstream)`): no enable_autograd(), no backward(), no other rule;
- rules that call unbroadcast run with a test-side replacement, so a bug in 05.1 costs
  points only in 05.1;
- backward(), no_grad and graph_stats are tested on graphs of hand-made operations built
  with attach_backward (given code), never with your rules;
- gradients are compared with directional derivatives: f(x + h·v) - f(x - h·v) for a
  random direction v must equal 2h · (gradient · v).
"""

import gc
import importlib
import sys
import weakref

import numpy as np
import pytest

from tinytorch._loader import discover_modules
from tinytorch.core import (
    Tensor,
    attach_backward,
    enable_autograd,
    graph_stats,
    is_grad_enabled,
    no_grad,
    numerical_gradient,
    unbroadcast,
)

# Your module file, as loaded by `tinytorch.core`: the rule tests reach the autograd
# version of each primitive (AUTOGRAD_OPS), backward() and topological_order() in it.
autograd = sys.modules[enable_autograd.__module__]

exercise = pytest.mark.exercise


@pytest.fixture(autouse=True)
def recording_on():
    """Every test starts with recording on, even if an unfinished no_grad (05.8) left it off."""
    autograd._GradMode.enabled = True
    yield
    autograd._GradMode.enabled = True


# ---- helpers -----------------------------------------------------------------------
def reference_unbroadcast(grad: np.ndarray, shape) -> np.ndarray:
    """Sum `grad` back to `shape`, computed differently from 05.1 on purpose: number the
    entries of an input of `shape`, broadcast the numbers the way the input was, and
    add up the gradient that lands on each number."""
    shape = tuple(shape)
    size = int(np.prod(shape))
    owner = np.broadcast_to(np.arange(size).reshape(shape), grad.shape)
    return np.bincount(owner.ravel(), weights=grad.ravel(), minlength=size).reshape(shape)


@pytest.fixture
def without_your_unbroadcast(monkeypatch):
    """Rules look up `unbroadcast` when they run: use the reference one during this test."""
    monkeypatch.setattr(autograd, "unbroadcast", reference_unbroadcast)


def swap_last_two(x: np.ndarray) -> np.ndarray:
    return np.swapaxes(x, -1, -2)


# Float64 NumPy versions of the primitives: the numerical side of every rule check.
REFERENCE = {
    "__add__": np.add,
    "__mul__": np.multiply,
    "__pow__": np.power,
    "matmul": np.matmul,
    "sum": lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
    "max": lambda x, axis=None, keepdims=False: np.max(x, axis=axis, keepdims=keepdims),
    "reshape": lambda x, *shape: x.reshape(*shape),
    "transpose": lambda x, *axes: x.transpose(*axes) if axes else swap_last_two(x),
    "exp": np.exp,
    "log": np.log,
    "__getitem__": lambda x, index: x[index],
}


def run_rule(name: str, inputs, *args, upstream=None, **kwargs):
    """Call the autograd version of Tensor.<name> on `inputs`, then its recorded rule on
    `upstream` (random if not given). Returns (output, upstream, gradients)."""
    out = autograd.AUTOGRAD_OPS[name](*inputs, *args, **kwargs)
    assert getattr(out, "grad_fn", None) is not None, (
        f"{name}: the result recorded no operation although an input has requires_grad=True"
    )
    if upstream is None:
        upstream = np.random.default_rng(7).standard_normal(out.shape).astype(np.float32)
    upstream = np.asarray(upstream, dtype=np.float32)
    try:
        grads = out.grad_fn.backward(upstream)
    except NotImplementedError:
        raise
    except Exception as error:  # a clear line instead of NumPy's bare AxisError/ValueError
        shapes = [x.shape for x in inputs if isinstance(x, Tensor)]
        pytest.fail(
            f"{name}'s backward rule raised {type(error).__name__}: {error} — for inputs of "
            f"shapes {shapes} and an upstream gradient of shape {upstream.shape} (1-D "
            f"operands and stacks of matrices need their own care)",
            pytrace=False,
        )
    return out, upstream, grads


def check_rule(name: str, arrays, *args, **kwargs) -> None:
    """One-line rule test: gradients of the autograd version of Tensor.<name> on float32
    copies of `arrays` agree with directional derivatives of the float64 REFERENCE."""
    inputs = [Tensor(a, requires_grad=True) for a in arrays]
    points = [x.data.astype(np.float64) for x in inputs]
    out, upstream, grads = run_rule(name, inputs, *args, **kwargs)
    described = f"{name} on shapes {[x.shape for x in inputs]} with {args or ''}{kwargs or ''}"
    expected = REFERENCE[name](*points, *args, **kwargs)
    assert out.shape == np.shape(expected), f"{described}: forward shape changed"
    weights = upstream.astype(np.float64)

    def final(values) -> float:  # the number whose gradient the rule computes
        return float(np.sum(REFERENCE[name](*values, *args, **kwargs) * weights))

    rng = np.random.default_rng(11)
    for position, (x, grad) in enumerate(zip(inputs, grads, strict=True)):
        assert grad is not None, f"{described}: input {position} received no gradient"
        assert grad.shape == x.shape, (
            f"{described}: gradient of input {position} has shape {grad.shape}, the input "
            f"has shape {x.shape}"
        )
        for _ in range(2):
            direction = rng.standard_normal(x.shape)
            h = 1e-6
            moved = [p + h * direction if i == position else p for i, p in enumerate(points)]
            back = [p - h * direction if i == position else p for i, p in enumerate(points)]
            numerical = (final(moved) - final(back)) / (2 * h)
            from_rule = float(np.sum(grad.astype(np.float64) * direction))
            assert abs(numerical - from_rule) <= 1e-4 * (1 + abs(numerical)), (
                f"{described}: the gradient of input {position} is wrong. Along a random "
                f"direction the rule's gradient predicts a slope of {from_rule:.6g}, the "
                f"function's real slope is {numerical:.6g}."
            )


def points_away_from_zero(rng, shape, low=0.2) -> np.ndarray:
    """Random numbers with |x| >= low: clear of kinks (ReLU at 0) for numerical checks."""
    values = rng.standard_normal(shape)
    return np.sign(values) * (low + np.abs(values))


def positive(rng, shape) -> np.ndarray:
    return rng.uniform(0.5, 2.0, size=shape)


# ---- 05.1 unbroadcast ----------------------------------------------------------------
@exercise("05.1")
def test_05_1_unbroadcast_sums_the_axes_broadcasting_added_or_stretched():
    grad = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_allclose(
        unbroadcast(grad, (4,)), grad.sum(axis=(0, 1)), err_msg="(2, 3, 4) -> (4,)"
    )
    np.testing.assert_allclose(
        unbroadcast(grad, (3, 4)), grad.sum(axis=0), err_msg="(2, 3, 4) -> (3, 4)"
    )
    np.testing.assert_allclose(
        unbroadcast(grad, (3, 1)),
        grad.sum(axis=(0, 2))[:, None],
        err_msg="(2, 3, 4) -> (3, 1): sum the added axis 0 and the stretched axis 2, keep it",
    )
    np.testing.assert_allclose(
        unbroadcast(grad, (2, 1, 4)), grad.sum(axis=1, keepdims=True), err_msg="-> (2, 1, 4)"
    )
    scalar = unbroadcast(grad, ())
    assert np.shape(scalar) == () and float(scalar) == grad.sum(), "-> (): the sum of everything"


@exercise("05.1")
def test_05_1_unbroadcast_shapes_match_the_input():
    column_row = np.ones((3, 4), dtype=np.float32)  # the gradient of (3, 1) + (4,)
    assert unbroadcast(column_row, (3, 1)).shape == (3, 1), "keep the stretched axis: (3, 1)"
    np.testing.assert_allclose(unbroadcast(column_row, (3, 1)), [[4], [4], [4]])
    np.testing.assert_allclose(unbroadcast(column_row, (4,)), [3, 3, 3, 3])
    np.testing.assert_allclose(unbroadcast(column_row, (1, 1)), [[12]])


@exercise("05.1")
def test_05_1_unbroadcast_is_the_adjoint_of_broadcasting():
    # For every x of the input's shape: sum(grad * broadcast(x)) == sum(unbroadcast(grad) * x).
    rng = np.random.default_rng(1)
    for shape, target in [((3, 1), (2, 3, 4)), ((1, 5), (4, 5)), ((), (2, 2)), ((6,), (3, 6))]:
        grad = rng.standard_normal(target).astype(np.float32)
        x = rng.standard_normal(shape)
        reduced = unbroadcast(grad, shape)
        assert np.shape(reduced) == shape, f"{target} -> {shape}: got {np.shape(reduced)}"
        np.testing.assert_allclose(
            np.sum(reduced * x),
            np.sum(grad * np.broadcast_to(x, target)),
            rtol=1e-5,
            err_msg=f"{target} -> {shape}: each input entry must collect the gradient of "
            f"every output entry it was copied to",
        )


# ---- 05.2 add and mul --------------------------------------------------------------
@exercise("05.2")
def test_05_2_add_passes_the_upstream_gradient_to_both_inputs(without_your_unbroadcast):
    a = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    b = Tensor([[0.5, 0.5, 0.5], [1.0, 1.0, 1.0]], requires_grad=True)
    upstream = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]])
    _, _, (grad_a, grad_b) = run_rule("__add__", [a, b], upstream=upstream)
    np.testing.assert_allclose(grad_a, upstream, err_msg="d(a + b)/da is 1: a gets upstream")
    np.testing.assert_allclose(grad_b, upstream, err_msg="d(a + b)/db is 1: b gets upstream")


@exercise("05.2")
def test_05_2_mul_multiplies_the_upstream_gradient_by_the_other_input(without_your_unbroadcast):
    a = Tensor([2.0, -3.0, 4.0], requires_grad=True)
    b = Tensor([5.0, 6.0, -7.0], requires_grad=True)
    upstream = np.array([1.0, 10.0, 0.5])
    _, _, (grad_a, grad_b) = run_rule("__mul__", [a, b], upstream=upstream)
    np.testing.assert_allclose(grad_a, upstream * b.data, err_msg="d(a·b)/da = b")
    np.testing.assert_allclose(grad_b, upstream * a.data, err_msg="d(a·b)/db = a")


@exercise("05.2")
def test_05_2_add_and_mul_with_broadcasting_match_numerical_slopes(without_your_unbroadcast):
    rng = np.random.default_rng(2)
    for left, right in [((3, 1), (4,)), ((2, 3, 4), (3, 1)), ((), (2, 3)), ((5,), (5,))]:
        check_rule("__add__", [rng.standard_normal(left), rng.standard_normal(right)])
        check_rule("__mul__", [rng.standard_normal(left), rng.standard_normal(right)])
    constant = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    for name in ("__add__", "__mul__"):  # a plain number as the other operand
        _, upstream, grads = run_rule(name, [constant, 2.0])
        expected = upstream if name == "__add__" else upstream * 2.0
        np.testing.assert_allclose(grads[0], expected, rtol=1e-6, err_msg=f"{name} with 2.0")


# ---- 05.3 pow, exp, log --------------------------------------------------------------
@exercise("05.3")
def test_05_3_pow_rule_for_several_exponents():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    upstream = np.array([1.0, 1.0, 2.0])
    _, _, (grad,) = run_rule("__pow__", [x], 2, upstream=upstream)
    np.testing.assert_allclose(grad, [2.0, 4.0, 12.0], err_msg="d(x²)/dx = 2x, times upstream")
    rng = np.random.default_rng(3)
    for exponent in (3, -1.0, 0.5, -0.5, 2.5, 1):
        check_rule("__pow__", [positive(rng, (3, 4))], exponent)


@exercise("05.3")
def test_05_3_pow_zero_has_slope_zero_even_at_zero():
    x = Tensor([0.0, -2.0, 3.0], requires_grad=True)
    with np.errstate(all="ignore"):  # show the NaN below rather than NumPy's warning
        _, _, (grad,) = run_rule("__pow__", [x], 0, upstream=np.ones(3))
    np.testing.assert_array_equal(
        grad,
        [0.0, 0.0, 0.0],
        err_msg="x ** 0 is the constant 1: its slope is 0 everywhere, also at x = 0, where "
        "0 * x ** -1 would be 0 * inf = NaN",
    )


@exercise("05.3")
def test_05_3_exp_uses_its_output_and_log_divides():
    x = Tensor([0.0, 1.0, -2.0], requires_grad=True)
    upstream = np.array([1.0, 2.0, 3.0])
    _, _, (grad,) = run_rule("exp", [x], upstream=upstream)
    np.testing.assert_allclose(grad, upstream * np.exp(x.data), rtol=1e-6, err_msg="d(e^x) = e^x")
    _, _, (grad,) = run_rule(
        "log", [Tensor([0.5, 2.0, 4.0], requires_grad=True)], upstream=upstream
    )
    np.testing.assert_allclose(grad, [2.0, 1.0, 0.75], rtol=1e-6, err_msg="d(log x)/dx = 1/x")
    rng = np.random.default_rng(4)
    check_rule("exp", [rng.standard_normal((2, 3, 4))])
    check_rule("log", [positive(rng, (4, 5))])


@exercise("05.3")
def test_05_3_rules_keep_arrays_not_their_result_tensor():
    """A rule that mentions its result Tensor (`out.data` inside backward) makes a cycle
    out -> its record -> the rule -> out that only the garbage collector frees: with the
    collector off, the result must be freed as soon as the last name for it goes away."""
    cases = (("__pow__", (3,)), ("exp", ()), ("log", ()))
    collecting = gc.isenabled()
    gc.disable()
    try:
        for name, args in cases:
            out, _, _ = run_rule(name, [Tensor([0.5, 1.0, 2.0], requires_grad=True)], *args)
            alive = weakref.ref(out)
            del out
            assert alive() is None, (
                f"{name}: its result Tensor is still alive after the last name for it was "
                f"deleted: its backward rule refers to the result itself (e.g. out.data), "
                f"a reference cycle. Keep the array the rule needs (saved = out.data, "
                f"outside the rule) and use that inside it."
            )
    finally:
        if collecting:
            gc.enable()


# ---- 05.4 matmul ---------------------------------------------------------------------
@exercise("05.4")
def test_05_4_matmul_of_two_matrices(without_your_unbroadcast):
    a = Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)  # (3, 2)
    b = Tensor([[1.0, 0.0, 2.0, -1.0], [0.5, 1.0, 0.0, 3.0]], requires_grad=True)  # (2, 4)
    upstream = np.arange(12, dtype=np.float32).reshape(3, 4)
    _, _, (grad_a, grad_b) = run_rule("matmul", [a, b], upstream=upstream)
    np.testing.assert_allclose(grad_a, upstream @ b.data.T, err_msg="dA = grad @ Bᵀ, shape (3, 2)")
    np.testing.assert_allclose(grad_b, a.data.T @ upstream, err_msg="dB = Aᵀ @ grad, shape (2, 4)")
    rng = np.random.default_rng(5)
    check_rule("matmul", [rng.standard_normal((4, 3)), rng.standard_normal((3, 5))])


@exercise("05.4")
def test_05_4_matmul_of_square_matrices_needs_the_right_transpose(without_your_unbroadcast):
    """With square matrices every shape lines up, so only the values show a transpose
    in the wrong place (grad @ B instead of grad @ Bᵀ, B @ grad instead of Aᵀ @ grad)."""
    a = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = Tensor([[0.0, 1.0], [-2.0, 5.0]], requires_grad=True)
    upstream = np.array([[1.0, -1.0], [2.0, 0.5]], dtype=np.float32)
    _, _, (grad_a, grad_b) = run_rule("matmul", [a, b], upstream=upstream)
    np.testing.assert_allclose(
        grad_a, upstream @ b.data.T, err_msg="(2, 2) @ (2, 2): dA = grad @ Bᵀ"
    )
    np.testing.assert_allclose(
        grad_b, a.data.T @ upstream, err_msg="(2, 2) @ (2, 2): dB = Aᵀ @ grad"
    )
    rng = np.random.default_rng(8)
    check_rule("matmul", [rng.standard_normal((2, 3, 3)), rng.standard_normal((3, 3))])


@exercise("05.4")
def test_05_4_matmul_of_stacks_and_broadcast_stacks(without_your_unbroadcast):
    rng = np.random.default_rng(6)
    for left, right in [
        ((2, 4, 3), (2, 3, 5)),  # one matrix product per stack entry
        ((2, 4, 3), (3, 5)),  # the right matrix is shared by the whole stack
        ((4, 3), (2, 3, 5)),  # the left matrix is shared
        ((2, 1, 4, 3), (5, 3, 2)),  # stack axes broadcast against each other
    ]:
        check_rule("matmul", [rng.standard_normal(left), rng.standard_normal(right)])


@exercise("05.4")
def test_05_4_matmul_with_one_dimensional_operands(without_your_unbroadcast):
    rng = np.random.default_rng(7)
    for left, right in [((3,), (3, 5)), ((4, 3), (3,)), ((3,), (3,)), ((3,), (2, 3, 4))]:
        check_rule("matmul", [rng.standard_normal(left), rng.standard_normal(right)])


# ---- 05.5 sum and max ----------------------------------------------------------------
@exercise("05.5")
def test_05_5_sum_sends_the_gradient_back_to_every_summed_entry():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    _, _, (grad,) = run_rule("sum", [x], upstream=np.array(2.0))
    np.testing.assert_allclose(grad, np.full((2, 3), 2.0), err_msg="sum(): every entry gets 2")
    _, _, (grad,) = run_rule("sum", [x], axis=0, upstream=np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(grad, [[1, 2, 3], [1, 2, 3]], err_msg="sum(axis=0)")
    _, _, (grad,) = run_rule("sum", [x], axis=1, keepdims=True, upstream=[[5.0], [7.0]])
    np.testing.assert_allclose(grad, [[5, 5, 5], [7, 7, 7]], err_msg="sum(axis=1, keepdims)")
    rng = np.random.default_rng(8)
    cube = rng.standard_normal((2, 3, 4))
    for axis in (None, 0, 1, -1, (0, 2), (1, -1)):
        for keepdims in (False, True):
            check_rule("sum", [cube], axis=axis, keepdims=keepdims)


@exercise("05.5")
def test_05_5_max_sends_the_gradient_to_the_largest_entries():
    x = Tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 0.0]], requires_grad=True)
    _, _, (grad,) = run_rule("max", [x], axis=1, upstream=np.array([10.0, 20.0]))
    np.testing.assert_allclose(grad, [[0, 10, 0], [20, 0, 0]], err_msg="max(axis=1)")
    _, _, (grad,) = run_rule("max", [x], upstream=np.array(3.0))
    np.testing.assert_allclose(grad, [[0, 3, 0], [0, 0, 0]], err_msg="max() of everything")
    rng = np.random.default_rng(9)
    cube = rng.standard_normal((2, 3, 4))  # no ties
    for axis in (None, 0, -1, (0, 2)):
        for keepdims in (False, True):
            check_rule("max", [cube], axis=axis, keepdims=keepdims)


@exercise("05.5")
def test_05_5_max_shares_the_gradient_equally_between_ties():
    x = Tensor([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    _, _, (grad,) = run_rule("max", [x], axis=1, keepdims=True, upstream=[[1.0], [3.0]])
    np.testing.assert_allclose(
        grad,
        [[0.5, 0, 0.5], [1, 1, 1]],
        rtol=1e-6,
        err_msg="tied maxima split the gradient equally (the module's documented choice)",
    )


# ---- 05.6 reshape, transpose, indexing -----------------------------------------------
@exercise("05.6")
def test_05_6_reshape_and_transpose_undo_themselves_on_the_gradient():
    rng = np.random.default_rng(10)
    cube = rng.standard_normal((2, 3, 4))
    check_rule("reshape", [cube], 6, 4)
    check_rule("reshape", [cube], (4, -1))
    check_rule("reshape", [cube], -1)
    check_rule("transpose", [cube])  # swap the last two axes
    check_rule("transpose", [cube], 2, 0, 1)
    check_rule("transpose", [cube], (1, 2, 0))
    check_rule("transpose", [cube], 0, -1, 1)
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    upstream = np.arange(6.0).reshape(3, 2)
    _, _, (grad,) = run_rule("transpose", [x], upstream=upstream)
    np.testing.assert_allclose(grad, upstream.T, err_msg="(2, 3) -> (3, 2) and back")


@exercise("05.6")
def test_05_6_transpose_of_a_vector_passes_the_gradient_through():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    out, _, (grad,) = run_rule("transpose", [x], upstream=[4.0, 5.0, 6.0])
    assert out.shape == (3,), f"a vector has nothing to swap: shape (3,), got {out.shape}"
    np.testing.assert_array_equal(grad, [4.0, 5.0, 6.0], "the gradient comes back unchanged")


@exercise("05.6")
def test_05_6_indexing_scatters_the_gradient_and_adds_repeats():
    x = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    _, _, (grad,) = run_rule("__getitem__", [x], [2, 0, 2], upstream=np.ones((3, 4)))
    np.testing.assert_allclose(
        grad,
        [[1, 1, 1, 1], [0, 0, 0, 0], [2, 2, 2, 2]],
        err_msg="row 2 was selected twice: it collects both gradients (np.add.at)",
    )
    _, _, (grad,) = run_rule("__getitem__", [x], (1, slice(1, 3)), upstream=[5.0, 6.0])
    expected = np.zeros((3, 4))
    expected[1, 1:3] = [5.0, 6.0]
    np.testing.assert_allclose(grad, expected, err_msg="x[1, 1:3]")
    index = Tensor([1, 1, 0])  # a Tensor of positions works too
    _, _, (grad,) = run_rule("__getitem__", [x], index, upstream=np.ones((3, 4)))
    np.testing.assert_allclose(grad.sum(axis=1), [4, 8, 0], err_msg="x[Tensor([1, 1, 0])]")
    rng = np.random.default_rng(11)
    cube = rng.standard_normal((3, 4, 5))
    for position in [
        1,
        (slice(None), 2),
        (Ellipsis, slice(1, 4)),
        ([0, 2, 0], slice(None), [1, 1, 4]),
        cube[..., 0] > 0,
    ]:
        check_rule("__getitem__", [cube], position)


# ---- 05.7 backward -------------------------------------------------------------------
# Hand-made operations for the backward() tests: NumPy forward, rule attached directly.
# They use none of your rules (05.2–05.6), only attach_backward.
def scaled(x: Tensor, factor: float) -> Tensor:
    return attach_backward(Tensor(x.data * factor), (x,), lambda grad: (grad * factor,))


def added(a: Tensor, b: Tensor) -> Tensor:
    # NOTE: the rule hands the *same* array to both inputs, as a real add rule may.
    return attach_backward(Tensor(a.data + b.data), (a, b), lambda grad: (grad, grad))


def multiplied(a: Tensor, b: Tensor) -> Tensor:
    return attach_backward(
        Tensor(a.data * b.data), (a, b), lambda grad: (grad * b.data, grad * a.data)
    )


def summed(x: Tensor) -> Tensor:
    return attach_backward(
        Tensor(x.data.sum()), (x,), lambda grad: (np.broadcast_to(grad, x.shape),)
    )


@exercise("05.7")
def test_05_7_a_result_used_twice_waits_for_both_gradients():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = scaled(a, 2.0)  # b is used twice: by c and by d
    c = scaled(b, 3.0)
    d = added(b, c)  # d = b + 3b = 8a
    autograd.backward(d, np.ones(2, dtype=np.float32))
    np.testing.assert_allclose(
        a.grad.data,
        [8.0, 8.0],
        err_msg="d = b + 3b with b = 2a: dd/da = 8. A smaller value means b's rule ran before "
        "all of b's users had passed their gradient down: visit the graph in topological order",
    )


@exercise("05.7")
def test_05_7_topological_order_lists_every_tensor_once_before_its_parents():
    rng = np.random.default_rng(12)
    leaves = [Tensor(rng.standard_normal(3), requires_grad=True) for _ in range(3)]
    made = list(leaves)
    for _ in range(30):  # a random graph where results are reused many times
        i, j = rng.integers(0, len(made), size=2)
        made.append(added(made[i], made[j]) if rng.random() < 0.6 else scaled(made[i], 0.5))
    output = added(made[-1], made[-2])
    order = autograd.topological_order(output)
    assert order[0] is output, "the order starts at the output"
    ids = [id(t) for t in order]
    assert len(ids) == len(set(ids)), "every tensor must appear exactly once"
    position = {id(t): k for k, t in enumerate(order)}
    for tensor in order:
        for parent in getattr(getattr(tensor, "grad_fn", None), "parents", ()):
            assert id(parent) in position, "every parent with requires_grad is in the order"
            assert position[id(parent)] > position[id(tensor)], (
                "a tensor must come before all of its parents"
            )


@exercise("05.7")
def test_05_7_topological_order_leaves_out_tensors_that_need_no_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    constant = Tensor([3.0, 4.0])  # requires_grad=False, like a mask or a target
    product = multiplied(x, constant)
    order = autograd.topological_order(summed(product))
    assert any(t is x for t in order) and any(t is product for t in order), (
        "the order lists x and x * constant, which require grad"
    )
    assert not any(t is constant for t in order), (
        "the order lists only tensors that require grad: the constant [3, 4] "
        "(requires_grad=False) is a parent of x * constant but takes no part"
    )


@exercise("05.7")
def test_05_7_a_chain_of_ten_thousand_operations_needs_no_recursion():
    x = Tensor(1.5, requires_grad=True)
    y = x
    for step in range(10_000):
        y = scaled(y, 2.0 if step % 2 == 0 else 0.5)
    limit = sys.getrecursionlimit()
    autograd.backward(y)  # one entry: the gradient starts as 1
    assert sys.getrecursionlimit() == limit, "do not raise the recursion limit: use a stack"
    assert x.grad is not None and x.grad.item() == pytest.approx(1.0), (
        f"the chain multiplies by 2 and 0.5 in turn, so dy/dx = 1, got {x.grad}"
    )


@exercise("05.7")
def test_05_7_gradients_accumulate_until_cleared():
    a = Tensor([1.0, -1.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    out = summed(multiplied(a, b))
    autograd.backward(out)
    np.testing.assert_allclose(a.grad.data, [3.0, 4.0])
    autograd.backward(out)
    np.testing.assert_allclose(
        a.grad.data, [6.0, 8.0], err_msg="a second backward() adds to .grad (+=), not replaces"
    )
    a.grad = None
    autograd.backward(summed(scaled(a, 5.0)))
    np.testing.assert_allclose(a.grad.data, [5.0, 5.0], err_msg="after .grad = None it restarts")
    squared = summed(multiplied(b, b))  # b used twice by one operation
    b.grad = None
    autograd.backward(squared)
    np.testing.assert_allclose(b.grad.data, [6.0, 8.0], err_msg="d(b·b)/db = 2b: add both shares")


@exercise("05.7")
def test_05_7_grad_is_a_float32_tensor_of_the_leaf_shape_and_never_shared():
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    b = Tensor(np.ones((2, 3)), requires_grad=True)
    autograd.backward(added(a, b), np.full((2, 3), 2.0))  # one array handed to both
    for name, leaf in (("a", a), ("b", b)):
        assert isinstance(leaf.grad, Tensor), f"{name}.grad must be a Tensor"
        assert leaf.grad.shape == leaf.shape and leaf.grad.dtype == np.float32, (
            f"{name}.grad should be float32 of shape {leaf.shape}, got {leaf.grad.dtype} "
            f"{leaf.grad.shape}"
        )
    assert not np.shares_memory(a.grad.data, b.grad.data), (
        "a.grad and b.grad share one array: adding into one would change the other. Copy the "
        "gradient the first time a leaf stores it"
    )
    autograd.backward(summed(a))
    np.testing.assert_allclose(a.grad.data, np.full((2, 3), 3.0))
    np.testing.assert_allclose(b.grad.data, np.full((2, 3), 2.0), err_msg="b must not change")


@exercise("05.7")
def test_05_7_only_leaves_that_require_grad_receive_grad():
    weights = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    data = Tensor([4.0, 5.0, 6.0])  # a constant: requires_grad=False
    hidden = multiplied(weights, data)
    out = summed(hidden)
    autograd.backward(out)
    np.testing.assert_allclose(weights.grad.data, data.data)
    assert data.grad is None, "a tensor with requires_grad=False never gets a .grad"
    assert hidden.grad is None and out.grad is None, (
        "intermediate results do not keep a .grad: only leaves (tensors without grad_fn) do"
    )


@exercise("05.7")
def test_05_7_backward_seeds_one_entry_outputs_and_asks_for_grad_otherwise():
    x = Tensor([[2.0]], requires_grad=True)  # one entry, shape (1, 1)
    autograd.backward(scaled(x, 3.0))
    np.testing.assert_allclose(x.grad.data, [[3.0]], err_msg="a one-entry output starts with 1")
    matrix = Tensor(np.ones((3, 4)), requires_grad=True)
    with pytest.raises(RuntimeError) as caught:
        autograd.backward(scaled(matrix, 2.0))
    assert "(3, 4)" in str(caught.value), "the error should name the shape of the output"
    upstream = np.arange(12.0).reshape(3, 4)
    autograd.backward(scaled(matrix, 2.0), upstream)
    np.testing.assert_allclose(matrix.grad.data, 2 * upstream, err_msg="explicit grad is used")


@exercise("05.7")
def test_05_7_a_rule_may_return_none_for_an_input():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    first_only = attach_backward(Tensor(a.data + b.data), (a, b), lambda grad: (grad * 2, None))
    autograd.backward(first_only, np.ones(2))
    np.testing.assert_allclose(a.grad.data, [2.0, 2.0])
    assert b.grad is None, "None from a rule means: no gradient for this input"


# ---- 05.8 no_grad --------------------------------------------------------------------
@exercise("05.8")
def test_05_8_nothing_is_recorded_inside_no_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert is_grad_enabled(), "recording is on outside no_grad()"
    with no_grad():
        assert not is_grad_enabled(), "inside no_grad() recording is off"
        y = scaled(x, 2.0)
    assert y.requires_grad is False, "a result computed inside no_grad() needs no gradient"
    assert getattr(y, "grad_fn", None) is None, "no node may be recorded inside no_grad()"
    assert is_grad_enabled(), "recording is back on after the block"
    assert getattr(scaled(x, 2.0), "grad_fn", None) is not None, "and records again"


@exercise("05.8")
def test_05_8_no_grad_nests_and_survives_exceptions():
    with no_grad():
        with no_grad():
            assert not is_grad_enabled(), "inside two nested no_grad() blocks recording is off"
        assert not is_grad_enabled(), "leaving an inner block must not switch recording on"
    assert is_grad_enabled(), "leaving the outer no_grad() block switches recording back on"
    with pytest.raises(KeyError):
        with no_grad():
            raise KeyError("something failed inside the block")
    assert is_grad_enabled(), "an exception inside the block must still restore recording"


@exercise("05.8")
def test_05_8_no_grad_works_as_a_decorator():
    x = Tensor([1.0], requires_grad=True)

    @no_grad()
    def evaluate(t: Tensor) -> Tensor:
        return scaled(t, 3.0)

    assert evaluate(x).requires_grad is False, (
        "a function decorated with @no_grad() records nothing: its result needs no grad"
    )
    assert is_grad_enabled(), "after the decorated call recording is back on"


# ---- 05.9 enable_autograd ------------------------------------------------------------
# The enumeration below is built from what modules 01–04 define *now*: every member of
# Tensor, and every name their module.yaml files export. A new operation there without
# a gradient case here fails test_05_9_every_operation... with its name.
EARLIER_MODULES = (2, 3, 4)  # Module 01's Tensor is enumerated member by member

NOT_DIFFERENTIABLE_TENSOR_MEMBERS = {
    "__init__": "constructor",
    "__repr__": "text",
    "__len__": "a count",
    "shape": "metadata",
    "dtype": "metadata",
    "size": "metadata",
    "ndim": "metadata",
    "memory_footprint": "a count of bytes",
    "numpy": "leaves the Tensor world",
    "item": "leaves the Tensor world",
    "backward": "the machinery itself",
}

NOT_DIFFERENTIABLE_EXPORTS = {
    "count_tensors": "module 02: measures allocations",
    "Module": "module 03: base class, no computation of its own",
    "xavier_uniform": "module 03: makes initial values",
    "parameter_count": "module 03: a count",
    "parameter_bytes": "module 03: a count of bytes",
    "activation_bytes": "module 03: a count of bytes",
    "one_hot": "module 04: builds a NumPy constant",
    "exp_limits": "module 04: two numbers about float32",
    "loss_vs_model_bytes": "module 04: measures allocations",
}


def tensor_cases(rng) -> dict:
    """name -> [(label, f, inputs)] for every differentiable member of Tensor. Inputs
    are arrays (they become Tensors with requires_grad=True) or existing Tensors."""
    a34, b34 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    pos34, col = positive(rng, (3, 4)), rng.standard_normal((3, 1))
    cube = points_away_from_zero(rng, (2, 3, 4))
    return {
        "__add__": [("(3,1) + (4,)", lambda a, b: a + b, [col, rng.standard_normal(4)])],
        "__radd__": [("2.5 + a", lambda a: 2.5 + a, [a34])],
        "__sub__": [("(3,4) - (3,1)", lambda a, b: a - b, [a34, col])],
        "__rsub__": [("1.5 - a", lambda a: 1.5 - a, [a34])],
        "__mul__": [("(3,1) * (1,4)", lambda a, b: a * b, [col, rng.standard_normal((1, 4))])],
        "__rmul__": [("3 * a", lambda a: 3.0 * a, [a34])],
        "__neg__": [("-a", lambda a: -a, [a34])],
        "__truediv__": [("a / b", lambda a, b: a / b, [a34, pos34])],
        "__rtruediv__": [("2 / b", lambda b: 2.0 / b, [pos34])],
        "__pow__": [
            ("a ** 3", lambda a: a**3, [a34]),
            ("b ** -0.5", lambda b: b**-0.5, [pos34]),
        ],
        "matmul": [("(2,3,4) @ (4,5)", lambda a, b: a.matmul(b), [cube, b34.T[:, :3]])],
        "__matmul__": [("(4,) @ (4,3)", lambda a, b: a @ b, [rng.standard_normal(4), b34.T])],
        "__rmatmul__": [("list @ b", lambda b: [[1.0, 2.0, 3.0]] @ b, [b34])],
        "sum": [
            ("sum()", lambda a: a.sum(), [cube]),
            ("sum(axis=1, keepdims)", lambda a: a.sum(axis=1, keepdims=True), [cube]),
        ],
        "max": [("max(axis=-1)", lambda a: a.max(axis=-1), [cube])],
        "mean": [
            ("mean()", lambda a: a.mean(), [cube]),
            ("mean(axis=(0, 2))", lambda a: a.mean(axis=(0, 2)), [cube]),
        ],
        "reshape": [("reshape(4, -1)", lambda a: a.reshape(4, -1), [cube])],
        "transpose": [("transpose(2, 0, 1)", lambda a: a.transpose(2, 0, 1), [cube])],
        "T": [("a.T", lambda a: a.T, [a34])],
        "exp": [("exp", lambda a: a.exp(), [a34])],
        "log": [("log", lambda a: a.log(), [pos34])],
        "__getitem__": [
            ("a[1:, [0, 2, 0]]", lambda a: a[1:, [0, 2, 0]], [a34]),
            ("a[Tensor([2, 0])]", lambda a: a[Tensor([2, 0])], [a34]),
        ],
    }


def linear_cases(Linear, rng):
    layer = Linear(4, 3, rng=0)
    layer.bias.data[:] = rng.standard_normal(3)  # not all zeros: a sharper check
    x = rng.standard_normal((5, 4))
    stack = rng.standard_normal((2, 5, 4))
    return [
        ("Linear(4, 3) on (5, 4)", lambda x, w, b: layer(x), [x, layer.weight, layer.bias]),
        ("Linear(4, 3) on (2, 5, 4)", lambda x, w, b: layer(x), [stack, layer.weight, layer.bias]),
    ]


def sequential_cases(Sequential, nn, rng):
    model = Sequential(nn.Linear(4, 5, rng=1), nn.Tanh(), nn.Linear(5, 2, rng=2))
    return [
        (
            "Sequential(Linear, Tanh, Linear)",
            lambda x, *parameters: model(x),
            [rng.standard_normal((3, 4)), *model.parameters()],
        )
    ]


def loss_cases(name, Loss, rng):
    logits = rng.standard_normal((4, 3))
    if name == "MSELoss":
        targets = rng.standard_normal((4, 3))
        return [("MSELoss", lambda p: Loss()(p, Tensor(targets)), [logits])]
    if name == "CrossEntropyLoss":
        labels, rows = [0, 2, 1, 2], rng.dirichlet(np.ones(3), size=4)
        return [
            ("CrossEntropyLoss, labels", lambda z: Loss()(z, labels), [logits]),
            ("CrossEntropyLoss, probability rows", lambda z: Loss()(z, Tensor(rows)), [logits]),
        ]
    if name == "BinaryCrossEntropyLoss":
        targets = rng.uniform(0, 1, size=(2, 3))
        z = points_away_from_zero(rng, (2, 3))
        return [("BinaryCrossEntropyLoss", lambda z: Loss()(z, Tensor(targets)), [z])]
    return None


def export_cases(name, number, obj, nn, rng):
    """Gradient cases for one exported name, or None if this test has none for it."""
    if name == "Linear":
        return linear_cases(obj, rng)
    if name == "Sequential":
        return sequential_cases(obj, nn, rng)
    if name in ("MSELoss", "CrossEntropyLoss", "BinaryCrossEntropyLoss"):
        return loss_cases(name, obj, rng)
    if name == "logsumexp":
        return [
            ("logsumexp(axis=-1)", lambda x: obj(x), [rng.standard_normal((3, 4))]),
            ("logsumexp(None)", lambda x: obj(x, axis=None), [rng.standard_normal((3, 4))]),
            ("logsumexp(0, keepdims)", lambda x: obj(x, 0, True), [rng.standard_normal((3, 4))]),
        ]
    if name == "log_softmax":
        return [("log_softmax(axis=0)", lambda x: obj(x, axis=0), [rng.standard_normal((3, 4))])]
    if number == 2 and isinstance(obj, type):  # every activation class, present and future
        cases = [
            (f"{name}() on (3, 4)", lambda x: obj()(x), [points_away_from_zero(rng, (3, 4))]),
            (f"{name}() on (2, 3, 2)", lambda x: obj()(x), [points_away_from_zero(rng, (2, 3, 2))]),
        ]
        if name == "Softmax":
            cases.append(
                ("Softmax(axis=0)", lambda x: obj(axis=0)(x), [rng.standard_normal((3, 4))])
            )
        return cases
    return None


def differentiable_cases():
    """Every differentiable operation of modules 01–04 as (label, f, inputs)."""
    rng = np.random.default_rng(20)
    cases = tensor_cases(rng)
    members = {
        name
        for name, value in vars(Tensor).items()
        if callable(value) or isinstance(value, property)
    }
    unknown = [
        f"Tensor.{name}"
        for name in sorted(members - set(cases) - set(NOT_DIFFERENTIABLE_TENSOR_MEMBERS))
    ]
    flat = [
        (f"Tensor.{name}: {label}", f, inputs) for name in cases for label, f, inputs in cases[name]
    ]
    import tinytorch.nn as nn

    for module in discover_modules():
        if module.number not in EARLIER_MODULES:
            continue
        for namespace, names in module.exports.items():
            space = importlib.import_module(namespace)
            for name in names:
                if name in NOT_DIFFERENTIABLE_EXPORTS:
                    continue
                found = export_cases(name, module.number, getattr(space, name), nn, rng)
                if found is None:
                    unknown.append(f"{namespace}.{name} (module {module.number:02d})")
                else:
                    flat += [
                        (f"{namespace}.{name}: {label}", f, inputs) for label, f, inputs in found
                    ]
    assert not unknown, (
        f"modules 01–04 define operations this test has no gradient case for: {unknown}. Add a "
        f"case to export_cases/tensor_cases (or a reason it is not differentiable)."
    )
    return flat


def as_inputs(inputs) -> list[Tensor]:
    return [x if isinstance(x, Tensor) else Tensor(x, requires_grad=True) for x in inputs]


@exercise("05.9")
def test_05_9_enable_installs_every_primitive_once():
    enable_autograd()
    enable_autograd()  # a second call must change nothing
    for name in autograd.PRIMITIVES:
        assert vars(Tensor)[name] is autograd.AUTOGRAD_OPS[name], (
            f"Tensor.{name} is not the autograd version from AUTOGRAD_OPS after enable_autograd()"
        )
    assert vars(Tensor)["backward"] is autograd.backward, "Tensor.backward must be backward()"
    assert Tensor([1.0]).grad_fn is None, "every tensor answers .grad_fn (None for a leaf)"
    a, b = Tensor([2.0], requires_grad=True), Tensor([3.0], requires_grad=True)
    product = a * b
    assert product.grad_fn is not None and product.grad_fn.parents[0] is a, (
        "a * b must record one operation whose parents are a and b"
    )


@exercise("05.9")
def test_05_9_module_01_behaviour_is_unchanged_after_enable():
    enable_autograd()
    x = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert (x + 1).dtype == np.float32 and (x * x).shape == (2, 3), (
        f"after enable_autograd, x + 1 should stay float32 and x * x keep shape (2, 3), got "
        f"{(x + 1).dtype} and {(x * x).shape}"
    )
    np.testing.assert_allclose((x - 1).data, [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_allclose((x / 2).data[1], [2, 2.5, 3])
    np.testing.assert_allclose(x.mean(axis=0).data, [2.5, 3.5, 4.5])
    np.testing.assert_allclose((x @ x.T).data, [[14, 32], [32, 77]])
    assert np.shares_memory(x.reshape(3, 2).data, x.data), "reshape must still be a view"
    np.testing.assert_allclose(x[Tensor([1])].data, [[4, 5, 6]])
    assert x.max().item() == 6.0 and x.sum(axis=1).shape == (2,), (
        f"after enable_autograd, max() of 1..6 should be 6 and sum(axis=1) of a (2, 3) tensor "
        f"have shape (2,), got {x.max().item()} and {x.sum(axis=1).shape}"
    )
    np.testing.assert_allclose(x.exp().log().data, x.data, rtol=1e-6)
    with pytest.raises(ValueError) as caught:
        x @ Tensor(np.ones((4, 5)))
    assert "(2, 3)" in str(caught.value), "module 01's teaching errors still come through"
    y = (x * 2 + 1).sum()
    assert y.requires_grad is False and y.grad_fn is None, (
        "without requires_grad=True inputs nothing is recorded: no graph, no cost"
    )


@exercise("05.9")
def test_05_9_every_operation_of_modules_01_to_04_joins_the_graph():
    enable_autograd()
    for label, f, raw_inputs in differentiable_cases():
        inputs = as_inputs(raw_inputs)
        out = f(*inputs)
        reached, stack = set(), [out]
        while stack:
            tensor = stack.pop()
            if id(tensor) not in reached:
                reached.add(id(tensor))
                stack.extend(getattr(getattr(tensor, "grad_fn", None), "parents", ()))
        for position, x in enumerate(inputs):
            assert id(x) in reached, (
                f"{label}: after enable_autograd() the result is not connected to input "
                f"{position}: an operation it uses records no backward rule"
            )


@exercise("05.9")
def test_05_9_every_operation_of_modules_01_to_04_has_correct_gradients():
    # Uses all of this module's rules and backward(): the end-to-end check of the switch.
    enable_autograd()
    rng = np.random.default_rng(21)
    for label, f, raw_inputs in differentiable_cases():
        inputs = as_inputs(raw_inputs)
        for x in inputs:
            x.grad = None
        out = f(*inputs)
        assert out.requires_grad, f"{label}: after enable_autograd() the result records nothing"
        weights = rng.standard_normal(out.shape)
        out.backward(weights.astype(np.float32))
        for position, x in enumerate(inputs):
            assert x.grad is not None and x.grad.shape == x.shape, (
                f"{label}: input {position} should get a .grad of shape {x.shape}"
            )
            gradient = x.grad.data.astype(np.float64)
            direction, h, original = rng.standard_normal(x.shape), 3e-3, x.data
            finals, points = [], []
            try:
                for sign in (1.0, -1.0):
                    x.data = (original + sign * h * direction).astype(np.float32)
                    finals.append(np.sum(f(*inputs).data.astype(np.float64) * weights))
                    points.append(x.data.astype(np.float64))
            finally:
                x.data = original
            numerical = finals[0] - finals[1]
            predicted = float(np.sum(gradient * (points[0] - points[1])))
            scale = 2 * h * float(np.linalg.norm(direction))
            assert abs(numerical - predicted) <= 2e-3 * scale + 1e-2 * abs(numerical), (
                f"{label}: the gradient of input {position} is wrong: a small step changes "
                f"the result by {numerical:.6g}, the gradient predicts {predicted:.6g}"
            )


# ---- 05.10 numerical_gradient --------------------------------------------------------
@exercise("05.10")
def test_05_10_numerical_gradient_of_known_functions():
    x = Tensor([1.0, -2.0, 3.0])
    (grad,) = numerical_gradient(lambda t: (t * t * t).sum(), [x])
    np.testing.assert_allclose(grad, 3 * x.data.astype(np.float64) ** 2, rtol=1e-3)
    a, b = Tensor([[1.0, 2.0], [3.0, 4.0]]), Tensor([0.5, -1.0])
    grad_a, grad_b = numerical_gradient(lambda p, q: (p * q).sum(), [a, b], eps=1e-2)
    np.testing.assert_allclose(grad_a, [[0.5, -1.0], [0.5, -1.0]], atol=1e-3)
    np.testing.assert_allclose(grad_b, [4.0, 6.0], atol=1e-3)
    assert grad_a.dtype == np.float64 and grad_a.shape == (2, 2), (
        f"numerical gradients are float64 arrays of the input's shape (2, 2), got "
        f"{grad_a.dtype} {grad_a.shape}"
    )


@exercise("05.10")
def test_05_10_numerical_gradient_is_a_central_difference():
    # For x³ a central difference is 3x² + eps² exactly; a forward one, (f(x + eps) -
    # f(x)) / eps, is 3x² + 3x·eps + eps²: a large eps makes the difference visible.
    x = Tensor([3.0, -1.0])
    (grad,) = numerical_gradient(lambda t: (t * t * t).sum(), [x], eps=0.1)
    central = 3 * np.array([3.0, -1.0]) ** 2 + 0.1**2
    np.testing.assert_allclose(
        grad,
        central,
        rtol=1e-4,
        err_msg="d(x³)/dx at x = [3, -1] with eps = 0.1: a central difference (f(x + eps) "
        "- f(x - eps)) / (2·eps) gives [27.01, 3.01]; a forward difference gives [27.91, 2.71]",
    )


@exercise("05.10")
def test_05_10_numerical_gradient_divides_by_the_step_float32_took():
    # Near 1000, float32 numbers are 6e-5 apart: 1000.3 ± 0.001 cannot be stored
    # exactly, and dividing by 2·eps instead of the real step is off by several percent.
    x = Tensor([1000.3])
    (grad,) = numerical_gradient(lambda t: t.sum(), [x], eps=1e-3)
    assert grad[0] == pytest.approx(1.0, abs=1e-6), (
        f"d(sum x)/dx is exactly 1, got {grad[0]!r}: divide by float(plus) - float(minus)"
    )


@exercise("05.10")
def test_05_10_numerical_gradient_leaves_the_inputs_untouched():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    original, before = x.data, x.data.copy()
    numerical_gradient(lambda t: (t * t).sum(), [x])
    assert x.data is original, "put the original array back in x.data"
    np.testing.assert_array_equal(x.data, before, err_msg="the input values must not change")
    calls = []

    def fails_on_second_call(t):
        calls.append(1)
        if len(calls) == 2:
            raise ArithmeticError("f failed")
        return t.sum()

    with pytest.raises(ArithmeticError):
        numerical_gradient(fails_on_second_call, [x])
    assert x.data is original, "restore x.data even when f raises (try/finally)"
    np.testing.assert_array_equal(x.data, before)


# ---- 05.11 graph_stats ----------------------------------------------------------------
@exercise("05.11")
def test_05_11_graph_stats_counts_operations_leaves_and_bytes():
    x = Tensor(np.ones((100, 50)), requires_grad=True)  # 20,000 bytes
    constant = Tensor(np.ones((100, 50)))
    h = multiplied(x, constant)  # 20,000 bytes kept
    both = added(h, scaled(h, 2.0))  # h used twice; two more 20,000-byte results
    out = summed(both)  # 4 bytes
    stats = graph_stats(out)
    assert stats.operations == 4, f"multiplied, scaled, added, summed: 4 operations, got {stats}"
    assert stats.leaves == 1, f"only x requires a gradient (the constant does not), got {stats}"
    assert stats.saved_bytes == 3 * 20_000 + 4, (
        f"three (100, 50) float32 results and one number: 60,004 bytes, each counted once; got "
        f"{stats.saved_bytes}"
    )


@exercise("05.11")
def test_05_11_graph_stats_of_tensors_without_a_graph():
    leaf = Tensor(np.ones(10), requires_grad=True)
    assert graph_stats(leaf) == autograd.GraphStats(operations=0, leaves=1, saved_bytes=0), (
        f"a leaf that requires grad alone: 0 operations, 1 leaf, 0 bytes; got {graph_stats(leaf)}"
    )
    assert graph_stats(Tensor(np.ones(10))) == autograd.GraphStats(0, 0, 0), (
        "a tensor that requires no grad is no leaf: GraphStats(0, 0, 0)"
    )
    chain = leaf
    for _ in range(5_000):  # deep graphs need an iterative walk here too
        chain = scaled(chain, 1.0)
    assert graph_stats(chain) == autograd.GraphStats(5_000, 1, 5_000 * 40), (
        f"5,000 scalings of a (10,) leaf: 5,000 operations, 1 leaf, 5,000 · 40 bytes; got "
        f"{graph_stats(chain)}"
    )
