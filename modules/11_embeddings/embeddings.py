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
# # Module 11 — Embeddings
#
# A tokenizer turns text into integer ids, but an id is a name, not a quantity:
# token 7 is not "bigger" than token 3. An **embedding** gives every id in the
# vocabulary its own learned vector. The layer is a table of shape
# (vocab_size, dim) and the forward pass just *looks up* one row per id:
#
#     ids (B, N) of ints  →  table[ids]  →  vectors (B, N, dim)
#
# A lookup has no notion of order: "dog bites man" and "man bites dog" give the
# same bag of vectors. A **positional encoding** adds a vector that depends on
# the position 0, 1, 2, … to each token vector. You build two: a fixed
# **sinusoidal** one (no parameters) and a learned one (a second table).
#
# **Systems concept: a big table, a small gradient.** The table is
# vocab_size × dim × 4 bytes — for a 50,257-token vocabulary and dim 768 that is
# 154 MB, often the largest single tensor of a language model. Yet one batch
# looks up only a few hundred rows, and only those rows get a gradient. The
# backward pass you write touches only the looked-up rows (**row-sparse**
# gradient), adding the contributions of an id that appears several times.
#
# | exercise | what you write |
# |---|---|
# | 11.1 embedding_lookup | `Embedding`: the table and the lookup |
# | 11.2 embedding_backward | the row-sparse gradient, with `np.add.at` |
# | 11.3 sinusoidal_encoding | fixed sine/cosine position vectors |
# | 11.4 learned_encoding | a learned table of position vectors |
# | 11.5 embedding_memory | bytes of the table and of its gradient |

# %%
from __future__ import annotations

import numpy as np

from tinytorch.core import Tensor, attach_backward
from tinytorch.nn import Module

# %% [markdown]
# ## 11.1 — The lookup
#
# The table is a parameter of shape (vocab_size, dim), initialised from a normal
# distribution with standard deviation `init_std` (0.02, small, so that early
# training is not dominated by random directions). The forward pass is NumPy
# fancy indexing, `table.data[ids]`: for ids of shape (B, N) it returns
# (B, N, dim), a copy of the selected rows.
#
# Check the ids first: they must be integers in [0, vocab_size). An id that is out
# of range usually means the tokenizer and the embedding disagree on the
# vocabulary size — say so in the error.
#
# The code after your region attaches 11.2's backward rule to the result.


# %%
def _as_ids(ids) -> np.ndarray:
    """Token ids as an int64 array; a Tensor's float32 data is converted back to ints."""
    data = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
    if data.size and not np.all(np.equal(np.mod(data, 1), 0)):
        raise TypeError(
            f"token ids must be whole numbers, got {data.dtype} values like {data.flat[0]}"
        )
    return data.astype(np.int64)


class Embedding(Module):
    """A learned vector per token id: ids (...) → vectors (..., dim).

    Parameters: weight (vocab_size, dim), vocab_size·dim numbers, 4 bytes each.
    Forward cost: a copy of the selected rows, 4·ids.size·dim bytes, no arithmetic.
    Backward: only the rows that were looked up receive gradient (11.2).
    """

    def __init__(self, vocab_size: int, dim: int, init_std: float = 0.02, rng=None):
        self.vocab_size, self.dim = vocab_size, dim
        rng = np.random.default_rng(rng)  # a seed or a Generator, as in Linear
        self.weight = Tensor(rng.normal(0.0, init_std, size=(vocab_size, dim)), requires_grad=True)

    def forward(self, ids) -> Tensor:
        ids = _as_ids(ids)
        ### BEGIN SOLUTION 11.1
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            bad = ids[(ids < 0) | (ids >= self.vocab_size)][0]
            raise IndexError(
                f"token id {bad} is outside this embedding's vocabulary [0, {self.vocab_size}). "
                f"Check that the tokenizer's vocabulary size matches Embedding(vocab_size=...)."
            )
        vectors = self.weight.data[ids]
        ### END SOLUTION
        table = self.weight

        def backward(grad_out: np.ndarray):
            return (embedding_backward(grad_out, ids, table.shape[0]),)

        return attach_backward(Tensor(vectors), (table,), backward)

    def extra_repr(self) -> str:
        return f"vocab_size={self.vocab_size}, dim={self.dim}"


# %% [markdown]
# ## 11.2 — The row-sparse gradient
#
# Output row `out[b, n]` is a copy of `weight[ids[b, n]]`, so its gradient
# `grad_out[b, n]` belongs to table row `ids[b, n]`. Start from zeros of the table's
# shape and add each output row's gradient to its id's row.
#
# The trap: `grad[ids] += grad_out` is wrong when an id repeats ("the cat and the
# dog"): NumPy's buffered `+=` writes each repeated row once, and one
# contribution is lost. `np.add.at(grad, ids, grad_out)` adds all of them. Rows of
# ids that did not occur stay exactly zero.


# %%
def embedding_backward(grad_out: np.ndarray, ids: np.ndarray, vocab_size: int) -> np.ndarray:
    """Gradient of the table for vectors = table[ids].

    grad_out (..., dim) with ids (...) → (vocab_size, dim): row v is the sum of grad_out
    over every position whose id is v; rows of ids that were not looked up are 0.
    Cost: a dense (vocab_size, dim) float32 array, of which only the looked-up rows
    are ever written: ids.size·dim additions.
    """
    dim = grad_out.shape[-1]
    ### BEGIN SOLUTION 11.2
    grad = np.zeros((vocab_size, dim), dtype=np.float32)
    np.add.at(grad, ids.reshape(-1), grad_out.reshape(-1, dim))
    return grad
    ### END SOLUTION


