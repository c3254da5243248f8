"""Graded tests for Module 20 (Capstone). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

Every exercise is tested on its own inputs: hand-made profile rows (20.1), small models
(20.2), hand-made frozen layers (20.3), a fake predict function and a fake clock (20.4),
hand-made metric dicts (20.5, 20.6). The whole pipeline on a trained model is an
integration test (ungraded); Milestone 6 runs it on TinyDigits.
"""

import json
import math

import numpy as np
import pytest

from tinytorch.capstone import (
    SUBMISSION_SCHEMA,
    FrozenMLP,
    QuantizedMLP,
    build_submission,
    check_reproduced,
    describe_model,
    freeze,
    improvement,
    measure_variant,
    profile_table,
    quantize_int8,
    run_pipeline,
)
from tinytorch.core import Tensor
from tinytorch.nn import Linear, ReLU, Sequential, Sigmoid, parameter_bytes
from tinytorch.profiling import LayerProfile

exercise = pytest.mark.exercise


def small_model() -> Sequential:
    return Sequential(Linear(5, 7, rng=0), ReLU(), Linear(7, 3, rng=1))


def metrics(**changes) -> dict:
    values = {
        "accuracy": 0.9,
        "latency_p50_ms": 2.0,
        "latency_p99_ms": 3.0,
        "throughput_samples_per_s": 32000.0,
        "peak_memory_bytes": 40000,
        "model_bytes": 20000,
    }
    return {**values, **changes}


# ---- 20.1 describe -------------------------------------------------------------------------


@exercise("20.1")
def test_20_1_describe_model_by_widths_and_parameters():
    model = Sequential(Linear(4, 3, rng=0), ReLU(), Linear(3, 2, rng=1))
    assert describe_model(model, "tiny") == {
        "name": "tiny",
        "architecture": "4-3-2 MLP",
        "parameters": 4 * 3 + 3 + 3 * 2 + 2,
    }, "widths: the first Linear's in_features, then every Linear's out_features"


@exercise("20.1")
def test_20_1_profile_table_shares_and_hotspot():
    rows = [
        LayerProfile("0:Linear", 1000, 0.1, 10, 20),
        LayerProfile("1:ReLU", 0, 0.3, 10, 20),
        LayerProfile("2:Linear", 500, 0.1, 10, 20),
    ]
    table, hotspot = profile_table(rows)
    names, flops = [row["name"] for row in table], [row["flops"] for row in table]
    assert names == ["0:Linear", "1:ReLU", "2:Linear"], f"rows in order, got names {names}"
    assert flops == [1000, 0, 500], f"FLOPs copied from the rows, got {flops}"
    np.testing.assert_allclose(
        [row["share"] for row in table],
        [0.2, 0.6, 0.2],
        err_msg="seconds 0.1, 0.3, 0.1 of 0.5 in all",
    )
    assert hotspot == "1:ReLU", "the hotspot is the layer with the largest share of the time"
    zero = [LayerProfile("a", 1, 0.0, 0, 0), LayerProfile("b", 1, 0.0, 0, 0)]
    table, hotspot = profile_table(zero)
    assert [row["share"] for row in table] == [0.0, 0.0] and hotspot == "a", (
        "with no measured time every share is 0.0 (no division by zero) and the first row wins"
    )


# ---- 20.2 freeze ---------------------------------------------------------------------------


@exercise("20.2")
def test_20_2_frozen_model_computes_the_same_logits_from_copies():
    model = small_model()
    frozen = freeze(model)
    assert isinstance(frozen, FrozenMLP), f"return a FrozenMLP, got {frozen!r}"
    x = np.random.default_rng(0).normal(size=(6, 5)).astype(np.float32)
    expected = model(Tensor(x)).data
    got = frozen(x)
    assert isinstance(got, np.ndarray) and got.shape == (6, 3), (
        f"a (6, 3) NumPy array of logits, got {type(got).__name__} {np.shape(got)}"
    )
    np.testing.assert_allclose(
        got, expected, rtol=1e-5, atol=1e-6, err_msg="the same logits as the Tensor model"
    )
    assert frozen.model_bytes == parameter_bytes(model), (
        f"{parameter_bytes(model)} bytes of weights and biases, got {frozen.model_bytes}"
    )
    model.layers[0].weight.data[...] = 0.0
    np.testing.assert_allclose(
        frozen(x), expected, rtol=1e-5, atol=1e-6, err_msg="freeze must copy the weights"
    )


