"""Graded tests for Module 16 (Compression). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

The sweep (16.6) is tested with a stand-in pruning function, so a mistake in 16.1 or
16.2 does not cost points there. test_integration_16.py (not graded) prunes and distils
trained models with every piece real.
"""

import copy

import numpy as np
import pytest

from tinytorch.compression import (
    PruningResult,
    SparsityRow,
    csr_bytes,
    distillation_loss,
    global_magnitude_prune,
    linear_from,
    magnitude_prune,
    neuron_norms,
    prunable_weights,
    prune_each_layer,
    pruning_sweep,
    sparsity_report,
    structured_prune,
)
from tinytorch.core import Tensor, enable_autograd, gradient_check, no_grad
from tinytorch.nn import Linear, ReLU, Sequential
from tinytorch.training import accuracy

exercise = pytest.mark.exercise


@pytest.fixture(autouse=True)
def _autograd():
    enable_autograd()


def _mlp(seed=0, sizes=(6, 8, 5, 3)):
    rng = np.random.default_rng(seed)
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(linear_from(rng.normal(size=(fan_in, fan_out)), rng.normal(size=fan_out)))
        if i < len(sizes) - 2:
            layers.append(ReLU())
    return Sequential(*layers)


def _softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


# ---- 16.1 magnitude_prune --------------------------------------------------------------------


@exercise("16.1")
def test_16_1_zeros_exactly_the_smallest_entries_in_place():
    weight = Tensor([[0.5, -0.1, 2.0], [-3.0, 0.05, -0.4]])
    mask = magnitude_prune(weight, 0.5)
    assert mask.dtype == bool and mask.shape == (2, 3), "a boolean mask of the weight's shape"
    np.testing.assert_array_equal(mask, [[True, False, True], [True, False, False]])
    np.testing.assert_array_equal(
        weight.data,
        [[0.5, 0.0, 2.0], [-3.0, 0.0, 0.0]],
        err_msg="the 3 entries of smallest |w| (0.05, -0.1, -0.4) become 0 in place",
    )
    ties = Tensor(np.ones(10))
    magnitude_prune(ties, 0.3)
    assert int((ties.data == 0).sum()) == 3, (
        "exactly round(sparsity · size) entries go, even when all magnitudes are equal"
    )
    untouched = Tensor([1.0, -2.0])
    assert magnitude_prune(untouched, 0.0).all() and untouched.data.tolist() == [1.0, -2.0]
    with pytest.raises(ValueError):
        magnitude_prune(Tensor([1.0]), 1.5)


@exercise("16.1")
def test_16_1_prune_each_layer_gives_every_weight_the_same_sparsity():
    model = _mlp()
    biases = [layer.bias.data.copy() for layer in model.layers if isinstance(layer, Linear)]
    masks = prune_each_layer(model, 0.75)
    assert list(masks) == ["0:Linear", "2:Linear", "4:Linear"]
    for (name, weight), expected in zip(prunable_weights(model), (36, 30, 11), strict=True):
        assert int((weight.data == 0).sum()) == expected, (
            f"{name}: round(0.75 · {weight.size}) = {expected} zeros expected"
        )
        np.testing.assert_array_equal(masks[name], weight.data != 0)
    after = [layer.bias.data for layer in model.layers if isinstance(layer, Linear)]
    for before, now in zip(biases, after, strict=True):
        np.testing.assert_array_equal(before, now, err_msg="biases are not pruned")


# ---- 16.2 global_magnitude_prune -------------------------------------------------------------


@exercise("16.2")
def test_16_2_one_threshold_for_the_whole_model():
    small = linear_from(np.full((4, 4), 0.01), np.zeros(4))  # 16 tiny weights
    large = linear_from(np.arange(1, 17, dtype=float).reshape(4, 4), np.zeros(4))
    model = Sequential(small, ReLU(), large)
    masks = global_magnitude_prune(model, 0.625)  # 20 of 32 entries
    assert list(masks) == ["0:Linear", "2:Linear"]
    assert not masks["0:Linear"].any(), "all 16 tiny weights are the smallest: all pruned"
    assert np.all(small.weight.data == 0)
    np.testing.assert_array_equal(
        large.weight.data.reshape(-1), [0, 0, 0, 0, *range(5, 17)], err_msg="then 1, 2, 3, 4"
    )
    assert int(sum(mask.sum() for mask in masks.values())) == 12


@exercise("16.2")
def test_16_2_exact_count_and_every_removed_weight_is_the_smallest():
    model = _mlp(seed=3, sizes=(20, 30, 10))
    total = 20 * 30 + 30 * 10
    masks = global_magnitude_prune(model, 0.4)
    zeros = sum(int((w.data == 0).sum()) for _, w in prunable_weights(model))
    assert zeros == round(0.4 * total), f"round(0.4 · {total}) zeros in all, got {zeros}"
    pairs = zip(prunable_weights(model), masks.values(), strict=True)
    kept = np.concatenate([np.abs(weight.data[mask]) for (_, weight), mask in pairs])
    original = _mlp(seed=3, sizes=(20, 30, 10))
    pairs = zip(prunable_weights(original), masks.values(), strict=True)
    removed = np.concatenate([np.abs(weight.data[~mask]) for (_, weight), mask in pairs])
    assert removed.max() <= kept.min(), "every removed |w| ≤ every kept |w|"


