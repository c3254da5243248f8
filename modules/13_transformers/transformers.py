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
# # Module 13 — Transformers
#
# Every piece is ready: embeddings (Module 11), multi-head attention (Module 12),
# dense layers and GELU (Modules 02–03). A **transformer** stacks them into
# identical blocks. Each block does two things to the sequence of vectors:
#
#     x = x + attention(norm(x))     positions exchange information
#     x = x + mlp(norm(x))           each position thinks on its own
#
# The `x + ...` is a **residual connection**: the block only adds a correction to
# its input, so a signal (and its gradient) can pass straight through a deep stack.
# **Layer normalization** rescales each position's vector to mean 0 and variance 1
# before each sub-layer ("pre-norm"), which keeps the numbers in a sane range no
# matter how many blocks there are.
#
# A GPT-style decoder is then: token embedding + position embedding → N blocks
# with the causal mask → final norm → a dense "LM head" giving one score (logit)
# per vocabulary entry for the next token. `generate()` turns those scores into text,
# one token at a time.
#
# **Systems concept: where the bytes go.** Parameters are spread very unevenly: with
# a large vocabulary, the embedding table and the LM head can outweigh all the
# blocks. And generating text has its own memory bill: to avoid recomputing every
# earlier position at each step, a model keeps the keys and values of all earlier
# positions of every layer — the **KV cache**, 2 × layers × heads × head_dim ×
# sequence × bytes per sequence. You measure the first and compute the second.
#
# | exercise | what you write |
# |---|---|
# | 13.1 layer_norm | `LayerNorm` from Tensor operations |
# | 13.2 mlp | the feed-forward `MLP`: dense → GELU → dense |
# | 13.3 transformer_block | the pre-norm `TransformerBlock` with residuals |
# | 13.4 gpt_forward | `GPT.forward`: ids → next-token logits |
# | 13.5 generate | greedy, temperature and top-k sampling |
# | 13.6 memory_by_layer | parameter and output bytes of every layer |
# | 13.7 kv_cache_bytes | the KV cache formula |

# %%
from __future__ import annotations

import numpy as np

from tinytorch.core import Tensor, no_grad
from tinytorch.nn import (
    GELU,
    Embedding,
    LearnedPositionalEncoding,
    Linear,
    Module,
    MultiHeadAttention,
    causal_mask,
    parameter_bytes,
)

# %% [markdown]
# ## 13.1 — Layer normalization
#
# For every position separately (the last axis, D features):
#
#     mean = average of the D features           var = average of (x − mean)²
#     y    = (x − mean) / sqrt(var + eps) · gamma + beta
#
# gamma (ones) and beta (zeros) are learned, one per feature, so the layer can undo
# the normalisation where that helps. Unlike batch statistics, nothing here depends
# on the other examples in the batch: a sequence is normalised the same way
# whatever it is batched with.
#
# Use Tensor operations only (`mean(axis=-1, keepdims=True)`, `-`, `*`, `** -0.5`),
# so the gradient comes for free. `eps` keeps the square root away from 0 for a
# constant input.


# %%
class LayerNorm(Module):
    """Normalise the last axis to mean 0, variance 1, then scale and shift.

    x (..., D) → (..., D). Parameters: gamma (D,) and beta (D,), 2·D numbers.
    Cost: about 8 float32 temporaries of x's size (4 bytes each) kept for the backward pass.
    """

    def __init__(self, dim: int, eps: float = 1e-5):
        self.dim, self.eps = dim, eps
        self.gamma = Tensor(np.ones(dim), requires_grad=True)
        self.beta = Tensor(np.zeros(dim), requires_grad=True)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.dim:
            raise ValueError(f"LayerNorm({self.dim}) expects (..., {self.dim}), got {x.shape}")
        ### BEGIN SOLUTION 13.1
        mean = x.mean(axis=-1, keepdims=True)
        centered = x - mean
        variance = (centered * centered).mean(axis=-1, keepdims=True)
        return centered * (variance + self.eps) ** -0.5 * self.gamma + self.beta
        ### END SOLUTION

    def extra_repr(self) -> str:
        return f"{self.dim}, eps={self.eps}"


