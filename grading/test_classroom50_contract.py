"""Our result.json against Classroom 50's *published* contract, not only our own schema.

PUBLISHED is our own restatement of foundation50/classroom50 `schemas/result-v1.schema.json`
(commit 6e593c79, the file Classroom 50 publishes as the result.json contract) and of the
rules its runner enforces in code (`runner.py` `validate_result`): the same required
fields, the same refusal of unknown top-level fields (that is what rejected `usernames`),
the same patterns and enums. Only the structure is restated, none of their code: if
Classroom 50 changes the contract, this file and grading/schemas/classroom50_result.v1
change together.
"""

from __future__ import annotations

import datetime as dt

import pytest

from grading import classroom50
from grading.schemas import can_validate
from grading.test_platforms import ENV, NOW, sample_results

jsonschema = pytest.importorskip("jsonschema") if can_validate() else None
STAMP = r"^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$"
PUBLISHED = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "schema", "classroom", "assignment", "assignment_type", "owner", "submission",
        "commit", "release", "review", "datetime", "score", "max-score", "tests",
    ],
    "properties": {
        "schema": {"const": "classroom50/result/v1"},
        "classroom": {"type": "string", "minLength": 1},
        "assignment": {"type": "string", "minLength": 1},
        "assignment_type": {"enum": ["individual", "group"]},
        "owner": {"type": "string", "minLength": 1},
        "submission": {"type": "string", "pattern": "^submit/"},
        "commit": {"type": "string", "minLength": 1},
        "release": {"type": "string", "minLength": 1},
        "review": {"type": "string", "minLength": 1},
        "datetime": {"type": "string", "pattern": STAMP},
        "graded_at": {"type": "string", "pattern": STAMP},
        "score": {"type": "integer", "minimum": 0},
        "max-score": {"type": "integer", "minimum": 0},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["test-name", "passed", "score", "max-score"],
                "properties": {
                    "test-name": {"type": "string", "minLength": 1},
                    "passed": {"type": "boolean"},
                    "score": {"type": "integer", "minimum": 0},
                    "max-score": {"type": "integer", "minimum": 0},
                },
            },
        },
        "submitted_by": {
            "type": "object",
            "additionalProperties": False,
            "required": ["username"],
            "properties": {
                "username": {"type": "string", "minLength": 1},
                "id": {"type": ["integer", "null"]},
            },
        },
    },
}  # fmt: skip


def runner_problems(payload: dict, owner: str, kind: str = "individual") -> list[str]:
    """The cross-field checks Classroom 50's runner makes after the schema (restated)."""
    problems = []
    if payload["owner"].lower() != owner.lower():
        problems.append("owner is not the repository owner")
    if payload["assignment_type"] != kind:
        problems.append("assignment_type is not the assignment's mode")
    if payload["score"] > payload["max-score"]:
        problems.append("score above max-score")
    problems += [t["test-name"] for t in payload["tests"] if t["score"] > t["max-score"]]
    return problems


def published_errors(payload: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(PUBLISHED)
    return [error.message for error in validator.iter_errors(payload)]


needs_jsonschema = pytest.mark.skipif(jsonschema is None, reason="jsonschema not installed")


@needs_jsonschema
def test_our_result_passes_the_published_schema_and_the_runners_checks():
    payload = classroom50.classroom50_result(
        sample_results(), classroom50.identity_from_env(ENV), NOW
    )
    assert published_errors(payload) == []
    assert runner_problems(payload, owner="alice") == []
    assert payload["datetime"] == payload["graded_at"] == "2027-03-01T17:30:05Z"


@needs_jsonschema
def test_the_published_schema_refuses_what_the_old_adapter_wrote():
    """The check can fail: `usernames` (our earlier output) and a missing owner are refused,
    as Classroom 50 refused them."""
    payload = classroom50.classroom50_result(
        sample_results(), classroom50.identity_from_env(ENV), NOW
    )
    old = {k: v for k, v in payload.items() if k not in ("owner", "assignment_type")}
    old["usernames"] = ["alice"]
    errors = " | ".join(published_errors(old))
    assert "'usernames' was unexpected" in errors
    assert "'owner' is a required property" in errors


@needs_jsonschema
def test_owner_and_mode_come_from_the_runner_environment():
    environ = {**ENV, "OWNER": "group-7-founder", "ASSIGNMENT_TYPE": "group"}
    payload = classroom50.classroom50_result(
        sample_results(), classroom50.identity_from_env(environ), NOW
    )
    assert (payload["owner"], payload["assignment_type"]) == ("group-7-founder", "group")
    assert published_errors(payload) == []
    assert runner_problems(payload, owner="group-7-founder", kind="group") == []
    team = classroom50.identity_from_env({**ENV, "ASSIGNMENT_TYPE": "team"})
    assert team.assignment_type == "group", "a mode the published schema lacks stays valid"


def test_utc_stamps_never_carry_an_offset():
    later = dt.datetime(2027, 3, 1, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert classroom50.utc_stamp(later) == "2027-03-02T04:59:59Z"
