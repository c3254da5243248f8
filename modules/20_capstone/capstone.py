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
# # Module 20 — Capstone: Profile → Optimize → Benchmark → Submit
#
# You have built a framework, trained models with it, and learned to measure,
# shrink and speed them up. The **capstone** puts the systems half of the course
# into one pipeline, applied to a model you trained yourself, and ends with a
# **submission**: one JSON document in the spirit of **MLPerf** (the industry's
# benchmark suite since 2018), where a result counts only if the model reaches a
# quality target *and* every figure was measured under stated conditions.
#
# 1. **Profile** the trained model: where do the FLOPs and the time go (Module 14)?
# 2. **Optimize**: freeze it into an inference-only NumPy program (no graph, no
#    Tensor wrappers — Module 18's lesson), then store its weights as int8 with one
#    scale per output (a quarter of the bytes).
# 3. **Benchmark** baseline and optimized variant the same way: accuracy on the
#    held-out data, latency p50/p99 after warm-up (Module 19), throughput, peak
#    memory, model bytes.
# 4. **Submit**: one dictionary with the machine, the model, the dataset, both sets
#    of metrics, their ratios and everything needed to run it again — every number
#    measured in this run, none typed in.
#
# The module takes the model and the data as arguments: it never loads a dataset
# itself. Milestone 6 trains an MLP on TinyDigits, runs this pipeline, writes
# `submission.json`, validates it against the course's schema and runs everything a
# second time to check the figures reproduce.
#
# **Systems concept: an optimization is a claim, and a claim needs evidence.** The
# evidence is a baseline measured the same way, the conditions, and a second run that
# agrees within stated tolerances.
#
# | exercise | what you write |
# |---|---|
# | 20.1 describe | the model's description and the profile table with its hotspot |
# | 20.2 freeze | an inference-only copy of a Linear/ReLU model in plain NumPy |
# | 20.3 quantize_int8 | int8 weights with one scale per output column |
# | 20.4 measure_variant | accuracy, latency p50/p99, throughput, peak memory, bytes |
# | 20.5 build_submission | the ratios and the submission document |
# | 20.6 check_reproduced | does a second run agree within the tolerances? |

# %%
from __future__ import annotations

import datetime
import math
import time
from collections.abc import Callable

import numpy as np

from tinytorch.benchmarking import environment, measure, summarize
from tinytorch.core import Tensor, no_grad
from tinytorch.nn import Linear, ReLU, parameter_bytes, parameter_count
from tinytorch.profiling import measure_memory, profile_layers

SUBMISSION_SCHEMA = "tinytorch/submission/v1"
METRICS = (
    "accuracy",
    "latency_p50_ms",
    "latency_p99_ms",
    "throughput_samples_per_s",
    "peak_memory_bytes",
    "model_bytes",
)
DEFAULT_TOLERANCES = {"accuracy_abs": 0.0, "latency_factor": 5.0}

# %% [markdown]
# ## 20.1 — Describe and profile
#
# A result is only comparable if it says what was measured. `describe_model`
# names a Linear/ReLU stack by its widths: `Sequential(Linear(64, 64), ReLU(),
# Linear(64, 10))` is a "64-64-10 MLP" with 4,810 parameters.
#
# `profile_table` turns Module 14's `profile_layers` rows into plain dictionaries
# (JSON can hold them) and adds each layer's **share** of the total time. The
# layer with the largest share is the **hotspot**: by Amdahl's law, the only place
# where an optimization can pay off much.


