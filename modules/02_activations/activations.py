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
# # Module 02 — Activations
#
# A matrix product alone cannot make a model interesting: two of them in a row
# collapse into one, because `(x @ A) @ B == x @ (A @ B)`. However many you stack,
# the result is still a single matrix product. An **activation** is a
# **nonlinear** function applied to every entry between two matrix products; it
# is what stops the collapse. In this module you write the five that modern
# models use, as callable classes:
#
# | exercise | what you write | formula |
# |---|---|---|
# | 02.1 relu | `ReLU` | max(x, 0) |
# | 02.2 sigmoid | `Sigmoid` | 1 / (1 + e^(-x)) |
# | 02.3 tanh | `Tanh` | (e^x - e^(-x)) / (e^x + e^(-x)) |
# | 02.4 gelu | `GELU` | 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))) |
# | 02.5 softmax | `Softmax` | e^(x_i) / Σ_j e^(x_j) along one axis |
# | 02.6 count_tensors | `count_tensors` | how many tensors (and bytes) a call creates |
#
# **Systems concept: the cost of an elementwise function is memory, not
# arithmetic.** Each entry needs a handful of FLOPs, but each Tensor operation
# reads a whole tensor and writes a whole new one. A function composed of eight
# operations allocates about eight tensors the size of its input. Exercise 02.6
# builds the tool that counts them, and the demo at the bottom prints the bill.
#
# You edit only this file. `from tinytorch.nn import ReLU` reads it directly.

# %%
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from tinytorch.core import Tensor

# %% [markdown]
# ## Two rules for every function in this module
#
# **Rule 1 — build from Tensor operations only.** Write every activation with the
# operations your `Tensor` already has: `+ - * / **`, `exp`, `log`, `sum`, `max`.
# In Module 05, each of those few operations learns a second rule, and anything
# composed from them inherits it without a line of change. A result computed by
# NumPy from `x.data` and wrapped in a new `Tensor` is cut off from `x`: Module 05
# would not see how it was made. You may read `x.data` with NumPy for one thing
# only: to build a **constant**, such as a mask of zeros and ones, that you then
# combine with `x` through Tensor operations. The tests check this.
#
# **Rule 2 — never let `exp` see a large positive number.** In float32, `e^x`
# overflows to `inf` above x ≈ 88.7, and `inf / inf` is NaN. The textbook
# formulas of Sigmoid, Tanh, GELU and Softmax contain `e^x` or `e^(-x)`, so each
# breaks at one end of the number line. Every function below is rewritten so
# that `exp` only ever receives numbers ≤ 0: then `e^(...)` lies in (0, 1] and can
# only round down to 0, which is harmless. The tests call each activation at
# ±1000 and fail on any overflow warning, `inf` or NaN.
#
# The trick for rule 2 is `|x|`. For x ≥ 0, `-x = -|x|`; for x < 0, `x = -|x|`. So
# `exp(-|x|)` is the safe exponential on both sides, and a mask picks the right
# formula for each side. `sign_mask` below gives you the ±1 constant that turns
# `x` into `|x|` with a Tensor multiplication: `x * sign_mask(x)`.


# %%
def sign_mask(x: Tensor) -> Tensor:
    """Constant Tensor with +1 where x >= 0 and -1 where x < 0, so `x * sign_mask(x) == |x|`.

    NOTE: zero maps to +1, not to 0 as `np.sign` would. The values agree either way
    (0 times anything is 0), but `x * mask` also states how the result moves when x
    moves, and a 0 would claim that |x| does not move at all near 0. Module 05 reads
    exactly that statement. Cost: one comparison pass and one new tensor, 4 bytes per entry.
    """
    return Tensor(np.where(x.data >= 0, 1.0, -1.0))


