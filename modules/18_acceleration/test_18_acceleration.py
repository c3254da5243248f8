"""Graded tests for Module 18 (Acceleration). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

Results are checked against plain NumPy written here and against Module 09's seven-loop
conv2d_explicit; nothing here is timed. One dependency is by design: conv2d_vectorized
(18.2) is built on sliding_windows (18.1). measure_speedup (18.6) is checked with a fake
clock, so its arithmetic is exact.
"""

import numpy as np
import pytest

from tinytorch.acceleration import (
    SpeedupReport,
    blocked_matmul,
    blocked_matmul_traffic,
    cache_lines_touched,
    conv2d_vectorized,
    is_row_major,
    largest_block_for_cache,
    measure_speedup,
    sliding_windows,
    strides_for,
)
from tinytorch.core import Tensor
from tinytorch.nn import conv2d_explicit, conv2d_im2col

exercise = pytest.mark.exercise

# (N, C_in, H, W), (C_out, KH, KW), stride, padding — small enough for seven loops.
CASES = [
    ((2, 2, 5, 5), (3, 3, 3), 1, 0),
    ((1, 3, 6, 5), (2, 3, 3), 2, 1),
    ((2, 1, 4, 6), (2, 2, 3), 1, 1),
]


def reference_windows(x: np.ndarray, kh: int, kw: int, stride: int, padding: int) -> np.ndarray:
    """(N, C, OH, OW, KH, KW) by explicit indexing: the definition, slowly."""
    padded = np.pad(x, ((0, 0), (0, 0), (padding,) * 2, (padding,) * 2))
    out_h = (padded.shape[2] - kh) // stride + 1
    out_w = (padded.shape[3] - kw) // stride + 1
    out = np.zeros((*x.shape[:2], out_h, out_w, kh, kw), dtype=np.float32)
    for i in range(out_h):
        for j in range(out_w):
            out[:, :, i, j] = padded[
                :, :, i * stride : i * stride + kh, j * stride : j * stride + kw
            ]
    return out


# ---- 18.1 sliding_windows -----------------------------------------------------------------


@exercise("18.1")
def test_18_1_windows_match_indexing_and_copy_nothing():
    x = Tensor(np.arange(2 * 3 * 5 * 6).reshape(2, 3, 5, 6))
    windows = sliding_windows(x, (3, 2))
    assert windows.shape == (2, 3, 3, 5, 3, 2), (
        f"a (2, 3, 5, 6) batch with a 3×2 kernel has 3×5 windows of 3×2: expected shape "
        f"(2, 3, 3, 5, 3, 2), got {windows.shape}"
    )
    np.testing.assert_array_equal(
        windows,
        reference_windows(x.data, 3, 2, 1, 0),
        "windows[n, c, i, j] is x[n, c, i : i + 3, j : j + 2]",
    )
    assert np.shares_memory(windows, x.data), (
        "without padding the windows must be a view of the input (no copy): use "
        "np.lib.stride_tricks.sliding_window_view, not a loop that fills a new array"
    )


@exercise("18.1")
def test_18_1_stride_and_padding():
    x = np.random.default_rng(0).normal(size=(1, 2, 6, 5)).astype(np.float32)
    windows = sliding_windows(x, 3, stride=2, padding=1)
    assert windows.shape == (1, 2, 3, 3, 3, 3), (
        f"6×5 with K=3, S=2, P=1 gives 3×3 windows positions: expected (1, 2, 3, 3, 3, 3), "
        f"got {windows.shape}"
    )
    np.testing.assert_array_equal(
        windows,
        reference_windows(x, 3, 3, 2, 1),
        "windows[n, c, i, j] is padded[n, c, 2i : 2i + 3, 2j : 2j + 3]",
    )
    np.testing.assert_array_equal(
        windows[0, 0, 0, 0, 0], [0, 0, 0], err_msg="the first window's top row is padding"
    )


# ---- 18.2 conv2d_vectorized ---------------------------------------------------------------


@exercise("18.2")
@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CASES)
def test_18_2_matches_module_09_seven_loops(x_shape, w_shape, stride, padding):
    rng = np.random.default_rng(sum(x_shape) + stride)
    x = Tensor(rng.normal(size=x_shape))
    weight = Tensor(rng.normal(size=(w_shape[0], x_shape[1], *w_shape[1:])))
    bias = Tensor(rng.normal(size=w_shape[0]))
    expected = conv2d_explicit(x, weight, bias, stride, padding).data
    got = conv2d_vectorized(x, weight, bias, stride, padding)
    assert isinstance(got, Tensor) and got.shape == expected.shape, (
        f"conv2d_vectorized must return a Tensor of shape {expected.shape} like "
        f"conv2d_explicit, got {type(got).__name__} {getattr(got, 'shape', None)}"
    )
    np.testing.assert_allclose(
        got.data, expected, rtol=1e-4, atol=1e-4, err_msg="differs from Module 09's seven loops"
    )


