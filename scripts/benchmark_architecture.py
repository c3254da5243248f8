"""How fast is the architecture tier? Convolution three ways, attention as N doubles.

    python scripts/benchmark_architecture.py                     # both parts, PyTorch if present
    python scripts/benchmark_architecture.py --quick             # fewer repeats, smaller N

1. conv2d on the TinyTorch paper's CIFAR batch: 128 images of 3×32×32, 32 filters of 5×5,
   stride 1, no padding (output 128×32×28×28: 2·128·32·28·28·3·25 ≈ 482 MFLOPs), forward:
   - explicit: Module 09's seven Python loops. On the whole batch they would run for minutes,
     so they are timed on the first `--explicit-images` images (default 1) and the time is
     multiplied by 128 / that number: the loops do the same work for every image, so the
     cost is linear in the batch. The output says so.
   - im2col: Module 09's im2col + one batched matmul, on the whole batch.
   - PyTorch CPU: torch.nn.functional.conv2d on the same arrays (optional: without torch the
     column is skipped with a message; torch==2.13.0 is in the staff dev extra).
   The paper measured 97 s per batch for explicit loops against 10 ms for PyTorch; target
   (issue 14): im2col within 3× of PyTorch CPU, both on one thread (pin them as below).
   The three outputs are compared (largest difference).
2. attention as the sequence length doubles (64 … 1,024): Module 12's MultiHeadAttention
   (dim 64, 4 heads, batch 1, causal mask) — time of the forward pass and of forward +
   backward, and the memory: the score matrix by formula (attention_score_bytes, 4 heads ×
   N² × 4 B) and the peak of NumPy allocations during forward + backward, traced with
   tracemalloc. Both should grow about 4× per doubling once N² terms dominate.

Times are medians over `--repeats` rounds of wall-clock time, each round at least 0.05 s.
On a busy machine multi-threaded BLAS thrashes; pin it for steadier figures:
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1.
This is a benchmark, not a test: it prints figures and ratios and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

BATCH, CHANNELS, SIDE, FILTERS, KERNEL = 128, 3, 32, 32, 5
PAPER_EXPLICIT_S, PAPER_TORCH_S = 97.0, 0.010
IM2COL_TARGET = 3.0  # im2col at most this many times PyTorch CPU
ATTENTION_DIM, ATTENTION_HEADS = 64, 4
LENGTHS = (64, 128, 256, 512, 1024)


def median_time(fn: Callable[[], object], repeats: int, min_time: float = 0.05) -> float:
    """Median wall-clock seconds per call of `fn` over `repeats` rounds. One warm-up call
    first; then each round makes enough calls to last at least `min_time` seconds (found by
    doubling), so that sub-millisecond calls are not lost in timer resolution and noise."""
    fn()
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        if time.perf_counter() - start >= min_time or calls >= 1 << 16:
            break
        calls *= 2
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        rounds.append((time.perf_counter() - start) / calls)
    return statistics.median(rounds)


def format_time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def format_bytes(count: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.2f} {unit}"
    return f"{count:.0f} B"


def import_torch():
    """PyTorch if it is importable here, else None (and a message saying how to get it)."""
    try:
        import torch
    except ImportError:
        print(
            f"PyTorch is not installed in this Python ({sys.executable}): skipping the PyTorch "
            f"column and the im2col-vs-PyTorch target. It is in the staff `dev` extra: "
            f"pip install torch==2.13.0 (the CPU wheel; plain `torch` pulls a CUDA build).\n"
        )
        return None
    return torch


def thread_settings(torch) -> str:
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    env = ", ".join(f"{name}={os.environ[name]}" for name in names if name in os.environ)
    torch_part = f"torch uses {torch.get_num_threads()} threads" if torch is not None else ""
    return "; ".join(part for part in (env or "no thread limits set", torch_part) if part)


# ---- 1. convolution ----------------------------------------------------------------------


def conv_benchmark(torch, repeats: int, explicit_images: int) -> dict[str, float | None]:
    """Seconds per forward pass of the whole CIFAR batch for each implementation (explicit:
    extrapolated from `explicit_images` images); prints the table and the target line."""
    from tinytorch.core import Tensor
    from tinytorch.nn import conv2d_explicit, conv2d_im2col

    rng = np.random.default_rng(0)
    images = rng.standard_normal((BATCH, CHANNELS, SIDE, SIDE), dtype=np.float32)
    weight = rng.standard_normal((FILTERS, CHANNELS, KERNEL, KERNEL), dtype=np.float32) * 0.1
    bias = rng.standard_normal(FILTERS, dtype=np.float32)
    x, w, b = Tensor(images), Tensor(weight), Tensor(bias)
    out_side = SIDE - KERNEL + 1
    flops = 2 * BATCH * FILTERS * out_side * out_side * CHANNELS * KERNEL * KERNEL
    print(
        f"1. conv2d forward, batch {BATCH}×{CHANNELS}×{SIDE}×{SIDE}, {FILTERS} filters "
        f"{KERNEL}×{KERNEL}, stride 1, no padding → {BATCH}×{FILTERS}×{out_side}×{out_side} "
        f"({flops / 1e6:.0f} MFLOPs)",
        flush=True,
    )

    im2col_out = conv2d_im2col(x, w, b).data
    im2col_s = median_time(lambda: conv2d_im2col(x, w, b), repeats)

    part = Tensor(images[:explicit_images])
    start = time.perf_counter()
    explicit_part = conv2d_explicit(part, w, b).data
    explicit_slice_s = time.perf_counter() - start
    explicit_s = explicit_slice_s * BATCH / explicit_images
    differences = {"explicit vs im2col": np.abs(explicit_part - im2col_out[:explicit_images])}

    torch_s = None
    if torch is not None:
        tx, tw, tb = (torch.from_numpy(a) for a in (images, weight, bias))
        with torch.no_grad():
            torch_out = torch.nn.functional.conv2d(tx, tw, tb).numpy()
            torch_s = median_time(lambda: torch.nn.functional.conv2d(tx, tw, tb), repeats)
        differences["PyTorch vs im2col"] = np.abs(torch_out - im2col_out)

    rows = [
        (
            "explicit loops (Module 09.1)",
            explicit_s,
            f"measured {format_time(explicit_slice_s)} on {explicit_images} image(s), "
            f"×{BATCH / explicit_images:g} (linear in the batch)",
        ),
        ("im2col + matmul (Module 09.5)", im2col_s, f"median of {repeats} rounds, whole batch"),
        (
            "PyTorch CPU conv2d",
            torch_s,
            "skipped: torch not installed" if torch is None else f"median of {repeats} rounds",
        ),
    ]
    print(f"   {'implementation':32s} {'per batch':>10s} {'GFLOP/s':>8s} {'× PyTorch':>10s}  how")
    for label, seconds, how in rows:
        rate = f"{flops / seconds / 1e9:.2f}" if seconds else "—"
        ratio = f"{seconds / torch_s:,.1f}×" if seconds and torch_s else "—"
        print(f"   {label:32s} {format_time(seconds):>10s} {rate:>8s} {ratio:>10s}  {how}")
    print(
        f"   paper: explicit loops {PAPER_EXPLICIT_S:g} s per batch, PyTorch "
        f"{PAPER_TORCH_S * 1e3:g} ms ({PAPER_EXPLICIT_S / PAPER_TORCH_S:,.0f}×); here explicit "
        f"/ im2col = {explicit_s / im2col_s:,.0f}×"
    )
    for label, diff in differences.items():
        print(f"   largest difference, {label}: {diff.max():.2e}")
    if torch_s is None:
        print(f"   target: im2col <= {IM2COL_TARGET:g}× PyTorch CPU: NOT MEASURED (no torch)")
    else:
        ratio = im2col_s / torch_s
        verdict = "met" if ratio <= IM2COL_TARGET else "MISSED"
        print(f"   target: im2col <= {IM2COL_TARGET:g}× PyTorch CPU: {ratio:.1f}×, {verdict}")
    return {"explicit": explicit_s, "im2col": im2col_s, "torch": torch_s}


# ---- 2. attention --------------------------------------------------------------------------


def attention_benchmark(repeats: int, lengths: tuple[int, ...]) -> list[dict]:
    """Time and memory of MultiHeadAttention as the sequence length doubles; prints a table."""
    from tinytorch.core import Tensor, enable_autograd, no_grad
    from tinytorch.nn import MultiHeadAttention, attention_score_bytes, causal_mask

    enable_autograd()
    layer = MultiHeadAttention(ATTENTION_DIM, ATTENTION_HEADS, rng=0)
    rng = np.random.default_rng(0)
    print(
        f"\n2. MultiHeadAttention(dim {ATTENTION_DIM}, {ATTENTION_HEADS} heads), batch 1, causal "
        f"mask; ratio columns: this row / the row above",
        flush=True,
    )
    header = (
        f"   {'N':>5s} {'forward':>10s} {'ratio':>6s} {'fwd+bwd':>10s} {'ratio':>6s} "
        f"{'scores (formula)':>17s} {'ratio':>6s} {'peak traced':>12s} {'ratio':>6s}"
    )
    print(header)
    rows: list[dict] = []
    for n in lengths:
        x = Tensor(rng.standard_normal((1, n, ATTENTION_DIM), dtype=np.float32))
        mask = causal_mask(n)

        def forward(x=x, mask=mask):
            with no_grad():
                return layer(x, mask)

        def forward_backward(x=x, mask=mask):
            x.requires_grad, x.grad = True, None
            layer(x, mask).sum().backward()

        row = {
            "n": n,
            "forward": median_time(forward, repeats),
            "train": median_time(forward_backward, repeats),
            "scores": attention_score_bytes(n, num_heads=ATTENTION_HEADS),
        }
        tracemalloc.start()  # NumPy reports its array buffers to tracemalloc
        forward_backward()
        row["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        previous = rows[-1] if rows else None

        def ratio(key: str, row=row, previous=previous) -> str:
            return f"{row[key] / previous[key]:.1f}×" if previous else ""

        print(
            f"   {n:>5d} {format_time(row['forward']):>10s} {ratio('forward'):>6s} "
            f"{format_time(row['train']):>10s} {ratio('train'):>6s} "
            f"{format_bytes(row['scores']):>17s} {ratio('scores'):>6s} "
            f"{format_bytes(row['peak']):>12s} {ratio('peak'):>6s}",
            flush=True,
        )
        rows.append(row)
    print(
        "   the score matrix is N² per head: 4× per doubling; time and peak memory approach 4× "
        "as N² terms outgrow the N·D² projections"
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per measurement")
    parser.add_argument(
        "--explicit-images", type=int, default=1, help="images the explicit loops are timed on"
    )
    parser.add_argument("--quick", action="store_true", help="3 repeats, N up to 512")
    args = parser.parse_args(argv)
    if args.repeats < 1 or not 1 <= args.explicit_images <= BATCH:
        parser.error(f"--repeats must be >= 1 and --explicit-images between 1 and {BATCH}")
    lengths = LENGTHS
    if args.quick:
        args.repeats, lengths = 3, LENGTHS[:-1]
    torch = import_torch()
    versions = f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch else "")
    print(
        f"TinyTorch architecture benchmark — Python {platform.python_version()}, {versions}, "
        f"{os.cpu_count()} CPU cores ({thread_settings(torch)})"
    )
    if hasattr(os, "getloadavg"):
        load = os.getloadavg()[0]
        busy = load > 0.5 * (os.cpu_count() or 1)
        note = ": other processes compete for the cores, expect noisy figures" if busy else ""
        print(f"load average before the run: {load:.2f}{note}")
    print()
    conv_benchmark(torch, args.repeats, args.explicit_images)
    attention_benchmark(args.repeats, lengths)
    return 0


if __name__ == "__main__":
    sys.exit(main())
