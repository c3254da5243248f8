"""`tiny grade` end to end on copies of Module 01: the reference, a stubbed copy, and broken
submissions, each with its documented outcome. Every case grades a temporary repository
(`--root`) in real child processes, so these are the slow tests of grading/ (about 1 s each).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from grading.cli import main
from grading.points import expected_tests
from grading.repo import REPO_ROOT
from grading.results import without_durations
from grading.sandbox import GRADER_INI, IMPORT_MODE

MODULE_01 = REPO_ROOT / "modules" / "01_tensor"
TESTS = "modules/01_tensor/test_01_tensor.py"
SOURCE = "modules/01_tensor/tensor.py"
# Points of Module 01 before exercise 01.3 (whose tests run third and fourth): 01.1 + 01.2.
BEFORE_01_3 = 8 + 10

SECOND_MODULE = {
    "module.yaml": """\
number: 2
slug: twice
title: Twice
tier: foundation
source: twice.py
tests: test_02_twice.py
prerequisites: [1]
exports: {tinytorch.extra: [twice]}
exercises:
  - {id: "02.1", name: twice, points: 10}
""",
    "twice.py": "def twice(x):\n"
    "    ### BEGIN SOLUTION 02.1\n    return 2 * x\n    ### END SOLUTION\n",
    "test_02_twice.py": """\
import pytest
from tinytorch.extra import twice

@pytest.mark.exercise("02.1")
def test_02_1_twice():
    assert twice(3) == 6
""",
}


def make_repo(root: Path, second_module: bool = False) -> Path:
    """A repository holding a copy of Module 01 (and optionally a small Module 02)."""
    shutil.copytree(
        MODULE_01, root / "modules" / "01_tensor", ignore=shutil.ignore_patterns("__pycache__")
    )
    if second_module:
        folder = root / "modules" / "02_twice"
        folder.mkdir()
        for name, text in SECOND_MODULE.items():
            (folder / name).write_text(text)
    return root


def inject(root: Path, exercise: str, code: str) -> None:
    """Put `code` at the start of the first solution region of `exercise` in tensor.py."""
    path = root / SOURCE
    text = path.read_text()
    match = re.search(rf"^( *)### BEGIN SOLUTION {re.escape(exercise)}$", text, re.M)
    indent = match.group(1)
    lines = "".join(f"{indent}{line}\n" for line in code.splitlines())
    path.write_text(text[: match.start()] + lines + text[match.start() :])


def inject_in_test(root: Path, test: str, code: str) -> None:
    """Put `code` at the start of the body of `test` in the graded test file: how these tests
    make a process crash or hang now that the module file's policy refuses os, sys, signal."""
    path = root / TESTS
    text = path.read_text()
    match = re.search(rf"^def {re.escape(test)}\(.*?\):\n", text, re.M)
    lines = "".join(f"    {line}\n" for line in code.splitlines())
    path.write_text(text[: match.end()] + lines + text[match.end() :])


def stub(root: Path) -> None:
    """Replace every solution region by a NotImplementedError, as the template build does."""
    path = root / SOURCE
    pattern = re.compile(r"^( *)### BEGIN SOLUTION (\S+)\n.*?### END SOLUTION\n", re.M | re.S)
    path.write_text(
        pattern.sub(
            lambda m: f'{m[1]}raise NotImplementedError("exercise {m[2]}")\n', path.read_text()
        )
    )


def grade(root: Path, *args: str) -> tuple[int, dict]:
    out = root.parent / f"out-{root.name}"
    code = main(["grade", "--root", str(root), "--out", str(out), *args])
    return code, json.loads((out / "results.json").read_text())


def outcomes(results: dict, module: int = 0) -> dict[str, dict]:
    return {t["name"]: t for t in results["modules"][module]["tests"]}


def test_grader_ini_repeats_the_course_pytest_settings():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    ini = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    options = ini["ini_options"]
    for warning_filter in options["filterwarnings"]:
        assert warning_filter in GRADER_INI
    assert f"python_files = {' '.join(options['python_files'])}" in GRADER_INI
    assert f"--import-mode={IMPORT_MODE}" in options["addopts"]


