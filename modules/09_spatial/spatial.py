# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 09 — Spatial: convolution and pooling
#
# A dense layer treats a 32×32 colour image as 3,072 unrelated numbers: it has no
# idea that pixel (4, 5) sits next to pixel (4, 6). A **convolution** slides one
# small **kernel** (say 3×3 over every input channel) across the image and
# computes the same weighted sum at every position. Two ideas make it work:
#
# * **locality** — each output looks only at a small window of the input, its
#   **receptive field**;
# * **weight sharing** — every position reuses the same kernel, so the layer's
#   parameter count does not grow with the image.
#
# The output of one kernel over the whole image is a **feature map**: one
# channel of the next layer's input. **Pooling** then shrinks feature maps by
# keeping the largest (max) or the average value of each small window.
#
# **Systems concept: the same arithmetic, two very different programs.** You
# write convolution twice. First as seven nested Python loops: obviously right,
# painfully slow. Then with **im2col**: copy every window into one row of a
# matrix, after which the whole convolution is a single matrix multiplication
# that NumPy runs in optimised compiled code. Both compute the same numbers; the
# second trades memory (each input value is copied up to KH·KW times) for speed.
# Run this file to see the ratio on your machine.
#
# | exercise | what you write |
# |---|---|
# | 09.1 conv2d_explicit | the forward pass as seven nested loops |
# | 09.2 conv2d_explicit_backward | the same loops, run backwards, for all three gradients |
# | 09.3 im2col | copy every window into one row of a matrix |
# | 09.4 col2im | the way back: add each row's values to the pixels they came from |
# | 09.5 conv2d_im2col | convolution as one matrix multiplication |
# | 09.6 conv2d_layer | the `Conv2d` layer: parameters and forward |
# | 09.7 pooling | max and average pooling, with their gradients |
# | 09.8 flatten | `Flatten`: feature maps → one vector per image |
# | 09.9 parameter_comparison | how many parameters weight sharing saves |
#
# Layout convention: images are **NCHW** — (batch, channels, height, width);
# kernels are (out_channels, in_channels, kernel_height, kernel_width).

# %%
from __future__ import annotations

import math

import numpy as np

from tinytorch.core import Tensor, attach_backward
from tinytorch.nn import Module

# %% [markdown]
# ## Output size
#
# A K-wide kernel fits into an input of width W at W − K + 1 positions. Zero
# **padding** P adds P columns on each side (W + 2P), and a **stride** S moves the
# kernel S columns at a time, so only every S-th position is used:
#
#     out = (W + 2P − K) // S + 1
#
# A 32-wide input with K=3, P=1, S=1 keeps its width (32); with S=2 it halves (16).


