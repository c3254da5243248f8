"""Graded tests for Module 14 (Profiling). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

Timing tests pass a fake clock, so they check exactly what your function reports and
never depend on how fast this machine is. The per-layer profile (14.5) is tested with
stand-in instruments, so a mistake in 14.1, 14.2 or 14.4 does not cost points there;
test_integration_14.py runs it with every piece real.
"""

import math
import tracemalloc

import numpy as np
import pytest

from tinytorch.core import Tensor, enable_autograd, is_grad_enabled
from tinytorch.nn import Conv2d, Linear, Module, ReLU, Sequential
from tinytorch.profiling import (
    FlopCount,
    LayerProfile,
    MemoryUse,
    Timing,
    amdahl_speedup,
    attention_flops,
    conv2d_flops,
    count_flops,
    linear_flops,
    measure_memory,
    profile_layers,
    time_function,
)

exercise = pytest.mark.exercise
# Slack for the small Python objects (a Tensor, a list, a frame) a call creates besides
# its arrays: far below the megabytes the tests measure.
SLACK = 100_000


@pytest.fixture(autouse=True)
def _autograd():
    enable_autograd()


class FakeClock:
    """Returns the given readings one by one and records how many calls of `counter`
    had happened at each reading, so a test can see when the clock was read."""

    def __init__(self, readings, counter):
        self.readings, self.counter, self.calls_seen = list(readings), counter, []

    def __call__(self):
        assert self.readings, "the clock was read more often than twice per timed call"
        self.calls_seen.append(self.counter["calls"])
        return self.readings.pop(0)


# ---- 14.1 time_function ----------------------------------------------------------------------


@exercise("14.1")
def test_14_1_median_of_timed_repeats_after_untimed_warmup():
    counter = {"calls": 0}

    def work(value):
        counter["calls"] += 1
        return value * counter["calls"]

    clock = FakeClock([0.0, 1.0, 10.0, 13.0, 20.0, 22.0], counter)
    timing = time_function(work, 10, warmup=2, repeats=3, clock=clock)
    assert isinstance(timing, Timing), f"return a Timing, got {timing!r}"
    assert counter["calls"] == 5, f"2 warm-up + 3 timed calls expected, fn ran {counter['calls']}×"
    assert timing.samples == pytest.approx((1.0, 3.0, 2.0)), (
        f"samples are (after - before) of each timed call, in order; got {timing.samples}"
    )
    assert timing.median == pytest.approx(2.0), "the median of 1, 3, 2 is 2"
    assert clock.calls_seen == [2, 3, 3, 4, 4, 5], (
        "read the clock right before and right after each timed call, never during warm-up; "
        f"the clock saw these call counts: {clock.calls_seen}"
    )
    assert timing.result == 50, "result is what the last call returned (10 × 5)"


@exercise("14.1")
def test_14_1_one_slow_sample_does_not_move_the_median():
    counter = {"calls": 0}
    clock = FakeClock([0.0, 1.0, 5.0, 15.0, 20.0, 22.0], counter)
    timing = time_function(lambda: None, warmup=0, repeats=3, clock=clock)
    assert timing.samples == pytest.approx((1.0, 10.0, 2.0)), f"got samples {timing.samples}"
    assert timing.median == pytest.approx(2.0), (
        f"samples (1, 10, 2): the median is 2 (the mean, 4.33, is dragged up by the one slow "
        f"call); got {timing.median}"
    )


@exercise("14.1")
def test_14_1_real_clock_and_bad_arguments():
    timing = time_function(sorted, list(range(2000, 0, -1)), repeats=4)
    assert len(timing.samples) == 4 and all(sample > 0 for sample in timing.samples), (
        f"repeats=4: four positive samples, got {timing.samples}"
    )
    assert min(timing.samples) <= timing.median <= max(timing.samples), (
        f"the median {timing.median} lies within the samples {timing.samples}"
    )
    assert timing.best == min(timing.samples), f"best is the smallest of {timing.samples}"
    with pytest.raises(ValueError):
        time_function(sorted, [1], repeats=0)


# ---- 14.2 measure_memory ---------------------------------------------------------------------


