"""Integration tests for Module 17 (not graded): the whole cached path with every piece
real — KVCache, cached attention and forward, cached generation — against Module 13's
GPT and generate."""

import numpy as np
import pytest

from tinytorch.core import enable_autograd, no_grad
from tinytorch.generation import (
    KVCache,
    cached_forward,
    compare_generation,
    generate_cached,
    generation_work,
)
from tinytorch.nn import GPT, generate, kv_cache_bytes

integration = pytest.mark.integration


@pytest.fixture(autouse=True)
def _autograd():
    enable_autograd()


@pytest.fixture(scope="module")
def model():
    return GPT(vocab_size=31, dim=16, num_heads=4, num_layers=2, max_len=40, rng=3)


@integration
def test_cached_logits_equal_the_full_forward_pass(model):
    ids = np.random.default_rng(0).integers(0, 31, size=(2, 12))
    with no_grad():
        full = model(ids).data
        cache = KVCache.for_model(model, 12, batch_size=2)
        assert cache.nbytes == kv_cache_bytes(2, 4, 4, 12, batch_size=2)
        pieces = [cached_forward(model, ids[:, :5], cache).data]
        pieces += [cached_forward(model, ids[:, i : i + 1], cache).data for i in range(5, 12)]
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), full, rtol=1e-4, atol=1e-5)
    assert cache.length == 12


@integration
def test_greedy_generation_gives_identical_tokens_with_and_without_the_cache(model):
    prompt = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    cached = generate_cached(model, prompt, 30, temperature=0.0)
    np.testing.assert_array_equal(cached, generate(model, prompt, 30, temperature=0.0))
    sampled = generate_cached(model, prompt, 20, temperature=1.0, top_k=5, rng=7)
    np.testing.assert_array_equal(sampled, generate(model, prompt, 20, 1.0, 5, rng=7))


@integration
def test_compare_generation_with_the_real_clock(model):
    timing = compare_generation(model, np.array([[1, 2, 3]]), 20, warmup=0, repeats=1)
    assert timing.tokens_match
    assert timing.uncached_seconds > 0 and timing.cached_seconds > 0
    assert timing.speedup == pytest.approx(timing.uncached_seconds / timing.cached_seconds)


@integration
def test_generation_work_counts_the_key_projections_really_run(model):
    class Counting:
        """Wraps a projection and counts the positions it projects."""

        def __init__(self, layer):
            self.layer, self.positions = layer, 0

        def __call__(self, x):
            self.positions += x.shape[1]
            return self.layer(x)

    counters = []
    for block in model.blocks:
        block.attn.k_proj = Counting(block.attn.k_proj)
        counters.append(block.attn.k_proj)
    try:
        prompt = np.array([[1, 2, 3]])
        work = generation_work(2, 16, 31, prompt_length=3, new_tokens=12)
        generate(model, prompt, 12, temperature=0.0)
        assert [c.positions for c in counters] == [work.kv_projections_uncached] * 2
        for counter in counters:
            counter.positions = 0
        generate_cached(model, prompt, 12, temperature=0.0)
        assert [c.positions for c in counters] == [work.kv_projections_cached] * 2
    finally:
        for block, counter in zip(model.blocks, counters, strict=True):
            block.attn.k_proj = counter.layer
