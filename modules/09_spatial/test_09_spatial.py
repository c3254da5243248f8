"""Graded tests for Module 09 (Spatial). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

Every convolution result is compared with a NumPy reference written here (an einsum
over every window, in float64), so most tests of one exercise do not rely on your
code for another. The exceptions are built from earlier pieces by design: the gradient
check of a whole operation needs its forward pass too (09.2 uses 09.1, 09.4 uses
09.3), conv2d_im2col (09.5) is im2col plus a matmul, and Conv2d (09.6) calls it.
Shapes are tiny: the seven-loop convolution is slow by design.
"""

import numpy as np
import pytest

from tinytorch.core import Tensor, enable_autograd, gradient_check
from tinytorch.nn import (
    AvgPool2d,
    Conv2d,
    Flatten,
    MaxPool2d,
    avg_pool2d,
    col2im,
    conv2d_explicit,
    conv2d_explicit_backward,
    conv2d_im2col,
    conv_vs_dense_parameters,
    im2col,
    max_pool2d,
)

exercise = pytest.mark.exercise

# (N, C_in, H, W), (C_out, KH, KW), stride, padding — small enough for seven loops.
CASES = [
    ((2, 2, 5, 5), (3, 3, 3), 1, 0),
    ((1, 3, 6, 5), (2, 3, 3), 2, 1),
    ((2, 1, 4, 6), (2, 2, 3), 1, 1),
]


@pytest.fixture(autouse=True)
def _autograd():
    enable_autograd()


def _windows(x: np.ndarray, kh: int, kw: int, stride: int, padding: int) -> np.ndarray:
    """(N, C, H, W) → (N, C, OH, OW, KH, KW): every window, copied one by one in float64."""
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (padding,) * 2, (padding,) * 2))
    out_h = (padded.shape[2] - kh) // stride + 1
    out_w = (padded.shape[3] - kw) // stride + 1
    windows = np.empty((*x.shape[:2], out_h, out_w, kh, kw))
    for i in range(out_h):
        for j in range(out_w):
            windows[:, :, i, j] = padded[
                :, :, i * stride : i * stride + kh, j * stride : j * stride + kw
            ]
    return windows


def reference_conv(x, weight, bias, stride, padding) -> np.ndarray:
    windows = _windows(x, weight.shape[2], weight.shape[3], stride, padding)
    out = np.einsum("ncijkl,ockl->noij", windows, weight.astype(np.float64))
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


def reference_cols(x, kh, kw, stride, padding) -> np.ndarray:
    windows = _windows(x, kh, kw, stride, padding)  # (N, C, OH, OW, KH, KW)
    n, c, oh, ow = windows.shape[:4]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n, oh * ow, c * kh * kw)


def _case(seed, x_shape, w_shape):
    rng = np.random.default_rng(seed)
    c_out, kh, kw = w_shape
    x = rng.normal(size=x_shape).astype(np.float32)
    weight = rng.normal(size=(c_out, x_shape[1], kh, kw)).astype(np.float32)
    bias = rng.normal(size=c_out).astype(np.float32)
    return x, weight, bias


def _leaves(*arrays):
    return [Tensor(a, requires_grad=True) for a in arrays]


# ---- 09.1 conv2d_explicit ----------------------------------------------------------


@exercise("09.1")
@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CASES)
def test_09_1_explicit_matches_reference(x_shape, w_shape, stride, padding):
    x, weight, bias = _case(1, x_shape, w_shape)
    out = conv2d_explicit(Tensor(x), Tensor(weight), Tensor(bias), stride, padding)
    expected = reference_conv(x, weight, bias, stride, padding)
    assert out.shape == expected.shape, (
        f"output shape should be {expected.shape} for input {x_shape}, stride {stride}, "
        f"padding {padding}; got {out.shape}. Check the loop ranges (OH, OW)."
    )
    np.testing.assert_allclose(
        out.data, expected, rtol=1e-4, atol=1e-4, err_msg="convolution values differ"
    )


