"""Every benchmark in one run, written as one report a course can publish.

    .venv/bin/python scripts/benchmark_report.py --out out/bench            # everything
    .venv/bin/python scripts/benchmark_report.py --out out/bench --quick    # a smoke run

Writes `report.md` (Markdown tables), `results.json` (every figure) and, when matplotlib is
installed (the `dev` extra), one PNG per figure; without matplotlib the tables are still
written and the report says the plots were skipped. Sections, each measured in this run:

1. Table 4 of the TinyTorch paper: explicit Python loops, vectorized TinyTorch, NumPy and
   PyTorch CPU for a 1000×1000 matmul, the CIFAR-batch convolution (128×3×32×32, 32
   filters 5×5: 240,844,800 multiply-adds) and softmax over 10,000 entries. Loops on the
   full matmul and conv would run for minutes to hours: they are timed on a measured
   subset (rows of the product, images of the batch) and scaled by the work ratio, and
   the table says so. Conv: TinyTorch is Module 09's im2col, NumPy is Module 18's
   sliding-window view and one batched matmul.
2. Targets as ratios of times measured side by side: tinytorch matmul ≤ 1.2× NumPy,
   im2col conv ≤ 3× PyTorch CPU, MLP epoch ≤ 1× PyTorch CPU, grading ≤ 1.1× plain pytest.
3. KV cache (Module 17) by generated length and model width, with exact work counts.
4. Compression (Module 16): bytes and held-out TinyDigits accuracy, best 10× point.

Method (Module 19): each figure is `repeats` rounds, each round timing enough calls to
last `min_time`; the table gives min / median / max per call and a 95 % t-interval of
the mean (Module 19's summarize and t_interval). BLAS, OpenMP and PyTorch are pinned to
one thread (set before NumPy is imported) and the clock is this process's CPU time, so
that other programs on a shared machine do not inflate the figures (--wall for wall
time). Nothing here asserts a speed: verdicts are printed, never raised.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before NumPy is imported

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

TARGETS = {  # figure: at most this ratio
    "matmul: tinytorch / NumPy": 1.2,
    "conv im2col, Module 18 (strided gather + one batched GEMM) / PyTorch CPU": 3.0,
    "conv im2col, Module 09 (Tensor ops, differentiable) / PyTorch CPU": 3.0,
    "MLP epoch: tinytorch / PyTorch CPU": 1.0,
    "grading: tiny grade / plain pytest (CPU)": 1.1,
}


@dataclass(frozen=True)
class Sizes:
    """Problem sizes; the defaults are the paper's, tests pass tiny ones."""

    matmul: int = 1000
    softmax: int = 10_000
    conv: tuple[int, int, int, int, int] = (128, 3, 32, 32, 5)  # N, C, side, filters, K
    explicit_matmul_rows: int = 2  # rows of the product the loops compute, then scaled
    explicit_conv_images: int = 1
    kv_lengths: tuple[int, ...] = (25, 50, 100, 200, 400)
    kv_widths: tuple[int, ...] = (128, 256, 512)
    compression_epochs: int = 30
    grading_modules: tuple[int, ...] = (1, 16, 17)


QUICK = Sizes(kv_lengths=(25, 50, 100), kv_widths=(128, 256), compression_epochs=5)


@dataclass
class Figure:
    """Per-call seconds of one implementation: summary of the rounds, or a scaled subset."""

    median: float
    low: float
    high: float
    ci: tuple[float, float] | None = None
    note: str = ""
    samples: list[float] = field(default_factory=list)


