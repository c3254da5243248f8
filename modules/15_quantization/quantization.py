# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 15 — Quantization
#
# Every weight of our models is a float32: 4 bytes, about 7 significant digits, a range
# up to 10³⁸. A trained weight matrix needs far less: its entries sit in a narrow range
# like [−0.3, 0.3], and a model's predictions barely change if each weight moves by
# a fraction of a percent of that range. **Quantization** stores each number as a small
# integer instead — here an **int8**, one byte, one of 256 values — plus one float
# that says how far apart those values are:
#
#     real value ≈ scale · (q − zero_point)          q an integer in [−128, 127]
#
# That is 4× less memory for every weight, and on hardware with integer arithmetic
# units, cheaper arithmetic too.
#
# **Systems concept: bytes against precision.** Quantization trades a bounded rounding
# error — at most scale / 2 per number — for a 4× smaller model. Whether the trade is
# good is a measurement, not a belief: you will measure the bytes (exactly 4× for the
# weight matrices) and the accuracy of a trained model before and after.
#
# | exercise | what you write |
# |---|---|
# | 15.1 quantization_params | scale and zero-point of a range: asymmetric and symmetric |
# | 15.2 quantize_dequantize | float → int8 and back |
# | 15.3 quantize_tensor | a whole tensor, with one scale or one scale per channel |
# | 15.4 calibrate | the range of each layer's input, observed on sample data |
# | 15.5 quantized_linear | a Linear layer with int8 weights and int32 accumulation |
# | 15.6 quantize_model | convert every Linear of a trained model |
# | 15.7 size_and_accuracy | bytes and accuracy, before and after |

# %%
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinytorch.core import Tensor, no_grad
from tinytorch.nn import Linear, Module, Sequential

INT8_MIN, INT8_MAX = -128, 127

# %% [markdown]
# ## 15.1 — Scale and zero-point
#
# Take a range of real numbers [lo, hi] and spread the 256 int8 values evenly over it.
#
# **Asymmetric** (any range): lo ↦ −128 and hi ↦ 127, so
#
#     scale      = (hi − lo) / 255                  the real distance between neighbours
#     zero_point = round(−128 − lo / scale)        the integer that stands for 0.0
#
# First widen the range to include 0 (lo ≤ 0 ≤ hi; given below). Then 0.0 is stored
# *exactly* as the integer zero_point — it matters, because zeros are everywhere (the
# outputs of ReLU, padding), and an error on every zero would add up.
#
# **Symmetric** (ranges around 0, such as weights): zero_point = 0 and
#
#     scale = max(|lo|, |hi|) / 127                integers in [−127, 127]
#
# (−128 is left unused so that q and −q are both available.) It wastes some of the
# 256 values when the range is lopsided, but q · scale needs no zero-point
# subtraction, which makes the matrix product of 15.5 simpler.
#
# Write it elementwise (with `np.where`, not `if`), so that arrays of ranges — one per
# channel, 15.3 — work too. A range of width 0 (all zeros) gets scale 1.0 instead of a
# division by zero.


