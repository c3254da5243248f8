"""Graded tests for Module 15 (Quantization). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

Where an exercise assembles earlier ones (15.6 converts a model with 15.4 and 15.5), the
test swaps those pieces for stand-ins, so a mistake in one exercise costs points once.
test_integration_15.py (not graded) quantizes a trained MLP with every piece real.
"""

import numpy as np
import pytest

from tinytorch.core import Tensor, enable_autograd, is_grad_enabled
from tinytorch.nn import Linear, Module, ReLU, Sequential
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
    assert float(scale) == pytest.approx(3 / 127) and int(zero_point) == 0, (
        f"symmetric [-1, 3]: scale max(1, 3) / 127, zero-point 0; got {float(scale)}, "
        f"{int(zero_point)}"
    )
    wide = float(quantization_params(-4.0, 2.0, symmetric=True)[0])
    assert wide == pytest.approx(4 / 127), f"symmetric [-4, 2]: 4 / 127, got {wide}"
    scales, zero_points = quantization_params(
        np.array([-1.0, 0.0, -2.0]), np.array([3.0, 0.0, 0.5])
    )
    assert scales.shape == (3,) and zero_points.shape == (3,), "one pair per range"
    np.testing.assert_allclose(
        scales,
        [4 / 255, 1.0, 2.5 / 255],
        rtol=1e-6,
        err_msg="(hi - lo) / 255 per range, 1 for width 0",
    )
    np.testing.assert_array_equal(
        zero_points,
        [-64, -128, round(-128 + 2 / (2.5 / 255))],
        "round(-128 - lo / scale) per range",
    )
    sym_scales, sym_zero = quantization_params(np.array([-1.0, 0.0]), np.array([0.5, 0.0]), True)
    np.testing.assert_allclose(
        sym_scales,
        [1 / 127, 1.0],
        rtol=1e-6,
        err_msg="symmetric: max(-lo, hi) / 127, 1 for width 0",
    )
    np.testing.assert_array_equal(sym_zero, [0, 0], "symmetric zero-points are 0")


# ---- 15.2 quantize / dequantize --------------------------------------------------------------


@exercise("15.2")
def test_15_2_round_trip_error_is_at_most_half_a_step():
    scale, zero_point = np.float32(0.02), np.int32(-10)
    x = np.linspace(-2.3, 2.7, 101, dtype=np.float32)  # inside [-128+10, 127+10] · 0.02
    q = quantize(Tensor(x), scale, zero_point)
    assert q.dtype == np.int8 and q.shape == x.shape, f"int8 of x's shape, got {q.dtype}"
    back = dequantize(q, scale, zero_point)
    assert isinstance(back, Tensor) and back.dtype == np.float32, (
        f"dequantize returns a float32 Tensor, got {type(back).__name__} "
        f"{getattr(back, 'dtype', None)}"
    )
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
        err_msg="(q - zero_point) · scale per entry: (5 - 0) · 0.1 and (0 - 1) · 0.5",
    )


# ---- 15.3 quantize_tensor --------------------------------------------------------------------


class Recorder:
    """Stand-ins for quantization_params and quantize (15.1, 15.2) that record their
    arguments and return recognisable, not realistic, results."""

    def __init__(self):
        self.params_calls, self.quantize_calls = [], []

    def params(self, lo, hi, symmetric=False):
        self.params_calls.append((np.array(lo), np.array(hi), symmetric))
        scale = (np.asarray(hi, np.float32) - np.asarray(lo, np.float32)) + 1.0
        return scale.astype(np.float32), np.full(np.shape(lo), 3, dtype=np.int32)

    def quantize(self, x, scale, zero_point):
        self.quantize_calls.append((x, scale, zero_point))
        return np.full(np.shape(x), 7, dtype=np.int8)

    def install(self, monkeypatch, function):
        monkeypatch.setitem(function.__globals__, "quantization_params", self.params)
        monkeypatch.setitem(function.__globals__, "quantize", self.quantize)


