"""Graded tests for Module 16 (Compression). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

The sweep (16.6) is tested with a stand-in pruning function and distill (16.8) with a
stand-in loss, so a mistake in 16.1, 16.2 or 16.4 does not cost points there.
test_integration_16.py (not graded) prunes and distils trained models with every piece real.
"""

import copy

import numpy as np
import pytest

from tinytorch.compression import (
    CSRMatrix,
    PruningResult,
    SparsityRow,
    csr_bytes,
    distill,
    distillation_loss,
    global_magnitude_prune,
    linear_from,
    magnitude_prune,
    model_bytes,
    neuron_norms,
    prunable_weights,
    prune_each_layer,
    pruning_sweep,
    sparsity_report,
    structured_prune,
    to_csr,
)
from tinytorch.core import Tensor, enable_autograd, gradient_check, is_grad_enabled, no_grad
from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential
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


# ---- 16.7 CSR arrays and model bytes ---------------------------------------------------------


@exercise("16.7")
def test_16_7_csr_arrays_of_a_small_matrix():
    csr = to_csr(np.array([[0, 5, 0], [0, 0, 0], [7, 0, 2]], dtype=np.float32))
    assert isinstance(csr, CSRMatrix) and csr.shape == (3, 3)
    np.testing.assert_array_equal(csr.values, [5, 7, 2], err_msg="nonzero values, row by row")
    np.testing.assert_array_equal(csr.columns, [1, 0, 2], err_msg="the column of each value")
    np.testing.assert_array_equal(
        csr.row_starts,
        [0, 1, 1, 3],
        err_msg="row r's entries are values[row_starts[r]:row_starts[r+1]]",
    )
    dtypes = (csr.values.dtype, csr.columns.dtype, csr.row_starts.dtype)
    assert dtypes == (np.float32, np.int32, np.int32), (
        f"values float32, columns and row_starts int32; got {dtypes}"
    )
    assert csr.nbytes == 4 * 3 + 4 * 3 + 4 * 4


@exercise("16.7")
def test_16_7_round_trip_and_measured_bytes_match_the_formula():
    rng = np.random.default_rng(4)
    for shape, keep in (((9, 13), 0.2), ((4, 3, 2, 2), 0.5), ((6, 5), 0.0), ((7,), 0.6)):
        dense = (rng.normal(size=shape) * (rng.random(shape) < keep)).astype(np.float32)
        dense[0] = 0.0  # an empty first row
        csr = to_csr(Tensor(dense))
        matrix = dense.reshape(shape[0], -1)
        np.testing.assert_array_equal(csr.to_dense(), matrix, err_msg=f"round trip of {shape}")
        nnz = int(np.count_nonzero(matrix))
        assert (csr.values.size, csr.columns.size, csr.row_starts.size) == (
            nnz,
            nnz,
            matrix.shape[0] + 1,
        ), f"{shape}: nnz values and columns, rows + 1 row starts"
        assert csr.nbytes == csr_bytes(dense) == 8 * nnz + 4 * (matrix.shape[0] + 1)


@exercise("16.7")
def test_16_7_model_bytes_dense_and_with_prunable_weights_in_csr():
    model = _mlp(2, sizes=(6, 8, 3))
    dense = (6 * 8 + 8 + 8 * 3 + 3) * 4
    assert model_bytes(model) == dense, f"every parameter dense: {dense} bytes"
    model.layers[0].weight.data[:, :5] = 0.0  # 18 of 48 nonzero
    model.layers[2].weight.data[:] = 0.0
    sparse = (8 * 18 + 4 * 7) + (4 * 9) + 8 * 4 + 3 * 4  # CSR weights, dense biases
    assert model_bytes(model, sparse=True) == sparse, (
        f"weights in CSR (their arrays' nbytes), biases dense: {sparse} bytes, got "
        f"{model_bytes(model, sparse=True)}"
    )
    assert model_bytes(model) == dense, "dense storage does not depend on the zeros"


# ---- 16.8 distill ----------------------------------------------------------------------------