# %%
def quantization_params(x_min, x_max, symmetric: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Scale and zero-point that map [x_min, x_max] (widened to include 0) onto int8.

    >>> scale, zero_point = quantization_params(-1.0, 3.0)
    >>> float(scale) * 255, int(zero_point)
    (4.0, -64)

    x_min, x_max: numbers or arrays of the same shape (one range per entry).
    Returns (scale float32, zero_point int32), arrays of that shape. Asymmetric:
    scale = (hi − lo) / 255, zero_point = round(−128 − lo / scale); symmetric:
    scale = max(−lo, hi) / 127, zero_point = 0. Width-0 ranges get scale 1.
    """
    lo = np.minimum(np.asarray(x_min, dtype=np.float64), 0.0)
    hi = np.maximum(np.asarray(x_max, dtype=np.float64), 0.0)
    ### BEGIN SOLUTION 15.1
    if symmetric:
        bound = np.maximum(-lo, hi)
        scale = np.where(bound > 0, bound / INT8_MAX, 1.0).astype(np.float32)
        return scale, np.zeros(scale.shape, dtype=np.int32)
    width = hi - lo
    scale = np.where(width > 0, width / (INT8_MAX - INT8_MIN), 1.0).astype(np.float32)
    zero_point = np.round(INT8_MIN - lo / scale)
    return scale, np.clip(zero_point, INT8_MIN, INT8_MAX).astype(np.int32)
    ### END SOLUTION


# %% [markdown]
# ## 15.2 — Quantize and dequantize
#
#     quantize:    q = clip(round(x / scale) + zero_point, −128, 127)     → int8
#     dequantize:  x̂ = (q − zero_point) · scale                           → float32
#
# For x inside the range, |x − x̂| ≤ scale / 2: rounding moves a number at most half a
# step. Outside the range the clip moves it to the nearest end — an error that can be
# large, which is why the range (15.4) matters.
#
# Two traps. `np.round` rounds halves to the even neighbour (2.5 → 2): fine, the
# error bound still holds. And int8 arithmetic wraps around: `np.int8(100) + np.int8(100)`
# is −56. Never compute with the int8 values directly; convert to float32 (here) or
# int32 (15.5) first.


# %%
def quantize(x, scale, zero_point) -> np.ndarray:
    """float → int8: clip(round(x / scale) + zero_point, −128, 127).

    x: a Tensor or array; scale, zero_point: numbers or arrays broadcastable to x.
    Returns an int8 array of x's shape: 1 byte per entry.
    """
    values = x.data if isinstance(x, Tensor) else np.asarray(x, dtype=np.float32)
    ### BEGIN SOLUTION 15.2
    q = np.round(values / scale) + zero_point
    return np.clip(q, INT8_MIN, INT8_MAX).astype(np.int8)
    ### END SOLUTION


def dequantize(q: np.ndarray, scale, zero_point) -> Tensor:
    """int8 → float: Tensor((q − zero_point) · scale), float32, q's shape (4 bytes per entry)."""
    ### BEGIN SOLUTION 15.2
    shifted = q.astype(np.float32) - np.asarray(zero_point, dtype=np.float32)
    return Tensor(shifted * np.asarray(scale, dtype=np.float32))
    ### END SOLUTION


# %% [markdown]
# ## 15.3 — Whole tensors: per-tensor or per-channel
#
# A `QuantizedTensor` keeps the int8 values and the numbers needed to read them back.
#
# - **Per tensor**: one (scale, zero_point) for the whole tensor, from its min and max.
# - **Per channel**: one pair for each slice along one axis. For a Linear weight of
#   shape (in, out), axis=1 gives each output neuron (each column) its own scale. That
#   matters when columns differ in size: with one scale for a tensor whose columns are
#   about 0.01, 1 and 100, the step is 100 / 127 ≈ 0.8 and the whole first column rounds
#   to 0. Per channel, each column gets a step that fits it, for the price of one more
#   scale and zero-point per column.
#
# For per-channel ranges take the min and max over every axis *except* `axis`, with
# `keepdims=True`, so that scale has shape (1, out) and broadcasts against the values.


# %%
@dataclass
class QuantizedTensor:
    """int8 values plus the scale(s) and zero-point(s) that read them back.

    values: int8, the original shape. scale (float32) and zero_point (int32): shape () for
    one pair per tensor, or broadcastable to values (e.g. (1, out)) for one pair per channel.
    """

    values: np.ndarray
    scale: np.ndarray
    zero_point: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return self.values.shape

    @property
    def nbytes(self) -> int:
        """Everything stored: 1 byte per value, 4 per scale, 4 per zero-point."""
        return self.values.nbytes + self.scale.nbytes + self.zero_point.nbytes

    def dequantize(self) -> Tensor:
        return dequantize(self.values, self.scale, self.zero_point)

    def __repr__(self) -> str:
        pairs = self.scale.size
        return f"QuantizedTensor(shape={self.shape}, int8, {pairs} scale(s), {self.nbytes:,} B)"


def quantize_tensor(x, symmetric: bool = False, axis: int | None = None) -> QuantizedTensor:
    """Quantize a whole Tensor (or array) to int8.

    axis=None: one scale and zero-point from the tensor's min and max. axis=k: one pair
    per index along axis k, from the min and max over all other axes (keepdims=True).
    Memory: 1 byte per entry plus 8 bytes per (scale, zero_point) pair.
    """
    data = x.data if isinstance(x, Tensor) else np.asarray(x, dtype=np.float32)
    if axis is not None:
        axis = axis % data.ndim
        others = tuple(a for a in range(data.ndim) if a != axis)
    ### BEGIN SOLUTION 15.3
    if axis is None:
        lo, hi = data.min(), data.max()
    else:
        lo = data.min(axis=others, keepdims=True)
        hi = data.max(axis=others, keepdims=True)
    scale, zero_point = quantization_params(lo, hi, symmetric)
    return QuantizedTensor(quantize(data, scale, zero_point), scale, zero_point)
    ### END SOLUTION


# %% [markdown]
# ## 15.4 — Calibration: the range of the activations
#
# Weights are known after training, so their ranges are too. The inputs of each layer
# (the activations) are known only when data flows. To quantize them we need their
# range *in advance* — so run the float model on a few representative batches and
# record, for every Linear, the smallest and largest value of its input. That is
# **calibration**; the batches are the calibration data.
#
# The min and max are the simplest observer; they are sensitive to a single outlier,
# which stretches the range and coarsens the step for every other value. (Real
# toolkits also offer percentiles or histograms; min/max is enough here.)
#
# `model` is a Sequential (its `layers`); run each batch through the layers one at a
# time under `no_grad()` and, just before a Linear at position i, widen `ranges[i]` to
# include that input's min and max.


# %%
def calibrate(model, batches) -> dict[int, tuple[float, float]]:
    """{position of each Linear in model.layers: (min, max) of its input over all batches}.

    batches: an iterable of Tensors or arrays, each a batch of model inputs.
    Cost: one forward pass per batch under no_grad(); no extra memory kept.
    """
    layers = model.layers
    ### BEGIN SOLUTION 15.4
    ranges: dict[int, tuple[float, float]] = {}
    with no_grad():
        for batch in batches:
            x = batch if isinstance(batch, Tensor) else Tensor(batch)
            for index, layer in enumerate(layers):
                if isinstance(layer, Linear):
                    lo, hi = float(x.data.min()), float(x.data.max())
                    if index in ranges:
                        lo, hi = min(lo, ranges[index][0]), max(hi, ranges[index][1])
                    ranges[index] = (lo, hi)
                x = layer(x)
    return ranges
    ### END SOLUTION


# %% [markdown]
# ## 15.5 — A quantized Linear layer
#
# With per-channel symmetric weights (w_ij ≈ s_j · q_ij, zero-point 0) and an input
# quantized per tensor (x_i ≈ s_x · (p_i − z_x)), each output is
#
#     y_j = Σ_i x_i · w_ij + b_j  ≈  s_x · s_j · Σ_i (p_i − z_x) · q_ij  +  b_j
#                                          └──── integers only ────┘
#
# The sum is done entirely in integers and **accumulated in int32**: each product is at
# most 255 · 127 = 32,385 in size, so an int32 (up to 2.1·10⁹) is safe for up to
# 66,000 inputs — an int8 or int16 accumulator would overflow after a handful of terms.
# One float multiplication per output, by s_x · s_j, brings the result back to real
# units, and the float32 bias is added last.
#
# The input range comes from calibration (`input_range`, static); without it the layer
# uses the min and max of the batch it is given (dynamic: always a good fit, but a
# min and max to compute on every call).
#
# NOTE: NumPy has no int8 × int8 → int32 matrix product, so we widen both operands to
# int32 for `@`. That costs memory and time here; an int8 kernel on a CPU or
# GPU reads 1 byte per weight and multiplies 4–16 of them per instruction. What
# we store — and what 15.7 measures — is 1 byte per weight. The alternative design
# dequantizes the weights and multiplies in float ("weight-only"): simpler, the same
# size on disk, but no integer arithmetic.


# %%
class QuantizedLinear(Module):
    """y ≈ x @ W + b with W stored as int8, one symmetric scale per output column.

    weight: a QuantizedTensor of shape (in, out) with zero_point 0; bias: float32 (out,) or
    None; input_range: (min, max) from calibrate, or None to use each batch's own range.
    Memory: in·out bytes of weights + 8·out for the scales and zero-points + 4·out of bias.
    Forward on (N, in): 2·N·in·out integer operations accumulated in int32, then N·out
    float multiplications. Inference only: no parameters, no gradient.
    """

    def __init__(self, weight: QuantizedTensor, bias=None, input_range=None):
        if weight.values.ndim != 2 or weight.values.dtype != np.int8:
            raise ValueError(
                f"QuantizedLinear needs int8 weight values of shape (in, out), got "
                f"{weight.values.dtype} values of shape {weight.shape}"
            )
        if np.any(weight.zero_point != 0):
            raise ValueError(
                "QuantizedLinear expects symmetric weights (every zero_point 0): quantize them "
                "with quantize_tensor(weight, symmetric=True, axis=1)"
            )
        self.weight = weight
        self.bias = None if bias is None else np.asarray(bias, dtype=np.float32)
        self.input_range = None if input_range is None else tuple(map(float, input_range))
        self.in_features, self.out_features = weight.shape

    @classmethod
    def from_linear(cls, linear: Linear, input_range=None) -> QuantizedLinear:
        """Quantize a trained Linear: per-channel symmetric int8 weights, float32 bias copy."""
        ### BEGIN SOLUTION 15.5
        weight = quantize_tensor(linear.weight, symmetric=True, axis=1)
        bias = None if linear.bias is None else linear.bias.data.copy()
        ### END SOLUTION
        return cls(weight, bias, input_range)

    def forward(self, x) -> Tensor:
        """(..., in) → (..., out), float32."""
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"{self!r} expects inputs of shape (..., {self.in_features}), got {x.shape}"
            )
        if self.input_range is not None:
            lo, hi = self.input_range
        else:
            lo, hi = float(x.data.min()), float(x.data.max())
        ### BEGIN SOLUTION 15.5
        x_scale, x_zero = quantization_params(lo, hi)
        centered = quantize(x, x_scale, x_zero).astype(np.int32) - x_zero
        accumulated = centered @ self.weight.values.astype(np.int32)
        out = accumulated.astype(np.float32) * (x_scale * self.weight.scale)
        if self.bias is not None:
            out = out + self.bias
        return Tensor(out)
        ### END SOLUTION

    def extra_repr(self) -> str:
        calibrated = "calibrated" if self.input_range is not None else "dynamic"
        return f"in_features={self.in_features}, out_features={self.out_features}, {calibrated}"