@exercise("14.2")
def test_14_2_peak_counts_what_is_alive_at_once_not_older_memory():
    older = np.ones(2_000_000, dtype=np.float32)  # 8 MB that exists before the call

    def one_after_another():
        first = np.ones(1_000_000, dtype=np.float32)
        del first
        second = np.ones(1_000_000, dtype=np.float32)
        return float(second[0])

    def both_at_once():
        first = np.ones(1_000_000, dtype=np.float32)
        second = np.ones(1_000_000, dtype=np.float32)
        return float(first[0] + second[0])

    sequential = measure_memory(one_after_another)
    assert isinstance(sequential, MemoryUse) and sequential.result == 1.0, (
        f"return MemoryUse(peak, what fn returned = 1.0), got {sequential!r}"
    )
    assert 4_000_000 <= sequential.peak_bytes < 4_000_000 + SLACK, (
        f"two 4 MB arrays alive one after the other peak at about 4 MB, got "
        f"{sequential.peak_bytes:,} B. Subtract the memory traced before the call and "
        f"reset the peak before calling fn."
    )
    together = measure_memory(both_at_once).peak_bytes
    assert 8_000_000 <= together < 8_000_000 + SLACK, f"both alive: about 8 MB, got {together:,}"
    assert older.size == 2_000_000, "the older array stays alive during the measurement"


@exercise("14.2")
def test_14_2_a_tensor_of_float64_zeros_peaks_at_three_times_its_size():
    used = measure_memory(lambda: Tensor(np.zeros((1000, 1000))))
    assert used.result.memory_footprint() == 4_000_000, (
        "the result is a (1000, 1000) float32 Tensor"
    )
    assert 12_000_000 <= used.peak_bytes < 12_000_000 + SLACK, (
        f"8 MB of float64 zeros and the 4 MB float32 copy are alive together: about 12 MB, "
        f"got {used.peak_bytes:,} B"
    )


@exercise("14.2")
def test_14_2_leaves_tracing_as_it_found_it():
    if tracemalloc.is_tracing():  # pytest run with PYTHONTRACEMALLOC: nothing to check here
        pytest.skip("tracemalloc was already on when the test started")
    measure_memory(np.ones, 10)
    assert not tracemalloc.is_tracing(), "stop tracemalloc if you started it"
    with pytest.raises(ZeroDivisionError):
        measure_memory(lambda: 1 / 0)
    assert not tracemalloc.is_tracing(), "stop tracing in a finally block: fn may raise"
    tracemalloc.start()
    try:
        inner = measure_memory(np.ones, 500_000).peak_bytes
        assert tracemalloc.is_tracing(), "someone else's tracing must stay on"
        assert 4_000_000 <= inner < 4_000_000 + SLACK, (
            f"500,000 float64 ones while someone else traces: about 4,000,000 B, got {inner:,}"
        )
    finally:
        tracemalloc.stop()


@exercise("14.2")
def test_14_2_earlier_memory_and_earlier_peaks_do_not_count():
    if tracemalloc.is_tracing():  # pytest run with PYTHONTRACEMALLOC: nothing to check here
        pytest.skip("tracemalloc was already on when the test started")
    tracemalloc.start()
    try:
        kept = np.ones(2_000_000, dtype=np.float32)  # 8 MB traced and alive before the call
        spike = np.ones(10_000_000, dtype=np.float32)  # a 40 MB peak before the call
        del spike
        peak = measure_memory(np.ones, 500_000).peak_bytes  # 4 MB of float64 ones
    finally:
        tracemalloc.stop()
    assert kept.size == 2_000_000, "the kept array stays alive during the measurement"
    assert 4_000_000 <= peak < 4_000_000 + SLACK, (
        f"with 8 MB already traced and an earlier 40 MB peak, a call allocating 4 MB should "
        f"report about 4,000,000 B, got {peak:,}: subtract the traced memory before the call "
        f"and reset the peak (tracemalloc.reset_peak) before calling fn"
    )


# ---- 14.3 FLOP formulas ----------------------------------------------------------------------


@exercise("14.3")
def test_14_3_linear_and_conv2d_flops():
    assert linear_flops(64, 784, 128) == 12_845_056, "2 · 64 · 784 · 128"
    assert linear_flops(1, 10, 1) == 20, f"2 · 1 · 10 · 1 = 20, got {linear_flops(1, 10, 1)}"
    square = conv2d_flops(8, 3, 16, 3, 30, 30)
    assert square == 2 * 8 * 16 * 30 * 30 * 3 * 3 * 3, (
        f"2·B·C_out·OH·OW·C_in·K·K = {2 * 8 * 16 * 30 * 30 * 3 * 3 * 3:,}, got {square:,}"
    )
    assert conv2d_flops(1, 4, 2, (3, 5), 6, 7) == 2 * 2 * 6 * 7 * 4 * 3 * 5, (
        "a (KH, KW) kernel of 3×5 has 15 taps per input channel"
    )


