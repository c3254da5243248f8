"""Graded tests for Module 04 (Losses). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

Every reference value is computed here with NumPy in float64, independently of your code.
Tests of one exercise use stand-ins for the other exercises' code where they would
otherwise depend on it. Tests marked `integration` are not graded.
"""

import math
import warnings

import numpy as np
import pytest

from tinytorch._testing import assert_built_from_tensor_ops
from tinytorch.core import Tensor, exp_limits
from tinytorch.nn import (
    BinaryCrossEntropyLoss,
    CrossEntropyLoss,
    Linear,
    MSELoss,
    ReLU,
    Sequential,
    log_softmax,
    logsumexp,
    loss_vs_model_bytes,
    one_hot,
)

exercise = pytest.mark.exercise


def call_quietly(what, fn, *args):
    """fn(*args), failing with advice if NumPy warns (overflow, divide by zero, invalid
    value) or if the result holds inf or NaN."""
    warned = None
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            result = fn(*args)
        except RuntimeWarning as warning:
            warned = warning
    if warned is not None:
        pytest.fail(
            f"{what} made NumPy warn '{warned}' on logits as large as ±1000. float32 exp "
            f"overflows above about 88.7 and log(0) is -inf: subtract the maximum before "
            f"exp (log-sum-exp), and never take log of a number that can round to 0.",
            pytrace=False,
        )
    assert isinstance(result, Tensor), f"{what} must return a Tensor, got {type(result).__name__}"
    assert np.all(np.isfinite(result.data)), f"{what} returned inf or NaN: {result.data}"
    return result


def reference_logsumexp(values, axis=-1, keepdims=False):
    values = np.asarray(values, dtype=np.float64)
    top = values.max(axis=axis, keepdims=True)
    total = np.log(np.exp(values - top).sum(axis=axis, keepdims=True)) + top
    return total if keepdims else np.squeeze(total, axis=axis)


def random_values(shape, scale=3.0, seed=0):
    return np.random.default_rng(seed).normal(scale=scale, size=shape)


def assert_scalar(result, what):
    assert isinstance(result, Tensor) and result.shape == (), (
        f"{what} returns one number: a Tensor of shape (), got "
        f"{getattr(result, 'shape', type(result).__name__)}. Finish with .mean()."
    )


# ---- 04.1 MSELoss -----------------------------------------------------------------
@exercise("04.1")
def test_04_1_mse_matches_numpy():
    predictions, targets = random_values((8, 3)), random_values((8, 3), seed=1)
    result = MSELoss()(Tensor(predictions), Tensor(targets))
    assert_scalar(result, "MSELoss")
    expected = np.mean((predictions - targets) ** 2)
    assert result.item() == pytest.approx(expected, rel=1e-5), (
        f"MSE of (8, 3) predictions and targets should be {expected:.6f}, got {result.item():.6f}"
    )
    assert MSELoss()(Tensor([1.0, 2.0, 3.0]), [1.0, 2.0, 5.0]).item() == pytest.approx(4 / 3), (
        "targets may arrive as a plain list: (0 + 0 + 2²) / 3"
    )


@exercise("04.1")
def test_04_1_mse_refuses_shapes_that_would_broadcast():
    with pytest.raises(ValueError) as caught:
        MSELoss()(Tensor(np.zeros((64, 1))), Tensor(np.zeros(64)))
    message = str(caught.value)
    assert "(64, 1)" in message and "(64,)" in message, (
        f"(64, 1) and (64,) broadcast to (64, 64): refuse them with a ValueError that names "
        f"both shapes; got {message!r}"
    )


@exercise("04.1")
def test_04_1_mse_is_built_from_tensor_ops():
    predictions = Tensor(random_values((4, 2)))
    assert_built_from_tensor_ops(
        "MSELoss",
        lambda: MSELoss()(predictions, Tensor(np.zeros((4, 2)))),
        predictions=predictions,
    )


# ---- 04.2 logsumexp, log_softmax ----------------------------------------------------
@exercise("04.2")
def test_04_2_logsumexp_matches_numpy_along_any_axis():
    values = random_values((3, 4, 5))
    for axis in (0, 1, -1, None):
        for keepdims in (False, True):
            result = logsumexp(Tensor(values), axis=axis, keepdims=keepdims)
            expected = np.log(np.sum(np.exp(values), axis=axis, keepdims=keepdims))
            assert result.shape == expected.shape, (
                f"logsumexp(axis={axis}, keepdims={keepdims}) of a (3, 4, 5) input has shape "
                f"{expected.shape}, got {result.shape}"
            )
            np.testing.assert_allclose(result.data, expected, rtol=1e-5, atol=1e-5)


