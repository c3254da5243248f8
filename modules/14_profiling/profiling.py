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
# # Module 14 — Profiling
#
# Modules 01–13 built a framework that trains MLPs, CNNs and a GPT. From here on the
# question changes from "does it work?" to "what does it cost, and what would make it
# cheaper?". Every such question starts with a measurement, because intuition about
# where time and memory go is wrong surprisingly often. **Profiling** is measuring a
# program piece by piece. You build the instruments:
#
# - a **clock** that times a call properly: warm-up calls first, then several timed
#   repeats, and the median of them (14.1);
# - a **memory meter** that reports the peak bytes a call allocates, temporaries
#   included (14.2);
# - a **FLOP count**: by formula for the layers you know (14.3), and measured by
#   counting every matrix product that really runs (14.4);
# - a per-layer **profiler** that combines all three for every layer of a model (14.5);
# - **Amdahl's law**, which tells you what speeding up one part can do for the whole
#   (14.6).
#
# **Systems concept: measure, then decide with Amdahl's law.** If 70 % of the time
# is in one layer and you make that layer 2× faster, the whole program becomes only
# 1 / (0.3 + 0.7 / 2) = 1.54× faster; even an infinitely fast layer gives at most
# 1 / 0.3 = 3.3×. The part you do not speed up sets the limit. So first find the
# fraction (profile), then compute what an improvement can possibly buy, then work.
#
# | exercise | what you write |
# |---|---|
# | 14.1 time_function | wall-clock time: warm-up, repeats, median |
# | 14.2 measure_memory | peak bytes allocated during a call, with `tracemalloc` |
# | 14.3 flop_formulas | FLOPs of Linear, Conv2d and multi-head attention |
# | 14.4 count_flops | count the FLOPs of every `Tensor.matmul` a call runs |
# | 14.5 profile_layers | time, memory and FLOPs of each layer of a model |
# | 14.6 amdahl_speedup | the overall gain of speeding up one part |

# %%
from __future__ import annotations

import math
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tinytorch.core import Tensor, no_grad
from tinytorch.nn import TransformerBlock, causal_mask

# %% [markdown]
# ## 14.1 — Timing a call
#
# `time.perf_counter()` is a clock with sub-microsecond resolution that only moves
# forward. Reading it before and after a call gives that call's **wall-clock** time:
# the time that passed on the wall, whatever else the machine was doing meanwhile.
# Three habits make one such number trustworthy:
#
# 1. **Warm-up.** The first call often pays one-time costs: code compiled on first
#    use (our `tinytorch` import layer compiles a module's file the first time one of
#    its names is used!), memory the allocator fetches from the operating system,
#    caches that are cold. Call the function `warmup` times and throw those times away.
# 2. **Repeats.** One measurement is an anecdote. Time `repeats` calls separately.
# 3. **The median.** Another process, a garbage collection or a frequency change
#    makes a few calls slow, never fast. The median (the middle sample) ignores a
#    few outliers; the mean does not. Return all samples too, so that the spread can
#    be inspected.
#
# The clock is a parameter, so that a test can pass a fake clock and know exactly
# what your function must report. Read it exactly twice per timed call and never
# during warm-up.


# %%
@dataclass(frozen=True)
class Timing:
    """What time_function saw: the median and every sample, in seconds per call."""

    median: float
    samples: tuple[float, ...]
    result: object = None  # what the last call of fn returned

    @property
    def best(self) -> float:
        """The fastest sample: the closest to the cost without interference."""
        return min(self.samples)


def time_function(
    fn: Callable,
    *args,
    warmup: int = 1,
    repeats: int = 5,
    clock: Callable[[], float] = time.perf_counter,
) -> Timing:
    """Time `fn(*args)`: `warmup` untimed calls, then `repeats` timed calls.

    >>> timing = time_function(sorted, list(range(1000)), repeats=7)
    >>> len(timing.samples), timing.median > 0
    (7, True)

    Each timed call reads `clock` once before and once after it (2·repeats reads in all,
    none during warm-up). Returns Timing(median of the samples, all samples in call
    order, the value the last call returned). Cost: warmup + repeats calls of fn.
    """
    if warmup < 0 or repeats < 1:
        raise ValueError(
            f"time_function needs warmup >= 0 and repeats >= 1, got warmup={warmup!r}, "
            f"repeats={repeats!r}"
        )
    ### BEGIN SOLUTION 14.1
    result = None
    for _ in range(warmup):
        result = fn(*args)
    samples = []
    for _ in range(repeats):
        start = clock()
        result = fn(*args)
        samples.append(clock() - start)
    return Timing(statistics.median(samples), tuple(samples), result)
    ### END SOLUTION