@exercise("15.3")
def test_15_3_per_tensor_uses_the_min_and_max_of_everything(monkeypatch):
    recorder = Recorder()
    recorder.install(monkeypatch, quantize_tensor)
    x = Tensor(np.random.default_rng(0).uniform(-0.3, 0.5, size=(40, 25)))
    quantized = quantize_tensor(x, symmetric=True)
    [(lo, hi, symmetric)] = recorder.params_calls
    assert lo.shape == () and float(lo) == pytest.approx(float(x.data.min())), (
        "per tensor: one range, from the smallest entry ..."
    )
    assert float(hi) == pytest.approx(float(x.data.max())), "... to the largest"
    assert symmetric is True, "pass the symmetric flag on to quantization_params"
    assert isinstance(quantized, QuantizedTensor), f"return a QuantizedTensor, got {quantized!r}"
    [(data, scale, zero_point)] = recorder.quantize_calls
    np.testing.assert_array_equal(data, x.data, "quantize the whole (40, 25) array at once")
    assert quantized.values.shape == (40, 25) and np.all(quantized.values == 7), (
        "values are what quantize returned"
    )
    assert float(quantized.scale) == pytest.approx(float(hi - lo) + 1.0) == float(scale), (
        "keep the scale quantization_params returned"
    )
    assert int(quantized.zero_point) == 3 == int(zero_point), "keep the zero-point it returned"
    assert quantized.nbytes == 40 * 25 + 4 + 4, "1 byte per value, one float32 scale, one int32"


@exercise("15.3")
def test_15_3_per_channel_takes_one_range_per_index_of_the_axis(monkeypatch):
    recorder = Recorder()
    recorder.install(monkeypatch, quantize_tensor)
    w = np.random.default_rng(1).uniform(-1, 1, size=(6, 3)) * np.array([0.01, 1.0, 100.0])
    per_column = quantize_tensor(w, symmetric=True, axis=1)
    lo, hi, _ = recorder.params_calls[-1]
    assert lo.shape == (1, 3) and hi.shape == (1, 3), (
        f"axis=1: min and max over the other axes with keepdims=True give shape (1, 3), "
        f"got {lo.shape}"
    )
    np.testing.assert_allclose(lo[0], w.min(axis=0), rtol=1e-6, err_msg="column minima")
    np.testing.assert_allclose(hi[0], w.max(axis=0), rtol=1e-6, err_msg="column maxima")
    assert per_column.scale.shape == (1, 3) and per_column.zero_point.shape == (1, 3), (
        f"one pair per column: (1, 3), got {per_column.scale.shape}, {per_column.zero_point.shape}"
    )
    assert per_column.nbytes == 18 + 3 * 4 + 3 * 4, (
        f"18 int8 values + 3 scales + 3 zero-points = 42 bytes, got {per_column.nbytes}"
    )
    per_row = quantize_tensor(w, axis=0)
    lo, hi, symmetric = recorder.params_calls[-1]
    assert lo.shape == (6, 1) and symmetric is False, "axis=0: one range per row"
    np.testing.assert_allclose(hi[:, 0], w.max(axis=1), rtol=1e-6, err_msg="row maxima")
    assert per_row.scale.shape == (6, 1), f"one scale per row: (6, 1), got {per_row.scale.shape}"


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


