"""Capstone submissions (`tinytorch/submission/v1`): parse, validate, write — at every boundary.

One schema, grading/schemas/submission.schema.json, describes the document that Module 20's
pipeline builds and Milestone 6 writes; `tiny leaderboard` reads it. Everything here is pure
apart from `load_submission` / `write_submission`, which read or write one file.

Validation, in order, stopping at the first problem (SubmissionError names the field, e.g.
`optimized.latency_p50_ms` or `profile[2].share`, and where the document came from):
1. finiteness: NaN and ±infinity are refused wherever they occur, including the `NaN`,
   `Infinity` and `-Infinity` tokens that Python's json module writes and reads but
   JSON does not allow;
2. structure: the JSON schema — with `jsonschema` when it is importable (course repository,
   dev extra), else with the small validator below, which implements exactly the keywords
   this schema uses and refuses any other (so it can never check less than it claims);
   student templates install only the runtime dependencies, so Milestone 6 validates there too;
3. consistency: p99 >= p50, throughput = batch samples / p50, and the `improvement` ratios
   agree with the two variants' metrics — numbers copied by hand rarely do.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

SCHEMA_ID = "tinytorch/submission/v1"
SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "submission.schema.json"
RELATIVE_TOLERANCE = 1e-6  # for ratios recomputed from the metrics
METRIC_NAMES = (
    "accuracy",
    "latency_p50_ms",
    "latency_p99_ms",
    "throughput_samples_per_s",
    "peak_memory_bytes",
    "model_bytes",
)


class SubmissionError(ValueError):
    """A submission that is not valid; `field` is the dotted path of the first problem."""

    def __init__(self, field: str, message: str, where: str = "") -> None:
        self.field, self.where = field, where
        origin = f"{where}: " if where else ""
        super().__init__(f"{origin}field {field}: {message}")


@cache
def load_schema() -> dict:
    """The parsed submission schema."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def dotted(path) -> str:
    """('profile', 2, 'share') -> 'profile[2].share'; () -> '(top level)'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


# ---- 1. finiteness ------------------------------------------------------------------------


def non_finite_fields(document, path=()) -> list[str]:
    """Dotted paths of every float in `document` that is NaN or infinite."""
    if isinstance(document, float):
        return [] if math.isfinite(document) else [dotted(path)]
    if isinstance(document, dict):
        return [
            f for key, value in document.items() for f in non_finite_fields(value, (*path, key))
        ]
    if isinstance(document, list):
        return [f for i, value in enumerate(document) for f in non_finite_fields(value, (*path, i))]
    return []


# ---- 2. structure: jsonschema, or the subset validator ----------------------------------------

# Keywords the subset validator checks, and keywords that only annotate.
CHECKED = {
    "type",
    "required",
    "properties",
    "additionalProperties",
    "const",
    "enum",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "minLength",
    "minItems",
    "items",
    "$ref",
}
ANNOTATIONS = {"$schema", "$id", "$defs", "title", "description"}


def _type_ok(value, kind: str) -> bool:
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "null":
        return value is None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return kind == "number" or isinstance(value, int) or float(value).is_integer()


def _resolve(ref: str, root: dict) -> dict:
    if not ref.startswith("#/"):
        raise ValueError(
            f"submission schema: only local $ref such as '#/$defs/x' are supported, got {ref!r}"
        )
    node = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def subset_errors(value, schema: dict, root: dict, path=()):
    """Yield (path, message) for each violation, in a fixed order (the first is reported)."""
    unknown = set(schema) - CHECKED - ANNOTATIONS
    if unknown:
        raise ValueError(
            f"submission schema uses {sorted(unknown)} at {dotted(path)}, which the built-in "
            f"validator does not implement: install jsonschema (pip install jsonschema)"
        )
    if "$ref" in schema:
        yield from subset_errors(value, _resolve(schema["$ref"], root), root, path)
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_type_ok(value, kind) for kind in kinds):
            yield path, f"{value!r} is not of type {' or '.join(map(repr, kinds))}"
            return
    if "const" in schema and value != schema["const"]:
        yield path, f"{schema['const']!r} was expected, got {value!r}"
    if "enum" in schema and value not in schema["enum"]:
        yield path, f"{value!r} is not one of {schema['enum']}"
    if _type_ok(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            yield path, f"{value} is less than the minimum of {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            yield path, f"{value} is greater than the maximum of {schema['maximum']}"
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            yield path, f"{value} is not greater than {schema['exclusiveMinimum']}"
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        yield path, f"{value!r} is shorter than {schema['minLength']} characters"
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            yield path, f"needs at least {schema['minItems']} items, got {len(value)}"
        if "items" in schema:
            for index, item in enumerate(value):
                yield from subset_errors(item, schema["items"], root, (*path, index))
    if isinstance(value, dict):
        for name in schema.get("required", ()):
            if name not in value:
                yield (*path, name), "is a required property and is missing"
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in properties:
                yield from subset_errors(item, properties[name], root, (*path, name))
            elif extra is False:
                yield (*path, name), "is not allowed here (unexpected property)"
            elif isinstance(extra, dict):
                yield from subset_errors(item, extra, root, (*path, name))


def _jsonschema_available() -> bool:
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        return False
    return True


def jsonschema_errors(document, schema: dict):
    """(path, message) pairs from jsonschema, first by document order; a missing or
    unexpected property is reported at its own path."""
    import jsonschema

    cls = jsonschema.validators.validator_for(schema)
    errors = sorted(
        cls(schema).iter_errors(document), key=lambda e: list(map(str, e.absolute_path))
    )
    for error in errors:
        path = tuple(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = [name for name in error.validator_value if name not in error.instance]
            yield (*path, missing[0]), "is a required property and is missing"
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = error.schema.get("properties", {})
            extra = [name for name in error.instance if name not in allowed]
            yield (*path, extra[0]), "is not allowed here (unexpected property)"
        else:
            yield path, error.message


# ---- 3. consistency ---------------------------------------------------------------------------


def _close(actual: float, expected: float, relative: float = RELATIVE_TOLERANCE) -> bool:
    return math.isclose(actual, expected, rel_tol=relative, abs_tol=1e-12)


def consistency_problems(document: dict) -> list[tuple[str, str]]:
    """(field, message) for numbers that contradict each other (schema-valid input)."""
    problems = []
    batch = min(document["run"]["batch_size"], document["dataset"]["samples"])
    for variant in ("baseline", "optimized"):
        metrics = document[variant]
        if metrics["latency_p99_ms"] < metrics["latency_p50_ms"]:
            problems.append(
                (
                    f"{variant}.latency_p99_ms",
                    f"{metrics['latency_p99_ms']} is below latency_p50_ms "
                    f"{metrics['latency_p50_ms']}: a 99th percentile is never below the median",
                )
            )
        expected = batch * 1000.0 / metrics["latency_p50_ms"]
        if not _close(metrics["throughput_samples_per_s"], expected):
            problems.append(
                (
                    f"{variant}.throughput_samples_per_s",
                    f"{metrics['throughput_samples_per_s']} disagrees with {batch} samples per "
                    f"call at latency_p50_ms {metrics['latency_p50_ms']} (= {expected:.6g})",
                )
            )
    base, opt = document["baseline"], document["optimized"]
    expected_ratios = {
        "speedup_p50": base["latency_p50_ms"] / opt["latency_p50_ms"],
        "throughput_ratio": opt["throughput_samples_per_s"] / base["throughput_samples_per_s"],
        "model_size_ratio": base["model_bytes"] / opt["model_bytes"],
    }
    for name, expected in expected_ratios.items():
        if not _close(document["improvement"][name], expected):
            problems.append(
                (
                    f"improvement.{name}",
                    f"{document['improvement'][name]} disagrees with the metrics ({expected:.6g})",
                )
            )
    delta = opt["accuracy"] - base["accuracy"]
    if abs(document["improvement"]["accuracy_delta"] - delta) > 1e-9:
        problems.append(
            (
                "improvement.accuracy_delta",
                f"{document['improvement']['accuracy_delta']} disagrees with the accuracies "
                f"({delta:.6g})",
            )
        )
    shares = [row["share"] for row in document["profile"]]
    if any(shares) and abs(sum(shares) - 1.0) > 1e-6:
        problems.append(("profile", f"the layers' shares add up to {sum(shares):.6g}, not 1"))
    return problems


# ---- the boundary ---------------------------------------------------------------------------


def validate_submission(document, where: str = "", use_jsonschema: bool | None = None) -> dict:
    """Return `document` if it is a valid submission, else raise SubmissionError naming the
    first bad field. use_jsonschema: None = when importable, False = built-in validator."""
    for field in non_finite_fields(document):
        raise SubmissionError(
            field,
            "is NaN or infinite; JSON has no such numbers and every figure must be a finite "
            "measured value",
            where,
        )
    schema = load_schema()
    if use_jsonschema is None:
        use_jsonschema = _jsonschema_available()
    errors = (
        jsonschema_errors(document, schema)
        if use_jsonschema
        else subset_errors(document, schema, schema)
    )
    for path, message in errors:
        raise SubmissionError(dotted(path), message, where)
    for field, message in consistency_problems(document):
        raise SubmissionError(field, message, where)
    return document


def parse_submission(text: str, where: str = "", use_jsonschema: bool | None = None) -> dict:
    """Parse JSON text (NaN/Infinity tokens are read, then refused by name) and validate it."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise SubmissionError(
            "(top level)",
            f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})",
            where,
        ) from None
    return validate_submission(document, where, use_jsonschema)


