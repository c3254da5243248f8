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
# # Module 17 — Memoization
#
# **Memoization** is remembering the result of a computation so that the next time
# the same inputs come, the result is looked up instead of computed. Python has it
# built in (`functools.lru_cache`); the price is the memory the remembered results take.
#
# Module 13's `generate` has a computation worth remembering. To produce token t+1 it
# runs the whole model on tokens 0..t. One step earlier it ran it on tokens 0..t−1 —
# and because of the causal mask, everything it computed for those positions is
# *identical* this time: position i only ever sees positions ≤ i. Only the newest
# position is new. What the next step needs from the old positions is, in every layer,
# their **keys and values** (queries are needed only for the position being
# predicted). So keep them: the KV cache whose size Module 13 computed,
#
#     2 · layers · heads · head_dim · positions · 4 bytes per sequence.
#
# Generation then has two phases: a **prefill** that runs the prompt through the model
# once, all positions together, filling the cache; and one **decode step** per new
# token that runs only that token, attending to the cached keys and values.
#
# **Systems concept: memory for time.** Without the cache, step t costs a forward pass
# over t positions: generating T tokens costs about T²/2 position-passes (and the
# attention part T³). With it, each step costs one position-pass plus attention over t
# cached keys: about T position-passes in all. The bill is the cache: memory that grows
# with every token of every sequence being generated.
#
# | exercise | what you write |
# |---|---|
# | 17.1 kv_cache | `KVCache`: preallocated keys and values; `update` writes and returns them |
# | 17.2 cached_attention | attention for new positions over cached and new keys |
# | 17.3 cached_forward | a GPT forward pass for new positions only, through the cache |
# | 17.4 generate_cached | prefill, then one decode step per new token |
# | 17.5 compare_generation | time both ways, check that the tokens are identical |
# | 17.6 generation_work | count projections and FLOPs both ways: why the times differ |
#
# Nothing in Modules 12 and 13 changes: the cached path reuses their layers and weights
# (`attn.q_proj`, `block.ln1`, `model.lm_head` …) and calls them in a different order.

# %%
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tinytorch.core import Tensor, no_grad
from tinytorch.nn import (
    generate,
    merge_heads,
    sample_next_token,
    scaled_dot_product_attention,
    split_heads,
)
from tinytorch.profiling import time_function

# %% [markdown]
# ## 17.1 — The cache
#
# Allocate everything once, for `max_len` positions, and fill it as generation goes:
#
#     keys, values: float32 arrays of shape (layers, batch, heads, max_len, head_dim)
#     length:       how many positions are filled (the same in every layer)
#
# Allocating once means no copying while generating (appending to a growing array
# with `np.concatenate` would copy the whole cache at every step) and a memory bill
# known in advance: `nbytes` equals Module 13's `kv_cache_bytes` exactly.
#
# `update(layer, k, v)` receives the keys and values of n new positions, shape
# (batch, heads, n, head_dim), writes them at positions `length .. length + n − 1` of
# that layer, and returns the keys and values of positions `0 .. length + n − 1` —
# *views* into the cache (slices), not copies. It does not move `length`: every layer
# writes at the same positions, so the model calls `advance(n)` once, after its last
# layer.


