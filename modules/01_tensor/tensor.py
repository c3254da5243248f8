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
# # Module 01 — Tensor
#
# Every number a model reads, stores or produces lives in a **tensor**: an
# n-dimensional grid of numbers with a **shape** (how many entries along each
# axis) and a **dtype** (how each entry is stored). In this module you build the
# `Tensor` class that every later module stands on.
#
# **Systems concept: memory.** A tensor is a block of bytes. A float32 entry is
# 4 bytes, so a 1000×1000 tensor is 4,000,000 bytes before you do anything with
# it. Knowing that number before you allocate is the first habit of a systems
# engineer, and `memory_footprint()` makes it a method.
#
# You edit only this file. `from tinytorch.core import Tensor` reads it directly,
# so tests, milestones and your own scripts always run what you saved.
#
# | exercise | what you write |
# |---|---|
# | 01.1 storage | float32 storage; `shape`, `dtype`, `size`, `ndim` |
# | 01.2 elementwise_arithmetic | `+`, `*`, `**` with broadcasting |
# | 01.3 matmul | matrix multiplication with an error message that teaches |
# | 01.4 shape_ops | `reshape`, `transpose` |
# | 01.5 reductions | `sum`, `max` along an `axis` |
# | 01.6 math_ops | `exp`, `log`, indexing |
# | 01.7 memory_footprint | bytes held by the data |

# %%
from __future__ import annotations

import numpy as np

from tinytorch._cells import part_of

# %% [markdown]
# ## Broadcasting in one paragraph
#
# When two tensors of different shapes meet in `+` or `*`, NumPy lines their
# shapes up **from the right** and stretches every axis of length 1 to match the
# other side: `(3, 1) + (4,)` → `(3, 4)`. Nothing is copied: the stretched axis is
# read again and again (its stride is 0). That is why `x + bias` with a `(64, 10)`
# batch and a `(10,)` bias never builds a `(64, 10)` copy of the bias: the only new
# memory is the `(64, 10)` output, as for any `+`. If two aligned axes differ and
# neither is 1, the shapes are incompatible and NumPy raises.
#
# ## A few operations, many methods
#
# Only some methods below do real work on `self.data` — `+`, `*`, `**`, `@`,
# `sum`, `max`, `reshape`, `transpose`, `exp`, `log` and indexing. Everything else
# (`-`, `/`, `mean`, `.T` …) is written in terms of those. Fewer places doing
# arithmetic means fewer places for a mistake to hide — and it will pay off
# again later in the course, when each of those few operations learns a second rule.
#
# ## One class, one cell per exercise
#
# `Tensor` is written across several cells so that each exercise has its own. The cell
# below defines the class with its storage (01.1). Each later cell adds one exercise's
# methods: `@part_of(Tensor)` copies every method of the small class under it onto
# `Tensor`, exactly as if it had been written inside `class Tensor`. In a notebook,
# run the cells in order (or "Run All") after each change.


# %%
class Tensor:
    """An n-dimensional array of float32 numbers.

    >>> x = Tensor([[1, 2, 3], [4, 5, 6]])
    >>> x.shape, x.size, x.memory_footprint()
    ((2, 3), 6, 24)

    `requires_grad`, `grad` and `backward()` are here from the start but dormant:
    a later module switches them on without changing a line of this file.
    """

    def __init__(self, data, requires_grad: bool = False):
        """Wrap `data` (number, nested list or array) as float32. Copies only if the
        input is not already a float32 array: 4 bytes per entry."""
        ### BEGIN SOLUTION 01.1
        self.data = np.asarray(data, dtype=np.float32)
        ### END SOLUTION
        self.requires_grad = requires_grad
        self.grad = None

    # ---- 01.1 storage ----------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """Length of each axis, e.g. (2, 3)."""
        ### BEGIN SOLUTION 01.1
        return self.data.shape
        ### END SOLUTION

    @property
    def dtype(self) -> np.dtype:
        """How each entry is stored: always float32 here."""
        ### BEGIN SOLUTION 01.1
        return self.data.dtype
        ### END SOLUTION

    @property
    def size(self) -> int:
        """Number of entries: the product of the shape."""
        ### BEGIN SOLUTION 01.1
        return self.data.size
        ### END SOLUTION

    @property
    def ndim(self) -> int:
        """Number of axes."""
        ### BEGIN SOLUTION 01.1
        return self.data.ndim
        ### END SOLUTION


# %% [markdown]
# ### 01.2 Elementwise arithmetic
#
# `+`, `*` and `**` work entry by entry on the two arrays, broadcasting their shapes,
# and always hand back a new `Tensor`. The other operators (`-`, `/`, the reflected
# `2 + x`) are given: each is one line built from those three.