@exercise("04.2")
def test_04_2_logsumexp_is_stable_at_extremes():
    scores = Tensor([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 0]])
    result = call_quietly("logsumexp", logsumexp, scores)
    expected = [1000.0, -1000.0 + math.log(3), 1000.0 + math.log(2)]
    np.testing.assert_allclose(result.data, expected, rtol=1e-6)


@exercise("04.2")
def test_04_2_log_softmax_matches_numpy_and_is_stable():
    values = random_values((5, 7))
    result = log_softmax(Tensor(values))
    assert result.shape == (5, 7), f"log_softmax keeps the shape (5, 7), got {result.shape}"
    expected = values - reference_logsumexp(values, keepdims=True)
    np.testing.assert_allclose(result.data, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        log_softmax(Tensor(values), axis=0).data,
        values - reference_logsumexp(values, axis=0, keepdims=True),
        rtol=1e-5,
        atol=1e-5,
        err_msg="log_softmax(x, axis=0) works down the columns",
    )
    extreme = call_quietly("log_softmax", log_softmax, Tensor([[1000.0, 0.0, -1000.0]]))
    np.testing.assert_allclose(extreme.data, [[0.0, -1000.0, -2000.0]], atol=1e-3)


@exercise("04.2")
def test_04_2_logsumexp_and_log_softmax_are_built_from_tensor_ops():
    x = Tensor(random_values((3, 4)))
    assert_built_from_tensor_ops("logsumexp", lambda: logsumexp(x), x=x)
    assert_built_from_tensor_ops("log_softmax", lambda: log_softmax(x), x=x)


# ---- 04.3 one_hot, CrossEntropyLoss ---------------------------------------------------
@pytest.fixture
def numpy_log_softmax(monkeypatch):
    """CrossEntropyLoss is graded with NumPy stand-ins for your log_softmax and logsumexp
    (04.2), so a slip in 04.2 is not charged twice. The stand-ins stay connected to
    their input (x * 0 + constant) so that the check of Tensor operations still works."""

    def stand_in_logsumexp(x, axis=-1, keepdims=False):
        values = reference_logsumexp(x.data, axis=axis, keepdims=keepdims)
        return (x * 0).sum(axis=axis, keepdims=keepdims) + Tensor(values)

    def stand_in_log_softmax(x, axis=-1):
        return x - Tensor(reference_logsumexp(x.data, axis=axis, keepdims=True))

    namespace = CrossEntropyLoss.forward.__globals__
    monkeypatch.setitem(namespace, "logsumexp", stand_in_logsumexp)
    monkeypatch.setitem(namespace, "log_softmax", stand_in_log_softmax)


def reference_cross_entropy(logits, labels):
    log_probabilities = logits - reference_logsumexp(logits, keepdims=True)
    return -np.mean(log_probabilities[np.arange(len(labels)), labels])


