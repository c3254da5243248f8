"""Graded tests for Module 15 (Quantization). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

Where an exercise assembles earlier ones (15.6 converts a model with 15.4 and 15.5), the
test swaps those pieces for stand-ins, so a mistake in one exercise costs points once.
test_integration_15.py (not graded) quantizes a trained MLP with every piece real.
"""

import numpy as np
import pytest

from tinytorch.core import Tensor, enable_autograd
from tinytorch.nn import Linear, ReLU, Sequential
from tinytorch.quantization import (
    QuantizationReport,
    QuantizedLinear,
    QuantizedTensor,
    calibrate,
    dequantize,
    model_bytes,
    quantization_params,
    quantization_report,
    quantize,
    quantize_model,
    quantize_tensor,
    weight_bytes,
)
from tinytorch.training import accuracy

exercise = pytest.mark.exercise


@pytest.fixture(autouse=True)
def _autograd():
    enable_autograd()


def _linear(weight, bias):
    layer = Linear(*np.shape(weight), rng=0)
    layer.weight.data[...] = weight
    layer.bias.data[...] = bias
    return layer


# ---- 15.1 quantization_params ----------------------------------------------------------------


@exercise("15.1")
def test_15_1_asymmetric_maps_the_ends_to_minus_128_and_127():
    scale, zero_point = quantization_params(-1.0, 3.0)
    assert scale.dtype == np.float32 and zero_point.dtype == np.int32, (
        f"return a float32 scale and an int32 zero-point, got {scale.dtype} and {zero_point.dtype}"
    )
    assert float(scale) == pytest.approx(4 / 255), "scale = (hi - lo) / 255"
    assert int(zero_point) == -64, "zero_point = round(-128 - lo / scale) = round(-64.25)"
    scale, zero_point = quantization_params(2.0, 5.0)
    assert float(scale) == pytest.approx(5 / 255) and int(zero_point) == -128, (
        "[2, 5] is widened to [0, 5] so that 0.0 is representable: 0 maps to -128"
    )
    scale, zero_point = quantization_params(0.0, 0.0)
    assert float(scale) == 1.0 and int(zero_point) == -128, "a range of width 0 gets scale 1"


@exercise("15.1")
def test_15_1_symmetric_and_elementwise_over_arrays():
    scale, zero_point = quantization_params(-1.0, 3.0, symmetric=True)
    assert float(scale) == pytest.approx(3 / 127) and int(zero_point) == 0
    assert float(quantization_params(-4.0, 2.0, symmetric=True)[0]) == pytest.approx(4 / 127)
    scales, zero_points = quantization_params(
        np.array([-1.0, 0.0, -2.0]), np.array([3.0, 0.0, 0.5])
    )
    assert scales.shape == (3,) and zero_points.shape == (3,), "one pair per range"
    np.testing.assert_allclose(scales, [4 / 255, 1.0, 2.5 / 255], rtol=1e-6)
    np.testing.assert_array_equal(zero_points, [-64, -128, round(-128 + 2 / (2.5 / 255))])
    sym_scales, sym_zero = quantization_params(np.array([-1.0, 0.0]), np.array([0.5, 0.0]), True)
    np.testing.assert_allclose(sym_scales, [1 / 127, 1.0], rtol=1e-6)
    np.testing.assert_array_equal(sym_zero, [0, 0])


# ---- 15.2 quantize / dequantize --------------------------------------------------------------


@exercise("15.2")
def test_15_2_round_trip_error_is_at_most_half_a_step():
    scale, zero_point = np.float32(0.02), np.int32(-10)
    x = np.linspace(-2.3, 2.7, 101, dtype=np.float32)  # inside [-128+10, 127+10] · 0.02
    q = quantize(Tensor(x), scale, zero_point)
    assert q.dtype == np.int8 and q.shape == x.shape, f"int8 of x's shape, got {q.dtype}"
    back = dequantize(q, scale, zero_point)
    assert isinstance(back, Tensor) and back.dtype == np.float32
    assert np.abs(back.data - x).max() <= 0.01 + 1e-6, "rounding moves a value at most scale / 2"
    assert int(quantize(np.float32(0.0), scale, zero_point)) == -10, "0.0 is stored as zero_point"
    assert float(dequantize(np.array(-10, np.int8), scale, zero_point).item()) == 0.0, (
        "and read back as exactly 0.0"
    )


@exercise("15.2")
def test_15_2_values_outside_the_range_are_clipped():
    q = quantize(np.array([-100.0, -2.6, 2.6, 100.0]), 0.02, 0)
    np.testing.assert_array_equal(q, [-128, -128, 127, 127], err_msg="clip to [-128, 127]")
    q = quantize(np.array([[0.5, -0.5]]), np.array([[0.1, 0.5]]), np.array([[0, 1]]))
    np.testing.assert_array_equal(q, [[5, 0]], err_msg="scale and zero_point broadcast per entry")
    np.testing.assert_allclose(
        dequantize(np.array([[5, 0]], np.int8), np.array([[0.1, 0.5]]), np.array([[0, 1]])).data,
        [[0.5, -0.5]],
        rtol=1e-6,
    )