def _digits(seed=0, n=120):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=n)
    centers = rng.normal(size=(3, 6)) * 2
    return (centers[labels] + rng.normal(size=(n, 6))).astype(np.float32), labels


class _SGD:
    def __init__(self, params, lr=0.05):
        self.params, self.lr, self.steps, self.zeroed = list(params), lr, 0, 0

    def zero_grad(self):
        self.zeroed += 1
        for p in self.params:
            p.grad = None

    def step(self):
        self.steps += 1
        for p in self.params:
            if p.grad is not None:
                grad = p.grad.data if isinstance(p.grad, Tensor) else p.grad
                p.data -= self.lr * grad


def _stand_in_loss(calls):
    def loss(student_logits, teacher_logits, labels, temperature=2.0, alpha=0.5):
        teacher = teacher_logits.data if isinstance(teacher_logits, Tensor) else teacher_logits
        calls.append((np.array(teacher), np.array(labels), temperature, alpha))
        return CrossEntropyLoss()(student_logits, labels)

    return loss


@exercise("16.8")
def test_16_8_trains_the_student_only_batch_by_batch(monkeypatch):
    calls, graph_during_teacher = [], []
    monkeypatch.setitem(distill.__globals__, "distillation_loss", _stand_in_loss(calls))
    x, labels = _digits()
    teacher, student = _mlp(1, sizes=(6, 8, 3)), _mlp(2, sizes=(6, 4, 3))
    teacher_forward = teacher.forward

    def watched(inputs):
        graph_during_teacher.append(is_grad_enabled())
        return teacher_forward(inputs)

    teacher.forward = watched
    frozen = [p.data.copy() for p in teacher.parameters()]
    optimizer = _SGD(student.parameters())
    history = distill(
        student, teacher, optimizer, x, labels, epochs=3, batch_size=32, temperature=3.0, alpha=0.7
    )
    assert len(history) == 3, "one mean loss per epoch"
    assert history[-1] < history[0], f"the loss should fall as the student trains: {history}"
    assert optimizer.steps == 3 * 4 == len(calls), "one step per batch of 32 (120 rows: 4 batches)"
    assert optimizer.zeroed == optimizer.steps, "zero the gradients before every backward pass"
    assert not any(graph_during_teacher), "run the teacher under no_grad(): it is never trained"
    for before, param in zip(frozen, teacher.parameters(), strict=True):
        np.testing.assert_array_equal(param.data, before, err_msg="the teacher must not change")
    teacher_logits, batch_labels, temperature, alpha = calls[0]
    assert (temperature, alpha) == (3.0, 0.7), "pass temperature and alpha on"
    with no_grad():
        expected = teacher(Tensor(x)).data
    order = np.random.default_rng([0, 0]).permutation(len(x))[:32]
    np.testing.assert_allclose(
        teacher_logits,
        expected[order],
        rtol=1e-5,
        atol=1e-6,
        err_msg="the teacher's logits of the batch's rows (fit's shuffle)",
    )
    np.testing.assert_array_equal(batch_labels, labels[order])


@exercise("16.8")
def test_16_8_masks_keep_pruned_weights_at_zero(monkeypatch):
    monkeypatch.setitem(distill.__globals__, "distillation_loss", _stand_in_loss([]))
    x, labels = _digits(1)
    teacher, student = _mlp(3, sizes=(6, 8, 3)), _mlp(4, sizes=(6, 8, 3))
    masks = {"0:Linear": np.random.default_rng(0).random((6, 8)) < 0.3}
    student.layers[0].weight.data *= masks["0:Linear"]
    before = student.layers[2].weight.data.copy()
    distill(student, teacher, _SGD(student.parameters()), x, labels, epochs=2, masks=masks)
    weight = student.layers[0].weight.data
    assert not weight[~masks["0:Linear"]].any(), "pruned entries must stay 0 after every step"
    assert weight[masks["0:Linear"]].any()
    assert not np.array_equal(student.layers[2].weight.data, before), "unmasked weights train"
    with pytest.raises(ValueError):
        distill(
            student, teacher, _SGD([]), x, labels, epochs=1, masks={"9:Linear": masks["0:Linear"]}
        )
