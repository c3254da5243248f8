"""Milestone 6 — an MLPerf-style submission: profile, optimize, benchmark, submit (2018).

History: benchmarks are as old as computers, and so are benchmarks that could not be
trusted. SPEC (founded 1988) made processor results comparable by fixing the programs and
the reporting rules; in 2018 a group of companies and universities did the same for
machine learning with MLPerf: a result counts only if the model reaches a stated quality
target, every figure is measured under published rules, and the submission says exactly
what was run on which system, so that others can reproduce it.

What this proves about your framework: a 64-64-10 MLP trained with your modules on
TinyDigits goes through your capstone pipeline (Module 20): profiled (14), frozen and
stored as int8 weights, benchmarked against the Tensor model with warm-up and percentiles
(19), and written to `submission.json`. The milestone validates the file against
grading/schemas/submission.schema.json, then loads the saved model again, runs the whole
pipeline a second time and checks that the figures reproduce: accuracy exactly, model
bytes exactly, median latency within a loose factor (timing noise is real).

PASS needs all three: a valid submission, a reproduced second run, and the optimized
model's held-out accuracy at or above the quality target (default 90%).
Needs modules 01–20. Runs in about ten seconds on 2 cores (`--fast`: a few).

    tiny milestone 6                            # train, submit, reproduce: PASS
    tiny milestone 6 --load                     # reuse the saved model instead of training
    tiny milestone 6 --threshold 0.999          # FAIL: the quality target is out of reach
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from datasets.tinydigits import load_tinydigits
from grading.submission import SubmissionError, load_submission, write_submission
from milestones import not_implemented_verdict
from tinytorch.capstone import DEFAULT_TOLERANCES, check_reproduced, run_pipeline
from tinytorch.core import enable_autograd
from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential
from tinytorch.optim import Adam
from tinytorch.training import fit, load_checkpoint, save_checkpoint

DATASETS = ("tinydigits",)  # what it can train on (course.yaml datasets: may pick one)
TITLE = "Milestone 6 — an MLPerf-style submission on TinyDigits (2018)"
NUM_CLASSES = 10
DEFAULT_OUT = Path("out/capstone/submission.json")


def build_model(hidden: int = 64, seed: int = 0) -> Sequential:
    """Linear(64, hidden) → ReLU → Linear(hidden, 10), initial weights from `seed`."""
    rng = np.random.default_rng(seed)
    return Sequential(Linear(64, hidden, rng=rng), ReLU(), Linear(hidden, NUM_CLASSES, rng=rng))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tiny milestone 6", description=TITLE)
    parser.add_argument("--epochs", type=int, default=15, help="training passes (default 15)")
    parser.add_argument("--batch-size", type=int, default=32, help="training batch size")
    parser.add_argument("--hidden", type=int, default=64, help="hidden units")
    parser.add_argument("--lr", type=float, default=0.01, help="Adam learning rate")
    parser.add_argument("--seed", type=int, default=0, help="seed of weights and shuffling")
    parser.add_argument(
        "--bench-batch", type=int, default=64, help="samples per call when timing (default 64)"
    )
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per variant")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls before timing")
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.90,
        help="quality target: held-out accuracy of the optimized model (0-1, default 0.90)",
    )
    parser.add_argument(
        "--latency-factor",
        type=float,
        default=DEFAULT_TOLERANCES["latency_factor"],
        help="the second run's median latency must be within this factor (default 5)",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"submission file (default {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="model checkpoint (default: model.npz beside --out)",
    )
    parser.add_argument(
        "--load", action="store_true", help="load the checkpoint instead of training"
    )
    parser.add_argument(
        "--submitter",
        default=os.environ.get("GITHUB_ACTOR") or "anonymous",
        help="name in the submission (default: $GITHUB_ACTOR or 'anonymous')",
    )
    parser.add_argument(
        "--fast", action="store_true", help="5 epochs, 10 timed calls, 1 warm-up: for tests"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Train (or load), submit, validate, reproduce; 0 on PASS, 1 on FAIL, 2 on bad options."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.fast:
        args.epochs, args.repeats, args.warmup = min(args.epochs, 5), min(args.repeats, 10), 1
    if args.epochs < 0 or min(args.batch_size, args.hidden, args.bench_batch, args.repeats) < 1:
        parser.error("--epochs must be >= 0; --batch-size, --hidden, --bench-batch, --repeats >= 1")
    if args.warmup < 0 or args.latency_factor < 1:
        parser.error("--warmup must be >= 0 and --latency-factor >= 1")
    if not 0.0 <= args.threshold <= 1.0:
        parser.error("--threshold must be between 0 and 1")
    args.model = args.model or args.out.with_name("model.npz")
    try:
        return run(args)
    except NotImplementedError as error:  # a stubbed exercise in a module this needs
        print(not_implemented_verdict(error, args.threshold))
        return 1
    except SubmissionError as error:
        print(f"FAIL: the submission is not valid: {error} (threshold {args.threshold:.0%})")
        return 1


def trained_model(args: argparse.Namespace, x_train: np.ndarray, y_train: np.ndarray):
    """Train with Module 07's fit and save a checkpoint, or load the saved one (--load)."""
    model = build_model(args.hidden, args.seed)
    if args.load:
        if not args.model.is_file():
            raise SystemExit(f"--load: no checkpoint at {args.model}; run without --load first")
        load_checkpoint(args.model, model)
        print(f"loaded {args.model}")
        return model
    optimizer = Adam(model.parameters(), lr=args.lr)
    started = time.perf_counter()
    history = fit(
        model,
        CrossEntropyLoss(),
        optimizer,
        x_train,
        y_train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    losses = history["train_loss"]
    print(
        f"trained {args.epochs} epochs in {time.perf_counter() - started:.1f} s"
        + (f", final train loss {losses[-1]:.4f}" if losses else "")
    )
    args.model.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(args.model, model, None, epoch=args.epochs)
    return model


def pipeline(args: argparse.Namespace, model, x_test: np.ndarray, y_test: np.ndarray) -> dict:
    return run_pipeline(
        model,
        x_test,
        y_test,
        dataset_name="tinydigits",
        split="test",
        num_classes=NUM_CLASSES,
        submitter=args.submitter,
        model_name="tinydigits-mlp",
        training={
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "learning_rate": args.lr,
            "optimizer": "Adam",
            "loaded": bool(args.load),
        },
        seed=args.seed,
        batch_size=args.bench_batch,
        repeats=args.repeats,
        warmup=args.warmup,
        tolerances={"accuracy_abs": 0.0, "latency_factor": args.latency_factor},
    )


def report(submission: dict) -> None:
    """Print both variants side by side, the ratios and the hotspot."""
    base, opt = submission["baseline"], submission["optimized"]
    print(f"{'':>26} {'baseline':>12} {'optimized':>12}")
    for key, label in (
        ("accuracy", "accuracy"),
        ("latency_p50_ms", "latency p50 (ms)"),
        ("latency_p99_ms", "latency p99 (ms)"),
        ("throughput_samples_per_s", "throughput (samples/s)"),
        ("peak_memory_bytes", "peak memory (bytes)"),
        ("model_bytes", "model (bytes)"),
    ):
        print(f"{label:>26} {base[key]:>12.5g} {opt[key]:>12.5g}")
    ratios = submission["improvement"]
    hotspot = max(submission["profile"], key=lambda row: row["share"])
    print(
        f"speedup p50 {ratios['speedup_p50']:.2f}x, throughput {ratios['throughput_ratio']:.2f}x, "
        f"model {ratios['model_size_ratio']:.2f}x smaller, accuracy "
        f"{ratios['accuracy_delta']:+.4f}; hotspot {hotspot['name']} "
        f"({hotspot['share']:.0%} of the baseline's time)"
    )


def run(args: argparse.Namespace) -> int:
    """The milestone: returns 0 on PASS, 1 on FAIL."""
    print(TITLE)
    print(
        f"threshold: optimized accuracy at least {args.threshold:.0%}, a valid submission, and "
        f"a second run within tolerances (accuracy exact, latency within {args.latency_factor:g}x)"
    )
    x_train, y_train, x_test, y_test = load_tinydigits()
    enable_autograd()
    model = trained_model(args, x_train, y_train)

    first = pipeline(args, model, x_test, y_test)
    path = write_submission(first, args.out)  # validated before writing
    saved = load_submission(path)  # and again as read back
    print(f"wrote {path} (valid {saved['schema']})")
    report(saved)

    again = build_model(args.hidden, args.seed)
    load_checkpoint(args.model, again)
    second = pipeline(args, again, x_test, y_test)
    problems = check_reproduced(saved, second, saved["run"]["tolerances"])
    for problem in problems:
        print(f"  not reproduced: {problem}")
    if not problems:
        print(
            f"second run reproduced: accuracy {second['optimized']['accuracy']:.4f}, p50 "
            f"{second['optimized']['latency_p50_ms']:.4g} ms "
            f"(first {saved['optimized']['latency_p50_ms']:.4g} ms)"
        )

    accuracy = saved["optimized"]["accuracy"]
    correct = round(accuracy * saved["dataset"]["samples"])
    quality = accuracy >= args.threshold
    passed = quality and not problems
    reason = "" if passed else ("; the second run did not reproduce" if problems else "")
    print(
        f"{'PASS' if passed else 'FAIL'}: optimized held-out accuracy {accuracy:.1%} "
        f"({correct}/{saved['dataset']['samples']}), "
        f"{saved['improvement']['speedup_p50']:.2f}x faster, "
        f"{saved['improvement']['model_size_ratio']:.2f}x smaller{reason}, "
        f"threshold {args.threshold:.0%}"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
