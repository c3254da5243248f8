"""Differential tests against PyTorch (CPU): values and gradients of every differentiable
operation of modules 01–05, activations, Linear and the losses, on random shapes.

Staff only: never graded (the plugin grades only test_05_autograd.py) and never shipped in a
template (scripts/template_files.py leaves test_oracle_*.py out). Needs the dev extra
(torch==2.13.0, hypothesis); skipped with a message without it. Each property draws a few
dozen examples with hypothesis: random shapes with broadcasting, 0-d and 1-d edge cases,
values up to ±1000.
"""

import numpy as np
import pytest

from tinytorch.core import Tensor, enable_autograd
from tinytorch.nn import (
    GELU,
    BinaryCrossEntropyLoss,
    CrossEntropyLoss,
    Linear,
    MSELoss,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    log_softmax,
)

# Loaded with importorskip, not `import`: the suite skips with this message where the dev
# extra is missing, and module files import nothing beyond numpy and pytest.
WHY = "the PyTorch oracle needs the dev extra: pip install -e '.[dev]' (torch==2.13.0, hypothesis)"
torch = pytest.importorskip("torch", reason=WHY)
hypothesis = pytest.importorskip("hypothesis", reason=WHY)
hnp = pytest.importorskip("hypothesis.extra.numpy", reason=WHY)
st, given = hypothesis.strategies, hypothesis.given

# derandomize: the same examples on every run, so CI is reproducible (raise max_examples
# locally to search wider); database=None: nothing is written to .hypothesis/.
EXAMPLES = hypothesis.settings(max_examples=20, deadline=None, derandomize=True, database=None)
FINITE = st.floats(-1000, 1000, width=32, allow_subnormal=False)
MODERATE = st.floats(-5, 5, width=32, allow_subnormal=False)


@pytest.fixture(autouse=True)
def autograd_on():
    enable_autograd()


def arrays(shape, elements=FINITE):
    return hnp.arrays(np.float32, shape, elements=elements)


def pair_of_broadcastable(elements=FINITE):
    """Two float32 arrays whose shapes broadcast together (0 to 3 axes, sides up to 4)."""
    shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)
    return shapes.flatmap(
        lambda s: st.tuples(*(arrays(shape, elements) for shape in s.input_shapes))
    )


def one_array(elements=FINITE, min_dims=0, max_dims=3):
    shape = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=5)
    return shape.flatmap(lambda s: arrays(s, elements))


def compare(ours, theirs, what, rtol=1e-5, atol=1e-5):
    """Values of a Tensor (or array) against a torch tensor: same shape, close numbers,
    inf and NaN in the same places."""
    ours = ours.data if isinstance(ours, Tensor) else np.asarray(ours)
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, PyTorch {theirs.shape}"
    scale = max(1.0, float(np.max(np.abs(theirs[np.isfinite(theirs)]), initial=0.0)))
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol * scale, err_msg=what)


def run_both(fn_ours, fn_torch, *inputs, weights_seed=0):
    """Forward both on the same values, backward from the same random weighting of the output;
    return (our output, torch output, our gradients, torch gradients)."""
    ours_in = [Tensor(x, requires_grad=True) for x in inputs]
    torch_in = [torch.tensor(x, requires_grad=True) for x in inputs]
    with np.errstate(all="ignore"):  # extremes may overflow in both frameworks alike
        out = fn_ours(*ours_in)
        reference = fn_torch(*torch_in)
        weights = np.random.default_rng(weights_seed).uniform(0.5, 1.5, size=out.shape)
        weights = weights.astype(np.float32)
        (out * Tensor(weights)).sum().backward()
        (reference * torch.tensor(weights)).sum().backward()
    grads = [x.grad.data if x.grad is not None else np.zeros(x.shape) for x in ours_in]
    return out, reference, grads, [x.grad for x in torch_in]


