"""Graded tests for Module 17 (Memoization). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

The cached path is a chain (cache → attention → forward → generation → timing). Each
test replaces the links below the one it grades by stand-ins — a list-based cache, a
position-wise attention, an uncached forward, a stand-in timer — so a mistake in one
exercise costs points once. test_integration_17.py (not graded) runs the whole chain
for real and checks that cached generation gives the same tokens as Module 13's.
"""

import tracemalloc

import numpy as np
import pytest

from tinytorch.core import Tensor, enable_autograd, is_grad_enabled, no_grad
from tinytorch.generation import (
    GenerationTiming,
    GenerationWork,
    KVCache,
    cached_attention,
    cached_forward,
    cached_mask,
    compare_generation,
    forward_flops,
    generate_cached,
    generation_work,
)
from tinytorch.nn import GPT, Module, MultiHeadAttention, causal_mask, generate, kv_cache_bytes
from tinytorch.profiling import Timing

exercise = pytest.mark.exercise


@pytest.fixture(autouse=True)
def _autograd():
    enable_autograd()


def _x(seed, shape):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


class ListCache:
    """Stand-in for KVCache: grows by concatenation; same update/advance/length protocol."""

    def __init__(self):
        self.length, self.keys, self.values, self.updates = 0, {}, {}, []

    def update(self, layer, k, v):
        self.updates.append((layer, k.shape))
        old_k = self.keys.get(layer, k[:, :, :0])[:, :, : self.length]
        old_v = self.values.get(layer, v[:, :, :0])[:, :, : self.length]
        self.keys[layer] = np.concatenate([old_k, k], axis=2)
        self.values[layer] = np.concatenate([old_v, v], axis=2)
        return self.keys[layer], self.values[layer]

    def advance(self, n):
        self.length += n


# ---- 17.1 KVCache ----------------------------------------------------------------------------


@exercise("17.1")
def test_17_1_allocates_exactly_the_module_13_formula():
    cache = KVCache(num_layers=3, num_heads=4, head_dim=8, max_len=50, batch_size=2)
    shape = (3, 2, 4, 50, 8)
    assert cache.keys.shape == shape and cache.values.shape == shape, (
        f"keys and values have shape (layers, batch, heads, max_len, head_dim) = {shape}"
    )
    assert cache.keys.dtype == np.float32 and cache.values.dtype == np.float32
    assert cache.nbytes == kv_cache_bytes(3, 4, 8, 50, batch_size=2) == 2 * 3 * 2 * 4 * 50 * 8 * 4
    assert cache.length == 0
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        big = KVCache(12, 12, 64, 256)
        measured = tracemalloc.get_traced_memory()[1] - before
    finally:
        if not tracing:
            tracemalloc.stop()
    formula = kv_cache_bytes(12, 12, 64, 256)
    assert big.nbytes == formula
    assert formula <= measured < formula + 100_000, (
        f"allocating the cache should cost the formula's {formula:,} bytes, measured {measured:,}"
    )


@exercise("17.1")
def test_17_1_update_writes_new_positions_and_returns_views():
    cache = KVCache(num_layers=2, num_heads=2, head_dim=3, max_len=6)
    k1, v1 = _x(0, (1, 2, 4, 3)), _x(1, (1, 2, 4, 3))
    keys, values = cache.update(1, k1, v1)
    np.testing.assert_array_equal(keys, k1)
    np.testing.assert_array_equal(values, v1)
    assert np.shares_memory(keys, cache.keys) and np.shares_memory(values, cache.values), (
        "return slices of the cache (views), not copies"
    )
    assert cache.length == 0, "update does not move length: advance(n) does, once per pass"
    assert not cache.keys[0].any(), "layer 0 is untouched by an update of layer 1"
    cache.advance(4)
    k2, v2 = _x(2, (1, 2, 1, 3)), _x(3, (1, 2, 1, 3))
    keys, values = cache.update(1, k2, v2)
    assert keys.shape == (1, 2, 5, 3), "positions 0..4 of that layer"
    np.testing.assert_array_equal(keys[:, :, :4], k1, err_msg="earlier positions stay")
    np.testing.assert_array_equal(values[:, :, 4:], v2, err_msg="the new one is at position 4")
    cache.advance(1)
    with pytest.raises(ValueError):
        cache.update(0, _x(4, (1, 2, 2, 3)), _x(5, (1, 2, 2, 3)))  # 5 + 2 > 6


