"""Tests of what students read: `tiny test` (grading/commands/test.py, grading/feedback.py),
`--exercise` (grading/select_exercise.py), `tiny hint`, `tiny --help` (grading/cli.py) and
`tiny grade`'s table of stubbed exercises — unit tests on hand-made pytest-json-report
reports, then end to end in a freshly built foundation tier (stubs, as a student gets it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from grading import cli, feedback
from grading.course_modules import load_module_meta
from grading.points import expected_tests
from grading.repo import REPO_ROOT
from scripts import stubs
from scripts.build_templates import build

META = load_module_meta(REPO_ROOT / "modules" / "01_tensor")
SOURCE = "modules/01_tensor/tensor.py"
STUB_01_1 = "NotImplementedError: exercise 01.1 storage: a hint that must not show"


def report_test(name: str, exercise: str, outcome: str = "failed", crash: str = "", frames=()):
    """One test as pytest-json-report records it."""
    test = {
        "nodeid": f"modules/01_tensor/test_01_tensor.py::{name}",
        "outcome": outcome,
        "metadata": {"exercise": exercise, "label": exercise, "points": 5},
    }
    if outcome == "failed":
        test["call"] = {
            "outcome": "failed",
            "crash": {"path": SOURCE, "lineno": 1, "message": crash},
            "traceback": [
                {"path": "modules/01_tensor/test_01_tensor.py", "lineno": 9, "message": "in t"}
            ]
            + [{"path": path, "lineno": line, "message": f"in {fn}"} for path, line, fn in frames],
        }
    return test


def rendered(*tests, asked=()) -> str:
    report = {"tests": list(tests), "collectors": []}
    return feedback.render(META, report, REPO_ROOT, {SOURCE}, asked)


# ---- one line per failing test -------------------------------------------------------


def test_own_stub_is_not_started_and_another_exercises_stub_blocks():
    text = rendered(
        report_test("test_01_1_a", "01.1", crash=STUB_01_1, frames=[(SOURCE, 80, "__init__")]),
        report_test("test_01_2_a", "01.2", crash=STUB_01_1, frames=[(SOURCE, 80, "__init__")]),
    )
    lines = text.splitlines()
    assert lines[0] == "FAIL 01.1 test_01_1_a: not started (its stub at tensor.py:80)"
    assert lines[1] == "FAIL 01.2 test_01_2_a: blocked by 01.1 (still a stub)"
    assert "must not show" not in text  # an untouched exercise gets no hint
    assert lines[-1].startswith("0 of 2 tests passed (0/10 points). Next: exercise 01.1")
    assert "tiny hint 01.1" in lines[-1] and len(lines) == 3


def test_blocker_in_an_earlier_module_is_named_with_its_module():
    outcome = feedback.classify(report_test("t", "05.2", crash=STUB_01_1), REPO_ROOT, set(), None)
    assert (outcome.kind, outcome.blocker) == ("blocked", "01.1")
    line = feedback._failure_line(outcome, load_module_meta(REPO_ROOT / "modules/05_autograd"))
    assert line == ["FAIL 05.2 t: blocked by 01.1 in Module 01 (still a stub)"]


def test_a_real_failure_shows_its_message_the_students_frames_and_the_hint():
    crash = "ValueError: operands could not be broadcast together\nwith shapes (2,) (3,)"
    text = rendered(
        report_test("test_01_5_a", "01.5", outcome="passed"),
        report_test(
            "test_01_5_b",
            "01.5",
            crash=crash,
            frames=[(SOURCE, 30, "sum"), ("numpy/_core/fromnumeric.py", 88, "_wrapreduction")],
        ),
    )
    lines = text.splitlines()
    assert lines[0] == "FAIL 01.5 test_01_5_b: ValueError: operands could not be broadcast together"
    assert lines[1].startswith("    tensor.py:30 in sum: ")  # the student's line, read from disk
    assert lines[1].removeprefix("    tensor.py:30 in sum: ").strip()
    assert "fromnumeric" not in text and "test_01_tensor.py" not in text
    assert lines[2] == f"    hint 01.5: {META.exercise('01.5').hint}"  # started: hint shown
    assert lines[3].startswith("1 of 2 tests passed (5/10 points).") and "Next" not in lines[3]


def test_asking_for_an_exercise_shows_its_hint_even_before_it_is_started():
    text = rendered(report_test("test_01_1_a", "01.1", crash=STUB_01_1), asked=("01.1",))
    assert f"    hint 01.1: {META.exercise('01.1').hint}" in text.splitlines()


def test_a_skipped_graded_test_counts_as_not_passed_and_says_why():
    skipped = {
        "nodeid": "modules/01_tensor/test_01_tensor.py::test_01_7_a",
        "outcome": "skipped",
        "metadata": {"exercise": "01.7", "points": 8},
        "setup": {"outcome": "skipped", "longrepr": "('t.py', 3, 'Skipped: no float16 here')"},
    }
    outcome = feedback.classify(skipped, REPO_ROOT, {SOURCE})
    assert (outcome.passed, outcome.kind, outcome.message) == (
        False,
        "failed",
        "skipped: no float16 here",
    )


def test_frames_are_limited_to_the_innermost_few():
    frames = [(SOURCE, line, "f") for line in range(1, 10)]
    outcome = feedback.classify(
        report_test("t", "01.5", crash="RecursionError: deep", frames=frames),
        REPO_ROOT,
        {SOURCE},
    )
    assert [f.line for f in outcome.frames] == [7, 8, 9]


def test_a_collection_error_names_file_and_line():
    report = {
        "tests": [],
        "collectors": [
            {
                "outcome": "failed",
                "longrepr": 'E   File "modules/01_tensor/tensor.py", line 41\n'
                "E     def f(:\nE   SyntaxError: invalid syntax",
            }
        ],
    }
    text = feedback.render(META, report, REPO_ROOT, {SOURCE})
    assert "ERROR the tests could not be loaded: SyntaxError: invalid syntax" in text
    assert "line 41" in text and text.splitlines()[-1].startswith("No test ran.")


def test_stub_note_for_the_grade_table():
    assert feedback.stub_note(STUB_01_1, "01.1") == "not started"
    assert feedback.stub_note(STUB_01_1, "01.3") == "blocked by 01.1 (still a stub)"
    assert feedback.stub_note("NotImplementedError: exercise 01.10 x", "01.1") == (
        "blocked by 01.10 (still a stub)"
    )
    assert feedback.stub_note("AssertionError: no", "01.1") is None
    assert feedback.stub_note(None, "01.1") is None


# ---- tiny --help ----------------------------------------------------------------------


def test_help_lists_only_the_commands_shipped_in_the_repository(tmp_path):
    for relative in ("grading/commands/test.py", "grading/commands/hint.py"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("", encoding="utf-8")
    assert [c[0] for c in cli.available_commands(tmp_path)] == ["test", "hint"]
    text = cli.description(cli.available_commands(tmp_path))
    assert "Staff" not in text and "tiny hint 01.2" in text
    course = cli.description(cli.available_commands(REPO_ROOT))
    assert "Staff:" in course and "tiny build" in course and "tiny leaderboard" in course


# ---- end to end, in a stubbed foundation tier -----------------------------------------


@pytest.fixture(scope="module")
def tier(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tier")
    (built,) = build(
        REPO_ROOT / "template" / "course.yaml", out, ["foundation"], log=lambda _: None
    )
    return built.root


def tiny(root: Path, *args: str) -> subprocess.CompletedProcess:
    """`tiny ARGS` as the tier's own grader runs it (its grading/, its modules/)."""
    env = {k: v for k, v in os.environ.items() if k != "TINYTORCH_MODULES"}
    env["PYTHONPATH"] = str(root)
    return subprocess.run(
        [sys.executable, "-m", "grading.cli", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_tiny_test_on_stubs_prints_one_line_per_test(tier):
    done = tiny(tier, "test", "01")
    lines = done.stdout.splitlines()
    assert done.returncode == 1, done.stdout + done.stderr
    tests = len(expected_tests(tier / "modules" / "01_tensor" / "test_01_tensor.py"))
    assert len(lines) == 1 + tests + 1, done.stdout  # header, one line per test, summary
    assert all(line.startswith("FAIL 01.") for line in lines[1:-1])
    not_started = sum(": not started" in line for line in lines)
    assert not_started >= 1 and sum("blocked by 01.1 (still a stub)" in line for line in lines) == (
        tests - not_started
    )
    assert "Traceback" not in done.stdout and "test_01_tensor.py:" not in done.stdout
    assert META.exercise("01.1").hint not in done.stdout  # not started: no hint


def test_tiny_test_tests_the_tiers_own_file(tier):
    """Even with the course repository installed in this environment, a template's
    `tiny test` imports the template's modules (its stubs), never the course reference."""
    done = tiny(tier, "test", "01", "--exercise", "01.1")
    tests = expected_tests(tier / "modules" / "01_tensor" / "test_01_tensor.py")
    count = sum(test.instances for test in tests if test.exercise == "01.1")
    assert f"0 of {count} tests passed" in done.stdout, done.stdout


def test_exercise_selects_by_marker_not_by_name(tier):
    done = tiny(tier, "test", "05", "--exercise", "5.1")
    failing = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert failing and all(line.startswith("FAIL 05.1 ") for line in failing), done.stdout
    assert "05.10" not in done.stdout and "05.11" not in done.stdout
    assert f"hint 05.1: {load_module_meta(tier / 'modules/05_autograd').exercise('05.1').hint}" in (
        done.stdout
    )
    unknown = tiny(tier, "test", "05", "--exercise", "05.99")
    assert unknown.returncode == 2 and "its exercises: 05.1, 05.2" in unknown.stderr


def test_verbose_gives_pytests_full_output(tier):
    done = tiny(tier, "test", "01", "-v", "-k", "test_01_1_stores")
    assert "PASSED" in done.stdout or "FAILED" in done.stdout
    assert "NotImplementedError" in done.stdout and "raise NotImplementedError" in done.stdout


def test_a_bug_in_student_code_shows_its_own_line(tier):
    source = tier / "modules/01_tensor/tensor.py"
    original = source.read_text(encoding="utf-8")
    reference = stubs.drop_markers((REPO_ROOT / SOURCE).read_text(encoding="utf-8"))
    marker = "return Tensor(self.data.max(axis=axis, keepdims=keepdims))"
    assert marker in reference
    source.write_text(
        reference.replace(marker, "return Tensor(self.data.max(axis=axis, keepdims=[]))"),
        encoding="utf-8",
    )
    try:
        done = tiny(tier, "test", "01")
    finally:
        source.write_text(original, encoding="utf-8")
    lines = done.stdout.splitlines()
    failing = [line for line in lines if line.startswith("FAIL")]
    assert failing and all(line.startswith("FAIL 01.5 ") for line in failing), done.stdout
    assert any("tensor.py:" in line and "keepdims=[]" in line for line in lines), done.stdout
    assert f"    hint 01.5: {META.exercise('01.5').hint}" in lines


def test_tiny_hint_answers_for_an_exercise_or_a_module(tier):
    done = tiny(tier, "hint", "1.5")
    assert done.stdout.strip() == (
        f"01.5 reductions (10 points, tensor.py): {META.exercise('01.5').hint}"
    )
    assert len(tiny(tier, "hint", "01").stdout.splitlines()) == len(META.exercises)
    assert tiny(tier, "hint", "01.9").returncode == 2


def test_help_in_a_student_template_lists_no_staff_command(tier):
    text = tiny(tier, "--help").stdout
    assert "tiny test 01" in text and "tiny hint" in text
    for staff in ("tiny build", "grade-batch", "gradebook", "leaderboard", "Staff"):
        assert staff not in text, text


def test_tiny_grade_names_stubbed_exercises_without_their_hints(tier):
    done = tiny(tier, "grade", "--modules", "01")
    assert "  01.1 storage  not started" in done.stdout.splitlines(), done.stdout
    assert "  01.2 elementwise_arithmetic  blocked by 01.1 (still a stub)" in done.stdout
    assert META.exercise("01.1").hint not in done.stdout
    assert "jsonschema" not in done.stderr