@exercise("09.1")
def test_09_1_explicit_without_bias_and_with_a_known_kernel():
    image = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    ones = np.ones((1, 1, 2, 2), dtype=np.float32)  # sums every 2×2 window
    out = conv2d_explicit(Tensor(image), Tensor(ones))
    assert out.shape == (1, 1, 3, 3), f"a 2×2 kernel on a 4×4 image: (1, 1, 3, 3), got {out.shape}"
    np.testing.assert_allclose(
        out.data[0, 0],
        [[10, 14, 18], [26, 30, 34], [42, 46, 50]],
        err_msg="a 2×2 kernel of ones must add up each 2×2 window (top-left: 0+1+4+5 = 10)",
    )
    assert out.dtype == np.float32, f"results must stay float32, got {out.dtype}"


# ---- 09.2 conv2d_explicit_backward -------------------------------------------------


def _reference_gradients(x, weight, grad_out, stride, padding):
    """dL/dx, dL/dw, dL/db for L = sum(conv(x, w, b) * grad_out), from the reference."""
    windows = _windows(x, weight.shape[2], weight.shape[3], stride, padding)
    grad_w = np.einsum("ncijkl,noij->ockl", windows, grad_out)
    grad_b = grad_out.sum(axis=(0, 2, 3))
    grad_x = np.zeros(x.shape)  # conv is linear in x: central differences are exact
    for index in np.ndindex(*x.shape):
        bump = np.zeros(x.shape)
        bump[index] = 1.0
        grad_x[index] = (reference_conv(bump, weight, None, stride, padding) * grad_out).sum()
    return grad_x, grad_w, grad_b


@exercise("09.2")
@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CASES)
def test_09_2_backward_matches_reference(x_shape, w_shape, stride, padding):
    x, weight, _ = _case(2, x_shape, w_shape)
    out_shape = reference_conv(x, weight, None, stride, padding).shape
    grad_out = np.random.default_rng(3).normal(size=out_shape).astype(np.float32)
    grads = conv2d_explicit_backward(grad_out, x, weight, stride, padding)
    assert len(grads) == 3, "return (grad_x, grad_weight, grad_bias)"
    expected = _reference_gradients(x, weight, grad_out, stride, padding)
    for name, got, want in zip(
        ("grad_x", "grad_weight", "grad_bias"), grads, expected, strict=True
    ):
        assert got.shape == want.shape, f"{name} should have shape {want.shape}, got {got.shape}"
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=f"{name} is wrong")


@exercise("09.2")
def test_09_2_gradient_check_of_the_explicit_convolution():
    x, weight, bias = _case(4, (1, 2, 4, 4), (2, 3, 3))
    inputs = _leaves(x, weight, bias)
    error = gradient_check(lambda a, w, b: conv2d_explicit(a, w, b, 2, 1), *inputs)
    assert error < 1e-2, (
        f"gradients of conv2d_explicit (x (1, 2, 4, 4), weight (2, 2, 3, 3), stride 2, padding 1) "
        f"differ from numerical ones by {error:.3g}"
    )


# ---- 09.3 im2col ---------------------------------------------------------------------


@exercise("09.3")
@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CASES)
def test_09_3_im2col_copies_every_window_into_a_row(x_shape, w_shape, stride, padding):
    x, _, _ = _case(5, x_shape, w_shape)
    _, kh, kw = w_shape
    cols = im2col(Tensor(x), (kh, kw), stride, padding)
    expected = reference_cols(x, kh, kw, stride, padding)
    assert cols.shape == expected.shape, (
        f"im2col should give (N, OH*OW, C*KH*KW) = {expected.shape}, got {cols.shape}"
    )
    np.testing.assert_allclose(
        cols.data,
        expected,
        atol=1e-6,
        err_msg="rows are windows in (output row, output column) order; columns are in "
        "(channel, kernel row, kernel column) order",
    )


@exercise("09.3")
def test_09_3_im2col_costs_kernel_area_times_the_input():
    x = Tensor(np.ones((2, 3, 8, 8)))
    cols = im2col(x, 3, stride=1, padding=1)
    assert cols.shape == (2, 64, 27), (
        f"8×8 positions, 3·3·3 values each: (2, 64, 27), got {cols.shape}"
    )
    assert cols.memory_footprint() == 9 * x.memory_footprint(), (
        "with a 3×3 kernel, stride 1 and padding 1 every pixel is copied 9 times"
    )


# ---- 09.4 col2im ---------------------------------------------------------------------


