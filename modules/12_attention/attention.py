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
# # Module 12 — Attention
#
# A convolution looks at a fixed window around each position. **Attention** lets
# every position decide, from the data, which other positions matter. Each of the
# N positions of a sequence asks a question (its **query**), offers a label (its
# **key**) and carries content (its **value**). Position i compares its query with
# every key, turns the N similarity scores into weights with softmax, and returns
# the weighted average of the values:
#
#     Attention(Q, K, V) = softmax(Q Kᵀ / √d) V
#
# **Systems concept: quadratic memory.** The score matrix Q Kᵀ has one entry for
# every (query, key) pair: N² numbers per head. Doubling the sequence length
# quadruples it. At N = 4,096 one head's scores alone are 4,096² × 4 B = 64 MiB,
# and there is one such matrix per head, per sequence in the batch. You will
# measure it.
#
# | exercise | what you write |
# |---|---|
# | 12.1 scaled_dot_product_attention | softmax(Q Kᵀ / √d) V from Tensor operations |
# | 12.2 causal_mask | a mask so that position i only sees positions ≤ i |
# | 12.3 split_merge_heads | (B, N, D) ↔ (B, H, N, D/H) |
# | 12.4 multi_head_attention | the `MultiHeadAttention` layer |
# | 12.5 attention_memory | bytes of the score matrix: formula and measurement |

# %%
from __future__ import annotations

import math

import numpy as np

from tinytorch.core import Tensor
from tinytorch.nn import Linear, Module, Softmax

# A large negative score instead of -inf: exp(-1e9 - max) is exactly 0.0 in float32,
# yet a row whose every entry is masked still gives finite (uniform) weights, where
# -inf would give (-inf) - (-inf) = NaN.
MASK_VALUE = -1e9

# %% [markdown]
# ## 12.1 — Scaled dot-product attention
#
# Shapes, with any number of leading batch axes `...`:
#
#     Q (..., N_q, d)   K (..., N_k, d)   V (..., N_k, d_v)
#     scores  = Q @ Kᵀ / √d            (..., N_q, N_k)
#     weights = softmax(scores, last axis)
#     output  = weights @ V            (..., N_q, d_v)
#
# **Why √d?** If the entries of q and k are independent with variance 1, their dot
# product over d entries has variance d. Dividing by √d brings the scores back to
# variance 1, so softmax does not saturate into a one-hot vector with vanishing
# gradients as d grows.
#
# **Masks.** `mask` is a boolean array broadcastable to (..., N_q, N_k): True where
# a query may look at a key. Add MASK_VALUE to the scores where it is False — a
# constant Tensor built with NumPy, the only NumPy in this function. Everything
# else must be Tensor operations (`@`, `.transpose()`, `*`, `+`, `Softmax`), so that
# gradients reach Q, K and V without a line of backward code.


# %%
def scaled_dot_product_attention(
    q: Tensor, k: Tensor, v: Tensor, mask: np.ndarray | None = None
) -> tuple[Tensor, Tensor]:
    """softmax(q @ kᵀ / √d + masked) @ v → (output (..., N_q, d_v), weights (..., N_q, N_k)).

    Each row of `weights` sums to 1; entries where `mask` is False are 0.
    Cost: 2·N_q·N_k·d + 2·N_q·N_k·d_v FLOPs per batch entry, and the (N_q, N_k)
    score and weight matrices: 4·N_q·N_k bytes each — quadratic in sequence length.
    """
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"queries and keys must have the same last axis to be compared: q {q.shape}, "
            f"k {k.shape}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"every key needs one value: k has {k.shape[-2]} positions (shape {k.shape}), "
            f"v has {v.shape[-2]} (shape {v.shape})"
        )
    ### BEGIN SOLUTION 12.1
    d = q.shape[-1]
    scores = (q @ k.transpose()) * (1.0 / math.sqrt(d))
    if mask is not None:
        scores = scores + Tensor(np.where(mask, 0.0, MASK_VALUE))
    weights = Softmax(axis=-1)(scores)
    return weights @ v, weights
    ### END SOLUTION


# %% [markdown]
# ## 12.2 — The causal mask
#
# When a model predicts the next word of a sentence, position i must not peek at
# positions after i. The **causal mask** is an N×N boolean matrix that is True on
# and below the diagonal (key j ≤ query i) and False above it. `np.tril` builds it
# in one call.
#
#     N = 3:  [[ True, False, False],
#              [ True,  True, False],
#              [ True,  True,  True]]


# %%
def causal_mask(seq_len: int) -> np.ndarray:
    """(seq_len, seq_len) boolean array, True where key position ≤ query position.
    Cost: seq_len² bytes (one byte per bool)."""
    ### BEGIN SOLUTION 12.2
    return np.tril(np.ones((seq_len, seq_len), dtype=bool))
    ### END SOLUTION


# %% [markdown]
# ## 12.3 — Heads: split and merge
#
# One attention pattern per position is limiting: a word may need to look at its
# subject for one purpose and at the previous word for another. **Multi-head**
# attention runs H smaller attentions side by side. The D features of each
# position are cut into H groups of D/H:
#
#     split:  (B, N, D) → reshape (B, N, H, D/H) → transpose (B, H, N, D/H)
#     merge:  (B, H, N, D/H) → transpose (B, N, H, D/H) → reshape (B, N, D)
#
# After the split, the head axis is just another batch axis for the `@` of 12.1.
# Both are Tensor reshapes and transposes, so they cost no new gradient code.


