"""pytest plugin: every test in a module's graded test file carries an exercise id.

Contract:
- `@pytest.mark.exercise("03.2")` ties a test to exercise 03.2 of module.yaml; an
  exercise's points are split over its tests as evenly as whole numbers allow
  (10 points over 3 tests: 4, 3, 3, in file order).
- `@pytest.mark.integration` marks a test across modules: run, never graded.
- A test in a graded test file with neither marker, or an unknown id, is a
  collection error: an ungraded test in a graded file is a bug in the course.
- Each graded test's id, label and points are stashed on the item and added to
  pytest-json-report's per-test `metadata` (`exercise`, `label`, `points`).

Event stream (for `tiny grade`): with `--grade-stream PATH` (or $TINYTORCH_GRADE_STREAM,
or the ini key `grade_stream`; resolved in that order) the plugin appends one JSON
object per line to PATH, flushed as it happens: `begin`, `collected` (every test with
its exercise and points), `start` and `finish` of each test, `end`. The JSON report is
written only when pytest ends normally; the stream survives `os._exit`, a segfault or
a kill, so the grader keeps every finished outcome and knows which test was running.
Before each `finish` (and after collection, and at the end) the plugin compares the
objects grading relies on with their start-up snapshot (grading/sandbox/integrity.py) and
writes a `tamper` event naming each one that changed. Schema:
grading/schemas/test_events.v1.schema.json.

This plugin runs inside the process that runs student code, so nothing it writes is
trusted: `tiny grade` checks the stream for consistency and takes every point from the
course's own files (grading/points.py); the points here label `tiny test` and dev runs.

Course overrides: with `--course-config PATH` (or $TINYTORCH_COURSE_CONFIG) the exercise
points of that course.yaml (grading/course_config.py) replace module.yaml's before they are
split; `tiny grade` passes the configuration it graded with, so the points in the stream,
the report and the results agree.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from grading.course_config import CourseConfigError, load_course_config
from grading.course_modules import ModuleMeta, find_module_folder, load_module_meta
from grading.points import apply_course_config, split_points
from grading.sandbox.integrity import Integrity

GRADE_KEY = pytest.StashKey[dict]()
META_CACHE_KEY = pytest.StashKey[dict]()
COURSE_KEY = pytest.StashKey["CourseConfig | None"]()

EVENTS_SCHEMA = "tinytorch/test-events/v1"
STREAM_ENV = "TINYTORCH_GRADE_STREAM"
COURSE_ENV = "TINYTORCH_COURSE_CONFIG"
COURSE_HELP = (
    "course.yaml whose per-exercise points and per-module timeouts override module.yaml "
    f"(env: ${COURSE_ENV}; default: none, module.yaml as written)"
)
STREAM_HELP = (
    "append one JSON line per collected, started and finished test to this file, "
    f"flushed at once, so a crash keeps partial results (env: ${STREAM_ENV})"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tinytorch", "TinyTorch grading")
    group.addoption("--grade-stream", metavar="PATH", default=None, help=STREAM_HELP)
    group.addoption("--course-config", metavar="PATH", default=None, help=COURSE_HELP)
    parser.addini("grade_stream", STREAM_HELP, default="")


def course_config_path(config: pytest.Config) -> Path | None:
    """--course-config > $TINYTORCH_COURSE_CONFIG; None = module.yaml points as written."""
    value = config.getoption("course_config", None) or os.environ.get(COURSE_ENV)
    return Path(value) if value else None


def stream_path(config: pytest.Config) -> Path | None:
    """Where to stream test events: --grade-stream > $TINYTORCH_GRADE_STREAM > ini; None = off."""
    value = (
        config.getoption("grade_stream", None)
        or os.environ.get(STREAM_ENV)
        or config.getini("grade_stream")
    )
    return Path(value) if value else None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "exercise(id): the graded exercise this test checks")
    config.addinivalue_line("markers", "integration: a test across modules, not graded")
    config.stash[META_CACHE_KEY] = {}
    course = course_config_path(config)
    try:
        config.stash[COURSE_KEY] = load_course_config(course) if course else None
    except CourseConfigError as error:
        raise pytest.UsageError(f"--course-config: {error}") from None
    path = stream_path(config)
    if path is not None:
        config.pluginmanager.register(EventStream(path), "tinytorch-grade-stream")


def _module_of(item: pytest.Item) -> ModuleMeta | None:
    folder = find_module_folder(Path(str(item.path)).parent)
    if folder is None:
        return None
    cache = item.config.stash.setdefault(META_CACHE_KEY, {})
    if folder not in cache:
        course = item.config.stash.get(COURSE_KEY, None)
        cache[folder] = apply_course_config(load_module_meta(folder, check_files=False), course)
    meta = cache[folder]
    return meta if Path(str(item.path)).name == meta.tests else None


def pytest_collection_modifyitems(session: pytest.Session, config, items) -> None:
    by_exercise: dict[tuple[Path, str], list[pytest.Item]] = {}
    problems = []
    for item in items:
        meta = _module_of(item)
        if meta is None:
            continue
        marker = item.get_closest_marker("exercise")
        if marker is None:
            if item.get_closest_marker("integration") is None:
                problems.append(f"{item.nodeid}: graded test without @pytest.mark.exercise(id)")
            continue
        exercise_id = str(marker.args[0]) if marker.args else ""
        try:
            exercise = meta.exercise(exercise_id)
        except ValueError as error:
            problems.append(f"{item.nodeid}: {error}")
            continue
        item.stash[GRADE_KEY] = {"exercise": exercise.id, "label": exercise.label, "points": 0}
        by_exercise.setdefault((meta.folder, exercise.id), []).append(item)
    if problems:
        raise pytest.UsageError("graded tests are mislabelled:\n  " + "\n  ".join(problems))
    cache = config.stash[META_CACHE_KEY]
    for (folder, exercise_id), tests in by_exercise.items():
        total = cache[folder].exercise(exercise_id).points
        for test, share in zip(tests, split_points(total, len(tests)), strict=True):
            test.stash[GRADE_KEY]["points"] = share


@pytest.hookimpl(optionalhook=True)
def pytest_json_runtest_metadata(item: pytest.Item, call) -> dict:
    """Add the exercise id and points to pytest-json-report's record of this test."""
    return dict(item.stash.get(GRADE_KEY, {}))


