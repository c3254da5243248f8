"""Graded tests for Module 01 (Tensor). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests."""

import numpy as np
import pytest

from tinytorch.core import Tensor

exercise = pytest.mark.exercise


def check_tensor(result, what: str, shape: tuple) -> None:
    """`result` of the operation `what` is a float32 Tensor of `shape`; messages name both."""
    assert isinstance(result, Tensor), (
        f"{what} should return a Tensor, got {type(result).__name__}: wrap the NumPy result "
        f"in Tensor(...)"
    )
    assert result.shape == shape, f"{what} should have shape {shape}, got {result.shape}"
    assert result.dtype == np.float32, f"{what} should be float32, got {result.dtype}"


@exercise("01.1")
def test_01_1_stores_float32_with_shape_size_ndim():
    x = Tensor([[1, 2, 3], [4, 5, 6]])
    assert x.dtype == np.float32, f"data must be stored as float32, found {x.dtype}"
    assert x.shape == (2, 3), f"shape of a 2×3 nested list should be (2, 3), got {x.shape}"
    assert x.size == 6 and x.ndim == 2, f"expected size 6 and ndim 2, got {x.size}, {x.ndim}"
    np.testing.assert_array_equal(x.data, [[1, 2, 3], [4, 5, 6]])


@exercise("01.1")
def test_01_1_scalars_and_arrays_become_float32():
    assert Tensor(3).shape == (), "a plain number is a tensor with no axes: shape ()"
    assert Tensor(np.arange(4, dtype=np.int64)).dtype == np.float32, (
        "int64 input must become float32"
    )
    x = Tensor(5.0)
    assert x.item() == 5.0 and x.requires_grad is False and x.grad is None, (
        f"Tensor(5.0) should hold 5.0 with requires_grad False and grad None, got {x.item()}, "
        f"{x.requires_grad}, {x.grad}"
    )
    flagged = Tensor([1.0, 2.0], requires_grad=True)
    assert flagged.requires_grad is True and flagged.grad is None, (
        "keep the flag, grad starts as None"
    )


@exercise("01.2")
def test_01_2_add_and_multiply_broadcast():
    column = Tensor([[1.0], [2.0], [3.0]])  # (3, 1)
    row = Tensor([10.0, 20.0])  # (2,)
    total = column + row
    assert total.shape == (3, 2), f"(3, 1) + (2,) broadcasts to (3, 2), got {total.shape}"
    np.testing.assert_allclose(total.data, [[11, 21], [12, 22], [13, 23]])
    np.testing.assert_allclose((column * row).data, [[10, 20], [20, 40], [30, 60]])
    np.testing.assert_allclose((2 + row).data, [12, 22], err_msg="number + Tensor must work")


@exercise("01.2")
def test_01_2_add_mul_pow_return_float32_tensors():
    column = Tensor([[1.0], [2.0], [3.0]])  # (3, 1)
    row = Tensor([10.0, 20.0])  # (2,)
    check_tensor(column + row, "(3, 1) + (2,)", (3, 2))
    check_tensor(column * row, "(3, 1) * (2,)", (3, 2))
    check_tensor(column**2, "(3, 1) ** 2", (3, 1))
    check_tensor(column * 2.5, "(3, 1) * 2.5", (3, 1))
    check_tensor(row**0.5, "(2,) ** 0.5", (2,))


@exercise("01.2")
def test_01_2_derived_ops_follow_from_add_mul_pow():
    a = Tensor([2.0, 4.0])
    np.testing.assert_allclose((a**2).data, [4, 16])
    np.testing.assert_allclose((a - 1).data, [1, 3])
    np.testing.assert_allclose((1 - a).data, [-1, -3])
    np.testing.assert_allclose((a / 2).data, [1, 2])
    np.testing.assert_allclose((8 / a).data, [4, 2], rtol=1e-6)
    np.testing.assert_allclose((-a).data, [-2, -4])
    assert (a + a).dtype == np.float32, "results must stay float32"