# %% [markdown]
# ## 14.2 — Peak memory of a call
#
# Module 01 computed the bytes of one tensor; Module 03 added up the outputs of a
# forward pass. What a call really needs is its **peak**: the most memory alive at any
# moment during the call, temporaries included. `tracemalloc` (standard library)
# records every allocation Python makes — NumPy reports the buffers of its arrays to
# it as well — and remembers the highest total:
#
#     tracemalloc.start()                     # begin tracing (costs time while on)
#     current, peak = tracemalloc.get_traced_memory()
#     tracemalloc.reset_peak()                # peak := current
#     tracemalloc.stop()                      # end tracing, forget everything
#
# Report the peak *above what was already traced before the call*, so memory that
# existed before the call does not count. If someone else is already tracing (a test,
# an outer measurement), do not stop their tracing: stop only what you started, and
# do it in a `finally` block so an exception in fn cannot leave tracing on.
#
# A surprise worth measuring: `Tensor(np.zeros((1000, 1000)))` peaks at 12,000,000
# bytes although the tensor holds 4,000,000. NumPy first creates float64 zeros
# (8,000,000 bytes), and the float32 copy exists next to them for a moment.


# %%
@dataclass(frozen=True)
class MemoryUse:
    """What measure_memory saw: the peak bytes above the memory traced before the call."""

    peak_bytes: int
    result: object = None  # what fn returned