# %% [markdown]
# ## 15.6 — Converting a trained model
#
# Calibrate the float model once, then build a *new* Sequential in which each Linear at
# position i becomes `QuantizedLinear.from_linear(layer, ranges[i])` and every other
# layer (ReLU …) is the very same object. The float model stays untouched, so the two
# can be compared.


# %%
def quantize_model(model, calibration_batches) -> Sequential:
    """A new Sequential with every Linear of `model.layers` replaced by a calibrated
    QuantizedLinear; other layers are shared. `model` is not changed.
    Cost: calibration (one forward pass per batch) + one pass over every weight."""
    calibration_batches = list(calibration_batches)
    if not calibration_batches:
        raise ValueError(
            "quantize_model needs at least one calibration batch: a few hundred typical "
            "inputs, e.g. [x_train[:256]]"
        )
    ### BEGIN SOLUTION 15.6
    ranges = calibrate(model, calibration_batches)
    converted = [
        QuantizedLinear.from_linear(layer, ranges[index]) if isinstance(layer, Linear) else layer
        for index, layer in enumerate(model.layers)
    ]
    return Sequential(*converted)
    ### END SOLUTION


# %% [markdown]
# ## 15.7 — What it saves, what it costs
#
# Two byte counts, read from the arrays actually stored:
#
# - `weight_bytes(model)`: the weight matrices only — `memory_footprint()` of a Linear's
#   weight (4 bytes per entry), `values.nbytes` of a QuantizedLinear's (1 byte per entry).
#   The ratio is exactly 4.
# - `model_bytes(model)`: everything a layer stores. Linear: weight + bias.
#   QuantizedLinear: values + scales + zero-points + bias (`weight.nbytes` plus the
#   bias's bytes). Slightly less than 4×: the per-channel extras and the float bias.
#
# `quantization_report` puts them side by side with the `accuracy` (given) of both models
# on the same labelled data.


