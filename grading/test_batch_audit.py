"""`tiny grade-batch` runs nothing of a student's repository but the student files and names
every other difference: hostile repositories against a one-module template (Module 01).

Every planted file that would run if the grader used the student's checkout (setup.py,
conftest.py, sitecustomize.py, a .pth file, an edited grader or test) writes a marker file
when executed; the marker must never appear, and each file must be named in the findings.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from grading import cli
from grading.batch_audit import (
    assemble,
    audit,
    read_student_files,
    student_files,
    tamper_findings,
)
from grading.commands import grade_batch
from grading.repo import REPO_ROOT
from scripts import stubs
from scripts.build_templates import build

CONFIG = """\
schema: tinytorch-course/v1
course: {name: Audit, institution: Test U, term: Test Term, timezone: UTC}
tiers:
  - {slug: foundation, title: Foundation, modules: [1], deadline: "2027-03-07T23:59:00Z"}
"""
SOURCE = "modules/01_tensor/tensor.py"
TESTS = "modules/01_tensor/test_01_tensor.py"
ASSIGNMENT = "tinytorch-foundation"
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Student",
    "GIT_AUTHOR_EMAIL": "student@example.invalid",
    "GIT_COMMITTER_NAME": "Student",
    "GIT_COMMITTER_EMAIL": "student@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "commit.gpgsign=false", *args],
        env=GIT_ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("audit")
    (root / "course.yaml").write_text(CONFIG)
    (built,) = build(root / "course.yaml", root / "templates", log=lambda _: None)
    reference = stubs.drop_markers((REPO_ROOT / SOURCE).read_text(), REPO_ROOT / SOURCE)
    marker = root / "EXECUTED"
    submissions = root / f"{ASSIGNMENT}-submissions"

    def clone(user: str) -> Path:
        repo = submissions / f"{ASSIGNMENT}-{user}"
        shutil.copytree(built.root, repo, symlinks=True)
        for path in repo.rglob("*"):
            if path.is_file() and ".git" not in path.parts:
                path.chmod(0o644)
        (repo / SOURCE).write_text(reference)
        return repo

    run_me = f"open({str(marker)!r}, 'a').write(__file__ + '\\n')\n"
    hostile = clone("hostile")
    (hostile / "setup.py").write_text(run_me)
    (hostile / "conftest.py").write_text(run_me)
    (hostile / "modules/01_tensor/sitecustomize.py").write_text(run_me)
    (hostile / "modules/01_tensor/helper.py").write_text(run_me)
    (hostile / "tinytorch_boot.pth").write_text(f"import os; {run_me}")
    (hostile / "grading/sandbox/plugin.py").write_text(run_me)
    (hostile / TESTS).write_text(f"{run_me}def test_free():\n    pass\n")
    workflow = hostile / ".github/workflows/classroom.yml"
    workflow.write_text(workflow.read_text() + "# edited\n")
    (hostile / "pyproject.toml").write_text(run_me)
    (hostile / "README.md").unlink()
    commit_all(hostile, "work")

    linked = clone("linked")
    outside = root / "elsewhere.py"
    outside.write_text(reference)
    (linked / SOURCE).unlink()
    (linked / SOURCE).symlink_to(outside)

    missing = clone("missing")
    (missing / SOURCE).unlink()

    rewritten = clone("rewritten")
    shutil.rmtree(rewritten / ".git")
    git(rewritten, "init", "-q", "-b", "main")
    commit_all(rewritten, "my own start")

    # GitHub's "create from template": a new first commit with the template's files.
    from_template = submissions / f"{ASSIGNMENT}-fromtemplate"
    shutil.copytree(built.root, from_template, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    git(from_template, "init", "-q", "-b", "main")
    commit_all(from_template, "Initial commit")
    (from_template / SOURCE).write_text(reference)
    commit_all(from_template, "done")

    plain = clone("plain")
    shutil.rmtree(plain / ".git")
    return {"template": built.root, "submissions": submissions, "marker": marker}


def rows(out: Path) -> dict[str, dict[str, str]]:
    return {r["student"]: r for r in csv.DictReader(io.StringIO((out / "summary.csv").read_text()))}


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("graded")
    argv = ["grade-batch", str(course["submissions"]), "--pristine", str(course["template"])]
    code = cli.main([*argv, "--out", str(out), "--jobs", "2"])
    return {"code": code, "rows": rows(out), "out": out}


def test_nothing_of_the_repository_runs_but_the_student_file(course, graded):
    assert graded["code"] == 1
    assert not course["marker"].exists(), course["marker"].read_text()
    hostile = graded["rows"]["hostile"]
    # The honest code earns its points from the pristine tests; the edits earn nothing more.
    assert (hostile["points"], hostile["possible"], hostile["status"]) == ("60", "60", "failed")
    assert hostile["tampered"] == "; ".join(
        [
            ".github/workflows/classroom.yml (modified)",
            "README.md (deleted)",
            "conftest.py (added)",
            "grading/sandbox/plugin.py (modified)",
            "modules/01_tensor/helper.py (added)",
            "modules/01_tensor/sitecustomize.py (added)",
            f"{TESTS} (modified)",
            "pyproject.toml (modified)",
            "setup.py (added)",
            "tinytorch_boot.pth (added)",
        ]
    )
    results = json.loads((graded["out"] / ASSIGNMENT / "hostile" / "results.json").read_text())
    assert results["status"] == "failed" and len(results["tamper"]["findings"]) == 10
    assert "every file of the repository" in results["tamper"]["manifest"]


def test_a_symlink_or_a_missing_student_file_grades_zero_and_is_named(graded):
    linked, missing = graded["rows"]["linked"], graded["rows"]["missing"]
    assert (linked["points"], linked["possible"]) == ("0", "60")
    assert linked["tampered"] == f"{SOURCE} (not_regular)"
    assert (missing["points"], missing["tampered"]) == ("0", f"{SOURCE} (missing)")


def test_rewritten_or_absent_history_is_flagged_but_a_template_copy_is_not(graded):
    every = graded["rows"]
    assert every["rewritten"]["tampered"] == ".git (history)"
    assert every["rewritten"]["points"] == "60"
    assert every["plain"]["tampered"] == ".git (history)"
    assert every["fromtemplate"]["tampered"] == ""
    assert every["fromtemplate"]["points"] == "60"
    assert every["fromtemplate"]["status"] == "passed"


def test_audit_and_assemble_directly(course, tmp_path):
    template = course["template"]
    assert student_files(template) == [SOURCE]
    repo = course["submissions"] / f"{ASSIGNMENT}-hostile"
    findings = [f.as_dict() for f in audit(repo, template, [SOURCE])]
    kinds = {f["kind"] for f in tamper_findings(findings)}
    assert kinds == {"added", "modified", "deleted"}
    student = read_student_files(repo, [SOURCE])
    tree = assemble(template, student, [SOURCE], tmp_path / "tree")
    assert (tree / SOURCE).read_bytes() == (repo / SOURCE).read_bytes()
    assert (tree / TESTS).read_bytes() == (template / TESTS).read_bytes()
    assert not (tree / "setup.py").exists() and not (tree / "conftest.py").exists()
    assert not (tree / ".git").exists()


def test_a_template_changed_during_grading_stops_the_batch(course, tmp_path, monkeypatch, capsys):
    """Student code that reaches the template would change every later grade: detected."""
    template = tmp_path / "template"
    shutil.copytree(course["template"], template, symlinks=True)
    original = grade_batch.grade_prepared

    def writes_into_the_template(prepared, settings):
        (template / "README.md").chmod(0o644)
        (template / "README.md").write_text("changed by a submission\n")
        return original(prepared, settings)

    monkeypatch.setattr(grade_batch, "grade_prepared", writes_into_the_template)
    one = tmp_path / f"{ASSIGNMENT}-submissions"
    name = f"{ASSIGNMENT}-fromtemplate"
    shutil.copytree(course["submissions"] / name, one / name, symlinks=True)
    out = tmp_path / "out"
    argv = ["grade-batch", str(one), "--pristine", str(template)]
    assert cli.main([*argv, "--out", str(out), "--jobs", "1"]) == 2
    assert "changed while submissions were graded" in capsys.readouterr().err
    assert not (out / "summary.csv").exists()
