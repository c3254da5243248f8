"""How small can a TinyDigits classifier get? Pruning, distillation and both, at ~10× fewer bytes.

    python scripts/benchmark_compression.py            # the full study (about a minute)
    python scripts/benchmark_compression.py --quick    # fewer epochs, a smoke run

Teacher: Module 16's benchmark MLP 64-128-128-10, trained on TinyDigits (1,438 train /
359 held-out test images) with Adam. Every candidate is measured the same way: its bytes
as Module 16's model_bytes computes them from the arrays (dense, or with every pruned
weight in CSR: float32 values, int32 columns and row starts), the ratio to the teacher's
dense bytes, and its accuracy on the held-out test set.

    pruning alone        global magnitude pruning of the teacher to 90/95/97 % (CSR needs
                         ~97 % zeros for 10×: 8 bytes per kept weight, and the biases and
                         row starts stay), without and with
                         fine-tuning on the labels (Module 16's distill, alpha 0, masks kept)
    distillation alone   a 64-32-10 student (about 1/11 of the bytes) distilled from the
                         teacher (Module 16's distill); the same student trained on the
                         labels only is the baseline: what distillation adds
    both                 a distilled 64-64-10 student, pruned to 75 % and fine-tuned by
                         distillation with its masks kept

The best 10× point is the most accurate candidate at ≥ 10× smaller. Every figure is measured
in this run (seeded: the same on every run of the same machine); nothing is asserted.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before NumPy is imported: steadier figures

import argparse
import copy
import sys

from datasets.tinydigits import load_tinydigits
from tinytorch.compression import distill, global_magnitude_prune, model_bytes
from tinytorch.core import enable_autograd
from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential
from tinytorch.optim import Adam
from tinytorch.training import accuracy, fit

TARGET_RATIO = 10.0
TEMPERATURE, ALPHA = 4.0, 0.7


def mlp(sizes: tuple[int, ...], seed: int) -> Sequential:
    """A ReLU MLP with the given layer widths (seeded)."""
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(Linear(fan_in, fan_out, rng=seed + i))
        if i < len(sizes) - 2:
            layers.append(ReLU())
    return Sequential(*layers)


def trained(sizes: tuple[int, ...], data, epochs: int, seed: int = 0) -> Sequential:
    x_train, y_train, _, _ = data
    model = mlp(sizes, seed)
    optimizer = Adam(model.parameters(), lr=0.005)
    fit(model, CrossEntropyLoss(), optimizer, x_train, y_train, epochs=epochs, batch_size=32)
    return model


def distilled(student, teacher, data, epochs: int, alpha: float = ALPHA, masks=None):
    x_train, y_train, _, _ = data
    optimizer = Adam(student.parameters(), lr=0.005)
    distill(
        student,
        teacher,
        optimizer,
        x_train,
        y_train,
        epochs=epochs,
        temperature=TEMPERATURE,
        alpha=alpha,
        masks=masks,
    )
    return student


def compression_rows(epochs: int) -> list[dict]:
    """One row per candidate: name, method, stored bytes, ratio to the teacher, accuracy."""
    enable_autograd()
    data = load_tinydigits()
    x_test, y_test = data[2], data[3]
    teacher = trained((64, 128, 128, 10), data, epochs)
    teacher_bytes = model_bytes(teacher)
    rows = []

    def add(name: str, method: str, model, sparse: bool) -> None:
        stored = model_bytes(model, sparse=sparse)
        rows.append(
            {
                "candidate": name,
                "method": method,
                "storage": "CSR weights" if sparse else "dense",
                "bytes": stored,
                "ratio": teacher_bytes / stored,
                "accuracy": accuracy(model, x_test, y_test),
            }
        )

    add("teacher 64-128-128-10", "none", teacher, sparse=False)
    for sparsity in (0.9, 0.95, 0.97):
        pruned = copy.deepcopy(teacher)
        masks = global_magnitude_prune(pruned, sparsity)
        add(f"teacher pruned {sparsity:.0%}", "pruning", pruned, sparse=True)
        distilled(pruned, teacher, data, max(1, epochs // 2), alpha=0.0, masks=masks)
        add(f"teacher pruned {sparsity:.0%}, fine-tuned", "pruning", pruned, sparse=True)
    add(
        "student 64-32-10, labels only",
        "baseline",
        trained((64, 32, 10), data, epochs),
        sparse=False,
    )
    small = distilled(mlp((64, 32, 10), 7), teacher, data, epochs)
    add("student 64-32-10, distilled", "distillation", small, sparse=False)
    student = distilled(mlp((64, 64, 10), 7), teacher, data, epochs)
    add("student 64-64-10, distilled", "distillation", student, sparse=False)
    masks = global_magnitude_prune(student, 0.75)
    distilled(student, teacher, data, max(1, epochs // 2), masks=masks)
    add("student 64-64-10, distilled, pruned 75 %, fine-tuned", "both", student, sparse=True)
    return rows


def best_point(rows: list[dict], ratio: float = TARGET_RATIO) -> dict | None:
    """The most accurate compressed row at least `ratio` times smaller than the teacher,
    or None (the baseline — a small model trained on the labels alone — is the control)."""
    small_enough = [row for row in rows if row["ratio"] >= ratio and row["method"] != "baseline"]
    return max(small_enough, key=lambda row: row["accuracy"], default=None)


def format_rows(rows: list[dict]) -> list[str]:
    lines = [f"  {'candidate':54s} {'method':18s} {'bytes':>8s} {'smaller':>8s} {'accuracy':>9s}"]
    for row in rows:
        lines.append(
            f"  {row['candidate']:54s} {row['method']:18s} {row['bytes']:>8,} "
            f"{row['ratio']:>7.1f}x {row['accuracy']:>9.3f}"
        )
    best = best_point(rows)
    teacher = rows[0]["accuracy"]
    if best is None:
        lines.append(f"  no candidate reached {TARGET_RATIO:g}x smaller")
    else:
        lines.append(
            f"  best {TARGET_RATIO:g}x point: {best['candidate']}, {best['ratio']:.1f}x smaller, "
            f"accuracy {best['accuracy']:.3f} ({(best['accuracy'] - teacher) * 100:+.1f} points "
            f"against the teacher)"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 epochs instead of 30")
    args = parser.parse_args(argv)
    print("compression (Module 16): TinyDigits held-out accuracy against stored bytes")
    print("\n".join(format_rows(compression_rows(5 if args.quick else 30))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