def test_reference_scores_full_points_and_writes_every_output(tmp_path, monkeypatch, capsys):
    root = make_repo(tmp_path / "repo")
    github_output, step_summary = tmp_path / "github_output", tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_OUTPUT", str(github_output))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    code, results = grade(root, "--classroom-output", "--summary")
    assert code == 0 and results["status"] == "passed"
    assert results["points"] == {"earned": 60, "possible": 60}
    assert results["tamper"]["checked"] is False
    stdout = capsys.readouterr().out
    assert re.search(r"01 Tensor\s+60/60\s+passed", stdout)
    # The Classroom result: one `result=` line, base64 of the reporter's JSON.
    (line,) = github_output.read_text().splitlines()
    assert line.startswith("result=")
    payload = json.loads(base64.b64decode(line.removeprefix("result=")))
    assert payload["max_score"] == 60 and payload["status"] == "pass"
    tests = len(expected_tests(root / TESTS))
    assert sum(t["score"] for t in payload["tests"]) == 60 and len(payload["tests"]) == tests
    assert step_summary.read_text().startswith("## TinyTorch grade: 60 / 60 points")
    out = tmp_path / "out-repo"
    assert json.loads((out / "classroom_result.json").read_text()) == payload
    assert (out / "runs/01_tensor/output.log").is_file()
    # Grading the same code again gives the same results apart from durations.
    _, again = grade(root)
    assert without_durations(again) == without_durations(results)


def test_stubbed_copy_scores_zero_without_grader_error(tmp_path):
    root = make_repo(tmp_path / "repo")
    stub(root)
    code, results = grade(root)
    assert code == 1 and results["status"] == "failed" and results["errors"] == []
    assert results["points"] == {"earned": 0, "possible": 60}
    module = results["modules"][0]
    assert module["run"]["ended"] == "completed"
    assert {t["status"] for t in module["tests"]} == {"failed"}
    assert all(
        t["message"].startswith("NotImplementedError: exercise 01.") for t in module["tests"]
    )


def test_syntax_error_costs_the_module_and_names_file_and_line(tmp_path):
    root = make_repo(tmp_path / "repo")
    source = root / SOURCE
    source.write_text(
        source.read_text().replace("import numpy as np\n", "import numpy as np\nx = (\n", 1)
    )
    code, results = grade(root)
    module = results["modules"][0]
    assert code == 1 and module["points"]["earned"] == 0
    assert module["run"]["ended"] == "collection_error"
    assert re.search(
        r"SyntaxError: .*\(modules/01_tensor/tensor.py, line \d+\)", module["run"]["message"]
    )
    assert len(module["tests"]) == 7, "one zero-point placeholder per exercise"


def test_infinite_loop_is_stopped_by_the_per_test_limit(tmp_path):
    root = make_repo(tmp_path / "repo")
    inject(root, "01.3", "while True:\n    pass")
    code, results = grade(root, "--timeout", "1")
    tests = outcomes(results)
    assert code == 1 and results["points"]["earned"] == 60 - 10
    loop = tests["test_01_3_matmul_matches_numpy_including_batches"]
    assert loop["status"] == "timeout" and "longer than 1 s" in loop["message"]
    assert tests["test_01_4_reshape_and_transpose_are_views"]["status"] == "passed"


def test_a_loop_the_timeout_cannot_interrupt_hits_the_wall_clock_limit(tmp_path):
    root = make_repo(tmp_path / "repo", second_module=True)
    inject_in_test(
        root,
        "test_01_3_matmul_matches_numpy_including_batches",
        # The per-test limit's signal is ignored, as if stuck in one long C call; sleeping
        # keeps the hang from costing CPU time in this test.
        "import signal, time\n"
        "signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "while True:\n    time.sleep(1)",
    )
    code, results = grade(root, "--timeout", "1", "--wall-limit", "5")
    module, other = results["modules"]
    tests = outcomes(results)
    assert module["run"]["ended"] == "wall_timeout" and "5 s" in module["run"]["message"]
    assert module["points"]["earned"] == BEFORE_01_3, "tests finished before the loop count"
    assert tests["test_01_3_matmul_matches_numpy_including_batches"]["status"] == "timeout"
    assert tests["test_01_7_memory_footprint_counts_float32_bytes"]["status"] == "not_run"
    assert other["status"] == "passed" and other["points"]["earned"] == 10


