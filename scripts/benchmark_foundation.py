"""How fast is the foundation tier? TinyTorch against NumPy and PyTorch (CPU), in one run.

    python scripts/benchmark_foundation.py            # all four benchmarks, a table of ratios
    python scripts/benchmark_foundation.py --quick    # fewer repeats, for a smoke run
    python scripts/benchmark_foundation.py --check    # also exit 1 if a measured target is missed

Benchmarks (each the same computation, float32, in all three):
    matmul      1000×1000 @ 1000×1000                         (2 GFLOPs)
    softmax     over one vector of 10,000 entries
    linear      Linear(512, 512) + ReLU on a batch of 256, forward and backward
    mlp epoch   one epoch of milestone 3's 64-64-10 MLP on TinyDigits (1,438 images,
                batch 32, Adam, cross-entropy): 45 optimizer steps
The NumPy column is hand-written NumPy (forward, backward and Adam written out), the floor
that any framework built on NumPy pays on top of. PyTorch is optional: without it that
column is skipped, with a message; install it in a separate environment to compare.

Targets (issue 14): matmul ≤ 1.2× NumPy (TinyTorch should add only a thin wrapper around
np.matmul); MLP epoch ≤ 1× PyTorch CPU (both are dominated by per-operation overhead at this
size). scripts/benchmark_report.py runs this with every other benchmark into one report.

On a shared or busy machine, multi-threaded BLAS and OpenMP thrash; for steadier figures
pin every library to one thread, and add --cpu-time to count only the CPU time this process
got (time spent waiting for a core then does not count; with several threads it would also
count threads that spin while they wait, so use it with one thread only):

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        python scripts/benchmark_foundation.py --cpu-time

Method: each case runs a few warm-up calls, then `repeats` timed rounds per framework, the
frameworks taking turns round by round; a round times enough calls to last at least
`min_time` seconds and the figure is the median per-call time over rounds. This is a
benchmark, not a test: it prints figures and never asserts speed (except, on request,
through --check's exit code).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

MATMUL_N = 1000
SOFTMAX_N = 10_000
LINEAR_BATCH, LINEAR_IN, LINEAR_OUT = 256, 512, 512
MLP_HIDDEN, MLP_BATCH, MLP_LR = 64, 32, 0.01


Clock = Callable[[], float]


def calls_per_round(
    fn: Callable[[], object], min_time: float, warmup: int, clock: Clock = time.perf_counter
) -> int:
    """Warm `fn` up, then double the number of calls until one round lasts `min_time`
    seconds of `clock`, so that microsecond operations are not lost in timer resolution."""
    for _ in range(warmup):
        fn()
    calls = 1
    while True:
        start = clock()
        for _ in range(calls):
            fn()
        if clock() - start >= min_time or calls >= 1 << 20:
            return calls
        calls *= 2


def time_round(fn: Callable[[], object], calls: int, clock: Clock = time.perf_counter) -> float:
    """Seconds of `clock` per call of `fn`, averaged over one round of `calls` calls."""
    start = clock()
    for _ in range(calls):
        fn()
    return (clock() - start) / calls


# ---- the three implementations of each case ---------------------------------------------


def numpy_softmax(x: np.ndarray) -> np.ndarray:
    shifted = np.exp(x - x.max())
    return shifted / shifted.sum()


class NumpyLinearReLU:
    """Linear + ReLU with hand-written backward of out.sum(): the NumPy floor for that case."""

    def __init__(self, rng: np.random.Generator):
        limit = np.sqrt(6.0 / (LINEAR_IN + LINEAR_OUT))
        self.weight = rng.uniform(-limit, limit, (LINEAR_IN, LINEAR_OUT)).astype(np.float32)
        self.bias = np.zeros(LINEAR_OUT, dtype=np.float32)

    def forward_backward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = x @ self.weight + self.bias
        out = np.maximum(z, 0)
        grad_z = (z > 0).astype(np.float32)  # d out.sum() / dz
        return out, (x.T @ grad_z, grad_z.sum(axis=0))


class NumpyMLP:
    """Milestone 3's MLP (64-hidden-10, ReLU, cross-entropy, Adam) written out in NumPy."""

    def __init__(self, rng: np.random.Generator, hidden: int = MLP_HIDDEN, lr: float = MLP_LR):
        def xavier(fan_in: int, fan_out: int) -> np.ndarray:
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)

        self.params = [
            xavier(64, hidden),
            np.zeros(hidden, np.float32),
            xavier(hidden, 10),
            np.zeros(10, np.float32),
        ]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.lr, self.steps = lr, 0

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        w1, b1, w2, b2 = self.params
        z1 = x @ w1 + b1
        a1 = np.maximum(z1, 0)
        logits = a1 @ w2 + b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_probs[np.arange(len(y)), y].mean()
        grad_logits = np.exp(log_probs)
        grad_logits[np.arange(len(y)), y] -= 1.0
        grad_logits /= len(y)
        grad_a1 = grad_logits @ w2.T
        grad_z1 = grad_a1 * (z1 > 0)
        grads = [x.T @ grad_z1, grad_z1.sum(0), a1.T @ grad_logits, grad_logits.sum(0)]
        self.steps += 1
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            m_hat = m / (1 - beta1**self.steps)
            v_hat = v / (1 - beta2**self.steps)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + eps)
        return float(loss)

    def epoch(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> float:
        order, total = rng.permutation(len(x)), 0.0
        for start in range(0, len(x), MLP_BATCH):
            batch = order[start : start + MLP_BATCH]
            total += self.step(x[batch], y[batch]) * len(batch)
        return total / len(x)


def tinytorch_cases(rng: np.random.Generator, digits) -> dict[str, Callable[[], object]]:
    """One callable per case, built from the tinytorch modules being benchmarked."""
    from milestones.m3_mlp_1986 import build_model, train_one_epoch
    from tinytorch.core import Tensor, enable_autograd
    from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Softmax
    from tinytorch.optim import Adam

    enable_autograd()
    a = Tensor(rng.standard_normal((MATMUL_N, MATMUL_N), dtype=np.float32))
    b = Tensor(rng.standard_normal((MATMUL_N, MATMUL_N), dtype=np.float32))
    vector, softmax = Tensor(rng.standard_normal(SOFTMAX_N, dtype=np.float32)), Softmax()
    layer, relu = Linear(LINEAR_IN, LINEAR_OUT, rng=rng), ReLU()
    batch = Tensor(rng.standard_normal((LINEAR_BATCH, LINEAR_IN), dtype=np.float32))

    def linear_relu():
        layer.weight.grad = layer.bias.grad = None
        relu(layer(batch)).sum().backward()

    x_train, y_train = digits
    model = build_model(MLP_HIDDEN, seed=0)
    loss_fn, optimizer = CrossEntropyLoss(), Adam(model.parameters(), lr=MLP_LR)
    epoch_rng = np.random.default_rng(0)
    return {
        "matmul": lambda: a @ b,
        "softmax": lambda: softmax(vector),
        "linear": linear_relu,
        "mlp": lambda: train_one_epoch(
            model, loss_fn, optimizer, x_train, y_train, MLP_BATCH, epoch_rng
        ),
    }


def numpy_cases(rng: np.random.Generator, digits) -> dict[str, Callable[[], object]]:
    a = rng.standard_normal((MATMUL_N, MATMUL_N), dtype=np.float32)
    b = rng.standard_normal((MATMUL_N, MATMUL_N), dtype=np.float32)
    vector = rng.standard_normal(SOFTMAX_N, dtype=np.float32)
    layer = NumpyLinearReLU(rng)
    batch = rng.standard_normal((LINEAR_BATCH, LINEAR_IN), dtype=np.float32)
    x_train, y_train = digits
    mlp, epoch_rng = NumpyMLP(np.random.default_rng(0)), np.random.default_rng(0)
    return {
        "matmul": lambda: a @ b,
        "softmax": lambda: numpy_softmax(vector),
        "linear": lambda: layer.forward_backward(batch),
        "mlp": lambda: mlp.epoch(x_train, y_train, epoch_rng),
    }


def torch_cases(torch, rng: np.random.Generator, digits) -> dict[str, Callable[[], object]]:
    """The same four computations with PyTorch on the CPU (float32, default threads)."""
    torch.manual_seed(0)
    a = torch.from_numpy(rng.standard_normal((MATMUL_N, MATMUL_N), dtype=np.float32))
    b = torch.from_numpy(rng.standard_normal((MATMUL_N, MATMUL_N), dtype=np.float32))
    vector = torch.from_numpy(rng.standard_normal(SOFTMAX_N, dtype=np.float32))
    layer = torch.nn.Linear(LINEAR_IN, LINEAR_OUT)
    batch = torch.from_numpy(rng.standard_normal((LINEAR_BATCH, LINEAR_IN), dtype=np.float32))

    def linear_relu():
        layer.zero_grad(set_to_none=True)
        torch.relu(layer(batch)).sum().backward()

    x_train = torch.from_numpy(digits[0])
    y_train = torch.from_numpy(digits[1])
    model = torch.nn.Sequential(
        torch.nn.Linear(64, MLP_HIDDEN), torch.nn.ReLU(), torch.nn.Linear(MLP_HIDDEN, 10)
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=MLP_LR)
    epoch_rng = np.random.default_rng(0)

    def mlp_epoch():
        order, total = torch.from_numpy(epoch_rng.permutation(len(x_train))), 0.0
        for start in range(0, len(x_train), MLP_BATCH):
            batch_index = order[start : start + MLP_BATCH]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x_train[batch_index]), y_train[batch_index])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch_index)
        return total / len(x_train)

    return {
        "matmul": lambda: a @ b,
        "softmax": lambda: torch.softmax(vector, dim=-1),
        "linear": linear_relu,
        "mlp": mlp_epoch,
    }


