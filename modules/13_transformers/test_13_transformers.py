"""Graded tests for Module 13 (Transformers). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

Where a test checks how a layer is wired (the block, GPT.forward, the memory tables),
the sub-layers written in other exercises are swapped for simple stand-ins, so that
a mistake in LayerNorm does not cost points in the block. The whole model, with every
piece real, is exercised in test_integration_13.py.
"""

import numpy as np
import pytest

from tinytorch.core import Tensor, enable_autograd, gradient_check
from tinytorch.nn import (
    GPT,
    MLP,
    FeedForward,
    LayerNorm,
    Module,
    TransformerBlock,
    causal_mask,
    generate,
    kv_cache_bytes,
    output_bytes_by_layer,
    parameter_bytes,
    parameter_bytes_by_layer,
    sample_next_token,
)

exercise = pytest.mark.exercise


@pytest.fixture(autouse=True)
def _autograd():
    enable_autograd()


class Scale(Module):
    """Stand-in for a sub-layer: multiplies by a constant, records the mask it was given.
    Holds a (size,) parameter so that it has known parameter bytes."""

    def __init__(self, factor: float, size: int = 1):
        self.factor = factor
        self.weight = Tensor(np.zeros(size), requires_grad=True)
        self.masks = []

    def forward(self, x, mask=None):
        self.masks.append(mask)
        return x * self.factor


def _x(seed, shape):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


# ---- 13.1 LayerNorm -----------------------------------------------------------------------


@exercise("13.1")
def test_13_1_layer_norm_matches_reference():
    norm = LayerNorm(6)
    norm.gamma.data = _x(0, (6,))
    norm.beta.data = _x(1, (6,))
    x = _x(2, (2, 3, 6)) * 5 + 3
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-5) * norm.gamma.data + norm.beta.data
    np.testing.assert_allclose(
        norm(Tensor(x)).data,
        expected,
        rtol=1e-4,
        atol=1e-4,
        err_msg="LayerNorm(6) of (2, 3, 6): normalise each row of 6 features, then gamma, beta",
    )
    plain = LayerNorm(6)(Tensor(x)).data
    np.testing.assert_allclose(plain.mean(axis=-1), 0, atol=1e-5, err_msg="mean 0 per position")
    np.testing.assert_allclose(plain.var(axis=-1), 1, rtol=1e-3, err_msg="variance 1 (biased)")
    assert np.isfinite(LayerNorm(4)(Tensor(np.full((2, 4), 7.0))).data).all(), (
        "a constant input has variance 0: eps keeps the result finite"
    )


@exercise("13.1")
def test_13_1_eps_is_added_to_the_variance_inside_the_square_root():
    x = _x(10, (3, 8)) * 0.003  # variance about 1e-5, as small as eps
    var = x.var(axis=-1, keepdims=True)
    expected = (x - x.mean(axis=-1, keepdims=True)) / np.sqrt(var + 1e-5)
    got = LayerNorm(8)(Tensor(x)).data
    np.testing.assert_allclose(
        got,
        expected,
        rtol=1e-3,
        atol=1e-4,
        err_msg=f"input of shape (3, 8) with variances {var.ravel()} (close to eps = 1e-5): "
        f"expected (x - mean) / sqrt(variance + eps), not / (sqrt(variance) + eps)",
    )


@exercise("13.1")
def test_13_1_gradient_check_of_layer_norm():
    norm = LayerNorm(5)
    norm.gamma.data, norm.beta.data = _x(3, (5,)), _x(4, (5,))
    x = Tensor(_x(5, (3, 5)), requires_grad=True)
    assert norm.parameters() == [norm.gamma, norm.beta], "the parameters are gamma and beta"
    error = gradient_check(lambda a, g, b: norm(a), x, norm.gamma, norm.beta)
    assert error < 1e-2, f"LayerNorm(5) on (3, 5): gradients off by {error:.3g}"


# ---- 13.2 MLP ----------------------------------------------------------------------------------


def _gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


@exercise("13.2")
def test_13_2_mlp_is_dense_gelu_dense():
    mlp = MLP(4, rng=0)
    assert FeedForward is MLP, "FeedForward is another name for MLP"
    assert mlp.fc1.weight.shape == (4, 16), "the hidden layer is 4·D wide by default"
    count = sum(p.size for p in mlp.parameters())
    assert count == 8 * 16 + 5 * 4, f"MLP(4): 2·4·16 + 16 + 4 = 148 parameters, got {count}"
    x = _x(6, (2, 3, 4))
    hidden = _gelu(x @ mlp.fc1.weight.data + mlp.fc1.bias.data)
    expected = hidden @ mlp.fc2.weight.data + mlp.fc2.bias.data
    out = mlp(Tensor(x))
    assert out.shape == (2, 3, 4), f"(..., D) in, (..., D) out; got {out.shape}"
    np.testing.assert_allclose(
        out.data, expected, rtol=1e-4, atol=1e-5, err_msg="fc2(GELU(fc1(x))) on (2, 3, 4)"
    )