def measure_memory(fn: Callable, *args) -> MemoryUse:
    """Call `fn(*args)` once under tracemalloc; return its peak allocation and its result.

    >>> measure_memory(np.ones, 1_000_000).peak_bytes >= 8_000_000   # float64 ones
    True

    peak_bytes counts every byte Python and NumPy allocated during the call and held at
    the worst moment, minus what was traced before the call (never negative). The result
    is still alive when the peak is read, so it is included. Tracing that was on before
    the call stays on; tracing started here is stopped. Cost: one call of fn, slowed down
    by tracing (often 2–5× for code that creates many small Python objects).
    """
    was_tracing = tracemalloc.is_tracing()
    ### BEGIN SOLUTION 14.2
    if not was_tracing:
        tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = fn(*args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return MemoryUse(max(0, peak - baseline), result)
    ### END SOLUTION


# %% [markdown]
# ## 14.3 — FLOPs by formula
#
# A FLOP is one floating-point addition or multiplication. Almost all the arithmetic
# of our models is in dot products: an output of a dense layer is a dot product of
# length `in_features`, one multiply and one add per term — **2 FLOPs per
# multiply-add**. We count only that work. Bias additions, activations, norms and
# softmax cost a few FLOPs per *output* entry instead of per multiply-add, usually
# well under 1 % of the total, and we leave them out (say so when you quote a figure).
#
# - **Linear** (in → out) on a batch of B: B·out outputs, each a dot product of
#   length in: `2·B·in·out`.
# - **Conv2d** (C_in → C_out, kernel KH×KW) producing OH×OW positions: each of the
#   B·C_out·OH·OW outputs is a dot product of length C_in·KH·KW (Module 09):
#   `2·B·C_out·OH·OW·C_in·KH·KW`.
# - **Multi-head attention** on B sequences of N positions with D features (Module 12):
#   four D×D projections (q, k, v and the output): `4 · 2·B·N·D²`; the scores Q·Kᵀ,
#   per head (N×d) @ (d×N) with d = D/H, summed over the H heads: `2·B·N²·D`; the
#   weighted sum of values, the same again: `2·B·N²·D`. In all `8·B·N·D² + 4·B·N²·D` —
#   the number of heads cancels out.


# %%
def _pair(size) -> tuple[int, int]:
    return (size, size) if isinstance(size, (int, np.integer)) else tuple(size)


def linear_flops(batch: int, in_features: int, out_features: int) -> int:
    """FLOPs of x @ W for x (batch, in_features), W (in_features, out_features):
    2·batch·in_features·out_features (bias additions not counted)."""
    ### BEGIN SOLUTION 14.3
    return 2 * batch * in_features * out_features
    ### END SOLUTION


def conv2d_flops(
    batch: int, in_channels: int, out_channels: int, kernel_size, out_height: int, out_width: int
) -> int:
    """FLOPs of a convolution producing (batch, out_channels, out_height, out_width) with a
    kernel of kernel_size (an int or (KH, KW)): 2·B·C_out·OH·OW·C_in·KH·KW."""
    kernel_h, kernel_w = _pair(kernel_size)
    ### BEGIN SOLUTION 14.3
    return 2 * batch * out_channels * out_height * out_width * in_channels * kernel_h * kernel_w
    ### END SOLUTION


def attention_flops(batch: int, seq_len: int, dim: int) -> int:
    """FLOPs of multi-head self-attention on (batch, seq_len, dim): the four projections
    8·B·N·D² plus scores and weighted sum 4·B·N²·D (independent of the number of heads)."""
    ### BEGIN SOLUTION 14.3
    projections = 4 * linear_flops(batch * seq_len, dim, dim)
    scores_and_sum = 4 * batch * seq_len * seq_len * dim
    return projections + scores_and_sum
    ### END SOLUTION


# %% [markdown]
# ## 14.4 — Counting the FLOPs that really run
#
# Formulas are only as good as your reading of the code. A **FLOP count** can also be
# measured: every dot product in our framework goes through one method,
# `Tensor.matmul` (`@` calls it; Linear, attention and the im2col convolution use it).
# Replace that method, for the duration of one call, by a wrapper that calls the
# original and adds the call's FLOPs to a running total — the trick Module 02 used to
# count tensors. For `a @ b` with result r, every entry of r is a dot product of
# length `a.shape[-1]`:
#
#     flops of one matmul = 2 · a.shape[-1] · r.size
#
# Keep the method that is installed when you start (after `enable_autograd()` that is
# Module 05's version) and put exactly that one back in a `finally` block.
# Operations that never call `Tensor.matmul` — Module 09's seven-loop convolution,
# elementwise operations — are not counted.


# %%
@dataclass(frozen=True)
class FlopCount:
    """FLOPs of all Tensor.matmul calls during one call of a function."""

    flops: int
    matmuls: int  # how many Tensor.matmul calls
    result: object = None  # what the function returned


def count_flops(fn: Callable, *args) -> FlopCount:
    """Run `fn(*args)` once and count 2·a.shape[-1]·result.size FLOPs per Tensor.matmul.

    >>> count_flops(Linear(784, 128, rng=0), Tensor(np.zeros((64, 784)))).flops
    12845056

    Tensor.matmul is replaced only during the call and restored afterwards, even if fn
    raises. Cost: the call itself plus a few Python operations per matmul.
    """
    original = Tensor.matmul
    ### BEGIN SOLUTION 14.4
    totals = {"flops": 0, "matmuls": 0}

    def counting_matmul(self, other):
        out = original(self, other)
        totals["flops"] += 2 * self.shape[-1] * out.size
        totals["matmuls"] += 1
        return out

    Tensor.matmul = counting_matmul
    try:
        result = fn(*args)
    finally:
        Tensor.matmul = original
    return FlopCount(totals["flops"], totals["matmuls"], result)
    ### END SOLUTION


# %% [markdown]
# ## 14.5 — A per-layer profile
#
# Now combine the three instruments for every layer of a model. `layers_of(model)`
# (given) lists the layers in the order data flows through them: `named_layers()` of
# a GPT, the items of a Sequential, or the model itself. `run_layer(layer, x)` (given)
# calls one layer, handing a TransformerBlock the causal mask it needs.
#
# For each layer, starting from the model's input x:
#
#     flops   = count_flops(run_layer, layer, x)           its .result is the output
#     timing  = time_function(run_layer, layer, x, warmup=..., repeats=..., clock=...)
#     memory  = measure_memory(run_layer, layer, x)
#     row     = LayerProfile(name, flops, median seconds, peak bytes, output bytes)
#     x       = the output, the next layer's input
#
# Run everything under `no_grad()`: this profiles inference, and a recorded graph
# would keep every output alive and distort the memory figures.


# %%
@dataclass(frozen=True)
class LayerProfile:
    """One layer's costs for one call on the profiled input."""

    name: str
    flops: int  # counted matmul FLOPs (14.4)
    seconds: float  # median wall-clock time of one call (14.1)
    peak_bytes: int  # peak memory of one call, temporaries included (14.2)
    output_bytes: int  # memory_footprint() of the output


def layers_of(model) -> list[tuple[str, object]]:
    """(name, layer) pairs in data-flow order: model.named_layers() if the model has it,
    else the items of model.layers (a Sequential), else [(class name, model)]."""
    if hasattr(model, "named_layers"):
        return list(model.named_layers())
    if hasattr(model, "layers"):
        return [(f"{i}:{type(layer).__name__}", layer) for i, layer in enumerate(model.layers)]
    return [(type(model).__name__, model)]


def run_layer(layer, x):
    """Call one layer on x; a TransformerBlock also gets the causal mask for x's length."""
    if isinstance(layer, TransformerBlock):
        return layer(x, causal_mask(x.shape[1]))
    return layer(x)


def profile_layers(
    model,
    x,
    *,
    warmup: int = 1,
    repeats: int = 3,
    clock: Callable[[], float] = time.perf_counter,
) -> list[LayerProfile]:
    """Profile every layer of `model` on the input `x` (a Tensor, or ids for a GPT).

    Returns one LayerProfile per entry of layers_of(model), in order. Each layer runs on
    the previous layer's output, under no_grad(). Cost per layer: 1 (count) +
    warmup + repeats (time) + 1 (memory) calls.
    """
    rows = []
    ### BEGIN SOLUTION 14.5
    with no_grad():
        for name, layer in layers_of(model):
            counted = count_flops(run_layer, layer, x)
            timing = time_function(run_layer, layer, x, warmup=warmup, repeats=repeats, clock=clock)
            memory = measure_memory(run_layer, layer, x)
            x = counted.result
            rows.append(
                LayerProfile(
                    name, counted.flops, timing.median, memory.peak_bytes, x.memory_footprint()
                )
            )
    ### END SOLUTION
    return rows


def format_profile(rows: list[LayerProfile]) -> str:
    """A text table of a profile, with each layer's share of the total time."""
    total = sum(row.seconds for row in rows) or 1.0
    lines = [f"{'layer':>18} {'MFLOPs':>9} {'ms':>8} {'time':>6} {'peak KB':>9} {'output KB':>10}"]
    for row in rows:
        lines.append(
            f"{row.name:>18} {row.flops / 1e6:>9.2f} {row.seconds * 1e3:>8.3f} "
            f"{row.seconds / total:>6.1%} {row.peak_bytes / 1e3:>9.1f} "
            f"{row.output_bytes / 1e3:>10.1f}"
        )
    return "\n".join(lines)


# %% [markdown]
# ## 14.6 — Amdahl's law
#
# A program spends a fraction p of its time in some part, and you make that part s
# times faster. The rest, 1 − p, is untouched. The new time, as a fraction of the
# old, is (1 − p) + p / s, so the overall **speedup** is
#
#     speedup = 1 / ((1 − p) + p / s)
#
# p = 0.7, s = 2: 1 / (0.3 + 0.35) = 1.54×. p = 0.7, s = ∞: 1 / 0.3 = 3.33× — the
# limit, however good the optimization. p = 1, s = ∞ would divide by 0: return
# `math.inf`. Check the inputs first: p is a fraction of time, between 0 and 1, and
# s must be positive (s < 1 means that part got slower: the formula still holds).


# %%
def amdahl_speedup(fraction: float, factor: float) -> float:
    """Overall speedup when `fraction` of the time becomes `factor` times faster.

    >>> round(amdahl_speedup(0.7, 2), 2)
    1.54

    fraction in [0, 1]; factor > 0 (math.inf allowed: that part takes no time at all).
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(
            f"fraction is the share of the time spent in the part you speed up, between 0 "
            f"and 1, got {fraction!r}. A profile gives it: that part's seconds / total."
        )
    if not factor > 0:
        raise ValueError(f"factor must be > 0 (2 means twice as fast), got {factor!r}")
    ### BEGIN SOLUTION 14.6
    remaining = (1.0 - fraction) + fraction / factor
    return math.inf if remaining == 0 else 1.0 / remaining
    ### END SOLUTION


# %% [markdown]
# ## Try it
#
# Run this file (`python modules/14_profiling/profiling.py`): it profiles an MLP and a
# small GPT layer by layer, and asks Amdahl's law what speeding up the slowest layer
# would buy.

# %%
if __name__ == "__main__":
    from tinytorch.nn import GPT, Linear, ReLU, Sequential

    mlp = Sequential(
        Linear(784, 512, rng=0), ReLU(), Linear(512, 512, rng=1), ReLU(), Linear(512, 10, rng=2)
    )
    rows = profile_layers(mlp, Tensor(np.random.default_rng(0).normal(size=(256, 784))))
    print("MLP 784-512-512-10, batch 256\n" + format_profile(rows))
    gpt = GPT(vocab_size=512, dim=128, num_heads=4, num_layers=2, max_len=64, rng=0)
    ids = np.random.default_rng(1).integers(0, 512, size=(8, 64))
    rows = profile_layers(gpt, ids)
    print("\nGPT (D 128, 2 blocks, vocab 512), 8 sequences of 64 tokens\n" + format_profile(rows))
    total = sum(row.seconds for row in rows)
    slowest = max(rows, key=lambda row: row.seconds)
    share = slowest.seconds / total
    print(
        f"\n{slowest.name} takes {share:.0%} of the time: making it 2x faster speeds the "
        f"model up {amdahl_speedup(share, 2):.2f}x, infinitely fast "
        f"{amdahl_speedup(share, math.inf):.2f}x"
    )
    counted = count_flops(gpt, ids).flops
    per_block = attention_flops(8, 64, 128) + 2 * linear_flops(8 * 64, 128, 512)
    formula = 2 * per_block + linear_flops(8 * 64, 128, 512)
    print(f"GPT matmul FLOPs: counted {counted:,}, by formula {formula:,}")