@exercise("18.2")
def test_18_2_without_bias_returns_fresh_float32():
    rng = np.random.default_rng(7)
    x = Tensor(rng.normal(size=(2, 2, 4, 4)))
    weight = Tensor(rng.normal(size=(3, 2, 2, 2)))
    got = conv2d_vectorized(x, weight)
    np.testing.assert_allclose(
        got.data,
        conv2d_explicit(x, weight).data,
        rtol=1e-4,
        atol=1e-4,
        err_msg="bias=None on (2, 2, 4, 4) with (3, 2, 2, 2) weights",
    )
    assert got.dtype == np.float32 and got.data.flags["C_CONTIGUOUS"], (
        "return a contiguous float32 array (np.ascontiguousarray(..., dtype=np.float32))"
    )
    assert not np.shares_memory(got.data, x.data), "the output must not alias the input"


# ---- 18.3 blocked_matmul ------------------------------------------------------------------


@exercise("18.3")
@pytest.mark.parametrize("block_size", [1, 5, 16, 100])
def test_18_3_blocked_matches_matmul_for_awkward_sizes(block_size):
    rng = np.random.default_rng(block_size)
    a = rng.normal(size=(37, 23)).astype(np.float32)
    b = rng.normal(size=(23, 41)).astype(np.float32)
    got = blocked_matmul(a, b, block_size)
    assert got.shape == (37, 41) and got.dtype == np.float32, (
        f"(37, 23) @ (23, 41) is (37, 41) float32, got {got.shape} {got.dtype}"
    )
    np.testing.assert_allclose(
        got,
        a.astype(np.float64) @ b.astype(np.float64),
        rtol=1e-4,
        atol=1e-4,
        err_msg=f"block_size={block_size}: sizes that are not multiples of the block must work "
        f"(slices past the end are shorter)",
    )


@exercise("18.3")
def test_18_3_accepts_tensors_and_names_both_shapes_on_mismatch():
    a, b = Tensor(np.eye(3)), Tensor(np.arange(6).reshape(3, 2))
    np.testing.assert_array_equal(
        blocked_matmul(a, b, 2), np.arange(6).reshape(3, 2), "Tensors in: eye(3) @ b is b"
    )
    with pytest.raises(ValueError) as caught:
        blocked_matmul(np.ones((2, 3)), np.ones((4, 5)))
    assert "(2, 3)" in str(caught.value) and "(4, 5)" in str(caught.value), (
        f"the error should name both shapes (2, 3) and (4, 5), got: {caught.value}"
    )


# ---- 18.4 memory_layout -------------------------------------------------------------------


@exercise("18.4")
def test_18_4_strides_match_numpy_in_both_orders():
    for shape in [(3, 4), (2, 3, 4), (5,), (1, 7, 1), (2, 1, 3, 2)]:
        for order in ("C", "F"):
            for dtype in (np.float32, np.float64, np.int8):
                expected = np.empty(shape, dtype=dtype, order=order).strides
                got = strides_for(shape, np.dtype(dtype).itemsize, order)
                assert tuple(got) == expected, (
                    f"strides_for({shape}, {np.dtype(dtype).itemsize}, {order!r}) should be "
                    f"{expected} (what NumPy allocates), got {got}"
                )
    assert tuple(strides_for((3, 4))) == (16, 4), "default: float32 (4 bytes), row-major"


@exercise("18.4")
def test_18_4_is_row_major_spots_transposes_and_steps():
    x = np.zeros((4, 3), dtype=np.float32)
    cases = {
        "a fresh array": (x, True),
        "its transpose": (x.T, False),
        "every other column": (x[:, ::2], False),
        "every other row": (x[::2], False),
        "the first row (length-1 axis)": (x[:1], True),
        "the first of every other row (its length-1 axis has stride 24)": (x[::2][:1], True),
        "a column-major copy": (np.asfortranarray(x), False),
        "a Tensor": (Tensor(np.ones((2, 5))), True),
    }
    for name, (array, expected) in cases.items():
        assert is_row_major(array) is expected, (
            f"is_row_major of {name} should be {expected} (strides {np.asarray(array).strides} "
            f"for shape {np.shape(array)})"
            if not isinstance(array, Tensor)
            else f"is_row_major of {name} should be {expected}"
        )


# ---- 18.5 cache_model ---------------------------------------------------------------------


@exercise("18.5")
def test_18_5_cache_lines_for_rows_columns_and_odd_strides():
    assert cache_lines_touched(1024, 4) == 64, "1024 packed float32 = 4096 bytes = 64 lines"
    assert cache_lines_touched(1024, 4096) == 1024, (
        "a column of a 1024-wide float32 matrix (stride 4096 bytes): one line per value"
    )
    assert cache_lines_touched(1024, 8) == 128, "every other float32: 8192 bytes spanned"
    assert cache_lines_touched(10, 8, itemsize=8) == 2, "80 packed bytes: lines 0 and 1"
    assert cache_lines_touched(2, 62) == 2, "the second value at bytes 62-65 spans two lines"
    assert cache_lines_touched(1, 62) == 1, "one value at byte 0 lies in line 0"
    assert cache_lines_touched(0, 4) == 0, "no values, no lines"
    assert cache_lines_touched(100, 4, line_bytes=128) == 4, "400 bytes over 128-byte lines"