# ---- 16.3 structured_prune -------------------------------------------------------------------


def _columns_in(original: np.ndarray, pruned: np.ndarray) -> list[int]:
    """Index in `original` of each column of `pruned` (columns are unique here)."""
    return [
        int(np.flatnonzero(np.all(np.isclose(original, column[:, None]), axis=0))[0])
        for column in pruned.T
    ]


@exercise("16.3")
def test_16_3_neuron_norms_are_column_norms():
    layer = linear_from(np.array([[3.0, 0.0, 1.0], [4.0, 0.0, -1.0]]), np.zeros(3))
    np.testing.assert_allclose(neuron_norms(layer), [5.0, 0.0, np.sqrt(2)], rtol=1e-6)


@exercise("16.3")
def test_16_3_drops_the_weakest_neurons_and_the_rows_they_fed():
    model = _mlp(seed=1)  # 6 → 8 → 5 → 3
    keep_copy = copy.deepcopy(model)
    smaller = structured_prune(model, 0.5)
    shapes = [layer.weight.shape for layer in smaller.layers if isinstance(layer, Linear)]
    assert shapes == [(6, 4), (4, 3), (3, 3)], (
        f"8 neurons lose int(0.5·8) = 4, 5 lose int(0.5·5) = 2; got weight shapes {shapes}"
    )
    assert isinstance(smaller.layers[1], ReLU) and len(smaller.layers) == 5
    first, second = model.layers[0].weight.data, model.layers[2].weight.data
    kept_first = _columns_in(first, smaller.layers[0].weight.data)
    assert kept_first == sorted(kept_first), "keep the neurons in their original order"
    norms = np.sqrt((first**2).sum(axis=0))
    dropped = [j for j in range(8) if j not in kept_first]
    assert norms[dropped].max() <= norms[kept_first].min(), "drop the smallest L2 norms"
    np.testing.assert_allclose(smaller.layers[0].bias.data, model.layers[0].bias.data[kept_first])
    for before, after in zip(model.layers, keep_copy.layers, strict=True):
        if isinstance(before, Linear):
            np.testing.assert_array_equal(before.weight.data, after.weight.data)
    norms2 = np.sqrt((second**2).sum(axis=0))
    kept_second = sorted(np.argsort(norms2)[-3:].tolist())  # the 3 largest of 5
    zeroed = copy.deepcopy(model)
    for position, kept in ((0, kept_first), (2, kept_second)):
        drop = [j for j in range(zeroed.layers[position].out_features) if j not in kept]
        zeroed.layers[position].weight.data[:, drop] = 0
        zeroed.layers[position].bias.data[drop] = 0
    x = Tensor(np.random.default_rng(2).normal(size=(7, 6)))
    with no_grad():
        np.testing.assert_allclose(
            smaller(x).data,
            zeroed(x).data,
            rtol=1e-5,
            atol=1e-5,
            err_msg="the smaller model must compute what the original computes with the "
            "dropped neurons zeroed (norms from the original weights)",
        )


# ---- 16.4 distillation_loss ------------------------------------------------------------------


@exercise("16.4")
def test_16_4_value_matches_the_formula():
    rng = np.random.default_rng(0)
    student = rng.normal(size=(5, 4)).astype(np.float32)
    teacher = (3 * rng.normal(size=(5, 4))).astype(np.float32)
    labels = np.array([0, 3, 1, 1, 2])
    for temperature, alpha in ((1.0, 0.5), (4.0, 0.7), (2.0, 0.0), (3.0, 1.0)):
        p, q = _softmax(teacher / temperature), _softmax(student / temperature)
        kl = (p * (np.log(p) - np.log(q))).sum(axis=-1).mean()
        ce = -np.log(_softmax(student)[np.arange(5), labels]).mean()
        expected = alpha * temperature**2 * kl + (1 - alpha) * ce
        loss = distillation_loss(Tensor(student), teacher, labels, temperature, alpha)
        assert loss.shape == () or loss.size == 1
        assert loss.item() == pytest.approx(expected, rel=1e-4, abs=1e-5), (
            f"T={temperature}, alpha={alpha}: expected {expected:.6f}, got {loss.item():.6f}"
        )
    same = distillation_loss(Tensor(teacher), Tensor(teacher), labels, 2.0, 1.0)
    assert abs(same.item()) < 1e-5, "a student equal to its teacher has KL 0"