def side_by_side(
    fns: dict[str, Callable[[], object]], repeats: int, min_time: float, clock
) -> dict[str, Figure]:
    """Per-call time of each function over `repeats` rounds, the functions taking turns
    round by round (so a burst of load on a shared machine hits all of them alike):
    median, min, max and 95 % t-interval of the mean (Module 19's summarize, t_interval).
    A round calls a function enough times to last `min_time` (at least once)."""
    from tinytorch.benchmarking import summarize, t_interval

    calls = {}
    for name, fn in fns.items():
        fn()  # warm-up
        start = clock()
        fn()
        calls[name] = max(1, math.ceil(min_time / max(clock() - start, 1e-9)))
    rounds: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = clock()
            for _ in range(calls[name]):
                fn()
            rounds[name].append((clock() - start) / calls[name])
    figures = {}
    for name, samples in rounds.items():
        summary = summarize(samples)
        ci = t_interval(samples) if len(samples) > 1 else None
        figures[name] = Figure(summary.median, summary.min, summary.max, ci, samples=samples)
    return figures


def extrapolated(fn: Callable[[], object], scale: float, what: str, clock) -> Figure:
    """One timed call of `fn` on a subset of the work, multiplied by `scale`."""
    start = clock()
    fn()
    seconds = (clock() - start) * scale
    return Figure(seconds, seconds, seconds, note=f"extrapolated: {what} ×{scale:,.0f}")


def loop_matmul(a: list[list[float]], b: list[list[float]], rows: int) -> list[list[float]]:
    """The first `rows` rows of a @ b (nested lists) with three explicit Python loops."""
    inner, cols = len(b), len(b[0])
    out = []
    for i in range(rows):
        row = []
        for j in range(cols):
            total = 0.0
            for k in range(inner):
                total += a[i][k] * b[k][j]
            row.append(total)
        out.append(row)
    return out


def loop_softmax(values: list[float]) -> list[float]:
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    total = sum(exps)
    return [e / total for e in exps]


def table4(sizes: Sizes, torch, repeats: int, min_time: float, clock) -> dict:
    """{computation: {"work", "explicit", "tinytorch", "numpy", "torch": Figure or None}}.
    Within a computation the implementations take turns (side_by_side)."""
    from tinytorch.acceleration import conv2d_vectorized
    from tinytorch.core import Tensor, no_grad
    from tinytorch.nn import Softmax, conv2d_explicit, conv2d_im2col

    rng = np.random.default_rng(0)
    n = sizes.matmul
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    batch, channels, side, filters, k = sizes.conv
    images = rng.standard_normal((batch, channels, side, side), dtype=np.float32)
    weight = rng.standard_normal((filters, channels, k, k), dtype=np.float32) * 0.1
    bias = rng.standard_normal(filters, dtype=np.float32)
    values = rng.standard_normal(sizes.softmax, dtype=np.float32)
    out_side = side - k + 1
    macs = batch * filters * out_side * out_side * channels * k * k
    ta, tb = Tensor(a), Tensor(b)
    x, w, bb = Tensor(images), Tensor(weight), Tensor(bias)
    tv, softmax, listed = Tensor(values), Softmax(axis=-1), values.tolist()
    cases = {
        f"matmul {n}×{n}": (
            f"{n**3:,} multiply-adds",
            {"tinytorch": lambda: ta @ tb, "numpy": lambda: a @ b},
        ),
        f"conv {batch}×{channels}×{side}×{side}, {filters} filters {k}×{k}": (
            f"{macs:,} multiply-adds",
            {
                "tinytorch": lambda: conv2d_im2col(x, w, bb),
                "numpy": lambda: conv2d_vectorized(x, w, bb),
            },
        ),
        f"softmax over {sizes.softmax:,}": (
            f"{sizes.softmax:,} entries",
            {
                "explicit": lambda: loop_softmax(listed),
                "tinytorch": lambda: softmax(tv),
                "numpy": lambda: _numpy_softmax(values),
            },
        ),
    }
    if torch is not None:
        pa, pb = torch.from_numpy(a), torch.from_numpy(b)
        px, pw, pbias = (torch.from_numpy(v) for v in (images, weight, bias))
        pv = torch.from_numpy(values)
        torch_fns = (
            lambda: pa @ pb,
            lambda: torch.nn.functional.conv2d(px, pw, pbias),
            lambda: torch.softmax(pv, dim=-1),
        )
        for (_, fns), fn in zip(cases.values(), torch_fns, strict=True):
            fns["torch"] = fn
    rows: dict[str, dict] = {}
    grad_off = torch.no_grad() if torch is not None else no_grad()
    with no_grad(), grad_off:
        for name, (work, fns) in cases.items():
            rows[name] = {"work": work, "explicit": None, "torch": None}
            rows[name] |= side_by_side(fns, repeats, min_time, clock)
        part = min(sizes.explicit_matmul_rows, n)
        la, lb = a.tolist(), b.tolist()
        matmul, conv = list(rows)[:2]
        rows[matmul]["explicit"] = extrapolated(
            lambda: loop_matmul(la, lb, part), n / part, f"{part} of {n} rows", clock
        )
        subset = Tensor(images[: sizes.explicit_conv_images])
        rows[conv]["explicit"] = extrapolated(
            lambda: conv2d_explicit(subset, w, bb),
            batch / sizes.explicit_conv_images,
            f"{sizes.explicit_conv_images} of {batch} images",
            clock,
        )
    return rows