@exercise("18.5")
def test_18_5_blocked_traffic_and_largest_block():
    one = blocked_matmul_traffic(1024, 1)
    assert one == 2 * 1024**3 * 4 + 1024**2 * 4, (
        f"B = 1: 2·n³·4 bytes read + n²·4 written = {2 * 1024**3 * 4 + 1024**2 * 4:,}, got {one:,}"
    )
    assert blocked_matmul_traffic(1024, 64) == 138_412_032, "2·n³·4/64 + n²·4 for n = 1024"
    small = blocked_matmul_traffic(6, 3, itemsize=8)
    assert small == 2 * 6**3 * 8 // 3 + 36 * 8, f"n=6, B=3, 8-byte values: 1,440, got {small}"
    with pytest.raises(ValueError):
        blocked_matmul_traffic(10, 3)
    assert largest_block_for_cache(32 * 1024) == 52, "3·52²·4 = 32,448 fits, 3·53²·4 does not"
    assert largest_block_for_cache(48 * 1024) == 64, "3·64²·4 = 49,152 fits exactly"
    block = largest_block_for_cache(1 << 20, itemsize=8)
    assert block == 209, f"1 MiB, float64: 3·209²·8 fits, 3·210²·8 does not; got {block}"
    assert largest_block_for_cache(11) == 0, "not even one float32 per tile fits in 11 bytes"


# ---- 18.6 measure_speedup -----------------------------------------------------------------


class FakeClock:
    """A clock that advances only when a timed function says so."""

    def __init__(self):
        self.now = 100.0
        self.calls: list[str] = []

    def __call__(self) -> float:
        return self.now

    def timed(self, name: str, durations: list[float], output):
        remaining = list(durations)

        def function(*args):
            self.calls.append(name)
            self.now += remaining.pop(0)
            return output

        return function


@exercise("18.6")
def test_18_6_keeps_the_smallest_time_and_divides():
    clock = FakeClock()
    values = np.arange(6.0).reshape(2, 3)
    baseline = clock.timed("baseline", [0.5, 0.25, 0.375], values)
    candidate = clock.timed("candidate", [0.125, 0.0625, 0.25], Tensor(values + 0.25))
    report = measure_speedup(baseline, candidate, repeats=3, clock=clock)
    assert isinstance(report, SpeedupReport), f"return a SpeedupReport, got {report!r}"
    assert clock.calls == ["baseline"] * 3 + ["candidate"] * 3, (
        f"call the baseline `repeats` times, then the candidate: got {clock.calls}"
    )
    assert report.baseline_seconds == pytest.approx(0.25), "keep the smallest baseline time"
    assert report.candidate_seconds == pytest.approx(0.0625), "keep the smallest candidate time"
    assert report.speedup == pytest.approx(4.0), "speedup = baseline / candidate"
    assert report.max_abs_difference == pytest.approx(0.25), (
        "the largest |difference| of the two outputs (Tensors and arrays both count)"
    )


@exercise("18.6")
def test_18_6_refuses_outputs_of_different_shapes():
    clock = FakeClock()
    with pytest.raises(ValueError) as caught:
        measure_speedup(
            clock.timed("a", [1.0], np.zeros((2, 3))),
            clock.timed("b", [1.0], np.zeros((3, 2))),
            repeats=1,
            clock=clock,
        )
    assert "(2, 3)" in str(caught.value) and "(3, 2)" in str(caught.value), (
        f"the error should name both output shapes (2, 3) and (3, 2), got: {caught.value}"
    )


@exercise("18.6")
def test_18_6_refuses_shapes_that_would_broadcast():
    clock = FakeClock()
    with pytest.raises(ValueError) as caught:
        measure_speedup(
            clock.timed("a", [1.0], np.zeros((1, 3))),
            clock.timed("b", [1.0], np.zeros((3, 1))),
            repeats=1,
            clock=clock,
        )
    assert "(1, 3)" in str(caught.value) and "(3, 1)" in str(caught.value), (
        f"outputs of shapes (1, 3) and (3, 1) broadcast to (3, 3) without an error from NumPy: "
        f"compare the shapes first and name both; got: {caught.value}"
    )


@exercise("18.6")
def test_18_6_seven_loops_against_im2col_agree():
    rng = np.random.default_rng(3)
    args = (Tensor(rng.normal(size=(1, 2, 6, 6))), Tensor(rng.normal(size=(3, 2, 3, 3))))
    report = measure_speedup(conv2d_explicit, conv2d_im2col, *args, repeats=1)
    assert report.max_abs_difference < 1e-4, (
        f"Module 09's two convolutions agree; measured difference {report.max_abs_difference}"
    )
    assert report.baseline_seconds > 0 and report.candidate_seconds > 0, (
        f"real calls take time: {report.baseline_seconds} s and {report.candidate_seconds} s"
    )
    ratio = report.baseline_seconds / report.candidate_seconds
    assert report.speedup == pytest.approx(ratio), f"speedup = baseline / candidate = {ratio}"
