"""Graded tests for Module 03 (Layers). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

Tests of one exercise use small stand-in layers instead of your code for the other
exercises, so a slip in one exercise is charged once. Tests marked `integration` run
the real pieces together and are not graded.
"""

import math

import numpy as np
import pytest

from tinytorch._testing import assert_built_from_tensor_ops
from tinytorch.core import Tensor
from tinytorch.nn import (
    Linear,
    Module,
    ReLU,
    Sequential,
    activation_bytes,
    parameter_bytes,
    parameter_count,
    xavier_uniform,
)

exercise = pytest.mark.exercise


def parameter(*shape):
    """A Tensor marked as a parameter (requires_grad=True)."""
    return Tensor(np.zeros(shape), requires_grad=True)


class Holder(Module):
    """A stand-in Module whose attributes are exactly the keyword arguments, in order."""

    def __init__(self, **attributes):
        for name, value in attributes.items():
            setattr(self, name, value)


def same_tensors(found, expected):
    """True if `found` lists exactly the Tensor objects in `expected`, in that order."""
    return len(found) == len(expected) and all(a is b for a, b in zip(found, expected, strict=True))


def describe(tensors):
    return [t.shape for t in tensors]


# ---- 03.1 Module.parameters -------------------------------------------------------
@exercise("03.1")
def test_03_1_parameters_are_the_flagged_tensor_attributes_in_order():
    weight, bias = parameter(2, 3), parameter(3)
    module = Holder(weight=weight, scale=2.0, name="demo", mask=Tensor(np.ones(3)), bias=bias)
    found = module.parameters()
    assert isinstance(found, list), f"parameters() must return a list, got {type(found).__name__}"
    assert same_tensors(found, [weight, bias]), (
        f"expected the two Tensors with requires_grad=True, weight (2, 3) then bias (3,), in "
        f"attribute order; got shapes {describe(found)}. A Tensor without requires_grad "
        f"(the mask) and plain numbers or strings are not parameters."
    )


@exercise("03.1")
def test_03_1_parameters_recurse_into_modules_lists_and_tuples():
    first, inner_p, block_p, tuple_p, last = (parameter(n) for n in (1, 2, 3, 4, 5))
    model = Holder(
        first=first,
        inner=Holder(p=inner_p),
        blocks=[Holder(p=block_p), ReLU(), (tuple_p,)],
        last=last,
    )
    found = model.parameters()
    assert same_tensors(found, [first, inner_p, block_p, tuple_p, last]), (
        f"expected shapes [(1,), (2,), (3,), (4,), (5,)] — attributes in order, going into "
        f"sub-Modules, lists and tuples where they appear; got {describe(found)}"
    )


@exercise("03.1")
def test_03_1_a_shared_tensor_is_listed_once_and_order_is_stable():
    shared, bias = parameter(2, 2), parameter(2)
    model = Sequential(Holder(weight=shared), ReLU(), Holder(weight=shared, bias=bias))
    found = model.parameters()
    assert same_tensors(found, [shared, bias]), (
        f"the same (2, 2) Tensor is used by two layers: list it once (compare with `is` or "
        f"id(), not by value). Expected shapes [(2, 2), (2,)], got {describe(found)}"
    )
    assert same_tensors(model.parameters(), found), "two calls must list the same Tensors"
    twins = Holder(a=parameter(2), b=parameter(2))
    assert len(twins.parameters()) == 2, (
        "two different Tensors that hold equal values are two parameters: compare identity"
    )