@exercise("04.3")
def test_04_3_one_hot_rows_and_label_checks():
    rows = one_hot([2, 0, 1, 2], 3)
    np.testing.assert_array_equal(rows, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert rows.dtype == np.float32, f"one-hot rows are float32, got {rows.dtype}"
    np.testing.assert_array_equal(one_hot(np.array([1.0, 0.0]), 2), [[0, 1], [1, 0]])
    with pytest.raises(ValueError) as caught:
        one_hot([0, 3, 1], 3)
    message = str(caught.value)
    assert "3" in message and "2" in message, (
        f"label 3 does not exist among 3 classes (0, 1, 2): the error should name the bad "
        f"label and the largest allowed one; got {message!r}"
    )
    for bad in ([0, -1], [0.5, 1.0]):
        with pytest.raises(ValueError):
            one_hot(bad, 3)


@exercise("04.3")
def test_04_3_cross_entropy_with_class_labels_matches_numpy(numpy_log_softmax):
    logits, labels = random_values((6, 4)), np.array([0, 3, 1, 1, 2, 0])
    result = CrossEntropyLoss()(Tensor(logits), labels)
    assert_scalar(result, "CrossEntropyLoss")
    assert result.item() == pytest.approx(reference_cross_entropy(logits, labels), rel=1e-5), (
        f"cross-entropy of (N, C) = {logits.shape} logits with labels {labels.tolist()} should be "
        f"{reference_cross_entropy(logits, labels):.6f}, got {result.item():.6f}"
    )
    uniform = CrossEntropyLoss()(Tensor(np.zeros((2, 5))), [4, 0]).item()
    assert uniform == pytest.approx(math.log(5), rel=1e-6), (
        "equal scores over 5 classes give probability 1/5 each: loss log(5)"
    )


@exercise("04.3")
def test_04_3_cross_entropy_accepts_one_hot_and_probability_rows(numpy_log_softmax):
    logits, labels = random_values((4, 3), seed=2), np.array([2, 0, 1, 1])
    expected = reference_cross_entropy(logits, labels)
    rows = np.eye(3)[labels]
    assert CrossEntropyLoss()(Tensor(logits), rows).item() == pytest.approx(expected, rel=1e-5), (
        f"one-hot rows as targets should give the same loss as the labels, {expected:.6f}"
    )
    from_tensor = CrossEntropyLoss()(Tensor(logits), Tensor(labels)).item()
    assert from_tensor == pytest.approx(expected, rel=1e-5), "labels may arrive as a Tensor"
    soft = np.full((4, 3), 1 / 3)
    soft_expected = -np.mean((logits - reference_logsumexp(logits, keepdims=True)).sum(-1) / 3)
    assert CrossEntropyLoss()(Tensor(logits), soft).item() == pytest.approx(soft_expected, 1e-5), (
        f"probability rows as targets: the loss should be {soft_expected:.6f}"
    )


@exercise("04.3")
def test_04_3_cross_entropy_is_stable_and_checks_target_shapes(numpy_log_softmax):
    logits = Tensor([[1000.0, -1000.0], [-1000.0, 1000.0]])
    result = call_quietly("CrossEntropyLoss", CrossEntropyLoss(), logits, [0, 0])
    assert result.item() == pytest.approx(1000.0), (
        "row 0 is confidently right (loss 0), row 1 confidently wrong (loss 2000): mean 1000"
    )
    with pytest.raises(ValueError) as caught:
        CrossEntropyLoss()(Tensor(np.zeros((4, 3))), np.zeros(5, dtype=int))
    assert "(5,)" in str(caught.value), (
        f"5 labels for 4 rows of logits: the error should show the targets' shape (5,); "
        f"got {str(caught.value)!r}"
    )


@exercise("04.3")
def test_04_3_cross_entropy_is_built_from_tensor_ops(numpy_log_softmax):
    logits = Tensor(random_values((3, 4)))
    assert_built_from_tensor_ops(
        "CrossEntropyLoss", lambda: CrossEntropyLoss()(logits, [0, 1, 3]), logits=logits
    )


# ---- 04.4 BinaryCrossEntropyLoss ----------------------------------------------------
def reference_binary_cross_entropy(logits, targets):
    logits = np.asarray(logits, dtype=np.float64)
    return np.mean(np.logaddexp(0.0, logits) - logits * np.asarray(targets))  # log(1+e^z) - zy


@exercise("04.4")
def test_04_4_binary_cross_entropy_matches_numpy():
    logits = random_values((5, 4))
    targets = np.random.default_rng(3).integers(0, 2, size=(5, 4)).astype(float)
    result = BinaryCrossEntropyLoss()(Tensor(logits), Tensor(targets))
    assert_scalar(result, "BinaryCrossEntropyLoss")
    expected = reference_binary_cross_entropy(logits, targets)
    assert result.item() == pytest.approx(expected, rel=1e-5), (
        f"binary cross-entropy should be {expected:.6f}, got {result.item():.6f}"
    )
    soft = np.full((5, 4), 0.3)
    assert BinaryCrossEntropyLoss()(Tensor(logits), soft).item() == pytest.approx(
        reference_binary_cross_entropy(logits, soft), rel=1e-5
    ), "targets between 0 and 1 (here 0.3) are allowed"


@exercise("04.4")
def test_04_4_binary_cross_entropy_is_stable_on_extreme_logits():
    logits = [1000.0, -1000.0, 1000.0, -1000.0, 17.0, -17.0, 0.0]
    targets = [1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0]
    result = call_quietly(
        "BinaryCrossEntropyLoss", BinaryCrossEntropyLoss(), Tensor(logits), targets
    )
    assert result.item() == pytest.approx(
        reference_binary_cross_entropy(logits, targets), rel=1e-5
    ), "expected per-entry losses 0, 0, 1000, 1000, 17, 17, log 2: take logits, never sigmoid first"


@exercise("04.4")
def test_04_4_binary_cross_entropy_checks_shapes_and_target_range():
    with pytest.raises(ValueError) as caught:
        BinaryCrossEntropyLoss()(Tensor(np.zeros((8, 1))), np.zeros(8))
    assert "(8, 1)" in str(caught.value) and "(8,)" in str(caught.value), (
        f"the error should name both shapes; got {str(caught.value)!r}"
    )
    with pytest.raises(ValueError) as caught:
        BinaryCrossEntropyLoss()(Tensor([0.5, 0.5]), [1.0, 2.0])
    assert "[0, 1]" in str(caught.value), (
        f"targets must lie in [0, 1]: say so in the error; got {str(caught.value)!r}"
    )


@exercise("04.4")
def test_04_4_binary_cross_entropy_is_built_from_tensor_ops():
    logits = Tensor(random_values((6,)))
    assert_built_from_tensor_ops(
        "BinaryCrossEntropyLoss",
        lambda: BinaryCrossEntropyLoss()(logits, np.ones(6)),
        logits=logits,
    )


# ---- 04.5 exp_limits ---------------------------------------------------------------
@exercise("04.5")
def test_04_5_float32_exp_limits():
    low, high = exp_limits(np.float32)
    assert isinstance(low, float) and isinstance(high, float), "return two Python floats"
    assert high == pytest.approx(88.7228, abs=1e-3), "log of float32's largest value, 3.4e38"
    assert low == pytest.approx(-87.3365, abs=1e-3), "log of float32's smallest normal, 1.2e-38"
    assert exp_limits() == (low, high), "float32 is the default"


@exercise("04.5")
def test_04_5_float64_exp_limits_mark_where_exp_overflows():
    low, high = exp_limits(np.float64)
    assert (low, high) == (pytest.approx(-708.3964, abs=1e-3), pytest.approx(709.7827, abs=1e-3)), (
        f"float64 limits should be about (-708.3964, 709.7827), got ({low}, {high})"
    )
    with np.errstate(over="ignore"):
        assert np.isfinite(np.exp(high - 0.01)) and np.isinf(np.exp(high + 0.01)), (
            f"exp should be finite just below high = {high} and overflow just above it"
        )


# ---- 04.6 loss_vs_model_bytes -----------------------------------------------------------
class MakesLogits:
    """A stand-in model: (N, anything) -> (N, 10) zeros; one new Tensor per call."""

    def __call__(self, x):
        return Tensor(np.zeros((x.shape[0], 10)))


class CountingLoss:
    """A stand-in loss: makes an (N, 10) temporary and a one-number result; records inputs."""

    def __init__(self):
        self.received = []

    def __call__(self, logits, targets):
        self.received.append((logits.shape, targets))
        Tensor(np.zeros(logits.shape))
        return Tensor(0.0)


@exercise("04.6")
def test_04_6_loss_vs_model_bytes_measures_both_calls():
    result = loss_vs_model_bytes(MakesLogits(), CountingLoss(), Tensor(np.ones((32, 5))), [1] * 32)
    assert tuple(result) == (32 * 10 * 4, 32 * 10 * 4 + 4), (
        f"the model allocates one (32, 10) float32 Tensor (1,280 bytes); the loss one (32, 10) "
        f"temporary plus its one-number result (1,284 bytes); got {result}"
    )


@exercise("04.6")
def test_04_6_the_loss_receives_the_models_output_and_the_targets():
    loss, targets = CountingLoss(), [3, 1]
    loss_vs_model_bytes(MakesLogits(), loss, Tensor(np.ones((2, 7))), targets)
    assert loss.received == [((2, 10), targets)], (
        f"the loss should be called once, on model(x) (shape (2, 10)) and the targets as given; "
        f"calls seen: {loss.received}"
    )


# ---- across exercises and modules (not graded) -------------------------------------
@pytest.mark.integration
def test_classifier_loss_is_finite_and_cheap_next_to_the_model():
    model = Sequential(Linear(784, 128, rng=0), ReLU(), Linear(128, 10, rng=1))
    x, labels = Tensor(np.random.default_rng(0).normal(size=(64, 784))), np.arange(64) % 10
    loss = CrossEntropyLoss()(model(x), labels)
    assert loss.shape == () and np.isfinite(loss.item())
    model_bytes, loss_bytes = loss_vs_model_bytes(model, CrossEntropyLoss(), x, labels)
    assert 0 < loss_bytes < model_bytes


@pytest.mark.integration
def test_cross_entropy_agrees_with_binary_cross_entropy_on_two_classes():
    z = random_values((6,))
    labels = np.random.default_rng(1).integers(0, 2, size=6)
    two_class = np.stack([np.zeros(6), z], axis=1)  # softmax([0, z])[1] == sigmoid(z)
    multi = CrossEntropyLoss()(Tensor(two_class), labels).item()
    binary = BinaryCrossEntropyLoss()(Tensor(z), labels.astype(float)).item()
    assert multi == pytest.approx(binary, rel=1e-5)