# ---- 17.2 cached attention --------------------------------------------------------------------


@exercise("17.2")
def test_17_2_cached_mask_shifts_the_causal_mask():
    np.testing.assert_array_equal(cached_mask(3, 0), causal_mask(3))
    np.testing.assert_array_equal(
        cached_mask(2, 3), [[True, True, True, True, False], [True, True, True, True, True]]
    )
    assert cached_mask(1, 7).all() and cached_mask(1, 7).shape == (1, 8)


@exercise("17.2")
def test_17_2_prefill_then_new_positions_match_full_attention():
    attn = MultiHeadAttention(8, 2, rng=0)
    x = Tensor(_x(6, (2, 6, 8)))
    with no_grad():
        full = attn(x, causal_mask(6)).data
        cache = ListCache()
        prefill = cached_attention(attn, x[:, :3], cache, layer=1)
        assert cache.updates == [(1, (2, 2, 3, 4))], (
            f"store the new keys and values as (batch, heads, n, head_dim) under the given "
            f"layer; the cache saw {cache.updates}"
        )
        np.testing.assert_allclose(prefill.data, full[:, :3], rtol=1e-5, atol=1e-6)
        cache.advance(3)
        two = cached_attention(attn, x[:, 3:5], cache, layer=1)
        np.testing.assert_allclose(
            two.data,
            full[:, 3:5],
            rtol=1e-5,
            atol=1e-6,
            err_msg="new positions 3 and 4 attend to cached 0..2 and to themselves causally",
        )
        cache.advance(2)
        last = cached_attention(attn, x[:, 5:], cache, layer=1)
        np.testing.assert_allclose(last.data, full[:, 5:], rtol=1e-5, atol=1e-6)
    assert last.shape == (2, 1, 8)


# ---- 17.3 cached forward ---------------------------------------------------------------------


class Scale(Module):
    """Stand-in attention: position-wise, so the whole model becomes position-wise."""

    def __init__(self, factor):
        self.factor = factor

    def forward(self, x, mask=None):
        return x * self.factor


class LengthCache:
    """Stand-in cache for 17.3: only length and advance."""

    def __init__(self):
        self.length, self.advanced = 0, []

    def advance(self, n):
        self.advanced.append(n)
        self.length += n


@exercise("17.3")
def test_17_3_embeds_at_absolute_positions_runs_blocks_and_advances(monkeypatch):
    model = GPT(vocab_size=13, dim=8, num_heads=2, num_layers=2, max_len=7, rng=0)
    for i, block in enumerate(model.blocks):
        block.attn = Scale(0.5 + i)
    calls = []

    def stand_in(attn, x, cache, layer):
        calls.append((attn, layer, x.shape))
        return attn(x)

    monkeypatch.setitem(cached_forward.__globals__, "cached_attention", stand_in)
    ids = np.array([[1, 5, 2, 7, 3, 3, 0], [4, 4, 12, 0, 1, 9, 8]])
    with no_grad():
        full = model(ids).data
        cache = LengthCache()
        first = cached_forward(model, ids[:, :4], cache)
        assert [(a, layer) for a, layer, _ in calls] == [
            (model.blocks[0].attn, 0),
            (model.blocks[1].attn, 1),
        ], "call cached_attention(block.attn, ln1(x), cache, layer) for each block, in order"
        assert calls[0][2] == (2, 4, 8)
        assert cache.advanced == [4], "advance the cache once, by n, after the blocks"
        np.testing.assert_allclose(first.data, full[:, :4], rtol=1e-5, atol=1e-6)
        for position in range(4, 7):
            step = cached_forward(model, ids[:, position : position + 1], cache)
            np.testing.assert_allclose(
                step.data[:, 0],
                full[:, position],
                rtol=1e-5,
                atol=1e-6,
                err_msg=f"position {position}: add the position vector of the absolute "
                f"position cache.length + i, not of position i",
            )
    assert cache.length == 7
    with pytest.raises(ValueError):
        cached_forward(model, ids[:, :1], cache)  # position 7 does not exist


# ---- 17.4 generate_cached --------------------------------------------------------------------


class FakeCache:
    """Stand-in for KVCache in 17.4: remembers every id it was fed."""

    made = []

    def __init__(self, model, max_len, batch_size):
        self.model, self.max_len, self.batch_size = model, max_len, batch_size
        self.length, self.ids = 0, None

    @classmethod
    def for_model(cls, model, max_len, batch_size=1):
        cache = cls(model, max_len, batch_size)
        cls.made.append(cache)
        return cache