@exercise("01.3")
def test_01_3_matmul_matches_numpy_including_batches():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 5))
    np.testing.assert_allclose((Tensor(a) @ Tensor(b)).data, a @ b, rtol=1e-5, atol=1e-6)
    batched = rng.normal(size=(2, 4, 3))
    result = Tensor(batched).matmul(Tensor(b))
    assert result.shape == (2, 4, 5), f"(2, 4, 3) @ (3, 5) gives (2, 4, 5), got {result.shape}"
    np.testing.assert_allclose(result.data, batched @ b, rtol=1e-5, atol=1e-6)


@exercise("01.3")
def test_01_3_matmul_returns_tensors_for_batches_and_vectors():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 3, 5))
    result = Tensor(a) @ Tensor(b)
    check_tensor(result, "(2, 4, 3) @ (2, 3, 5) (one matmul per batch entry)", (2, 4, 5))
    np.testing.assert_allclose(result.data, a @ b, rtol=1e-5, atol=1e-6)
    matrix, vector = rng.normal(size=(4, 3)), rng.normal(size=3)
    product = Tensor(matrix) @ Tensor(vector)
    check_tensor(product, "(4, 3) @ (3,) (matrix times vector)", (4,))
    np.testing.assert_allclose(product.data, matrix @ vector, rtol=1e-5, atol=1e-6)
    check_tensor(Tensor(np.ones((2, 3))) @ Tensor(np.ones((3, 2))), "(2, 3) @ (3, 2)", (2, 2))


@exercise("01.3")
def test_01_3_matmul_mismatch_names_both_shapes():
    with pytest.raises(ValueError) as caught:
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    message = str(caught.value)
    assert "(2, 3)" in message and "(4, 5)" in message, (
        f"the error should name both shapes so the student can see the mismatch, got: {message!r}"
    )


@exercise("01.4")
def test_01_4_reshape_and_transpose_return_float32_tensors():
    x = Tensor(np.arange(6))
    check_tensor(x.reshape(2, 3), "a (6,) tensor reshape(2, 3)", (2, 3))
    check_tensor(x.reshape((3, -1)), "a (6,) tensor reshape((3, -1))", (3, 2))
    check_tensor(x.reshape(2, 3).transpose(), "a (2, 3) tensor transpose()", (3, 2))
    cube = Tensor(np.zeros((2, 3, 4)))
    check_tensor(cube.transpose(1, 0, 2), "a (2, 3, 4) tensor transpose(1, 0, 2)", (3, 2, 4))


@exercise("01.4")
def test_01_4_reshape_and_transpose_are_views():
    x = Tensor(np.arange(6))
    grid = x.reshape(2, 3)
    assert grid.shape == (2, 3) and x.reshape((3, -1)).shape == (3, 2), (
        f"a (6,) tensor reshaped to (2, 3) and (3, -1) should give (2, 3) and (3, 2), got "
        f"{grid.shape} and {x.reshape((3, -1)).shape}"
    )
    assert np.shares_memory(grid.data, x.data), "reshape of contiguous data should not copy"
    flipped = grid.transpose()
    assert flipped.shape == (3, 2) and grid.T.shape == (3, 2), (
        f"transpose() and .T of a (2, 3) tensor should have shape (3, 2), got {flipped.shape} "
        f"and {grid.T.shape}"
    )
    np.testing.assert_array_equal(flipped.data, np.arange(6).reshape(2, 3).T)
    cube = Tensor(np.zeros((2, 3, 4)))
    assert cube.transpose(2, 0, 1).shape == (4, 2, 3), "explicit axes permute in the given order"
    assert cube.transpose().shape == (2, 4, 3), "no axes: swap the last two"


@exercise("01.5")
def test_01_5_sum_and_max_along_axes():
    x = Tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    assert x.sum().item() == 21.0, f"sum() of all entries should be 21, got {x.sum().item()}"
    np.testing.assert_allclose(
        x.sum(axis=0).data, [5, 7, 9], err_msg="sum(axis=0) of [[1, 5, 3], [4, 2, 6]]"
    )
    np.testing.assert_allclose(
        x.max(axis=1).data, [5, 6], err_msg="max(axis=1) of [[1, 5, 3], [4, 2, 6]]"
    )
    np.testing.assert_allclose(
        x.max(axis=0).data, [4, 5, 6], err_msg="max(axis=0) of [[1, 5, 3], [4, 2, 6]]"
    )
    assert x.max().item() == 6.0, f"max() of all entries should be 6, got {x.max().item()}"
    shape = x.sum(axis=(0, 1)).shape
    assert shape == (), f"sum(axis=(0, 1)) reduces both axes to shape (), got {shape}"


