"""The grading plugin, run by pytest itself (pytester): points, mislabelled tests, stream."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from grading.course_config import dump_course_config, load_course_config
from grading.repo import REPO_ROOT

pytest_plugins = ("pytester",)

MODULE_YAML = """\
number: 1
slug: demo
title: Demo
tier: foundation
source: demo.py
tests: test_01_demo.py
exports: {}
exercises:
  - {id: "01.1", name: first, points: 10}
  - {id: "01.2", name: second, points: 5}
"""
TESTS = """\
import os
import pytest

@pytest.mark.exercise("01.1")
def test_01_1_a():
    pass

@pytest.mark.exercise("01.1")
def test_01_1_b():
    assert 1 == 2, "one is not two"

@pytest.mark.exercise("01.1")
def test_01_1_c():
    pass

@pytest.mark.exercise("01.2")
def test_01_2_a():
    CRASH

@pytest.mark.integration
def test_across_modules():
    pass
"""


def make_module(pytester: pytest.Pytester, tests: str = TESTS, crash: str = "pass") -> Path:
    folder = pytester.mkdir("01_demo")
    (folder / "module.yaml").write_text(MODULE_YAML)
    (folder / "demo.py").write_text("")
    (folder / "test_01_demo.py").write_text(tests.replace("CRASH", crash))
    return folder / "test_01_demo.py"


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p", "grading.sandbox.plugin", "-p", "no:cacheprovider", *args
    )


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_points_are_split_evenly_in_file_order_into_the_json_report(pytester):
    tests = make_module(pytester)
    result = run(pytester, str(tests), "--json-report", "--json-report-file=report.json")
    result.assert_outcomes(passed=4, failed=1)
    report = json.loads((pytester.path / "report.json").read_text())
    points = {t["nodeid"].split("::")[1]: t.get("metadata", {}) for t in report["tests"]}
    assert [points[f"test_01_1_{x}"]["points"] for x in "abc"] == [4, 3, 3]
    assert points["test_01_2_a"] == {"exercise": "01.2", "label": "01.2 second", "points": 5}
    assert points["test_across_modules"] == {}


def test_a_test_without_exercise_marker_is_a_usage_error(pytester):
    tests = make_module(pytester, TESTS.replace("@pytest.mark.integration\n", ""))
    result = run(pytester, str(tests))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*graded tests are mislabelled*", "*test_across_modules*"])


def test_an_unknown_exercise_id_is_a_usage_error(pytester):
    tests = make_module(pytester, TESTS.replace('exercise("01.2")', 'exercise("01.9")'))
    result = run(pytester, str(tests))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*no exercise '01.9'*"])


def test_stream_records_collection_and_every_finished_test(pytester):
    tests = make_module(pytester)
    result = run(pytester, str(tests), "--grade-stream", "events.jsonl")
    result.assert_outcomes(passed=4, failed=1)
    events = read_lines(pytester.path / "events.jsonl")
    kinds = [e["event"] for e in events]
    assert kinds[:2] == ["begin", "collected"] and kinds[-1] == "end"
    assert kinds.count("start") == kinds.count("finish") == 5
    collected = events[1]["tests"]
    assert [t["points"] for t in collected] == [4, 3, 3, 5, 0]
    failed = next(e for e in events if e["event"] == "finish" and e["outcome"] == "failed")
    assert failed["nodeid"].endswith("test_01_1_b")
    assert failed["message"].startswith("AssertionError: one is not two")


def test_stream_survives_os_exit_and_shows_the_running_test(pytester, monkeypatch):
    tests = make_module(pytester, crash="os._exit(3)")
    monkeypatch.setenv("TINYTORCH_GRADE_STREAM", str(pytester.path / "events.jsonl"))
    result = run(pytester, str(tests), "--json-report", "--json-report-file=report.json")
    assert result.ret == 3, "the process ended in the middle of the run"
    assert not (pytester.path / "report.json").exists(), "pytest-json-report never wrote"
    events = read_lines(pytester.path / "events.jsonl")
    assert [e["outcome"] for e in events if e["event"] == "finish"] == [
        "passed",
        "failed",
        "passed",
    ]
    assert events[-1] == {"event": "start", "nodeid": events[-1]["nodeid"]}
    assert events[-1]["nodeid"].endswith("test_01_2_a")


def test_stream_marks_setup_failures_as_error(pytester):
    tests = make_module(
        pytester,
        TESTS + '\n@pytest.fixture\ndef broken():\n    raise RuntimeError("no")\n\n'
        '@pytest.mark.exercise("01.2")\ndef test_01_2_b(broken):\n    pass\n',
    )
    run(pytester, str(tests), "--grade-stream", "events.jsonl")
    last = [e for e in read_lines(pytester.path / "events.jsonl") if e["event"] == "finish"][-1]
    assert last["outcome"] == "error" and "RuntimeError: no" in last["message"]


def test_course_config_overrides_module_points(pytester):
    tests = make_module(pytester)
    course = load_course_config(REPO_ROOT / "template" / "course.yaml")
    path = dump_course_config(
        dataclasses.replace(course, points={"01.1": 9}), pytester.path / "course.yaml"
    )
    run(pytester, str(tests), "--grade-stream", "events.jsonl", "--course-config", str(path))
    collected = read_lines(pytester.path / "events.jsonl")[1]["tests"]
    assert [t["points"] for t in collected] == [3, 3, 3, 5, 0]