@exercise("09.4")
@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CASES)
def test_09_4_col2im_is_the_adjoint_of_im2col(x_shape, w_shape, stride, padding):
    x, _, _ = _case(6, x_shape, w_shape)
    _, kh, kw = w_shape
    cols_ref = reference_cols(x, kh, kw, stride, padding)
    c = np.random.default_rng(7).normal(size=cols_ref.shape).astype(np.float32)
    back = col2im(c, x.shape, (kh, kw), stride, padding)
    assert back.shape == x.shape, f"col2im must return the input shape {x.shape}, got {back.shape}"
    np.testing.assert_allclose(
        (x * back).sum(),
        (cols_ref * c).sum(),
        rtol=1e-4,
        err_msg="(im2col(x) * c).sum() must equal (x * col2im(c)).sum() for every x and c",
    )


@exercise("09.4")
def test_09_4_col2im_adds_up_overlapping_windows():
    ones = np.ones((1, 16, 9), dtype=np.float32)  # 4×4 windows of a 6×6 image, 3×3 kernel
    counts = col2im(ones, (1, 1, 6, 6), 3)
    np.testing.assert_allclose(
        counts[0, 0],
        [
            [1, 2, 3, 3, 2, 1],
            [2, 4, 6, 6, 4, 2],
            [3, 6, 9, 9, 6, 3],
            [3, 6, 9, 9, 6, 3],
            [2, 4, 6, 6, 4, 2],
            [1, 2, 3, 3, 2, 1],
        ],
        err_msg="each pixel must receive one contribution per window that contains it "
        "(+=, not =): 1 in the corners, 9 in the middle",
    )


@exercise("09.4")
def test_09_4_gradient_check_of_im2col():
    x = _leaves(np.random.default_rng(8).normal(size=(1, 2, 4, 4)))
    error = gradient_check(lambda a: im2col(a, 3, stride=1, padding=1), *x)
    assert error < 1e-2, (
        f"gradient of im2col on (1, 2, 4, 4) (kernel 3, padding 1) is off by {error:.3g}: "
        f"its backward is col2im"
    )


# ---- 09.5 conv2d_im2col --------------------------------------------------------------


@exercise("09.5")
@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CASES)
def test_09_5_im2col_convolution_matches_reference(x_shape, w_shape, stride, padding):
    x, weight, bias = _case(9, x_shape, w_shape)
    out = conv2d_im2col(Tensor(x), Tensor(weight), Tensor(bias), stride, padding)
    expected = reference_conv(x, weight, bias, stride, padding)
    assert out.shape == expected.shape, f"expected shape {expected.shape}, got {out.shape}"
    np.testing.assert_allclose(
        out.data, expected, rtol=1e-4, atol=1e-4, err_msg=f"conv2d_im2col on {x_shape}"
    )
    no_bias = conv2d_im2col(Tensor(x), Tensor(weight), None, stride, padding)
    np.testing.assert_allclose(
        no_bias.data,
        expected - bias.reshape(1, -1, 1, 1),
        rtol=1e-4,
        atol=1e-4,
        err_msg="bias=None: the same convolution without a bias",
    )


@exercise("09.5")
def test_09_5_gradient_check_of_the_im2col_convolution():
    x, weight, bias = _case(10, (2, 2, 5, 4), (3, 2, 3))
    inputs = _leaves(x, weight, bias)
    error = gradient_check(lambda a, w, b: conv2d_im2col(a, w, b, 2, 1), *inputs)
    assert error < 1e-2, (
        f"gradients of conv2d_im2col (x (2, 2, 5, 4), weight (3, 2, 2, 3), stride 2, padding 1) "
        f"differ from numerical ones by {error:.3g}: use Tensor operations only"
    )


# ---- 09.6 Conv2d layer ---------------------------------------------------------------


