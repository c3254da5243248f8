"""Differential test against PyTorch (CPU): LayerNorm agrees with torch.nn.LayerNorm in
values and in the gradients of input, gamma and beta. Staff only: never graded, never
shipped (see modules/05_autograd/test_oracle_05_autograd.py).
"""

import numpy as np
import pytest

from tinytorch.core import Tensor, enable_autograd
from tinytorch.nn import LayerNorm

WHY = "the PyTorch oracle needs the dev extra: pip install -e '.[dev]' (torch==2.13.0, hypothesis)"
torch = pytest.importorskip("torch", reason=WHY)
hypothesis = pytest.importorskip("hypothesis", reason=WHY)
st, given = hypothesis.strategies, hypothesis.given
EXAMPLES = hypothesis.settings(max_examples=20, deadline=None, derandomize=True, database=None)


@EXAMPLES
@given(
    batch=st.sampled_from([(), (3,), (2, 3)]),
    dim=st.integers(2, 8),
    scale=st.sampled_from([1e-2, 1.0, 1000.0]),
    seed=st.integers(0, 10_000),
)
def test_layer_norm_and_its_gradients_match_torch(batch, dim, scale, seed):
    enable_autograd()
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((*batch, dim)) * scale + scale).astype(np.float32)
    layer, reference = LayerNorm(dim), torch.nn.LayerNorm(dim, eps=1e-5)
    gamma, beta = rng.standard_normal(dim), rng.standard_normal(dim)
    layer.gamma.data[...], layer.beta.data[...] = gamma, beta
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(gamma, dtype=torch.float32))
        reference.bias.copy_(torch.tensor(beta, dtype=torch.float32))
    mine, other = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = layer(mine), reference(other)
    what = f"LayerNorm({dim}) on {x.shape}, values around {scale:g}"
    np.testing.assert_allclose(
        out.data, expected.detach().numpy(), rtol=1e-4, atol=1e-4, err_msg=what
    )
    upstream = rng.standard_normal(out.shape).astype(np.float32)
    (out * Tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    pairs = (("x", mine, other), ("gamma", layer.gamma, reference.weight))
    pairs += (("beta", layer.beta, reference.bias),)
    for name, ours, theirs in pairs:
        np.testing.assert_allclose(
            ours.grad.data,
            theirs.grad.numpy(),
            rtol=1e-3,
            atol=1e-3,
            err_msg=f"{what}: gradient of {name}",
        )
