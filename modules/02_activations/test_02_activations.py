"""Graded tests for Module 02 (Activations). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

Every reference value is computed here with NumPy in float64, independently of your code.
"""

import math
import warnings

import numpy as np
import pytest

from tinytorch._testing import PRIMITIVES, assert_built_from_tensor_ops
from tinytorch.core import Tensor, count_tensors
from tinytorch.nn import GELU, ReLU, Sigmoid, Softmax, Tanh

exercise = pytest.mark.exercise

EXTREMES = [-1000.0, -100.0, -1.0, 0.0, 1.0, 100.0, 1000.0]


def call_quietly(fn, *args):
    """fn(*args), failing with advice if NumPy warns (overflow, divide by zero, invalid
    value) or if the result holds inf or NaN."""
    name = type(fn).__name__
    warned = None
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            result = fn(*args)
        except RuntimeWarning as warning:
            warned = warning
    if warned is not None:
        pytest.fail(
            f"{name} made NumPy warn '{warned}' on inputs as large as ±1000. In float32, "
            f"exp overflows above about 88.7: rewrite so that exp only receives numbers "
            f"<= 0, e.g. exp(-|x|) with |x| = x * sign_mask(x).",
            pytrace=False,
        )
    assert isinstance(result, Tensor), f"{name} must return a Tensor, got {type(result).__name__}"
    assert np.all(np.isfinite(result.data)), (
        f"{name} returned inf or NaN for inputs {args[0].data}: got {result.data}"
    )
    return result


# Module 05 will differentiate every activation through the Tensor operations it is made
# of. `slopes` does the same here with Module 01 alone (forward mode: every operation also
# works out how its result moves when x moves), so a formula whose values are right but
# whose slope is wrong (a ReLU mask that is 1 at exactly 0, a tanh computed on .data)
# loses points in this module, not three modules later.
def _tangent_rules(original):
    def linear(name):  # sum, reshape, transpose, indexing: apply the same operation
        return lambda out, dx, a, *args, **kwargs: (
            original[name](Tensor(dx(a)), *args, **kwargs).data
        )

    def value(v):
        return v.data if isinstance(v, Tensor) else np.asarray(v, dtype=np.float64)

    def max_rule(out, dx, a, axis=None, keepdims=False):
        peak = a.data.max(axis=axis, keepdims=True)
        winners = a.data == peak
        moved = (dx(a) * winners).sum(axis=axis, keepdims=True) / winners.sum(
            axis=axis, keepdims=True
        )
        return moved if keepdims else moved.reshape(out.shape)

    return {
        "__add__": lambda out, dx, a, b: dx(a) + dx(b),
        "__mul__": lambda out, dx, a, b: dx(a) * value(b) + value(a) * dx(b),
        "__pow__": lambda out, dx, a, c: c * a.data.astype(np.float64) ** (c - 1) * dx(a),
        "matmul": lambda out, dx, a, b: np.matmul(dx(a), value(b)) + np.matmul(value(a), dx(b)),
        "exp": lambda out, dx, a: out.data * dx(a),
        "log": lambda out, dx, a: dx(a) / a.data,
        "max": max_rule,
        **{name: linear(name) for name in ("sum", "reshape", "transpose", "__getitem__")},
    }


def slopes(fn, values, direction=None):
    """How fn(x) moves when x moves along `direction` (default: every entry by 1):
    the elementwise derivative for an elementwise fn, computed through the Tensor
    operations fn is made of (constants such as masks do not move)."""
    x = Tensor(values)
    moves = {id(x): (x, np.ones(x.shape) if direction is None else np.asarray(direction))}

    def dx(t):
        if isinstance(t, Tensor) and id(t) in moves:
            return moves[id(t)][1]
        return np.zeros(np.shape(t.data if isinstance(t, Tensor) else t))

    original = {name: getattr(Tensor, name) for name in PRIMITIVES}
    rules = _tangent_rules(original)

    def tracked(name):
        def operation(self, *args, **kwargs):
            out = original[name](self, *args, **kwargs)
            if isinstance(out, Tensor):
                moves[id(out)] = (out, np.asarray(rules[name](out, dx, self, *args, **kwargs)))
            return out

        return operation

    with pytest.MonkeyPatch.context() as patch:
        for name in PRIMITIVES:
            patch.setattr(Tensor, name, tracked(name))
        out = fn(x)
    return np.broadcast_to(dx(out), out.shape)