def _numpy_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def mlp_epoch(torch, repeats: int, clock) -> dict:
    """One epoch of milestone 3's MLP on TinyDigits: tinytorch, NumPy, PyTorch CPU."""
    from datasets.tinydigits import load_tinydigits
    from scripts.benchmark_foundation import numpy_cases, tinytorch_cases, torch_cases

    x_train, y_train, _, _ = load_tinydigits()
    digits = (x_train, y_train)
    cases = {
        "tinytorch": tinytorch_cases(np.random.default_rng(1), digits)["mlp"],
        "numpy": numpy_cases(np.random.default_rng(1), digits)["mlp"],
    }
    if torch is not None:
        cases["torch"] = torch_cases(torch, np.random.default_rng(1), digits)["mlp"]
    figures: dict[str, Figure | None] = dict(side_by_side(cases, repeats, 0.0, clock))
    figures.setdefault("torch", None)
    return figures


def grading_overhead(modules: tuple[int, ...], repeats: int) -> dict:
    """Sum over `modules` of the median wall and child CPU seconds of plain pytest and of
    the grader's sandboxed run (scripts/benchmark_grading.py's measurements)."""
    import tempfile

    from grading.course_modules import load_module_meta
    from grading.repo import REPO_ROOT
    from scripts.benchmark_grading import graded, medians, plain_pytest

    totals = {"plain_wall": 0.0, "graded_wall": 0.0, "plain_cpu": 0.0, "graded_cpu": 0.0}
    metas = [
        load_module_meta(path.parent, check_files=False)
        for path in sorted((REPO_ROOT / "modules").glob("[0-9][0-9]_*/module.yaml"))
    ]
    chosen = [m for m in metas if m.number in modules and m.tests_path.is_file()]
    with tempfile.TemporaryDirectory(prefix="bench-report-") as scratch:
        for meta in chosen:
            plain = medians([plain_pytest(meta.tests_path) for _ in range(repeats)])
            work = Path(scratch) / meta.key
            sandboxed = medians(
                [graded(meta.tests_path, work, meta.timeout) for _ in range(repeats)]
            )
            totals["plain_wall"] += plain[0]
            totals["graded_wall"] += sandboxed[0]
            totals["plain_cpu"] += plain[1]
            totals["graded_cpu"] += sandboxed[1]
    totals["modules"] = [m.key for m in chosen]
    return totals