# ---- running and reporting ----------------------------------------------------------------

LABELS = {
    "matmul": f"matmul {MATMUL_N}x{MATMUL_N} @ {MATMUL_N}x{MATMUL_N}",
    "softmax": f"softmax over {SOFTMAX_N:,} entries",
    "linear": f"Linear({LINEAR_IN},{LINEAR_OUT})+ReLU fwd+bwd, batch {LINEAR_BATCH}",
    "mlp": f"MLP 64-{MLP_HIDDEN}-10 epoch on TinyDigits",
}
TARGETS = {"matmul": ("numpy", 1.2), "mlp": ("torch", 1.0)}


def import_torch():
    """PyTorch if it is importable here, else None (and a message saying how to get it)."""
    try:
        import torch
    except ImportError:
        print(
            f"PyTorch is not installed in this Python ({sys.executable}): skipping the PyTorch "
            f"column and the MLP-vs-PyTorch target. It is in the staff `dev` extra: "
            f"pip install torch==2.13.0 (the CPU wheel; plain `torch` pulls a CUDA build)."
        )
        return None
    return torch


def format_time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def format_ratio(numerator: float, denominator: float | None) -> str:
    return "—" if denominator is None else f"{numerator / denominator:.2f}×"


def thread_settings(torch) -> str:
    """What limits the worker threads: env variables NumPy's BLAS reads, PyTorch's setting."""
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    env = ", ".join(f"{name}={os.environ[name]}" for name in names if name in os.environ)
    torch_part = f"torch uses {torch.get_num_threads()} threads" if torch is not None else ""
    return "; ".join(part for part in (env or "no thread limits set", torch_part) if part)