def test_memory_bomb_fails_with_out_of_memory(tmp_path):
    """A memory bomb in 01.5 costs 01.5's tests. Either pytest survives and reports the
    test as out of memory (the usual case), or it runs out of memory again while reporting
    and the process ends: then the test is an error that says so, the tests after it are not
    run and the earlier ones keep their points, as after a crash. Never "tampering"."""
    root = make_repo(tmp_path / "repo")
    inject(root, "01.5", "hog = []\nwhile True:\n    hog.append(np.ones(1 << 24))")
    code, results = grade(root, "--memory-limit", "768M")
    module = results["modules"][0]
    assert module["run"]["limits"]["memory_bytes"] == 768 << 20
    assert module["run"]["ended"] in ("completed", "crashed"), module["run"]
    tests = outcomes(results)
    bomb = tests["test_01_5_sum_and_max_along_axes"]
    if module["run"]["ended"] == "completed":
        assert bomb["status"] == "failed" and bomb["message"].startswith(
            "ran out of memory (limit 768 MiB)"
        ), bomb["message"]
        assert results["points"]["earned"] == 60 - 10
    else:
        assert bomb["status"] == "error" and "never recorded" in bomb["message"]
        order = [t["name"] for t in module["tests"]]
        before = order[: order.index(bomb["name"])]
        assert results["points"]["earned"] == sum(
            tests[name]["points"]["earned"] for name in before
        ) and all(tests[name]["status"] == "passed" for name in before)


def test_os_exit_keeps_earlier_tests_and_the_next_module_is_still_graded(tmp_path):
    root = make_repo(tmp_path / "repo", second_module=True)
    inject_in_test(
        root, "test_01_3_matmul_matches_numpy_including_batches", "import os\nos._exit(0)"
    )
    code, results = grade(root)
    module, other = results["modules"]
    tests = outcomes(results)
    assert code == 1 and module["run"]["ended"] == "crashed"
    assert module["run"]["message"].startswith(
        "the test process ended abruptly during test_01_3_matmul_matches_numpy_including_batches"
    )
    assert (
        "os._exit or a crash in your code; other tests of this module were not run"
        in (module["run"]["message"])
    )
    assert module["points"]["earned"] == BEFORE_01_3
    assert tests["test_01_3_matmul_matches_numpy_including_batches"]["status"] == "crashed"
    assert tests["test_01_3_matmul_mismatch_names_both_shapes"]["status"] == "not_run"
    assert other["status"] == "passed" and results["points"] == {"earned": 28, "possible": 70}


def test_os_exit_while_importing_scores_zero_as_crashed(tmp_path):
    root = make_repo(tmp_path / "repo")
    tests = root / TESTS
    tests.write_text(
        tests.read_text().replace(
            "import numpy as np\n", "import numpy as np\nimport os\nos._exit(7)\n", 1
        )
    )
    code, results = grade(root)
    module = results["modules"][0]
    assert module["run"]["ended"] == "crashed" and module["run"]["exit_code"] == 7
    assert module["points"]["earned"] == 0 and "before any test ran" in module["run"]["message"]


def test_sys_exit_fails_only_its_test(tmp_path, monkeypatch):
    root = make_repo(tmp_path / "repo")
    inject_in_test(root, "test_01_6_exp_log_and_indexing", "import sys\nsys.exit(3)")
    # Without --root the grader grades the modules folder that $TINYTORCH_MODULES names.
    monkeypatch.setenv("TINYTORCH_MODULES", str(root / "modules"))
    out = tmp_path / "out"
    assert main(["grade", "--modules", "01", "--out", str(out)]) == 1
    results = json.loads((out / "results.json").read_text())
    test = outcomes(results)["test_01_6_exp_log_and_indexing"]
    assert test["status"] == "failed" and "sys.exit()" in test["message"]
    assert results["points"]["earned"] == 60 - test["points"]["possible"]