@exercise("13.2")
def test_13_2_gradient_check_of_the_mlp():
    mlp = MLP(3, hidden_dim=5, rng=1)
    x = Tensor(_x(7, (2, 3)), requires_grad=True)
    error = gradient_check(lambda a: mlp(a), x)
    assert error < 1e-2, f"MLP(3, hidden_dim=5) on (2, 3): gradient off by {error:.3g}"
    assert all(p.grad is not None for p in mlp.parameters()), "every MLP parameter gets a gradient"


# ---- 13.3 TransformerBlock ------------------------------------------------------------------


def _block_with_stand_ins(dim=8, heads=2):
    block = TransformerBlock(dim, heads, rng=2)
    block.ln1, block.ln2, block.mlp = Scale(2.0), Scale(3.0), Scale(0.5)
    return block


@exercise("13.3")
def test_13_3_block_is_pre_norm_with_two_residuals():
    block = _block_with_stand_ins()
    x = _x(8, (2, 5, 8))
    mask = causal_mask(5)
    out = block(Tensor(x), mask)
    first = x + block.attn(Tensor(2.0 * x), mask).data  # x + attn(ln1(x))
    expected = first + 0.5 * (3.0 * first)  # + mlp(ln2(first))
    assert out.shape == (2, 5, 8), f"(B, N, D) in, (B, N, D) out: (2, 5, 8), got {out.shape}"
    np.testing.assert_allclose(
        out.data,
        expected,
        rtol=1e-4,
        atol=1e-5,
        err_msg="expected x = x + attn(ln1(x), mask); out = x + mlp(ln2(x))",
    )


@exercise("13.3")
def test_13_3_block_passes_the_mask_and_stays_causal():
    block = _block_with_stand_ins()
    x = _x(9, (1, 6, 8))
    before = block(Tensor(x), causal_mask(6)).data
    x[0, 4:] = 50.0
    after = block(Tensor(x), causal_mask(6)).data
    np.testing.assert_allclose(
        after[0, :4],
        before[0, :4],
        rtol=1e-5,
        atol=1e-5,
        err_msg="with the causal mask, positions 0..3 must not see positions 4 and 5: pass "
        "`mask` to the attention",
    )
    real = TransformerBlock(8, 2)
    count = sum(p.size for p in real.parameters())
    assert count == 12 * 64 + 13 * 8, f"TransformerBlock(8, 2): 12·D² + 13·D = 872, got {count}"


# ---- 13.4 GPT.forward -----------------------------------------------------------------------


def _gpt_with_stand_ins(vocab=11, dim=8, layers=2, max_len=6):
    model = GPT(vocab, dim, num_heads=2, num_layers=layers, max_len=max_len, rng=3)
    model.blocks = [Scale(1.0) for _ in range(layers)]
    model.final_norm = Scale(2.0)
    return model


@exercise("13.4")
def test_13_4_gpt_forward_embeds_runs_blocks_and_scores_the_vocabulary():
    model = _gpt_with_stand_ins()
    ids = np.array([[1, 4, 4, 0], [10, 2, 3, 9]])
    logits = model(ids)
    assert logits.shape == (2, 4, 11), f"(B, N, vocab) = (2, 4, 11), got {logits.shape}"
    x = model.token_embedding.weight.data[ids] + model.position.weight.data[:4]
    expected = (2.0 * x) @ model.lm_head.weight.data + model.lm_head.bias.data
    np.testing.assert_allclose(
        logits.data,
        expected,
        rtol=1e-4,
        atol=1e-5,
        err_msg="lm_head(final_norm(blocks(token embeddings + positions)))",
    )
    for block in model.blocks:
        assert len(block.masks) == 1, "every block runs once per forward pass"
        assert block.masks[0] is not None, "give every block the causal mask"
        np.testing.assert_array_equal(
            block.masks[0], causal_mask(4), "4 positions: the (4, 4) causal mask"
        )


