"""Differential test against PyTorch (CPU): MultiHeadAttention with the same projection
weights equals torch.nn.MultiheadAttention (self-attention, with and without a causal mask)
in values and in the gradients of the input and every weight. Staff only: never graded,
never shipped (see modules/05_autograd/test_oracle_05_autograd.py).
"""

import numpy as np
import pytest

from tinytorch.core import Tensor, enable_autograd
from tinytorch.nn import MultiHeadAttention, causal_mask

WHY = "the PyTorch oracle needs the dev extra: pip install -e '.[dev]' (torch==2.13.0, hypothesis)"
torch = pytest.importorskip("torch", reason=WHY)
hypothesis = pytest.importorskip("hypothesis", reason=WHY)
st, given = hypothesis.strategies, hypothesis.given
EXAMPLES = hypothesis.settings(max_examples=15, deadline=None, derandomize=True, database=None)


def torch_copy(layer: MultiHeadAttention) -> "torch.nn.MultiheadAttention":
    """The same weights in PyTorch's layout: its in_proj stacks q, k, v as (out, in) rows."""
    reference = torch.nn.MultiheadAttention(layer.embed_dim, layer.num_heads, batch_first=True)
    projections = (layer.q_proj, layer.k_proj, layer.v_proj)
    with torch.no_grad():
        reference.in_proj_weight.copy_(
            torch.tensor(np.concatenate([p.weight.data.T for p in projections]))
        )
        reference.in_proj_bias.copy_(
            torch.tensor(np.concatenate([p.bias.data for p in projections]))
        )
        reference.out_proj.weight.copy_(torch.tensor(layer.out_proj.weight.data.T))
        reference.out_proj.bias.copy_(torch.tensor(layer.out_proj.bias.data))
    return reference


@EXAMPLES
@given(
    batch=st.integers(1, 2),
    positions=st.integers(1, 5),
    heads_and_width=st.sampled_from([(1, 4), (2, 4), (2, 6), (4, 8)]),
    causal=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_multi_head_attention_matches_torch(batch, positions, heads_and_width, causal, seed):
    enable_autograd()
    heads, width = heads_and_width
    layer = MultiHeadAttention(width, heads, rng=seed)
    reference = torch_copy(layer)
    x = np.random.default_rng(seed).standard_normal((batch, positions, width)).astype(np.float32)
    mask = causal_mask(positions) if causal else None
    mine, other = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = layer(mine, mask)
    forbidden = None if mask is None else torch.tensor(~mask)  # torch: True = may not attend
    expected, _ = reference(other, other, other, attn_mask=forbidden, need_weights=False)
    what = f"MultiHeadAttention({width}, {heads}) on {x.shape}, causal={causal}"
    np.testing.assert_allclose(
        out.data, expected.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=what
    )
    upstream = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    (out * Tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(
        mine.grad.data, other.grad.numpy(), rtol=1e-3, atol=1e-4, err_msg=f"{what}: d input"
    )
    q_grad = reference.in_proj_weight.grad[:width].numpy().T
    np.testing.assert_allclose(
        layer.q_proj.weight.grad.data, q_grad, rtol=1e-3, atol=1e-4, err_msg=f"{what}: d W_q"
    )
    np.testing.assert_allclose(
        layer.out_proj.weight.grad.data,
        reference.out_proj.weight.grad.numpy().T,
        rtol=1e-3,
        atol=1e-4,
        err_msg=f"{what}: d W_out",
    )