# %% [markdown]
# ## 13.2 — The MLP (feed-forward) sub-layer
#
# Two dense layers with a GELU between them, applied to every position on its own:
# D → hidden (4·D by default) → D. Two thirds of a block's parameters live here.


# %%
class MLP(Module):
    """Position-wise feed-forward network: (..., D) → (..., D) via a (..., hidden) GELU layer.

    Parameters: 2·D·hidden + hidden + D numbers (8·D² + 5·D for hidden = 4·D).
    """

    def __init__(self, dim: int, hidden_dim: int | None = None, rng=None):
        hidden_dim = 4 * dim if hidden_dim is None else hidden_dim
        rng = np.random.default_rng(rng)  # a seed or a Generator, as in Linear
        self.fc1 = Linear(dim, hidden_dim, rng=rng)
        self.act = GELU()
        self.fc2 = Linear(hidden_dim, dim, rng=rng)

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION 13.2
        return self.fc2(self.act(self.fc1(x)))
        ### END SOLUTION


FeedForward = MLP

# %% [markdown]
# ## 13.3 — The transformer block
#
# Pre-norm with two residual connections:
#
#     x = x + attn(ln1(x), mask)
#     x = x + mlp(ln2(x))
#
# Note what is *not* normalised: the residual path itself. The input travels to the
# output unchanged except for what the two sub-layers add, so at initialisation a
# deep stack is close to the identity and gradients reach the first block intact.
# Parameters: 12·D² + 13·D (attention 4·D² + 4·D, MLP 8·D² + 5·D, two norms 4·D).


# %%
class TransformerBlock(Module):
    """Pre-norm block: (B, N, D) → (B, N, D); `mask` is passed to the attention."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: int = 4, rng=None):
        rng = np.random.default_rng(rng)
        self.ln1 = LayerNorm(dim)
        self.attn = MultiHeadAttention(dim, num_heads, rng=rng)
        self.ln2 = LayerNorm(dim)
        self.mlp = MLP(dim, mlp_ratio * dim, rng=rng)

    def forward(self, x: Tensor, mask: np.ndarray | None = None) -> Tensor:
        ### BEGIN SOLUTION 13.3
        x = x + self.attn(self.ln1(x), mask)
        return x + self.mlp(self.ln2(x))
        ### END SOLUTION


# %% [markdown]
# ## 13.4 — GPT: ids in, next-token scores out
#
#     ids (B, N) ──token_embedding──► (B, N, D) ──position──► + positions
#         ──► block 0 … block L−1 (each with causal_mask(N)) ──► final_norm
#         ──► lm_head ──► logits (B, N, vocab_size)
#
# `logits[b, n]` scores every vocabulary entry as the token that follows position
# n — using only positions 0..n, thanks to the causal mask. One forward pass
# therefore trains N predictions at once. `__init__` is written for you; write
# `forward`.


# %%
class GPT(Module):
    """A decoder-only transformer language model.

    ids (B, N) ints, N ≤ max_len → logits (B, N, vocab_size).
    Parameters: vocab·D (tokens) + max_len·D (positions) + L·(12·D² + 13·D) (blocks)
    + 2·D (final norm) + D·vocab + vocab (LM head).
    """

    def __init__(
        self, vocab_size: int, dim: int, num_heads: int, num_layers: int, max_len: int, rng=None
    ):
        rng = np.random.default_rng(rng)
        self.vocab_size, self.dim, self.max_len = vocab_size, dim, max_len
        self.num_heads, self.num_layers = num_heads, num_layers
        self.token_embedding = Embedding(vocab_size, dim, rng=rng)
        self.position = LearnedPositionalEncoding(max_len, dim, rng=rng)
        self.blocks = [TransformerBlock(dim, num_heads, rng=rng) for _ in range(num_layers)]
        self.final_norm = LayerNorm(dim)
        self.lm_head = Linear(dim, vocab_size, rng=rng)

    def forward(self, ids) -> Tensor:
        ids = np.asarray(ids.data if isinstance(ids, Tensor) else ids).astype(np.int64)
        if ids.ndim != 2 or ids.shape[1] > self.max_len:
            raise ValueError(
                f"GPT expects ids of shape (batch, positions) with at most {self.max_len} "
                f"positions (max_len), got shape {ids.shape}. Add a batch axis with "
                f"ids[None] or keep only the last {self.max_len} ids."
            )
        ### BEGIN SOLUTION 13.4
        x = self.position(self.token_embedding(ids))
        mask = causal_mask(ids.shape[1])
        for block in self.blocks:
            x = block(x, mask)
        return self.lm_head(self.final_norm(x))
        ### END SOLUTION

    def generate(self, ids, max_new_tokens: int, temperature: float = 1.0, top_k=None, rng=None):
        """See `generate` below."""
        return generate(self, ids, max_new_tokens, temperature, top_k, rng)

    def named_layers(self) -> list[tuple[str, Module]]:
        """The model's layers in the order the data flows through them."""
        return [
            ("token_embedding", self.token_embedding),
            ("position", self.position),
            *((f"block.{i}", block) for i, block in enumerate(self.blocks)),
            ("final_norm", self.final_norm),
            ("lm_head", self.lm_head),
        ]

    def extra_repr(self) -> str:
        return (
            f"vocab_size={self.vocab_size}, dim={self.dim}, num_heads={self.num_heads}, "
            f"num_layers={self.num_layers}, max_len={self.max_len}"
        )