@exercise("20.2")
def test_20_2_no_bias_and_unsupported_layers():
    model = Sequential(Linear(3, 2, bias=False, rng=0))
    x = np.ones((2, 3), dtype=np.float32)
    np.testing.assert_allclose(
        freeze(model)(x), model(Tensor(x)).data, rtol=1e-6, err_msg="a Linear without bias"
    )
    with pytest.raises(TypeError) as caught:
        freeze(Sequential(Linear(3, 2, rng=0), Sigmoid()))
    assert "Sigmoid" in str(caught.value) and "1" in str(caught.value), (
        "name the unsupported layer's type and position"
    )


# ---- 20.3 quantize_int8 --------------------------------------------------------------------


@exercise("20.3")
def test_20_3_known_scales_and_integers():
    weight = np.array([[1.0, -0.5, 0.0], [0.25, 2.0, 0.0]], dtype=np.float32)
    quantized = quantize_int8(FrozenMLP([[weight, np.zeros(3), False]]))
    assert isinstance(quantized, QuantizedMLP), f"return a QuantizedMLP, got {quantized!r}"
    q, scale, bias, relu = quantized.layers[0]
    assert q.dtype == np.int8 and scale.dtype == np.float32, (
        f"int8 weights and float32 scales, got {q.dtype} and {scale.dtype}"
    )
    np.testing.assert_allclose(scale, [1 / 127, 2 / 127, 1.0], rtol=1e-6, err_msg="max|w|/127")
    np.testing.assert_array_equal(
        q, [[127, -32, 0], [32, 127, 0]], "round(w / scale): -0.5 / (2 / 127) = -31.75 → -32"
    )
    assert quantized.model_bytes == 6 * 1 + 3 * 4 + 3 * 4, "int8 weights + scales + biases"


@exercise("20.3")
def test_20_3_error_bound_size_and_predictions():
    rng = np.random.default_rng(1)
    layers = [
        [rng.normal(size=(64, 32)), rng.normal(size=32), True],
        [rng.normal(size=(32, 10)), rng.normal(size=10), False],
    ]
    frozen = FrozenMLP(layers)
    quantized = quantize_int8(frozen)
    for (w, _, _), (q, scale, _, _) in zip(frozen.layers, quantized.layers, strict=True):
        assert np.all(np.abs(q.astype(np.float32) * scale - w) <= scale / 2 + 1e-6), (
            "each weight must be within half a step (scale / 2) of its int8 value × scale"
        )
    assert quantized.model_bytes == 64 * 32 + 32 * 10 + 8 * (32 + 10), (
        f"int8 weights 2,368 B + 4-byte scales and biases for 42 columns = 2,704, got "
        f"{quantized.model_bytes}"
    )
    x = rng.normal(size=(200, 64)).astype(np.float32)
    exact, approx = frozen(x), quantized(x)
    assert np.max(np.abs(exact - approx)) < 0.05 * np.max(np.abs(exact)), (
        "int8 weights should change the logits only a little"
    )
    agreement = np.mean(exact.argmax(1) == approx.argmax(1))
    assert agreement > 0.95, f"int8 predictions should agree on > 95 % of 200 rows: {agreement:.0%}"


# ---- 20.4 measure_variant ------------------------------------------------------------------


class ScriptedPredict:
    """Returns one-hot logits of fixed answers and advances a fake clock per call."""

    def __init__(self, answers, durations):
        self.answers, self.durations = np.asarray(answers), list(durations)
        self.now, self.seen = 0.0, 0

    def clock(self) -> float:
        return self.now

    def __call__(self, batch):
        self.now += self.durations.pop(0)
        rows = np.arange(len(batch))
        if self.seen < len(self.answers):  # the pass over x comes first
            picked = self.answers[self.seen : self.seen + len(batch)]
            self.seen += len(batch)
        else:
            picked = self.answers[: len(batch)]
        logits = np.zeros((len(batch), 3), dtype=np.float32)
        logits[rows, picked] = 1.0
        return logits


@exercise("20.4")
def test_20_4_metrics_from_a_scripted_model_and_clock():
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    answers = np.array([0, 1, 2, 0, 1, 2, 0, 2, 0, 1])  # 7 of 10 right
    # 3 calls for the pass over x (4 + 4 + 2 rows), 1 warm-up, then 5 timed calls.
    predict = ScriptedPredict(answers, [1.0, 1.0, 1.0, 1.0, 0.002, 0.004, 0.003, 0.010, 0.001])
    x = np.zeros((10, 5), dtype=np.float32)
    result = measure_variant(
        predict, x, labels, batch_size=4, repeats=5, warmup=1, model_bytes=123, clock=predict.clock
    )
    expected = {
        "accuracy": 0.7,
        "latency_p50_ms": 3.0,
        "latency_p99_ms": float(np.percentile([2.0, 4.0, 3.0, 10.0, 1.0], 99)),
        "throughput_samples_per_s": 4 / 0.003,
        "model_bytes": 123,
    }
    for key, value in expected.items():
        assert result[key] == pytest.approx(value, rel=1e-9), (
            f"{key} should be {value}, got {result.get(key)} (pass over x first, then "
            f"warm-up, then the timed calls on x[:batch_size])"
        )
    peak = result["peak_memory_bytes"]
    assert isinstance(peak, int) and peak >= 0, f"peak memory is an int >= 0, got {peak!r}"
    assert set(result) == set(expected) | {"peak_memory_bytes"}, (
        f"exactly the six metrics: {sorted(result)}"
    )


