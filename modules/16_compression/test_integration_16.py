"""Integration tests for Module 16 (not graded): pruning and distillation on trained MLPs,
with every piece real — training from Modules 03–07, accuracy from Module 15."""

import numpy as np
import pytest

from tinytorch._testing import blobs
from tinytorch.compression import (
    distill,
    distillation_loss,
    global_magnitude_prune,
    model_bytes,
    prunable_weights,
    pruning_sweep,
    sparsity_report,
    structured_prune,
    to_csr,
)
from tinytorch.core import Tensor, enable_autograd, no_grad
from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential
from tinytorch.optim import Adam
from tinytorch.training import accuracy, fit

integration = pytest.mark.integration


@pytest.fixture(scope="module")
def trained():
    enable_autograd()
    x, y = blobs(600, seed=1)
    model = Sequential(Linear(12, 64, rng=0), ReLU(), Linear(64, 64, rng=1), ReLU())
    model.layers.append(Linear(64, 4, rng=2))
    fit(model, CrossEntropyLoss(), Adam(model.parameters(), lr=0.01), x, y, epochs=12)
    return model


@integration
def test_half_the_weights_can_go_without_losing_accuracy(trained):
    x_test, y_test = blobs(1000, seed=2)
    results = pruning_sweep(trained, x_test, y_test, [0.0, 0.5, 0.8, 0.9, 0.99])
    assert results[0].accuracy == accuracy(trained, x_test, y_test) > 0.8
    assert abs(results[1].accuracy - results[0].accuracy) <= 0.03
    assert results[4].accuracy < results[0].accuracy - 0.2, "99 % sparsity must hurt"
    for result in results:
        assert result.measured_sparsity == pytest.approx(result.sparsity, abs=1e-3)
    assert all(row.zeros == 0 for row in sparsity_report(trained)), "the sweep prunes copies"


@integration
def test_pruned_weights_stay_zero_under_the_report_and_csr_wins_when_sparse(trained):
    import copy

    pruned = copy.deepcopy(trained)
    global_magnitude_prune(pruned, 0.9)
    rows = sparsity_report(pruned)
    assert sum(r.zeros for r in rows) == round(0.9 * sum(r.size for r in rows))
    assert sum(r.csr_bytes for r in rows) < sum(r.dense_bytes for r in rows) / 2


@integration
def test_structured_pruning_shrinks_the_matrices_and_keeps_most_accuracy(trained):
    x_test, y_test = blobs(1000, seed=2)
    smaller = structured_prune(trained, 0.5)
    shapes = [layer.weight.shape for layer in smaller.layers if isinstance(layer, Linear)]
    assert shapes == [(12, 32), (32, 32), (32, 4)]
    assert accuracy(smaller, x_test, y_test) >= accuracy(trained, x_test, y_test) - 0.1


@integration
def test_a_student_learns_from_a_teacher_with_the_distillation_loss(trained):
    x, y = blobs(600, seed=1)
    with no_grad():
        teacher_logits = trained(Tensor(x)).data
    student = Sequential(Linear(12, 8, rng=5), ReLU(), Linear(8, 4, rng=6))
    optimizer = Adam(student.parameters(), lr=0.02)
    losses = []
    for step in range(60):
        rows = np.arange(step * 64, step * 64 + 64) % len(x)
        loss = distillation_loss(student(Tensor(x[rows])), teacher_logits[rows], y[rows], 3.0, 0.7)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])
    x_test, y_test = blobs(1000, seed=2)
    assert accuracy(student, x_test, y_test) > accuracy(trained, x_test, y_test) - 0.1


@integration
def test_prune_fine_tune_with_masks_and_store_in_csr(trained):
    import copy

    x, y = blobs(600, seed=1)
    x_test, y_test = blobs(1000, seed=2)
    pruned = copy.deepcopy(trained)
    masks = global_magnitude_prune(pruned, 0.95)
    before = accuracy(pruned, x_test, y_test)
    optimizer = Adam(pruned.parameters(), lr=0.005)
    distill(pruned, trained, optimizer, x, y, epochs=4, alpha=0.0, masks=masks)
    after = accuracy(pruned, x_test, y_test)
    assert after >= before and after > 0.8, f"fine-tuning recovers accuracy: {before} -> {after}"
    for (_, weight), mask in zip(prunable_weights(pruned), masks.values(), strict=True):
        assert not weight.data[~mask].any(), "pruned weights stay zero through fine-tuning"
        np.testing.assert_array_equal(to_csr(weight).to_dense(), weight.data)
    assert model_bytes(pruned, sparse=True) < model_bytes(pruned) / 5
