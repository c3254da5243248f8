"""`tiny grade-batch`: three cloned student repositories, graded in parallel like CI.

The template is built by `tiny build` from a one-tier course holding Module 01 only; the
three "clones" are copies of it (with its git history, as `gh classroom clone
student-repos` leaves them): the reference solution, the stubs as handed out, and a
stubbed copy whose graded tests were rewritten to pass and which added a conftest.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from grading import cli
from grading.grade_batch import (
    BatchEntry,
    StudentRepo,
    assignment_slug,
    choose_template,
    render_summary_csv,
    student_name,
)
from grading.repo import REPO_ROOT
from scripts import stubs
from scripts.build_templates import build

CONFIG = """\
schema: tinytorch-course/v1
course: {name: Batch, institution: Test U, term: Test Term, timezone: UTC}
tiers:
  - {slug: foundation, title: Foundation, modules: [1], deadline: "2027-03-07T23:59:00Z"}
"""
SOURCE = "modules/01_tensor/tensor.py"
TESTS = "modules/01_tensor/test_01_tensor.py"
ASSIGNMENT = "tinytorch-foundation"


@pytest.fixture(scope="module")
def classroom(tmp_path_factory) -> dict[str, Path]:
    """A built template and `<assignment>-submissions/` with three student clones."""
    root = tmp_path_factory.mktemp("batch")
    (root / "course.yaml").write_text(CONFIG)
    (built,) = build(root / "course.yaml", root / "templates", log=lambda _: None)
    submissions = root / f"{ASSIGNMENT}-submissions"
    for user in ("ada-l", "bobcat", "mallory"):
        shutil.copytree(built.root, submissions / f"{ASSIGNMENT}-{user}", symlinks=True)
    reference = (REPO_ROOT / SOURCE).read_text()
    (submissions / f"{ASSIGNMENT}-ada-l" / SOURCE).write_text(
        stubs.drop_markers(reference, REPO_ROOT / SOURCE)
    )
    tampered = submissions / f"{ASSIGNMENT}-mallory"
    tests = tampered / TESTS
    original = tests.read_text()
    tests.write_text(re.sub(r"(def test_\w+\(.*\):\n)", r"\1    return\n", original))
    assert tests.read_text().count("    return\n") > original.count("    return\n") + 5
    (tampered / "modules/01_tensor/conftest.py").write_text("# makes every test pass\n")
    return {"template": built.root, "templates": root / "templates", "submissions": submissions}


def summary(out: Path) -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO((out / "summary.csv").read_text()))
    return {row["student"]: row for row in rows}


def test_three_repositories_are_graded_in_parallel_with_pristine_tests(classroom, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["grade-batch", str(classroom["submissions"]), "--pristine", str(classroom["template"])]
    code = cli.main([*argv, "--out", str(out), "--jobs", "2"])
    stdout = capsys.readouterr().out
    assert code == 1, "a tampered repository makes the batch exit 1"
    rows = summary(out)
    assert list(rows) == ["ada-l", "bobcat", "mallory"]
    ada, bob, mallory = rows["ada-l"], rows["bobcat"], rows["mallory"]
    assert (ada["status"], ada["points"], ada["possible"], ada["01_tensor"]) == (
        "passed",
        "60",
        "60",
        "60",
    )
    assert ada["tampered"] == "" and ada["repository"] == f"{ASSIGNMENT}-ada-l"
    assert (bob["status"], bob["points"], bob["tampered"]) == ("failed", "0", "")
    # The rewritten tests did not count: the pristine ones graded the stubs.
    assert (mallory["status"], mallory["points"]) == ("failed", "0")
    assert mallory["tampered"] == (f"modules/01_tensor/conftest.py (added); {TESTS} (modified)")
    assert ada["assignment"] == ASSIGNMENT and ada["error"] == ""
    # One results object per student, as `tiny grade` writes it.
    results = json.loads((out / ASSIGNMENT / "ada-l" / "results.json").read_text())
    assert results["points"] == {"earned": 60, "possible": 60}
    assert results["tests_source"]["kind"] == "pristine_dir"
    mallory_results = json.loads((out / ASSIGNMENT / "mallory" / "results.json").read_text())
    assert [f["path"] for f in mallory_results["tamper"]["findings"]] == [
        "modules/01_tensor/conftest.py",
        TESTS,
    ]
    assert f"{ASSIGNMENT}/mallory: 0/60 failed, TAMPERED" in stdout
    assert f"{TESTS} of the template was changed" in stdout.split("Edits outside")[1]
    assert "3 repositories, 0 not graded (0 missing), 1 tampered" in stdout


def test_audit_only_checks_every_repository_against_the_template(classroom, tmp_path, capsys):
    out = tmp_path / "audit"
    argv = ["grade-batch", str(classroom["submissions"]), "--pristine", str(classroom["template"])]
    argv.append("--audit-only")
    assert cli.main([*argv, "--out", str(out)]) == 1
    rows = summary(out)
    assert {student: row["status"] for student, row in rows.items()} == dict.fromkeys(
        ("ada-l", "bobcat", "mallory"), "audited"
    )
    assert rows["bobcat"]["tampered"] == "" and "(modified)" in rows["mallory"]["tampered"]
    assert rows["ada-l"]["points"] == ""
    assert "[3/3]" in capsys.readouterr().out


def test_a_folder_of_templates_picks_each_assignment_its_tier(classroom, tmp_path):
    parent = tmp_path / "all"
    shutil.copytree(
        classroom["submissions"] / f"{ASSIGNMENT}-bobcat",
        parent / f"{ASSIGNMENT}-submissions" / f"{ASSIGNMENT}-bobcat",
        symlinks=True,
    )
    out = tmp_path / "out"
    argv = ["grade-batch", str(parent), "--pristine", str(classroom["templates"]), "--audit-only"]
    assert cli.main([*argv, "--out", str(out)]) == 0
    assert summary(out)["bobcat"]["assignment"] == ASSIGNMENT


def test_bad_invocations_exit_2(classroom, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    pristine = ["--pristine", str(classroom["template"])]
    assert cli.main(["grade-batch", str(empty), *pristine]) == 2
    assert "no student repository" in capsys.readouterr().err
    assert cli.main(["grade-batch", str(classroom["submissions"])]) == 2
    assert "--pristine DIR" in capsys.readouterr().err
    assert cli.main(["grade-batch", str(classroom["template"]), *pristine]) == 2
    assert "is a single repository" in capsys.readouterr().err
    assert (
        cli.main(["grade-batch", str(classroom["submissions"]), *pristine, "--shard", "3/2"]) == 2
    )
    assert "INDEX must be between 1 and COUNT" in capsys.readouterr().err


def test_names_follow_gh_classroom_clone():
    assert assignment_slug("tinytorch-foundation-submissions") == "tinytorch-foundation"
    assert assignment_slug("clones") == ""
    assert student_name("tinytorch-foundation-ada-l", "tinytorch-foundation") == "ada-l"
    assert student_name("someone-else", "tinytorch-foundation") == "someone-else"
    assert choose_template("tinytorch-foundation", ["architecture", "foundation"]) == "foundation"
    assert choose_template("tinytorch-lab", ["architecture", "foundation"]) is None


def test_summary_lists_a_repository_that_could_not_be_graded():
    repo = StudentRepo(ASSIGNMENT, "zed", Path("/x/tinytorch-foundation-zed"))
    text = render_summary_csv([BatchEntry(repo, error="--pristine-git: no commits")])
    (row,) = csv.DictReader(io.StringIO(text))
    assert (row["status"], row["error"]) == ("error", "--pristine-git: no commits")


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="changing user needs root"
)
def test_student_code_can_run_as_an_unprivileged_user(classroom, tmp_path):
    """--run-as: every submission's code runs as that user; the points stay the same."""
    out = tmp_path / "out"
    argv = ["grade-batch", str(classroom["submissions"]), "--pristine", str(classroom["template"])]
    code = cli.main([*argv, "--out", str(out), "--jobs", "1", "--run-as", "nobody"])
    rows = summary(out)
    assert code == 1 and rows["ada-l"]["points"] == "60" and rows["bobcat"]["points"] == "0"
    assert rows["mallory"]["points"] == "0"