# %%
def accuracy(model, x, labels, batch_size: int = 256) -> float:
    """Fraction of rows of x whose largest output is at the index given by `labels`.
    Runs under no_grad() in batches of batch_size rows."""
    x = x.data if isinstance(x, Tensor) else np.asarray(x, dtype=np.float32)
    labels = np.asarray(labels.data if isinstance(labels, Tensor) else labels).astype(np.int64)
    correct = 0
    with no_grad():
        for start in range(0, len(x), batch_size):
            scores = model(Tensor(x[start : start + batch_size])).data
            correct += int((scores.argmax(axis=-1) == labels[start : start + batch_size]).sum())
    return correct / len(x)


@dataclass(frozen=True)
class QuantizationReport:
    """Bytes and accuracy of a float model and its quantized copy."""

    float_weight_bytes: int
    quantized_weight_bytes: int
    float_bytes: int
    quantized_bytes: int
    float_accuracy: float
    quantized_accuracy: float

    @property
    def weight_ratio(self) -> float:
        return self.float_weight_bytes / self.quantized_weight_bytes

    @property
    def size_ratio(self) -> float:
        return self.float_bytes / self.quantized_bytes

    @property
    def accuracy_change(self) -> float:
        return self.quantized_accuracy - self.float_accuracy


def weight_bytes(model) -> int:
    """Bytes of the weight matrices of the Linear (4 per entry) and QuantizedLinear
    (1 per entry) layers in model.layers; biases, scales and zero-points excluded."""
    ### BEGIN SOLUTION 15.7
    total = 0
    for layer in model.layers:
        if isinstance(layer, QuantizedLinear):
            total += layer.weight.values.nbytes
        elif isinstance(layer, Linear):
            total += layer.weight.memory_footprint()
    return total
    ### END SOLUTION


