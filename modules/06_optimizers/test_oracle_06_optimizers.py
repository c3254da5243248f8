"""Differential tests against PyTorch (CPU): SGD (momentum, weight decay), Adam and AdamW
follow torch.optim's trajectories step by step from the same weights and gradients,
including a parameter that sits out some steps.

Staff only: never graded and never shipped in a template (see test_oracle_05_autograd.py).
Needs the dev extra (torch==2.13.0, hypothesis); skipped with a message without it.
"""

import numpy as np
import pytest

from tinytorch.core import Tensor
from tinytorch.optim import SGD, Adam, AdamW

WHY = "the PyTorch oracle needs the dev extra: pip install -e '.[dev]' (torch==2.13.0, hypothesis)"
torch = pytest.importorskip("torch", reason=WHY)
hypothesis = pytest.importorskip("hypothesis", reason=WHY)
st, given = hypothesis.strategies, hypothesis.given
EXAMPLES = hypothesis.settings(max_examples=25, deadline=None, derandomize=True, database=None)

SHAPES = [(3, 4), (4,), (), (2, 1, 3)]


def trajectories(make_ours, make_torch, steps: int, seed: int, skipped: frozenset[int]):
    """Run both optimizers on identical start values and gradient sequences; parameter 1 gets
    no gradient on the steps in `skipped`. Returns [(step, index, ours, torch's)]."""
    rng = np.random.default_rng(seed)
    starts = [rng.standard_normal(shape).astype(np.float32) for shape in SHAPES]
    ours = [Tensor(start.copy()) for start in starts]
    theirs = [torch.tensor(start.copy(), requires_grad=True) for start in starts]
    optimizer, reference = make_ours(ours), make_torch(theirs)
    seen = []
    for step in range(1, steps + 1):
        for index, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
            if index == 1 and step in skipped:
                mine.grad, other.grad = None, None
                continue
            grad = (rng.standard_normal(mine.shape) * 10 ** rng.uniform(-3, 1)).astype(np.float32)
            mine.grad, other.grad = Tensor(grad), torch.tensor(grad)
        optimizer.step()
        reference.step()
        seen += [
            (step, i, a.data.copy(), b.detach().numpy().copy())
            for i, (a, b) in enumerate(zip(ours, theirs, strict=True))
        ]
    return seen


def assert_same_path(seen, what):
    for step, index, mine, other in seen:
        np.testing.assert_allclose(
            mine,
            other,
            rtol=2e-5,
            atol=2e-6,
            err_msg=f"{what}: parameter {index} after step {step} differs from torch.optim",
        )


skips = st.frozensets(st.integers(1, 8), max_size=4)
rates = st.sampled_from([1e-3, 1e-2, 0.1])
decays = st.sampled_from([0.0, 1e-2, 0.5])


@EXAMPLES
@given(
    steps=st.integers(1, 8),
    seed=st.integers(0, 10_000),
    skipped=skips,
    lr=rates,
    momentum=st.sampled_from([0.0, 0.5, 0.9]),
    weight_decay=decays,
)
def test_sgd_follows_torch(steps, seed, skipped, lr, momentum, weight_decay):
    settings = dict(lr=lr, momentum=momentum, weight_decay=weight_decay)
    seen = trajectories(
        lambda p: SGD(p, **settings),
        lambda p: torch.optim.SGD(p, **settings),
        steps,
        seed,
        skipped,
    )
    assert_same_path(seen, f"SGD({settings}), parameter 1 skips steps {sorted(skipped)}")


@EXAMPLES
@given(
    steps=st.integers(1, 8),
    seed=st.integers(0, 10_000),
    skipped=skips,
    lr=rates,
    betas=st.sampled_from([(0.9, 0.999), (0.8, 0.99), (0.0, 0.5)]),
    weight_decay=decays,
)
def test_adam_follows_torch_with_a_parameter_that_skips_steps(
    steps, seed, skipped, lr, betas, weight_decay
):
    settings = dict(lr=lr, betas=betas, weight_decay=weight_decay)
    seen = trajectories(
        lambda p: Adam(p, **settings),
        lambda p: torch.optim.Adam(p, **settings),
        steps,
        seed,
        skipped,
    )
    assert_same_path(seen, f"Adam({settings}), parameter 1 skips steps {sorted(skipped)}")


@EXAMPLES
@given(
    steps=st.integers(1, 8),
    seed=st.integers(0, 10_000),
    skipped=skips,
    lr=rates,
    weight_decay=decays,
)
def test_adamw_follows_torch_with_a_parameter_that_skips_steps(
    steps, seed, skipped, lr, weight_decay
):
    settings = dict(lr=lr, weight_decay=weight_decay)
    seen = trajectories(
        lambda p: AdamW(p, **settings),
        lambda p: torch.optim.AdamW(p, **settings),
        steps,
        seed,
        skipped,
    )
    assert_same_path(seen, f"AdamW({settings}), parameter 1 skips steps {sorted(skipped)}")
