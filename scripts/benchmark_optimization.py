"""What do the optimization modules buy? Size, accuracy and speed figures, in one run.

    python scripts/benchmark_optimization.py            # every section
    python scripts/benchmark_optimization.py --quick    # fewer epochs and repeats, a smoke run

Sections (each the reference solution of its module, run on the same machine):
    quantization   Module 15: a 64-128-128-10 MLP trained on TinyDigits (1,438 train /
                   359 test images), float32 against int8 — weight bytes, all stored bytes,
                   test accuracy, forward time on the test set
    pruning        Module 16: test accuracy of pruned copies of the same MLP at 0/50/80/90/95 %
                   sparsity (per layer and global magnitude pruning, no retraining), structured
                   pruning at 50 %, and dense against CSR bytes at 90 %
    kv cache       Module 17: greedy generation with a GPT (vocab 256, 4 heads, 4 blocks,
                   prompt 8) of 25 … 400 tokens at D 128, and of 100 tokens at D 128, 256,
                   512, without and with the KV cache — median times, speedup, identical
                   tokens, K/V projections and FLOPs per token both ways, cache bytes
    acceleration   Module 18 against Module 09's seven loops: the same convolution
                   (2×3×16×16 images, 8 kernels 3×3, padding 1) by explicit loops, by
                   Module 09's im2col and by Module 18's sliding-window view; and a blocked
                   matmul against np.matmul (256×256) — times, speedups, largest difference

Method: times are medians of `repeats` calls (default 5) after one warm-up call, measured
with Module 14's time_function. Every figure is measured in this run; nothing is asserted
(a benchmark prints, tests check correctness). Multi-threaded BLAS on a shared two-core
machine thrashes, so this script pins NumPy's libraries to one thread unless you set the
variables yourself. With one thread, the process's CPU time (time.process_time) is what the
work costs, and unlike wall-clock time it does not grow when other programs share the
cores; it is the default clock here (--wall switches to time.perf_counter).
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before NumPy is imported: steadier figures

import argparse
import copy
import platform
import sys
import time
from collections.abc import Callable

import numpy as np

from datasets.tinydigits import load_tinydigits
from tinytorch.acceleration import blocked_matmul, conv2d_vectorized, measure_speedup
from tinytorch.compression import (
    global_magnitude_prune,
    prune_each_layer,
    pruning_sweep,
    sparsity_report,
    structured_prune,
)
from tinytorch.core import Tensor, enable_autograd, no_grad
from tinytorch.generation import KVCache, compare_generation, generation_work
from tinytorch.nn import (
    GPT,
    CrossEntropyLoss,
    Linear,
    ReLU,
    Sequential,
    conv2d_explicit,
    conv2d_im2col,
)
from tinytorch.optim import Adam
from tinytorch.profiling import time_function
from tinytorch.quantization import quantization_report, quantize_model
from tinytorch.training import accuracy, fit

HIDDEN = 128
SPARSITIES = (0.0, 0.5, 0.8, 0.9, 0.95)
GENERATED = (25, 50, 100, 200, 400)  # tokens generated, at D = WIDTHS[0]
WIDTHS = (128, 256, 512)  # model widths D, at KV_TOKENS tokens
KV_TOKENS = 100
KV_VOCAB, KV_HEADS, KV_LAYERS = 256, 4, 4
PROMPT_LENGTH = 8


def trained_mlp(data, epochs: int) -> Sequential:
    """A 64-128-128-10 MLP trained on TinyDigits with Adam (seeded: the same every run)."""
    x_train, y_train, _, _ = data
    model = Sequential(
        Linear(64, HIDDEN, rng=0),
        ReLU(),
        Linear(HIDDEN, HIDDEN, rng=1),
        ReLU(),
        Linear(HIDDEN, 10, rng=2),
    )
    optimizer = Adam(model.parameters(), lr=0.005)
    fit(model, CrossEntropyLoss(), optimizer, x_train, y_train, epochs=epochs, batch_size=32)
    return model


def quantization_section(model, data, repeats: int, clock: Callable[[], float]) -> None:
    x_train, _, x_test, y_test = data
    small = quantize_model(model, [x_train[:512]])
    report = quantization_report(model, small, x_test, y_test)
    batch = Tensor(x_test)
    with no_grad():
        float_time = time_function(model, batch, repeats=repeats, clock=clock).median
        int8_time = time_function(small, batch, repeats=repeats, clock=clock).median
    print("quantization (Module 15): float32 against int8, TinyDigits test set")
    print(f"  {'':>14} {'weight bytes':>13} {'all bytes':>10} {'accuracy':>9} {'forward ms':>11}")
    rows = (
        ("float32", report.float_weight_bytes, report.float_bytes, report.float_accuracy),
        ("int8", report.quantized_weight_bytes, report.quantized_bytes, report.quantized_accuracy),
    )
    for (name, weights, total, acc), seconds in zip(rows, (float_time, int8_time), strict=True):
        print(f"  {name:>14} {weights:>13,} {total:>10,} {acc:>9.3f} {seconds * 1e3:>11.3f}")
    print(
        f"  weights {report.weight_ratio:.2f}x smaller, everything {report.size_ratio:.2f}x; "
        f"accuracy change {report.accuracy_change * 100:+.1f} points; int8 forward "
        f"{int8_time / float_time:.1f}x the float time (NumPy's integer matmul has no fast kernel)"
    )


def pruning_section(model, data) -> None:
    _, _, x_test, y_test = data
    print("pruning (Module 16): test accuracy of pruned copies, no retraining")
    per_layer = pruning_sweep(model, x_test, y_test, SPARSITIES, prune_each_layer)
    overall = pruning_sweep(model, x_test, y_test, SPARSITIES, global_magnitude_prune)
    print(f"  {'sparsity':>9} {'per layer':>10} {'global':>8}")
    for mine, theirs in zip(per_layer, overall, strict=True):
        print(f"  {mine.sparsity:>9.0%} {mine.accuracy:>10.3f} {theirs.accuracy:>8.3f}")
    smaller = structured_prune(model, 0.5)
    before = sum(p.size for p in model.parameters())
    after = sum(p.size for p in smaller.parameters())
    print(
        f"  structured 50 %: {before:,} -> {after:,} parameters ({before / after:.2f}x fewer), "
        f"accuracy {accuracy(smaller, x_test, y_test):.3f}"
    )
    pruned = copy.deepcopy(model)
    global_magnitude_prune(pruned, 0.9)
    rows = sparsity_report(pruned)
    dense, csr = sum(r.dense_bytes for r in rows), sum(r.csr_bytes for r in rows)
    print(f"  at 90 % (global): dense {dense:,} B, CSR {csr:,} B ({csr / dense:.0%} of dense)")


def kv_cache_rows(
    lengths: tuple[int, ...], widths: tuple[int, ...], repeats: int, clock: Callable[[], float]
) -> list[dict]:
    """Greedy generation without and with the KV cache: one row per (D, tokens) pair — the
    length sweep at D = widths[0], the width sweep at KV_TOKENS (capped at max(lengths)).
    Each row: times, speedup, identical tokens, K/V projections and FLOPs per token
    both ways (Module 17's generation_work) and the cache's bytes (KVCache.nbytes)."""
    tokens_at_width = min(KV_TOKENS, max(lengths))
    pairs = [(widths[0], count) for count in lengths]
    pairs += [(dim, tokens_at_width) for dim in widths[1:]]
    prompt = np.random.default_rng(1).integers(0, KV_VOCAB, size=(1, PROMPT_LENGTH))
    rows = []
    for dim, count in pairs:
        model = GPT(KV_VOCAB, dim, KV_HEADS, KV_LAYERS, max_len=PROMPT_LENGTH + count, rng=0)
        timing = compare_generation(model, prompt, count, warmup=1, repeats=repeats, clock=clock)
        work = generation_work(KV_LAYERS, dim, KV_VOCAB, PROMPT_LENGTH, count)
        cache = KVCache.for_model(model, PROMPT_LENGTH + count - 1)
        rows.append(
            {
                "dim": dim,
                "tokens": count,
                "uncached_s": timing.uncached_seconds,
                "cached_s": timing.cached_seconds,
                "speedup": timing.speedup,
                "same_tokens": timing.tokens_match,
                "kv_uncached": work.kv_projections_uncached,
                "kv_cached": work.kv_projections_cached,
                "mflops_per_token_uncached": work.flops_per_token(False) / 1e6,
                "mflops_per_token_cached": work.flops_per_token(True) / 1e6,
                "flops_ratio": work.flops_ratio,
                "cache_bytes": cache.nbytes,
            }
        )
    return rows


def kv_cache_section(
    repeats: int, clock: Callable[[], float], lengths=GENERATED, widths=WIDTHS
) -> list[dict]:
    print(
        f"kv cache (Module 17): greedy generation, GPT vocab {KV_VOCAB}, {KV_HEADS} heads, "
        f"{KV_LAYERS} blocks, prompt {PROMPT_LENGTH}; counts per block (K/V) and matmul "
        f"FLOPs from generation_work"
    )
    print(
        f"  {'D':>4} {'tokens':>6} {'uncached s':>10} {'cached s':>9} {'speedup':>8} "
        f"{'same':>5} {'K/V projections':>17} {'MFLOPs/token':>15} {'FLOPs ratio':>11} "
        f"{'cache B':>10}"
    )
    rows = kv_cache_rows(lengths, widths, repeats, clock)
    for row in rows:
        print(
            f"  {row['dim']:>4} {row['tokens']:>6} {row['uncached_s']:>10.3f} "
            f"{row['cached_s']:>9.3f} {row['speedup']:>7.1f}x {str(row['same_tokens']):>5} "
            f"{row['kv_uncached']:>8,} vs {row['kv_cached']:<5,} "
            f"{row['mflops_per_token_uncached']:>7.1f} vs {row['mflops_per_token_cached']:<5.1f}"
            f" {row['flops_ratio']:>10.1f}x {row['cache_bytes']:>10,}"
        )
    return rows


def acceleration_section(repeats: int, clock: Callable[[], float]) -> None:
    rng = np.random.default_rng(0)
    images = Tensor(rng.normal(size=(2, 3, 16, 16)))
    kernels, bias = Tensor(rng.normal(size=(8, 3, 3, 3))), Tensor(rng.normal(size=8))
    print("acceleration (Module 18) against Module 09's seven loops: conv 2x3x16x16, 8 kernels 3x3")
    with no_grad():
        for name, candidate in (
            ("im2col (Module 09)", conv2d_im2col),
            ("sliding window (Module 18)", conv2d_vectorized),
        ):
            report = measure_speedup(
                lambda x, w, b, f=conv2d_explicit: f(x, w, b, padding=1),
                lambda x, w, b, f=candidate: f(x, w, b, padding=1),
                images,
                kernels,
                bias,
                repeats=max(1, repeats // 2),
                clock=clock,
            )
            print(f"  loops -> {name}: {report}")
    a, b = rng.normal(size=(256, 256)), rng.normal(size=(256, 256))
    report = measure_speedup(blocked_matmul, np.matmul, a, b, repeats=repeats, clock=clock)
    print(f"  blocked matmul (block 64) -> np.matmul, 256x256: {report}")


# One entry per section: (name, function of the shared context).
SECTIONS: list[tuple[str, Callable[[dict], None]]] = [
    (
        "quantization",
        lambda ctx: quantization_section(ctx["model"], ctx["data"], ctx["repeats"], ctx["clock"]),
    ),
    ("pruning", lambda ctx: pruning_section(ctx["model"], ctx["data"])),
    (
        "kv cache",
        lambda ctx: kv_cache_section(
            ctx["repeats"], ctx["clock"], ctx["kv_lengths"], ctx["kv_widths"]
        ),
    ),
    ("acceleration", lambda ctx: acceleration_section(ctx["repeats"], ctx["clock"])),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and repeats")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per figure")
    parser.add_argument("--wall", action="store_true", help="wall-clock time, not CPU time")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 5)
    epochs = 5 if args.quick else 20
    clock = time.perf_counter if args.wall else time.process_time
    enable_autograd()
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cores, "
        f"BLAS threads {os.environ.get('OPENBLAS_NUM_THREADS')}, repeats {repeats}, "
        f"clock {'wall (perf_counter)' if args.wall else 'CPU (process_time)'}\n"
    )
    start = time.perf_counter()
    data = load_tinydigits()
    model = trained_mlp(data, epochs)
    print(f"trained the 64-{HIDDEN}-{HIDDEN}-10 MLP on TinyDigits for {epochs} epochs\n")
    context = {
        "model": model,
        "data": data,
        "repeats": repeats,
        "clock": clock,
        "kv_lengths": GENERATED[:3] if args.quick else GENERATED,
        "kv_widths": WIDTHS[:2] if args.quick else WIDTHS,
    }
    for _, section in SECTIONS:
        section(context)
        print()
    print(f"total {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
