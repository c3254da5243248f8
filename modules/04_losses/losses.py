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
# # Module 04 — Losses
#
# A model from Module 03 produces numbers; a **loss function** says how wrong they
# are, as one number that is small when predictions match targets. Everything
# later in the course — every adjustment of every parameter — is steered by this
# one number, so it must be right, and it must never be `inf` or NaN.
#
# | exercise | what you write |
# |---|---|
# | 04.1 mse | `MSELoss`: mean squared error, for predicting numbers |
# | 04.2 logsumexp | `logsumexp`, `log_softmax`: the stable core of classification |
# | 04.3 cross_entropy | `one_hot`, `CrossEntropyLoss`: for choosing one of C classes |
# | 04.4 binary_cross_entropy | `BinaryCrossEntropyLoss`: for yes/no answers |
# | 04.5 exp_limits | where float32's `exp` stops being trustworthy |
# | 04.6 loss_vs_model_cost | bytes the loss allocates next to the bytes the model does |
#
# **Systems concept: numerical stability in float32.** A float32 holds about 7
# significant digits and nothing beyond ±3.4·10³⁸. `exp` reaches that limit at
# 88.7, and `log` of a number that rounded to 0 is `-inf`. Classification losses
# are made of exactly these two functions, so the textbook formulas fail on
# perfectly ordinary model outputs. You will rewrite each one so that it cannot
# overflow — the log-sum-exp trick — and measure where the limits are (04.5).
# Then a second systems question: what does the loss cost next to the model
# (04.6)? For 10 classes, almost nothing; for tens of thousands, more than the
# model.
#
# As in Modules 02 and 03, use Tensor operations only; NumPy on `.data` is for
# constants (the maximum you subtract, one-hot rows, checks on targets).

# %%
from __future__ import annotations

import numpy as np

from tinytorch.core import Tensor, count_tensors
from tinytorch.nn import Module, ReLU

# %% [markdown]
# ## 04.1 Mean squared error — for predicting numbers
#
# For predictions p and targets t of the same shape,
# `MSE = mean((p - t)²)`: the average squared distance. Squaring makes every
# error count positively and punishes large errors more than small ones.
#
# **The shape trap.** Predictions from a model with one output have shape
# (N, 1); targets often arrive as (N,). Broadcasting (Module 01) happily
# computes (N, 1) - (N,) → (N, N): every prediction against every target, a
# silently wrong number. So MSELoss refuses shapes that differ and says how to
# fix them.


# %%
def as_targets(values) -> Tensor:
    """Targets are data, not results: accept a Tensor, a list or an array."""
    return values if isinstance(values, Tensor) else Tensor(values)


class MSELoss(Module):
    """mean((predictions - targets)²) over every entry; returns a Tensor of shape ().

    >>> MSELoss()(Tensor([1.0, 2.0, 3.0]), [1.0, 2.0, 5.0]).item()   # (0 + 0 + 4) / 3
    1.3333333730697632

    Shapes must be equal (no broadcasting). Cost: 3 new tensors of the predictions' size
    (-targets, the difference, its square) and a sum: 12 bytes per entry.
    """

    def forward(self, predictions: Tensor, targets) -> Tensor:
        targets = as_targets(targets)
        ### BEGIN SOLUTION 04.1
        if predictions.shape != targets.shape:
            raise ValueError(
                f"MSELoss needs predictions and targets of the same shape, got predictions "
                f"{predictions.shape} and targets {targets.shape}. Broadcasting different "
                f"shapes can silently compare every prediction with every target. Reshape "
                f"one of them, e.g. targets.reshape(predictions.shape)."
            )
        difference = predictions - targets
        return (difference * difference).mean()
        ### END SOLUTION


# %% [markdown]
# ## 04.2 log-sum-exp — the stable core
#
# Classification compares scores through `log(Σ_j e^(x_j))`, the **log-sum-exp**
# of a row. Computed as written it overflows as soon as one score passes 88.7,
# and if every score is below about -104 each `e^(x_j)` rounds to 0 and the log
# of their sum is `-inf`.
#
# The fix is the same identity that made Softmax stable in Module 02. For any
# constant m,
#
#     log Σ_j e^(x_j) = m + log Σ_j e^(x_j - m)
#
# With m = the row's maximum, every exponent is ≤ 0 (no overflow) and the largest
# term is e^0 = 1, so the sum is at least 1 and its log is finite. The answer is
# now exact to float32 precision for any scores at all.
#
# From it comes **log-softmax**, the logarithm of Softmax, without ever forming
# Softmax: `log softmax(x)_i = x_i - logsumexp(x)`. Taking `log` of your Module 02
# Softmax would be wrong at the extremes: a probability that rounded to 0 gives
# `log(0) = -inf`, while `x_i - logsumexp(x)` gives the correct finite -2000.
#
# One more float32 trap hides in that subtraction. For five equal logits of 1020
# the answer is -log 5 = -1.609438, but `logsumexp` returns 1021.609438 rounded to
# float32, whose spacing near 1000 is 0.00006: the last digits of log 5 are gone
# before `x_i - ...` subtracts the large number away again (you get -1.609436).
# Near 100,000 the spacing is 0.008: for logits [1e5, 1e5 + 1, 1e5 + 2] the first
# log-probability comes out as -2.40625 instead of -2.40761.
# So write log-softmax with the shift m taken out of both terms,
#
#     log softmax(x)_i = (x_i - m) - log Σ_j e^(x_j - m)
#
# where every number is small: the large m cancels exactly before anything is
# rounded.