# ---- 03.2 xavier_uniform ----------------------------------------------------------
@exercise("03.2")
def test_03_2_xavier_uniform_has_the_right_shape_bound_and_spread():
    values = xavier_uniform(784, 128, rng=0)
    assert isinstance(values, Tensor) and values.shape == (784, 128), (
        f"expected a Tensor of shape (fan_in, fan_out) = (784, 128), got {values!r:.80}"
    )
    assert values.dtype == np.float32, (
        f"xavier_uniform should return float32 values, got {values.dtype}"
    )
    bound = math.sqrt(6 / (784 + 128))
    largest = float(np.abs(values.data).max())
    assert largest <= bound * (1 + 1e-6), (
        f"Xavier uniform values lie in (-a, a) with a = sqrt(6 / (fan_in + fan_out)) = "
        f"{bound:.5f}, found {largest:.5f}"
    )
    assert largest > 0.99 * bound, (
        f"the values should fill (-{bound:.4f}, {bound:.4f}) but the largest is only "
        f"{largest:.4f}: check the bound a = sqrt(6 / (fan_in + fan_out))"
    )
    variance = float(values.data.var())
    assert variance == pytest.approx(2 / (784 + 128), rel=0.03), (
        f"variance should be 2 / (fan_in + fan_out) = {2 / 912:.6f}, got {variance:.6f}"
    )
    assert abs(float(values.data.mean())) < 0.01 * bound, "values should be centred on 0"
    inner_half = float(np.mean(np.abs(values.data) < bound / 2))
    assert inner_half == pytest.approx(0.5, abs=0.02), (
        f"a uniform distribution puts half its values in (-a/2, a/2); found {inner_half:.3f}. "
        f"Draw from a uniform distribution, not a normal one."
    )
    small = xavier_uniform(3, 5, rng=1)
    assert small.shape == (3, 5) and np.abs(small.data).max() <= math.sqrt(6 / 8) * (1 + 1e-6), (
        f"xavier_uniform(3, 5) should have shape (3, 5) and |values| <= sqrt(6 / 8) = "
        f"{math.sqrt(6 / 8):.4f}, got {small.shape} with largest {np.abs(small.data).max():.4f}"
    )


@exercise("03.2")
def test_03_2_xavier_uniform_is_repeatable_with_a_seed():
    first, again = xavier_uniform(20, 30, rng=7), xavier_uniform(20, 30, rng=7)
    np.testing.assert_array_equal(
        first.data, again.data, err_msg="the same seed must give the same values"
    )
    other = xavier_uniform(20, 30, rng=8)
    assert not np.array_equal(first.data, other.data), "different seeds must give different values"
    generator = np.random.default_rng(3)
    one, two = xavier_uniform(4, 4, rng=generator), xavier_uniform(4, 4, rng=generator)
    assert not np.array_equal(one.data, two.data), (
        "a Generator passed as rng must be used (and advanced), not replaced by a new one"
    )
    assert xavier_uniform(4, 6).shape == (4, 6), "rng=None must work too"


# ---- 03.3 Linear ------------------------------------------------------------------
@pytest.fixture
def xavier_calls(monkeypatch):
    """Linear is graded with a stand-in for your xavier_uniform (03.2) that returns known
    values and records how it was called, so a slip in 03.2 is not charged twice."""
    calls = []

    def stand_in(fan_in, fan_out, rng=None):
        calls.append((fan_in, fan_out, rng))
        return Tensor(np.arange(fan_in * fan_out).reshape(fan_in, fan_out) / 10)

    monkeypatch.setitem(Linear.__init__.__globals__, "xavier_uniform", stand_in)
    return calls


@exercise("03.3")
def test_03_3_linear_creates_weight_and_bias_parameters(xavier_calls):
    generator = np.random.default_rng(5)
    layer = Linear(3, 2, rng=generator)
    assert len(xavier_calls) == 1 and xavier_calls[0][:2] == (3, 2), (
        f"Linear(3, 2) should take its weight from xavier_uniform(3, 2, rng); calls seen: "
        f"{[call[:2] for call in xavier_calls]}"
    )
    assert xavier_calls[0][2] is generator, "pass Linear's rng on to xavier_uniform unchanged"
    assert isinstance(layer.weight, Tensor) and layer.weight.shape == (3, 2), (
        "weight has shape (in_features, out_features) = (3, 2)"
    )
    np.testing.assert_allclose(layer.weight.data, np.arange(6).reshape(3, 2) / 10)
    assert isinstance(layer.bias, Tensor) and layer.bias.shape == (2,), "bias has shape (2,)"
    np.testing.assert_array_equal(layer.bias.data, [0.0, 0.0], "bias starts at zero")
    assert layer.weight.requires_grad and layer.bias.requires_grad, (
        "weight and bias are parameters: set requires_grad=True on both"
    )
    assert Linear(3, 2, bias=False).bias is None, "Linear(..., bias=False) sets self.bias = None"