def measure(
    impls: dict, repeats: int, min_time: float, warmup: int, clock: Clock = time.perf_counter
) -> dict:
    """{case: {framework: median seconds per call, or None where a framework is absent}}.

    The frameworks take turns, one round each, `repeats` times: when other processes load
    the machine for a while, every framework feels it in the same rounds, and the median
    discards the rounds that were hit hardest. Cost: about
    (warmup + calibration + repeats) × min_time seconds per case and framework."""
    times: dict[str, dict[str, float | None]] = {}
    for case in LABELS:
        fns = {name: cases[case] for name, cases in impls.items() if cases is not None}
        calls = {name: calls_per_round(fn, min_time, warmup, clock) for name, fn in fns.items()}
        rounds: dict[str, list[float]] = {name: [] for name in fns}
        for _ in range(repeats):
            for name, fn in fns.items():
                rounds[name].append(time_round(fn, calls[name], clock))
        times[case] = {
            name: statistics.median(rounds[name]) if name in rounds else None for name in impls
        }
    return times


def report(times: dict) -> tuple[list[str], list[str]]:
    """The table lines and the target verdict lines for `times` (pure: no I/O)."""
    header = (
        f"{'benchmark':46s} {'tinytorch':>10s} {'numpy':>10s} {'pytorch':>10s} "
        f"{'tt/numpy':>9s} {'tt/torch':>9s}"
    )
    table = [header, "-" * len(header)]
    for case, label in LABELS.items():
        row = times[case]
        table.append(
            f"{label:46s} {format_time(row['tinytorch']):>10s} {format_time(row['numpy']):>10s} "
            f"{format_time(row['torch']):>10s} "
            f"{format_ratio(row['tinytorch'], row['numpy']):>9s} "
            f"{format_ratio(row['tinytorch'], row['torch']):>9s}"
        )
    verdicts = []
    for case, (framework, limit) in TARGETS.items():
        reference = times[case][framework]
        name = "NumPy" if framework == "numpy" else "PyTorch CPU"
        if reference is None:
            verdicts.append(f"{LABELS[case]}: target <= {limit}× {name}: NOT MEASURED")
            continue
        ratio = times[case]["tinytorch"] / reference
        verdict = "met" if ratio <= limit else "MISSED"
        verdicts.append(f"{LABELS[case]}: {ratio:.2f}× {name}, target <= {limit}×: {verdict}")
    return table, verdicts