# ---- 15.3 quantize_tensor --------------------------------------------------------------------


@exercise("15.3")
def test_15_3_per_tensor_one_scale_and_the_bytes_it_stores():
    x = Tensor(np.random.default_rng(0).uniform(-0.3, 0.5, size=(40, 25)))
    quantized = quantize_tensor(x)
    assert isinstance(quantized, QuantizedTensor) and quantized.values.dtype == np.int8
    assert quantized.scale.shape == () and quantized.shape == (40, 25)
    assert float(quantized.scale) == pytest.approx((x.data.max() - x.data.min()) / 255, rel=1e-6)
    error = np.abs(quantized.dequantize().data - x.data).max()
    assert error <= float(quantized.scale) / 2 + 1e-6
    assert quantized.nbytes == 40 * 25 + 4 + 4, "1 byte per value, one float32 scale, one int32"


@exercise("15.3")
def test_15_3_per_channel_gives_every_column_a_step_that_fits_it():
    rng = np.random.default_rng(1)
    w = rng.uniform(-1, 1, size=(6, 3)) * np.array([0.01, 1.0, 100.0])
    per_tensor = quantize_tensor(w, symmetric=True)
    per_channel = quantize_tensor(w, symmetric=True, axis=1)
    assert per_channel.scale.shape == (1, 3), "one scale per column, shaped to broadcast"
    np.testing.assert_allclose(per_channel.scale[0], np.abs(w).max(axis=0) / 127, rtol=1e-6)
    assert np.all(per_channel.zero_point == 0), "symmetric: every zero-point is 0"
    small_column = np.abs(per_tensor.dequantize().data[:, 0] - w[:, 0]).max()
    assert small_column >= 0.5 * np.abs(w[:, 0]).max(), (
        "with one scale for all columns the small column should be lost"
    )
    relative = np.abs(per_channel.dequantize().data - w).max(axis=0) / np.abs(w).max(axis=0)
    assert np.all(relative <= 0.5 / 127 + 1e-6), (
        f"per channel, every column is accurate to half its own step, got {relative}"
    )
    assert per_channel.nbytes == 18 + 3 * 4 + 3 * 4
    rows = quantize_tensor(w, axis=0)
    assert rows.scale.shape == (6, 1), "axis=0: one pair per row"


# ---- 15.4 calibrate ---------------------------------------------------------------------------


@exercise("15.4")
def test_15_4_records_the_input_range_of_every_linear():
    first = _linear([[1.0, -1.0], [2.0, 0.5]], [0.0, -1.0])
    second = _linear([[1.0], [1.0]], [0.0])
    model = Sequential(first, ReLU(), second)
    batches = [np.array([[1.0, 0.0], [0.0, -2.0]]), Tensor(np.array([[3.0, 1.0]]))]
    ranges = calibrate(model, batches)
    assert set(ranges) == {0, 2}, f"one entry per Linear, by position; got keys {sorted(ranges)}"
    assert ranges[0] == pytest.approx((-2.0, 3.0)), "min and max over both batches"
    inputs = np.concatenate([batches[0], batches[1].data])
    hidden = np.maximum(inputs @ first.weight.data + first.bias.data, 0)
    assert ranges[2] == pytest.approx((hidden.min(), hidden.max())), (
        "the second Linear sees the ReLU's output"
    )


# ---- 15.5 QuantizedLinear --------------------------------------------------------------------


@exercise("15.5")
def test_15_5_from_linear_quantizes_each_column_symmetrically():
    linear = Linear(20, 6, rng=0)
    linear.bias.data[...] = np.arange(6) / 10
    layer = QuantizedLinear.from_linear(linear, input_range=(-1.0, 2.0))
    assert layer.weight.values.dtype == np.int8 and layer.weight.shape == (20, 6)
    assert layer.weight.scale.shape == (1, 6), "one scale per output column (axis=1)"
    assert np.all(layer.weight.zero_point == 0)
    np.testing.assert_allclose(layer.bias, linear.bias.data)
    assert layer.bias is not linear.bias.data, "copy the bias: the float model must not change"
    assert layer.input_range == (-1.0, 2.0)
    error = np.abs(layer.weight.dequantize().data - linear.weight.data)
    assert np.all(error <= layer.weight.scale / 2 + 1e-7)


@exercise("15.5")
def test_15_5_forward_accumulates_integers_then_scales_once():
    weight = QuantizedTensor(
        np.array([[1, -2], [3, 4]], dtype=np.int8),
        np.array([[0.5, 0.25]], dtype=np.float32),
        np.zeros((1, 2), dtype=np.int32),
    )
    layer = QuantizedLinear(weight, bias=[0.1, -0.1], input_range=(0.0, 2.55))
    out = layer(Tensor([[0.5, 1.0]]))
    # input step 0.01, zero_point -128: 0.5 -> 50 and 1.0 -> 100 steps above zero;
    # sums 50·1 + 100·3 = 350 and 50·(-2) + 100·4 = 300, times 0.01 · (0.5, 0.25).
    np.testing.assert_allclose(out.data, [[350 * 0.005 + 0.1, 300 * 0.0025 - 0.1]], rtol=1e-5)
    assert out.dtype == np.float32 and out.shape == (1, 2)


