"""Graded tests for Module 12 (Attention). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

Values are compared with a NumPy reference written here (float64), so a test of one
exercise does not rely on your code for another where that can be avoided. Multi-head
attention (12.4) is built from 12.1 and 12.3, so its tests need those to work.
"""

import numpy as np
import pytest

from tinytorch.core import Tensor, enable_autograd, gradient_check
from tinytorch.nn import (
    MultiHeadAttention,
    attention_score_bytes,
    causal_mask,
    measure_score_bytes,
    merge_heads,
    scaled_dot_product_attention,
    split_heads,
)

exercise = pytest.mark.exercise


@pytest.fixture(autouse=True)
def _autograd():
    enable_autograd()


def reference_attention(q, k, v, mask=None):
    """softmax(q kᵀ / √d) v in float64; masked entries get weight exactly 0."""
    scores = q.astype(np.float64) @ np.swapaxes(k.astype(np.float64), -1, -2)
    scores /= np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    scores -= scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ v.astype(np.float64), weights


def _qkv(seed, shape_q, shape_k, dv):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=shape_q).astype(np.float32)
    k = rng.normal(size=shape_k).astype(np.float32)
    v = rng.normal(size=(*shape_k[:-1], dv)).astype(np.float32)
    return q, k, v


# ---- 12.1 scaled dot-product attention ------------------------------------------------


@exercise("12.1")
def test_12_1_attention_matches_reference():
    q, k, v = _qkv(0, (2, 3, 5, 8), (2, 3, 6, 8), 4)  # batch 2, 3 heads, 5 queries, 6 keys
    out, weights = scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v))
    want_out, want_weights = reference_attention(q, k, v)
    assert out.shape == (2, 3, 5, 4), f"output is (..., N_q, d_v) = (2, 3, 5, 4), got {out.shape}"
    assert weights.shape == (2, 3, 5, 6), f"weights are (..., N_q, N_k), got {weights.shape}"
    np.testing.assert_allclose(
        weights.data,
        want_weights,
        rtol=1e-4,
        atol=1e-6,
        err_msg="weights differ: did you divide the scores by sqrt(d) (d = 8 here) before softmax?",
    )
    np.testing.assert_allclose(
        out.data, want_out, rtol=1e-4, atol=1e-5, err_msg="output (2, 3, 5, 4) = weights @ v"
    )
    np.testing.assert_allclose(
        weights.data.sum(axis=-1), 1.0, rtol=1e-5, err_msg="each row of weights sums to 1"
    )


@exercise("12.1")
def test_12_1_mask_gives_zero_weight_and_never_nan():
    q, k, v = _qkv(1, (4, 8), (4, 8), 3)
    mask = np.array(
        [[True, False, True, False], [False, False, False, False], [True] * 4, [False, True] * 2]
    )
    out, weights = scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), mask)
    assert np.isfinite(weights.data).all() and np.isfinite(out.data).all(), (
        "a row where every key is masked must still give finite numbers: add a large negative "
        "number (MASK_VALUE), not -inf"
    )
    assert np.all(weights.data[[0, 2, 3]][~mask[[0, 2, 3]]] < 1e-12), (
        "masked keys must get weight 0"
    )
    want_out, want_weights = reference_attention(q[[0, 2, 3]], k, v, mask[[0, 2, 3]])
    np.testing.assert_allclose(
        weights.data[[0, 2, 3]],
        want_weights,
        rtol=1e-4,
        atol=1e-6,
        err_msg="weights of queries 0, 2, 3 under the mask (softmax over the allowed keys only)",
    )
    np.testing.assert_allclose(
        out.data[[0, 2, 3]], want_out, rtol=1e-4, atol=1e-5, err_msg="outputs of queries 0, 2, 3"
    )