@exercise("20.4")
def test_20_4_peak_memory_sees_the_allocations():
    def hungry(batch):
        scratch = np.ones((len(batch), 250_000), dtype=np.float32)  # 1 MB per row
        return scratch[:, :3] * 0.0

    x, y = np.zeros((2, 4), dtype=np.float32), np.zeros(2, dtype=np.int64)
    result = measure_variant(hungry, x, y, batch_size=1, repeats=2, warmup=0, model_bytes=1)
    assert result["peak_memory_bytes"] >= 1_000_000, (
        f"a predict that allocates 1 MB per call must show a peak of at least 1 MB, got "
        f"{result['peak_memory_bytes']} (measure the pass over x with measure_memory)"
    )
    assert result["accuracy"] == 1.0 and result["latency_p50_ms"] > 0, (
        f"all-zero logits and labels: accuracy 1.0 and a positive latency, got {result}"
    )


# ---- 20.5 build_submission -----------------------------------------------------------------


@exercise("20.5")
def test_20_5_improvement_ratios():
    base = metrics()
    opt = metrics(
        accuracy=0.875, latency_p50_ms=0.5, throughput_samples_per_s=128000.0, model_bytes=5000
    )
    expected = {
        "speedup_p50": 4.0,
        "throughput_ratio": 4.0,
        "model_size_ratio": 4.0,
        "accuracy_delta": -0.025,
    }
    got = improvement(base, opt)
    assert got == pytest.approx(expected), (
        f"latency 2.0 → 0.5 ms, throughput 32k → 128k, 20,000 → 5,000 bytes, accuracy 0.9 → 0.875: "
        f"expected {expected}, got {got}"
    )


@exercise("20.5")
def test_20_5_document_and_refusals():
    parts = {
        "submitter": "ada",
        "model": {"name": "mlp", "architecture": "64-64-10 MLP", "parameters": 4810},
        "dataset": {"name": "d", "split": "test", "samples": 10, "features": 5, "classes": 3},
        "profile": [{"name": "0:Linear", "flops": 10, "seconds": 0.1, "share": 1.0}],
        "baseline": {"variant": "b", **metrics()},
        "optimized": {"variant": "o", "techniques": ["t"], **metrics(latency_p50_ms=1.0)},
        "run": {"seed": 0, "batch_size": 64, "repeats": 5, "warmup": 1},
    }
    document = build_submission(**parts, created="2027-01-01T00:00:00+00:00")
    assert document["schema"] == SUBMISSION_SCHEMA == "tinytorch/submission/v1", (
        f"schema is {SUBMISSION_SCHEMA!r}, got {document.get('schema')!r}"
    )
    for key in ("submitter", "model", "dataset", "profile", "baseline", "optimized", "run"):
        assert document[key] == parts[key], f"{key} must be copied into the document"
    assert document["created"] == "2027-01-01T00:00:00+00:00", "copy the given created time"
    speedup = document["improvement"]["speedup_p50"]
    assert speedup == pytest.approx(2.0), f"2.0 ms → 1.0 ms is a 2× speedup, got {speedup}"
    assert set(document["system"]) == {"python", "numpy", "cpu", "cores", "os"}, (
        f"no system given: environment() of this machine, got keys {sorted(document['system'])}"
    )
    json.dumps(document, allow_nan=False)  # must be plain JSON
    bad = {**parts, "optimized": {"variant": "o", **metrics(latency_p50_ms=math.nan)}}
    with pytest.raises(ValueError) as caught:
        build_submission(**bad)
    assert "optimized.latency_p50_ms" in str(caught.value), (
        f"name the NaN figure optimized.latency_p50_ms, got: {caught.value}"
    )
    missing = {**parts, "baseline": {k: v for k, v in parts["baseline"].items() if k != "accuracy"}}
    with pytest.raises(ValueError) as caught:
        build_submission(**missing)
    assert "baseline.accuracy" in str(caught.value), (
        f"name the missing figure baseline.accuracy, got: {caught.value}"
    )


