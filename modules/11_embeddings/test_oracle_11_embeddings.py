"""Differential test against PyTorch (CPU): Embedding looks up the same rows as
torch.nn.Embedding with the same table and sends the gradient to the same rows, repeats
added. Staff only: never graded, never shipped (see modules/05_autograd/test_oracle_05_*.py).
"""

import numpy as np
import pytest

from tinytorch.core import Tensor, enable_autograd
from tinytorch.nn import Embedding

WHY = "the PyTorch oracle needs the dev extra: pip install -e '.[dev]' (torch==2.13.0, hypothesis)"
torch = pytest.importorskip("torch", reason=WHY)
hypothesis = pytest.importorskip("hypothesis", reason=WHY)
st, given = hypothesis.strategies, hypothesis.given
EXAMPLES = hypothesis.settings(max_examples=20, deadline=None, derandomize=True, database=None)


@EXAMPLES
@given(
    vocab=st.integers(1, 8),
    dim=st.integers(1, 5),
    shape=st.sampled_from([(), (4,), (2, 3)]),
    seed=st.integers(0, 10_000),
)
def test_embedding_and_its_gradient_match_torch(vocab, dim, shape, seed):
    enable_autograd()
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab, size=shape)
    layer = Embedding(vocab, dim, rng=seed)
    reference = torch.nn.Embedding(vocab, dim)
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(layer.weight.data))
    out, expected = layer(ids), reference(torch.tensor(ids))
    np.testing.assert_array_equal(out.data, expected.detach().numpy(), f"rows of ids {ids}")
    upstream = rng.standard_normal(out.shape).astype(np.float32)
    (out * Tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(
        layer.weight.grad.data,
        reference.weight.grad.numpy(),
        rtol=1e-6,
        atol=1e-6,
        err_msg=f"gradient of the table for ids {ids}",
    )