@exercise("12.1")
def test_12_1_gradient_check_through_q_k_and_v():
    q, k, v = _qkv(2, (2, 4, 3), (2, 5, 3), 2)
    mask = np.tril(np.ones((4, 5), dtype=bool), k=1)
    inputs = [Tensor(a, requires_grad=True) for a in (q, k, v)]
    error = gradient_check(lambda a, b, c: scaled_dot_product_attention(a, b, c, mask)[0], *inputs)
    assert error < 1e-2, (
        f"gradients through q (2, 4, 3), k (2, 5, 3), v (2, 5, 2) with a mask are off by "
        f"{error:.3g}: build attention from Tensor operations"
    )


# ---- 12.2 causal mask ------------------------------------------------------------------


@exercise("12.2")
def test_12_2_causal_mask_is_lower_triangular():
    mask = causal_mask(4)
    assert mask.dtype == bool, f"the mask must be boolean (True = may attend), got {mask.dtype}"
    np.testing.assert_array_equal(
        mask,
        [[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]],
        err_msg="True on and below the diagonal: query i sees keys 0..i",
    )
    assert causal_mask(1).tolist() == [[True]], (
        f"one position sees itself: [[True]], got {causal_mask(1).tolist()}"
    )


@exercise("12.2")
def test_12_2_the_future_cannot_change_the_past():
    q, k, v = _qkv(3, (6, 4), (6, 4), 4)
    mask = causal_mask(6)
    before, _ = reference_attention(q, k, v, mask)
    k2, v2 = k.copy(), v.copy()
    k2[4:], v2[4:] = 100.0, -100.0  # rewrite positions 4 and 5
    after, _ = reference_attention(q, k2, v2, mask)
    np.testing.assert_allclose(
        after[:4], before[:4], err_msg="outputs 0..3 must not depend on positions 4 and 5"
    )
    assert not np.allclose(after[4:], before[4:]), "positions 4 and 5 must still see themselves"


# ---- 12.3 split and merge heads -------------------------------------------------------


@exercise("12.3")
def test_12_3_split_heads_cuts_features_into_groups():
    x = np.arange(2 * 3 * 8, dtype=np.float32).reshape(2, 3, 8)
    heads = split_heads(Tensor(x), 4)
    assert heads.shape == (2, 4, 3, 2), f"(B, N, D) = (2, 3, 8) → (B, H, N, D/H), got {heads.shape}"
    for h in range(4):
        np.testing.assert_array_equal(
            heads.data[:, h],
            x[:, :, 2 * h : 2 * h + 2],
            err_msg=f"head {h} must hold features {2 * h}..{2 * h + 1} of every position",
        )


@exercise("12.3")
def test_12_3_merge_undoes_split_and_gradients_flow():
    x = Tensor(np.random.default_rng(4).normal(size=(2, 5, 6)), requires_grad=True)
    merged = merge_heads(split_heads(x, 3))
    assert merged.shape == (2, 5, 6), (
        f"merge(split(x)) of (2, 5, 6) is (2, 5, 6), got {merged.shape}"
    )
    np.testing.assert_array_equal(merged.data, x.data, err_msg="merge(split(x)) must equal x")
    error = gradient_check(lambda a: merge_heads(split_heads(a, 2) * 2.0), x)
    assert error < 1e-2, f"gradient through split/merge of (2, 5, 6) off by {error:.3g}"


# ---- 12.4 multi-head attention ---------------------------------------------------------


def reference_mha(layer, x, mask):
    def project(linear, values):
        return values @ linear.weight.data.astype(np.float64) + linear.bias.data

    batch, length, dim = x.shape
    heads, head_dim = layer.num_heads, dim // layer.num_heads

    def split(values):
        return values.reshape(batch, length, heads, head_dim).transpose(0, 2, 1, 3)

    q, k, v = (split(project(p, x)) for p in (layer.q_proj, layer.k_proj, layer.v_proj))
    out, weights = reference_attention(q, k, v, mask)
    merged = out.transpose(0, 2, 1, 3).reshape(batch, length, dim)
    return project(layer.out_proj, merged), weights


