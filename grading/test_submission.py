"""The submission validator: valid documents pass; NaN, infinity, a missing field and a
wrong type are each rejected with the field named — by jsonschema and by the built-in
validator alike (student templates have no jsonschema)."""

from __future__ import annotations

import copy
import json

import pytest

from grading.submission import (
    SubmissionError,
    dump_submission,
    example_submission,
    load_submission,
    parse_submission,
    validate_submission,
    write_submission,
)

BOTH = pytest.mark.parametrize("use_jsonschema", [True, False], ids=["jsonschema", "builtin"])


def changed(path: str, value=None, delete: bool = False) -> dict:
    """example_submission() with the dotted field `path` set to value (or deleted)."""
    document = example_submission()
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if delete:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return document


@BOTH
def test_a_valid_submission_passes(use_jsonschema):
    document = example_submission()
    assert validate_submission(document, use_jsonschema=use_jsonschema) is document
    text = dump_submission(document)
    assert parse_submission(text, use_jsonschema=use_jsonschema) == document


@BOTH
@pytest.mark.parametrize(
    "field", ["optimized.latency_p50_ms", "baseline.accuracy", "improvement.speedup_p50"]
)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_are_rejected_by_field(use_jsonschema, field, value):
    with pytest.raises(SubmissionError) as caught:
        validate_submission(changed(field, value), use_jsonschema=use_jsonschema)
    assert caught.value.field == field and "NaN or infinite" in str(caught.value)


@BOTH
@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_json_nan_tokens_in_text_are_rejected_by_field(use_jsonschema, token):
    text = dump_submission(example_submission()).replace(
        '"peak_memory_bytes": 200000', f'"peak_memory_bytes": {token}', 1
    )
    assert token in text
    with pytest.raises(SubmissionError) as caught:
        parse_submission(text, "submission.json", use_jsonschema=use_jsonschema)
    assert caught.value.field == "baseline.peak_memory_bytes"
    assert str(caught.value).startswith("submission.json: field baseline.peak_memory_bytes")


@BOTH
@pytest.mark.parametrize(
    "field",
    ["system.cpu", "baseline.latency_p99_ms", "optimized.techniques", "run.seed", "dataset"],
)
def test_a_missing_field_is_named(use_jsonschema, field):
    with pytest.raises(SubmissionError) as caught:
        validate_submission(changed(field, delete=True), use_jsonschema=use_jsonschema)
    assert caught.value.field == field and "missing" in str(caught.value)


@BOTH
@pytest.mark.parametrize(
    "field, value",
    [
        ("system.cores", "2"),
        ("baseline.accuracy", "0.9"),
        ("optimized.model_bytes", 12.5),
        ("run.batch_size", True),
        ("optimized.techniques", "int8"),
        ("profile.0.flops", None),
        ("submitter", 7),
    ],
)
def test_a_wrong_type_is_named(use_jsonschema, field, value):
    with pytest.raises(SubmissionError) as caught:
        validate_submission(changed(field, value), use_jsonschema=use_jsonschema)
    expected = field.replace(".0.", "[0].")
    assert caught.value.field == expected, str(caught.value)


@BOTH
@pytest.mark.parametrize(
    "field, value",
    [
        ("schema", "tinytorch/submission/v2"),
        ("baseline.accuracy", 1.5),
        ("optimized.latency_p50_ms", 0.0),
        ("system.cores", 0),
        ("dataset.classes", 1),
    ],
)
def test_values_out_of_range_are_named(use_jsonschema, field, value):
    with pytest.raises(SubmissionError) as caught:
        validate_submission(changed(field, value), use_jsonschema=use_jsonschema)
    assert caught.value.field == field


@BOTH
def test_an_unexpected_field_is_named(use_jsonschema):
    document = example_submission()
    document["baseline"]["score"] = 1.0
    with pytest.raises(SubmissionError) as caught:
        validate_submission(document, use_jsonschema=use_jsonschema)
    assert caught.value.field == "baseline.score"


@pytest.mark.parametrize(
    "field, value",
    [
        ("improvement.speedup_p50", 5.0),  # hand-edited: the latencies say 4.0
        ("improvement.accuracy_delta", 0.0),
        ("optimized.throughput_samples_per_s", 1.0),
        ("baseline.latency_p99_ms", 1.0),  # below its p50 of 2.0
    ],
)
def test_numbers_that_contradict_each_other_are_named(field, value):
    with pytest.raises(SubmissionError) as caught:
        validate_submission(changed(field, value))
    assert caught.value.field == field


def test_invalid_json_and_files(tmp_path):
    with pytest.raises(SubmissionError) as caught:
        parse_submission("{", "broken.json")
    assert "not valid JSON" in str(caught.value) and "broken.json" in str(caught.value)
    path = write_submission(example_submission(), tmp_path / "out" / "submission.json")
    assert load_submission(path) == example_submission()
    assert "NaN" not in path.read_text() and json.loads(path.read_text())["schema"]
    with pytest.raises(SubmissionError):
        write_submission(changed("baseline.accuracy", float("nan")), tmp_path / "bad.json")
    assert not (tmp_path / "bad.json").exists(), "an invalid document is never written"
    with pytest.raises(SubmissionError) as caught:
        load_submission(tmp_path / "missing.json")
    assert "cannot read" in str(caught.value)


def test_the_builtin_validator_refuses_keywords_it_does_not_implement(monkeypatch):
    from grading import submission

    schema = copy.deepcopy(submission.load_schema())
    schema["properties"]["submitter"]["pattern"] = "^[a-z]+$"
    monkeypatch.setattr(submission, "load_schema", lambda: schema)
    with pytest.raises(ValueError, match="pattern"):
        validate_submission(example_submission(), use_jsonschema=False)


def test_the_capstone_output_is_a_valid_submission():
    """Module 20's build_submission and this schema describe the same document."""
    import numpy as np

    from tinytorch.capstone import build_submission, improvement

    example = example_submission()
    built = build_submission(
        **{k: example[k] for k in ("submitter", "model", "dataset", "profile", "baseline")},
        optimized=example["optimized"],
        run=example["run"],
        created=example["created"],
    )
    assert built["improvement"] == improvement(example["baseline"], example["optimized"])
    validate_submission(built)
    validate_submission(built, use_jsonschema=False)
    assert np.isfinite(built["improvement"]["speedup_p50"])