@exercise("01.5")
def test_01_5_keepdims_keeps_reduced_axes_with_length_1():
    x = Tensor(np.arange(12).reshape(3, 4))
    for name in ("sum", "max"):
        reduce = getattr(x, name)
        check_tensor(reduce(axis=1), f"{name}(axis=1) of a (3, 4) tensor", (3,))
        check_tensor(reduce(axis=0), f"{name}(axis=0) of a (3, 4) tensor", (4,))
        check_tensor(
            reduce(axis=1, keepdims=True),
            f"{name}(axis=1, keepdims=True) of a (3, 4) tensor",
            (3, 1),
        )
        check_tensor(
            reduce(axis=0, keepdims=True),
            f"{name}(axis=0, keepdims=True) of a (3, 4) tensor",
            (1, 4),
        )
        check_tensor(reduce(), f"{name}() of a (3, 4) tensor", ())
    np.testing.assert_allclose(
        x.max(axis=1, keepdims=True).data, [[3], [7], [11]], err_msg="max(axis=1, keepdims=True)"
    )
    np.testing.assert_allclose(
        x.sum(axis=1, keepdims=True).data, [[6], [22], [38]], err_msg="sum(axis=1, keepdims=True)"
    )


@exercise("01.5")
def test_01_5_mean_is_built_on_sum():
    x = Tensor(np.arange(12).reshape(3, 4))
    np.testing.assert_allclose(x.mean(axis=0).data, np.arange(12).reshape(3, 4).mean(axis=0))
    assert x.mean().item() == pytest.approx(5.5), (
        f"mean() of 0..11 should be 5.5, got {x.mean().item()}"
    )
    shape = x.mean(axis=1, keepdims=True).shape
    assert shape == (3, 1), (
        f"mean(axis=1, keepdims=True) of a (3, 4) tensor should have shape (3, 1), got {shape}"
    )


@exercise("01.6")
def test_01_6_exp_log_and_indexing():
    x = Tensor([0.0, 1.0, 2.0])
    np.testing.assert_allclose(x.exp().data, np.exp([0, 1, 2]), rtol=1e-6)
    np.testing.assert_allclose(x.exp().log().data, [0, 1, 2], atol=1e-6)
    grid = Tensor(np.arange(12).reshape(3, 4))
    np.testing.assert_array_equal(grid[1].data, [4, 5, 6, 7])
    np.testing.assert_array_equal(grid[:, 1:3].data, [[1, 2], [5, 6], [9, 10]])
    np.testing.assert_array_equal(grid[[2, 0]].data[:, 0], [8, 0])


@exercise("01.6")
def test_01_6_exp_log_and_indexing_return_float32_tensors():
    x = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    check_tensor(x.exp(), "exp() of a (2, 3) tensor", (2, 3))
    check_tensor(x.log(), "log() of a (2, 3) tensor", (2, 3))
    check_tensor(x[1], "x[1] of a (2, 3) tensor", (3,))
    check_tensor(x[:, 1:], "x[:, 1:] of a (2, 3) tensor", (2, 2))
    check_tensor(x[0, 2], "x[0, 2] of a (2, 3) tensor (one entry)", ())


@exercise("01.7")
def test_01_7_memory_footprint_counts_float32_bytes():
    assert Tensor(np.zeros((1000, 1000))).memory_footprint() == 4_000_000, (
        "1000×1000 float32 entries take 4,000,000 bytes"
    )
    assert Tensor(np.zeros((784, 128), dtype=np.float64)).memory_footprint() == 784 * 128 * 4, (
        "the footprint counts the stored float32 data, not the float64 input"
    )
    assert Tensor(7).memory_footprint() == 4, (
        f"one float32 number takes 4 bytes, got {Tensor(7).memory_footprint()}"
    )
