"""Integration tests for Module 13 across modules (not graded): the whole GPT with every
piece real — embeddings (11), attention (12), dense layers and GELU (02–03), autograd
(05), cross-entropy (04), Adam (06) and the training step (07)."""

import numpy as np
import pytest

from tinytorch.core import Tensor, enable_autograd, gradient_check
from tinytorch.nn import GPT, CrossEntropyLoss, TransformerBlock, causal_mask
from tinytorch.optim import Adam
from tinytorch.training import train_step

integration = pytest.mark.integration


@pytest.fixture(autouse=True)
def _autograd():
    enable_autograd()


def next_token_loss(logits: Tensor, targets) -> Tensor:
    """Cross-entropy of (B, N, V) logits against the (B, N) ids that follow each position."""
    batch, length, vocab = logits.shape
    targets = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    return CrossEntropyLoss()(logits.reshape(batch * length, vocab), targets.reshape(-1))


@integration
def test_backward_reaches_every_parameter_with_finite_gradients():
    model = GPT(vocab_size=17, dim=16, num_heads=4, num_layers=2, max_len=8, rng=0)
    ids = np.random.default_rng(1).integers(0, 17, size=(3, 9))
    loss = next_token_loss(model(ids[:, :-1]), ids[:, 1:])
    loss.backward()
    params = model.parameters()
    assert len(params) == 2 + 2 * 16 + 2 + 2, "tables, 2 blocks of 16 tensors, norm, head"
    for i, p in enumerate(params):
        assert p.grad is not None, f"parameter {i} of shape {p.shape} received no gradient"
        assert np.isfinite(p.grad.data).all(), f"parameter {i} has a non-finite gradient"
        assert np.abs(p.grad.data).max() > 0, f"parameter {i} of shape {p.shape}: all-zero grad"


@integration
def test_gpt_is_causal_with_every_piece_real():
    model = GPT(vocab_size=11, dim=8, num_heads=2, num_layers=2, max_len=6, rng=2)
    ids = np.array([[1, 2, 3, 4, 5, 6]])
    changed = ids.copy()
    changed[0, 4:] = [9, 10]
    before, after = model(ids).data, model(changed).data
    np.testing.assert_allclose(after[0, :4], before[0, :4], rtol=1e-5, atol=1e-6)
    assert not np.allclose(after[0, 4:], before[0, 4:])


@integration
def test_gradient_check_of_a_whole_transformer_block():
    block = TransformerBlock(4, 2, rng=3)
    x = Tensor(np.random.default_rng(4).normal(size=(1, 3, 4)), requires_grad=True)
    assert gradient_check(lambda a: block(a, causal_mask(3)), x) < 1e-2


@integration
def test_a_tiny_gpt_memorises_a_sequence():
    model = GPT(vocab_size=12, dim=16, num_heads=2, num_layers=1, max_len=8, rng=5)
    sequence = np.array([[3, 7, 1, 9, 4, 4, 2, 8, 5]])
    inputs, targets = Tensor(sequence[:, :-1]), Tensor(sequence[:, 1:])
    optimizer = Adam(model.parameters(), lr=0.03)
    losses = [train_step(model, next_token_loss, optimizer, inputs, targets) for _ in range(40)]
    assert losses[-1] < 0.2 * losses[0], f"loss {losses[0]:.3f} → {losses[-1]:.3f}"
    np.testing.assert_array_equal(
        model.generate(sequence[:, :1], 8, temperature=0), sequence, "greedy replays it"
    )