@exercise("09.6")
def test_09_6_conv2d_parameters():
    layer = Conv2d(3, 32, 3, rng=0)
    assert layer.weight.shape == (32, 3, 3, 3), (
        f"weight shape should be (out_channels, in_channels, K, K) = (32, 3, 3, 3), "
        f"got {layer.weight.shape}"
    )
    assert layer.bias.shape == (32,), f"one bias per output channel, got {layer.bias.shape}"
    assert all(p.requires_grad for p in layer.parameters()), "both parameters need gradients"
    count = sum(p.size for p in layer.parameters())
    assert count == 896, f"32·3·3·3 weights + 32 biases = 896 parameters, got {count}"
    bound = np.sqrt(6 / (27 + 288))  # fan_in = 3·3·3, fan_out = 32·3·3
    assert np.abs(layer.weight.data).max() <= bound + 1e-6, (
        f"weights must lie in ±sqrt(6 / (fan_in + fan_out)) = ±{bound:.4f} (Xavier/Glorot "
        f"as in Module 03, with fan_in = C_in·KH·KW = 27 and fan_out = C_out·KH·KW = 288)"
    )
    assert layer.weight.data.std() > bound / 3, "weights must be spread over the whole range"
    np.testing.assert_array_equal(layer.bias.data, 0.0, err_msg="the bias starts at zero")
    np.testing.assert_array_equal(
        Conv2d(3, 32, 3, rng=0).weight.data,
        layer.weight.data,
        "the same rng seed, the same weights",
    )
    no_bias = Conv2d(3, 4, 3, bias=False).parameters()
    assert len(no_bias) == 1 and no_bias[0].shape == (4, 3, 3, 3), (
        f"bias=False: only the (4, 3, 3, 3) weight, got {[p.shape for p in no_bias]}"
    )


@exercise("09.6")
def test_09_6_conv2d_forward_uses_stride_and_padding():
    layer = Conv2d(2, 4, 3, stride=2, padding=1, rng=1)
    layer.bias.data = np.arange(4, dtype=np.float32)
    x = np.random.default_rng(11).normal(size=(2, 2, 7, 7)).astype(np.float32)
    out = layer(Tensor(x))
    expected = reference_conv(x, layer.weight.data, layer.bias.data, 2, 1)
    assert out.shape == (2, 4, 4, 4), f"(7 + 2 - 3) // 2 + 1 = 4 rows and columns, got {out.shape}"
    np.testing.assert_allclose(
        out.data, expected, rtol=1e-4, atol=1e-4, err_msg="Conv2d(2, 4, 3, stride=2, padding=1)"
    )


# ---- 09.7 pooling --------------------------------------------------------------------


def reference_pool(x, k, stride, reduce):
    return reduce(_windows(x, k, k, stride, 0), axis=(4, 5))


@exercise("09.7")
@pytest.mark.parametrize("k, stride", [(2, None), (3, 1), (2, 3)])
def test_09_7_max_and_average_pooling_values(k, stride):
    x = np.random.default_rng(12).normal(size=(2, 3, 7, 8)).astype(np.float32)
    step = k if stride is None else stride
    for name, pool, reduce in (("max", max_pool2d, np.max), ("average", avg_pool2d, np.mean)):
        out = pool(Tensor(x), k, stride)
        expected = reference_pool(x, k, step, reduce)
        assert out.shape == expected.shape, (
            f"{name} pooling with kernel {k}, stride {step} on 7×8 should give "
            f"{expected.shape}, got {out.shape}"
        )
        np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6, err_msg=name)


@exercise("09.7")
def test_09_7_pooling_with_a_rectangular_kernel():
    x = np.random.default_rng(14).permutation(70).reshape(1, 2, 5, 7) / 7.0  # no ties
    for name, pool, reduce in (("max", max_pool2d, np.max), ("average", avg_pool2d, np.mean)):
        out = pool(Tensor(x), (2, 3), 1)
        expected = reduce(_windows(x, 2, 3, 1, 0), axis=(4, 5))
        assert out.shape == expected.shape == (1, 2, 4, 5), (
            f"{name} pooling with a 2×3 kernel, stride 1 on 5×7 gives (1, 2, 4, 5), got {out.shape}"
        )
        np.testing.assert_allclose(
            out.data,
            expected,
            rtol=1e-5,
            err_msg=f"{name} pooling over 2 rows × 3 columns: a window has KH·KW = 6 entries, "
            f"and offset (ki, kj) is number ki·KW + kj",
        )
    leaf = _leaves(x)
    assert gradient_check(lambda a: max_pool2d(a, (2, 3), 1), *leaf) < 1e-2, (
        "max pooling with a 2×3 kernel sends each window's gradient to the wrong entry: "
        "the forward and backward passes must number the offsets the same way (ki·KW + kj)"
    )


