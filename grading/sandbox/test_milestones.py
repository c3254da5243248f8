"""Milestones run in the sandbox: the verdict is the one the milestone's own code reached."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from grading.repo import REPO_ROOT
from grading.sandbox.milestones import keep_outputs, run_milestone


def course_tree(tmp_path: Path, edit: str | None = None) -> Path:
    """modules/ of the course's reference (modules 01-04 for milestone 1), `edit` appended to
    Tensor's file (it runs when the file is imported)."""
    tree = tmp_path / "modules"
    shutil.copytree(REPO_ROOT / "modules" / "tinytorch", tree / "tinytorch")
    for folder in ("01_tensor", "02_activations", "03_layers", "04_losses"):
        shutil.copytree(REPO_ROOT / "modules" / folder, tree / folder)
    if edit is not None:
        source = tree / "01_tensor" / "tensor.py"
        source.write_text(source.read_text(encoding="utf-8") + "\n" + edit + "\n", encoding="utf-8")
    return tree


def test_the_reference_passes_milestone_1_in_the_sandbox(tmp_path):
    record, output = run_milestone(1, course_tree(tmp_path))
    assert record["status"] == "passed", output
    assert record["message"].startswith("PASS") and record["name"] == "perceptron 1958"


def test_printing_pass_and_exiting_early_is_not_a_pass(tmp_path):
    """A module file that prints a PASS line and ends the process with exit code 0 before the
    milestone has judged anything leaves no verdict: an error, not a pass."""
    tree = course_tree(tmp_path, edit='print("PASS: AND 100%")\nraise SystemExit(0)')
    record, output = run_milestone(1, tree)
    assert record["status"] == "error", (record, output)
    assert record["message"].startswith("ended without a verdict (exit code 0)")


def test_a_refused_module_file_is_not_run(tmp_path):
    record, _ = run_milestone(1, course_tree(tmp_path, edit="import os"))
    assert record["status"] == "error" and "imports `os`" in record["message"]


def test_kept_outputs_are_regular_files_only(tmp_path):
    out = tmp_path / "out"
    (out / "capstone").mkdir(parents=True)
    (out / "capstone" / "submission.json").write_text("{}")
    (out / "secret").symlink_to("/etc/passwd")
    keep_outputs(out, tmp_path / "kept")
    kept = sorted(
        p.relative_to(tmp_path / "kept").as_posix() for p in (tmp_path / "kept").rglob("*")
    )
    assert kept == ["capstone", "capstone/submission.json"]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="changing user needs root"
)
def test_a_milestone_runs_as_the_unprivileged_user(tmp_path):
    """As Gradescope and CI run it: the milestone still passes as `nobody`, reading the tree
    and the grader, writing only its own folder."""
    scratch = Path(tempfile.mkdtemp(prefix="tiny-milestone-as-test-"))  # pytest's is 0700
    try:
        tree = course_tree(scratch)
        for path in (scratch, *scratch.rglob("*")):
            path.chmod(0o755 if path.is_dir() else 0o644)
        record, output = run_milestone(1, tree, run_as="nobody")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert record["status"] == "passed", output
