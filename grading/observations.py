"""Check what a module's test process reported against what the grader knows on its own.

    check_observations(run, expected, meta) -> Observations

The test process runs student code, so its event stream and report are observations to
check, not results to believe (grading/sandbox/ runs it). Points and the list of tests come
from the pristine test file and module.yaml (grading/points.py); the stream must agree:
one `begin`, one `collected` whose test ids are exactly the file's, every `start` of a
collected test at most once, every `finish` after its `start` and at most once, nothing
after `end`, no `tamper` event (grading/sandbox/integrity.py), and the JSON report, when
there is one, with the same passed tests. Any difference is a finding; a module with a
finding earns nothing and the finding is named in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grading.course_modules import ModuleMeta
from grading.points import ExpectedTest, assign_points
from grading.results import ModuleRun, passed_in_report


@dataclass(frozen=True)
class Observations:
    """collected: [{nodeid, lineno, exercise, label, points}] with the grader's points, in
    order (None: collection never finished); findings: what was inconsistent."""

    collected: list[dict] | None
    findings: list[str] = field(default_factory=list)


def _test_id(nodeid: str) -> str:
    return nodeid.split("::", 1)[1] if "::" in nodeid else nodeid


def _stream_findings(events: list[dict], collected_ids: set[str]) -> list[str]:
    findings, started, finished = [], set(), set()
    counts = {kind: 0 for kind in ("begin", "collected", "end")}
    for event in events:
        kind = event["event"]
        if counts["end"]:
            findings.append(f"a `{kind}` event after the end of the run")
            break
        if kind in counts:
            counts[kind] += 1
        elif kind == "tamper":
            changed = ", ".join(event["changed"][:8])
            findings.append(f"{changed} changed ({_test_id(event['where'])})")
        elif kind == "start":
            nodeid = event["nodeid"]
            if nodeid not in collected_ids or nodeid in started:
                findings.append(f"a test started twice or without being collected: {nodeid}")
            started.add(nodeid)
        elif kind == "finish":
            nodeid = event["nodeid"]
            if nodeid not in started or nodeid in finished:
                findings.append(f"a test finished twice or without starting: {nodeid}")
            finished.add(nodeid)
    for kind in ("begin", "collected"):
        if counts[kind] > 1:
            findings.append(f"{counts[kind]} `{kind}` events in one run")
    return findings


def _report_findings(run: ModuleRun, stream_passed: set[str]) -> list[str]:
    if run.report is None:
        return []
    report_passed = {
        test.get("nodeid")
        for test in run.report.get("tests", [])
        if isinstance(test, dict) and passed_in_report(test)
    }
    # Only a pass the stream never saw is suspect: the report's outcomes are the ones graded,
    # so a report that is worse than the stream gains nothing. That happens honestly when a
    # test runs out of memory and pytest fails while reporting it.
    claimed = sorted(report_passed - stream_passed)
    if claimed:
        return [f"the JSON report and the event stream disagree on {_test_id(claimed[0])}"]
    return []


def check_observations(
    run: ModuleRun, expected: list[ExpectedTest], meta: ModuleMeta
) -> Observations:
    """The collected tests with the grader's own points, and every inconsistency found."""
    collected_events = [e for e in run.events if e["event"] == "collected"]
    if not collected_events:
        findings = _stream_findings(run.events, set())
        return Observations(None, findings)
    reported = collected_events[0]["tests"]
    nodeids = [test["nodeid"] for test in reported]
    findings = _stream_findings(run.events, set(nodeids))
    if not nodeids:  # the test file could not be imported: nothing to grade, nothing gained
        return Observations(None, findings)
    points = assign_points(expected, [_test_id(n) for n in nodeids], meta)
    if isinstance(points, str):
        return Observations(None, [*findings, points])
    collected = [
        {
            "nodeid": nodeid,
            "lineno": points[_test_id(nodeid)].line - 1,
            "exercise": points[_test_id(nodeid)].exercise,
            "label": points[_test_id(nodeid)].label,
            "points": points[_test_id(nodeid)].points,
        }
        for nodeid in nodeids
    ]
    stream_passed = {
        e["nodeid"] for e in run.events if e["event"] == "finish" and e["outcome"] == "passed"
    }
    if any(e["event"] == "end" for e in run.events):
        findings += _report_findings(run, stream_passed)
    return Observations(collected, findings)