@exercise("13.4")
def test_13_4_each_block_reads_the_previous_blocks_output():
    model = _gpt_with_stand_ins(layers=3)
    model.blocks = [Scale(2.0), Scale(3.0), Scale(5.0)]
    ids = np.array([[1, 2, 3]])
    logits = model(ids)
    x = model.token_embedding.weight.data[ids] + model.position.weight.data[:3]
    expected = (2.0 * 30.0 * x) @ model.lm_head.weight.data + model.lm_head.bias.data
    np.testing.assert_allclose(
        logits.data,
        expected,
        rtol=1e-4,
        atol=1e-5,
        err_msg="three stand-in blocks scaling by 2, 3 and 5 must scale the (1, 3, 8) "
        "embeddings by 30 in all: x = block(x, mask) for each block in turn",
    )


@exercise("13.4")
def test_13_4_gpt_trains_every_position_at_once():
    model = _gpt_with_stand_ins(max_len=5)
    ids = Tensor(np.array([[3, 1, 2, 0, 7]]))
    logits = model(ids)
    assert logits.shape == (1, 5, 11), "ids may come as a Tensor too"
    logits.sum().backward()
    grad = model.token_embedding.weight.grad.data
    assert np.abs(grad[[0, 1, 2, 3, 7]]).sum() > 0 and not grad[[4, 5, 6, 8, 9, 10]].any(), (
        "only the rows of the ids that were used receive gradient"
    )
    with pytest.raises(ValueError, match="max_len"):
        model(np.zeros((1, 6), dtype=np.int64))


# ---- 13.5 generation ------------------------------------------------------------------------


class Bigram(Module):
    """Stand-in model: the logits at each position depend only on the id there."""

    def __init__(self, table, max_len=4):
        self.table, self.max_len = np.asarray(table, dtype=np.float32), max_len
        self.lengths = []

    def forward(self, ids):
        self.lengths.append(ids.shape[1])
        assert ids.shape[1] <= self.max_len, "the context must be cut to the last max_len ids"
        return Tensor(self.table[ids])


@exercise("13.5")
def test_13_5_greedy_top_k_and_temperature():
    logits = np.array([[0.0, 3.0, 1.0, 2.5], [5.0, -1.0, 4.0, 0.0]])
    greedy = sample_next_token(logits, temperature=0)
    np.testing.assert_array_equal(greedy, [1, 0], "temperature 0: the largest logit of each row")
    assert greedy.dtype == np.int64, f"token ids are int64, got {greedy.dtype}"
    for seed in range(20):
        assert list(sample_next_token(logits, 1.0, top_k=1, rng=seed)) == [1, 0], (
            "top_k=1 keeps only the largest logit"
        )
        drawn = sample_next_token(logits, 5.0, top_k=2, rng=seed)
        assert drawn.shape == (2,) and set(drawn) <= {0, 1, 2, 3}, (
            f"one id in 0..3 per row, got {drawn}"
        )
        assert sample_next_token(logits, 5.0, top_k=2, rng=seed)[0] in (1, 3), (
            "with top_k=2 only the two largest logits (ids 1 and 3 in row 0) may be drawn"
        )
    flat = np.zeros((50, 4))  # 50 rows, 4 equally likely ids each
    first = [sample_next_token(flat, 1.0, rng=7).tolist() for _ in range(2)]
    assert first[0] == first[1], (
        f"the same seed must give the same 50 draws: {first[0]} then {first[1]}. Draw from "
        f"rng (np.random.default_rng(rng)), not from np.random"
    )


@exercise("13.5")
def test_13_5_sampling_follows_softmax_of_logits_over_temperature():
    row = np.array([[1.0, 2.0, 0.0]])
    rng = np.random.default_rng(0)
    for temperature in (1.0, 0.5):
        draws = [sample_next_token(row, temperature, rng=rng)[0] for _ in range(3000)]
        freq = np.bincount(draws, minlength=3) / 3000
        want = np.exp(row[0] / temperature) / np.exp(row[0] / temperature).sum()
        np.testing.assert_allclose(
            freq, want, atol=0.03, err_msg=f"frequencies at temperature {temperature}"
        )


@exercise("13.5")
def test_13_5_generate_appends_one_token_per_step():
    table = np.full((5, 5), -5.0)
    table[[0, 1, 2, 3, 4], [2, 3, 4, 1, 0]] = 5.0  # 0→2→4→0, 1→3→1
    model = Bigram(table, max_len=4)
    out = generate(model, [[0, 1], [1, 1]], 6, temperature=0)
    assert out.shape == (2, 8) and out.dtype == np.int64, (
        f"2 prompts of 2 ids + 6 new: int64 (2, 8), got {out.dtype} {out.shape}"
    )
    np.testing.assert_array_equal(out[0], [0, 1, 3, 1, 3, 1, 3, 1], "greedy: 1→3→1→3...")
    np.testing.assert_array_equal(out[1], [1, 1, 3, 1, 3, 1, 3, 1], "greedy: 1→3→1→3...")
    assert model.lengths == [2, 3, 4, 4, 4, 4], "feed only the last max_len ids to the model"
    sampled = [generate(Bigram(table), [[4]], 5, temperature=1.0, rng=11) for _ in range(2)]
    np.testing.assert_array_equal(sampled[0], sampled[1], err_msg="seeded generation repeats")