# ---- event stream ------------------------------------------------------------------


def crash_message(report: pytest.TestReport) -> str | None:
    """The exception line pytest shows for a failed phase ('AssertionError: ...'), if any."""
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message
    if (
        isinstance(report.longrepr, tuple) and len(report.longrepr) == 3
    ):  # a skip: (path, line, why)
        return str(report.longrepr[2])
    return str(report.longrepr) if report.longrepr else None


def combine_phases(reports: list[pytest.TestReport]) -> dict:
    """One outcome for a test from its setup/call/teardown reports, as pytest-json-report does:
    a failed setup or teardown is an 'error', a failed call 'failed'."""
    outcome, message = "passed", None
    for report in reports:
        if report.failed:
            outcome = "failed" if report.when == "call" else "error"
            message = crash_message(report)
            break
        if report.skipped:
            outcome, message = "skipped", crash_message(report)
            break
    return {
        "outcome": outcome,
        "message": message,
        "duration": round(sum(report.duration for report in reports), 6),
    }


class EventStream:
    """Registered as a plugin when streaming is on: writes the events, flushed line by line."""

    def __init__(self, path: Path) -> None:
        self.handle = path.open("a", encoding="utf-8")
        self.integrity: Integrity | None = None
        self.phases: dict[str, list[pytest.TestReport]] = {}
        self.write({"event": "begin", "schema": EVENTS_SCHEMA})

    def write(self, event: dict) -> None:
        self.handle.write(json.dumps(event, sort_keys=True) + "\n")
        self.handle.flush()

    def check_integrity(self, where: str) -> None:
        """A `tamper` event naming every checked object that changed since start-up."""
        changed = self.integrity.changed() if self.integrity else ["the integrity snapshot"]
        if changed:
            self.write({"event": "tamper", "where": where, "changed": changed})

    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Snapshot once every grader plugin is registered, before any test file is imported."""
        self.integrity = Integrity(session.config.pluginmanager)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.check_integrity("while importing the tests and the module files")
        tests = []
        for item in session.items:
            grade = item.stash.get(GRADE_KEY, {})
            tests.append(
                {
                    "nodeid": item.nodeid,
                    "lineno": item.location[1],
                    "exercise": grade.get("exercise"),
                    "label": grade.get("label"),
                    "points": grade.get("points", 0),
                }
            )
        self.write({"event": "collected", "tests": tests})

    def pytest_runtest_logstart(self, nodeid: str, location) -> None:
        self.write({"event": "start", "nodeid": nodeid})

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.phases.setdefault(report.nodeid, []).append(report)

    def pytest_runtest_logfinish(self, nodeid: str, location) -> None:
        self.check_integrity(nodeid)
        self.write(
            {"event": "finish", "nodeid": nodeid, **combine_phases(self.phases.pop(nodeid, []))}
        )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus) -> None:
        self.check_integrity("at the end of the run")
        self.write({"event": "end", "exitstatus": int(exitstatus)})

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.handle.close()