def _uncached_stand_in(fed):
    """A cached_forward stand-in that recomputes everything with Module 13's model."""

    def forward(model, ids, cache):
        fed.append((ids.shape[1], is_grad_enabled()))
        cache.ids = ids if cache.ids is None else np.concatenate([cache.ids, ids], axis=1)
        cache.length = cache.ids.shape[1]
        return Tensor(model(cache.ids).data[:, -ids.shape[1] :])

    return forward


@exercise("17.4")
def test_17_4_prefill_then_one_decode_step_per_token(monkeypatch):
    fed = []
    FakeCache.made.clear()
    monkeypatch.setitem(generate_cached.__globals__, "KVCache", FakeCache)
    monkeypatch.setitem(generate_cached.__globals__, "cached_forward", _uncached_stand_in(fed))
    model = GPT(vocab_size=19, dim=8, num_heads=2, num_layers=2, max_len=12, rng=1)
    prompt = np.array([[3, 1, 4], [1, 5, 9]])
    out = generate_cached(model, prompt, 6, temperature=0.0)
    np.testing.assert_array_equal(
        out, generate(model, prompt, 6, temperature=0.0), err_msg="same tokens as Module 13"
    )
    assert [n for n, _ in fed] == [3, 1, 1, 1, 1, 1], (
        f"prefill the 3 prompt tokens at once, then feed each new token once (the last one "
        f"is only sampled): the forward passes saw {[n for n, _ in fed]} ids"
    )
    assert not any(grad for _, grad in fed), "generate under no_grad()"
    cache = FakeCache.made[-1]
    assert (cache.model, cache.max_len, cache.batch_size) == (model, 3 + 6 - 1, 2), (
        "size the cache for prompt + new - 1 positions and the batch"
    )


@exercise("17.4")
def test_17_4_sampling_draws_line_up_and_limits_are_checked(monkeypatch):
    monkeypatch.setitem(generate_cached.__globals__, "KVCache", FakeCache)
    monkeypatch.setitem(generate_cached.__globals__, "cached_forward", _uncached_stand_in([]))
    model = GPT(vocab_size=19, dim=8, num_heads=2, num_layers=2, max_len=12, rng=2)
    prompt = np.array([[7, 7, 2]])
    sampled = generate_cached(model, prompt, 5, temperature=0.9, top_k=4, rng=11)
    expected = generate(model, prompt, 5, temperature=0.9, top_k=4, rng=11)
    np.testing.assert_array_equal(sampled, expected, err_msg="one rng, one draw per token")
    assert sampled.dtype == np.int64
    with pytest.raises(ValueError):
        generate_cached(model, prompt, 11)  # 3 + 11 - 1 = 13 > max_len 12


# ---- 17.5 compare_generation -----------------------------------------------------------------


@exercise("17.5")
def test_17_5_times_both_and_checks_the_tokens(monkeypatch):
    timed = []

    def slow(model, prompt, new_tokens, temperature=1.0, *rest):
        return np.array([[1, 2, 3]])

    def fast(model, prompt, new_tokens, temperature=1.0, *rest):
        return np.array([[1, 2, 3]])

    def fake_time_function(fn, *args, warmup=1, repeats=5, clock=None):
        timed.append((fn, args, warmup, repeats, clock))
        seconds = {slow: 4.0, fast: 1.0}.get(fn, 2.0)
        samples = (seconds * 3,) + (seconds,) * (repeats - 1)  # the median is not the first
        return Timing(seconds, samples, fn(*args))

    namespace = compare_generation.__globals__
    monkeypatch.setitem(namespace, "time_function", fake_time_function)
    monkeypatch.setitem(namespace, "generate", slow)
    monkeypatch.setitem(namespace, "generate_cached", fast)
    clock = object()
    timing = compare_generation("model", "prompt", 30, warmup=2, repeats=3, clock=clock)
    assert isinstance(timing, GenerationTiming)
    assert sorted(entry[0].__name__ for entry in timed) == ["fast", "slow"], (
        "time Module 13's generate and generate_cached, each with time_function"
    )
    for _, args, warmup, repeats, passed_clock in timed:
        assert args == ("model", "prompt", 30, 0.0), (
            f"call both greedily: (model, prompt, new_tokens, 0.0), got {args}"
        )
        assert (warmup, repeats, passed_clock) == (2, 3, clock), "pass warmup, repeats, clock on"
    assert (timing.uncached_seconds, timing.cached_seconds) == (4.0, 1.0)
    assert timing.speedup == 4.0 and timing.tokens_match is True and timing.new_tokens == 30

    def different(*args):
        return np.array([[1, 2, 4]])

    monkeypatch.setitem(namespace, "generate_cached", different)
    timing = compare_generation("model", "prompt", 30, warmup=0, repeats=1, clock=clock)
    assert timing.tokens_match is False and timing.speedup == 2.0