# %%
def logsumexp(x: Tensor, axis: int | None = -1, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) along `axis` (None: all entries), without overflow or -inf.

    >>> logsumexp(Tensor([1000.0, 1000.0])).item()   # 1000 + log 2
    1000.6931762695312

    Shape: x's shape with `axis` removed (kept as length 1 if keepdims). Cost: 4 passes
    over x (max, subtract, exp, sum); 2 new tensors of x's size (x - max and its exp).
    """
    ### BEGIN SOLUTION 04.2
    shift = x.data.max(axis=axis, keepdims=True)  # constant: the maximum along axis
    total = (x - Tensor(shift)).exp().sum(axis=axis, keepdims=keepdims)  # at least 1
    if not keepdims:
        shift = np.squeeze(shift, axis=axis)
    return total.log() + Tensor(shift)
    ### END SOLUTION


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """log(softmax(x)) along `axis`, computed as x - logsumexp(x): finite for finite x.

    >>> log_softmax(Tensor([1000.0, 0.0, -1000.0])).data
    array([    0., -1000., -2000.], dtype=float32)

    Same shape as x. Cost: 4 passes over x (max, subtract, exp, sum) and one more
    subtraction; 3 new tensors of x's size.
    """
    ### BEGIN SOLUTION 04.2
    # NOTE: not x - logsumexp(x): logsumexp adds the large maximum back, and float32 keeps
    # only ~7 digits of max + log(sum), so log(sum) loses its last digits. Subtract the
    # maximum from x first; then every term stays small and nothing large is rounded.
    shifted = x - Tensor(x.data.max(axis=axis, keepdims=True))  # constant shift: max is 0
    return shifted - shifted.exp().sum(axis=axis, keepdims=True).log()
    ### END SOLUTION


# %% [markdown]
# ## 04.3 Cross-entropy — for choosing one of C classes
#
# A classifier outputs one score per class: **logits**, shape (N, C), any real
# numbers. Softmax would turn each row into probabilities; the **cross-entropy**
# of a row is minus the log of the probability given to the correct class:
#
#     loss_n = -log softmax(logits_n)[target_n] = -log_softmax(logits_n)[target_n]
#
# 0 when the model puts all its probability on the right class, large when it is
# confidently wrong. CrossEntropyLoss returns the mean over the N rows.
#
# **Targets** come in two forms, and both are accepted:
#
# - N class labels, shape (N,): whole numbers from 0 to C - 1;
# - N rows of C probabilities, shape (N, C): usually **one-hot** rows — all 0
#   except a single 1 at the correct class.
#
# `one_hot` converts labels into one-hot rows. With one-hot rows the formula
# becomes a product and a sum, Tensor operations only:
#
#     loss = mean over rows of ( -Σ_c onehot[n, c] · log_softmax(logits)[n, c] )
#
# (the zeros discard every class but the correct one). The same formula works for
# any probability rows, so both target forms share one line of arithmetic.
#
# NOTE: multiplying by a one-hot (N, C) array costs N·C extra work and bytes to
# pick N numbers. Indexing, `log_probs[np.arange(N), labels]`, would pick them
# directly and is what large frameworks do; we use the product because it
# handles both target forms at once and is easy to check.


# %%
def one_hot(labels, num_classes: int) -> np.ndarray:
    """(N,) whole-number labels in [0, num_classes) -> (N, num_classes) float32 rows of
    zeros with a single 1 at each label.

    >>> one_hot([2, 0], 3)
    array([[0., 0., 1.],
           [1., 0., 0.]], dtype=float32)

    Raises ValueError naming the first bad label. Cost: N·num_classes·4 bytes (not
    num_classes² — np.eye(num_classes)[labels] would build the whole identity first).
    """
    labels = np.asarray(labels)
    ### BEGIN SOLUTION 04.3
    if labels.ndim != 1:
        raise ValueError(f"one_hot expects one label per example, shape (N,), got {labels.shape}")
    bad = (labels != np.round(labels)) | (labels < 0) | (labels >= num_classes)
    if np.any(bad):
        raise ValueError(
            f"class labels must be whole numbers from 0 to {num_classes - 1} (there are "
            f"{num_classes} classes), found {labels[bad][0].item()} at position "
            f"{int(np.argmax(bad))}. Check that labels start at 0 and that the model has one "
            f"output per class."
        )
    rows = np.zeros((len(labels), num_classes), dtype=np.float32)
    rows[np.arange(len(labels)), labels.astype(np.int64)] = 1.0  # one 1 per row
    return rows
    ### END SOLUTION


class CrossEntropyLoss(Module):
    """Mean cross-entropy of (N, C) logits against N class labels (shape (N,)) or N
    probability rows (shape (N, C), e.g. one-hot). Returns a Tensor of shape ().

    >>> CrossEntropyLoss()(Tensor([[1000.0, -1000.0], [-1000.0, 1000.0]]), [0, 0]).item()
    1000.0

    (row 0 is confidently right: 0; row 1 confidently wrong: 2000; mean 1000.)
    Stable for any finite logits. Cost: 5 new (N, C) tensors (3 in log_softmax, the
    one-hot rows and their product): 20 bytes per logit; 04.6 measures it.
    """

    def forward(self, logits: Tensor, targets) -> Tensor:
        ### BEGIN SOLUTION 04.3
        if logits.ndim != 2:
            raise ValueError(
                f"CrossEntropyLoss expects logits of shape (N, C) — one row of C class scores "
                f"per example — got shape {logits.shape}"
            )
        values = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
        if values.shape == logits.shape:
            rows = values.astype(np.float32)  # already one probability row per example
        elif values.shape == logits.shape[:1]:
            rows = one_hot(values, logits.shape[1])
        else:
            raise ValueError(
                f"CrossEntropyLoss: for logits of shape {logits.shape}, targets must be "
                f"{logits.shape[0]} class labels, shape ({logits.shape[0]},), or one row of "
                f"probabilities per example, shape {logits.shape}; got shape {values.shape}"
            )
        picked = log_softmax(logits, axis=-1) * Tensor(rows)  # zero except the target class
        return -picked.sum(axis=-1).mean()
        ### END SOLUTION


# %% [markdown]
# ## 04.4 Binary cross-entropy — for yes/no answers
#
# With one output per question and targets y in [0, 1] (usually exactly 0 or 1),
# the model's probability of "yes" is p = sigmoid(z) of its logit z, and
#
#     BCE = -[ y·log(p) + (1 - y)·log(1 - p) ]
#
# **Why this class takes logits, not probabilities.** In float32, sigmoid(17)
# rounds to exactly 1.0, so for y = 0 the formula asks for log(1 - 1.0) = log 0 =
# `-inf` — the loss becomes infinite although the true value is a modest 17.0. Once
# p has been rounded, the information is gone. So BinaryCrossEntropyLoss takes the
# raw logit z and never forms p. With log sigmoid(z) = -softplus(-z),
# log(1 - sigmoid(z)) = -softplus(z), and softplus(-z) = softplus(z) - z, the
# formula simplifies to
#
#     BCE = softplus(z) - z·y,     softplus(z) = log(1 + e^z)
#
# and **softplus** has a stable form of its own: `max(z, 0) + log(1 + e^(-|z|))`.
# With your ReLU, `max(z, 0) = relu(z)` and `-|z| = z - 2·relu(z)`, so the
# exponent is never positive and the `log` argument lies in (1, 2].


# %%
class BinaryCrossEntropyLoss(Module):
    """Mean binary cross-entropy from LOGITS z (raw scores, not sigmoid outputs) and
    targets y in [0, 1] of the same shape: mean(softplus(z) - z·y). Returns shape ().

    >>> BinaryCrossEntropyLoss()(Tensor([17.0, -1000.0]), [0.0, 0.0]).item()
    8.5

    (z = 17 with y = 0 costs 17.00000004, which rounds to 17.0 in float32; z = -1000
    with y = 0 costs 0; the mean is 8.5.)
    Stable for any finite logits. Cost: 12 new tensors of z's size, 48 bytes per entry.
    """

    def forward(self, logits: Tensor, targets) -> Tensor:
        targets = as_targets(targets)
        ### BEGIN SOLUTION 04.4
        if logits.shape != targets.shape:
            raise ValueError(
                f"BinaryCrossEntropyLoss needs logits and targets of the same shape, got "
                f"logits {logits.shape} and targets {targets.shape}"
            )
        outside = (targets.data < 0) | (targets.data > 1)
        if np.any(outside):
            raise ValueError(
                f"BinaryCrossEntropyLoss targets are probabilities in [0, 1] (usually 0 or 1), "
                f"found {targets.data[outside][0]}. For class labels 0..C-1 with C > 2 use "
                f"CrossEntropyLoss."
            )
        positive_part = ReLU()(logits)  # max(z, 0)
        minus_abs = logits - positive_part * 2  # -|z| = z - 2·max(z, 0), never positive
        softplus = positive_part + (minus_abs.exp() + 1).log()  # log(1 + e^z), stable
        return (softplus - logits * targets).mean()
        ### END SOLUTION


# %% [markdown]
# ## 04.5 Where float32's exp stops being trustworthy
#
# `np.finfo(np.float32)` describes the format: `.max` is the largest finite value
# (about 3.4·10³⁸) and `.tiny` the smallest positive **normal** value (about
# 1.2·10⁻³⁸; below it numbers lose precision digit by digit until they round to
# 0). `exp(x)` is a normal finite float32 exactly when log(tiny) ≤ x ≤ log(max).
# Compute those two limits. Every stable formula in this module works by keeping
# exponents inside (or harmlessly below) this window.


# %%
def exp_limits(dtype=np.float32) -> tuple[float, float]:
    """(low, high): exp(x) is a finite, normal number of `dtype` for low <= x <= high.

    float32: about (-87.34, 88.72); float64: about (-708.40, 709.78).
    """
    ### BEGIN SOLUTION 04.5
    info = np.finfo(dtype)
    return float(np.log(info.tiny)), float(np.log(info.max))
    ### END SOLUTION


# %% [markdown]
# ## 04.6 The cost of the loss next to the model
#
# A loss looks like a footnote after a model. Measure it. With `count_tensors`
# (Module 02) you can count every byte a call allocates. Count the model's
# forward pass on x, then the loss on the model's output, and return both. The
# demo below runs it for a 784 → 128 → C MLP on 64 examples. With C = 10 classes
# the loss allocates about a tenth of what the model does; with C = 1,000 already
# twice as much, because every one of its temporaries has N·C entries.


# %%
def loss_vs_model_bytes(model, loss, x: Tensor, targets) -> tuple[int, int]:
    """(bytes allocated by model(x), bytes allocated by loss(model(x), targets)),
    each measured with count_tensors. Runs the model twice: once measured, once to
    get the logits that the loss receives."""
    ### BEGIN SOLUTION 04.6
    _, model_bytes = count_tensors(model, x)
    logits = model(x)
    _, loss_bytes = count_tensors(loss, logits, targets)
    return model_bytes, loss_bytes
    ### END SOLUTION


# %% [markdown]
# ## Try it
#
# Run this file (`python modules/04_losses/losses.py`): the float32 window of
# `exp`, naive formulas failing where the stable ones do not, and the cost table.

# %%
if __name__ == "__main__":
    from tinytorch.nn import Linear, Sequential

    low, high = exp_limits()
    print(f"float32 exp is a normal finite number for {low:.2f} <= x <= {high:.2f}")

    logits = np.array([17.0, 1000.0], dtype=np.float32)
    with np.errstate(all="ignore"):  # let the naive formula fail quietly, to show the result
        probability = 1 / (1 + np.exp(-logits))
        naive = -np.log(1 - probability)
    stable = BinaryCrossEntropyLoss()
    print(f"BCE with y = 0 at z = {logits}: naive {naive}, stable", end=" ")
    print([round(stable(Tensor([z]), [0.0]).item(), 4) for z in logits])

    scores = Tensor([[1000.0, 0.0, -1000.0]])
    print("CrossEntropyLoss on [1000, 0, -1000], each target:", end=" ")
    print([CrossEntropyLoss()(scores, [label]).item() + 0.0 for label in range(3)])  # no -0.0

    n = 64
    x = Tensor(np.random.default_rng(0).normal(size=(n, 784)))
    print(f"\n{'classes C':>10} {'model bytes':>14} {'loss bytes':>14} {'loss/model':>11}")
    for classes in (10, 100, 1_000, 10_000):
        model = Sequential(Linear(784, 128, rng=0), ReLU(), Linear(128, classes, rng=1))
        labels = np.arange(n) % classes
        model_bytes, loss_bytes = loss_vs_model_bytes(model, CrossEntropyLoss(), x, labels)
        print(
            f"{classes:>10,} {model_bytes:>14,} {loss_bytes:>14,} {loss_bytes / model_bytes:>11.2f}"
        )