def test_a_module_file_that_imports_os_is_refused_before_it_runs(tmp_path):
    root = make_repo(tmp_path / "repo", second_module=True)
    inject(root, "01.3", "import os\nos._exit(0)")
    code, results = grade(root)
    module, other = results["modules"]
    assert code == 1 and module["run"]["ended"] == "refused"
    assert module["points"] == {"earned": 0, "possible": 60}
    assert module["run"]["message"].startswith(
        "modules/01_tensor/tensor.py imports `os`: module files may not import os; use only "
        "numpy, math and the tinytorch namespaces listed in module.yaml"
    )
    assert other["run"]["ended"] == "refused" and other["points"] == {"earned": 0, "possible": 10}
    assert other["run"]["message"].startswith("blocked by module 01: modules/01_tensor/tensor.py")


def cheat(root: Path) -> None:
    """A stubbed submission whose tests were edited to return before asserting anything."""
    stub(root)
    tests = root / TESTS
    tests.write_text(re.sub(r"(def test_\w+\(\):\n)", r"\1    return\n", tests.read_text()))


def test_edited_tests_are_replaced_by_pristine_ones_and_reported(tmp_path):
    pristine = make_repo(tmp_path / "pristine")
    root = make_repo(tmp_path / "repo")
    cheat(root)
    code, results = grade(root, "--pristine", str(pristine))
    assert code == 1 and results["points"]["earned"] == 0
    assert results["tests_source"]["kind"] == "pristine_dir"
    assert [(f["path"], f["kind"]) for f in results["tamper"]["findings"]] == [(TESTS, "modified")]
    summary = (tmp_path / "out-repo" / "summary.md").read_text()
    assert summary.index("| Module |") < summary.index("Protected files were changed")


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(root), *args],
        check=True,
        capture_output=True,
    )


def test_pristine_git_takes_tests_from_the_root_commit(tmp_path):
    root = make_repo(tmp_path / "repo")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "template")
    cheat(root)
    (root / "modules" / "conftest.py").write_text("# would rewrite outcomes\n")
    code, results = grade(root, "--pristine-git")
    assert results["points"]["earned"] == 0 and results["tests_source"]["kind"] == "pristine_git"
    assert [(f["path"], f["kind"]) for f in results["tamper"]["findings"]] == [
        (TESTS, "modified"),
        ("modules/conftest.py", "added"),
    ]


def test_deleted_test_file_scores_zero_or_is_restored_from_the_pristine_copy(tmp_path):
    pristine = make_repo(tmp_path / "pristine")
    root = make_repo(tmp_path / "repo")
    (root / TESTS).unlink()
    code, results = grade(root)
    module = results["modules"][0]
    assert code == 1 and results["errors"] == [] and module["points"]["earned"] == 0
    assert "is missing" in module["run"]["message"]
    code, results = grade(root, "--pristine", str(pristine))
    assert results["points"]["earned"] == 60
    assert code == 1, "all points, but a protected file is gone: not a pass"
    assert [(f["path"], f["kind"]) for f in results["tamper"]["findings"]] == [(TESTS, "deleted")]


def test_bad_options_are_grader_errors_and_still_tell_classroom(tmp_path, monkeypatch, capsys):
    root = make_repo(tmp_path / "repo")
    github_output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(github_output))
    assert main(["grade", "--root", str(root), "--memory-limit", "lots"]) == 2
    assert "--memory-limit: 'lots' is not a size" in capsys.readouterr().err
    assert main(["grade", "--root", str(root), "--modules", "99", "--classroom-output"]) == 2
    payload = json.loads(
        base64.b64decode(github_output.read_text().strip().removeprefix("result="))
    )
    assert payload["status"] == "error" and payload["max_score"] == 0
    assert main(["grade", "--root", str(root), "--pristine-git"]) == 2, "not a git repository"


def test_a_grader_error_still_reports_every_requested_module_with_its_full_maximum(
    tmp_path, monkeypatch
):
    """A bad option is a grader error: Classroom still gets module 01's 60 points as the
    maximum with score 0, never a result with max_score 0 that the reporter would drop."""
    root = make_repo(tmp_path / "repo", second_module=True)
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    argv = ["grade", "--root", str(root), "--modules", "01", "--classroom-output"]
    assert main([*argv, "--pristine", str(tmp_path / "no-such-template")]) == 2
    payload = json.loads(base64.b64decode(output.read_text().strip().removeprefix("result=")))
    assert payload["status"] == "error" and payload["max_score"] == 60
    assert [(t["score"], t["status"]) for t in payload["tests"]] == [(0, "error")]
    assert "--pristine: " in payload["tests"][0]["message"]