# %%
class KVCache:
    """Keys and values of every layer for up to max_len positions, allocated once.

    keys, values: float32 (num_layers, batch_size, num_heads, max_len, head_dim).
    Memory: 2 · L · B · H · max_len · head_dim · 4 bytes
    = kv_cache_bytes(L, H, head_dim, max_len, B) (Module 13).
    """

    def __init__(
        self, num_layers: int, num_heads: int, head_dim: int, max_len: int, batch_size: int = 1
    ):
        self.num_layers, self.num_heads, self.head_dim = num_layers, num_heads, head_dim
        self.max_len, self.batch_size = max_len, batch_size
        self.length = 0
        ### BEGIN SOLUTION 17.1
        shape = (num_layers, batch_size, num_heads, max_len, head_dim)
        self.keys = np.zeros(shape, dtype=np.float32)
        self.values = np.zeros(shape, dtype=np.float32)
        ### END SOLUTION

    @classmethod
    def for_model(cls, model, max_len: int, batch_size: int = 1) -> KVCache:
        """A cache sized for a GPT: its layers, heads and head_dim = dim // num_heads."""
        head_dim = model.dim // model.num_heads
        return cls(model.num_layers, model.num_heads, head_dim, max_len, batch_size)

    def update(self, layer: int, k: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Store k, v (batch, heads, n, head_dim) of n new positions of `layer` at positions
        length .. length + n − 1; return that layer's keys and values of positions
        0 .. length + n − 1 as views (no copy). `length` does not change (see advance)."""
        n = k.shape[-2]
        if self.length + n > self.max_len:
            raise ValueError(
                f"the cache holds {self.max_len} positions, {self.length} are filled, and "
                f"{n} more arrived. Create the cache with max_len >= prompt length + new "
                f"tokens, or call reset() to start a new sequence."
            )
        expected = (self.batch_size, self.num_heads, n, self.head_dim)
        if k.shape != expected or v.shape != expected:
            raise ValueError(
                f"keys and values of new positions must have shape (batch, heads, n, "
                f"head_dim) = {expected}, got {k.shape} and {v.shape}"
            )
        ### BEGIN SOLUTION 17.1
        start, end = self.length, self.length + n
        self.keys[layer, :, :, start:end] = k
        self.values[layer, :, :, start:end] = v
        return self.keys[layer, :, :, :end], self.values[layer, :, :, :end]
        ### END SOLUTION

    def advance(self, n: int) -> None:
        """Mark n more positions as filled (called once per forward pass, after all layers)."""
        self.length += n

    def reset(self) -> None:
        """Forget every position (the memory stays allocated for the next sequence)."""
        self.length = 0

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes + self.values.nbytes

    def __repr__(self) -> str:
        return (
            f"KVCache(layers={self.num_layers}, heads={self.num_heads}, head_dim="
            f"{self.head_dim}, positions {self.length}/{self.max_len}, {self.nbytes:,} B)"
        )


# %% [markdown]
# ## 17.2 — Attention for new positions only
#
# Module 12's `MultiHeadAttention.forward` computes queries, keys and values for all
# positions it is given. With a cache, it is given only the n new positions x
# (batch, n, D), while `start = cache.length` positions are already cached. The recipe:
#
# 1. project x with the layer's *own* three projections and split the heads, exactly as
#    Module 12 does — (B, H, n, d) each, for the new positions only;
# 2. hand the new keys and values (as plain arrays) to the cache under this layer's
#    index; it gives back the keys and values of *every* position so far, old and new;
# 3. attend the new queries over all of them with Module 12's scaled dot-product
#    attention, wrapping the arrays the cache returned as Tensors;
# 4. merge the heads and apply the layer's output projection: (B, n, D).
#
# The mask is the one new idea. New query i sits at absolute position start + i and
# may see keys 0 .. start + i: an (n, start + n) boolean matrix, True on and below a
# diagonal that is shifted `start` columns to the right (`cached_mask`). Module 12's
# causal mask is the case start = 0; a single decode step (n = 1) sees everything.
# `np.tril` has an argument that shifts its diagonal.
#
# Everything uses the layer's own weights: the results are the numbers the uncached
# model computes for those positions, up to float32 rounding.


# %%
def cached_mask(n: int, start: int) -> np.ndarray:
    """(n, start + n) bool: new query i (absolute position start + i) sees keys ≤ start + i."""
    ### BEGIN SOLUTION 17.2
    return np.tril(np.ones((n, start + n), dtype=bool), k=start)
    ### END SOLUTION


def cached_attention(attn, x: Tensor, cache, layer: int) -> Tensor:
    """Multi-head self-attention of n new positions x (B, n, D) over the cached positions
    and themselves; stores their keys and values in `cache` (layer `layer`).

    attn: a Module 12 MultiHeadAttention whose weights are used. Returns (B, n, D).
    Cost: 8·B·n·D² FLOPs for the projections and 4·B·n·(start + n)·D for the attention,
    instead of 8·B·N·D² + 4·B·N²·D over all N = start + n positions.
    """
    n, start = x.shape[1], cache.length
    ### BEGIN SOLUTION 17.2
    q = split_heads(attn.q_proj(x), attn.num_heads)
    k = split_heads(attn.k_proj(x), attn.num_heads)
    v = split_heads(attn.v_proj(x), attn.num_heads)
    keys, values = cache.update(layer, k.data, v.data)
    mask = None if n == 1 else cached_mask(n, start)  # one new position sees every key
    out, _ = scaled_dot_product_attention(q, Tensor(keys), Tensor(values), mask)
    return attn.out_proj(merge_heads(out))
    ### END SOLUTION


# %% [markdown]
# ## 17.3 — A GPT forward pass through the cache
#
# Module 13's block is a residual attention step followed by a residual MLP step, each
# after its own layer norm. `cached_block` is the same block with `cached_attention`
# (for this block's attention, this layer's index) in place of the attention call; the
# norms and the MLP act on each position separately and need no change.
#
# `cached_forward(model, ids, cache)` runs n new ids (B, n) through a Module 13 GPT,
# in the order Module 13's forward does, with two differences:
#
# - positions: the new ids sit at absolute positions start .. start + n − 1, so they
#   get the learned position vectors of *those* rows of the model's position table.
#   The position layer's own forward always starts at row 0, which is wrong here;
# - the cache: every block runs through `cached_block` with its index as the cache
#   layer, and once all blocks have written, the cache advances by n — once per pass.
#
# The result is the logits (B, n, vocab) of the new positions only.
#
# Call `cached_attention` by its name (as written above): the graded test swaps in a
# stand-in for it, so that a mistake in 17.2 costs points only once.


# %%
def cached_block(block, x: Tensor, cache, layer: int) -> Tensor:
    """A Module 13 TransformerBlock applied to n new positions (B, n, D) through the cache."""
    ### BEGIN SOLUTION 17.3
    x = x + cached_attention(block.attn, block.ln1(x), cache, layer)
    return x + block.mlp(block.ln2(x))
    ### END SOLUTION


def cached_forward(model, ids, cache) -> Tensor:
    """Logits (B, n, vocab) of n new ids (B, n) that follow the cache.length cached positions.
    Fills the cache for the new positions and advances it by n.
    Cost: one pass over n positions (plus attention over all start + n)."""
    ids = np.asarray(ids.data if isinstance(ids, Tensor) else ids).astype(np.int64)
    if ids.ndim != 2:
        raise ValueError(f"ids must have shape (batch, new positions), got {ids.shape}")
    start, n = cache.length, ids.shape[1]
    if start + n > model.max_len:
        raise ValueError(
            f"positions {start}..{start + n - 1} do not exist: the model has {model.max_len} "
            f"learned positions (max_len)"
        )
    ### BEGIN SOLUTION 17.3
    x = model.token_embedding(ids) + model.position.weight[start : start + n]
    for layer, block in enumerate(model.blocks):
        x = cached_block(block, x, cache, layer)
    cache.advance(n)
    return model.lm_head(model.final_norm(x))
    ### END SOLUTION


# %% [markdown]
# ## 17.4 — Generation with the cache
#
# Same contract as Module 13's `generate(model, ids, max_new_tokens, temperature, top_k,
# rng)` and, for the same seed, the same tokens. Generation now has two phases:
#
# - **prefill**: one cached forward pass over the whole prompt fills the cache and gives
#   the logits of its last position;
# - **decode steps**: sample the next token from the last logits (Module 13's
#   `sample_next_token`, with one `rng` for the whole call, exactly as `generate` does,
#   so the random draws line up), append it, and feed *only that token* through the
#   cache to get the logits for the one after.
#
# Count the positions the cache must hold: the last sampled token is returned but never
# fed back in, so a prompt of N tokens and T new ones needs N + T − 1 positions (and that
# many learned positions in the model). Size the cache for the model and the batch with
# `KVCache.for_model`. Module 13's generate keeps only the last max_len ids when the
# text grows longer; a cache of learned absolute positions cannot slide like that, so
# here that is an error (checked for you). No gradient is needed: generate under
# `no_grad()`, as Module 13 does.


# %%
def generate_cached(
    model, ids, max_new_tokens: int, temperature: float = 1.0, top_k=None, rng=None
) -> np.ndarray:
    """Extend ids (B, N) by max_new_tokens tokens → (B, N + max_new_tokens) int64, with a
    KV cache: one prefill over N positions, then one decode step per token.

    Same tokens as Module 13's generate for the same arguments (up to float32 rounding
    of nearly tied logits). Memory: kv_cache_bytes(L, H, D/H, N + max_new_tokens − 1, B).
    """
    rng = np.random.default_rng(rng)
    ids = np.array(ids, dtype=np.int64)
    if ids.ndim != 2:
        raise ValueError(f"ids must have shape (batch, positions), got {ids.shape}")
    if max_new_tokens == 0:
        return ids
    positions = ids.shape[1] + max_new_tokens - 1
    if positions > model.max_len:
        raise ValueError(
            f"a prompt of {ids.shape[1]} tokens plus {max_new_tokens} new ones needs "
            f"{positions} cached positions, but the model has only max_len = "
            f"{model.max_len} learned positions. Generate fewer tokens or shorten the prompt."
        )
    ### BEGIN SOLUTION 17.4
    cache = KVCache.for_model(model, positions, ids.shape[0])
    with no_grad():
        logits = cached_forward(model, ids, cache)
        for step in range(max_new_tokens):
            next_ids = sample_next_token(logits.data[:, -1, :], temperature, top_k, rng)
            ids = np.concatenate([ids, next_ids[:, None]], axis=1)
            if step + 1 < max_new_tokens:
                logits = cached_forward(model, next_ids[:, None], cache)
    return ids
    ### END SOLUTION


# %% [markdown]
# ## 17.5 — Is it worth it? Measure.
#
# Time both ways with Module 14's `time_function` — greedy (temperature 0.0), the same
# prompt and number of tokens, the same `warmup`, `repeats` and `clock` — and check that
# the tokens agree. The speedup is the uncached median divided by the cached one. Never
# assert a speed in a test: the graded test passes a fake clock; the real figures are
# printed by the demo below and by `scripts/benchmark_optimization.py`.


# %%
@dataclass(frozen=True)
class GenerationTiming:
    """Greedy generation of the same tokens without and with the KV cache."""

    new_tokens: int
    uncached_seconds: float
    cached_seconds: float
    speedup: float  # uncached_seconds / cached_seconds
    tokens_match: bool


def compare_generation(
    model,
    prompt,
    new_tokens: int,
    *,
    warmup: int = 1,
    repeats: int = 3,
    clock: Callable[[], float] = time.perf_counter,
) -> GenerationTiming:
    """Median time of greedy generate (Module 13) and generate_cached on the same prompt,
    their ratio, and whether both produced identical tokens."""
    ### BEGIN SOLUTION 17.5
    settings = {"warmup": warmup, "repeats": repeats, "clock": clock}
    slow = time_function(generate, model, prompt, new_tokens, 0.0, **settings)
    fast = time_function(generate_cached, model, prompt, new_tokens, 0.0, **settings)
    return GenerationTiming(
        new_tokens,
        slow.median,
        fast.median,
        slow.median / fast.median,
        bool(np.array_equal(slow.result, fast.result)),
    )
    ### END SOLUTION


# %% [markdown]
# ## 17.6 — Count the work
#
# A time says how long; a count says *why*. Count what each way of generating computes
# for a prompt of P tokens and T new ones (model: L blocks of width D, vocabulary V).
#
# **Key/value projections.** Uncached, the forward pass that picks new token t
# (t = 0 .. T − 1) runs over all P + t positions so far and projects a key and a value
# for every one of them, in every block. Cached, every position is projected once: the
# prefill projects P, and each of the T − 1 decode steps one more. Per block:
#
#     uncached  Σ_{t=0}^{T−1} (P + t) = T·P + T·(T − 1)/2      quadratic in T
#     cached    P + (T − 1)                                    linear in T
#
# With a one-token prompt and T = 100 that is 1 + 2 + … + 100 = 5,050 against 100.
#
# **FLOPs.** A forward pass of n new positions that attend over `context` positions
# (context = n uncached; cache length + n cached) costs, counting the matmuls only
# (Module 14's 2·m·k·n per product; norms, GELU and softmax are a few FLOPs per entry):
#
#     per block  8·n·D²          q, k, v and output projections (four D×D matmuls)
#              + 16·n·D²         the MLP, D → 4·D → D
#              + 4·n·context·D   scores q·kᵀ and the weighted sum of values
#     once       2·n·D·V         the LM head
#
# so `forward_flops(L, D, V, n, context) = L·(24·n·D² + 4·n·context·D) + 2·n·D·V`.
# `generation_work` adds the passes up both ways: uncached, one pass over P + t
# positions per new token; cached, the prefill (n = context = P) and one pass with
# n = 1 and context P + t for each later token t = 1 .. T − 1.


# %%
def forward_flops(
    num_layers: int, dim: int, vocab_size: int, new_positions: int, context: int
) -> int:
    """Matmul FLOPs of one GPT forward pass (MLP hidden 4·D) over `new_positions`
    positions attending to `context` positions: L·(24·n·D² + 4·n·context·D) + 2·n·D·V."""
    ### BEGIN SOLUTION 17.6
    n = new_positions
    per_block = 24 * n * dim * dim + 4 * n * context * dim
    return num_layers * per_block + 2 * n * dim * vocab_size
    ### END SOLUTION


@dataclass(frozen=True)
class GenerationWork:
    """What generating new_tokens after a prompt computes, without and with the cache.

    kv_projections_*: positions whose key and value are projected, per block.
    flops_*: matmul FLOPs of every forward pass of the generation (forward_flops).
    """

    prompt_length: int
    new_tokens: int
    kv_projections_uncached: int
    kv_projections_cached: int
    flops_uncached: int
    flops_cached: int

    @property
    def flops_ratio(self) -> float:
        return self.flops_uncached / self.flops_cached

    def flops_per_token(self, cached: bool) -> float:
        """Average matmul FLOPs per generated token."""
        return (self.flops_cached if cached else self.flops_uncached) / self.new_tokens


def generation_work(
    num_layers: int, dim: int, vocab_size: int, prompt_length: int, new_tokens: int
) -> GenerationWork:
    """Count the key/value projections and matmul FLOPs of generating `new_tokens` (≥ 1)
    after `prompt_length` (≥ 1) tokens, as Module 13's generate (uncached) and
    generate_cached do them. Pure arithmetic: no model is run."""
    if prompt_length < 1 or new_tokens < 1:
        raise ValueError(
            f"generation_work needs a prompt of at least 1 token and at least 1 new token, "
            f"got prompt_length={prompt_length}, new_tokens={new_tokens}"
        )
    sizes = (num_layers, dim, vocab_size)
    ### BEGIN SOLUTION 17.6
    lengths = [prompt_length + t for t in range(new_tokens)]  # positions seen per step
    uncached_flops = sum(forward_flops(*sizes, n, n) for n in lengths)
    cached_flops = forward_flops(*sizes, prompt_length, prompt_length)
    cached_flops += sum(forward_flops(*sizes, 1, n) for n in lengths[1:])
    return GenerationWork(
        prompt_length,
        new_tokens,
        kv_projections_uncached=sum(lengths),
        kv_projections_cached=prompt_length + new_tokens - 1,
        flops_uncached=uncached_flops,
        flops_cached=cached_flops,
    )
    ### END SOLUTION


# %% [markdown]
# ## Try it
#
# Run this file (`python modules/17_memoization/memoization.py`): it generates 25, 50 and
# 100 tokens with the module's named GPT — vocab 256, D 256, 4 heads, 4 blocks, a prompt
# of 8 tokens — both ways and prints, beside the times, the key/value projections and
# FLOPs per generated token that each way computes, and the cache's bytes. On the
# reference machine (one BLAS thread, median CPU time of 3) 100 tokens took 1.786 s
# uncached and 0.121 s cached: **14.8×**, identical tokens, an 876,544-byte cache, while
# the FLOPs per token shrink 54× (386.3 → 7.1 MFLOPs). The gap between the two ratios is
# per-operation overhead: the README's "Systems concept" section follows it down.
# `scripts/benchmark_optimization.py` runs the longer sweep (25 … 400 tokens, D 128 … 512).

# %%
if __name__ == "__main__":
    from tinytorch.nn import GPT

    gpt = GPT(vocab_size=256, dim=256, num_heads=4, num_layers=4, max_len=128, rng=0)
    prompt = np.random.default_rng(1).integers(0, 256, size=(1, 8))
    print("tokens  uncached s  cached s  speedup  same  K/V projections   MFLOPs/token  cache B")
    for count in (25, 50, 100):
        timing = compare_generation(gpt, prompt, count, repeats=3, clock=time.process_time)
        work = generation_work(4, 256, 256, 8, count)
        cache = KVCache.for_model(gpt, 8 + count - 1)
        print(
            f"{count:>6} {timing.uncached_seconds:>11.3f} {timing.cached_seconds:>9.3f} "
            f"{timing.speedup:>7.1f}x {str(timing.tokens_match):>5} "
            f"{work.kv_projections_uncached:>7,} vs {work.kv_projections_cached:<5,} "
            f"{work.flops_per_token(False) / 1e6:>6.1f} vs {work.flops_per_token(True) / 1e6:<4.1f}"
            f" {cache.nbytes:>8,}"
        )