# %%
def describe_model(model, name: str = "mlp") -> dict:
    """{"name", "architecture", "parameters"} of a model whose `.layers` hold Linear layers
    (and activations), e.g. {"name": "mlp", "architecture": "64-64-10 MLP",
    "parameters": 4810}. Raises ValueError if the model has no Linear layer."""
    linears = [layer for layer in getattr(model, "layers", [model]) if isinstance(layer, Linear)]
    if not linears:
        raise ValueError(
            f"describe_model needs a model made of Linear layers (a Sequential), got "
            f"{type(model).__name__}"
        )
    ### BEGIN SOLUTION 20.1
    widths = [linears[0].in_features] + [layer.out_features for layer in linears]
    return {
        "name": name,
        "architecture": "-".join(str(width) for width in widths) + " MLP",
        "parameters": int(parameter_count(model)),
    }
    ### END SOLUTION


def profile_table(rows) -> tuple[list[dict], str]:
    """Module 14's LayerProfile rows → (list of {"name", "flops", "seconds", "share"},
    name of the hotspot). share = seconds / total seconds (all 0.0 if nothing was measured);
    the hotspot is the first row with the largest share. Raises ValueError for no rows."""
    rows = list(rows)
    if not rows:
        raise ValueError("profile_table needs at least one profiled layer")
    ### BEGIN SOLUTION 20.1
    total = sum(row.seconds for row in rows)
    table = [
        {
            "name": str(row.name),
            "flops": int(row.flops),
            "seconds": float(row.seconds),
            "share": float(row.seconds / total) if total > 0 else 0.0,
        }
        for row in rows
    ]
    hotspot = max(table, key=lambda entry: entry["share"])["name"]
    return table, hotspot
    ### END SOLUTION


# %% [markdown]
# ## 20.2 — Freeze: an inference-only program
#
# Training needed Tensors: every operation recorded its inputs so that gradients
# could flow back. Serving predictions needs none of that. Freezing copies each
# layer's weights into plain, contiguous float32 arrays and replaces the model by a
# short NumPy loop:
#
#     for weight, bias, relu in layers:
#         x = x @ weight + bias
#         if relu: x = np.maximum(x, 0)
#
# Walk `model.layers`: a `Linear` appends `[weight copy, bias copy (zeros if it has
# none), False]`; a `ReLU` sets the flag of the last entry to True (a ReLU before any
# Linear, or any other kind of layer, is a TypeError naming its position and type).
# Copy the arrays: training the model further must not change the frozen one.