def ratios(table: dict, mlp: dict, grading: dict | None) -> dict[str, float | None]:
    """The target figures as ratios of medians measured in this run (None: not measured)."""
    names = list(table)

    def ratio(top: Figure | None, bottom: Figure | None) -> float | None:
        return None if top is None or bottom is None else top.median / bottom.median

    found = {
        "matmul: tinytorch / NumPy": ratio(table[names[0]]["tinytorch"], table[names[0]]["numpy"]),
        "conv im2col, Module 18 (strided gather + one batched GEMM) / PyTorch CPU": ratio(
            table[names[1]]["numpy"], table[names[1]]["torch"]
        ),
        "conv im2col, Module 09 (Tensor ops, differentiable) / PyTorch CPU": ratio(
            table[names[1]]["tinytorch"], table[names[1]]["torch"]
        ),
        "MLP epoch: tinytorch / PyTorch CPU": ratio(mlp["tinytorch"], mlp["torch"]),
        "grading: tiny grade / plain pytest (CPU)": None,
    }
    if grading and grading["plain_cpu"] > 0:
        found["grading: tiny grade / plain pytest (CPU)"] = (
            grading["graded_cpu"] / grading["plain_cpu"]
        )
    return found


# ---- rendering -------------------------------------------------------------------------------


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds >= 1.0:
        return f"{seconds:,.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def fmt_figure(figure: Figure | None) -> str:
    if figure is None:
        return "not measured (no PyTorch)"
    if figure.note:
        return f"{fmt_time(figure.median)} ({figure.note})"
    return f"{fmt_time(figure.median)} [{fmt_time(figure.low)} – {fmt_time(figure.high)}]"