@exercise("15.5")
def test_15_5_forward_stays_within_the_rounding_error_bound():
    rng = np.random.default_rng(3)
    linear = Linear(32, 8, rng=1)
    x = rng.normal(size=(50, 32)).astype(np.float32)
    for input_range in (None, (float(x.min()), float(x.max()))):
        layer = QuantizedLinear.from_linear(linear, input_range)
        approx = layer(Tensor(x)).data
        exact = x @ linear.weight.data + linear.bias.data
        x_step = (max(x.max(), 0) - min(x.min(), 0)) / 255
        w_step = layer.weight.scale
        bound = (
            np.abs(x) @ np.broadcast_to(w_step / 2, (32, 8))
            + (x_step / 2) * np.abs(linear.weight.data).sum(axis=0)
            + 32 * x_step * w_step / 4
        )
        assert np.all(np.abs(approx - exact) <= bound + 1e-5), (
            f"int8 outputs must be within the rounding bound of the float outputs "
            f"(input_range={input_range}); worst excess "
            f"{(np.abs(approx - exact) - bound).max():.4g}"
        )


# ---- 15.6 quantize_model ---------------------------------------------------------------------


@exercise("15.6")
def test_15_6_replaces_each_linear_using_its_calibrated_range(monkeypatch):
    calls = {}

    def fake_calibrate(model, batches):
        calls["calibrate"] = (model, list(batches))
        return {0: (-1.0, 2.0), 2: (0.0, 5.0)}

    class FakeQuantizedLinear:
        @classmethod
        def from_linear(cls, linear, input_range=None):
            made = cls()
            made.linear, made.input_range = linear, input_range
            return made

        def __call__(self, x):
            return x

    monkeypatch.setitem(quantize_model.__globals__, "calibrate", fake_calibrate)
    monkeypatch.setitem(quantize_model.__globals__, "QuantizedLinear", FakeQuantizedLinear)
    relu = ReLU()
    model = Sequential(Linear(3, 4, rng=0), relu, Linear(4, 2, rng=1))
    batch = np.ones((5, 3))
    converted = quantize_model(model, [batch])
    assert calls["calibrate"][0] is model and len(calls["calibrate"][1]) == 1
    assert isinstance(converted, Sequential) and converted is not model
    first, middle, last = converted.layers
    assert isinstance(first, FakeQuantizedLinear) and first.linear is model.layers[0]
    assert first.input_range == (-1.0, 2.0) and last.input_range == (0.0, 5.0), (
        "each Linear gets the range calibrate recorded at its position"
    )
    assert middle is relu, "other layers are kept as they are"
    assert all(type(layer) is not FakeQuantizedLinear for layer in model.layers), (
        "the float model must not change"
    )
    with pytest.raises(ValueError):
        quantize_model(model, [])  # no calibration data


# ---- 15.7 size and accuracy ------------------------------------------------------------------


def _hand_quantized(in_features, out_features, input_range=None):
    weight = QuantizedTensor(
        np.ones((in_features, out_features), dtype=np.int8),
        np.full((1, out_features), 0.01, dtype=np.float32),
        np.zeros((1, out_features), dtype=np.int32),
    )
    return QuantizedLinear(weight, np.zeros(out_features), input_range)


@exercise("15.7")
def test_15_7_weights_shrink_exactly_four_times():
    float_model = Sequential(Linear(64, 128, rng=0), ReLU(), Linear(128, 10, rng=1))
    int8_model = Sequential(_hand_quantized(64, 128), ReLU(), _hand_quantized(128, 10))
    assert weight_bytes(float_model) == (64 * 128 + 128 * 10) * 4
    assert weight_bytes(int8_model) == 64 * 128 + 128 * 10
    assert weight_bytes(float_model) == 4 * weight_bytes(int8_model)
    assert model_bytes(float_model) == (64 * 128 + 128 + 128 * 10 + 10) * 4
    assert model_bytes(int8_model) == 64 * 128 + 128 * 10 + (128 + 10) * (4 + 4 + 4), (
        "int8 values, plus per output column a float32 scale, an int32 zero-point and a "
        "float32 bias"
    )


@exercise("15.7")
def test_15_7_report_compares_bytes_and_accuracy():
    float_model = Sequential(_linear(np.eye(3), [0.0, 0.0, 0.0]))
    other = Sequential(_hand_quantized(3, 3))
    x = np.array([[1.0, 0, 0], [0, 2.0, 0], [0, 0, 3.0], [3.0, 0, 0]])
    labels = np.array([0, 1, 1, 0])
    report = quantization_report(float_model, other, x, labels)
    assert isinstance(report, QuantizationReport)
    assert report.float_weight_bytes == 36 and report.quantized_weight_bytes == 9
    assert report.weight_ratio == 4.0
    assert report.float_bytes == 48 and report.quantized_bytes == 9 + 36
    assert report.float_accuracy == accuracy(float_model, x, labels) == 0.75
    assert report.quantized_accuracy == accuracy(other, x, labels)
    assert report.accuracy_change == report.quantized_accuracy - 0.75