@exercise("15.4")
def test_15_4_calibration_runs_without_building_a_graph():
    seen = []

    class Spy(Module):
        def forward(self, x):
            seen.append(is_grad_enabled())
            return x

    model = Sequential(_linear([[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0]), Spy())
    ranges = calibrate(model, [np.ones((2, 2)), np.zeros((1, 2))])
    assert ranges == {0: (0.0, 1.0)}, f"inputs of ones and zeros span (0.0, 1.0), got {ranges}"
    assert seen == [False, False], (
        f"calibration only reads ranges: run the forward passes under no_grad() (autograd was "
        f"on during {seen.count(True)} of {len(seen)} passes)"
    )


# ---- 15.5 QuantizedLinear --------------------------------------------------------------------


@exercise("15.5")
def test_15_5_from_linear_quantizes_each_column_symmetrically(monkeypatch):
    calls = []

    def fake_quantize_tensor(x, symmetric=False, axis=None):
        calls.append((x, symmetric, axis))
        shape = x.shape
        return QuantizedTensor(
            np.ones(shape, np.int8), np.ones((1, shape[1]), np.float32), np.zeros((1, shape[1]))
        )

    monkeypatch.setitem(
        QuantizedLinear.__init__.__globals__, "quantize_tensor", fake_quantize_tensor
    )
    linear = Linear(20, 6, rng=0)
    linear.bias.data[...] = np.arange(6) / 10
    layer = QuantizedLinear.from_linear(linear, input_range=(-1.0, 2.0))
    [(weight, symmetric, axis)] = calls
    assert (weight is linear.weight or weight is linear.weight.data) and symmetric and axis == 1, (
        "quantize the weight symmetrically with one scale per output column (axis=1)"
    )
    assert layer.weight.values.shape == (20, 6) and layer.input_range == (-1.0, 2.0), (
        f"(20, 6) weights and the range (-1.0, 2.0), got {layer.weight.values.shape}, "
        f"{layer.input_range}"
    )
    np.testing.assert_allclose(layer.bias, linear.bias.data, err_msg="the bias, unchanged")
    assert not np.shares_memory(layer.bias, linear.bias.data), (
        "copy the bias: the float model must not change with the quantized one"
    )
    no_bias = QuantizedLinear.from_linear(Linear(4, 2, bias=False, rng=0))
    assert no_bias.bias is None, f"a Linear without bias gives bias None, got {no_bias.bias}"


def _fake_input_quantization(monkeypatch, scale, zero_point, q, seen):
    def params(lo, hi, symmetric=False):
        seen.append((lo, hi, symmetric))
        return np.float32(scale), np.int32(zero_point)

    def quantize(x, x_scale, x_zero):
        seen.append("quantize")
        return np.asarray(q, dtype=np.int8)

    monkeypatch.setitem(QuantizedLinear.forward.__globals__, "quantization_params", params)
    monkeypatch.setitem(QuantizedLinear.forward.__globals__, "quantize", quantize)


@exercise("15.5")
def test_15_5_forward_accumulates_integers_then_scales_once(monkeypatch):
    seen = []
    _fake_input_quantization(monkeypatch, 0.01, -128, [[-78, -28]], seen)
    weight = QuantizedTensor(
        np.array([[1, -2], [3, 4]], dtype=np.int8),
        np.array([[0.5, 0.25]], dtype=np.float32),
        np.zeros((1, 2), dtype=np.int32),
    )
    layer = QuantizedLinear(weight, bias=[0.1, -0.1], input_range=(0.0, 2.55))
    out = layer(Tensor([[0.5, 1.0]]))
    assert seen[0] == (0.0, 2.55, False), "the input range, quantized asymmetrically"
    # -78 and -28 are 50 and 100 steps above the zero-point -128; the sums are
    # 50·1 + 100·3 = 350 and 50·(-2) + 100·4 = 300, rescaled once by 0.01 · (0.5, 0.25).
    np.testing.assert_allclose(
        out.data,
        [[350 * 0.005 + 0.1, 300 * 0.0025 - 0.1]],
        rtol=1e-5,
        err_msg="integer sums 350 and 300, times 0.01 · (0.5, 0.25), plus the bias",
    )
    assert isinstance(out, Tensor) and out.dtype == np.float32 and out.shape == (1, 2), (
        f"a float32 Tensor of shape (1, 2), got {type(out).__name__} {out.dtype} {out.shape}"
    )


@exercise("15.5")
def test_15_5_accumulates_in_int32_and_uses_the_batch_range_without_calibration(monkeypatch):
    seen = []
    _fake_input_quantization(monkeypatch, 0.5, -128, [[127, 127, 127]], seen)
    weight = QuantizedTensor(
        np.full((3, 1), 127, dtype=np.int8), np.array([[0.001]], np.float32), np.zeros((1, 1))
    )
    layer = QuantizedLinear(weight)
    out = layer(Tensor([[-1.0, 4.0, 2.0]]))
    assert seen[0] == (-1.0, 4.0, False), "no input_range: use the batch's own min and max"
    expected = 3 * 255 * 127 * 0.5 * 0.001  # 97,155 overflows int8 and int16 accumulators
    np.testing.assert_allclose(
        out.data,
        [[expected]],
        rtol=1e-5,
        err_msg=(
            "subtract the zero-point and multiply in int32: (127 - (-128)) · 127 · 3 = 97,155"
        ),
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
    batches = [np.ones((5, 3)), np.zeros((2, 3))]
    converted = quantize_model(model, iter(batches))
    assert calls["calibrate"][0] is model, "calibrate the float model you were given"
    assert [b.shape for b in calls["calibrate"][1]] == [(5, 3), (2, 3)], (
        f"calibrate on every batch given, here batches of shapes (5, 3) and (2, 3); "
        f"calibrate saw {[np.shape(b) for b in calls['calibrate'][1]]}"
    )
    assert isinstance(converted, Sequential) and converted is not model, (
        "return a new Sequential; the float model stays as it is"
    )
    first, middle, last = converted.layers
    assert isinstance(first, FakeQuantizedLinear) and first.linear is model.layers[0], (
        "layer 0 is QuantizedLinear.from_linear of the model's first Linear"
    )
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
    floats, ints = weight_bytes(float_model), weight_bytes(int8_model)
    assert floats == (64 * 128 + 128 * 10) * 4, (
        f"64×128 + 128×10 float32 weights = 37,888 bytes, got {floats}"
    )
    assert ints == 64 * 128 + 128 * 10, f"the same weights in int8 = 9,472 bytes, got {ints}"
    assert floats == 4 * ints, f"float32 / int8 weights = 4, got {floats} / {ints}"
    everything = model_bytes(float_model)
    assert everything == (64 * 128 + 128 + 128 * 10 + 10) * 4, (
        f"float32 weights and biases = 38,440 bytes, got {everything}"
    )
    assert model_bytes(int8_model) == 64 * 128 + 128 * 10 + (128 + 10) * (4 + 4 + 4), (
        "int8 values, plus per output column a float32 scale, an int32 zero-point and a "
        "float32 bias"
    )


@exercise("15.7")
def test_15_7_report_compares_bytes_and_accuracy():
    class Reversed(QuantizedLinear):  # a stand-in forward: no 15.5 code runs
        def forward(self, x):
            return Tensor(x.data[:, ::-1])

    float_model = Sequential(_linear(np.eye(3), [0.0, 0.0, 0.0]))
    other = Sequential(Reversed(_hand_quantized(3, 3).weight, np.zeros(3)))
    x = np.array([[1.0, 0, 0], [0, 2.0, 0], [0, 0, 3.0], [3.0, 0, 0]])
    labels = np.array([0, 1, 1, 0])
    report = quantization_report(float_model, other, x, labels)
    assert isinstance(report, QuantizationReport), f"return a QuantizationReport, got {report!r}"
    got = (report.float_weight_bytes, report.quantized_weight_bytes, report.weight_ratio)
    assert got == (36, 9, 4.0), f"3×3 weights: 36 bytes float32, 9 int8, ratio 4.0; got {got}"
    got = (report.float_bytes, report.quantized_bytes)
    assert got == (48, 9 + 36), (
        f"all bytes: 36 + 12 (bias) float32, 9 + 3·(4 + 4 + 4) quantized; got {got}"
    )
    got = (report.float_accuracy, report.quantized_accuracy, report.accuracy_change)
    assert got == pytest.approx((0.75, 0.25, -0.5)), (
        f"accuracy 3/4 for the identity model, 1/4 for the reversed one, change -0.5; got {got}"
    )