def load_submission(path, use_jsonschema: bool | None = None) -> dict:
    """Read and validate one submission.json."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SubmissionError("(top level)", f"cannot read the file: {error}", str(path)) from None
    return parse_submission(text, str(path), use_jsonschema)


def dump_submission(document) -> str:
    """Validated, strict JSON text (never NaN or Infinity tokens), keys in document order."""
    validate_submission(document)
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def write_submission(document, path) -> Path:
    """Validate, then write `document` to `path` (parent folders created); return the path."""
    text = dump_submission(document)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def example_submission(
    submitter: str = "example",
    accuracy: float = 0.95,
    latency_p50_ms: float = 0.5,
    baseline_latency_p50_ms: float = 2.0,
    batch_size: int = 64,
) -> dict:
    """A valid, self-consistent submission with made-up figures: the schema by example,
    and the fixture of the tests. Not a measurement: never write it as a result."""

    def metrics(accuracy: float, p50: float, model_bytes: int) -> dict:
        return {
            "accuracy": accuracy,
            "latency_p50_ms": p50,
            "latency_p99_ms": p50 * 1.5,
            "throughput_samples_per_s": batch_size * 1000.0 / p50,
            "peak_memory_bytes": 200_000,
            "model_bytes": model_bytes,
        }

    baseline = {
        "variant": "tinytorch Tensor model, float32",
        **metrics(0.96, baseline_latency_p50_ms, 19_240),
    }
    optimized = {
        "variant": "frozen NumPy MLP, int8 weights",
        "techniques": ["freeze", "int8 weights"],
        **metrics(accuracy, latency_p50_ms, 5_328),
    }
    return {
        "schema": SCHEMA_ID,
        "created": "2027-05-01T12:00:00+00:00",
        "submitter": submitter,
        "system": {
            "python": "3.11.7",
            "numpy": "2.1.0",
            "cpu": "Example CPU",
            "cores": 2,
            "os": "Linux",
        },
        "model": {"name": "mlp", "architecture": "64-64-10 MLP", "parameters": 4810},
        "dataset": {
            "name": "tinydigits",
            "split": "test",
            "samples": 359,
            "features": 64,
            "classes": 10,
        },
        "profile": [
            {"name": "0:Linear", "flops": 524_288, "seconds": 0.0003, "share": 0.6},
            {"name": "1:ReLU", "flops": 0, "seconds": 0.0001, "share": 0.2},
            {"name": "2:Linear", "flops": 81_920, "seconds": 0.0001, "share": 0.2},
        ],
        "baseline": baseline,
        "optimized": optimized,
        "improvement": {
            "speedup_p50": baseline["latency_p50_ms"] / optimized["latency_p50_ms"],
            "throughput_ratio": optimized["throughput_samples_per_s"]
            / baseline["throughput_samples_per_s"],
            "model_size_ratio": baseline["model_bytes"] / optimized["model_bytes"],
            "accuracy_delta": optimized["accuracy"] - baseline["accuracy"],
        },
        "run": {
            "seed": 0,
            "batch_size": batch_size,
            "repeats": 30,
            "warmup": 3,
            "tolerances": {"accuracy_abs": 0.0, "latency_factor": 5.0},
        },
    }