def run(
    repeats: int, min_time: float, warmup: int, cpu_time: bool = False
) -> tuple[dict, list[str]]:
    """Time every case and print the table; return the times and the target verdicts."""
    from datasets.tinydigits import load_tinydigits

    torch = import_torch()
    x_train, y_train, _, _ = load_tinydigits()
    digits = (x_train, y_train)
    impls = {
        "tinytorch": tinytorch_cases(np.random.default_rng(1), digits),
        "numpy": numpy_cases(np.random.default_rng(1), digits),
        "torch": torch_cases(torch, np.random.default_rng(1), digits) if torch else None,
    }
    versions = f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch else "")
    print(
        f"TinyTorch foundation benchmark — Python {platform.python_version()}, {versions}, "
        f"{os.cpu_count()} CPU cores ({thread_settings(torch)})"
    )
    kind = "CPU time of this process" if cpu_time else "wall-clock time"
    print(
        f"median per-call {kind} over {repeats} rounds (each >= {min_time:g} s) after {warmup} "
        f"warm-up call(s)"
    )
    if hasattr(os, "getloadavg"):
        load = os.getloadavg()[0]
        busy = load > 0.5 * (os.cpu_count() or 1)
        note = ": other processes compete for the cores, expect noisy figures" if busy else ""
        print(f"load average before the run: {load:.2f}{note}")
    print("measuring ...\n", flush=True)
    clock = time.process_time if cpu_time else time.perf_counter
    times = measure(impls, repeats, min_time, warmup, clock)
    table, verdicts = report(times)
    print("\n".join(table))
    print("\ntargets:")
    for line in verdicts:
        print(f"  {line}")
    return times, verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds per case")
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per round, at least")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls first")
    parser.add_argument("--quick", action="store_true", help="3 rounds of >= 0.05 s")
    parser.add_argument("--check", action="store_true", help="exit 1 if a measured target fails")
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time with this process's CPU time instead of the wall clock: steadier on a busy "
        "machine, but meaningful only with one thread per library (see above)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.min_time = 3, 0.05
    _, verdicts = run(args.repeats, args.min_time, args.warmup, args.cpu_time)
    missed = any(line.endswith("MISSED") for line in verdicts)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
