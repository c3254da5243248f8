"""The results object `tinytorch/results/v1`: built from one pytest run per module, validated.

Pure functions only: `build_module` turns what a module's test process left behind
(pytest-json-report's report, the plugin's event stream, how the process ended) into the
module's record; `build_results` adds totals, tamper findings, milestones and the exit
code. Nothing here runs a process or touches a file, so every outcome (crash, time-out,
syntax error, ...) is tested with hand-written inputs. Schema and field meanings:
grading/schemas/results.v1.schema.json. Renderers (grading/render.py) read only this.

Statuses of a test: passed, failed (assertion or exception), error (fixture set-up or
tear-down failed, or the test file could not be collected), timeout (stopped by the
per-test time limit, or running when the module's wall-clock limit killed the process),
crashed (running when the process ended abruptly), not_run (never started because the
process ended earlier, or skipped).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grading.course_modules import ModuleMeta
from grading.results_file import points_problems
from grading.run_messages import (
    MESSAGE_LIMIT,
    TIMEOUT_LINE,
    collection_error_message,
    explain,
    format_bytes,
    relative_paths,
    short_message,
)
from grading.schemas import validate

SCHEMA_ID = "tinytorch/results/v1"
EXIT_PASSED, EXIT_FAILED, EXIT_ERROR = 0, 1, 2

# pytest exit codes that mean the run itself was unusable, not that tests failed.
PYTEST_INTERNAL_ERROR, PYTEST_USAGE_ERROR, PYTEST_NO_TESTS = 3, 4, 5


@dataclass(frozen=True)
class RunLimits:
    test_timeout: float
    wall_time: float
    memory_bytes: int | None


@dataclass(frozen=True)
class ModuleRun:
    """What one module's test process left behind; the sandbox fills this in.

    report: pytest-json-report's JSON (None when the process died before writing it).
    events: the plugin's stream lines, in order (grading/schemas/test_events.v1.schema.json).
    exit_code / signal: how the process ended (signal name such as 'SIGKILL', else None).
    wall_timeout: True when the grader killed it at the module's wall-clock limit.
    output_tail: the last lines pytest printed, for clues when nothing else is left.
    precheck: a problem found before running that costs the module's points
        (e.g. the graded test file is missing); then nothing was run.
    grader_error: the grader could not run or read pytest; the module is not graded.
    refusal: why the grader refused to run the module's code at all (a policy violation,
        a refused file, a prerequisite that failed); the module earns nothing.
    collected: the collected tests with the grader's own points (grading/observations.py);
        None: take them from the stream (hand-written runs in tests).
    findings: inconsistencies in what the process reported; the module earns nothing.
    """

    limits: RunLimits
    report: dict | None = None
    events: list[dict] = field(default_factory=list)
    exit_code: int | None = None
    signal: str | None = None
    wall_timeout: bool = False
    output_tail: str = ""
    duration: float = 0.0
    precheck: str | None = None
    grader_error: str | None = None
    refusal: str | None = None
    collected: list[dict] | None = None
    findings: tuple[str, ...] = ()


# ---- one module ------------------------------------------------------------------------


def _test_name(nodeid: str) -> str:
    return nodeid.split("::", 1)[1] if "::" in nodeid else nodeid


UNRECORDED = (
    "the test's result was never recorded: the process ran out of memory or crashed while "
    "reporting it"
)


def passed_in_report(test: dict) -> bool:
    """A pytest-json-report entry passed only if its test body ran and passed: an entry
    whose `call` phase is missing (pytest failed while reporting it, e.g. out of memory)
    is not a pass, whatever its overall outcome says."""
    return test.get("outcome") == "passed" and (test.get("call") or {}).get("outcome") == "passed"


def _outcomes_from_report(report: dict) -> dict[str, dict]:
    """nodeid -> {outcome, message, duration} from pytest-json-report's `tests`."""
    found = {}
    for test in report.get("tests", []):
        stages = [test.get(when) or {} for when in ("setup", "call", "teardown")]
        crash = next((s.get("crash") for s in stages if s.get("outcome") == "failed"), None)
        message = crash.get("message") if crash else None
        outcome = test.get("outcome", "error")
        if outcome == "skipped":
            skipped = next((s for s in stages if s.get("outcome") == "skipped"), {})
            message = skipped.get("longrepr") or "skipped"
        elif outcome == "passed" and not passed_in_report(test):
            outcome, message = "error", UNRECORDED
        found[test["nodeid"]] = {
            "outcome": outcome,
            "message": message,
            "duration": round(sum(s.get("duration", 0.0) for s in stages), 6),
        }
    return found