def markdown(results: dict, plots: list[str], plot_note: str) -> str:
    """The whole report as Markdown (pure: no I/O)."""
    env = results["environment"]
    lines = [
        "# TinyTorch Classroom benchmark report",
        "",
        f"Machine: {env['cpu']}, {env['cores']} cores, {env['os']}. Python {env['python']}, "
        f"NumPy {env['numpy']}, PyTorch {env['torch'] or 'not installed'}, matplotlib "
        f"{env['matplotlib'] or 'not installed'}. Threads: {env['threads']}. Clock: "
        f"{env['clock']}. Each timed figure: median [min – max] per call over "
        f"{env['repeats']} rounds (Module 19's summarize; 95 % t-intervals in results.json). "
        f"Generated {env['date']} in {results['seconds']:.0f} s.",
        "",
        "## Table 4: explicit loops, vectorized TinyTorch, NumPy, PyTorch CPU",
        "",
        "| computation | work | explicit loops | TinyTorch (vectorized) | NumPy | PyTorch CPU |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in results["table4"].items():
        cells = [fmt_figure(row[key]) for key in ("explicit", "tinytorch", "numpy", "torch")]
        lines.append(f"| {name} | {row['work']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Conv: TinyTorch is Module 09's im2col + one matmul; NumPy is Module 18's sliding-window "
        "view + one batched matmul. Explicit loops on the full matmul and conv are timed once on "
        "the stated subset and scaled by the work ratio (the loops do the same work per row / "
        "image).",
        "",
        "## Targets (ratios of medians measured side by side in this run)",
        "",
        "| figure | measured | target | verdict |",
        "|---|---:|---:|---|",
    ]
    for name, limit in TARGETS.items():
        value = results["ratios"][name]
        if value is None:
            lines.append(f"| {name} | — | ≤ {limit:g}× | not measured |")
        else:
            verdict = "met" if value <= limit else "MISSED"
            lines.append(f"| {name} | {value:.2f}× | ≤ {limit:g}× | {verdict} |")
    mlp = results["mlp_epoch"]
    lines += [
        "",
        f"MLP 64-64-10 epoch on TinyDigits (45 Adam steps): TinyTorch "
        f"{fmt_figure(mlp['tinytorch'])}, hand-written NumPy {fmt_figure(mlp['numpy'])}, "
        f"PyTorch CPU {fmt_figure(mlp['torch'])}.",
    ]
    grading = results["grading"]
    if grading:
        lines.append(
            f"Grading ({', '.join(grading['modules'])}): plain pytest "
            f"{grading['plain_wall']:.2f} s wall / {grading['plain_cpu']:.2f} s CPU, "
            f"`tiny grade`'s sandboxed run "
            f"{grading['graded_wall']:.2f} s wall / {grading['graded_cpu']:.2f} s CPU "
            f"(medians, scripts/benchmark_grading.py)."
        )
    else:
        lines.append("Grading overhead: skipped (--no-grading).")
    lines += [
        "",
        "## KV cache (Module 17): greedy generation, GPT vocab 256, 4 heads, 4 blocks, prompt 8",
        "",
        "| D | tokens | uncached | cached | speedup | same tokens | K/V projections (per block) "
        "| MFLOPs / token | FLOPs ratio | cache bytes |",
        "|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for row in results["kv_cache"]:
        lines.append(
            f"| {row['dim']} | {row['tokens']} | {fmt_time(row['uncached_s'])} | "
            f"{fmt_time(row['cached_s'])} | {row['speedup']:.1f}× | {row['same_tokens']} | "
            f"{row['kv_uncached']:,} vs {row['kv_cached']:,} | "
            f"{row['mflops_per_token_uncached']:.1f} vs {row['mflops_per_token_cached']:.2f} | "
            f"{row['flops_ratio']:.1f}× | {row['cache_bytes']:,} |"
        )
    lines += [
        "",
        "## Compression (Module 16): stored bytes and held-out TinyDigits accuracy",
        "",
        "| candidate | method | storage | bytes | smaller | accuracy |",
        "|---|---|---|---:|---:|---:|",
    ]
    for row in results["compression"]:
        lines.append(
            f"| {row['candidate']} | {row['method']} | {row['storage']} | {row['bytes']:,} | "
            f"{row['ratio']:.1f}× | {row['accuracy']:.3f} |"
        )
    best = results["best_10x"]
    if best:
        lines.append(
            f"\nBest ≥ 10× point: **{best['candidate']}**, {best['ratio']:.1f}× smaller, accuracy "
            f"{best['accuracy']:.3f} (teacher {results['compression'][0]['accuracy']:.3f})."
        )
    lines += ["", "## Figures", ""]
    lines += [f"![{name}]({name})" for name in plots] or [plot_note]
    return "\n".join(lines) + "\n"


def write_plots(results: dict, out: Path) -> tuple[list[str], str]:
    """One PNG per figure with matplotlib; ([], reason) when it is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return [], "Plots skipped: matplotlib is not installed (`pip install -e '.[dev]'`)."
    written = []
    fig, ax = plt.subplots(figsize=(8, 4))
    keys = ("explicit", "tinytorch", "numpy", "torch")
    names = list(results["table4"])
    for i, key in enumerate(keys):
        values = [results["table4"][n][key] for n in names]
        heights = [v.median if v else 0 for v in values]
        label = "explicit loops (matmul, conv extrapolated)" if key == "explicit" else key
        ax.bar(np.arange(len(names)) + i * 0.2, heights, 0.2, label=label)
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(names)) + 0.3, [n.split(", ")[0] for n in names])
    ax.set_ylabel("seconds per call (log)")
    ax.set_title("Table 4: the same computation four ways")
    ax.legend()
    written.append(_save(fig, out, "table4.png"))
    kv = results["kv_cache"]
    base = kv[0]["dim"] if kv else 0
    lengths = [r for r in kv if r["dim"] == base]
    widths = [r for r in kv if r["tokens"] == (kv[-1]["tokens"] if kv else 0)]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot([r["tokens"] for r in lengths], [r["speedup"] for r in lengths], "o-", label="time")
    left.plot(
        [r["tokens"] for r in lengths], [r["flops_ratio"] for r in lengths], "s--", label="FLOPs"
    )
    left.set(xlabel="generated tokens", ylabel="uncached / cached", title=f"D = {base}")
    right.plot([r["dim"] for r in widths], [r["speedup"] for r in widths], "o-")
    for axis in (left, right):
        axis.axhline(10, color="grey", linestyle=":", label="10× goal")
    left.legend()
    right.set(xlabel="model width D", title=f"{widths[-1]['tokens'] if widths else 0} tokens")
    written.append(_save(fig, out, "kv_cache.png"))
    fig, ax = plt.subplots(figsize=(6, 4))
    rows = results["compression"]
    for method in dict.fromkeys(row["method"] for row in rows):
        chosen = [row for row in rows if row["method"] == method]
        ax.scatter([r["bytes"] for r in chosen], [r["accuracy"] for r in chosen], label=method)
    if rows:
        ax.axvline(rows[0]["bytes"] / 10, color="grey", linestyle=":", label="10× smaller")
    ax.set(xscale="log", xlabel="stored bytes (log)", ylabel="test accuracy", title="Compression")
    ax.legend(fontsize=8)
    written.append(_save(fig, out, "compression.png"))
    return written, ""


def _save(fig, out: Path, name: str) -> str:
    fig.tight_layout()
    fig.savefig(out / name, dpi=100)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return name


def _jsonable(value):
    if isinstance(value, Figure):
        return value.__dict__
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    return value


def run(out: Path, sizes: Sizes, repeats: int, min_time: float, wall: bool, grading: bool) -> dict:
    """Measure everything, write report.md, results.json and the plots into `out`."""
    from scripts.benchmark_compression import best_point, compression_rows
    from scripts.benchmark_optimization import kv_cache_rows
    from tinytorch.benchmarking import environment
    from tinytorch.core import enable_autograd

    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    try:
        import matplotlib

        plotting = matplotlib.__version__
    except ImportError:
        plotting = None
    enable_autograd()
    clock = time.perf_counter if wall else time.process_time
    pinned = ", ".join(
        f"{name}={os.environ.get(name, 'unset')}"
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    )
    env = environment() | {
        "torch": torch.__version__ if torch else None,
        "matplotlib": plotting,
        "threads": pinned + (f", torch {torch.get_num_threads()}" if torch else ""),
        "clock": "wall (perf_counter)" if wall else "CPU time of this process (process_time)",
        "repeats": repeats,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    table = table4(sizes, torch, repeats, min_time, clock)
    mlp = mlp_epoch(torch, repeats, clock)
    graded = grading_overhead(sizes.grading_modules, max(1, repeats // 2)) if grading else None
    kv = kv_cache_rows(sizes.kv_lengths, sizes.kv_widths, max(1, repeats // 2), clock)
    compression = compression_rows(sizes.compression_epochs)
    results = {
        "environment": env,
        "table4": table,
        "mlp_epoch": mlp,
        "grading": graded,
        "ratios": ratios(table, mlp, graded),
        "kv_cache": kv,
        "compression": compression,
        "best_10x": best_point(compression),
    }
    results["seconds"] = time.perf_counter() - started
    plots, note = write_plots(results, out)
    (out / "report.md").write_text(markdown(results, plots, note), encoding="utf-8")
    (out / "results.json").write_text(json.dumps(_jsonable(results), indent=1), encoding="utf-8")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out/bench"), help="report folder")
    parser.add_argument("--quick", action="store_true", help="smaller sweeps, fewer repeats")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds per figure")
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per round, at least")
    parser.add_argument("--wall", action="store_true", help="wall-clock time, not CPU time")
    parser.add_argument("--no-grading", action="store_true", help="skip the grading overhead")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)
    if repeats < 1 or args.min_time < 0:
        parser.error("--repeats must be >= 1 and --min-time >= 0")
    sizes = QUICK if args.quick else Sizes()
    results = run(args.out, sizes, repeats, args.min_time, args.wall, not args.no_grading)
    print((args.out / "report.md").read_text(encoding="utf-8"))
    print(f"written: {args.out / 'report.md'} ({results['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