# %%
def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Number of kernel positions along one axis: (size + 2·padding − kernel) // stride + 1.

    >>> conv_output_size(32, 3, stride=1, padding=1)
    32
    """
    if kernel > size + 2 * padding:
        raise ValueError(
            f"a kernel of size {kernel} does not fit into an input of size {size} with "
            f"padding {padding} (padded size {size + 2 * padding}). Use a smaller kernel, "
            f"more padding or a larger input."
        )
    return (size + 2 * padding - kernel) // stride + 1


def pad2d(images: np.ndarray, padding: int) -> np.ndarray:
    """Zeros around the last two axes of an (N, C, H, W) array → (N, C, H+2P, W+2P).
    Copies the input: 4·N·C·(H+2P)·(W+2P) new bytes (none when padding is 0)."""
    if padding == 0:
        return images
    return np.pad(images, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def unpad2d(images: np.ndarray, padding: int) -> np.ndarray:
    """The inverse view of pad2d: drop `padding` rows/columns on each side."""
    if padding == 0:
        return images
    return images[:, :, padding:-padding, padding:-padding]


def _pair(kernel_size) -> tuple[int, int]:
    """3 → (3, 3); (3, 5) stays (3, 5)."""
    if isinstance(kernel_size, int):
        return kernel_size, kernel_size
    height, width = kernel_size
    return int(height), int(width)


def _check_conv_inputs(x: Tensor, weight: Tensor, bias: Tensor | None) -> None:
    """Teaching errors for the three shape mistakes everyone makes once."""
    if x.ndim != 4:
        raise ValueError(
            f"convolution expects images of shape (batch, channels, height, width), got shape "
            f"{x.shape}. A single image needs a batch axis: x.reshape(1, *x.shape)."
        )
    if weight.ndim != 4:
        raise ValueError(
            f"convolution weights must have shape (out_channels, in_channels, kernel_height, "
            f"kernel_width), got {weight.shape}"
        )
    if x.shape[1] != weight.shape[1]:
        raise ValueError(
            f"the images have {x.shape[1]} channels (shape {x.shape}) but the weights expect "
            f"{weight.shape[1]} input channels (shape {weight.shape}). Check the layout: "
            f"channels come second (NCHW), not last."
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(
            f"the bias needs one value per output channel, shape ({weight.shape[0]},), "
            f"got {bias.shape}"
        )


# %% [markdown]
# ## 09.1 — Seven nested loops
#
# One output value is a weighted sum over a window:
#
#     out[b, co, i, j] = bias[co]
#         + Σ_ci Σ_ki Σ_kj  x_pad[b, ci, i·S + ki, j·S + kj] · w[co, ci, ki, kj]
#
# Written out there are seven loops: four to visit every output value
# (image b, output channel co, row i, column j) and three to add up its window
# (input channel ci, kernel row ki, kernel column kj). Count the work: every one
# of the N·C_out·OH·OW outputs needs C_in·KH·KW multiply-adds — for a batch of
# 64 images 32×32×3 through 32 kernels of 3×3 that is 64·32·32·32·27 ≈ 56.6 million
# multiply-adds, one Python step each.
#
# The data is in plain NumPy arrays (`x.data`, `weight.data`); the code after
# your region wraps the result in a Tensor and attaches the gradient rule you
# write in 09.2.


# %%
def conv2d_explicit(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1, padding: int = 0
) -> Tensor:
    """2-D convolution, the slow and obvious way: seven nested Python loops.

    x (N, C_in, H, W), weight (C_out, C_in, KH, KW), bias (C_out,) or None
    → (N, C_out, OH, OW) with OH = (H + 2P − KH) // S + 1 (same for OW).
    Cost: 2·N·C_out·OH·OW·C_in·KH·KW FLOPs, each one a Python step; output 4·N·C_out·OH·OW
    bytes. Differentiable with respect to x, weight and bias (09.2's rule).
    """
    _check_conv_inputs(x, weight, bias)
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    out_h = conv_output_size(h, kh, stride, padding)
    out_w = conv_output_size(w, kw, stride, padding)
    padded = pad2d(x.data, padding)
    ### BEGIN SOLUTION 09.1
    out = np.zeros((n, c_out, out_h, out_w), dtype=np.float32)
    for b in range(n):  # 1. every image in the batch
        for co in range(c_out):  # 2. every kernel (output channel)
            for i in range(out_h):  # 3. every output row
                for j in range(out_w):  # 4. every output column
                    total = 0.0
                    for ci in range(c_in):  # 5. every input channel
                        for ki in range(kh):  # 6. every kernel row
                            for kj in range(kw):  # 7. every kernel column
                                pixel = padded[b, ci, i * stride + ki, j * stride + kj]
                                total += pixel * weight.data[co, ci, ki, kj]
                    out[b, co, i, j] = total
    if bias is not None:
        out += bias.data.reshape(1, c_out, 1, 1)
    ### END SOLUTION
    parents = (x, weight) if bias is None else (x, weight, bias)
    x_data, weight_data = x.data, weight.data  # the arrays this result was computed from

    def backward(grad_out: np.ndarray):
        grads = conv2d_explicit_backward(grad_out, x_data, weight_data, stride, padding)
        return grads[:2] if bias is None else grads

    return attach_backward(Tensor(out), parents, backward)


# %% [markdown]
# ## 09.2 — The same loops, backwards
#
# Every multiply-add `total += pixel · weight` in the forward loops sends
# gradient back to both of its factors: the pixel gets `grad · weight`, the
# weight gets `grad · pixel`, where `grad = grad_out[b, co, i, j]`. A pixel sits in
# many windows and a weight is used at every position, so both gradients are
# **sums**: use `+=`. The bias is added once per output value, so its gradient is
# grad_out summed over batch, rows and columns.
#
# Accumulate the input gradient in the *padded* coordinates, then cut the
# padding off (`unpad2d`): the zeros we added are not inputs of anybody.


# %%
def conv2d_explicit_backward(
    grad_out: np.ndarray, x: np.ndarray, weight: np.ndarray, stride: int = 1, padding: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a 2-D convolution, with the seven loops of the forward pass.

    grad_out (N, C_out, OH, OW), x (N, C_in, H, W), weight (C_out, C_in, KH, KW)
    → (grad_x like x, grad_weight like weight, grad_bias of shape (C_out,)).
    Cost: 4·N·C_out·OH·OW·C_in·KH·KW FLOPs — twice the forward pass.
    """
    n, c_out, out_h, out_w = grad_out.shape
    _, c_in, kh, kw = weight.shape
    padded = pad2d(x, padding)
    ### BEGIN SOLUTION 09.2
    grad_padded = np.zeros_like(padded, dtype=np.float32)
    grad_weight = np.zeros_like(weight, dtype=np.float32)
    for b in range(n):
        for co in range(c_out):
            for i in range(out_h):
                for j in range(out_w):
                    grad = grad_out[b, co, i, j]
                    for ci in range(c_in):
                        for ki in range(kh):
                            for kj in range(kw):
                                row, col = i * stride + ki, j * stride + kj
                                grad_padded[b, ci, row, col] += grad * weight[co, ci, ki, kj]
                                grad_weight[co, ci, ki, kj] += grad * padded[b, ci, row, col]
    grad_bias = grad_out.sum(axis=(0, 2, 3)).astype(np.float32)
    grad_x = unpad2d(grad_padded, padding)
    ### END SOLUTION
    return grad_x, grad_weight, grad_bias


# %% [markdown]
# ## 09.3 — im2col: windows become rows
#
# Look at the inner three loops of 09.1 again: for one output position they take
# a C_in×KH×KW window and dot it with a C_in×KH×KW kernel. If every window is
# first copied out and flattened into a row, all N·OH·OW dot products become one
# matrix product:
#
#     cols (N, OH·OW, C_in·KH·KW)  @  kernels (C_in·KH·KW, C_out)  →  (N, OH·OW, C_out)
#
# Build `cols` with only two Python loops, over the kernel offsets (ki, kj):
# for a fixed offset, the pixels that offset touches in *every* window form a
# strided slice of the padded input,
# `padded[:, :, ki : ki + S·OH : S, kj : kj + S·OW : S]` of shape (N, C, OH, OW).
# Store it at `patches[:, :, ki, kj]` of a (N, C, KH, KW, OH, OW) array, then move the
# window axes last and flatten. Column order must be (channel, kernel row,
# kernel column) so that it matches `weight.reshape(C_out, C_in·KH·KW)`.
#
# **Memory cost.** `cols` holds N·OH·OW·C·KH·KW floats: with K=3, P=1, S=1 that is
# 9× the input's bytes (most pixels appear in 9 windows, border pixels in fewer;
# padding zeros fill the rest). That is the price of the speed.


# %%
def im2col(x: Tensor, kernel_size, stride: int = 1, padding: int = 0) -> Tensor:
    """Copy every kernel window of x into one row.

    x (N, C, H, W) → (N, OH·OW, C·KH·KW); row r is the window of output position
    (r // OW, r % OW), flattened in (channel, kernel row, kernel column) order.
    Cost: 4·N·OH·OW·C·KH·KW bytes (≈ KH·KW × the input when S=1). Differentiable:
    the gradient is col2im (09.4) of the incoming gradient.
    """
    kh, kw = _pair(kernel_size)
    n, c, h, w = x.shape
    out_h = conv_output_size(h, kh, stride, padding)
    out_w = conv_output_size(w, kw, stride, padding)
    padded = pad2d(x.data, padding)
    ### BEGIN SOLUTION 09.3
    patches = np.empty((n, c, kh, kw, out_h, out_w), dtype=np.float32)
    for ki in range(kh):
        for kj in range(kw):
            rows = slice(ki, ki + stride * out_h, stride)
            columns = slice(kj, kj + stride * out_w, stride)
            patches[:, :, ki, kj] = padded[:, :, rows, columns]
    # (N, C, KH, KW, OH, OW) → (N, OH, OW, C, KH, KW) → (N, OH·OW, C·KH·KW)
    cols = patches.transpose(0, 4, 5, 1, 2, 3).reshape(n, out_h * out_w, c * kh * kw)
    ### END SOLUTION

    def backward(grad_cols: np.ndarray):
        return (col2im(grad_cols, x.shape, (kh, kw), stride, padding),)

    return attach_backward(Tensor(cols), (x,), backward)


# %% [markdown]
# ## 09.4 — col2im: the way back
#
# A pixel that appears in several windows appears in several rows of `cols`. The
# gradient of im2col must therefore *add* every copy's gradient back onto the
# pixel it was copied from. That is col2im: undo the reshape and transpose of
# 09.3, then, for each kernel offset (ki, kj), **add** (`+=`) the slice back into
# a zero array of the padded shape. Finally cut the padding off.
#
# (col2im is not the inverse of im2col — pixels seen by several windows come back
# multiplied by how often they were seen. It is its *adjoint*: for any x and c,
# `(im2col(x) · c).sum() == (x · col2im(c)).sum()`. That identity is what the
# tests check.)


# %%
def col2im(
    cols: np.ndarray, input_shape: tuple[int, ...], kernel_size, stride: int = 1, padding: int = 0
) -> np.ndarray:
    """Add the rows of `cols` (N, OH·OW, C·KH·KW) back to the pixels they were copied
    from → (N, C, H, W) with H, W from `input_shape`. Cost: 4·N·C·(H+2P)·(W+2P) bytes
    plus one addition per entry of cols."""
    kh, kw = _pair(kernel_size)
    n, c, h, w = input_shape
    out_h = conv_output_size(h, kh, stride, padding)
    out_w = conv_output_size(w, kw, stride, padding)
    ### BEGIN SOLUTION 09.4
    patches = cols.reshape(n, out_h, out_w, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    padded = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=np.float32)
    for ki in range(kh):
        for kj in range(kw):
            rows = slice(ki, ki + stride * out_h, stride)
            columns = slice(kj, kj + stride * out_w, stride)
            padded[:, :, rows, columns] += patches[:, :, ki, kj]
    return unpad2d(padded, padding)
    ### END SOLUTION


# %% [markdown]
# ## 09.5 — Convolution as one matrix multiplication
#
# With `cols = im2col(x, …)` of shape (N, OH·OW, C_in·KH·KW), flatten each kernel
# into a column of a (C_in·KH·KW, C_out) matrix (`weight.reshape(...)` then
# `.transpose()`), multiply, add the bias, and bring the result back to NCHW:
# (N, OH·OW, C_out) → transpose the last two axes → (N, C_out, OH·OW) → reshape
# (N, C_out, OH, OW).
#
# Use only Tensor operations here (reshape, transpose, @, +): then the gradients
# for weight and bias come from the rules you already have, and the gradient for
# x comes through im2col's rule. No new backward code.
#
# **How much work?** One multiply-add per (image, filter, output pixel, kernel
# entry): N·C_out·OH·OW·C_in·KH·KW. The paper's CIFAR batch (128 images 3×32×32,
# 32 filters 5×5, stride 1, no padding: 28×28 outputs) is 128·32·28·28·3·5·5 =
# 240,844,800 multiply-adds, all inside the one matrix product.


# %%
def conv2d_im2col(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1, padding: int = 0
) -> Tensor:
    """2-D convolution as im2col followed by one batched matrix product.

    Same contract and result as conv2d_explicit: x (N, C_in, H, W), weight
    (C_out, C_in, KH, KW), bias (C_out,) or None → (N, C_out, OH, OW).
    Cost: the same 2·N·C_out·OH·OW·C_in·KH·KW FLOPs, done inside one matmul, plus the
    4·N·OH·OW·C_in·KH·KW bytes of the im2col matrix.
    """
    _check_conv_inputs(x, weight, bias)
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    out_h = conv_output_size(h, kh, stride, padding)
    out_w = conv_output_size(w, kw, stride, padding)
    ### BEGIN SOLUTION 09.5
    cols = im2col(x, (kh, kw), stride, padding)  # (N, OH·OW, C_in·KH·KW)
    kernels = weight.reshape(c_out, c_in * kh * kw).transpose()  # (C_in·KH·KW, C_out)
    out = cols @ kernels  # (N, OH·OW, C_out)
    if bias is not None:
        out = out + bias
    return out.transpose(0, 2, 1).reshape(n, c_out, out_h, out_w)
    ### END SOLUTION


# %% [markdown]
# ## 09.6 — The Conv2d layer
#
# The layer owns two parameters: `weight` of shape (C_out, C_in, K, K) and `bias`
# of shape (C_out,). Initialise the weights with Module 03's Xavier rule,
# Uniform(±sqrt(6 / (fan_in + fan_out))), where each output adds up
# fan_in = C_in·K·K inputs and each input feeds fan_out = C_out·K·K outputs; the
# bias starts at zero. This is Glorot's bound, the same as for Linear; He (Kaiming)
# initialisation, sqrt(6 / fan_in), suits deep ReLU stacks better and is what PyTorch's
# layers start from in a scaled form, but one rule for every layer keeps this course's
# models comparable. Both need `requires_grad=True`, so that `parameters()`
# (inherited from Module) finds them.
#
# `forward` uses the im2col path; `method="explicit"` switches to the seven loops
# (useful to check that both agree, far too slow to train with).


# %%
class Conv2d(Module):
    """2-D convolution layer over NCHW images.

    Parameters: weight (C_out, C_in, K, K) and bias (C_out,):
    C_out·C_in·K·K + C_out numbers — independent of the image size.
    forward: (N, C_in, H, W) → (N, C_out, OH, OW).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        bias: bool = True,
        method: str = "im2col",
        rng=None,
    ):
        if method not in ("im2col", "explicit"):
            raise ValueError(f"method must be 'im2col' or 'explicit', got {method!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = _pair(kernel_size), stride, padding
        self.method = method
        rng = np.random.default_rng(rng)  # a seed or a Generator, as in Linear
        ### BEGIN SOLUTION 09.6
        kh, kw = self.kernel_size
        fan_in, fan_out = in_channels * kh * kw, out_channels * kh * kw
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        self.weight = Tensor(
            rng.uniform(-bound, bound, size=(out_channels, in_channels, kh, kw)),
            requires_grad=True,
        )
        self.bias = Tensor(np.zeros(out_channels), requires_grad=True) if bias else None
        ### END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        convolve = conv2d_im2col if self.method == "im2col" else conv2d_explicit
        ### BEGIN SOLUTION 09.6
        return convolve(x, self.weight, self.bias, self.stride, self.padding)
        ### END SOLUTION

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}"
        )


# %% [markdown]
# ## 09.7 — Pooling
#
# Pooling has no parameters: it summarises each K×K window (moved S pixels at a
# time; by default S = K, windows side by side) of every channel separately.
# Use the same trick as im2col — loop over the kernel offsets (ki, kj), each
# giving a strided slice `x[:, :, ki : ki + S·OH : S, kj : kj + S·OW : S]`:
#
# * **average pooling** is the sum of those KH·KW slices divided by KH·KW. Slices,
#   `+` and `*` are Tensor operations, so its gradient comes for free.
# * **max pooling** keeps a running maximum and remembers *which* offset won
#   (`np.where`). Its gradient goes only to the winner of each window: in the
#   backward rule, for each offset add `grad_out` where that offset won, 0 elsewhere.
#   Write both; `attach_backward` ties them together.


# %%
def _pool_sizes(x: Tensor, kernel_size, stride) -> tuple[int, int, int, int, int]:
    if x.ndim != 4:
        raise ValueError(
            f"pooling expects images of shape (batch, channels, height, width), got {x.shape}"
        )
    kh, kw = _pair(kernel_size)
    stride = kh if stride is None else stride
    out_h = conv_output_size(x.shape[2], kh, stride)
    out_w = conv_output_size(x.shape[3], kw, stride)
    return kh, kw, stride, out_h, out_w


def max_pool2d(x: Tensor, kernel_size=2, stride: int | None = None) -> Tensor:
    """Largest value of every window: (N, C, H, W) → (N, C, OH, OW), stride defaults to
    the kernel size. Cost: N·C·OH·OW·KH·KW comparisons; remembers one small integer per
    output for the backward rule. The gradient flows only to each window's maximum."""
    kh, kw, stride, out_h, out_w = _pool_sizes(x, kernel_size, stride)
    ### BEGIN SOLUTION 09.7
    best = np.full((*x.shape[:2], out_h, out_w), -np.inf, dtype=np.float32)
    winner = np.zeros(best.shape, dtype=np.int64)  # offset ki·KW + kj of the maximum
    for ki in range(kh):
        for kj in range(kw):
            rows = slice(ki, ki + stride * out_h, stride)
            columns = slice(kj, kj + stride * out_w, stride)
            window = x.data[:, :, rows, columns]
            better = window > best
            best = np.where(better, window, best)
            winner = np.where(better, ki * kw + kj, winner)
    ### END SOLUTION

    def backward(grad_out: np.ndarray):
        ### BEGIN SOLUTION 09.7
        grad_x = np.zeros(x.shape, dtype=np.float32)
        for ki in range(kh):
            for kj in range(kw):
                won = winner == ki * kw + kj
                rows = slice(ki, ki + stride * out_h, stride)
                columns = slice(kj, kj + stride * out_w, stride)
                grad_x[:, :, rows, columns] += np.where(won, grad_out, 0.0)
        return (grad_x,)
        ### END SOLUTION

    return attach_backward(Tensor(best), (x,), backward)


def avg_pool2d(x: Tensor, kernel_size=2, stride: int | None = None) -> Tensor:
    """Average of every window: (N, C, H, W) → (N, C, OH, OW), stride defaults to the
    kernel size. Built from Tensor slices, + and *, so autograd differentiates it:
    each input pixel receives grad / (KH·KW) from every window it belongs to."""
    kh, kw, stride, out_h, out_w = _pool_sizes(x, kernel_size, stride)
    ### BEGIN SOLUTION 09.7
    total = None
    for ki in range(kh):
        for kj in range(kw):
            rows = slice(ki, ki + stride * out_h, stride)
            columns = slice(kj, kj + stride * out_w, stride)
            window = x[:, :, rows, columns]  # a Tensor slice: differentiable
            total = window if total is None else total + window
    return total * (1.0 / (kh * kw))
    ### END SOLUTION


class MaxPool2d(Module):
    """Max pooling layer (no parameters); see max_pool2d."""

    def __init__(self, kernel_size=2, stride: int | None = None):
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x: Tensor) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class AvgPool2d(Module):
    """Average pooling layer (no parameters); see avg_pool2d."""

    def __init__(self, kernel_size=2, stride: int | None = None):
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