# %% [markdown]
# ## 11.3 — Sinusoidal positional encoding
#
# Position p gets a vector of `dim` numbers made of sines and cosines at `dim/2`
# frequencies, from fast to very slow:
#
#     PE[p, 2i]   = sin(p / 10000^(2i/dim))
#     PE[p, 2i+1] = cos(p / 10000^(2i/dim))
#
# Every position gets a different vector, nearby positions get similar ones, and
# the values stay in [-1, 1] however long the sequence. It has no parameters: the
# table is computed once (NumPy, float32) and added to the input. `dim` must be even.
# Build it with broadcasting, no loops: positions as a column (max_len, 1) times
# frequencies as a row (dim/2,).


# %%
def sinusoidal_positions(max_len: int, dim: int) -> np.ndarray:
    """The (max_len, dim) float32 table above. Cost: 4·max_len·dim bytes, computed once."""
    if dim % 2:
        raise ValueError(
            f"sinusoidal encoding pairs a sine with a cosine: dim must be even, got {dim}"
        )
    ### BEGIN SOLUTION 11.3
    positions = np.arange(max_len, dtype=np.float64)[:, None]  # (max_len, 1)
    frequencies = 1.0 / 10000.0 ** (np.arange(0, dim, 2, dtype=np.float64) / dim)  # (dim/2,)
    angles = positions * frequencies  # (max_len, dim/2)
    table = np.empty((max_len, dim), dtype=np.float32)
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles)
    return table
    ### END SOLUTION


def _check_positions(x: Tensor, max_len: int, dim: int) -> None:
    if x.ndim < 2 or x.shape[-1] != dim:
        raise ValueError(f"expected vectors of shape (..., positions, {dim}), got {x.shape}")
    if x.shape[-2] > max_len:
        raise ValueError(
            f"the sequence has {x.shape[-2]} positions but this encoding was built for at most "
            f"{max_len} (max_len). Create it with a larger max_len or shorten the input."
        )


class SinusoidalPositionalEncoding(Module):
    """x (..., N, dim) → x + PE[:N]: fixed sine/cosine position vectors, no parameters."""

    def __init__(self, max_len: int, dim: int):
        self.max_len, self.dim = max_len, dim
        self.table = sinusoidal_positions(max_len, dim)  # a NumPy constant, not a parameter

    def forward(self, x: Tensor) -> Tensor:
        _check_positions(x, self.max_len, self.dim)
        return x + Tensor(self.table[: x.shape[-2]])

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, dim={self.dim}"


PositionalEncoding = SinusoidalPositionalEncoding

# %% [markdown]
# ## 11.4 — Learned positional encoding
#
# The alternative: one learned vector per position, a (max_len, dim) parameter
# initialised like the embedding table. The forward pass adds its first N rows —
# `self.weight[:N]` is Tensor indexing, so its gradient (for the rows that were
# used) comes for free. It can learn whatever position pattern helps, but knows
# nothing about positions ≥ max_len.


# %%
class LearnedPositionalEncoding(Module):
    """x (..., N, dim) → x + weight[:N] with a learned weight of shape (max_len, dim).

    Parameters: max_len·dim numbers. Cost: one addition per entry of x.
    """

    def __init__(self, max_len: int, dim: int, init_std: float = 0.02, rng=None):
        self.max_len, self.dim = max_len, dim
        rng = np.random.default_rng(rng)  # a seed or a Generator, as in Linear
        ### BEGIN SOLUTION 11.4
        self.weight = Tensor(rng.normal(0.0, init_std, size=(max_len, dim)), requires_grad=True)
        ### END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        _check_positions(x, self.max_len, self.dim)
        ### BEGIN SOLUTION 11.4
        return x + self.weight[: x.shape[-2]]
        ### END SOLUTION

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, dim={self.dim}"


# %% [markdown]
# ## 11.5 — What the table costs
#
# Three numbers, all in bytes:
#
# * the table itself: vocab_size · dim · bytes_per_value;
# * its gradient stored densely, as `.grad` is here: the same again;
# * the same gradient stored row-sparse: for each of the `num_unique_ids` rows that
#   were looked up, its dim values plus one 8-byte int64 row index.
#
# For GPT-2's vocabulary (50,257 ids, dim 768) and a batch that touches 2,000
# distinct ids the dense gradient is 154 MB, the row-sparse one about 6 MB.


# %%
def embedding_table_bytes(vocab_size: int, dim: int, bytes_per_value: int = 4) -> int:
    """Bytes of a (vocab_size, dim) table — and of its dense gradient."""
    ### BEGIN SOLUTION 11.5
    return vocab_size * dim * bytes_per_value
    ### END SOLUTION


def sparse_gradient_bytes(num_unique_ids: int, dim: int, bytes_per_value: int = 4) -> int:
    """Bytes of a row-sparse gradient: num_unique_ids rows of dim values, plus one int64
    (8-byte) row index per row."""
    ### BEGIN SOLUTION 11.5
    return num_unique_ids * (dim * bytes_per_value + 8)
    ### END SOLUTION


# %% [markdown]
# ## Try it

# %%
if __name__ == "__main__":
    from tinytorch.core import enable_autograd

    enable_autograd()
    table = Embedding(10, 4, rng=0)
    ids = np.array([[1, 2, 1], [3, 1, 0]])
    vectors = table(ids)
    print("vectors:", vectors.shape)
    vectors.sum().backward()
    print("rows with a gradient:", np.flatnonzero(np.abs(table.weight.grad.data).sum(axis=1)))
    print("gradient of row 1 (looked up 3 times):", table.weight.grad.data[1])
    full = embedding_table_bytes(50_257, 768)
    print(
        f"GPT-2 table: {full:,} bytes; row-sparse gradient of 2,000 ids: "
        f"{sparse_gradient_bytes(2_000, 768):,} bytes"
    )