@exercise("20.5")
def test_20_5_a_given_system_is_recorded_as_given():
    system = {"python": "3.11.9", "numpy": "2.0.0", "cpu": "lab machine", "cores": 8, "os": "x"}
    document = build_submission(
        submitter="ada",
        model={"name": "mlp"},
        dataset={"name": "d"},
        profile=[],
        baseline=metrics(),
        optimized=metrics(latency_p50_ms=1.0),
        run={"seed": 0},
        system=system,
        created="2027-01-01T00:00:00+00:00",
    )
    assert document["system"] == system, (
        f"the system argument {system} describes the machine that measured the figures: "
        f"copy it into the document; got {document['system']}"
    )


# ---- 20.6 check_reproduced -----------------------------------------------------------------


def submission_like(**variant_changes) -> dict:
    return {
        "model": {"name": "mlp"},
        "dataset": {"name": "d"},
        "run": {"seed": 0},
        "baseline": metrics(),
        "optimized": metrics(**{"latency_p50_ms": 1.0, "model_bytes": 5000, **variant_changes}),
    }


@exercise("20.6")
def test_20_6_identical_and_noisy_runs_reproduce():
    same = check_reproduced(submission_like(), submission_like())
    assert same == [], f"two identical runs reproduce: no problems, got {same}"
    noisy = submission_like(latency_p50_ms=3.0)
    assert check_reproduced(submission_like(), noisy) == [], "3× slower is within a factor of 5"


@exercise("20.6")
def test_20_6_each_disagreement_is_named():
    first = submission_like()
    problems = check_reproduced(first, submission_like(accuracy=0.8))
    assert len(problems) == 1 and "optimized.accuracy" in problems[0], problems
    problems = check_reproduced(first, submission_like(latency_p50_ms=6.0))
    assert len(problems) == 1 and "optimized.latency_p50_ms" in problems[0], problems
    problems = check_reproduced(first, submission_like(model_bytes=5001))
    assert len(problems) == 1 and "optimized.model_bytes" in problems[0], problems
    close = check_reproduced(first, submission_like(accuracy=0.89), {"accuracy_abs": 0.02})
    assert close == [], f"accuracy 0.9 vs 0.89 is within accuracy_abs=0.02, got {close}"
    other_run = {**submission_like(), "run": {"seed": 1}}
    problems = check_reproduced(first, other_run)
    assert len(problems) == 1 and "run" in problems[0], problems


@exercise("20.6")
def test_20_6_a_much_faster_rerun_and_the_baseline_count_too():
    first = submission_like()
    problems = check_reproduced(first, submission_like(latency_p50_ms=0.1))
    assert len(problems) == 1 and "optimized.latency_p50_ms" in problems[0], (
        f"a rerun 10× faster (latency_p50_ms 1.0 vs 0.1) is outside the factor of 5 as much "
        f"as one 10× slower; got {problems}"
    )
    slower_baseline = {**submission_like(), "baseline": metrics(accuracy=0.5)}
    problems = check_reproduced(first, slower_baseline)
    assert len(problems) == 1 and "baseline.accuracy" in problems[0], (
        f"baseline accuracy 0.9 vs 0.5 must be reported too (check both variants); got {problems}"
    )


# ---- the whole pipeline ---------------------------------------------------------------------


@pytest.mark.integration
def test_pipeline_on_a_small_trained_model():
    from tinytorch.core import enable_autograd
    from tinytorch.nn import CrossEntropyLoss
    from tinytorch.optim import Adam

    enable_autograd()
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 8)) * 3
    labels = rng.integers(0, 3, size=300)
    inputs = (centers[labels] + rng.normal(size=(300, 8))).astype(np.float32)
    model = Sequential(Linear(8, 16, rng=0), ReLU(), Linear(16, 3, rng=1))
    optimizer, loss_fn = Adam(model.parameters(), lr=0.05), CrossEntropyLoss()
    for _ in range(60):
        batch = rng.integers(0, 200, size=32)
        optimizer.zero_grad()
        loss_fn(model(Tensor(inputs[batch])), Tensor(labels[batch])).backward()
        optimizer.step()
    first = run_pipeline(model, inputs[200:], labels[200:], dataset_name="blobs", repeats=5)
    second = run_pipeline(model, inputs[200:], labels[200:], dataset_name="blobs", repeats=5)
    assert first["baseline"]["accuracy"] > 0.9
    assert first["improvement"]["model_size_ratio"] > 2
    assert check_reproduced(first, second, {"latency_factor": 100.0}) == []
    json.dumps(first, allow_nan=False)