def moderate_inputs(shape=(4, 5), scale=3.0, seed=0):
    return np.random.default_rng(seed).normal(scale=scale, size=shape)


# ---- 02.1 ReLU --------------------------------------------------------------------
@exercise("02.1")
def test_02_1_relu_matches_numpy_and_leaves_input_alone():
    values = moderate_inputs()
    x = Tensor(values)
    out = ReLU()(x)
    assert isinstance(out, Tensor) and out.shape == x.shape, (
        f"ReLU must return a Tensor of the input's shape {x.shape}"
    )
    assert out.dtype == np.float32, f"results stay float32, got {out.dtype}"
    np.testing.assert_allclose(out.data, np.maximum(values, 0.0), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(x.data, values.astype(np.float32), "ReLU modified its input")
    np.testing.assert_array_equal(ReLU()(Tensor([-2.0, 0.0, 5.0])).data, [0.0, 0.0, 5.0])


@exercise("02.1")
def test_02_1_relu_is_exact_at_extremes():
    out = call_quietly(ReLU(), Tensor(EXTREMES))
    np.testing.assert_array_equal(out.data, np.maximum(EXTREMES, 0.0))


@exercise("02.1")
def test_02_1_relu_of_infinities_is_zero_and_infinity():
    with np.errstate(invalid="ignore"):  # show the NaN below rather than NumPy's warning
        out = ReLU()(Tensor([-np.inf, -1.0, 0.0, 2.0, np.inf]))
    np.testing.assert_array_equal(
        out.data,
        [0.0, 0.0, 0.0, 2.0, np.inf],
        err_msg="relu(-inf) = max(-inf, 0) = 0 and relu(inf) = inf. If you see NaN: "
        "-inf * 0 is NaN in floating point, so set those entries to 0 yourself",
    )


@exercise("02.1")
def test_02_1_relu_is_built_from_tensor_ops():
    x = Tensor(moderate_inputs())
    assert_built_from_tensor_ops("ReLU", lambda: ReLU()(x), x=x)


@exercise("02.1")
def test_02_1_relu_slope_is_0_at_and_below_zero_and_1_above():
    values = [-2.0, -0.5, 0.0, 0.5, 3.0]
    got = slopes(ReLU(), values)
    np.testing.assert_array_equal(
        got,
        [0.0, 0.0, 0.0, 1.0, 1.0],
        err_msg=f"ReLU's slope at {values} should be [0, 0, 0, 1, 1] (0 at exactly 0, as in "
        f"PyTorch): the mask must be 1 only where x > 0, and ReLU is x * mask",
    )


# ---- 02.2 Sigmoid -----------------------------------------------------------------
@exercise("02.2")
def test_02_2_sigmoid_matches_numpy():
    values = np.linspace(-20, 20, 81).reshape(9, 9)
    out = Sigmoid()(Tensor(values))
    assert out.shape == (9, 9) and out.dtype == np.float32, (
        f"expected a float32 Tensor of shape (9, 9), got {out.shape} {out.dtype}"
    )
    expected = 1.0 / (1.0 + np.exp(-values))
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-7)
    assert Sigmoid()(Tensor(0.0)).item() == pytest.approx(0.5), "sigmoid(0) must be 0.5"


@exercise("02.2")
def test_02_2_sigmoid_is_stable_at_extremes():
    out = call_quietly(Sigmoid(), Tensor(EXTREMES))
    expected = [0.0, 0.0, 1 / (1 + math.e), 0.5, 1 / (1 + math.exp(-1)), 1.0, 1.0]
    np.testing.assert_allclose(out.data, expected, rtol=1e-6, atol=1e-30)


@exercise("02.2")
def test_02_2_sigmoid_is_built_from_tensor_ops():
    x = Tensor(moderate_inputs())
    assert_built_from_tensor_ops("Sigmoid", lambda: Sigmoid()(x), x=x)


