"""The grader's own reading of a pristine test file (grading/points.py) and its check of what
the test process reported (grading/observations.py): no process is started."""

from __future__ import annotations

from pathlib import Path

import pytest

from grading.course_modules import Exercise, ModuleMeta
from grading.observations import check_observations
from grading.points import UnreadableTestFile, assign_points, expected_tests
from grading.results import ModuleRun, RunLimits, passed_in_report

META = ModuleMeta(
    number=3,
    slug="demo",
    title="Demo",
    tier="foundation",
    folder=Path("modules/03_demo"),
    source="demo.py",
    tests="test_03_demo.py",
    prerequisites=(),
    exports={},
    terms=(),
    timeout=30,
    exercises=(Exercise("03.1", "one", 10, ""), Exercise("03.2", "two", 5, "")),
)
TESTS = """
import pytest

exercise = pytest.mark.exercise
CASES = [(1, 2), (3, 4), (5, 6)]


@exercise("03.1")
def test_a():
    pass


@pytest.mark.exercise("03.1")
@pytest.mark.parametrize("x, y", CASES)
def test_b(x, y):
    pass


@pytest.mark.integration
def test_together():
    pass


class TestMore:
    @exercise("03.2")
    def test_c(self):
        pass
"""
IDS = ["test_a", "test_b[1-2]", "test_b[3-4]", "test_b[5-6]", "test_together", "TestMore::test_c"]
LIMITS = RunLimits(30.0, 300.0, None)


@pytest.fixture
def expected(tmp_path):
    path = tmp_path / "test_03_demo.py"
    path.write_text(TESTS)
    return expected_tests(path)


def test_tests_markers_and_parametrized_counts_are_read_statically(expected):
    assert [(t.name, t.exercise, t.instances) for t in expected] == [
        ("test_a", "03.1", 1),
        ("test_b", "03.1", 3),
        ("test_together", None, 1),
        ("TestMore::test_c", "03.2", 1),
    ]


def test_points_are_split_by_the_grader_in_file_order(expected):
    points = assign_points(expected, IDS, META)
    assert {i: p.points for i, p in points.items()} == {
        "test_a": 3,
        "test_b[1-2]": 3,
        "test_b[3-4]": 2,
        "test_b[5-6]": 2,
        "test_together": 0,
        "TestMore::test_c": 5,
    }


@pytest.mark.parametrize(
    "ids, problem",
    [
        (IDS[:-1], "reported 0 runs of TestMore::test_c, the file defines 1"),
        ([*IDS, "test_b[7-8]"], "reported 4 runs of test_b, the file defines 3"),
        ([*IDS, "test_invented"], "a test the file does not define: test_invented"),
        ([*IDS, "test_a"], "reported a test twice"),
        (["test_a[x]", *IDS[1:]], "reported test_a[x], which the file does not define"),
    ],
)
def test_collected_ids_that_differ_from_the_file_are_named(expected, ids, problem):
    assert problem in assign_points(expected, ids, META)


def test_a_test_without_an_exercise_marker_is_a_course_bug(tmp_path):
    path = tmp_path / "test_x.py"
    path.write_text("def test_unlabelled():\n    pass\n")
    with pytest.raises(UnreadableTestFile, match="test_unlabelled has no @pytest.mark.exercise"):
        expected_tests(path)


def stream(*events) -> list[dict]:
    collected = [
        {"nodeid": f"modules/03_demo/test_03_demo.py::{i}", "lineno": 0} | CHILD_CLAIMS for i in IDS
    ]
    return [{"event": "begin"}, {"event": "collected", "tests": collected}, *events]


CHILD_CLAIMS = {"exercise": "03.1", "label": "03.1 one", "points": 1000}


def run_of(test_events) -> ModuleRun:
    return ModuleRun(limits=LIMITS, events=test_events, exit_code=0)


def node(test_id: str) -> str:
    return f"modules/03_demo/test_03_demo.py::{test_id}"


def passed(test_id: str) -> list[dict]:
    return [
        {"event": "start", "nodeid": node(test_id)},
        {"event": "finish", "nodeid": node(test_id), "outcome": "passed"},
    ]


def test_points_the_child_claims_are_ignored(expected):
    observed = check_observations(run_of(stream(*passed("test_a"))), expected, META)
    assert observed.findings == []
    assert [t["points"] for t in observed.collected] == [3, 3, 2, 2, 0, 5]


@pytest.mark.parametrize(
    "events, finding",
    [
        (passed("test_a") * 2, "a test started twice or without being collected"),
        ([passed("test_a")[1]], "a test finished twice or without starting"),
        ([*passed("test_a"), {"event": "end"}, *passed("test_b[1-2]")], "after the end"),
        ([{"event": "begin"}], "2 `begin` events in one run"),
        ([{"event": "tamper", "where": node("test_a"), "changed": ["numpy.allclose"]}], "numpy"),
    ],
)
def test_an_inconsistent_stream_is_a_finding(expected, events, finding):
    observed = check_observations(run_of(stream(*events)), expected, META)
    assert any(finding in f for f in observed.findings), observed.findings


def test_a_report_that_disagrees_with_the_stream_is_a_finding(expected):
    passed_call = {"outcome": "passed"}
    report = {"tests": [{"nodeid": node("test_a"), "outcome": "passed", "call": passed_call}]}
    events = stream({"event": "start", "nodeid": node("test_a")}, {"event": "end"})
    run = ModuleRun(limits=LIMITS, events=events, exit_code=0, report=report)
    observed = check_observations(run, expected, META)
    assert observed.findings == ["the JSON report and the event stream disagree on test_a"]


def test_a_report_worse_than_the_stream_is_no_finding(expected):
    """Out of memory, pytest may record a failure the stream saw pass (or miss it): the
    report's worse outcome is graded, so nothing is gained and nothing is flagged."""
    report = {"tests": [{"nodeid": node("test_a"), "outcome": "failed"}]}
    run = ModuleRun(limits=LIMITS, events=stream(*passed("test_a")), exit_code=1, report=report)
    assert check_observations(run, expected, META).findings == []


def test_a_report_entry_without_its_call_phase_is_not_a_pass():
    """pytest failed while reporting the test (out of memory): json-report saw only setup."""
    entry = {"nodeid": node("test_a"), "outcome": "passed", "setup": {"outcome": "passed"}}
    assert not passed_in_report(entry)
    assert passed_in_report({**entry, "call": {"outcome": "passed"}})
