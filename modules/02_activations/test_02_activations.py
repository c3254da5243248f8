"""Graded tests for Module 02 (Activations). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

Every reference value is computed here with NumPy in float64, independently of your code.
"""

import math
import warnings

import numpy as np
import pytest

from tinytorch._testing import assert_built_from_tensor_ops
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


# ---- 02.3 Tanh --------------------------------------------------------------------
@exercise("02.3")
def test_02_3_tanh_matches_numpy():
    values = moderate_inputs(shape=(3, 7))
    out = Tanh()(Tensor(values))
    assert out.shape == (3, 7) and out.dtype == np.float32
    np.testing.assert_allclose(out.data, np.tanh(values), rtol=1e-5, atol=1e-6)


@exercise("02.3")
def test_02_3_tanh_is_stable_at_extremes():
    out = call_quietly(Tanh(), Tensor(EXTREMES))
    np.testing.assert_allclose(out.data, np.tanh(EXTREMES), rtol=1e-6, atol=1e-7)


@exercise("02.3")
def test_02_3_tanh_is_built_from_tensor_ops():
    x = Tensor(moderate_inputs())
    assert_built_from_tensor_ops("Tanh", lambda: Tanh()(x), x=x)


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


@exercise("02.4")
def test_02_4_gelu_matches_the_tanh_formula(numpy_tanh):
    values = np.linspace(-6, 6, 49)
    out = GELU()(Tensor(values))
    assert out.shape == (49,) and out.dtype == np.float32
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