@exercise("03.3")
def test_03_3_linear_forward_matches_numpy(xavier_calls):
    rng = np.random.default_rng(0)
    weight, bias = rng.normal(size=(3, 4)), rng.normal(size=4)
    layer = Linear(3, 4)
    layer.weight = Tensor(weight, requires_grad=True)
    layer.bias = Tensor(bias, requires_grad=True)
    x = rng.normal(size=(5, 3))
    out = layer(Tensor(x))
    assert isinstance(out, Tensor) and out.shape == (5, 4), (
        f"(5, 3) inputs through Linear(3, 4) give (5, 4), got {getattr(out, 'shape', out)}"
    )
    np.testing.assert_allclose(out.data, x @ weight + bias, rtol=1e-5, atol=1e-5)
    batched = rng.normal(size=(2, 5, 3))
    out = layer(Tensor(batched))
    assert out.shape == (2, 5, 4), f"(2, 5, 3) inputs give (2, 5, 4), got {out.shape}"
    np.testing.assert_allclose(out.data, batched @ weight + bias, rtol=1e-5, atol=1e-5)


@exercise("03.3")
def test_03_3_linear_without_bias_is_a_plain_matmul(xavier_calls):
    layer = Linear(3, 2, bias=False)
    x = np.random.default_rng(1).normal(size=(4, 3))
    out = layer(Tensor(x))
    np.testing.assert_allclose(out.data, x @ (np.arange(6).reshape(3, 2) / 10), rtol=1e-5)


@exercise("03.3")
def test_03_3_linear_names_the_expected_input_size(xavier_calls):
    layer = Linear(784, 128)
    with pytest.raises(ValueError) as caught:
        layer(Tensor(np.zeros((64, 28, 28))))
    message = str(caught.value)
    assert "784" in message and "(64, 28, 28)" in message, (
        f"the error should name the expected size 784 and the shape that arrived, "
        f"(64, 28, 28), so the mistake is easy to find; got: {message!r}"
    )


@exercise("03.3")
def test_03_3_linear_is_built_from_tensor_ops(xavier_calls):
    layer = Linear(3, 2)
    x = Tensor(np.ones((4, 3)))
    assert_built_from_tensor_ops(
        "Linear.forward", lambda: layer(x), x=x, weight=layer.weight, bias=layer.bias
    )


# ---- 03.4 Sequential --------------------------------------------------------------
class AddOne(Module):
    def forward(self, x):
        return x + 1


def double(x):
    return x * 2


@exercise("03.4")
def test_03_4_sequential_applies_layers_in_order():
    x = Tensor([1.0, 2.0, 3.0])
    out = Sequential(AddOne(), double)(x)
    assert isinstance(out, Tensor), f"Sequential must return a Tensor, got {type(out).__name__}"
    np.testing.assert_allclose(
        out.data, [4.0, 6.0, 8.0], err_msg="Sequential(a, b)(x) is b(a(x)): (x + 1) * 2"
    )
    np.testing.assert_allclose(Sequential(double, AddOne())(x).data, [3.0, 5.0, 7.0])


@exercise("03.4")
def test_03_4_sequential_nests_accepts_a_list_and_can_be_empty():
    x = Tensor([[1.0, -1.0]])
    model = Sequential([AddOne(), Sequential(double, AddOne())])
    np.testing.assert_allclose(model(x).data, [[5.0, 1.0]], err_msg="((x + 1) * 2) + 1")
    assert Sequential()(x) is x, "a Sequential without layers returns its input unchanged"


# ---- 03.5 parameter_count, parameter_bytes ----------------------------------------
class Listed:
    """A stand-in model: parameters() returns exactly the Tensors it was given."""

    def __init__(self, *tensors, ignored=None):
        self.tensors = list(tensors)
        self.ignored = ignored  # an attribute parameters() does not report

    def parameters(self):
        return list(self.tensors)