# %% [markdown]
# ## 09.8 — Flatten
#
# Between the convolutional part of a network and its dense classifier the feature
# maps (N, C, H, W) become one vector per image, (N, C·H·W). A reshape — no data
# moves, and the gradient is a reshape back.


# %%
class Flatten(Module):
    """(N, d1, d2, ...) → (N, d1·d2·...). No parameters, no copy for contiguous input."""

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION 09.8
        return x.reshape(x.shape[0], -1)
        ### END SOLUTION


# %% [markdown]
# ## 09.9 — What weight sharing saves
#
# A Conv2d(3 → 32, K=3) has 32·3·3·3 + 32 = **896** parameters, whatever the image
# size. The TinyTorch paper compares it with "a dense layer" on a 32×32×3 image:
# 3,072 inputs → 32 outputs is 3,072·32 + 32 = **98,336** parameters, 109.75× more —
# the paper's "109×". But that dense layer produces 32 numbers per image, while
# the convolution produces 32 numbers *per position*. A dense layer with the same
# output as the padded convolution (32×32×32 = 32,768 outputs, each seeing the
# whole image) needs 3,072·32,768 + 32,768 = **100,696,064** parameters: 112,384×.
# Weight sharing saves far more than 109×; the smaller number answers a different
# question. Compute all three.


