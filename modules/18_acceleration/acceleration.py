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
# # Module 18 — Acceleration: vectorization and memory layout
#
# Module 09 computed the same convolution twice: seven Python loops, then im2col
# plus one matrix product, hundreds of times faster. This module asks *why*, and
# turns the answer into three habits:
#
# * **vectorization** — hand whole arrays to compiled code instead of looping in
#   Python. One Python step costs tens of nanoseconds; one multiply-add inside
#   NumPy's compiled loops costs well under one.
# * **views before copies** — a *sliding window view* describes every kernel window
#   of an image with new strides over the same bytes: 0 bytes copied.
# * **cache locality** — memory arrives in 64-byte **cache lines**. Reading
#   neighbouring addresses uses every byte of each line; jumping through memory
#   wastes most of them. **Loop tiling** (a **blocked matmul**) reorders the work
#   so that small tiles are reused while they are still in the fast cache.
#
# **Systems concept: the same FLOPs, different memory traffic.** Every function
# here computes something you could already compute. What changes is how many
# Python steps run and how many bytes travel between memory and the processor —
# and that, not the FLOP count, decides the time.
#
# | exercise | what you write |
# |---|---|
# | 18.1 sliding_windows | every kernel window as a zero-copy strided view |
# | 18.2 conv2d_vectorized | convolution as one matrix product over that view |
# | 18.3 blocked_matmul | matrix product tile by tile |
# | 18.4 memory_layout | byte strides of row-major and column-major arrays |
# | 18.5 cache_model | cache lines touched, bytes moved by a blocked matmul |
# | 18.6 measure_speedup | time two implementations and check they agree |

# %%
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tinytorch.core import Tensor
from tinytorch.nn import conv_output_size

# %% [markdown]
# ## 18.1 — Every window, without copying
#
# An array is a pointer to bytes plus, for each axis, a **stride**: how many
# bytes to move to reach the next entry along that axis. A float32 image batch
# of shape (N, C, H, W) has strides (4·C·H·W, 4·H·W, 4·W, 4). Now add two axes
# (KH, KW) that walk *inside* a window, with the same strides as the rows and
# columns: `windows[n, c, i, j, ki, kj]` is `x[n, c, i + ki, j + kj]`. Nothing is
# copied — the window axes reuse the strides of H and W:
#
#     shape   (N, C, H−KH+1, W−KW+1, KH, KW)
#     strides (4·C·H·W, 4·H·W, 4·W, 4, 4·W, 4)
#
# `np.lib.stride_tricks.sliding_window_view(x, (KH, KW), axis=(2, 3))` builds
# exactly that view (read-only, since many windows share each byte). A stride S
# keeps every S-th window: `view[:, :, ::S, ::S]`, again a view. Only padding
# needs new memory, because the zeros around the image do not exist yet.


# %%
def _pair(kernel_size) -> tuple[int, int]:
    """3 → (3, 3); (3, 5) stays (3, 5)."""
    if isinstance(kernel_size, (int, np.integer)):
        return int(kernel_size), int(kernel_size)
    height, width = kernel_size
    return int(height), int(width)


def _images(x) -> np.ndarray:
    """The float32 array behind a Tensor or an array, checked to be (N, C, H, W)."""
    data = x.data if isinstance(x, Tensor) else np.asarray(x, dtype=np.float32)
    if data.ndim != 4:
        raise ValueError(
            f"expected images of shape (batch, channels, height, width), got shape "
            f"{data.shape}. A single image needs a batch axis: x.reshape(1, *x.shape)."
        )
    return data


