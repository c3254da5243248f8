"""Graded tests for Module 11 (Embeddings). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

embedding_backward (11.2) is tested on its own; its gradient check through the whole
Embedding layer also needs the lookup of 11.1."""

import numpy as np
import pytest

from tinytorch.core import Tensor, enable_autograd, gradient_check
from tinytorch.nn import (
    Embedding,
    LearnedPositionalEncoding,
    PositionalEncoding,
    SinusoidalPositionalEncoding,
    embedding_backward,
    embedding_table_bytes,
    sinusoidal_positions,
    sparse_gradient_bytes,
)

exercise = pytest.mark.exercise

IDS = np.array([[1, 2, 1], [3, 1, 0]])  # id 1 three times, ids 4..9 never


@pytest.fixture(autouse=True)
def _autograd():
    enable_autograd()


# ---- 11.1 lookup -------------------------------------------------------------------------


@exercise("11.1")
def test_11_1_lookup_returns_the_rows_of_the_ids():
    table = Embedding(10, 4, rng=0)
    vectors = table(IDS)
    assert vectors.shape == (2, 3, 4), f"ids (2, 3) with dim 4 give (2, 3, 4), got {vectors.shape}"
    np.testing.assert_array_equal(
        vectors.data, table.weight.data[IDS], "vector [b, n] is row IDS[b, n] of the table"
    )
    np.testing.assert_array_equal(table(Tensor(IDS)).data, vectors.data, "ids may be a Tensor")
    np.testing.assert_array_equal(table([7]).data, table.weight.data[[7]], "or a list")
    assert table(np.array(5)).shape == (4,), "one id gives one vector"


@exercise("11.1")
def test_11_1_out_of_range_ids_are_rejected_with_the_vocabulary_size():
    table = Embedding(10, 4, rng=0)
    np.testing.assert_array_equal(
        table([9, 0]).data, table.weight.data[[9, 0]], "ids 0 and 9 (the last) are valid"
    )
    for bad in ([3, 10], [-1, 2]):
        with pytest.raises(IndexError) as caught:
            table(bad)
        assert "10" in str(caught.value), (
            f"the error for ids {bad} should name the vocabulary size 10, got: {caught.value}"
        )


# ---- 11.2 row-sparse gradient ------------------------------------------------------------


@exercise("11.2")
def test_11_2_repeated_ids_add_up_and_unused_rows_stay_zero():
    grad_out = np.random.default_rng(1).normal(size=(2, 3, 4)).astype(np.float32)
    grad = embedding_backward(grad_out, IDS, 10)
    assert grad.shape == (10, 4), f"the gradient has the table's shape (10, 4), got {grad.shape}"
    np.testing.assert_allclose(
        grad[1],
        grad_out[0, 0] + grad_out[0, 2] + grad_out[1, 1],
        rtol=1e-6,
        err_msg="id 1 was looked up 3 times: its row must receive all 3 gradients (np.add.at)",
    )
    np.testing.assert_allclose(
        grad[[0, 2, 3]],
        grad_out[[1, 0, 1], [2, 1, 0]],
        rtol=1e-6,
        err_msg="ids 0, 2, 3 were looked up once each: their rows get that position's gradient",
    )
    assert not grad[4:].any(), "rows of ids that were never looked up must be exactly 0"


@exercise("11.2")
def test_11_2_gradient_of_the_embedding_layer():
    table = Embedding(6, 3, rng=2)
    ids = np.array([0, 5, 5, 2])
    error = gradient_check(lambda weight: table(ids), table.weight)
    assert error < 1e-2, f"Embedding(6, 3) on ids {ids.tolist()}: gradient off by {error:.3g}"
    table.weight.grad = None
    (table(ids) * Tensor(np.ones((4, 3)))).sum().backward()
    np.testing.assert_allclose(
        table.weight.grad.data,
        [[1] * 3, [0] * 3, [1] * 3, [0] * 3, [0] * 3, [2] * 3],
        err_msg="ids [0, 5, 5, 2]: rows 0 and 2 get 1, row 5 gets 2, the others 0",
    )


# ---- 11.3 sinusoidal -----------------------------------------------------------------------


@exercise("11.3")
def test_11_3_sinusoidal_table_follows_the_formula():
    table = sinusoidal_positions(50, 8)
    assert table.shape == (50, 8) and table.dtype == np.float32, (
        f"sinusoidal_positions(50, 8) is a float32 (50, 8) table, got {table.dtype} {table.shape}"
    )
    for p in (0, 1, 7, 49):
        for i in range(4):
            angle = p / 10000 ** (2 * i / 8)
            assert table[p, 2 * i] == pytest.approx(np.sin(angle), abs=1e-6), f"PE[{p}, {2 * i}]"
            assert table[p, 2 * i + 1] == pytest.approx(np.cos(angle), abs=1e-6), (
                f"PE[{p}, {2 * i + 1}]"
            )
    assert np.abs(table).max() <= 1.0, (
        f"sines and cosines lie in [-1, 1], got {np.abs(table).max()}"
    )