@exercise("16.4")
def test_16_4_differentiates_with_the_t_squared_scaling():
    rng = np.random.default_rng(1)
    student = Tensor(rng.normal(size=(3, 5)), requires_grad=True)
    teacher = rng.normal(size=(3, 5)).astype(np.float32)
    labels = np.array([4, 0, 2])
    temperature, alpha = 3.0, 0.6
    distillation_loss(student, teacher, labels, temperature, alpha).backward()
    q, p = _softmax(student.data / temperature), _softmax(teacher / temperature)
    onehot = np.eye(5)[labels]
    expected = (
        alpha * temperature * (q - p) / 3 + (1 - alpha) * (_softmax(student.data) - onehot) / 3
    )
    assert student.grad is not None, "build the loss from Tensor operations so it differentiates"
    np.testing.assert_allclose(
        student.grad.data,
        expected,
        rtol=1e-4,
        atol=1e-6,
        err_msg="d loss / d student = alpha·T·(q - p)/N + (1 - alpha)·(softmax - onehot)/N",
    )
    fresh = Tensor(rng.normal(size=(2, 3)), requires_grad=True)
    gradient_check(
        lambda s: distillation_loss(s, np.array([[1.0, 0, -1], [0, 2, 0]]), [0, 1], 2.0, 0.5),
        fresh,
    )


# ---- 16.5 sparsity report --------------------------------------------------------------------


@exercise("16.5")
def test_16_5_csr_bytes_beat_dense_only_above_half_zeros():
    dense = np.ones((10, 10))
    assert csr_bytes(dense) == 8 * 100 + 4 * 11, "values + column indices + row pointers"
    half = np.ones((10, 10))
    half[:, :5] = 0
    assert csr_bytes(half) == 8 * 50 + 44
    assert csr_bytes(np.zeros((10, 10))) == 44
    kernel = np.zeros((4, 3, 2, 2))
    kernel[0, 0, 0, 0] = 1.0
    assert csr_bytes(kernel) == 8 + 4 * 5, "more than 2 axes: viewed as (shape[0], rest)"


@exercise("16.5")
def test_16_5_one_row_per_prunable_weight():
    model = Sequential(
        linear_from(np.array([[0.0, 1.0], [0.0, 0.0], [2.0, 3.0]]), np.zeros(2)),
        ReLU(),
        linear_from(np.ones((2, 4)), np.zeros(4)),
    )
    rows = sparsity_report(model)
    assert [type(row) for row in rows] == [SparsityRow, SparsityRow]
    first, second = rows
    assert (first.name, first.shape, first.zeros, first.size) == ("0:Linear", (3, 2), 3, 6)
    assert first.sparsity == pytest.approx(0.5) and first.dense_bytes == 24
    assert first.csr_bytes == 8 * 3 + 4 * 4
    assert (second.name, second.zeros, second.dense_bytes, second.csr_bytes) == (
        "2:Linear",
        0,
        32,
        8 * 8 + 4 * 3,
    )


# ---- 16.6 pruning sweep ----------------------------------------------------------------------


@exercise("16.6")
def test_16_6_prunes_fresh_copies_and_measures_each():
    model = Sequential(linear_from(np.eye(3), np.array([0.0, 0.5, 0.0])))
    x = np.array([[2.0, 0, 0], [0, 2.0, 0], [0, 0, 2.0], [0, 0, 0]])
    labels = np.array([0, 1, 2, 1])
    seen = []

    def stand_in(copy_of_model, sparsity):
        seen.append((copy_of_model, sparsity, copy_of_model.layers[0].weight.data.copy()))
        weight = copy_of_model.layers[0].weight
        weight.data[...] = 0.0 if sparsity >= 0.5 else weight.data
        return {"0:Linear": weight.data != 0}

    results = pruning_sweep(model, x, labels, [0.0, 0.9], prune=stand_in)
    assert [type(r) for r in results] == [PruningResult, PruningResult]
    assert [r.sparsity for r in results] == [0.0, 0.9]
    assert all(copy_of_model is not model for copy_of_model, _, _ in seen), "prune a copy"
    np.testing.assert_array_equal(seen[1][2], np.eye(3), "each copy starts from the original")
    np.testing.assert_array_equal(model.layers[0].weight.data, np.eye(3))
    assert results[0].accuracy == 1.0 and results[0].measured_sparsity == pytest.approx(6 / 9)
    assert results[1].accuracy == accuracy(seen[1][0], x, labels) == 0.5, (
        "with all weights 0 every row predicts class 1 (the bias)"
    )
    assert results[1].measured_sparsity == 1.0


@exercise("16.6")
def test_16_6_uses_global_pruning_by_default(monkeypatch):
    calls = []

    def recording(model, sparsity):
        calls.append(sparsity)
        return {}

    monkeypatch.setitem(pruning_sweep.__globals__, "global_magnitude_prune", recording)
    model = Sequential(linear_from(np.eye(2), np.zeros(2)))
    results = pruning_sweep(model, np.eye(2), np.array([0, 1]), [0.25, 0.5])
    assert calls == [0.25, 0.5] and [r.accuracy for r in results] == [1.0, 1.0]
