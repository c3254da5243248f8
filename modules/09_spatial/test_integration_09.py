"""Integration tests for Module 09 across modules (not graded): the two convolutions
agree with each other, and a small convolutional network learns inside Module 07's
training step, fed by Module 08's DataLoader, with Module 06's Adam and Module 04's
cross-entropy."""

import numpy as np
import pytest

from tinytorch.core import Tensor, enable_autograd
from tinytorch.data import DataLoader, TensorDataset
from tinytorch.nn import (
    Conv2d,
    CrossEntropyLoss,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    conv2d_explicit,
    conv2d_im2col,
)
from tinytorch.optim import Adam
from tinytorch.training import evaluate, train_epoch_loader

integration = pytest.mark.integration


@pytest.fixture(autouse=True)
def _autograd():
    enable_autograd()


@integration
def test_explicit_and_im2col_convolutions_agree_on_values_and_gradients():
    rng = np.random.default_rng(0)
    arrays = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    results = []
    for convolve in (conv2d_explicit, conv2d_im2col):
        x, w, b = (Tensor(a, requires_grad=True) for a in arrays)
        out = convolve(x, w, b, stride=2, padding=1)
        (out * Tensor(np.arange(out.size).reshape(out.shape) % 7)).sum().backward()
        results.append((out.data, x.grad.data, w.grad.data, b.grad.data))
    for name, slow, fast in zip(("output", "dx", "dw", "db"), *results, strict=True):
        np.testing.assert_allclose(slow, fast, rtol=1e-4, atol=1e-4, err_msg=name)


def _bars(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """8×8 noisy images holding a vertical (label 0) or a horizontal (label 1) bar."""
    images = rng.normal(scale=0.3, size=(count, 1, 8, 8)).astype(np.float32)
    labels = rng.integers(0, 2, size=count)
    where = rng.integers(1, 7, size=count)
    for i in range(count):
        if labels[i] == 0:
            images[i, 0, :, where[i]] += 2.0
        else:
            images[i, 0, where[i], :] += 2.0
    return images, labels


@integration
def test_a_small_conv_net_learns_inside_the_training_loop():
    rng = np.random.default_rng(1)
    images, labels = _bars(96, rng)
    model = Sequential(
        Conv2d(1, 4, 3, padding=1, rng=0),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Linear(4 * 4 * 4, 2, rng=1),
    )
    loss_fn = CrossEntropyLoss()
    optimizer = Adam(model.parameters(), lr=0.02)
    before = evaluate(model, loss_fn, images, labels)
    loader = DataLoader(TensorDataset(images, labels), batch_size=16, shuffle=True, seed=2)
    for _ in range(4):
        train_epoch_loader(model, loss_fn, optimizer, loader)
    after = evaluate(model, loss_fn, images, labels)
    assert after < 0.5 * before, f"loss should at least halve in 4 epochs: {before} → {after}"
    predictions = model(Tensor(images)).data.argmax(axis=1)
    assert (predictions == labels).mean() > 0.9