class Activation:
    """Base of every activation here: call the object like a function, `act(x)`.

    Subclasses write `forward(x) -> Tensor`. Output shape == input shape (Softmax
    included); the input is never modified.
    """

    def __call__(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(
                f"{type(self).__name__} expects a Tensor, got {type(x).__name__}. "
                f"Wrap plain numbers, lists or arrays first: Tensor(values)."
            )
        return self.forward(x)

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


# %% [markdown]
# ## 02.1 ReLU — keep the positives, zero the rest
#
# `relu(x) = max(x, 0)`. `np.maximum(x.data, 0)` would compute the right numbers
# but break rule 1. Instead, build the constant mask `x.data > 0` (True → 1.0,
# False → 0.0 once wrapped in a Tensor) and multiply: `x * mask`. Entries where
# the mask is 1 pass through untouched; the rest become 0. No `exp` anywhere, so
# ReLU is stable for any input — and it is the cheapest activation of all. One
# floating-point rule needs care: `-inf * 0` is NaN, not 0, so an input of `-inf`
# must have its output set to 0 by hand.


# %%
class ReLU(Activation):
    """max(x, 0) entrywise, as `x * mask` with a constant 0/1 mask.

    >>> ReLU()(Tensor([-2.0, 0.0, 3.0])).data
    array([-0.,  0.,  3.], dtype=float32)

    (`-0.0` equals 0.0: it is what -2.0 * 0.0 gives in floating point.)
    Cost: 2 passes over x; allocates the mask and the result, 8 bytes per entry.
    """

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION 02.1
        mask = Tensor(x.data > 0)  # constant: 1.0 where x > 0, else 0.0
        # NOTE: floating point defines -inf · 0 as NaN, but relu(-inf) = max(-inf, 0) = 0.
        # Those entries are cut off by the mask (their slope is 0 either way), so only
        # their value needs setting: overwrite it in the result's own, fresh data.
        with np.errstate(invalid="ignore"):  # -inf · 0 may warn; it is replaced below
            result = x * mask
        result.data[np.isneginf(x.data)] = 0.0
        return result
        ### END SOLUTION


# %% [markdown]
# ## 02.2 Sigmoid — squash any number into (0, 1)
#
# `sigmoid(x) = 1 / (1 + e^(-x))` overflows for very negative x: e^(1000) = inf.
# The same function has a second form, `e^x / (1 + e^x)` (multiply top and bottom
# by e^x), which overflows for very positive x instead. Each form is safe exactly
# where the other is not, and with e = exp(-|x|) both use the same safe number:
#
# | side | safe form | with e = exp(-\|x\|) |
# |---|---|---|
# | x ≥ 0 | 1 / (1 + e^(-x)) | 1 / (1 + e) |
# | x < 0 | e^x / (1 + e^x) | e / (1 + e) |
#
# Only the numerator differs: 1 on one side, e on the other. With the constant
# mask m (1 where x ≥ 0, else 0) both sides are one expression:
#
#     sigmoid(x) = (m + (1 - m) * e) / (1 + e)
#
# The denominator lies in [1, 2], so the division is always safe.


# %%
class Sigmoid(Activation):
    """1 / (1 + e^(-x)) entrywise, in a form that never overflows: outputs in [0, 1].

    >>> Sigmoid()(Tensor([-1000.0, 0.0, 1000.0])).data
    array([0. , 0.5, 1. ], dtype=float32)

    Cost: 12 Tensor operations on tensors of x's size, each one pass over memory
    and one new tensor: 48 bytes per entry (02.6 measures it).
    """

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION 02.2
        e = (x * sign_mask(x) * -1.0).exp()  # exp(-|x|): always in (0, 1]
        m = Tensor(x.data >= 0)  # constant: which side of zero each entry is on
        return (m + (1 - m) * e) / (1 + e)
        ### END SOLUTION


# %% [markdown]
# ## 02.3 Tanh — squash into (-1, 1)
#
# tanh is an odd function, `tanh(-x) = -tanh(x)`, so compute it for |x| and put
# the sign back. Multiplying top and bottom of the formula in the table by
# e^(-|x|) gives, for the non-negative number |x|,
#
#     tanh(|x|) = (1 - e^(-2|x|)) / (1 + e^(-2|x|))
#
# which only ever exponentiates a number ≤ 0. Then `tanh(x) = s * tanh(|x|)` with
# s = sign_mask(x).
#
# NOTE: tanh is a rescaled sigmoid, `tanh(x) = 2 * sigmoid(2x) - 1`. Writing Tanh
# through your Sigmoid would also be correct and stable; we keep the two
# independent so that each one's tests grade only that one's code.


# %%
class Tanh(Activation):
    """tanh(x) entrywise, without overflow: outputs in [-1, 1].

    >>> Tanh()(Tensor([-1000.0, 0.0, 1000.0])).data
    array([-1.,  0.,  1.], dtype=float32)

    Cost: 10 new tensors of x's size, 40 bytes per entry.
    """

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION 02.3
        s = sign_mask(x)
        e = (x * s * -2.0).exp()  # exp(-2|x|): always in (0, 1]
        return s * (1 - e) / (1 + e)
        ### END SOLUTION


# %% [markdown]
# ## 02.4 GELU — a smooth ReLU
#
# GELU weighs each input by how likely a standard normal number is to be below
# it: `gelu(x) = x * Φ(x)`. Φ has no closed form with the operations we have, so
# models use the tanh approximation (its error is below 0.001 everywhere):
#
#     gelu(x) ≈ 0.5 * x * (1 + tanh(√(2/π) * (x + 0.044715 * x³)))
#
# Build it from your `Tanh` and Tensor arithmetic: GELU is a composition of
# pieces you already have. It inherits Tanh's stability; check that `x ** 3`
# stays finite at ±1000 (10⁹ is far below float32's limit of about 3.4·10³⁸).


# %%
GELU_SCALE = math.sqrt(2.0 / math.pi)  # √(2/π) ≈ 0.7979
GELU_CUBIC = 0.044715


class GELU(Activation):
    """Gaussian error linear unit, tanh approximation, entrywise.

    >>> GELU()(Tensor([-3.0, 0.0, 1.0])).data.round(4)
    array([-0.0036,  0.    ,  0.8412], dtype=float32)

    Cost: 17 tensors of x's size (Tanh's 10 included), 68 bytes per entry: the most
    expensive activation here.
    """

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION 02.4
        inner = (x + x**3 * GELU_CUBIC) * GELU_SCALE
        return 0.5 * x * (1 + Tanh()(inner))
        ### END SOLUTION


# %% [markdown]
# ## 02.5 Softmax — scores into probabilities
#
# Softmax turns a row of arbitrary scores into non-negative numbers that sum to 1:
# `softmax(x)_i = e^(x_i) / Σ_j e^(x_j)`. Unlike the others it is not entrywise:
# every output depends on the whole row (or whichever `axis` you choose).
#
# Stability comes from one identity: subtracting the same constant c from every score
# changes nothing, since `e^(x_i - c) / Σ_j e^(x_j - c)` has e^(-c) on top and
# bottom. Choose c = the row's maximum. Then every exponent is ≤ 0 (rule 2), the
# largest term is exactly e^0 = 1, and the sum is at least 1 — never 0, so the
# division is safe too.
#
# NOTE: take the maximum from `x.data` and wrap it as a constant Tensor. The
# result is the same for any constant, so nothing later needs to know which
# constant you used; `x.max(...)` would work but makes the maximum part of the
# computation for no benefit.


# %%
class Softmax(Activation):
    """exp(x) / sum(exp(x)) along `axis` (default: the last one). Output shape == input
    shape; entries in [0, 1] that sum to 1 along `axis`.

    >>> Softmax()(Tensor([[1000.0, 0.0, -1000.0]])).data
    array([[1., 0., 0.]], dtype=float32)

    Cost: 3 new tensors of x's size, plus 4 with `axis` reduced to length 1 and one
    single number: about 12 bytes per entry.
    """

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION 02.5
        shift = Tensor(x.data.max(axis=self.axis, keepdims=True))  # constant row maximum
        e = (x - shift).exp()  # every exponent <= 0: entries in (0, 1]
        return e / e.sum(axis=self.axis, keepdims=True)
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"Softmax(axis={self.axis})"


# %% [markdown]
# ## 02.6 count_tensors — measure what a function allocates
#
# Every Tensor operation returns a **new** Tensor, with a fresh float32 array
# behind it. So the memory a composed function needs is easy to state and easy to
# forget: roughly (number of operations) × (size of the input) × 4 bytes. Today
# most of those temporaries are freed as soon as the function returns. From
# Module 05 on they are not: the second rule of each operation needs its inputs
# again later, so every intermediate tensor stays alive after the call. The
# temporaries you count here become memory that stays allocated.
#
# Rather than estimate, measure. Every Tensor is born in `Tensor.__init__`, so
# replace that method for the duration of one call with a wrapper that runs the
# original and then writes down `self.data.nbytes`. Python looks methods up on
# the class at call time, so `Tensor.__init__ = wrapper` affects every Tensor
# created anywhere, including inside your Tensor operations. Put the original
# back in a `finally:` block, so that an exception inside `fn` cannot leave the
# whole program counting forever.


# %%
def count_tensors(fn: Callable, *args) -> tuple[int, int]:
    """Call `fn(*args)` once; return (tensors created during the call, total bytes of
    their data), counting every Tensor constructed until fn returns.

    >>> count_tensors(ReLU(), Tensor(np.zeros((64, 1000))))   # mask + result
    (2, 512000)

    The result of `fn` is discarded. Tensor.__init__ is restored afterwards, even if
    `fn` raises (the exception then propagates). Cost: whatever fn costs, plus one
    list append per Tensor.
    """
    ### BEGIN SOLUTION 02.6
    sizes: list[int] = []
    original_init = Tensor.__init__

    def counting_init(self, *init_args, **init_kwargs):
        original_init(self, *init_args, **init_kwargs)
        sizes.append(self.data.nbytes)

    Tensor.__init__ = counting_init
    try:
        fn(*args)
    finally:
        Tensor.__init__ = original_init
    return len(sizes), sum(sizes)
    ### END SOLUTION


# %% [markdown]
# ## Try it
#
# Run this file (`python modules/02_activations/activations.py`): each activation
# at ±1000, then what each one allocates for a (256, 1024) input.

# %%
if __name__ == "__main__":
    extremes = Tensor([-1000.0, -1.0, 0.0, 1.0, 1000.0])
    for activation in (ReLU(), Sigmoid(), Tanh(), GELU(), Softmax()):
        print(f"{activation!r:>18}: {np.round(activation(extremes).data, 4)}")

    x = Tensor(np.random.default_rng(0).normal(size=(256, 1024)))
    print(f"\ninput: {x.shape}, {x.memory_footprint():,} bytes")
    print(f"{'activation':>18} {'tensors':>8} {'bytes':>12} {'bytes/entry':>12}")
    for activation in (ReLU(), Sigmoid(), Tanh(), GELU(), Softmax()):
        tensors, total = count_tensors(activation, x)
        print(f"{activation!r:>18} {tensors:>8} {total:>12,} {total / x.size:>12.1f}")