# %% [markdown]
# ## 13.5 — Generation
#
# Text comes out one token at a time: run the model on the ids so far, keep the
# logits of the *last* position, pick a token, append it, repeat. Inside `no_grad()`:
# nothing here is trained.
#
# How to pick, from a row of logits:
#
# * **greedy** (`temperature == 0`): the argmax. Deterministic, often repetitive.
# * **temperature** T > 0: sample from softmax(logits / T). T < 1 sharpens the
#   distribution towards greedy, T > 1 flattens it towards uniform.
# * **top-k**: before sampling, set every logit below the k-th largest to −inf, so
#   only the k best candidates can be drawn. (Here −inf is safe: NumPy's
#   exp(−inf) is exactly 0 and at least k entries stay finite.)
#
# All randomness comes from the `rng` you are given (`rng.choice(V, p=probs)`),
# so a seed reproduces a sample exactly. Compute the probabilities in float64 and
# subtract the row maximum first. If the ids grow beyond the model's `max_len`,
# feed only the last `max_len` of them.


# %%
def sample_next_token(
    logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None, rng=None
) -> np.ndarray:
    """One token id per row of `logits` (B, V) → (B,) int64.

    temperature 0: argmax; otherwise a draw from softmax(logits / temperature),
    restricted to the top_k largest logits when top_k is given.
    """
    if temperature < 0:
        raise ValueError(f"temperature must be ≥ 0 (0 means greedy), got {temperature}")
    rng = np.random.default_rng(rng)
    logits = np.asarray(logits, dtype=np.float64)
    ### BEGIN SOLUTION 13.5
    if temperature == 0:
        return logits.argmax(axis=-1).astype(np.int64)
    if top_k is not None:
        kth_largest = np.sort(logits, axis=-1)[:, -top_k][:, None]
        logits = np.where(logits < kth_largest, -np.inf, logits)
    scaled = logits / temperature
    probs = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    return np.array([rng.choice(len(row), p=row) for row in probs], dtype=np.int64)
    ### END SOLUTION


def generate(
    model, ids, max_new_tokens: int, temperature: float = 1.0, top_k=None, rng=None
) -> np.ndarray:
    """Extend `ids` (B, N) by max_new_tokens tokens → (B, N + max_new_tokens) int64.

    model: callable ids (B, n) → logits (B, n, V) with an attribute `max_len`.
    Cost: one forward pass per new token over up to max_len positions — every step
    recomputes all earlier positions (the KV cache of 13.7 is what avoids that).
    """
    rng = np.random.default_rng(rng)
    ids = np.array(ids.data if isinstance(ids, Tensor) else ids, dtype=np.int64)  # a copy
    if ids.ndim != 2:
        raise ValueError(f"ids must have shape (batch, positions), got {ids.shape}")
    ### BEGIN SOLUTION 13.5
    with no_grad():
        for _ in range(max_new_tokens):
            logits = model(ids[:, -model.max_len :]).data[:, -1, :]
            next_ids = sample_next_token(logits, temperature, top_k, rng)
            ids = np.concatenate([ids, next_ids[:, None]], axis=1)
    return ids
    ### END SOLUTION