@exercise("02.2")
def test_02_2_sigmoid_slope_is_s_times_1_minus_s():
    values = np.array([-6.0, -1.5, 0.0, 0.5, 2.0, 6.0])
    s = 1.0 / (1.0 + np.exp(-values))
    np.testing.assert_allclose(
        slopes(Sigmoid(), values),
        s * (1 - s),
        rtol=1e-4,
        atol=1e-7,
        err_msg=f"the slope of Sigmoid at {values.tolist()} should be s·(1 − s): build it from "
        f"Tensor operations on x (masks are constants), not from NumPy on .data",
    )


# ---- 02.3 Tanh --------------------------------------------------------------------
@exercise("02.3")
def test_02_3_tanh_matches_numpy():
    values = moderate_inputs(shape=(3, 7))
    out = Tanh()(Tensor(values))
    assert out.shape == (3, 7) and out.dtype == np.float32, (
        f"Tanh of a (3, 7) tensor should be float32 of shape (3, 7), got {out.dtype} {out.shape}"
    )
    np.testing.assert_allclose(out.data, np.tanh(values), rtol=1e-5, atol=1e-6)


@exercise("02.3")
def test_02_3_tanh_is_stable_at_extremes():
    out = call_quietly(Tanh(), Tensor(EXTREMES))
    np.testing.assert_allclose(out.data, np.tanh(EXTREMES), rtol=1e-6, atol=1e-7)


@exercise("02.3")
def test_02_3_tanh_is_built_from_tensor_ops():
    x = Tensor(moderate_inputs())
    assert_built_from_tensor_ops("Tanh", lambda: Tanh()(x), x=x)


@exercise("02.3")
def test_02_3_tanh_slope_is_1_minus_tanh_squared():
    values = np.array([-4.0, -1.0, 0.0, 0.3, 2.5])
    np.testing.assert_allclose(
        slopes(Tanh(), values),
        1 - np.tanh(values) ** 2,
        rtol=1e-4,
        atol=1e-6,
        err_msg=f"the slope of Tanh at {values.tolist()} should be 1 − tanh²: build it from "
        f"Tensor operations on x (sign masks are constants)",
    )


# ---- 02.4 GELU --------------------------------------------------------------------
def gelu_reference(values):
    values = np.asarray(values, dtype=np.float64)
    inner = math.sqrt(2 / math.pi) * (values + 0.044715 * values**3)
    return 0.5 * values * (1 + np.tanh(inner))


@pytest.fixture
def numpy_tanh(monkeypatch):
    """GELU is graded with NumPy's tanh standing in for your Tanh (02.3), so a slip in
    02.3 is not charged twice. Your GELU should call Tanh() from the same file."""

    class NumpyTanh:
        def __call__(self, x):
            return Tensor(np.tanh(x.data))

        forward = __call__

    monkeypatch.setitem(GELU.forward.__globals__, "Tanh", NumpyTanh)


@pytest.fixture
def tensor_ops_tanh(monkeypatch):
    """A stand-in for your Tanh (02.3) made of Tensor operations, for GELU's slope."""

    class OpsTanh:
        def __call__(self, x):
            e = (x * -2.0).exp()
            return (1 - e) / (1 + e)

    monkeypatch.setitem(GELU.forward.__globals__, "Tanh", OpsTanh)


@exercise("02.4")
def test_02_4_gelu_slope_matches_the_derivative_of_the_formula(tensor_ops_tanh):
    values = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
    step = 1e-6
    expected = (gelu_reference(values + step) - gelu_reference(values - step)) / (2 * step)
    np.testing.assert_allclose(
        slopes(GELU(), values),
        expected,
        rtol=1e-3,
        atol=1e-5,
        err_msg=f"the slope of GELU at {values.tolist()} should follow its formula: build it "
        f"from Tensor operations on x and call Tanh() on a Tensor, not NumPy on .data",
    )


@exercise("02.4")
def test_02_4_gelu_matches_the_tanh_formula(numpy_tanh):
    values = np.linspace(-6, 6, 49)
    out = GELU()(Tensor(values))
    assert out.shape == (49,) and out.dtype == np.float32, (
        f"GELU of a (49,) tensor should be float32 of shape (49,), got {out.dtype} {out.shape}"
    )
    np.testing.assert_allclose(out.data, gelu_reference(values), rtol=1e-5, atol=1e-6)
    exact = [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in values]
    np.testing.assert_allclose(
        out.data, exact, atol=1e-3, err_msg="the approximation stays within 0.001 of x·Φ(x)"
    )


