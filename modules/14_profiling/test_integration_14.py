"""Integration tests for Module 14 (not graded): the profiler with every instrument real,
on models from Modules 03, 09 and 13."""

import numpy as np
import pytest

from tinytorch.core import Tensor, enable_autograd
from tinytorch.nn import GPT, Conv2d, Flatten, Linear, ReLU, Sequential
from tinytorch.profiling import (
    attention_flops,
    conv2d_flops,
    count_flops,
    linear_flops,
    profile_layers,
)

integration = pytest.mark.integration


@pytest.fixture(autouse=True)
def _autograd():
    enable_autograd()


@integration
def test_mlp_profile_counts_flops_and_memory_per_layer():
    model = Sequential(Linear(64, 32, rng=0), ReLU(), Linear(32, 10, rng=1))
    rows = profile_layers(model, Tensor(np.ones((16, 64))), repeats=2)
    assert [row.flops for row in rows] == [linear_flops(16, 64, 32), 0, linear_flops(16, 32, 10)]
    assert [row.output_bytes for row in rows] == [16 * 32 * 4, 16 * 32 * 4, 16 * 10 * 4]
    for row in rows:
        assert row.seconds > 0
        assert row.peak_bytes >= row.output_bytes, f"{row.name}: the output is part of the peak"


@integration
def test_counted_flops_match_the_formulas_for_a_cnn_and_a_gpt():
    cnn = Sequential(Conv2d(1, 4, 3, padding=1, rng=0), ReLU(), Flatten(), Linear(256, 10, rng=1))
    counted = count_flops(cnn, Tensor(np.zeros((2, 1, 8, 8)))).flops
    assert counted == conv2d_flops(2, 1, 4, 3, 8, 8) + linear_flops(2, 256, 10)
    model = GPT(vocab_size=50, dim=16, num_heads=4, num_layers=2, max_len=12, rng=0)
    ids = np.zeros((3, 12), dtype=np.int64)
    per_block = attention_flops(3, 12, 16) + 2 * linear_flops(3 * 12, 16, 64)
    expected = 2 * per_block + linear_flops(3 * 12, 16, 50)
    assert count_flops(model, ids).flops == expected