@exercise("12.4")
def test_12_4_multi_head_attention_matches_reference():
    layer = MultiHeadAttention(8, 2, rng=0)
    for linear in (layer.q_proj, layer.k_proj, layer.v_proj, layer.out_proj):
        linear.bias.data = np.random.default_rng(5).normal(size=8).astype(np.float32)
    x = np.random.default_rng(6).normal(size=(2, 5, 8)).astype(np.float32)
    mask = np.tril(np.ones((5, 5), dtype=bool))  # the causal mask, built here (12.2 is yours)
    out = layer(Tensor(x), mask)
    want, want_weights = reference_mha(layer, x, mask)
    assert out.shape == (2, 5, 8), f"(B, N, D) in, (B, N, D) out; got {out.shape}"
    np.testing.assert_allclose(
        out.data, want, rtol=1e-4, atol=1e-5, err_msg="MultiHeadAttention(8, 2) on (2, 5, 8)"
    )
    assert isinstance(layer.last_weights, np.ndarray), (
        f"keep the weights as a NumPy array, got {type(layer.last_weights).__name__}"
    )
    assert layer.last_weights.shape == (2, 2, 5, 5), (
        f"last_weights is (B, H, N, N) = (2, 2, 5, 5), got {layer.last_weights.shape}"
    )
    np.testing.assert_allclose(
        layer.last_weights, want_weights, rtol=1e-4, atol=1e-6, err_msg="each head's weights"
    )


@exercise("12.4")
def test_12_4_parameters_and_gradients_reach_every_projection():
    layer = MultiHeadAttention(6, 3, rng=1)
    params = layer.parameters()
    assert len(params) == 8 and sum(p.size for p in params) == 4 * (6 * 6 + 6), (
        "four projections of D×D weights and D biases: 4·(D² + D) numbers"
    )
    x = Tensor(np.random.default_rng(7).normal(size=(1, 4, 6)), requires_grad=True)
    mask = np.tril(np.ones((4, 4), dtype=bool))
    error = gradient_check(lambda a: layer(a, mask), x)
    assert error < 1e-2, f"MultiHeadAttention(6, 3) on (1, 4, 6): gradient off by {error:.3g}"
    for p in params:
        assert p.grad is not None and np.abs(p.grad.data).sum() > 0, (
            f"a parameter of shape {p.shape} received no gradient"
        )
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 4)


# ---- 12.5 quadratic memory -------------------------------------------------------------


@exercise("12.5")
def test_12_5_score_bytes_formula():
    cases = [
        ((1024,), {}, 4 * 1024 * 1024),
        ((4096,), {"num_heads": 12, "batch_size": 8}, 8 * 12 * 4096**2 * 4),
        ((100,), {"bytes_per_value": 2}, 20_000),
    ]
    for args, options, expected in cases:
        got = attention_score_bytes(*args, **options)
        assert got == expected, (
            f"attention_score_bytes{args} with {options}: batch · heads · N² · bytes = "
            f"{expected:,}, got {got:,}"
        )
    for n in (64, 128, 256):
        assert attention_score_bytes(2 * n, num_heads=4) == 4 * attention_score_bytes(
            n, num_heads=4
        ), "doubling the sequence length must quadruple the score matrix"


@exercise("12.5")
def test_12_5_measured_score_bytes_quadruple_as_n_doubles():
    measured = [measure_score_bytes(n, head_dim=8, num_heads=2) for n in (32, 64, 128)]
    assert measured == [2 * n * n * 4 for n in (32, 64, 128)], (
        f"measured bytes {measured} should be num_heads · N² · 4 for N = 32, 64, 128"
    )
    assert measured[1] == 4 * measured[0] and measured[2] == 4 * measured[1], (
        f"doubling N quadruples the bytes: {measured}"
    )
    assert measure_score_bytes(16, head_dim=64) == measure_score_bytes(16, head_dim=4), (
        "the score matrix does not depend on the head dimension"
    )
    batched = measure_score_bytes(16, head_dim=4, num_heads=2, batch_size=3)
    assert batched == 3 * 2 * 16 * 16 * 4, (
        f"batch 3, 2 heads, N = 16: 3 · 2 · 16² · 4 = {3 * 2 * 16 * 16 * 4} bytes of scores, "
        f"measured {batched}. Build Q and K of shape (batch_size, num_heads, N, head_dim)"
    )