def sliding_windows(x, kernel_size, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Every kernel window of x as a read-only strided view.

    x: Tensor or array (N, C, H, W) → array (N, C, OH, OW, KH, KW) with
    windows[n, c, i, j, ki, kj] == x_padded[n, c, i·S + ki, j·S + kj] and
    OH = (H + 2P − KH) // S + 1 (same for OW).
    Cost: 0 bytes when padding is 0 (the result shares x's memory); with padding, one
    padded copy of x, 4·N·C·(H+2P)·(W+2P) bytes — never the KH·KW× of im2col.
    """
    data = _images(x)
    kh, kw = _pair(kernel_size)
    conv_output_size(data.shape[2], kh, stride, padding)  # teaching error if it cannot fit
    conv_output_size(data.shape[3], kw, stride, padding)
    ### BEGIN SOLUTION 18.1
    if padding > 0:
        data = np.pad(data, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    view = np.lib.stride_tricks.sliding_window_view(data, (kh, kw), axis=(2, 3))
    return view[:, :, ::stride, ::stride]
    ### END SOLUTION


# %% [markdown]
# ## 18.2 — Convolution as one matrix product over the view
#
# With the windows in hand, convolution is a sum over three shared axes — input
# channel, kernel row, kernel column:
#
#     out[n, o, i, j] = Σ_c Σ_ki Σ_kj  windows[n, c, i, j, ki, kj] · w[o, c, ki, kj]
#
# A matrix product wants each operand as one contiguous block, with the summed axes
# together. Put them *first* and the output positions last, one image at a time:
#
#     windows.transpose(0, 1, 4, 5, 2, 3)    (N, C, KH, KW, OH, OW)  still a view
#     copied into columns                    (N, C·KH·KW, OH·OW)     now NumPy must copy:
#                                                                    the view's entries
#                                                                    are not back to back
#     w.reshape(C_out, C·KH·KW) @ columns    → (N, C_out, OH·OW)
#
# `@` with a 3-D right operand is a *batched* product: one call, one matrix product
# per image. Its result is already in the output's layout: reshape to
# (N, C_out, OH, OW), no transpose and no second copy. The copy is Module 09's im2col
# matrix, built by compiled code in one pass instead of a Python loop over kernel
# offsets: the view saved you writing the copy, not making it.
#
# The bias rides along for free. Give `columns` one extra row of ones and the kernel
# matrix one extra column holding the bias: each output is then Σ w·x + b·1, computed
# inside the same product, instead of one more pass over the whole output afterwards.
# Allocate `columns` as (N, C·KH·KW + 1, OH·OW) and write the windows into
# `columns[:, :-1]` reshaped to (N, C, KH, KW, OH, OW) — splitting axes of a slice is
# always a view, so the assignment fills `columns` itself.
#
# The order matters. Flattening to (N·OH·OW, C·KH·KW) @ w.T instead (the textbook
# im2col) gives (N·OH·OW, C_out), which must be transposed back to (N, C_out, OH, OW):
# one more copy of the whole output. On the paper's CIFAR batch (128 images 3×32×32,
# 32 filters 5×5) that order took about 2.5× the time of this one (one thread,
# `scripts/benchmark_report.py`, which also compares it with PyTorch CPU).
#
# (`np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3]))` gives the same numbers
# in one line, but it copies the windows in the view's awkward order; on the
# reference machine it was about 5× slower than the explicit transpose. Layout
# decisions like this one are the whole subject of this module.)
#
# This path is for inference: the result carries no gradient rule. Train with
# Module 09's `Conv2d`, run the trained weights through this function.


# %%
def _check_weights(data: np.ndarray, weight: np.ndarray, bias) -> None:
    if weight.ndim != 4 or weight.shape[1] != data.shape[1]:
        raise ValueError(
            f"weights must have shape (out_channels, {data.shape[1]}, kernel_height, "
            f"kernel_width) for images with {data.shape[1]} channels, got {weight.shape}. "
            f"Check the layout: channels come second (NCHW)."
        )
    if bias is not None and np.shape(bias.data) != (weight.shape[0],):
        raise ValueError(
            f"the bias needs one value per output channel, shape ({weight.shape[0]},), "
            f"got {np.shape(bias.data)}"
        )


def conv2d_vectorized(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1, padding: int = 0
) -> Tensor:
    """2-D convolution from a sliding window view and one matrix product (inference only).

    Same contract and numbers as Module 09's conv2d_explicit: x (N, C_in, H, W), weight
    (C_out, C_in, KH, KW), bias (C_out,) or None → (N, C_out, OH, OW).
    Cost: 2·N·C_out·OH·OW·(C_in·KH·KW + 1) FLOPs in one batched matmul (the bias
    included); the copy of the windows, 4·N·(C_in·KH·KW + 1)·OH·OW bytes; output
    4·N·C_out·OH·OW bytes, written once.
    No gradient rule is attached.
    """
    data = _images(x)
    _check_weights(data, weight.data, bias)
    kh, kw = weight.shape[2], weight.shape[3]
    ### BEGIN SOLUTION 18.2
    windows = sliding_windows(data, (kh, kw), stride, padding)  # (N, C, OH, OW, KH, KW)
    n, c, out_h, out_w = windows.shape[:4]
    size = c * kh * kw
    columns = np.empty((n, size + 1, out_h * out_w), dtype=np.float32)
    patches = columns[:, :size].reshape(n, c, kh, kw, out_h, out_w)  # a view of columns
    patches[...] = windows.transpose(0, 1, 4, 5, 2, 3)  # the one copy of the windows
    columns[:, size] = 1.0  # a row of ones: the bias column multiplies it
    biases = np.zeros(weight.shape[0]) if bias is None else bias.data
    kernels = np.column_stack([weight.data.reshape(weight.shape[0], size), biases])
    out = kernels.astype(np.float32) @ columns  # (N, C_out, OH·OW): one product per image
    return Tensor(out.reshape(n, -1, out_h, out_w))
    ### END SOLUTION


# %% [markdown]
# ## 18.3 — Loop tiling: a blocked matmul
#
# The textbook product `out[i, j] += a[i, k] · b[k, j]` over all i, j, k reads
# every entry of `a` m times and every entry of `b` n times. For large matrices
# those entries have long left the cache by the time they are needed again, so
# each read goes to main memory.
#
# Cut the matrices into `block_size × block_size` tiles and multiply tile by tile:
#
#     for each output tile (i0, j0):
#         for each k0:  out[i0-tile, j0-tile] += a[i0-tile, k0-tile] @ b[k0-tile, j0-tile]
#
# Three tiles of B×B float32 numbers (12·B² bytes; 48 kB for B = 64) fit in a
# processor's fast cache, and every number loaded into it is now used B times
# before it is evicted. Same FLOPs, far fewer trips to memory (18.5 counts them).
# Slices that run past the end of a matrix are simply shorter, so sizes that are
# not multiples of the block work without special cases.
#
# NumPy's `a @ b` already calls a library that tiles (several levels deep, tuned
# per processor), so your blocked version will not beat it; it shows the structure
# that makes it fast, and 18.5 turns the structure into a byte count.


# %%
def blocked_matmul(a, b, block_size: int = 64) -> np.ndarray:
    """(n, k) @ (k, m) → (n, m) float32, computed one block_size² tile at a time.

    a, b: Tensors or 2-D arrays. Cost: the usual 2·n·k·m FLOPs, in
    ⌈n/B⌉·⌈m/B⌉·⌈k/B⌉ tile products; output 4·n·m bytes; the working set of one step is
    three tiles, 12·B² bytes.
    """
    a = np.asarray(a.data if isinstance(a, Tensor) else a, dtype=np.float32)
    b = np.asarray(b.data if isinstance(b, Tensor) else b, dtype=np.float32)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(
            f"blocked_matmul multiplies two matrices (n, k) @ (k, m), got shapes {a.shape} "
            f"and {b.shape}. The last axis of the left one must equal the first of the right."
        )
    if not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise ValueError(f"block_size must be a whole number >= 1, got {block_size!r}")
    n, k = a.shape
    m = b.shape[1]
    ### BEGIN SOLUTION 18.3
    out = np.zeros((n, m), dtype=np.float32)
    for i0 in range(0, n, block_size):
        for j0 in range(0, m, block_size):
            tile = out[i0 : i0 + block_size, j0 : j0 + block_size]  # a view: += writes to out
            for k0 in range(0, k, block_size):
                tile += (
                    a[i0 : i0 + block_size, k0 : k0 + block_size]
                    @ b[k0 : k0 + block_size, j0 : j0 + block_size]
                )
    return out
    ### END SOLUTION


# %% [markdown]
# ## 18.4 — Memory layout: row-major and column-major
#
# Memory is one long line of bytes, so a 2-D array must choose an order.
# **Row-major** (C order, NumPy's default) stores row 0, then row 1, …: the last
# axis is contiguous. **Column-major** (Fortran order) stores column 0 first: the
# first axis is contiguous. For shape (3, 4) float32:
#
#     row-major    strides (16, 4)    next row: 16 bytes on, next column: 4
#     column-major strides (4, 12)    next row: 4 bytes on,  next column: 12
#
# In general, row-major: stride[last] = itemsize and stride[d] = stride[d+1] ·
# shape[d+1]; column-major: the same, starting from the first axis. `x.T` and
# `x[:, ::2]` only change strides, so after a transpose a "row" of the result may
# be a walk with large jumps. `is_row_major` tells you when that happened
# (axes of length 1 never move, so their stride does not matter).


# %%
def strides_for(shape: tuple[int, ...], itemsize: int = 4, order: str = "C") -> tuple[int, ...]:
    """Byte strides of a freshly allocated array of `shape`: order "C" (row-major) or "F"
    (column-major). Example: strides_for((3, 4)) == (16, 4), strides_for((3, 4), order="F")
    == (4, 12). Pure arithmetic: allocates nothing."""
    if order not in ("C", "F"):
        raise ValueError(f"order must be 'C' (row-major) or 'F' (column-major), got {order!r}")
    ### BEGIN SOLUTION 18.4
    axes = range(len(shape) - 1, -1, -1) if order == "C" else range(len(shape))
    strides = [0] * len(shape)
    step = itemsize
    for axis in axes:
        strides[axis] = step
        step *= shape[axis]
    return tuple(strides)
    ### END SOLUTION


def is_row_major(array) -> bool:
    """True when the array's entries lie back to back in row-major order, i.e. its strides
    equal strides_for(shape, itemsize) on every axis longer than 1. Tensors are accepted."""
    data = array.data if isinstance(array, Tensor) else np.asarray(array)
    ### BEGIN SOLUTION 18.4
    expected = strides_for(data.shape, data.itemsize, "C")
    return all(
        length <= 1 or actual == wanted
        for length, actual, wanted in zip(data.shape, data.strides, expected, strict=True)
    )
    ### END SOLUTION


# %% [markdown]
# ## 18.5 — A cache model you can count
#
# **Cache lines.** The processor never fetches one float: it fetches the whole
# aligned 64-byte line around it. Reading `count` float32 values that lie
# `stride_bytes` apart touches
#
# * count·4/64 lines when they are contiguous (stride 4): 16 useful values per line;
# * count lines when stride ≥ 64: one line, and 60 wasted bytes, per value.
#
# A column of a (1024, 1024) float32 matrix has stride 4096: summing it moves 16×
# the bytes of summing a row. Count exactly: value i covers the bytes
# i·stride … i·stride + itemsize − 1; collect the line number (address // 64) of
# both ends of every value and count the distinct ones.
#
# **Blocked matmul traffic.** Model the cache as holding the three current tiles.
# An n×n by n×n product with tiles of B×B (B divides n) does (n/B)³ tile products,
# each loading two input tiles (2·B²·itemsize bytes); the output tile stays in
# cache across its k loop and is written once (n²·itemsize in total):
#
#     bytes moved = 2·n³·itemsize / B + n²·itemsize
#
# B = 1 is the textbook loop (every multiply-add loads two numbers); B = 64 moves
# 64× fewer input bytes. The largest useful B is the largest one whose three tiles
# fit in the cache: 3·B²·itemsize ≤ cache bytes.


# %%
def cache_lines_touched(
    count: int, stride_bytes: int, itemsize: int = 4, line_bytes: int = 64
) -> int:
    """Distinct cache lines read when loading `count` values of `itemsize` bytes that start
    at byte 0 and lie `stride_bytes` apart (lines aligned at multiples of line_bytes).
    Bytes moved from memory = result · line_bytes. Cost: O(count) small integers."""
    if count < 0 or itemsize < 1 or line_bytes < itemsize or stride_bytes < itemsize:
        raise ValueError(
            f"need count >= 0, 1 <= itemsize <= line_bytes and stride_bytes >= itemsize "
            f"(values may not overlap), got count={count}, stride_bytes={stride_bytes}, "
            f"itemsize={itemsize}, line_bytes={line_bytes}"
        )
    ### BEGIN SOLUTION 18.5
    starts = np.arange(count, dtype=np.int64) * stride_bytes
    first = starts // line_bytes
    last = (starts + itemsize - 1) // line_bytes
    return int(np.unique(np.concatenate([first, last])).size)
    ### END SOLUTION


def blocked_matmul_traffic(n: int, block_size: int, itemsize: int = 4) -> int:
    """Bytes moved between memory and cache by an n×n @ n×n blocked matmul under the
    three-tiles model: 2·n³·itemsize / B read plus n²·itemsize written. B must divide n."""
    if block_size < 1 or n % block_size:
        raise ValueError(
            f"this model needs a block size that divides n exactly, got n={n}, "
            f"block_size={block_size}"
        )
    ### BEGIN SOLUTION 18.5
    tiles = n // block_size
    reads = tiles**3 * 2 * block_size * block_size * itemsize
    writes = n * n * itemsize
    return reads + writes
    ### END SOLUTION


def largest_block_for_cache(cache_bytes: int, itemsize: int = 4) -> int:
    """Largest B with 3·B²·itemsize <= cache_bytes (three tiles in cache); 0 if none fits.
    Example: a 32 KiB cache and float32 → 52."""
    ### BEGIN SOLUTION 18.5
    block = math.isqrt(cache_bytes // (3 * itemsize))
    while 3 * block * block * itemsize > cache_bytes:  # guard against rounding at the edge
        block -= 1
    return block
    ### END SOLUTION


# %% [markdown]
# ## 18.6 — Measuring a speedup honestly
#
# A speedup claim needs two things: the two versions compute the same result, and
# both were timed the same way. `measure_speedup` calls the baseline `repeats`
# times, then the candidate `repeats` times, with the same arguments, reading the
# clock just before and just after each call. It keeps each version's *smallest*
# time — noise (other programs, the first call filling the caches) only ever adds
# time, so the minimum is the least disturbed estimate — and reports
# baseline / candidate.
#
# It also compares the two last outputs (Tensors or arrays): the largest absolute
# difference between them. A "faster" version that changed the answer is a bug.
#
# The clock is an argument (`time.perf_counter` by default) so the arithmetic can
# be checked with a fake clock.


# %%
@dataclass(frozen=True)
class SpeedupReport:
    """Smallest time per call of each version, their ratio, and how far the outputs differ."""

    baseline_seconds: float
    candidate_seconds: float
    speedup: float  # baseline_seconds / candidate_seconds
    max_abs_difference: float

    def __str__(self) -> str:
        return (
            f"baseline {self.baseline_seconds * 1e3:.3f} ms, candidate "
            f"{self.candidate_seconds * 1e3:.3f} ms: {self.speedup:.1f}x "
            f"(largest difference {self.max_abs_difference:.1e})"
        )


def _array(value) -> np.ndarray:
    return np.asarray(value.data if isinstance(value, Tensor) else value, dtype=np.float64)


def measure_speedup(
    baseline: Callable,
    candidate: Callable,
    *args,
    repeats: int = 3,
    clock: Callable[[], float] = time.perf_counter,
) -> SpeedupReport:
    """Time baseline(*args) and candidate(*args), `repeats` calls each (baseline first),
    two clock reads per call. Returns a SpeedupReport with the smallest time of each,
    speedup = baseline / candidate (inf if the candidate took no measurable time) and the
    largest |difference| of the last outputs. ValueError if the output shapes differ."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats!r}")
    ### BEGIN SOLUTION 18.6
    timings, outputs = [], []
    for function in (baseline, candidate):
        best, result = math.inf, None
        for _ in range(repeats):
            started = clock()
            result = function(*args)
            best = min(best, clock() - started)
        timings.append(best)
        outputs.append(_array(result))
    if outputs[0].shape != outputs[1].shape:
        raise ValueError(
            f"the two versions disagree on the output shape: baseline {outputs[0].shape}, "
            f"candidate {outputs[1].shape}. They must compute the same thing."
        )
    difference = float(np.max(np.abs(outputs[0] - outputs[1]))) if outputs[0].size else 0.0
    speedup = timings[0] / timings[1] if timings[1] > 0 else math.inf
    return SpeedupReport(timings[0], timings[1], speedup, difference)
    ### END SOLUTION


# %% [markdown]
# ## Try it
#
# Run this file (`python modules/18_acceleration/acceleration.py`) to see the
# three convolutions of Modules 09 and 18 raced against each other, the blocked
# product next to NumPy's, and the same values summed packed and spread out.

# %%
if __name__ == "__main__":
    from tinytorch.nn import conv2d_explicit, conv2d_im2col

    rng = np.random.default_rng(0)
    images = Tensor(rng.normal(size=(2, 3, 16, 16)))
    kernels = Tensor(rng.normal(size=(8, 3, 3, 3)))
    bias = Tensor(rng.normal(size=8))
    args = (images, kernels, bias, 1, 1)
    print("seven loops → vectorized:", measure_speedup(conv2d_explicit, conv2d_vectorized, *args))
    batch = (Tensor(rng.normal(size=(32, 3, 32, 32))), Tensor(rng.normal(size=(16, 3, 3, 3))))
    print("im2col      → vectorized:", measure_speedup(conv2d_im2col, conv2d_vectorized, *batch))

    left = rng.normal(size=(512, 512)).astype(np.float32)
    right = rng.normal(size=(512, 512)).astype(np.float32)
    print("blocked (64) → numpy @: ", measure_speedup(blocked_matmul, np.matmul, left, right))

    values = rng.normal(size=16 * 1024 * 1024).astype(np.float32)  # 64 MiB
    spread = values[::16]  # 1 Mi values, 64 bytes apart: one cache line each
    packed = spread.copy()  # the same values, back to back
    print("spread sum → packed sum:", measure_speedup(spread.sum, packed.sum))
    lines_spread = cache_lines_touched(spread.size, spread.strides[0])
    lines_packed = cache_lines_touched(packed.size, packed.strides[0])
    print(f"cache lines: spread {lines_spread:,}, packed {lines_packed:,}")
    for block in (1, 8, 64):
        print(f"1024² blocked matmul, B={block:2d}: {blocked_matmul_traffic(1024, block):,} bytes")
    print("largest block for a 32 KiB cache:", largest_block_for_cache(32 * 1024))