# %%
@part_of(Tensor)
class TensorArithmetic:
    """01.2: `+`, `*`, `**`, and the operators built from them."""

    def __add__(self, other) -> Tensor:
        """Elementwise sum with broadcasting. Output shape: the broadcast of both shapes.
        Cost: one float32 result, 4 bytes per output entry; one FLOP per entry."""
        other = as_tensor(other)
        ### BEGIN SOLUTION 01.2
        return Tensor(self.data + other.data)
        ### END SOLUTION

    def __mul__(self, other) -> Tensor:
        """Elementwise product with broadcasting. One FLOP per output entry."""
        other = as_tensor(other)
        ### BEGIN SOLUTION 01.2
        return Tensor(self.data * other.data)
        ### END SOLUTION

    def __pow__(self, exponent: float) -> Tensor:
        """Raise every entry to a plain-number power (x ** 2, x ** -1, x ** 0.5)."""
        if isinstance(exponent, Tensor):
            raise TypeError("the exponent must be a plain number such as 2 or 0.5, not a Tensor")
        ### BEGIN SOLUTION 01.2
        return Tensor(self.data**exponent)
        ### END SOLUTION

    # Everything below is built from +, * and ** — nothing new to implement.
    def __neg__(self) -> Tensor:
        return self * -1.0

    def __sub__(self, other) -> Tensor:
        return self + (-as_tensor(other))

    def __truediv__(self, other) -> Tensor:
        return self * as_tensor(other) ** -1.0

    def __radd__(self, other) -> Tensor:
        return self + other

    def __rmul__(self, other) -> Tensor:
        return self * other

    def __rsub__(self, other) -> Tensor:
        return as_tensor(other) - self

    def __rtruediv__(self, other) -> Tensor:
        return as_tensor(other) / self


# %% [markdown]
# ### 01.3 Matrix multiplication
#
# `(n, k) @ (k, m)` is `(n, m)`; stacks of matrices multiply pairwise. When the inner
# sizes disagree, the error you raise is the first thing a student sees: name both shapes.


# %%
@part_of(Tensor)
class TensorMatmul:
    """01.3: the matrix product and the `@` operator."""

    def matmul(self, other) -> Tensor:
        """Matrix product (..., n, k) @ (..., k, m) -> (..., n, m), batched like np.matmul.

        Cost: 2·n·k·m FLOPs per matrix in the batch; output 4·n·m bytes.
        Raises ValueError naming both shapes when the inner dimensions differ.
        """
        other = as_tensor(other)
        ### BEGIN SOLUTION 01.3
        if self.ndim == 0 or other.ndim == 0:
            raise ValueError(
                f"matmul needs tensors with at least one axis, got shapes {self.shape} and "
                f"{other.shape}. For scaling by a number use * instead of @."
            )
        inner_left = self.shape[-1]
        inner_right = other.shape[-2] if other.ndim >= 2 else other.shape[0]
        if inner_left != inner_right:
            raise ValueError(
                f"matmul shape mismatch: {self.shape} @ {other.shape}. The last axis of the "
                f"left tensor ({inner_left}) must equal the second-to-last axis of the right "
                f"tensor ({inner_right}). Check the order of the operands, or whether one of "
                f"them should be transposed (x.T)."
            )
        return Tensor(np.matmul(self.data, other.data))
        ### END SOLUTION

    def __matmul__(self, other) -> Tensor:
        return self.matmul(other)

    def __rmatmul__(self, other) -> Tensor:
        return as_tensor(other).matmul(self)


# %% [markdown]
# ### 01.4 Shape operations
#
# `reshape` and `transpose` change how the same bytes are read, not the bytes: the
# result shares memory with the input.