def check_op(fn_ours, fn_torch, *inputs, what, rtol=1e-5, atol=1e-5):
    out, reference, grads, torch_grads = run_both(fn_ours, fn_torch, *inputs)
    compare(out, reference, f"{what}: forward", rtol, atol)
    for position, (grad, torch_grad) in enumerate(zip(grads, torch_grads, strict=True)):
        expected = torch_grad if torch_grad is not None else torch.zeros(inputs[position].shape)
        compare(grad, expected, f"{what}: gradient of input {position}", rtol, atol)


# ---- Tensor operations of modules 01 and 05 ---------------------------------------------------
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@EXAMPLES
@given(pair=pair_of_broadcastable())
def test_binary_ops_with_broadcasting_match_torch(name, pair):
    ours, theirs = BINARY[name]
    check_op(ours, theirs, *pair, what=f"{name} on shapes {[p.shape for p in pair]}")


@EXAMPLES
@given(pair=pair_of_broadcastable(MODERATE))
def test_division_matches_torch_away_from_zero(pair):
    a, b = pair
    b = np.where(np.abs(b) < 0.5, 0.5, b).astype(np.float32)  # keep clear of x / 0
    check_op(lambda x, y: x / y, lambda x, y: x / y, a, b, what="div", rtol=1e-4)


@EXAMPLES
@given(x=one_array(MODERATE))
def test_negation_matches_torch(x):
    check_op(lambda t: -t, lambda t: -t, x, what="neg")


@pytest.mark.parametrize("exponent", [0, 1, 2, 3, -1.0, 0.5, -0.5, 2.5])
@EXAMPLES
@given(x=one_array(st.floats(0.125, 5, width=32)))
def test_power_matches_torch(exponent, x):
    check_op(lambda t: t**exponent, lambda t: t**exponent, x, what=f"x ** {exponent}", rtol=1e-4)


def test_power_zero_at_zero_has_zero_gradient_like_torch():
    check_op(lambda t: t**0, lambda t: t**0, np.zeros(3, np.float32), what="0 ** 0")


@EXAMPLES
@given(x=one_array(st.floats(-20, 20, width=32)))
def test_exp_matches_torch(x):
    check_op(lambda t: t.exp(), torch.exp, x, what="exp", rtol=1e-5)


@EXAMPLES
@given(x=one_array(st.floats(0.0009765625, 1000, width=32)))
def test_log_matches_torch(x):
    check_op(lambda t: t.log(), torch.log, x, what="log", rtol=1e-5)


@st.composite
def matmul_operands(draw):
    """(a, b) for a @ b: 1-d and 2-d operands, and stacks that broadcast."""
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    left = draw(st.sampled_from([(k,), (n, k), (2, n, k), (1, n, k)]))
    right = draw(st.sampled_from([(k,), (k, m), (2, k, m), (3, 1, k, m)]))
    if len(left) == 3 and len(right) == 4:
        left = left[1:]
    return draw(arrays(left, MODERATE)), draw(arrays(right, MODERATE))


@EXAMPLES
@given(operands=matmul_operands())
def test_matmul_matches_torch_for_vectors_matrices_and_stacks(operands):
    a, b = operands
    check_op(lambda x, y: x @ y, torch.matmul, a, b, what=f"{a.shape} @ {b.shape}", rtol=1e-4)


@st.composite
def array_and_axis(draw, elements=FINITE):
    x = draw(one_array(elements, min_dims=1))
    axis = draw(st.sampled_from([None, *range(-x.ndim, x.ndim)]))
    return x, axis, draw(st.booleans())


@EXAMPLES
@given(case=array_and_axis())
def test_sum_and_mean_match_torch(case):
    x, axis, keep = case
    dims = tuple(range(x.ndim)) if axis is None else axis
    check_op(
        lambda t: t.sum(axis=axis, keepdims=keep),
        lambda t: t.sum(dim=dims, keepdim=keep),
        x,
        what=f"sum(axis={axis}, keepdims={keep}) of {x.shape}",
        rtol=1e-4,
    )
    check_op(
        lambda t: t.mean(axis=axis, keepdims=keep),
        lambda t: t.mean(dim=dims, keepdim=keep),
        x,
        what=f"mean(axis={axis}, keepdims={keep}) of {x.shape}",
        rtol=1e-4,
    )


