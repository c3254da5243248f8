"""The platform adapters on hand-written results: Classroom 50 and Gradescope renderers,
identity and names, milestones and the capstone leaderboard. No grading process is started
here (scripts/test_platform_bundles.py runs the built autograders end to end)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from grading import classroom50, gradescope, platform_run
from grading.course_modules import Exercise, ModuleMeta, ModuleMetaError, load_module_meta
from grading.milestone_verdicts import milestone_record
from grading.repo import REPO_ROOT
from grading.results import ModuleRun, RunLimits, build_module, build_results
from grading.schemas import SchemaError, can_validate, validate
from grading.submission import dump_submission, example_submission

needs_jsonschema = pytest.mark.skipif(not can_validate(), reason="jsonschema not installed")
LIMITS = RunLimits(test_timeout=30.0, wall_time=300.0, memory_bytes=2 << 30)
ENV = {
    "CLASSROOM": "cs249",
    "ASSIGNMENT": "foundation",
    "USERNAME": "alice",
    "SUBMISSION_TAG": "submit/2027-03-01T12-00-00Z-1a2b3c4",
    "COMMIT_URL": "https://github.com/org/cs249-foundation-alice/commit/1a2b3c4",
    "RELEASE_URL": "https://github.com/org/cs249-foundation-alice/releases/tag/submit%2F1",
    "REVIEW_URL": "",
}
NOW = dt.datetime(2027, 3, 1, 12, 30, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5)))


def meta(number: int, exercises: list[tuple[str, int]]) -> ModuleMeta:
    return ModuleMeta(
        number=number,
        slug=f"m{number}",
        title=f"Module {number}",
        tier="foundation",
        folder=Path(f"/nowhere/{number:02d}_m{number}"),
        source=f"m{number}.py",
        tests=f"test_{number:02d}_m{number}.py",
        prerequisites=(),
        exports={},
        terms=(),
        timeout=30,
        exercises=tuple(Exercise(i, f"ex_{i[-1]}", p, "") for i, p in exercises),
    )


def module_record(info: ModuleMeta, outcomes: dict[str, str], points: dict[str, int]) -> dict:
    """A module's record from an event stream: `outcomes` test name -> passed/failed;
    a test named test_together is an (ungraded) integration test."""
    prefix = f"modules/{info.key}/{info.tests}::"
    collected = [
        {
            "nodeid": prefix + name,
            "lineno": 10 * i,
            "exercise": None if name == "test_together" else f"{info.number:02d}.{name[8]}",
            "label": None if name == "test_together" else f"{info.number:02d}.{name[8]} x",
            "points": points.get(name, 0),
        }
        for i, name in enumerate(outcomes)
    ]
    stream = [{"event": "begin"}, {"event": "collected", "tests": collected}]
    for name, outcome in outcomes.items():
        message = None if outcome == "passed" else "AssertionError: shapes differ (2, 3) != (3,)"
        stream += [
            {"event": "start", "nodeid": prefix + name},
            {"event": "finish", "nodeid": prefix + name, "outcome": outcome, "message": message,
             "duration": 0.25},
        ]  # fmt: skip
    stream.append({"event": "end", "exitstatus": 0})
    run = ModuleRun(limits=LIMITS, events=stream, exit_code=0)
    files = {"source": f"modules/{info.key}/{info.source}", "tests": f"modules/{info.key}/x"}
    return build_module(info, run, files)


def sample_results(capstone: bool = False, milestones: list[dict] | None = None) -> dict:
    """Module 01: two exercises, one test failing, one integration test; module 02: its
    test file could not be loaded (placeholders); optionally a Module 20 that passed."""
    first = meta(1, [("01.1", 10), ("01.2", 6)])
    passing = {"test_01_1_a": "passed", "test_01_1_b": "passed", "test_01_2_a": "failed"}
    modules = [
        module_record(
            first,
            {**passing, "test_together": "passed"},
            {"test_01_1_a": 5, "test_01_1_b": 5, "test_01_2_a": 6},
        )
    ]
    second = meta(2, [("02.1", 7), ("02.2", 3)])
    broken = ModuleRun(
        limits=LIMITS,
        events=[{"event": "begin"}, {"event": "end", "exitstatus": 2}],
        report={
            "exitcode": 2,
            "tests": [],
            "collectors": [
                {"outcome": "failed", "longrepr": 'File "/tmp/x/m2.py", line 4\nSyntaxError: bad'}
            ],
        },
        exit_code=2,
    )
    modules.append(build_module(second, broken, {"source": "modules/02_m2/m2.py", "tests": "t"}))
    if capstone:
        last = meta(20, [("20.1", 100)])
        modules.append(module_record(last, {"test_20_1_a": "passed"}, {"test_20_1_a": 100}))
    return build_results(
        modules, {"kind": "pristine_dir", "detail": "bundle"}, milestones=milestones or []
    )


# ---- Classroom 50: identity, names, result ---------------------------------------------


def test_identity_from_the_runner_environment_falls_back_to_the_commit_for_review():
    identity = classroom50.identity_from_env(ENV)
    assert identity.username == "alice" and identity.review == ENV["COMMIT_URL"]
    with_review = classroom50.identity_from_env({**ENV, "REVIEW_URL": "https://x/compare/a...b"})
    assert with_review.review == "https://x/compare/a...b"


@pytest.mark.parametrize(
    "missing", [("CLASSROOM",), ("USERNAME", "RELEASE_URL"), ("SUBMISSION_TAG",)]
)
def test_a_missing_identity_variable_is_named(missing):
    environ = {k: v for k, v in ENV.items() if k not in missing}
    with pytest.raises(classroom50.IdentityError) as caught:
        classroom50.identity_from_env(environ)
    for name in missing:
        assert name in str(caught.value)
    assert "COMMIT_URL" not in str(caught.value)


def test_a_submission_tag_outside_submit_is_refused():
    with pytest.raises(classroom50.IdentityError, match="must start with 'submit/'"):
        classroom50.identity_from_env({**ENV, "SUBMISSION_TAG": "v1.0"})


def test_utc_stamp_is_classroom50s_form():
    assert classroom50.utc_stamp(NOW) == "2027-03-01T17:30:05Z"
    with pytest.raises(ValueError):
        classroom50.utc_stamp(dt.datetime(2027, 1, 1))


def test_test_names_stay_unique_and_within_100_bytes():
    long_a = "01.3 test_" + "a" * 120 + "_one"
    long_b = "01.3 test_" + "a" * 120 + "_two"  # same first 100 bytes as long_a
    accents = "01.4 " + "é" * 80  # 2 bytes each: a cut must not split a character
    names = classroom50.unique_test_names([long_a, long_b, "x", "x", "x", accents])
    assert len(set(names)) == len(names)
    assert all(len(n.encode("utf-8")) <= classroom50.TEST_NAME_BYTES for n in names)
    assert names[2:5] == ["x", "x (2)", "x (3)"]
    assert names[0].endswith("…") and names[1].endswith("(2)")
    assert names[5].encode("utf-8").decode("utf-8") == names[5]


@needs_jsonschema
def test_result_follows_the_schema_and_adds_up():
    results = sample_results()
    payload = classroom50.classroom50_result(results, classroom50.identity_from_env(ENV), NOW)
    validate("classroom50_result", payload)
    assert classroom50.check_result(payload) == []
    assert payload["datetime"] == "2027-03-01T17:30:05Z"
    assert "usernames" not in payload and payload["review"] == ENV["COMMIT_URL"]
    assert (payload["owner"], payload["assignment_type"]) == ("alice", "individual")
    assert (payload["score"], payload["max-score"]) == (10, 26)
    names = [t["test-name"] for t in payload["tests"]]
    assert "01.1 test_01_1_a" in names and not any("together" in n for n in names)
    assert "02.1 ex_1 (no test collected)" in names, "placeholders keep the exercise id"
    failed = next(t for t in payload["tests"] if t["test-name"] == "01.2 test_01_2_a")
    assert failed == {"test-name": "01.2 test_01_2_a", "passed": False, "score": 0,
                      "max-score": 6}  # fmt: skip


def test_check_result_finds_what_the_schema_cannot():
    results = sample_results()
    payload = classroom50.classroom50_result(results, classroom50.identity_from_env(ENV), NOW)
    payload["score"] = payload["max-score"] + 1
    payload["tests"][1]["test-name"] = payload["tests"][0]["test-name"]
    payload["tests"][2]["test-name"] = "y" * 101
    problems = " | ".join(classroom50.check_result(payload))
    assert "not within" in problems and "sum of the tests' scores" in problems
    assert "repeat" in problems and "longer than 100 bytes" in problems


@needs_jsonschema
def test_the_result_schema_refuses_fractional_points_and_unknown_fields():
    payload = classroom50.classroom50_result(
        sample_results(), classroom50.identity_from_env(ENV), NOW
    )
    for broken in ({**payload, "score": 9.5}, {**payload, "grade": "A"}):
        with pytest.raises(SchemaError):
            validate("classroom50_result", broken)


def test_release_body_is_the_markdown_summary_with_milestones():
    milestone = {"number": 1, "name": "Perceptron", "status": "passed", "message": "PASS: 100%"}
    body = classroom50.release_body(sample_results(milestones=[milestone]))
    assert "| 01 Module 1 | 10 / 16 | failed |" in body
    assert "**01.2 x** `test_01_2_a` (0/6, failed): AssertionError: shapes differ" in body
    assert "SyntaxError" in body and "| 1 Perceptron | passed | PASS: 100% |" in body


def test_write_atomic_replaces_the_whole_file_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "result.json"
    target.write_text("old")
    classroom50.write_atomic(target, "new")
    assert target.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["result.json"]


# ---- Gradescope ------------------------------------------------------------------------


@needs_jsonschema
def test_gradescope_results_list_every_graded_test_by_exercise_id():
    milestone = {"number": 2, "name": "XOR", "status": "failed", "message": "FAIL: 50%"}
    payload = gradescope.gradescope_results(
        sample_results(milestones=[milestone]), execution_time=12.4, notes=("Graded x.",)
    )
    validate("gradescope_results", payload)
    assert payload["score"] == 10 and payload["execution_time"] == 12
    graded = [t for t in payload["tests"] if "score" in t]
    assert sum(t["max_score"] for t in graded) == 26
    assert [t["number"] for t in graded][:3] == ["01.1", "01.1", "01.2"]
    failed = graded[2]
    assert failed["status"] == "failed" and failed["score"] == 0
    assert failed["output"].startswith("failed: AssertionError: shapes differ")
    placeholder = next(t for t in graded if t["number"] == "02.1")
    assert "could not be loaded" in placeholder["output"] and "SyntaxError" in placeholder["output"]
    informational = payload["tests"][-1]
    assert informational == {
        "name": "Milestone 2: XOR (not graded)",
        "number": "M2",
        "status": "failed",
        "output": "FAIL: 50%",
    }
    assert payload["output"].startswith("- Graded x.\n\n## TinyTorch grade: 10 / 26")
    assert payload["extra_data"]["tinytorch_results"]["schema"] == "tinytorch/results/v1"
    assert "leaderboard" not in payload


@needs_jsonschema
def test_the_capstone_tier_fills_the_leaderboard_from_the_submission():
    submission = example_submission("alice", accuracy=0.9321, latency_p50_ms=0.42)
    payload = gradescope.gradescope_results(
        sample_results(capstone=True), execution_time=1, submission=submission
    )
    assert payload["leaderboard"] == [
        {"name": "Accuracy", "value": 0.9321, "order": "desc"},
        {"name": "Latency p50 (ms)", "value": 0.42, "order": "asc"},
        {"name": "Model size (bytes)", "value": 5328, "order": "asc"},
    ]
    without = gradescope.gradescope_results(
        sample_results(capstone=True), execution_time=1, submission_error="field x: NaN"
    )
    assert (
        "leaderboard" not in without and "No leaderboard entry: field x: NaN." in without["output"]
    )
    other_tier = gradescope.gradescope_results(
        sample_results(), execution_time=1, submission=submission
    )
    assert "leaderboard" not in other_tier, "only the tier holding Module 20 has a leaderboard"


@needs_jsonschema
def test_error_results_are_readable_and_valid():
    payload = gradescope.error_results("FileNotFoundError: no submission folder", 3.2)
    validate("gradescope_results", payload)
    assert payload["score"] == 0 and "not with your code" in payload["output"]


@needs_jsonschema
def test_gradescope_schema_refuses_fractional_scores():
    payload = gradescope.gradescope_results(sample_results(), execution_time=1)
    payload["tests"][0]["score"] = 2.5
    with pytest.raises(SchemaError):
        validate("gradescope_results", payload)


def pristine_tree(root: Path) -> Path:
    """A pristine tree holding the real Module 01 metadata and a one-tier course.yaml."""
    (root / "modules" / "01_tensor").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "modules" / "01_tensor" / "module.yaml", root / "modules" / "01_tensor")
    (root / ".tinytorch").mkdir()
    (root / ".tinytorch" / "course.yaml").write_text(
        "schema: tinytorch-course/v1\n"
        "course: {name: C, institution: U, term: T, timezone: UTC}\n"
        "tiers:\n  - {slug: one, title: One, modules: [1], milestones: [6],\n"
        '     deadline: "2027-01-01T00:00:00+00:00"}\n'
    )
    return root


def test_a_submitted_repository_is_graded_where_it_is(tmp_path):
    pristine = pristine_tree(tmp_path / "pristine")
    top = tmp_path / "top"
    (top / "modules").mkdir(parents=True)
    assert gradescope.locate_checkout(top, pristine, tmp_path)[0] == top
    zipped = tmp_path / "zipped"
    (zipped / "my-repo" / "modules").mkdir(parents=True)
    checkout, notes = gradescope.locate_checkout(zipped, pristine, tmp_path)
    assert checkout == zipped / "my-repo" and notes == ["Graded the repository at `my-repo/`."]


def test_loose_files_are_placed_by_name_and_missing_ones_are_named(tmp_path):
    pristine = pristine_tree(tmp_path / "pristine")
    assert gradescope.student_files(pristine) == ["modules/01_tensor/tensor.py"]
    upload = tmp_path / "upload"
    (upload / "deep").mkdir(parents=True)
    (upload / "tensor.py").write_text("# mine\n")
    (upload / "deep" / "tensor.py").write_text("# older copy\n")
    checkout, notes = gradescope.locate_checkout(upload, pristine, tmp_path / "scratch")
    assert (checkout / "modules" / "01_tensor" / "tensor.py").read_text() == "# mine\n"
    assert (checkout / ".tinytorch" / "course.yaml").is_file(), "the rest is the pristine tree"
    assert notes == ["Graded your `tensor.py` as `modules/01_tensor/tensor.py`."]
    empty = tmp_path / "empty"
    empty.mkdir()
    _, notes = gradescope.locate_checkout(empty, pristine, tmp_path / "scratch2")
    assert notes == [
        "Not in your submission, so not graded (0 points): `modules/01_tensor/tensor.py`."
    ]


# ---- milestones ------------------------------------------------------------------------


def test_milestones_are_named_as_tiny_grade_names_them():
    assert platform_run.milestone_name(Path("m1_perceptron_1958.py")) == "perceptron 1958"


@pytest.mark.parametrize("valid", [True, False])
def test_a_capstone_submission_written_by_a_milestone_is_validated(tmp_path, monkeypatch, valid):
    pristine = pristine_tree(tmp_path / "pristine")
    (pristine / "milestones").mkdir()
    (pristine / "milestones" / "m6_submission.py").write_text('TITLE = "Milestone 6"\n')
    document = example_submission("alice")

    def fake_run(number, modules_root, arguments, run_as, timeout, keep, memory):
        target = keep / "capstone" / "submission.json"  # what keep_outputs copies out
        target.parent.mkdir(parents=True)
        text = dump_submission(document)
        target.write_text(text if valid else text.replace('"accuracy": 0.95', '"accuracy": 7'))
        return milestone_record(number, "submission", 0, "PASS: submitted\n"), "PASS: submitted"

    monkeypatch.setattr(platform_run, "sandboxed_milestone", fake_run)
    course = platform_run.bundle_course(pristine)
    entries, submission, problem = platform_run.run_milestones(
        pristine, tmp_path / "tree", tmp_path / "work", course
    )
    assert entries == [{"number": 6, "name": "submission", "status": "passed",
                        "message": "PASS: submitted"}]  # fmt: skip
    if valid:
        assert submission == json.loads(dump_submission(document)) and problem is None
    else:
        assert submission is None and "optimized.accuracy" in problem
        assert str(tmp_path) not in problem, "the message names the file inside the run"


def test_fractional_points_stop_at_module_yaml(tmp_path):
    """Points are whole numbers end to end: module.yaml (and course.yaml, see
    test_course_config.py) refuse 2.5 before any platform could receive it."""
    folder = tmp_path / "01_tensor"
    shutil.copytree(REPO_ROOT / "modules" / "01_tensor", folder)
    text = (folder / "module.yaml").read_text(encoding="utf-8")
    first = text.index("points:")
    end = text.index("\n", first)
    (folder / "module.yaml").write_text(text[:first] + "points: 2.5" + text[end:])
    with pytest.raises(ModuleMetaError, match=r"'points' must be int, got float 2.5"):
        load_module_meta(folder)