# %% [markdown]
# ## 13.6 — Where the bytes are, layer by layer
#
# Two tables, one row per entry of `model.named_layers()`:
#
# * `parameter_bytes_by_layer(model)`: `parameter_bytes(layer)` (Module 03) of each;
# * `output_bytes_by_layer(model, batch_size, seq_len)`: run the layers one after the
#   other on ids of zeros (a (batch_size, seq_len) int array) under `no_grad()`, and
#   record the `memory_footprint()` of each layer's output. Blocks get the causal
#   mask. This is measured, not computed: it is what the forward pass really holds.
#
# For GPT-2 small (vocab 50,257, D 768, 12 blocks, 1,024 positions) the token table
# alone is 154 MB. GPT-2 *ties* its LM head to that table (the same matrix, used twice):
# 124.4 M parameters, ≈ 498 MB. This module's GPT has its own `lm_head` (D × vocab + a
# bias, another 154.6 MB): 163.1 M parameters, ≈ 652 MB at the same sizes
# (`parameter_bytes_by_layer` adds it up). The logits of one 1,024-token sequence are
# 1,024 × 50,257 × 4 B ≈ 206 MB — bigger than any block's output.


# %%
def parameter_bytes_by_layer(model) -> dict[str, int]:
    """{layer name: bytes of its parameters} in data-flow order, for a GPT-like model
    with `named_layers()`. The values add up to parameter_bytes(model)."""
    ### BEGIN SOLUTION 13.6
    return {name: parameter_bytes(layer) for name, layer in model.named_layers()}
    ### END SOLUTION


def output_bytes_by_layer(model, batch_size: int = 1, seq_len: int | None = None) -> dict[str, int]:
    """{layer name: bytes of its output} measured by running every layer in order on a
    (batch_size, seq_len) batch of zero ids (seq_len defaults to model.max_len)."""
    seq_len = model.max_len if seq_len is None else seq_len
    ids = np.zeros((batch_size, seq_len), dtype=np.int64)
    mask = causal_mask(seq_len)
    ### BEGIN SOLUTION 13.6
    sizes = {}
    x = ids
    with no_grad():
        for name, layer in model.named_layers():
            x = layer(x, mask) if name.startswith("block") else layer(x)
            sizes[name] = x.memory_footprint()
    return sizes
    ### END SOLUTION


# %% [markdown]
# ## 13.7 — The KV cache
#
# Generating token n+1 needs the keys and values of positions 0..n in every layer.
# Recomputing them is what 13.5's loop does; storing them costs, per sequence,
#
#     2 (K and V) × layers × heads × head_dim × positions × bytes per value
#
# It grows linearly with the sequence (unlike the quadratic score matrix) but is
# paid for every sequence being generated at once: GPT-2 small at 1,024 positions
# in float32 needs 75.5 MB per sequence.


# %%
def kv_cache_bytes(
    num_layers: int,
    num_heads: int,
    head_dim: int,
    seq_len: int,
    batch_size: int = 1,
    bytes_per_value: int = 4,
) -> int:
    """Bytes to keep keys and values of seq_len positions for every layer and head:
    2 · num_layers · num_heads · head_dim · seq_len · batch_size · bytes_per_value."""
    ### BEGIN SOLUTION 13.7
    return 2 * num_layers * num_heads * head_dim * seq_len * batch_size * bytes_per_value
    ### END SOLUTION


# %% [markdown]
# ## Try it

# %%
if __name__ == "__main__":
    model = GPT(vocab_size=50, dim=32, num_heads=4, num_layers=2, max_len=16, rng=0)
    prompt = np.array([[1, 2, 3]])
    print("greedy:", model.generate(prompt, 8, temperature=0)[0])
    print("top-5, T=0.8:", model.generate(prompt, 8, temperature=0.8, top_k=5, rng=0)[0])
    params, outputs = parameter_bytes_by_layer(model), output_bytes_by_layer(model, 4)
    for name in params:
        print(f"{name:>16}: parameters {params[name]:>8,} B   output {outputs[name]:>8,} B")
    gpt2 = kv_cache_bytes(num_layers=12, num_heads=12, head_dim=64, seq_len=1024)
    print(f"GPT-2 small KV cache at 1,024 positions: {gpt2:,} bytes per sequence")