@exercise("09.7")
def test_09_7_max_pooling_sends_gradient_to_the_maximum_only():
    x = Tensor([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 8.0, 1.0]]]], requires_grad=True)
    pooled = MaxPool2d(2)(x)
    np.testing.assert_allclose(
        pooled.data, [[[[5.0, 8.0]]]], err_msg="the maxima of the two windows"
    )
    pooled.backward(np.array([[[[10.0, 20.0]]]], dtype=np.float32))
    np.testing.assert_allclose(
        x.grad.data,
        [[[[0, 10, 0, 0], [0, 0, 20, 0]]]],
        err_msg="each window's gradient goes to its largest entry, all others get 0",
    )


@exercise("09.7")
def test_09_7_gradient_check_of_pooling():
    rng = np.random.default_rng(13)
    x = _leaves(rng.permutation(64).reshape(1, 1, 8, 8) / 8.0)  # distinct values: no ties
    for name, pool in (
        ("max_pool2d(x, 2)", lambda a: max_pool2d(a, 2)),
        ("max_pool2d(x, 3, 1), overlapping windows", lambda a: max_pool2d(a, 3, 1)),
        ("AvgPool2d(3, 2)", lambda a: AvgPool2d(3, 2)(a)),
    ):
        error = gradient_check(pool, *x)
        assert error < 1e-2, f"{name} on (1, 1, 8, 8): gradient off by {error:.3g}"
    assert MaxPool2d(2).parameters() == [] and AvgPool2d(2).parameters() == [], (
        "pooling layers have no parameters"
    )


# ---- 09.8 Flatten --------------------------------------------------------------------


@exercise("09.8")
def test_09_8_flatten_keeps_the_batch_axis():
    x = Tensor(np.arange(48).reshape(2, 3, 4, 2), requires_grad=True)
    flat = Flatten()(x)
    assert flat.shape == (2, 24), f"(2, 3, 4, 2) flattens to (2, 24), got {flat.shape}"
    np.testing.assert_array_equal(
        flat.data, np.arange(48).reshape(2, 24), "each image flattened row by row"
    )
    (flat * Tensor(np.arange(48).reshape(2, 24))).sum().backward()
    np.testing.assert_array_equal(
        x.grad.data,
        np.arange(48).reshape(2, 3, 4, 2),
        "the gradient is reshaped back to (2, 3, 4, 2)",
    )


# ---- 09.9 parameter comparison ---------------------------------------------------------


@exercise("09.9")
def test_09_9_the_papers_comparison_made_exact():
    counts = conv_vs_dense_parameters(3, 32, 3, 32, 32, padding=1)
    assert counts["conv"] == 896, "32 kernels of 3·3·3 weights plus 32 biases"
    assert counts["dense_to_channels"] == 98_336, "3,072 inputs × 32 outputs + 32 biases"
    assert counts["dense_same_output"] == 100_696_064, (
        "3,072 inputs × 32,768 outputs (32 channels × 32 × 32) + 32,768 biases"
    )
    ratios = (
        counts["dense_to_channels"] / counts["conv"],
        counts["dense_same_output"] / counts["conv"],
    )
    assert ratios == pytest.approx((109.75, 112_384)), f"dense / conv ratios, got {ratios}"


@exercise("09.9")
def test_09_9_dense_output_follows_stride_and_padding():
    no_padding = conv_vs_dense_parameters(3, 32, 3, 32, 32)
    assert no_padding["dense_same_output"] == 3072 * 28_800 + 28_800, "30×30×32 outputs"
    assert no_padding["conv"] == 896, "the convolution's count does not depend on the image"
    strided = conv_vs_dense_parameters(1, 8, 5, 28, 28, stride=2, padding=2)
    expected = {
        "conv": 8 * 25 + 8,
        "dense_to_channels": 784 * 8 + 8,
        "dense_same_output": 784 * (8 * 14 * 14) + 8 * 14 * 14,
    }
    assert strided == expected, (
        f"1 → 8 channels, kernel 5, 28×28, stride 2, padding 2 (14×14 outputs): expected "
        f"{expected}, got {strided}"
    )