@exercise("02.4")
def test_02_4_gelu_is_stable_at_extremes(numpy_tanh):
    out = call_quietly(GELU(), Tensor(EXTREMES))
    np.testing.assert_allclose(out.data, gelu_reference(EXTREMES), rtol=1e-6, atol=1e-6)


@exercise("02.4")
def test_02_4_gelu_is_built_from_tensor_ops(numpy_tanh):
    x = Tensor(moderate_inputs())
    assert_built_from_tensor_ops("GELU", lambda: GELU()(x), x=x)


# ---- 02.5 Softmax -----------------------------------------------------------------
def softmax_reference(values, axis):
    shifted = np.exp(values - values.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


@exercise("02.5")
def test_02_5_softmax_rows_match_numpy_and_sum_to_one():
    values = moderate_inputs(shape=(6, 10))
    out = Softmax()(Tensor(values))
    assert out.shape == (6, 10) and out.dtype == np.float32, (
        f"softmax keeps the input's shape (6, 10), got {out.shape}"
    )
    np.testing.assert_allclose(out.data, softmax_reference(values, -1), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(
        out.data.sum(axis=-1), np.ones(6), rtol=1e-5, err_msg="each row must sum to 1"
    )


@exercise("02.5")
def test_02_5_softmax_follows_the_axis_argument():
    values = moderate_inputs(shape=(2, 3, 4))
    for axis in (0, 1, 2, -1):
        out = Softmax(axis=axis)(Tensor(values))
        assert out.shape == (2, 3, 4), f"Softmax(axis={axis}) changed the shape to {out.shape}"
        np.testing.assert_allclose(
            out.data,
            softmax_reference(values, axis),
            rtol=1e-5,
            atol=1e-7,
            err_msg=f"Softmax(axis={axis}) must normalise along axis {axis} only",
        )


@exercise("02.5")
def test_02_5_softmax_is_stable_at_extremes():
    scores = Tensor([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 0.0]])
    out = call_quietly(Softmax(), scores)
    expected = [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0]]
    np.testing.assert_allclose(out.data, expected, rtol=1e-6, atol=1e-30)


@exercise("02.5")
def test_02_5_softmax_is_built_from_tensor_ops():
    x = Tensor(moderate_inputs())
    assert_built_from_tensor_ops("Softmax", lambda: Softmax()(x), x=x)


# ---- 02.6 count_tensors -----------------------------------------------------------
@exercise("02.6")
def test_02_6_count_tensors_counts_every_new_tensor_and_its_bytes():
    def make_three(n):
        Tensor(np.zeros((n, 10)))  # n * 10 * 4 bytes
        Tensor(np.zeros(3))  # 12 bytes
        Tensor(7.0)  # 4 bytes

    assert count_tensors(make_three, 100) == (3, 100 * 10 * 4 + 12 + 4), (
        "three Tensors were created: (100, 10), (3,) and a single number"
    )
    x = Tensor(np.ones((64, 1000)))
    assert count_tensors(lambda t: Tensor(t.data * 2), x) == (1, 256_000), (
        "one (64, 1000) float32 Tensor is 256,000 bytes"
    )
    assert count_tensors(lambda: None) == (0, 0), "a call that creates nothing counts (0, 0)"


@exercise("02.6")
def test_02_6_count_tensors_restores_tensor_even_when_fn_fails():
    original = Tensor.__init__

    def fails():
        Tensor([1.0, 2.0])
        raise KeyError("boom")

    with pytest.raises(KeyError):
        count_tensors(fails)
    assert Tensor.__init__ is original, (
        "after count_tensors, Tensor.__init__ must be the original again, even when fn "
        "raised: restore it in a finally: block"
    )
    count_tensors(lambda: Tensor(np.zeros(5)))
    assert Tensor.__init__ is original, "Tensor.__init__ must be restored after a normal call"
    assert count_tensors(lambda: Tensor(1.0)) == (1, 4), (
        "each call starts counting from zero: nothing from earlier calls is carried over"
    )