def _collected(run: ModuleRun) -> list[dict] | None:
    """Every collected test (nodeid, lineno, exercise, label, points), or None if collection
    never finished. The stream knows even when the report was never written."""
    for event in run.events:
        if event.get("event") == "collected":
            return event["tests"]
    if run.report is not None and run.report.get("tests"):
        return [
            {
                "nodeid": test["nodeid"],
                "lineno": test.get("lineno"),
                "exercise": (test.get("metadata") or {}).get("exercise"),
                "label": (test.get("metadata") or {}).get("label"),
                "points": (test.get("metadata") or {}).get("points", 0),
            }
            for test in run.report["tests"]
        ]
    return None


def _running_test(events: list[dict]) -> str | None:
    """The test that had started and not finished when the stream stopped."""
    running = None
    for event in events:
        if event.get("event") == "start":
            running = event["nodeid"]
        elif event.get("event") == "finish" and event.get("nodeid") == running:
            running = None
    return running


def _signal_words(run: ModuleRun) -> str:
    if run.signal:
        return f"signal {run.signal}"
    return f"exit code {run.exit_code}"


def _error_line(output: str) -> str:
    """pytest's own complaint in its output: the first 'ERROR' line, else the last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return next((line for line in lines if line.startswith("ERROR")), lines[-1] if lines else "")


def _run_summary(run: ModuleRun, aliases) -> tuple[str, str | None]:
    """(ended, message in plain words) for the whole process."""
    limits = run.limits
    if run.grader_error:
        return "grader_error", run.grader_error
    if run.precheck:
        return "collection_error", run.precheck
    if run.refusal:
        return "refused", run.refusal
    if run.findings:
        return "tampered", short_message(
            "tampering detected, so this module earns no points: " + "; ".join(run.findings),
            limit=2 * MESSAGE_LIMIT,
        )
    running = _running_test(run.events)
    where = f"during {_test_name(running)}" if running else "before any test ran"
    if running is None and not any(e.get("event") == "collected" for e in run.events):
        where = "while importing the tests and your code, before any test ran"
    if run.wall_timeout:
        return "wall_timeout", (
            f"the module's tests ran past their wall-clock limit of {limits.wall_time:g} s "
            f"{where} and were stopped: an infinite loop that the per-test time limit could "
            f"not interrupt (for example inside one huge NumPy call)? Other tests of this "
            f"module were not run."
        )
    report = run.report
    exit_code = run.exit_code if report is None else report.get("exitcode", run.exit_code)
    if not run.wall_timeout and not any(e.get("event") == "begin" for e in run.events):
        # The plugin never started, so no student code ran: pytest itself could not start.
        return "grader_error", short_message(
            f"pytest could not start the graded run ({_signal_words(run)}): "
            f"{relative_paths(_error_line(run.output_tail), aliases)}"
        )
    finished = report is not None or any(e.get("event") == "end" for e in run.events)
    if not finished or exit_code == PYTEST_INTERNAL_ERROR:
        if "MemoryError" in run.output_tail or run.signal == "SIGKILL":
            cause = (
                f"your code ran out of memory (limit {format_bytes(limits.memory_bytes)}) "
                f"and the process could not recover"
            )
        elif finished:
            cause = "pytest stopped with an internal error caused by the code under test"
        else:
            cause = "os._exit or a crash in your code"
        return "crashed", (
            f"the test process ended abruptly {where} ({_signal_words(run)}): {cause}; "
            f"other tests of this module were not run."
        )
    failed_collectors = [
        c for c in (report or {}).get("collectors", []) if c.get("outcome") == "failed"
    ]
    if failed_collectors:
        reason = collection_error_message(failed_collectors[0].get("longrepr") or "", aliases)
        return "collection_error", (
            f"the test file could not be loaded, so no test ran: {reason}. "
            f"Run `tiny test` on this module to see the full error."
        )
    if exit_code in (PYTEST_USAGE_ERROR, PYTEST_NO_TESTS):
        return "grader_error", short_message(
            f"pytest could not run the graded tests: "
            f"{relative_paths(_error_line(run.output_tail), aliases) or f'exit code {exit_code}'}"
        )
    return "completed", None


def _placeholder(exercise, status: str, message: str | None) -> dict:
    return {
        "nodeid": None,
        "name": f"{exercise.label} (no test collected)",
        "exercise": exercise.id,
        "label": exercise.label,
        "graded": True,
        "points": {"earned": 0, "possible": exercise.points},
        "status": status,
        "message": message,
        "duration": 0.0,
        "line": None,
    }


_PLACEHOLDER_STATUS = {
    "crashed": "crashed",
    "wall_timeout": "timeout",
    "collection_error": "error",
    "grader_error": "error",
    "refused": "error",
    "tampered": "error",
    "completed": "error",
}


def build_module(
    meta: ModuleMeta,
    run: ModuleRun,
    files: dict[str, str],
    aliases: tuple[tuple[str, str], ...] = (),
) -> dict:
    """The record of one module: points per test and exercise, and how its run ended.

    files: {"source": ..., "tests": ...} as repository paths for people to read.
    aliases: (actual path prefix, shown prefix) pairs applied to every message."""
    ended, run_message = _run_summary(run, aliases)
    collected = run.collected if run.collected is not None else _collected(run)
    if ended in ("grader_error", "collection_error", "refused") and (
        run.precheck or run.refusal or ended == "grader_error"
    ):
        collected = None
    outcomes = {}
    for event in run.events:
        if event.get("event") == "finish":
            outcomes[event["nodeid"]] = event
    if run.report is not None:
        outcomes.update(_outcomes_from_report(run.report))
    running = _running_test(run.events)

    tests = []
    for item in collected or []:
        nodeid = item["nodeid"]
        name = _test_name(nodeid)
        graded = item.get("exercise") is not None
        possible = int(item.get("points") or 0) if graded else 0
        outcome = outcomes.get(nodeid)
        if outcome is not None:
            raw = short_message(relative_paths(outcome.get("message"), aliases))
            status = {
                "passed": "passed",
                "xpassed": "passed",
                "failed": "failed",
                "xfailed": "failed",
                "error": "error",
                "skipped": "not_run",
            }.get(outcome["outcome"], "error")
            if raw and TIMEOUT_LINE.search(raw):
                status = "timeout"
            message = None if status == "passed" else explain(raw, run.limits)
            if status == "not_run":
                message = short_message(f"skipped: {raw or 'no reason given'}")
            duration = float(outcome.get("duration") or 0.0)
            if ended == "tampered" and status == "passed":
                status, message = "error", "not counted: " + (run_message or "tampering")
        elif nodeid == running:
            status = "timeout" if ended == "wall_timeout" else "crashed"
            message, duration = run_message, 0.0
        else:
            status, duration = "not_run", 0.0
            message = (
                f"the test process ended during {_test_name(running)}, before this test"
                if running
                else "the test process ended before this test started"
            )
        tests.append(
            {
                "nodeid": f"modules/{meta.key}/{meta.tests}::{name}",
                "name": name,
                "exercise": item.get("exercise"),
                "label": item.get("label"),
                "graded": graded,
                "points": {
                    "earned": possible if status == "passed" and ended != "tampered" else 0,
                    "possible": possible,
                },
                "status": status,
                "message": message,
                "duration": round(duration, 6),
                "line": item["lineno"] + 1 if item.get("lineno") is not None else None,
            }
        )

    exercises = []
    for exercise in meta.exercises:
        own = [t for t in tests if t["exercise"] == exercise.id]
        if not own:
            status = _PLACEHOLDER_STATUS[ended]
            message = run_message or (
                f"no test of exercise {exercise.id} was collected: is the graded test file "
                f"{files['tests']} complete?"
            )
            tests.append(_placeholder(exercise, status, message))
        # Never more than module.yaml allows, whatever the test process reported.
        earned = min(sum(t["points"]["earned"] for t in own), exercise.points)
        exercises.append(
            {
                "id": exercise.id,
                "name": exercise.name,
                "label": exercise.label,
                "points": {"earned": earned, "possible": exercise.points},
                "tests": len(own),
            }
        )
    earned = sum(e["points"]["earned"] for e in exercises)
    if ended == "grader_error":
        status = "error"
    elif earned == meta.points and all(t["status"] == "passed" for t in tests if t["graded"]):
        status = "passed"
    else:
        status = "failed"
    return {
        "number": meta.number,
        "key": meta.key,
        "title": meta.title,
        "tier": meta.tier,
        "status": status,
        "points": {"earned": earned, "possible": meta.points},
        "exercises": exercises,
        "tests": tests,
        "run": {
            "ended": ended,
            "exit_code": run.exit_code,
            "signal": run.signal,
            "message": run_message,
            "duration": round(run.duration, 3),
            "limits": {
                "test_timeout": run.limits.test_timeout,
                "wall_time": run.limits.wall_time,
                "memory_bytes": run.limits.memory_bytes,
            },
        },
        "files": dict(files),
    }


def error_module(meta_like: dict, message: str, limits: RunLimits) -> dict:
    """A module the grader could not grade at all (e.g. its module.yaml is broken, or the
    grader failed). It keeps its full maximum, `meta_like["points"]` when known, with one
    test entry saying what went wrong: a reporter that sums maxima must not drop it."""
    possible = int(meta_like.get("points") or 0)
    placeholder = {
        "nodeid": None,
        "name": "grading this module (not graded)",
        "exercise": None,
        "label": f"{meta_like['number']:02d}",
        "graded": True,
        "points": {"earned": 0, "possible": possible},
        "status": "error",
        "message": short_message(message),
        "duration": 0.0,
        "line": None,
    }
    return {
        "number": meta_like["number"],
        "key": meta_like["key"],
        "title": meta_like.get("title", meta_like["key"]),
        "tier": meta_like.get("tier", "unknown"),
        "status": "error",
        "points": {"earned": 0, "possible": possible},
        "exercises": [],
        "tests": [placeholder],
        "run": {
            "ended": "grader_error",
            "exit_code": None,
            "signal": None,
            "message": message,
            "duration": 0.0,
            "limits": {
                "test_timeout": limits.test_timeout,
                "wall_time": limits.wall_time,
                "memory_bytes": limits.memory_bytes,
            },
        },
        "files": {"source": "", "tests": ""},
    }


# ---- the whole grade ---------------------------------------------------------------------


def build_results(
    modules: list[dict],
    tests_source: dict,
    tamper: dict | None = None,
    milestones: list[dict] | None = None,
    errors: list[str] | None = None,
) -> dict:
    """The results object: modules plus totals, overall status and exit code, validated
    against the schema when jsonschema is installed."""
    tamper = tamper or {"checked": False, "manifest": "not checked", "findings": []}
    errors = list(errors or [])
    earned = sum(m["points"]["earned"] for m in modules)
    possible = sum(m["points"]["possible"] for m in modules)
    if errors or any(m["status"] == "error" for m in modules):
        status, exit_code = "error", EXIT_ERROR
    elif tamper["findings"] or any(m["status"] != "passed" for m in modules) or not modules:
        status, exit_code = "failed", EXIT_FAILED
    else:
        status, exit_code = "passed", EXIT_PASSED
    results = {
        "schema": SCHEMA_ID,
        "status": status,
        "exit_code": exit_code,
        "points": {"earned": earned, "possible": possible},
        "tests_source": dict(tests_source),
        "modules": modules,
        "tamper": tamper,
        "milestones": list(milestones or []),
        "errors": errors,
    }
    validate("results", results, "results")
    problems = points_problems(results)
    if problems:  # a grader bug: never hand out a total that does not add up
        raise ValueError("; ".join(f"{where}: {problem}" for where, problem in problems))
    return results


def without_durations(value):
    """A copy with every 'duration' removed: what must match between two gradings."""
    if isinstance(value, dict):
        return {k: without_durations(v) for k, v in value.items() if k != "duration"}
    if isinstance(value, list):
        return [without_durations(v) for v in value]
    return value