@exercise("14.3")
def test_14_3_attention_flops_projections_plus_quadratic_part():
    got = attention_flops(2, 10, 16)
    assert got == 8 * 2 * 10 * 16 * 16 + 4 * 2 * 10 * 10 * 16, (
        f"B=2, N=10, D=16: 8·B·N·D² + 4·B·N²·D = 53,760, got {got:,}"
    )
    doubled = attention_flops(1, 2048, 64) - 8 * 2048 * 64 * 64
    single = attention_flops(1, 1024, 64) - 8 * 1024 * 64 * 64
    assert doubled == 4 * single, "the scores part grows with the square of the length"


# ---- 14.4 count_flops ------------------------------------------------------------------------


@exercise("14.4")
def test_14_4_counts_every_matmul_of_a_call():
    layer = Linear(784, 128, rng=0)
    counted = count_flops(layer, Tensor(np.zeros((64, 784))))
    assert isinstance(counted, FlopCount), f"return a FlopCount, got {counted!r}"
    assert counted.flops == 12_845_056 and counted.matmuls == 1, (
        f"one (64, 784) @ (784, 128) matmul: 2·784·(64·128) FLOPs, got {counted.flops:,} "
        f"in {counted.matmuls} matmuls"
    )
    assert counted.result.shape == (64, 128), "return what fn returned as .result"

    def several():
        a = Tensor(np.ones((2, 4, 3))) @ Tensor(np.ones((3, 5)))  # batched: 2·3·40
        b = Tensor(np.ones(6)) @ Tensor(np.ones((6, 2)))  # vector @ matrix: 2·6·2
        return a, b

    counted = count_flops(several)
    assert counted.flops == 2 * 3 * 40 + 2 * 6 * 2 and counted.matmuls == 2, (
        f"(2, 4, 3) @ (3, 5) is 240 FLOPs and (6,) @ (6, 2) 24: 264 in 2 matmuls, got "
        f"{counted.flops} in {counted.matmuls}"
    )


@exercise("14.4")
def test_14_4_a_matrix_broadcast_over_a_batch():
    counted = count_flops(lambda: Tensor(np.ones((4, 3))) @ Tensor(np.ones((2, 3, 5))))
    assert counted.flops == 2 * 3 * (2 * 4 * 5), (
        f"(4, 3) @ (2, 3, 5) gives a (2, 4, 5) result, each entry a sum of 3 products: "
        f"2 · 3 · 40 = 240 FLOPs, got {counted.flops}"
    )


@exercise("14.4")
def test_14_4_counts_the_im2col_convolution_and_restores_matmul():
    before = Tensor.matmul
    conv = Conv2d(3, 8, 3, padding=1, rng=0)
    counted = count_flops(conv, Tensor(np.zeros((2, 3, 8, 8))))
    assert counted.flops == 2 * 2 * 8 * 8 * 8 * 3 * 3 * 3, (
        f"im2col turns the convolution into one matmul of 2·B·C_out·OH·OW·C_in·K·K FLOPs, "
        f"got {counted.flops:,}"
    )
    assert Tensor.matmul is before, "put the original Tensor.matmul back after the call"
    with pytest.raises(ValueError):
        count_flops(lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5))))
    assert Tensor.matmul is before, "restore Tensor.matmul in a finally block: fn may raise"
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    out = count_flops(lambda: (x @ Tensor(np.ones((3, 1)))).sum()).result
    out.backward()
    np.testing.assert_allclose(x.grad.data, np.ones((2, 3)), err_msg="gradients still flow")


# ---- 14.5 profile_layers ---------------------------------------------------------------------


class Recorder(Module):
    """A layer that doubles its input and records what it saw."""

    def __init__(self):
        self.seen = []

    def forward(self, x):
        self.seen.append((x.shape, is_grad_enabled()))
        return x * 2.0