@exercise("13.5")
def test_13_5_every_step_draws_a_new_random_number():
    model = Bigram(np.zeros((5, 5)), max_len=4)  # every token equally likely at every step
    out = generate(model, [[0]], 40, temperature=1.0, rng=3)[0, 1:]
    again = generate(model, [[0]], 40, temperature=1.0, rng=3)[0, 1:]
    np.testing.assert_array_equal(
        again, out, "generate with the same rng seed must repeat its 40 draws exactly"
    )
    counts = np.bincount(out, minlength=5)
    assert (counts > 0).sum() >= 4, (
        f"40 draws from 5 equally likely tokens gave the counts {counts.tolist()}: use one "
        f"generator for the whole generation (rng), not a new one from a fixed seed each step"
    )


# ---- 13.6 memory by layer -------------------------------------------------------------------


@exercise("13.6")
def test_13_6_parameter_bytes_by_layer():
    vocab, dim, layers, max_len = 13, 8, 2, 6
    model = GPT(vocab, dim, num_heads=2, num_layers=layers, max_len=max_len, rng=4)
    table = parameter_bytes_by_layer(model)
    block = 4 * (12 * dim * dim + 13 * dim)
    expected = {
        "token_embedding": 4 * vocab * dim,
        "position": 4 * max_len * dim,
        "block.0": block,
        "block.1": block,
        "final_norm": 4 * 2 * dim,
        "lm_head": 4 * (dim * vocab + vocab),
    }
    assert table == expected, f"bytes per layer should be {expected}, got {table}"
    assert list(table) == [name for name, _ in model.named_layers()], "keep data-flow order"
    assert sum(table.values()) == parameter_bytes(model), (
        f"the layers add up to parameter_bytes(model) = {parameter_bytes(model)}"
    )


@exercise("13.6")
def test_13_6_output_bytes_are_measured_by_running_the_layers():
    model = _gpt_with_stand_ins(vocab=11, dim=8, layers=2, max_len=6)
    sizes = output_bytes_by_layer(model, batch_size=3, seq_len=5)
    hidden = 3 * 5 * 8 * 4
    expected = {
        "token_embedding": hidden,
        "position": hidden,
        "block.0": hidden,
        "block.1": hidden,
        "final_norm": hidden,
        "lm_head": 3 * 5 * 11 * 4,
    }
    assert sizes == expected, (
        f"batch 3 × 5 positions: (3, 5, 8) float32 hidden states, (3, 5, 11) logits; expected "
        f"{expected}, got {sizes}"
    )
    np.testing.assert_array_equal(
        model.blocks[0].masks[-1], causal_mask(5), "blocks run with the (5, 5) causal mask"
    )
    assert output_bytes_by_layer(model)["lm_head"] == 6 * 11 * 4, "seq_len defaults to max_len"


# ---- 13.7 KV cache ---------------------------------------------------------------------------


@exercise("13.7")
def test_13_7_kv_cache_formula():
    assert kv_cache_bytes(12, 12, 64, 1024) == 75_497_472, "GPT-2 small, 1,024 positions, float32"
    assert kv_cache_bytes(12, 12, 64, 2048) == 2 * kv_cache_bytes(12, 12, 64, 1024), (
        "the cache grows linearly with the sequence"
    )
    small = kv_cache_bytes(2, 4, 8, 10, batch_size=3, bytes_per_value=2)
    assert small == 2 * 2 * 4 * 8 * 10 * 3 * 2, (
        f"2 (K and V) · 2 layers · 4 heads · 8 dims · 10 positions · batch 3 · 2 bytes = 7,680, "
        f"got {small}"
    )


@exercise("13.7")
def test_13_7_kv_cache_is_one_key_and_one_value_per_position_and_layer():
    layers, heads, head_dim, seq, batch = 3, 2, 4, 7, 5
    dim = heads * head_dim
    one_layer_keys = batch * seq * dim * 4  # the bytes of one (B, N, D) float32 key tensor
    got = kv_cache_bytes(layers, heads, head_dim, seq, batch_size=batch)
    assert got == layers * 2 * one_layer_keys, (
        f"3 layers × (keys + values) × {one_layer_keys} bytes = {layers * 2 * one_layer_keys}, "
        f"got {got}"
    )
