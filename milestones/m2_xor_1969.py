"""Milestone 2 — XOR and the limit of a single layer (1969).

History: in 1969 Marvin Minsky and Seymour Papert's book *Perceptrons* analysed rigorously
what a single-layer perceptron cannot compute: it separates its inputs with one straight line
(a hyperplane), so even XOR ("exactly one input is on") is out of reach. A hidden layer
removes the limit, but there was no practical way to train one until backpropagation
(milestone 3), and interest in neural networks cooled for over a decade.

What this proves about your framework, in two checks that must both hold:
1. the limit: a single-layer perceptron trained by Rosenblatt's rule, and the best of
   9,261 straight lines tried in one batched matmul, never exceed 75% on XOR;
2. the remedy: a two-layer MLP `Linear(2, 8) → Tanh → Linear(8, 1)`, trained with your
   autograd and Adam on binary cross-entropy of its output (a logit: "yes" when > 0),
   reaches 100% (the threshold).
Two hidden units can represent XOR, but gradient descent from a random start then often
settles in a poor local minimum: with 4 units, 8 of 200 initial seeds ended at 75%. With 8
units no seed of 200 failed (`scripts/milestone_seeds.py` measures it), so a correct
framework passes whatever order it draws its random numbers in.
Needs modules 01–06. Runs in a second or two.

    tiny milestone 2                 # PASS
    tiny milestone 2 --hidden 1      # FAIL: one hidden unit is still a single straight line
    tiny milestone 2 --epochs 0      # FAIL: an untrained MLP
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from milestones import not_implemented_verdict
from tinytorch.core import Tensor, enable_autograd, no_grad
from tinytorch.nn import BinaryCrossEntropyLoss, Linear, Sequential, Tanh
from tinytorch.optim import Adam

DATASETS: tuple[str, ...] = ()  # trains on no dataset: its inputs are written here
TITLE = "Milestone 2 — XOR and the limit of a single layer (1969)"
INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR = np.array([0, 1, 1, 0], dtype=np.float32)
SINGLE_LAYER_LIMIT = 0.75  # 3 of 4: the most any straight line can get right on XOR


def perceptron_best_accuracy(epochs: int, lr: float = 1.0, log=print) -> float:
    """Train a Linear(2, 1) threshold unit on XOR with Rosenblatt's rule (as in milestone 1)
    and return the best accuracy it reached after any epoch (0.5 before training: all zero
    weights predict 0 everywhere). On XOR the rule never converges; it cycles.
    Cost: 4 forward passes of 4 FLOPs per epoch."""
    layer = Linear(2, 1, rng=0)
    layer.weight.data[...] = 0.0
    layer.bias.data[...] = 0.0
    best = float(np.mean((layer(Tensor(INPUTS)).data.reshape(-1) > 0) == XOR))
    for _ in range(epochs):
        for x, target in zip(INPUTS, XOR, strict=True):
            error = target - float(layer(Tensor(x[None, :])).data.reshape(-1)[0] > 0)
            layer.weight.data += (lr * error * x).reshape(layer.weight.shape)
            layer.bias.data += lr * error
        predictions = layer(Tensor(INPUTS)).data.reshape(-1) > 0
        best = max(best, float(np.mean(predictions == XOR)))
    log(f"  perceptron rule, {epochs} epochs: best accuracy after any epoch {best:.0%}")
    return best


def best_line_accuracy(steps: int = 21, log=print) -> float:
    """Try every line w1·x1 + w2·x2 + b > 0 with w1, w2, b on a grid of `steps` values in
    [-1, 1] (21³ = 9,261 lines) and return the best accuracy on XOR.

    All lines at once: (4, 2) @ (2, L) + (L,) -> (4, L) scores. Cost: one matmul of
    2·4·2·L FLOPs and 4·4·L bytes of scores (150 kB for L = 9,261)."""
    grid = np.linspace(-1.0, 1.0, steps, dtype=np.float32)
    w1, w2, b = (axis.reshape(-1) for axis in np.meshgrid(grid, grid, grid, indexing="ij"))
    scores = Tensor(INPUTS) @ Tensor(np.stack([w1, w2])) + Tensor(b)
    accuracies = np.mean((scores.data > 0) == XOR[:, None], axis=0)
    log(f"  best of {len(b):,} straight lines tried in one matmul: {accuracies.max():.0%}")
    return float(accuracies.max())


def train_mlp(hidden: int, epochs: int, lr: float, seed: int, log=print) -> Sequential:
    """Fit Linear(2, hidden) → Tanh → Linear(hidden, 1) to XOR with Adam on binary
    cross-entropy (which takes the raw output, a logit, and applies the sigmoid inside in a
    numerically stable way), one full batch of the 4 examples per epoch. The layers draw their
    initial weights from one generator seeded with `seed`: the same run every time."""
    enable_autograd()
    rng = np.random.default_rng(seed)
    model = Sequential(Linear(2, hidden, rng=rng), Tanh(), Linear(hidden, 1, rng=rng))
    loss_fn = BinaryCrossEntropyLoss()
    optimizer = Adam(model.parameters(), lr=lr)
    inputs, targets = Tensor(INPUTS), Tensor(XOR.reshape(-1, 1))
    for epoch in range(1, epochs + 1):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        if epoch == 1 or epoch % max(1, epochs // 5) == 0 or epoch == epochs:
            log(f"  epoch {epoch:4d}/{epochs}: loss {loss.item():.4f}")
    return model


def mlp_accuracy(model: Sequential) -> float:
    """Fraction of the 4 XOR inputs where (logit > 0, i.e. probability > 0.5) equals the
    target."""
    with no_grad():
        logits = model(Tensor(INPUTS)).data.reshape(-1)
    return float(np.mean((logits > 0) == XOR))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tiny milestone 2", description=TITLE)
    parser.add_argument("--epochs", type=int, default=300, help="MLP training steps")
    parser.add_argument("--hidden", type=int, default=8, help="hidden units of the MLP")
    parser.add_argument("--lr", type=float, default=0.05, help="Adam learning rate")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    parser.add_argument(
        "--perceptron-epochs", type=int, default=50, help="epochs of the single-layer rule"
    )
    parser.add_argument(
        "--threshold", type=float, default=1.0, help="accuracy the MLP must reach (0-1)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run both checks; PASS (return 0) iff the single layer stays at or below 75% and the
    MLP reaches the threshold."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if min(args.epochs, args.perceptron_epochs) < 0 or args.hidden < 1:
        parser.error("--epochs and --perceptron-epochs must be >= 0, --hidden >= 1")
    if not 0.0 <= args.threshold <= 1.0:
        parser.error("--threshold must be between 0 and 1")
    try:
        return run(args)
    except NotImplementedError as error:  # a stubbed exercise in a module this needs
        print(not_implemented_verdict(error, args.threshold))
        return 1


def run(args: argparse.Namespace) -> int:
    """Run both checks and print the verdict; 0 on PASS, 1 on FAIL."""
    print(TITLE)
    print(
        f"threshold: single layer at most {SINGLE_LAYER_LIMIT:.0%}, "
        f"two-layer MLP at least {args.threshold:.0%} on XOR's 4 inputs"
    )
    started = time.perf_counter()
    print("1. a single layer (one straight line):")
    single = max(perceptron_best_accuracy(args.perceptron_epochs), best_line_accuracy())
    print(f"2. a two-layer MLP, 2-{args.hidden}-1, Adam lr={args.lr:g}, seed {args.seed}:")
    model = train_mlp(args.hidden, args.epochs, args.lr, args.seed)
    mlp = mlp_accuracy(model)
    print(f"  MLP accuracy {mlp:.0%}  ({time.perf_counter() - started:.1f} s in all)")
    limit_holds, mlp_passes = single <= SINGLE_LAYER_LIMIT, mlp >= args.threshold
    passed = limit_holds and mlp_passes
    print(
        f"{'PASS' if passed else 'FAIL'}: single layer best {single:.0%} "
        f"(threshold <= {SINGLE_LAYER_LIMIT:.0%}: {'ok' if limit_holds else 'violated'}), "
        f"MLP {mlp:.0%} (threshold >= {args.threshold:.0%}: {'ok' if mlp_passes else 'missed'})"
    )
    if not limit_holds:
        print(
            "  A straight line cannot get all 4 XOR points right, so more than 75% means the "
            "perceptron's prediction is computed wrongly: check Linear's forward pass."
        )
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