# %%
def split_heads(x: Tensor, num_heads: int) -> Tensor:
    """(B, N, D) → (B, H, N, D/H). D must be divisible by H."""
    batch, length, dim = x.shape
    if dim % num_heads:
        raise ValueError(
            f"{dim} features cannot be split evenly into {num_heads} heads; choose a number "
            f"of heads that divides {dim}"
        )
    ### BEGIN SOLUTION 12.3
    return x.reshape(batch, length, num_heads, dim // num_heads).transpose(0, 2, 1, 3)
    ### END SOLUTION


def merge_heads(x: Tensor) -> Tensor:
    """(B, H, N, D/H) → (B, N, D): the inverse of split_heads."""
    batch, heads, length, head_dim = x.shape
    ### BEGIN SOLUTION 12.3
    return x.transpose(0, 2, 1, 3).reshape(batch, length, heads * head_dim)
    ### END SOLUTION


# %% [markdown]
# ## 12.4 — Multi-head attention
#
# Four dense layers of D → D: three make Q, K and V from the same input x
# (self-attention), one mixes the heads' outputs back together:
#
#     x (B, N, D) → three projections → Q, K, V, each split into H heads: (B, H, N, D/H)
#     every head attends over its own D/H features (12.2): out (B, H, N, D/H),
#                                                          weights (B, H, N, N)
#     the heads merged back (12.3): (B, N, D) → the output projection → y (B, N, D)
#
# Keep the weights (B, H, N, N) as a NumPy array in `self.last_weights`, so you
# can look at what each head attended to. Parameters: 4·(D·D + D), independent of N.


# %%
class MultiHeadAttention(Module):
    """Multi-head self-attention: (B, N, D) → (B, N, D).

    Parameters: four D×D weight matrices and four biases, 4·D² + 4·D numbers.
    Cost per forward: 8·B·N·D² FLOPs for the four projections plus 4·B·N²·D for the
    attention itself, and B·H·N² weights of 4 bytes each.
    """

    def __init__(self, embed_dim: int, num_heads: int, rng=None):
        if embed_dim % num_heads:
            raise ValueError(
                f"embed_dim {embed_dim} must be divisible by num_heads {num_heads}: each head "
                f"gets embed_dim // num_heads features"
            )
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        rng = np.random.default_rng(rng)  # a seed or a Generator, as in Linear
        self.q_proj = Linear(embed_dim, embed_dim, rng=rng)
        self.k_proj = Linear(embed_dim, embed_dim, rng=rng)
        self.v_proj = Linear(embed_dim, embed_dim, rng=rng)
        self.out_proj = Linear(embed_dim, embed_dim, rng=rng)
        # A NumPy copy, not a Tensor: parameters() lists every Tensor attribute that
        # requires a gradient, and these weights are a result, not a parameter.
        self.last_weights: np.ndarray | None = None

    def forward(self, x: Tensor, mask: np.ndarray | None = None) -> Tensor:
        if x.ndim != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(
                f"expected input of shape (batch, positions, {self.embed_dim}), got {x.shape}"
            )
        ### BEGIN SOLUTION 12.4
        q = split_heads(self.q_proj(x), self.num_heads)
        k = split_heads(self.k_proj(x), self.num_heads)
        v = split_heads(self.v_proj(x), self.num_heads)
        out, weights = scaled_dot_product_attention(q, k, v, mask)
        self.last_weights = weights.data
        return self.out_proj(merge_heads(out))
        ### END SOLUTION

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"


# %% [markdown]
# ## 12.5 — Quadratic memory
#
# Two functions: the formula, and a measurement that builds a real score matrix
# Q Kᵀ from random queries and keys and asks it for its `memory_footprint()`.
# They must agree, and both must grow 4× when N doubles.


# %%
def attention_score_bytes(
    seq_len: int, num_heads: int = 1, batch_size: int = 1, bytes_per_value: int = 4
) -> int:
    """Bytes of the score matrices: batch_size · num_heads · seq_len² · bytes_per_value."""
    ### BEGIN SOLUTION 12.5
    return batch_size * num_heads * seq_len * seq_len * bytes_per_value
    ### END SOLUTION


def measure_score_bytes(
    seq_len: int, head_dim: int = 16, num_heads: int = 1, batch_size: int = 1, seed: int = 0
) -> int:
    """Build random Q and K of shape (batch_size, num_heads, seq_len, head_dim), compute the
    scores Q @ Kᵀ as a Tensor and return that Tensor's memory_footprint() in bytes."""
    rng = np.random.default_rng(seed)
    shape = (batch_size, num_heads, seq_len, head_dim)
    ### BEGIN SOLUTION 12.5
    q = Tensor(rng.normal(size=shape))
    k = Tensor(rng.normal(size=shape))
    return (q @ k.transpose()).memory_footprint()
    ### END SOLUTION


# %% [markdown]
# ## Try it

# %%
if __name__ == "__main__":
    for n in (256, 512, 1024, 2048):
        measured = measure_score_bytes(n)
        print(f"N = {n:>5}: scores {measured:>12,} bytes  (formula {attention_score_bytes(n):,})")
    mask = causal_mask(4)
    x = Tensor(np.random.default_rng(0).normal(size=(1, 4, 8)))
    layer = MultiHeadAttention(8, 2, rng=0)
    layer(x, mask)
    print("head 0 weights with the causal mask:\n", layer.last_weights[0, 0].round(2))
