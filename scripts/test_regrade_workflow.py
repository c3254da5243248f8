"""The instructor's regrade workflow (scripts/regrade_workflow.py): actionlint-clean, least
privilege, the token seen by one step only and never printed, a matrix built from the
`shards` input, one artifact per shard merged by the last job; `tiny build` writes it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from scripts.build_templates import build
from scripts.regrade_workflow import (
    REGRADE_PATH,
    STAFF_DIR,
    TOKEN_SECRET,
    render_regrade_workflow,
    write_staff_files,
)
from scripts.test_build_templates import assert_actionlint_passes

CONFIG = """\
schema: tinytorch-course/v1
course: {name: Regrade U, institution: Test U, term: Test Term, timezone: UTC}
tiers:
  - {slug: foundation, title: Foundation, modules: [1], deadline: "2027-03-07T23:59:00Z"}
"""


def workflow() -> dict:
    return yaml.safe_load(render_regrade_workflow("Test course"))


def test_the_workflow_passes_actionlint(tmp_path: Path):
    path = write_staff_files(tmp_path, "Test course")
    assert path == tmp_path / STAFF_DIR / REGRADE_PATH
    assert_actionlint_passes([path])


def test_least_privilege_and_the_token_stays_in_the_clone_step():
    document = workflow()
    assert document["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in document["jobs"].values())
    text = render_regrade_workflow("Test course")
    assert text.count(f"secrets.{TOKEN_SECRET}") == 1
    steps = [s for job in document["jobs"].values() for s in job["steps"]]
    holders = [s for s in steps if "TOKEN" in (s.get("env") or {})]
    assert [s["name"] for s in holders] == [
        "Clone the template and this shard's student repositories (read-only token)"
    ]
    script = holders[0]["run"]
    assert "set -x" not in script and 'echo "$TOKEN' not in script and "$TOKEN\n" not in script
    assert "::add-mask::$basic" in script
    for step in steps:
        if str(step.get("uses", "")).startswith("actions/checkout"):
            assert step["with"]["persist-credentials"] is False
    # Inputs reach scripts through env only (no ${{ inputs.* }} spliced into shell code).
    assert all("${{" not in s.get("run", "") for s in steps)


def test_matrix_from_the_shards_input_and_artifacts_per_shard():
    jobs = workflow()["jobs"]
    grade, merge = jobs["grade"], jobs["merge"]
    assert grade["strategy"]["fail-fast"] is False
    assert grade["strategy"]["matrix"]["shard"] == "${{ fromJSON(needs.plan.outputs.shards) }}"
    upload = grade["steps"][-1]
    assert upload["with"]["name"] == "regrade-shard-${{ matrix.shard }}"
    download = next(s for s in merge["steps"] if "download-artifact" in s.get("uses", ""))
    assert download["with"] == {"pattern": "regrade-shard-*", "path": "shards"}
    assert merge["needs"] == "grade" and merge["if"] == "${{ !cancelled() }}"
    runs = "\n".join(s.get("run", "") for s in merge["steps"])
    assert "tiny merge-shards shards/regrade-shard-*" in runs and "tiny gradebook" in runs


def test_the_plan_step_turns_the_input_into_a_matrix(tmp_path: Path):
    (plan,) = workflow()["jobs"]["plan"]["steps"]
    output = tmp_path / "output"
    env = {**os.environ, "GITHUB_OUTPUT": str(output)}
    done = subprocess.run(["bash", "-c", plan["run"]], env={**env, "SHARDS": "3"})
    assert done.returncode == 0 and output.read_text() == "shards=[1, 2, 3]\n"
    refused = subprocess.run(
        ["bash", "-c", plan["run"]], env={**env, "SHARDS": "0"}, capture_output=True, text=True
    )
    assert refused.returncode != 0 and "between 1 and 256" in refused.stderr


def test_tiny_build_writes_the_staff_workflow(tmp_path: Path):
    (tmp_path / "course.yaml").write_text(CONFIG)
    build(tmp_path / "course.yaml", tmp_path / "out", log=lambda _: None)
    written = tmp_path / "out" / STAFF_DIR / REGRADE_PATH
    assert written.read_text() == render_regrade_workflow("Regrade U")
    assert TOKEN_SECRET in (tmp_path / "out" / STAFF_DIR / "README.md").read_text()