@EXAMPLES
@given(case=array_and_axis(st.sampled_from([-2.0, -1.0, 0.0, 1.0, 3.0])))
def test_max_matches_torch_amax_including_ties(case):
    # Small integer values make ties common; torch.amax shares the gradient between tied
    # maxima equally, which is the rule the module documents.
    x, axis, keep = case
    dims = tuple(range(x.ndim)) if axis is None else axis
    check_op(
        lambda t: t.max(axis=axis, keepdims=keep),
        lambda t: torch.amax(t, dim=dims, keepdim=keep),
        x,
        what=f"max(axis={axis}, keepdims={keep}) of {x.shape}",
    )


@EXAMPLES
@given(x=one_array(min_dims=0, max_dims=4), data=st.data())
def test_reshape_and_transpose_match_torch(x, data):
    check_op(lambda t: t.reshape(-1), lambda t: t.reshape(-1), x, what="reshape(-1)")
    axes = tuple(data.draw(st.permutations(range(x.ndim))))
    check_op(lambda t: t.transpose(axes), lambda t: t.permute(axes), x, what=f"transpose{axes}")
    # No arguments: swap the last two axes; 0-d and 1-d stay as they are, like NumPy.
    swap = (lambda t: t.transpose(-1, -2)) if x.ndim >= 2 else (lambda t: t + 0)
    check_op(lambda t: t.transpose(), swap, x, what=f"transpose() of {x.shape}")
    check_op(lambda t: t.T, swap, x, what=f".T of {x.shape}")


@EXAMPLES
@given(x=one_array(min_dims=1, max_dims=3), data=st.data())
def test_indexing_matches_torch_including_repeated_indices(x, data):
    rows = data.draw(st.lists(st.integers(0, x.shape[0] - 1), min_size=1, max_size=6))
    check_op(lambda t: t[rows], lambda t: t[rows], x, what=f"x[{rows}] of {x.shape}")
    stop = data.draw(st.integers(1, x.shape[0]))
    check_op(lambda t: t[:stop], lambda t: t[:stop], x, what=f"x[:{stop}]")
    check_op(lambda t: t[0], lambda t: t[0], x, what="x[0]")


def test_a_tensor_used_twice_collects_both_gradients_like_torch():
    x = np.array([[1.0, -2.0], [3.0, 0.5]], np.float32)
    check_op(lambda t: t * t + t @ t, lambda t: t * t + t @ t, x, what="x*x + x@x")