@exercise("03.5")
def test_03_5_an_mlp_sized_model_has_101770_parameters_in_407080_bytes():
    mlp_shapes = Listed(*(Tensor(np.zeros(s)) for s in [(784, 128), (128,), (128, 10), (10,)]))
    assert parameter_count(mlp_shapes) == 101_770, "784·128 + 128 + 128·10 + 10 = 101,770 numbers"
    assert parameter_bytes(mlp_shapes) == 407_080, "101,770 float32 numbers take 407,080 bytes"


@exercise("03.5")
def test_03_5_counts_come_from_parameters_only():
    assert parameter_count(Listed()) == 0 and parameter_bytes(Listed()) == 0, (
        f"a module whose only tensor does not require grad has 0 parameters and 0 bytes, got "
        f"{parameter_count(Listed())} and {parameter_bytes(Listed())}"
    )
    model = Listed(Tensor(3.0), ignored=Tensor(np.zeros((1000, 1000))))
    assert parameter_count(model) == 1 and parameter_bytes(model) == 4, (
        "count only what module.parameters() returns: one single-number Tensor, 4 bytes"
    )


# ---- 03.6 activation_bytes --------------------------------------------------------
class Widen(Module):
    """A stand-in layer: (N, anything) -> zeros of shape (N, width); records its inputs."""

    def __init__(self, width):
        self.width = width
        self.seen = []

    def forward(self, x):
        self.seen.append(x.shape)
        return Tensor(np.zeros((x.shape[0], self.width)))


@exercise("03.6")
def test_03_6_activation_bytes_adds_each_layer_output():
    first, second, third = Widen(8), Widen(2), Widen(2)
    model = Sequential(first, second, third)
    assert activation_bytes(model, (5, 4)) == 5 * (8 + 2 + 2) * 4, (
        "outputs (5, 8), (5, 2), (5, 2) in float32 are 240 bytes; the (5, 4) input is not counted"
    )
    assert first.seen == [(5, 4)] and second.seen == [(5, 8)] and third.seen == [(5, 2)], (
        "each layer gets the previous layer's output; the first gets the input shape"
    )
    mlp_like = Sequential(Widen(128), Widen(128), Widen(10))
    assert activation_bytes(mlp_like, (64, 784)) == 68_096, (
        f"outputs of 784→128, ReLU, 128→10 on 64 examples: 64·(128 + 128 + 10)·4 = 68,096 "
        f"bytes, got {activation_bytes(mlp_like, (64, 784)):,}"
    )


@exercise("03.6")
def test_03_6_activation_bytes_grows_with_examples_and_handles_one_layer():
    model = Sequential(Widen(16), Widen(4))
    one, hundred = activation_bytes(model, (1, 3)), activation_bytes(model, (100, 3))
    assert (one, hundred) == (80, 8000), (
        f"one example makes 16 + 4 numbers (80 bytes) and 100 examples 100 times as much; "
        f"got {one} and {hundred}"
    )
    assert activation_bytes(Widen(7), (3, 2)) == 3 * 7 * 4, (
        "a model without .layers is measured as one layer: its own output"
    )


# ---- across exercises and modules (not graded) -------------------------------------
@pytest.mark.integration
def test_mlp_memory_and_parameter_order():
    first, second = Linear(784, 128, rng=0), Linear(128, 10, rng=1)
    mlp = Sequential(first, ReLU(), second)
    assert same_tensors(mlp.parameters(), [first.weight, first.bias, second.weight, second.bias])
    assert (parameter_count(mlp), parameter_bytes(mlp)) == (101_770, 407_080)
    assert activation_bytes(mlp, (64, 784)) == 68_096
    assert mlp(Tensor(np.ones((64, 784)))).shape == (64, 10)


@pytest.mark.integration
def test_linear_is_repeatable_with_a_seed():
    np.testing.assert_array_equal(Linear(6, 3, rng=0).weight.data, Linear(6, 3, rng=0).weight.data)
    assert not np.array_equal(Linear(6, 3, rng=0).weight.data, Linear(6, 3, rng=1).weight.data)