@exercise("14.5")
def test_14_5_one_row_per_layer_from_the_three_instruments(monkeypatch):
    timed = []

    def fake_count(fn, *args):
        return FlopCount(7, 1, fn(*args))

    def fake_time(fn, *args, warmup=1, repeats=5, clock=None):
        timed.append((warmup, repeats, clock))
        return Timing(0.25, (0.5, 0.25, 0.125), fn(*args))

    def fake_memory(fn, *args):
        return MemoryUse(1000, fn(*args))

    for name, stand_in in (
        ("count_flops", fake_count),
        ("time_function", fake_time),
        ("measure_memory", fake_memory),
    ):
        monkeypatch.setitem(profile_layers.__globals__, name, stand_in)
    recorder = Recorder()
    model = Sequential(Linear(4, 3, rng=0), ReLU(), recorder, Linear(3, 2, rng=1))
    clock = object()
    rows = profile_layers(model, Tensor(np.ones((5, 4))), warmup=0, repeats=2, clock=clock)
    names = [row.name for row in rows]
    assert names == ["0:Linear", "1:ReLU", "2:Recorder", "3:Linear"], (
        f"one row per layer, named by layers_of(model), got {names}"
    )
    assert all(isinstance(row, LayerProfile) for row in rows), "each row is a LayerProfile"
    assert [(row.flops, row.seconds, row.peak_bytes) for row in rows] == [(7, 0.25, 1000)] * 4, (
        "flops from count_flops, seconds = the median of time_function (0.25 of samples "
        "0.5, 0.25, 0.125), peak from measure_memory"
    )
    assert [row.output_bytes for row in rows] == [60, 60, 60, 40], (
        "output_bytes is the memory_footprint() of each layer's output: (5, 3), (5, 3), "
        "(5, 3), (5, 2) float32"
    )
    assert timed == [(0, 2, clock)] * 4, "pass warmup, repeats and clock on to time_function"
    assert recorder.seen and all(shape == (5, 3) for shape, _ in recorder.seen), (
        "each layer runs on the previous layer's output"
    )
    assert not any(grad for _, grad in recorder.seen), "profile under no_grad()"


@exercise("14.5")
def test_14_5_profiles_a_gpt_layer_by_layer(monkeypatch):
    from tinytorch.nn import GPT

    monkeypatch.setitem(
        profile_layers.__globals__, "time_function", lambda fn, *a, **k: Timing(1.0, (1.0,))
    )
    monkeypatch.setitem(
        profile_layers.__globals__, "measure_memory", lambda fn, *a: MemoryUse(0, None)
    )
    monkeypatch.setitem(
        profile_layers.__globals__, "count_flops", lambda fn, *a: FlopCount(0, 0, fn(*a))
    )
    model = GPT(vocab_size=11, dim=8, num_heads=2, num_layers=2, max_len=6, rng=0)
    rows = profile_layers(model, np.zeros((3, 5), dtype=np.int64))
    names = ["token_embedding", "position", "block.0", "block.1", "final_norm", "lm_head"]
    assert [row.name for row in rows] == names, f"GPT layers in order {names}"
    sizes = [row.output_bytes for row in rows]
    assert sizes == [3 * 5 * 8 * 4] * 5 + [3 * 5 * 11 * 4], (
        f"(3, 5, 8) float32 hidden states (480 B) and (3, 5, 11) logits (660 B), got {sizes}"
    )


# ---- 14.6 Amdahl's law -----------------------------------------------------------------------


@exercise("14.6")
def test_14_6_seventy_percent_twice_as_fast_is_1_54x():
    speedup = amdahl_speedup(0.7, 2)
    assert speedup == pytest.approx(1 / 0.65, rel=1e-12), (
        f"1 / (0.3 + 0.7 / 2) = 1 / 0.65 = 1.538..., got {speedup}"
    )
    assert amdahl_speedup(0.7, math.inf) == pytest.approx(1 / 0.3, rel=1e-12), (
        "an infinitely fast part leaves 1 - fraction of the time"
    )
    assert amdahl_speedup(0.0, 100) == 1.0, "speeding up 0 % of the time changes nothing"
    assert amdahl_speedup(1.0, 4) == pytest.approx(4.0), "speeding up all of it 4× gives 4×"
    assert amdahl_speedup(0.5, 0.5) == pytest.approx(1 / 1.5), "a slower part slows it all"


@exercise("14.6")
def test_14_6_edge_cases_and_errors():
    assert amdahl_speedup(1.0, math.inf) == math.inf, "all of the time made instant: inf"
    for fraction, factor in ((1.5, 2), (-0.1, 2), (0.5, 0), (0.5, -1)):
        with pytest.raises(ValueError):
            amdahl_speedup(fraction, factor)