# %%
def conv_vs_dense_parameters(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    height: int,
    width: int,
    stride: int = 1,
    padding: int = 0,
) -> dict[str, int]:
    """Parameter counts (weights + biases) of a convolution and of two dense layers on
    the same flattened (in_channels·height·width) input:

    - "conv": Conv2d(in_channels → out_channels, kernel_size) — C_out·C_in·K·K + C_out
    - "dense_to_channels": dense layer to out_channels outputs (the paper's comparison)
    - "dense_same_output": dense layer to the convolution's full output, C_out·OH·OW values

    >>> conv_vs_dense_parameters(3, 32, 3, 32, 32, padding=1)["conv"]
    896
    """
    ### BEGIN SOLUTION 09.9
    kh, kw = _pair(kernel_size)
    inputs = in_channels * height * width
    out_h = conv_output_size(height, kh, stride, padding)
    out_w = conv_output_size(width, kw, stride, padding)
    outputs = out_channels * out_h * out_w
    return {
        "conv": out_channels * in_channels * kh * kw + out_channels,
        "dense_to_channels": inputs * out_channels + out_channels,
        "dense_same_output": inputs * outputs + outputs,
    }
    ### END SOLUTION


# %% [markdown]
# ## Try it
#
# Run this file (`python modules/09_spatial/spatial.py`) to check the two
# convolutions against each other and see how much faster one matrix product is
# than seven loops.

# %%
if __name__ == "__main__":
    import time

    rng = np.random.default_rng(0)
    images = Tensor(rng.normal(size=(2, 3, 16, 16)))
    kernels = Tensor(rng.normal(size=(8, 3, 3, 3)))
    start = time.perf_counter()
    slow = conv2d_explicit(images, kernels, padding=1)
    loops = time.perf_counter() - start
    start = time.perf_counter()
    fast = conv2d_im2col(images, kernels, padding=1)
    one_matmul = time.perf_counter() - start
    print(f"largest difference: {np.abs(slow.data - fast.data).max():.2e}")
    print(f"seven loops {loops * 1e3:.1f} ms, im2col {one_matmul * 1e3:.2f} ms")
    print(f"im2col is {loops / one_matmul:.0f}x faster here")
    counts = conv_vs_dense_parameters(3, 32, 3, 32, 32, padding=1)
    for name, count in counts.items():
        print(f"{name:>18}: {count:>12,} parameters ({count / counts['conv']:,.2f}x conv)")