# %%
class FrozenMLP:
    """Inference-only Linear/ReLU stack: (N, in) float32 → (N, out) float32 logits.

    layers: list of [weight (in, out) float32, bias (out,) float32, relu flag].
    Cost per call: 2·N·Σ in·out FLOPs; one (N, out) float32 array per layer; no graph.
    """

    def __init__(self, layers):
        self.layers = [
            [np.ascontiguousarray(w, dtype=np.float32), np.asarray(b, dtype=np.float32), bool(r)]
            for w, b, r in layers
        ]

    @property
    def model_bytes(self) -> int:
        """Bytes of the weights and biases."""
        return int(sum(w.nbytes + b.nbytes for w, b, _ in self.layers))

    def __call__(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        ### BEGIN SOLUTION 20.2
        for weight, bias, relu in self.layers:
            x = x @ weight + bias
            if relu:
                x = np.maximum(x, 0.0)
        return x
        ### END SOLUTION

    def __repr__(self) -> str:
        shapes = ", ".join(
            f"{w.shape[0]}→{w.shape[1]}{'+relu' if r else ''}" for w, _, r in self.layers
        )
        return f"FrozenMLP({shapes}; {self.model_bytes:,} bytes)"


def freeze(model) -> FrozenMLP:
    """FrozenMLP with copies of the weights of a Sequential of Linear and ReLU layers.
    Cost: one copy of every parameter (parameter_bytes(model) new bytes)."""
    layers = []
    ### BEGIN SOLUTION 20.2
    for position, layer in enumerate(getattr(model, "layers", [model])):
        if isinstance(layer, Linear):
            bias = layer.bias.data if layer.bias is not None else np.zeros(layer.out_features)
            layers.append([layer.weight.data.copy(), np.array(bias, dtype=np.float32), False])
        elif isinstance(layer, ReLU) and layers:
            layers[-1][2] = True
        else:
            raise TypeError(
                f"freeze supports Linear layers, each optionally followed by ReLU; layer "
                f"{position} is a {type(layer).__name__}. Remove it, or extend freeze() to it."
            )
    ### END SOLUTION
    return FrozenMLP(layers)


# %% [markdown]
# ## 20.3 — int8 weights
#
# A float32 weight takes 4 bytes; an int8 takes 1. Module 15's `QuantizedLinear`
# stores its weights with one symmetric scale per output column; do the same on the
# frozen arrays, so the result stays a plain NumPy program. Store each weight column j
# (the weights feeding output j) as small integers q with one float32 scale:
#
#     scale_j = max_i |w[i, j]| / 127          (1.0 if the column is all zeros)
#     q[i, j] = round(w[i, j] / scale_j), clipped to [−127, 127], stored as int8
#     w[i, j] ≈ q[i, j] · scale_j              error at most scale_j / 2
#
# Because every entry of column j shares scale_j, the product factors:
# x @ (q · scale) = (x @ q) · scale — multiply by the integers (converted to float32
# for NumPy's matmul), then scale the outputs. The model shrinks to about a quarter;
# each call pays for converting q back to float32, which for a small MLP costs far
# less than the Tensor machinery the frozen model already dropped.


# %%
class QuantizedMLP:
    """FrozenMLP with int8 weights: layers of [q (in, out) int8, scale (out,) float32,
    bias (out,) float32, relu flag]. Cost per call: the FrozenMLP's FLOPs plus one
    int8 → float32 conversion per weight (4·in·out temporary bytes per layer)."""

    def __init__(self, layers):
        self.layers = [list(layer) for layer in layers]

    @property
    def model_bytes(self) -> int:
        """Bytes stored: int8 weights + float32 scales + float32 biases."""
        ### BEGIN SOLUTION 20.3
        return int(sum(q.nbytes + scale.nbytes + b.nbytes for q, scale, b, _ in self.layers))
        ### END SOLUTION

    def __call__(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        ### BEGIN SOLUTION 20.3
        for q, scale, bias, relu in self.layers:
            x = (x @ q.astype(np.float32)) * scale + bias
            if relu:
                x = np.maximum(x, 0.0)
        return x
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"QuantizedMLP({len(self.layers)} layers; {self.model_bytes:,} bytes)"


def quantize_int8(frozen: FrozenMLP) -> QuantizedMLP:
    """int8 copy of a FrozenMLP with one float32 scale per output column; biases stay
    float32. Cost: one pass over the weights; in·out bytes + 8·out bytes per layer."""
    layers = []
    ### BEGIN SOLUTION 20.3
    for weight, bias, relu in frozen.layers:
        largest = np.max(np.abs(weight), axis=0)
        scale = np.where(largest > 0, largest / 127.0, 1.0).astype(np.float32)
        q = np.clip(np.round(weight / scale), -127, 127).astype(np.int8)
        layers.append([q, scale, bias.copy(), relu])
    ### END SOLUTION
    return QuantizedMLP(layers)


# %% [markdown]
# ## 20.4 — Measure a variant
#
# Baseline and optimized variant must be measured by the same code, so both are
# given as a `predict` function: (batch of inputs as a float32 array) → logits.
# For the Tensor model, `tensor_predict(model)` (given) wraps it.
#
# * **accuracy** and **peak memory**: one pass over all of x in consecutive batches
#   of `batch_size`, inside Module 14's `measure_memory`, whose result is the stacked
#   logits; accuracy is the share of rows whose largest logit is the label.
# * **latency**: Module 19's `measure` on the first batch, x[:batch_size], with
#   `warmup` untimed and `repeats` timed calls; `summarize` the durations in
#   milliseconds for p50 and p99.
# * **throughput**: samples in that batch / median seconds per call.
# * **model_bytes**: passed in, because only the caller knows how the model is stored.


# %%
def tensor_predict(model) -> Callable[[np.ndarray], np.ndarray]:
    """predict(batch) for a Tensor model: logits of model(Tensor(batch)), no graph built."""

    def predict(batch: np.ndarray) -> np.ndarray:
        with no_grad():
            return model(Tensor(batch)).data

    return predict


def _predict_all(predict, x: np.ndarray, batch_size: int) -> np.ndarray:
    """Logits of every row of x, batch_size rows per call, in order."""
    ### BEGIN SOLUTION 20.4
    return np.concatenate(
        [
            np.asarray(predict(x[start : start + batch_size]))
            for start in range(0, len(x), batch_size)
        ]
    )
    ### END SOLUTION


def measure_variant(
    predict: Callable,
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    repeats: int,
    warmup: int,
    model_bytes: int,
    clock: Callable[[], float] = time.perf_counter,
) -> dict:
    """Every metric of one variant, measured now:
    {"accuracy", "latency_p50_ms", "latency_p99_ms", "throughput_samples_per_s",
    "peak_memory_bytes", "model_bytes"}. x (N, features) float32, y (N,) integer labels.
    Cost: one pass over x, then warmup + repeats calls on one batch."""
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y need the same, non-zero length, got {len(x)} and {len(y)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size!r}")
    ### BEGIN SOLUTION 20.4
    memory = measure_memory(_predict_all, predict, x, batch_size)
    logits = memory.result
    accuracy = float(np.mean(np.argmax(logits, axis=1) == y))
    batch = x[:batch_size]
    durations = measure(predict, batch, repeats=repeats, warmup=warmup, clock=clock)
    latency = summarize(durations * 1000.0)
    median_seconds = latency.median / 1000.0
    return {
        "accuracy": accuracy,
        "latency_p50_ms": latency.p50,
        "latency_p99_ms": latency.p99,
        "throughput_samples_per_s": len(batch) / median_seconds if median_seconds > 0 else math.inf,
        "peak_memory_bytes": int(memory.peak_bytes),
        "model_bytes": int(model_bytes),
    }
    ### END SOLUTION


# %% [markdown]
# ## 20.5 — The submission document
#
# The ratios say in one line what the optimization bought:
#
#     speedup_p50       = baseline latency_p50_ms / optimized latency_p50_ms    (> 1: faster)
#     throughput_ratio  = optimized throughput / baseline throughput
#     model_size_ratio  = baseline model_bytes / optimized model_bytes          (> 1: smaller)
#     accuracy_delta    = optimized accuracy − baseline accuracy                (≤ 0: lost)
#
# JSON has no NaN or infinity, and a NaN latency is a bug in the harness, not a
# result: refuse any metric that is not a finite number with a ValueError naming the
# variant and the metric (`baseline.latency_p50_ms`). Then assemble:
#
#     {"schema": SUBMISSION_SCHEMA, "created": ISO time in UTC, "submitter": ...,
#      "system": environment(), "model": ..., "dataset": ..., "profile": ...,
#      "baseline": {"variant": ..., **metrics}, "optimized": {"variant": ...,
#      "techniques": [...], **metrics}, "improvement": improvement(...), "run": ...}


# %%
def improvement(baseline: dict, optimized: dict) -> dict:
    """The four ratios above from two metric dicts (see measure_variant)."""
    ### BEGIN SOLUTION 20.5
    return {
        "speedup_p50": baseline["latency_p50_ms"] / optimized["latency_p50_ms"],
        "throughput_ratio": optimized["throughput_samples_per_s"]
        / baseline["throughput_samples_per_s"],
        "model_size_ratio": baseline["model_bytes"] / optimized["model_bytes"],
        "accuracy_delta": optimized["accuracy"] - baseline["accuracy"],
    }
    ### END SOLUTION


def _check_metrics(name: str, metrics: dict) -> None:
    """ValueError naming `name.metric` for a missing metric or one that is not finite."""
    ### BEGIN SOLUTION 20.5
    for metric in METRICS:
        if metric not in metrics:
            raise ValueError(
                f"{name}.{metric} is missing: measure_variant returns all of {METRICS}"
            )
        value = metrics[metric]
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise ValueError(f"{name}.{metric} must be a number, got {value!r}")
        if not math.isfinite(float(value)):
            raise ValueError(
                f"{name}.{metric} is {value}: every figure must be a finite measured number "
                f"(a zero duration gives an infinite throughput — time more work per call)"
            )
    ### END SOLUTION


def build_submission(
    *,
    submitter: str,
    model: dict,
    dataset: dict,
    profile: list[dict],
    baseline: dict,
    optimized: dict,
    run: dict,
    system: dict | None = None,
    created: str | None = None,
) -> dict:
    """The submission document (schema SUBMISSION_SCHEMA, see the course's
    grading/schemas/submission.schema.json). baseline and optimized are metric dicts
    with an added "variant" name (and "techniques" for optimized). system defaults to
    environment() of this machine, created to the current UTC time."""
    if system is None:
        system = environment()
    if created is None:
        created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    ### BEGIN SOLUTION 20.5
    _check_metrics("baseline", baseline)
    _check_metrics("optimized", optimized)
    return {
        "schema": SUBMISSION_SCHEMA,
        "created": created,
        "submitter": submitter,
        "system": dict(system),
        "model": dict(model),
        "dataset": dict(dataset),
        "profile": [dict(row) for row in profile],
        "baseline": dict(baseline),
        "optimized": dict(optimized),
        "improvement": improvement(baseline, optimized),
        "run": dict(run),
    }
    ### END SOLUTION


# %% [markdown]
# ## 20.6 — Does it reproduce?
#
# Run the whole pipeline twice on the same saved model and compare:
#
# * **accuracy** of each variant: the same computation on the same data, so it must
#   agree to within `accuracy_abs` (0.0 by default: exactly);
# * **model_bytes**: exactly;
# * **latency p50**: timing noise is real, so only within a factor:
#   1 / latency_factor ≤ first / second ≤ latency_factor;
# * the **model**, **dataset** and **run** sections: equal (else the two runs did not
#   measure the same thing).
#
# Return one message per disagreement, naming the field and both values; an empty
# list means the result reproduced.


# %%
def check_reproduced(first: dict, second: dict, tolerances: dict | None = None) -> list[str]:
    """Messages for every way `second` fails to reproduce `first`; [] if it does.
    tolerances: {"accuracy_abs": float, "latency_factor": float} (DEFAULT_TOLERANCES)."""
    limits = {**DEFAULT_TOLERANCES, **(tolerances or {})}
    problems = []
    ### BEGIN SOLUTION 20.6
    for section in ("model", "dataset", "run"):
        if first.get(section) != second.get(section):
            problems.append(
                f"{section} differs between the runs: {first.get(section)} vs {second.get(section)}"
            )
    for variant in ("baseline", "optimized"):
        a, b = first[variant], second[variant]
        if abs(a["accuracy"] - b["accuracy"]) > limits["accuracy_abs"]:
            problems.append(
                f"{variant}.accuracy {a['accuracy']} vs {b['accuracy']} differs by more than "
                f"{limits['accuracy_abs']}"
            )
        if a["model_bytes"] != b["model_bytes"]:
            problems.append(f"{variant}.model_bytes {a['model_bytes']} vs {b['model_bytes']}")
        ratio = a["latency_p50_ms"] / b["latency_p50_ms"]
        factor = limits["latency_factor"]
        if not 1.0 / factor <= ratio <= factor:
            problems.append(
                f"{variant}.latency_p50_ms {a['latency_p50_ms']:.4g} vs {b['latency_p50_ms']:.4g}: "
                f"ratio {ratio:.2f} outside 1/{factor:g}..{factor:g}"
            )
    ### END SOLUTION
    return problems


# %% [markdown]
# ## The pipeline (given)
#
# `run_pipeline` is the four steps in order, built from your exercises and Modules
# 14 and 19. Milestone 6 calls it with your TinyDigits model; you can call it with
# any Linear/ReLU classifier and data of your own.


# %%
def run_pipeline(
    model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    dataset_name: str,
    split: str = "test",
    num_classes: int | None = None,
    submitter: str = "anonymous",
    model_name: str = "mlp",
    training: dict | None = None,
    seed: int = 0,
    batch_size: int = 64,
    repeats: int = 30,
    warmup: int = 3,
    tolerances: dict | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> dict:
    """Profile → Optimize → Benchmark → Submit on (x, y); returns the submission dict.
    Every number in it is measured in this call (only the arguments are copied in)."""
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y)
    # 1. Profile the trained model on one batch.
    rows = profile_layers(model, Tensor(x[:batch_size]), warmup=1, repeats=3, clock=clock)
    profile, _ = profile_table(rows)  # the hotspot is the row with the largest share
    # 2. Optimize: freeze, then int8 weights.
    optimized_model = quantize_int8(freeze(model))
    # 3. Benchmark both variants with the same code.
    settings = {"batch_size": batch_size, "repeats": repeats, "warmup": warmup, "clock": clock}
    baseline = measure_variant(
        tensor_predict(model), x, y, model_bytes=parameter_bytes(model), **settings
    )
    optimized = measure_variant(
        optimized_model, x, y, model_bytes=optimized_model.model_bytes, **settings
    )
    # 4. Submit.
    description = describe_model(model, model_name)
    if training:
        description["training"] = dict(training)
    classes = int(num_classes if num_classes is not None else int(np.max(y)) + 1)
    return build_submission(
        submitter=submitter,
        model=description,
        dataset={
            "name": dataset_name,
            "split": split,
            "samples": len(x),
            "features": int(x.shape[1]),
            "classes": classes,
        },
        profile=profile,
        baseline={"variant": "tinytorch Tensor model, float32", **baseline},
        optimized={
            "variant": "frozen NumPy MLP, int8 weights",
            "techniques": ["freeze", "int8 weights"],
            **optimized,
        },
        run={
            "seed": seed,
            "batch_size": batch_size,
            "repeats": repeats,
            "warmup": warmup,
            "tolerances": {**DEFAULT_TOLERANCES, **(tolerances or {})},
        },
    )


# %% [markdown]
# ## Try it
#
# Run this file (`python modules/20_capstone/capstone.py`) for the pipeline on a
# small MLP trained for a few steps on synthetic data. Milestone 6 (`tiny milestone
# 6`) does the real thing on TinyDigits.

# %%
if __name__ == "__main__":
    import json

    from tinytorch.core import enable_autograd
    from tinytorch.nn import CrossEntropyLoss, Sequential
    from tinytorch.optim import Adam

    enable_autograd()
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(4, 16)) * 3
    labels = rng.integers(0, 4, size=600)
    inputs = (centers[labels] + rng.normal(size=(600, 16))).astype(np.float32)
    net = Sequential(Linear(16, 32, rng=0), ReLU(), Linear(32, 4, rng=1))
    adam, loss_fn = Adam(net.parameters(), lr=0.02), CrossEntropyLoss()
    for _ in range(100):
        batch = rng.integers(0, 400, size=32)
        adam.zero_grad()
        loss_fn(net(Tensor(inputs[batch])), Tensor(labels[batch])).backward()
        adam.step()
    result = run_pipeline(net, inputs[400:], labels[400:], dataset_name="four blobs", repeats=20)
    print(json.dumps({k: result[k] for k in ("baseline", "optimized", "improvement")}, indent=2))