# ---- activations ------------------------------------------------------------------------
ACTIVATIONS = {
    "ReLU": (ReLU(), torch.relu),
    "Sigmoid": (Sigmoid(), torch.sigmoid),
    "Tanh": (Tanh(), torch.tanh),
    "GELU": (GELU(), lambda t: torch.nn.functional.gelu(t, approximate="tanh")),
    "Softmax": (Softmax(), lambda t: torch.softmax(t, dim=-1)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@EXAMPLES
@given(x=one_array(st.floats(-30, 30, width=32), min_dims=1))
def test_activations_and_their_gradients_match_torch(name, x):
    ours, theirs = ACTIVATIONS[name]
    check_op(ours, theirs, x, what=f"{name} on {x.shape}", rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_match_torch_at_the_extremes(name):
    ours, theirs = ACTIVATIONS[name]
    x = np.array([-1000.0, -100.0, -1.0, 0.0, 1.0, 100.0, 1000.0], np.float32)
    check_op(ours, theirs, x, what=f"{name} at ±1000", rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["ReLU", "Sigmoid", "Tanh", "Softmax"])
def test_activations_of_infinities_match_torch(name):
    ours, theirs = ACTIVATIONS[name]
    values = [[-np.inf, 0.0, 1.0]] if name == "Softmax" else [-np.inf, -1.0, 0.0, 2.0, np.inf]
    x = np.array(values, np.float32)
    compare(ours(Tensor(x)), theirs(torch.tensor(x)), f"{name} at ±inf", atol=1e-7)


# ---- Linear ----------------------------------------------------------------------------------
@EXAMPLES
@given(
    batch=st.sampled_from([(), (1,), (3,), (2, 3)]),
    sizes=st.tuples(st.integers(1, 6), st.integers(1, 6)),
    seed=st.integers(0, 1000),
)
def test_linear_matches_torch_with_the_same_weights(batch, sizes, seed):
    fan_in, fan_out = sizes
    layer = Linear(fan_in, fan_out, rng=seed)
    reference = torch.nn.Linear(fan_in, fan_out)
    with torch.no_grad():  # ours stores (in, out), torch (out, in): the same numbers
        reference.weight.copy_(torch.tensor(layer.weight.data.T))
        reference.bias.copy_(torch.tensor(layer.bias.data))
    x = np.random.default_rng(seed).standard_normal((*batch, fan_in)).astype(np.float32)
    out, expected, (grad_x,), (torch_grad_x,) = run_both(layer, reference, x)
    compare(out, expected, "Linear forward", rtol=1e-4)
    compare(grad_x, torch_grad_x, "Linear: gradient of the input", rtol=1e-4)
    compare(layer.weight.grad.data.T, reference.weight.grad, "Linear: weight gradient", 1e-4)
    compare(layer.bias.grad.data, reference.bias.grad, "Linear: bias gradient", rtol=1e-4)


# ---- losses ----------------------------------------------------------------------------------
@st.composite
def logits_and_labels(draw):
    n, c = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    logits = draw(arrays((n, c), st.floats(-50, 50, width=32)))
    labels = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    return logits, labels


@EXAMPLES
@given(case=logits_and_labels())
def test_cross_entropy_and_log_softmax_match_torch(case):
    logits, labels = case
    check_op(
        lambda t: CrossEntropyLoss()(t, labels),
        lambda t: torch.nn.functional.cross_entropy(t, torch.tensor(labels)),
        logits,
        what="CrossEntropyLoss",
        rtol=1e-4,
    )
    check_op(
        log_softmax,
        lambda t: torch.log_softmax(t, dim=-1),
        logits,
        what="log_softmax",
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "row", [[1020.0] * 5, [1e5, 1e5 + 1, 1e5 + 2], [1000.0, 0.0, -1000.0], [-1e4, -1e4, 3.0]]
)
def test_log_softmax_and_cross_entropy_keep_precision_at_large_logits(row):
    logits = np.array([row], np.float32)
    compare(
        log_softmax(Tensor(logits)),
        torch.log_softmax(torch.tensor(logits), dim=-1),
        f"log_softmax{row}",
        rtol=1e-7,
        atol=3e-7,
    )
    check_op(
        lambda t: CrossEntropyLoss()(t, [0]),
        lambda t: torch.nn.functional.cross_entropy(t, torch.tensor([0])),
        logits,
        what=f"CrossEntropyLoss{row}",
        rtol=1e-7,
        atol=3e-7,
    )


@EXAMPLES
@given(pair=st.integers(1, 4).flatmap(lambda n: st.tuples(arrays((n, 3)), arrays((n, 3)))))
def test_mse_matches_torch(pair):
    predictions, targets = pair
    check_op(
        lambda p: MSELoss()(p, targets),
        lambda p: torch.nn.functional.mse_loss(p, torch.tensor(targets)),
        predictions,
        what="MSELoss",
        rtol=1e-4,
    )


@EXAMPLES
@given(
    case=st.integers(1, 8).flatmap(
        lambda n: st.tuples(arrays((n,)), arrays((n,), st.floats(0, 1, width=32)))
    )
)
def test_binary_cross_entropy_from_logits_matches_torch(case):
    logits, targets = case
    check_op(
        lambda z: BinaryCrossEntropyLoss()(z, targets),
        lambda z: torch.nn.functional.binary_cross_entropy_with_logits(z, torch.tensor(targets)),
        logits,
        what="BinaryCrossEntropyLoss",
        rtol=1e-4,
    )