@exercise("11.3")
def test_11_3_similarity_depends_only_on_the_distance():
    table = sinusoidal_positions(64, 16).astype(np.float64)
    for distance in (1, 5):
        dots = [table[p] @ table[p + distance] for p in (0, 10, 40)]
        np.testing.assert_allclose(
            dots, dots[0], rtol=1e-5, err_msg="PE[p]·PE[p+k] must not depend on p"
        )
    assert len({tuple(row) for row in table.round(5)}) == 64, "every position is different"


@exercise("11.3")
def test_11_3_sinusoidal_layer_adds_the_table():
    layer = SinusoidalPositionalEncoding(10, 4)
    assert PositionalEncoding is SinusoidalPositionalEncoding, (
        "PositionalEncoding is another name for SinusoidalPositionalEncoding"
    )
    assert layer.parameters() == [], "the sinusoidal encoding has no parameters"
    x = np.random.default_rng(3).normal(size=(2, 6, 4)).astype(np.float32)
    np.testing.assert_allclose(
        layer(Tensor(x)).data,
        x + sinusoidal_positions(10, 4)[:6],
        rtol=1e-6,
        err_msg="x of shape (2, 6, 4) plus the first 6 rows of the table",
    )


# ---- 11.4 learned ----------------------------------------------------------------------------


@exercise("11.4")
def test_11_4_learned_encoding_adds_its_first_rows():
    layer = LearnedPositionalEncoding(8, 4, rng=4)
    assert layer.weight.shape == (8, 4) and layer.weight.requires_grad, (
        f"a (max_len, dim) = (8, 4) weight that requires grad, got {layer.weight.shape}, "
        f"requires_grad={layer.weight.requires_grad}"
    )
    assert layer.parameters() == [layer.weight], "the weight is the only parameter"
    assert 0.005 < layer.weight.data.std() < 0.05, "initialise with std 0.02 like the table"
    x = np.random.default_rng(5).normal(size=(3, 5, 4)).astype(np.float32)
    np.testing.assert_allclose(
        layer(Tensor(x)).data,
        x + layer.weight.data[:5],
        rtol=1e-6,
        err_msg="x of shape (3, 5, 4) plus the first 5 rows of the weight",
    )
    with pytest.raises(ValueError, match="max_len"):
        layer(Tensor(np.zeros((1, 9, 4))))


@exercise("11.4")
def test_11_4_only_used_positions_learn():
    layer = LearnedPositionalEncoding(8, 2, rng=6)
    x = Tensor(np.ones((3, 5, 2)))
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.data[:5], 3.0, err_msg="3 sequences per row")
    assert not layer.weight.grad.data[5:].any(), "positions 5..7 were not used: gradient 0"
    error = gradient_check(lambda w: layer(Tensor(np.ones((2, 3, 2)))) ** 2, layer.weight)
    assert error < 1e-2, f"LearnedPositionalEncoding(8, 2): gradient off by {error:.3g}"


# ---- 11.5 memory -------------------------------------------------------------------------------


@exercise("11.5")
def test_11_5_table_and_gradient_bytes():
    assert embedding_table_bytes(50_257, 768) == 154_389_504, "GPT-2: 50,257 × 768 × 4 bytes"
    half = embedding_table_bytes(1000, 64, bytes_per_value=2)
    assert half == 128_000, f"1,000 × 64 × 2 bytes = 128,000, got {half}"
    measured = Embedding(100, 8).weight.memory_footprint()
    assert measured == embedding_table_bytes(100, 8), (
        f"the formula must match a real (100, 8) table's {measured} bytes"
    )
    sparse = sparse_gradient_bytes(2000, 768)
    assert sparse == 2000 * (768 * 4 + 8), (
        f"2,000 rows of 768 float32 plus an 8-byte index each: {2000 * (768 * 4 + 8):,}, got "
        f"{sparse:,}"
    )
    assert sparse_gradient_bytes(0, 768) == 0, "no ids, no bytes"
    ratio = embedding_table_bytes(50_257, 768) / sparse_gradient_bytes(2000, 768)
    assert 25 < ratio < 26, f"a batch touching 2,000 ids: dense/row-sparse ≈ 25×, got {ratio:.1f}"