# %%
@part_of(Tensor)
class TensorShapeOps:
    """01.4: `reshape`, `transpose` and `.T`."""

    def reshape(self, *shape: int) -> Tensor:
        """Same entries, new shape; accepts reshape(2, 3) or reshape((2, 3)) and one -1.
        No copy when the data is contiguous: 0 new bytes."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        ### BEGIN SOLUTION 01.4
        return Tensor(self.data.reshape(shape))
        ### END SOLUTION

    def transpose(self, *axes: int) -> Tensor:
        """Permute axes; with no arguments swap the last two (a matrix transpose), and
        leave a 0-d or 1-d tensor as it is, as NumPy does. Returns a view: 0 new bytes,
        only the strides change."""
        if not axes:
            axes = tuple(range(self.ndim))  # fewer than two axes: nothing to swap
            if self.ndim >= 2:
                axes = axes[:-2] + (self.ndim - 1, self.ndim - 2)
        elif len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        ### BEGIN SOLUTION 01.4
        return Tensor(self.data.transpose(axes))
        ### END SOLUTION

    @property
    def T(self) -> Tensor:
        return self.transpose() if self.ndim >= 2 else self


# %% [markdown]
# ### 01.5 Reductions
#
# `sum` and `max` collapse the axes they reduce, or keep them with length 1 when
# `keepdims=True` (so the result still broadcasts against the input). `mean` is given.


# %%
@part_of(Tensor)
class TensorReductions:
    """01.5: `sum`, `max` and `mean` along an axis."""

    def sum(self, axis=None, keepdims: bool = False) -> Tensor:
        """Add entries along `axis` (None: all of them). keepdims keeps the reduced axes
        with length 1, so the result still broadcasts against the input."""
        ### BEGIN SOLUTION 01.5
        return Tensor(self.data.sum(axis=axis, keepdims=keepdims))
        ### END SOLUTION

    def max(self, axis=None, keepdims: bool = False) -> Tensor:
        """Largest entry along `axis` (None: of all of them)."""
        ### BEGIN SOLUTION 01.5
        return Tensor(self.data.max(axis=axis, keepdims=keepdims))
        ### END SOLUTION

    def mean(self, axis=None, keepdims: bool = False) -> Tensor:
        """Average along `axis`: a sum divided by how many entries were added."""
        total = self.sum(axis=axis, keepdims=keepdims)
        return total * (total.size / self.size)


# %% [markdown]
# ### 01.6 Math and indexing
#
# `exp`, `log` and indexing return new Tensors of the shape NumPy gives.


# %%
@part_of(Tensor)
class TensorMath:
    """01.6: `exp`, `log` and indexing."""

    def exp(self) -> Tensor:
        """e ** x for every entry. Overflows to inf above about 88 in float32."""
        ### BEGIN SOLUTION 01.6
        return Tensor(np.exp(self.data))
        ### END SOLUTION

    def log(self) -> Tensor:
        """Natural logarithm of every entry (entries must be positive)."""
        ### BEGIN SOLUTION 01.6
        return Tensor(np.log(self.data))
        ### END SOLUTION

    def __getitem__(self, index) -> Tensor:
        """NumPy indexing: x[0], x[:, 1:3], x[[2, 0]]. Slices are views (0 new bytes);
        lists of indices copy the selected entries."""
        if isinstance(index, Tensor):
            index = index.data.astype(np.int64)
        ### BEGIN SOLUTION 01.6
        return Tensor(self.data[index])
        ### END SOLUTION


# %% [markdown]
# ### 01.7 Memory footprint
#
# How many bytes do the entries take? The answer depends on two numbers you already have.


# %%
@part_of(Tensor)
class TensorMemory:
    """01.7: bytes held by the data."""

    def memory_footprint(self) -> int:
        """Bytes held by the entries: size × 4 for float32 (the small Python object
        around them is not counted)."""
        ### BEGIN SOLUTION 01.7
        return self.size * self.data.itemsize
        ### END SOLUTION


# %% [markdown]
# ### Given: conveniences
#
# Nothing to write here: `backward()` stays dormant until a later module, and a few
# helpers (`numpy()`, `item()`, `len()`, the printed form) make tensors pleasant to use.


# %%
@part_of(Tensor)
class TensorConveniences:
    """Given: dormant `backward()` and small conveniences."""

    # ---- dormant until a later module -------------------------------------
    def backward(self, grad=None) -> None:
        """Dormant: does nothing useful until a later module switches it on."""
        raise RuntimeError(
            "Tensor.backward() is not active yet: it is switched on in a later module. "
            "Module 01 only stores requires_grad and grad."
        )

    # ---- conveniences ---------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The underlying float32 array (shared, not copied)."""
        return self.data

    def item(self) -> float:
        """The single number held by a one-entry tensor."""
        if self.size != 1:
            raise ValueError(
                f"item() needs a tensor with one entry, this one has shape {self.shape}"
            )
        return float(self.data.reshape(()))

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        body = np.array2string(self.data, precision=4, separator=", ", threshold=20)
        flag = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({body}, shape={self.shape}{flag})"


def as_tensor(value) -> Tensor:
    """Return `value` unchanged if it is a Tensor, else wrap it (numbers, lists, arrays)."""
    return value if isinstance(value, Tensor) else Tensor(value)


# %% [markdown]
# ## Try it
#
# Run this file (`python modules/01_tensor/tensor.py`) or this cell to see
# broadcasting, a matmul and the memory of a realistic weight matrix.

# %%
if __name__ == "__main__":
    batch = Tensor(np.ones((64, 10)))
    bias = Tensor(np.arange(10))
    print("batch + bias:", (batch + bias).shape)
    weights = Tensor(np.zeros((784, 128)))
    print(f"784×128 float32 weights: {weights.memory_footprint():,} bytes")
    try:
        batch @ weights
    except ValueError as error:
        print("teaching error:", error)