# ---- 17.6 generation_work ----------------------------------------------------------------------


@exercise("17.6")
def test_17_6_forward_flops_counts_projections_mlp_attention_and_head():
    # L=2, D=8, V=10, n=3 new positions over a context of 5:
    # blocks 2·(24·3·64 + 4·3·5·8) = 2·(4,608 + 480) = 10,176; head 2·3·8·10 = 480
    assert forward_flops(2, 8, 10, 3, 5) == 10_656, (
        f"L·(24·n·D² + 4·n·context·D) + 2·n·D·V = 10,656 for L=2, D=8, V=10, n=3, "
        f"context=5; got {forward_flops(2, 8, 10, 3, 5)}"
    )
    assert forward_flops(1, 4, 3, 1, 1) == 24 * 16 + 16 + 24
    assert forward_flops(3, 16, 7, 2, 9) - forward_flops(3, 16, 7, 2, 8) == 3 * 4 * 2 * 16, (
        "one more position of context costs 4·n·D FLOPs per block (scores and weighted sum)"
    )


@exercise("17.6")
def test_17_6_kv_projections_are_quadratic_without_and_linear_with_the_cache():
    work = generation_work(4, 128, 256, prompt_length=1, new_tokens=100)
    assert isinstance(work, GenerationWork)
    assert work.kv_projections_uncached == 5_050, (
        f"uncached, the pass for new token t projects all 1 + t positions: 1 + 2 + … + 100 = "
        f"5,050; got {work.kv_projections_uncached}"
    )
    assert work.kv_projections_cached == 100, (
        f"cached, each position is projected once: the 1 prompt position and 99 fed-back "
        f"tokens (the last token is never fed back); got {work.kv_projections_cached}"
    )
    work = generation_work(2, 8, 10, prompt_length=8, new_tokens=3)
    assert (work.kv_projections_uncached, work.kv_projections_cached) == (8 + 9 + 10, 10)
    assert (work.prompt_length, work.new_tokens) == (8, 3)


def _uncached_flops(layers, dim, vocab, prompt, new):
    total = 0
    for positions in range(prompt, prompt + new):
        total += layers * (24 * positions * dim**2 + 4 * positions**2 * dim)
        total += 2 * positions * dim * vocab
    return total


@exercise("17.6")
def test_17_6_flops_add_every_forward_pass_both_ways():
    layers, dim, vocab, prompt, new = 3, 16, 11, 5, 7
    work = generation_work(layers, dim, vocab, prompt, new)
    uncached = _uncached_flops(layers, dim, vocab, prompt, new)
    assert work.flops_uncached == uncached, (
        f"uncached: one full forward pass over prompt + t positions for each new token t = "
        f"0 .. {new - 1} (context = the same positions): {uncached:,}, got {work.flops_uncached:,}"
    )
    prefill = layers * (24 * prompt * dim**2 + 4 * prompt**2 * dim) + 2 * prompt * dim * vocab
    steps = sum(
        layers * (24 * dim**2 + 4 * context * dim) + 2 * dim * vocab
        for context in range(prompt + 1, prompt + new)
    )
    assert work.flops_cached == prefill + steps, (
        f"cached: the prefill (n = context = prompt) plus one pass of n = 1 over contexts "
        f"prompt + 1 .. prompt + new - 1: {prefill + steps:,}, got {work.flops_cached:,}"
    )
    assert work.flops_per_token(cached=False) == pytest.approx(uncached / new)
    assert work.flops_ratio == pytest.approx(uncached / (prefill + steps))
    one = generation_work(layers, dim, vocab, prompt, 1)
    assert one.flops_cached == one.flops_uncached, "one new token: both run just the prefill"
    with pytest.raises(ValueError):
        generation_work(layers, dim, vocab, 0, 5)