def model_bytes(model) -> int:
    """Every byte the Linear and QuantizedLinear layers of model.layers store: weights,
    biases, and for QuantizedLinear also the scales and zero-points."""
    ### BEGIN SOLUTION 15.7
    total = 0
    for layer in model.layers:
        if isinstance(layer, QuantizedLinear):
            total += layer.weight.nbytes + (0 if layer.bias is None else layer.bias.nbytes)
        elif isinstance(layer, Linear):
            total += layer.weight.memory_footprint()
            total += 0 if layer.bias is None else layer.bias.memory_footprint()
    return total
    ### END SOLUTION


def quantization_report(float_model, quantized_model, x, labels) -> QuantizationReport:
    """Weight bytes, all bytes and accuracy on (x, labels) of both models."""
    ### BEGIN SOLUTION 15.7
    return QuantizationReport(
        float_weight_bytes=weight_bytes(float_model),
        quantized_weight_bytes=weight_bytes(quantized_model),
        float_bytes=model_bytes(float_model),
        quantized_bytes=model_bytes(quantized_model),
        float_accuracy=accuracy(float_model, x, labels),
        quantized_accuracy=accuracy(quantized_model, x, labels),
    )
    ### END SOLUTION


# %% [markdown]
# ## Try it
#
# Run this file (`python modules/15_quantization/quantization.py`): it trains a small MLP
# on a synthetic 4-class problem, quantizes it and prints bytes, accuracy and the
# time of a forward pass of both.

# %%
if __name__ == "__main__":
    from tinytorch.nn import CrossEntropyLoss, ReLU
    from tinytorch.optim import Adam
    from tinytorch.profiling import time_function
    from tinytorch.training import fit

    rng = np.random.default_rng(0)
    centers = rng.normal(size=(4, 16))
    labels_all = rng.integers(0, 4, size=2000)
    x_all = (centers[labels_all] + 1.5 * rng.normal(size=(2000, 16))).astype(np.float32)
    x_train, y_train, x_test, y_test = (
        x_all[:1500],
        labels_all[:1500],
        x_all[1500:],
        labels_all[1500:],
    )
    net = Sequential(
        Linear(16, 128, rng=1), ReLU(), Linear(128, 128, rng=2), ReLU(), Linear(128, 4, rng=3)
    )
    fit(net, CrossEntropyLoss(), Adam(net.parameters(), lr=0.01), x_train, y_train, epochs=5)
    small = quantize_model(net, [x_train[:500]])
    report = quantization_report(net, small, x_test, y_test)
    print(small)
    print(
        f"weights: {report.float_weight_bytes:,} B float32 -> {report.quantized_weight_bytes:,} B "
        f"int8 ({report.weight_ratio:.2f}x); all stored bytes {report.float_bytes:,} -> "
        f"{report.quantized_bytes:,} ({report.size_ratio:.2f}x)"
    )
    print(
        f"accuracy: float {report.float_accuracy:.3f}, int8 {report.quantized_accuracy:.3f} "
        f"(change {report.accuracy_change:+.3f})"
    )
    batch = Tensor(x_test[:256])
    with no_grad():
        float_time = time_function(net, batch, repeats=20).median
        int8_time = time_function(small, batch, repeats=20).median
    print(
        f"forward of 256 rows: float {float_time * 1e3:.3f} ms, int8 {int8_time * 1e3:.3f} ms "
        f"(NumPy has no fast int8 matmul: here the saving is memory, not time)"
    )
