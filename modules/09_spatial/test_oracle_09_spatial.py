"""Differential tests against PyTorch (CPU): convolution (im2col and the explicit loops) and
both poolings agree with torch.nn.functional in values and in the gradients of input,
weight and bias, for random shapes, strides and paddings.

Staff only: never graded and never shipped in a template (see test_oracle_05_autograd.py).
Needs the dev extra (torch==2.13.0, hypothesis); skipped with a message without it.
"""

import numpy as np
import pytest

from tinytorch.core import Tensor, enable_autograd
from tinytorch.nn import AvgPool2d, Conv2d, MaxPool2d, conv2d_explicit, conv2d_im2col

WHY = "the PyTorch oracle needs the dev extra: pip install -e '.[dev]' (torch==2.13.0, hypothesis)"
torch = pytest.importorskip("torch", reason=WHY)
hypothesis = pytest.importorskip("hypothesis", reason=WHY)
st, given = hypothesis.strategies, hypothesis.given
EXAMPLES = hypothesis.settings(max_examples=15, deadline=None, derandomize=True, database=None)
F = torch.nn.functional


@pytest.fixture(autouse=True)
def autograd_on():
    enable_autograd()


def close(ours, theirs, what):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, PyTorch {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4, err_msg=what)


@st.composite
def convolutions(draw):
    """(x, weight, bias, stride, padding) with at least one output position."""
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, padding = draw(st.integers(1, 2)), draw(st.integers(0, 1))
    h = draw(st.integers(max(1, kh - 2 * padding), 6))
    w = draw(st.integers(max(1, kw - 2 * padding), 6))
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 10_000)))
    x = rng.standard_normal((n, c_in, h, w)).astype(np.float32)
    weight = rng.standard_normal((c_out, c_in, kh, kw)).astype(np.float32)
    bias = rng.standard_normal(c_out).astype(np.float32)
    return x, weight, bias, stride, padding


@pytest.mark.parametrize("convolve", [conv2d_im2col, conv2d_explicit])
@EXAMPLES
@given(case=convolutions())
def test_convolution_and_its_gradients_match_torch(convolve, case):
    x, weight, bias, stride, padding = case
    ours = [Tensor(a, requires_grad=True) for a in (x, weight, bias)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, weight, bias)]
    out = convolve(*ours, stride=stride, padding=padding)
    expected = F.conv2d(*theirs, stride=stride, padding=padding)
    what = f"{convolve.__name__} x{x.shape} w{weight.shape} stride {stride} padding {padding}"
    close(out.data, expected, f"{what}: forward")
    upstream = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    (out * Tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    for name, mine, other in zip(("x", "weight", "bias"), ours, theirs, strict=True):
        close(mine.grad.data, other.grad, f"{what}: gradient of {name}")


def test_conv2d_layer_matches_torch_with_the_same_parameters():
    layer = Conv2d(3, 4, 3, stride=2, padding=1, rng=0)
    reference = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1)
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(layer.weight.data))
        reference.bias.copy_(torch.tensor(layer.bias.data))
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 7)).astype(np.float32)
    close(layer(Tensor(x)).data, reference(torch.tensor(x)), "Conv2d layer forward")


@st.composite
def poolings(draw):
    kernel, stride = draw(st.integers(1, 3)), draw(st.sampled_from([None, 1, 2]))
    h, w = draw(st.integers(kernel, 7)), draw(st.integers(kernel, 7))
    rng = np.random.default_rng(draw(st.integers(0, 10_000)))
    # distinct values: no ties, so "the" maximum of every window is unambiguous
    x = rng.permutation(2 * 3 * h * w).reshape(2, 3, h, w).astype(np.float32) / 7
    return x, kernel, stride


@pytest.mark.parametrize("pool, torch_pool", [(MaxPool2d, F.max_pool2d), (AvgPool2d, F.avg_pool2d)])
@EXAMPLES
@given(case=poolings())
def test_pooling_and_its_gradient_match_torch(pool, torch_pool, case):
    x, kernel, stride = case
    mine, other = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = pool(kernel, stride)(mine)
    expected = torch_pool(other, kernel, stride)
    what = f"{pool.__name__}({kernel}, stride={stride}) on {x.shape}"
    close(out.data, expected, f"{what}: forward")
    upstream = np.random.default_rng(3).standard_normal(out.shape).astype(np.float32)
    (out * Tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    close(mine.grad.data, other.grad, f"{what}: gradient")
