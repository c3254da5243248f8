"""The results builder and its renderers, on hand-written runs: no process is started."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grading.course_modules import Exercise, ModuleMeta
from grading.render import (
    classroom_result,
    decode_classroom,
    encode_classroom,
    markdown_summary,
    points_table,
)
from grading.results import (
    ModuleRun,
    RunLimits,
    build_module,
    build_results,
    collection_error_message,
    explain,
    short_message,
    without_durations,
)
from grading.results_file import load_results
from grading.schemas import SCHEMAS, SchemaError, can_validate, load_schema, validate

LIMITS = RunLimits(test_timeout=30.0, wall_time=300.0, memory_bytes=2 << 30)
META = ModuleMeta(
    number=3,
    slug="demo",
    title="Demo",
    tier="foundation",
    folder=Path("/nowhere/03_demo"),
    source="demo.py",
    tests="test_03_demo.py",
    prerequisites=(),
    exports={},
    terms=(),
    timeout=30,
    exercises=(Exercise("03.1", "first", 10, ""), Exercise("03.2", "second", 6, "")),
)
SOURCE = {"kind": "working_tree", "detail": "working tree"}
FILES = {"source": "modules/03_demo/demo.py", "tests": "modules/03_demo/test_03_demo.py"}
PREFIX = "modules/03_demo/test_03_demo.py::"
COLLECTED = [
    {"nodeid": PREFIX + "test_03_1_a", "lineno": 10, "exercise": "03.1", "label": "03.1 first",
     "points": 5},
    {"nodeid": PREFIX + "test_03_1_b", "lineno": 20, "exercise": "03.1", "label": "03.1 first",
     "points": 5},
    {"nodeid": PREFIX + "test_03_2_a", "lineno": 30, "exercise": "03.2", "label": "03.2 second",
     "points": 6},
    {"nodeid": PREFIX + "test_together", "lineno": 40, "exercise": None, "label": None,
     "points": 0},
]  # fmt: skip


def events(*finished, running=None, end=True):
    """An event stream: collected, then start/finish for each (name, outcome, message)."""
    stream = [{"event": "begin", "schema": "tinytorch/test-events/v1"}]
    stream.append({"event": "collected", "tests": COLLECTED})
    for name, outcome, message in finished:
        stream.append({"event": "start", "nodeid": PREFIX + name})
        stream.append(
            {"event": "finish", "nodeid": PREFIX + name, "outcome": outcome,
             "message": message, "duration": 0.5}
        )  # fmt: skip
    if running:
        stream.append({"event": "start", "nodeid": PREFIX + running})
    if end:
        stream.append({"event": "end", "exitstatus": 1})
    return stream


ALL_PASS = [(name.split("::")[1], "passed", None) for name in (t["nodeid"] for t in COLLECTED)]


def module_of(run: ModuleRun) -> dict:
    return build_module(META, run, FILES)


def statuses(module: dict) -> dict[str, str]:
    return {t["name"]: t["status"] for t in module["tests"]}


# ---- messages -------------------------------------------------------------------------


def test_short_message_takes_the_first_useful_line_and_trims():
    assert short_message("AssertionError: shapes differ\nassert (2, 3) == (3, 2)") == (
        "AssertionError: shapes differ"
    )
    assert short_message("AssertionError: \n\nNot equal to tolerance rtol=1e-07\nerr msg here") == (
        "AssertionError: Not equal to tolerance rtol=1e-07 — err msg here"
    )
    assert short_message("") is None and short_message("\n \n") is None
    long = short_message("ValueError: " + "x" * 1000)
    assert len(long) == 300 and long.endswith("…")


def test_explain_puts_sandbox_failures_in_plain_words():
    assert "per-test time limit" in explain("Failed: Timeout (>30.0s) from pytest-timeout.", LIMITS)
    memory = explain("numpy._core._exceptions._ArrayMemoryError: Unable to allocate 8 GiB", LIMITS)
    assert memory.startswith("ran out of memory (limit 2 GiB): Unable to allocate 8 GiB")
    assert "sys.exit()" in explain("SystemExit: 3", LIMITS)
    assert explain("AssertionError: plain", LIMITS) == "AssertionError: plain"


def test_collection_error_message_names_the_syntax_error_file_and_line():
    longrepr = (
        "modules/tinytorch/_loader.py:65: in load_module_file\n    code = compile(...)\n"
        'E     File "/tmp/x/modules/03_demo/demo.py", line 41\nE       def broken(:\n'
        "E                  ^\nE   SyntaxError: invalid syntax"
    )
    message = collection_error_message(longrepr, (("/tmp/x/modules", "modules"),))
    assert message == "SyntaxError: invalid syntax (modules/03_demo/demo.py, line 41)"
    assert collection_error_message("E   ImportError: cannot import name 'X'") == (
        "ImportError: cannot import name 'X'"
    )


# ---- one module ------------------------------------------------------------------------------


def test_every_test_passed_gives_full_points_and_integration_tests_carry_none():
    module = module_of(ModuleRun(limits=LIMITS, events=events(*ALL_PASS), exit_code=0))
    assert module["status"] == "passed" and module["points"] == {"earned": 16, "possible": 16}
    assert [e["points"]["earned"] for e in module["exercises"]] == [10, 6]
    together = module["tests"][-1]
    assert together["graded"] is False and together["points"] == {"earned": 0, "possible": 0}
    assert module["tests"][0]["line"] == 11, "lines are 1-based"


def test_a_failure_costs_that_test_only_and_keeps_its_message():
    run = ModuleRun(
        limits=LIMITS,
        events=events(
            ("test_03_1_a", "failed", "AssertionError: expected 6, got 5\nassert 5 == 6"),
            *ALL_PASS[1:],
        ),
        exit_code=1,
    )
    module = module_of(run)
    assert module["status"] == "failed" and module["points"]["earned"] == 11
    first = module["tests"][0]
    assert first["status"] == "failed" and first["message"] == "AssertionError: expected 6, got 5"
    assert first["points"] == {"earned": 0, "possible": 5}


def test_json_report_outcomes_take_precedence_over_the_stream():
    report = {
        "exitcode": 1,
        "collectors": [],
        "tests": [
            {"nodeid": PREFIX + "test_03_1_a", "lineno": 10, "outcome": "failed",
             "metadata": {"exercise": "03.1", "label": "03.1 first", "points": 5},
             "setup": {"outcome": "passed", "duration": 0.1},
             "call": {"outcome": "failed", "duration": 0.2,
                      "crash": {"message": "Failed: Timeout (>30.0s) from pytest-timeout."}},
             "teardown": {"outcome": "passed", "duration": 0.1}},
        ],
    }  # fmt: skip
    run = ModuleRun(limits=LIMITS, report=report, events=events(*ALL_PASS), exit_code=1)
    first = module_of(run)["tests"][0]
    assert first["status"] == "timeout" and "per-test time limit" in first["message"]
    assert first["duration"] == pytest.approx(0.4)


def test_a_crash_keeps_finished_tests_names_the_running_one_and_zeroes_the_rest():
    run = ModuleRun(
        limits=LIMITS,
        events=events(ALL_PASS[0], running="test_03_1_b", end=False),
        exit_code=3,
    )
    module = module_of(run)
    assert statuses(module) == {
        "test_03_1_a": "passed",
        "test_03_1_b": "crashed",
        "test_03_2_a": "not_run",
        "test_together": "not_run",
    }
    assert module["points"]["earned"] == 5 and module["run"]["ended"] == "crashed"
    assert module["run"]["message"].startswith(
        "the test process ended abruptly during test_03_1_b (exit code 3): os._exit or a crash"
    )
    assert "ended during test_03_1_b" in module["tests"][2]["message"]


def test_a_wall_clock_kill_marks_the_running_test_as_timeout():
    run = ModuleRun(
        limits=LIMITS,
        events=events(ALL_PASS[0], running="test_03_1_b", end=False),
        signal="SIGKILL",
        wall_timeout=True,
    )
    module = module_of(run)
    assert statuses(module)["test_03_1_b"] == "timeout"
    assert module["run"]["ended"] == "wall_timeout" and "300 s" in module["run"]["message"]


def test_a_crash_with_memory_error_in_the_output_says_so():
    run = ModuleRun(
        limits=LIMITS,
        events=events(running="test_03_1_a", end=False),
        exit_code=3,
        output_tail="INTERNALERROR> MemoryError",
    )
    assert "ran out of memory (limit 2 GiB)" in module_of(run)["run"]["message"]


def test_collection_error_gives_one_zero_placeholder_per_exercise():
    report = {
        "exitcode": 2,
        "tests": [],
        "collectors": [
            {"nodeid": "modules/03_demo/test_03_demo.py", "outcome": "failed",
             "longrepr": "E   ModuleNotFoundError: No module named 'scipy'"}
        ],
    }  # fmt: skip
    run = ModuleRun(
        limits=LIMITS,
        report=report,
        events=[
            {"event": "begin", "schema": "tinytorch/test-events/v1"},
            {"event": "collected", "tests": []},
            {"event": "end", "exitstatus": 2},
        ],
        exit_code=2,
    )
    module = module_of(run)
    assert module["status"] == "failed" and module["run"]["ended"] == "collection_error"
    assert [t["points"] for t in module["tests"]] == [
        {"earned": 0, "possible": 10},
        {"earned": 0, "possible": 6},
    ]
    assert all(t["status"] == "error" and t["nodeid"] is None for t in module["tests"])
    assert "No module named 'scipy'" in module["run"]["message"]


def test_process_that_died_before_collecting_scores_zero_as_crashed():
    run = ModuleRun(limits=LIMITS, events=events()[:1], exit_code=7)
    module = module_of(run)
    assert module["points"]["earned"] == 0
    assert {t["status"] for t in module["tests"]} == {"crashed"}
    assert "before any test ran" in module["run"]["message"]


def test_a_missing_test_file_is_a_zero_not_a_grader_error():
    module = module_of(ModuleRun(limits=LIMITS, precheck="the graded test file ... is missing"))
    assert module["status"] == "failed" and module["points"] == {"earned": 0, "possible": 16}


def test_pytest_that_never_started_the_plugin_is_a_grader_error():
    run = ModuleRun(
        limits=LIMITS,
        exit_code=4,
        output_tail="ERROR: usage: ...\nERROR: unrecognized arguments: --json-report",
    )
    module = module_of(run)
    assert module["status"] == "error" and module["run"]["ended"] == "grader_error"
    assert "could not start" in module["run"]["message"]
    assert module["points"] == {"earned": 0, "possible": 16}


def test_internal_error_after_memory_error_is_a_crash_not_a_grader_error():
    run = ModuleRun(
        limits=LIMITS,
        report={"exitcode": 3, "tests": [], "collectors": []},
        events=events(running="test_03_1_a"),
        exit_code=3,
        output_tail="INTERNALERROR> MemoryError",
    )
    module = module_of(run)
    assert module["run"]["ended"] == "crashed" and "out of memory" in module["run"]["message"]
    assert module["tests"][0]["status"] == "crashed"


def test_pytest_usage_error_is_a_grader_error():
    run = ModuleRun(
        limits=LIMITS,
        report={"exitcode": 4, "tests": [], "collectors": []},
        events=events()[:1],
        exit_code=4,
        output_tail="ERROR: graded tests are mislabelled:\n  x: no exercise '03.9'",
    )
    module = module_of(run)
    assert module["status"] == "error" and "mislabelled" in module["run"]["message"]


# ---- whole results and exit codes ------------------------------------------------------------


def results_for(*runs, tamper=None, errors=None) -> dict:
    modules = [module_of(run) for run in runs]
    source = {"kind": "working_tree", "detail": "working tree"}
    return build_results(modules, source, tamper=tamper, errors=errors)


PASSED = ModuleRun(limits=LIMITS, events=events(*ALL_PASS), exit_code=0)
TAMPERED = {
    "checked": True,
    "manifest": "root commit abc",
    "findings": [
        {"path": "modules/03_demo/test_03_demo.py", "kind": "modified", "message": "changed"}
    ],
}
CRASHED = ModuleRun(limits=LIMITS, events=events(ALL_PASS[0], running="test_03_1_b", end=False))


def test_exit_codes_zero_all_passed_one_points_lost_two_grader_error():
    assert results_for(PASSED)["exit_code"] == 0
    assert results_for(PASSED, CRASHED)["exit_code"] == 1
    assert results_for(PASSED, errors=["no modules"])["exit_code"] == 2
    assert results_for(PASSED, tamper=TAMPERED)["exit_code"] == 1, "tampering is never a pass"


@pytest.mark.skipif(not can_validate(), reason="jsonschema not installed")
def test_results_follow_the_schema_and_a_broken_one_is_rejected():
    results = results_for(PASSED, CRASHED)
    assert validate("results", results)
    results["modules"][0]["tests"][0]["status"] = "exploded"
    with pytest.raises(SchemaError, match="modules/0/tests/0/status"):
        validate("results", results)


def test_without_durations_drops_only_durations():
    results = results_for(CRASHED)
    stripped = without_durations(results)
    assert "duration" not in stripped["modules"][0]["run"]
    assert "duration" not in stripped["modules"][0]["tests"][0]
    assert stripped["points"] == results["points"]


# ---- renderers ---------------------------------------------------------------------------------


def test_points_table_lists_modules_totals_and_failures():
    results = results_for(CRASHED)
    table = points_table(results)
    assert "03 Demo" in table and "5/16" in table and "test process crashed" in table
    assert "03.1 first  test_03_1_b  [0/5]  crashed" in table
    assert "03.2 second  test_03_2_a  [0/6]  not run" in table


def test_markdown_summary_puts_total_then_modules_milestones_failures_tamper():
    results = results_for(CRASHED, tamper=TAMPERED)
    results["milestones"] = [
        {"number": 1, "name": "Perceptron", "status": "passed", "message": "accuracy 0.98"}
    ]
    text = markdown_summary(results)
    total, table, milestones, fix, warning = (
        text.index("## TinyTorch grade: 5 / 16 points"),
        text.index("| 03 Demo | 5 / 16 | failed"),
        text.index("| 1 Perceptron | passed | accuracy 0.98 |"),
        text.index("**03.1 first** `test_03_1_b` (0/5, crashed)"),
        text.index("Protected files were changed"),
    )
    assert total == 0 and total < table < milestones < fix < warning
    assert "`modules/03_demo/test_03_demo.py` changed" in text
    assert text.count("TinyTorch grade") == 1


def test_markdown_escapes_student_text():
    run = ModuleRun(
        limits=LIMITS,
        events=events(("test_03_1_a", "failed", "AssertionError: <script>|x"), *ALL_PASS[1:]),
        exit_code=1,
    )
    text = markdown_summary(results_for(run))
    assert "<script>" not in text and "&lt;script>\\|x" in text


def test_classroom_result_carries_points_per_test_and_round_trips_base64():
    results = results_for(PASSED, CRASHED)
    payload = classroom_result(results)
    assert payload["version"] == 1 and payload["status"] == "fail"
    assert payload["max_score"] == 32
    assert sum(test["score"] for test in payload["tests"]) == 16 + 5
    assert len(payload["tests"]) == 6, "integration tests are not sent to Classroom"
    crashed = payload["tests"][4]
    assert crashed["status"] == "error" and crashed["message"].startswith("03.1 first")
    assert crashed["test_code"] == "tiny test 03 -k test_03_1_b" and crashed["line_no"] == 21
    assert decode_classroom(encode_classroom(payload)) == payload
    assert "\n" not in encode_classroom(payload)


def test_classroom_status_pass_only_when_every_graded_test_passed():
    assert classroom_result(results_for(PASSED))["status"] == "pass"
    assert classroom_result(results_for(PASSED, errors=["x"]))["status"] == "error"


@pytest.mark.skipif(not can_validate(), reason="jsonschema not installed")
def test_every_schema_is_a_valid_json_schema_with_its_versioned_id():
    import jsonschema

    for name, filename in SCHEMAS.items():
        schema = load_schema(name)
        jsonschema.validators.validator_for(schema).check_schema(schema)
        assert ".v1." in filename and schema["$id"].endswith("/v1")


# ---- reading results back: points are checked, with file:line ----------------------------


def _saved_results(tmp_path: Path) -> tuple[Path, dict]:
    run = ModuleRun(limits=LIMITS, events=[], exit_code=0, report=None)
    results = build_results([build_module(META, run, FILES)], SOURCE)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    assert load_results(path) == results
    return path, results


@pytest.mark.parametrize(
    "earned, problem",
    [
        (99, "99 points earned of a maximum of"),
        (-1, "earned points must not be negative, got -1"),
        (1.5, "earned points must be a whole number, got 1.5"),
    ],
)
def test_a_results_file_with_impossible_points_is_rejected_with_file_and_line(
    tmp_path, earned, problem
):
    path, results = _saved_results(tmp_path)
    test = results["modules"][0]["tests"][0]
    test["points"]["earned"] = earned
    text = json.dumps(results, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")
    earned_line = f'"earned": {json.dumps(earned)},'
    line = next(i for i, text in enumerate(text.splitlines()) if text.strip() == earned_line)
    with pytest.raises(ValueError) as raised:
        load_results(path)
    message = str(raised.value)
    assert message.startswith(f"{path}:{line}: results.modules[0].tests[0].points: ")
    assert problem in message


def test_build_results_refuses_a_total_that_does_not_add_up():
    run = ModuleRun(limits=LIMITS, events=[], exit_code=0, report=None)
    module = build_module(META, run, FILES)
    module["points"]["earned"] = module["points"]["possible"] + 1
    with pytest.raises(ValueError, match="points earned of a maximum of"):
        build_results([module], SOURCE)
