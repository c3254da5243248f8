"""Integration tests for Module 11 across modules (not graded): text from Module 10's
tokenizer goes through an embedding and a positional encoding into a classifier that
learns with Module 07's training step."""

import numpy as np
import pytest

from tinytorch.core import Tensor, enable_autograd
from tinytorch.nn import (
    CrossEntropyLoss,
    Embedding,
    LearnedPositionalEncoding,
    Linear,
    Module,
    SinusoidalPositionalEncoding,
    Tanh,
)
from tinytorch.optim import Adam
from tinytorch.text import CharTokenizer, pad_batch
from tinytorch.training import train_step

integration = pytest.mark.integration


@pytest.fixture(autouse=True)
def _autograd():
    enable_autograd()


class BagOfVectors(Module):
    """ids (B, N) → embedding + positions → tanh → average over positions → class scores.

    NOTE: without the tanh, the average of (token + position) vectors is the average of
    the tokens plus a constant: "ab" and "ba" would look the same. Added positions only
    help a model that mixes them non-linearly with the tokens."""

    def __init__(self, vocab_size: int, dim: int, max_len: int, positions: str):
        self.embed = Embedding(vocab_size, dim, init_std=0.5, rng=0)
        if positions == "learned":
            self.position = LearnedPositionalEncoding(max_len, dim, init_std=0.5, rng=1)
        else:
            self.position = SinusoidalPositionalEncoding(max_len, dim)
        self.act = Tanh()
        self.head = Linear(dim, 2, rng=2)

    def forward(self, ids):
        return self.head(self.act(self.position(self.embed(ids))).mean(axis=1))


@integration
@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
def test_tokenized_text_through_an_embedding_learns_an_order_task(positions):
    # Same letters, different order: only the positional encoding can tell them apart.
    words = ["ab", "ba"] * 8
    labels = np.array([0, 1] * 8)
    tokenizer = CharTokenizer().train(words)
    ids = pad_batch([tokenizer.encode(word) for word in words])
    model = BagOfVectors(tokenizer.vocab_size, 8, max_len=4, positions=positions)
    optimizer = Adam(model.parameters(), lr=0.05)
    losses = [
        train_step(model, CrossEntropyLoss(), optimizer, ids, Tensor(labels)) for _ in range(100)
    ]
    assert losses[-1] < 0.25 * losses[0], f"{positions}: loss {losses[0]:.3f} → {losses[-1]:.3f}"
    assert (model(ids).data.argmax(axis=1) == labels).all(), "every word classified by order"
    rows = model.embed.weight.grad.data
    unused = [i for i in range(tokenizer.vocab_size) if i not in set(ids.data.ravel().tolist())]
    assert not rows[unused].any(), "ids that never occur must never receive gradient"
