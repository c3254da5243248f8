"""The instructor's regrade workflow (scripts/regrade_workflow.py): actionlint-clean, least
privilege, the token seen by one step only and never printed, a matrix built from the
`shards` input, one artifact per shard merged by the last job; `tiny build` writes it."""

from __future__ import annotations

import base64
import csv
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from grading.repo import REPO_ROOT
from scripts import local_workflow, stubs
from scripts.build_templates import build
from scripts.regrade_workflow import (
    DOWNLOAD,
    REGRADE_PATH,
    STAFF_DIR,
    TOKEN_SECRET,
    render_regrade_workflow,
    write_staff_files,
)
from scripts.test_build_templates import assert_actionlint_passes
from scripts.workflow_steps import UPLOAD

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


# ---- the workflow's own steps, run on this machine -----------------------------------------

ASSIGNMENT = "tinytorch-foundation"
OWNER = "my-org"
TOKEN = "ghp_not_a_real_token_0123456789"
SOURCE = "modules/01_tensor/tensor.py"
TESTS = "modules/01_tensor/test_01_tensor.py"
EXPRESSION = re.compile(r"\$\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")


def instantiate(text: str, values: dict[str, str]) -> str:
    """The workflow as one job of one run sees it: `${{ inputs.x }}`, `${{ matrix.shard }}`,
    `${{ secrets.X }}`... replaced by `values` (other expressions are left alone)."""
    document = yaml.safe_load(EXPRESSION.sub(lambda m: values.get(m[1], m[0]), text))
    for job in document["jobs"].values():
        for step in job["steps"]:
            if "env" in step:  # GitHub hands every env value to the step as a string
                step["env"] = {key: str(value) for key, value in step["env"].items()}
    return yaml.safe_dump(document, sort_keys=False)


def commit_all(repo: Path, message: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "S",
        "GIT_AUTHOR_EMAIL": "s@example.invalid",
        "GIT_COMMITTER_NAME": "S",
        "GIT_COMMITTER_EMAIL": "s@example.invalid",
    }
    for args in (
        ["add", "-A"],
        ["-c", "commit.gpgsign=false", "commit", "--allow-empty", "-qm", message],
    ):
        subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)


def test_the_workflow_steps_regrade_a_small_class_end_to_end(tmp_path: Path):
    """plan -> 2 grade jobs (clone over a local stand-in for github.com) -> merge: the
    gradebook, Canvas file and report come out; the token appears in no output or file."""
    (tmp_path / "course.yaml").write_text(CONFIG)
    (built,) = build(tmp_path / "course.yaml", tmp_path / "out", log=lambda _: None)
    remotes = tmp_path / "github"
    shutil.copytree(
        built.root, remotes / OWNER / "tinytorch-foundation-template.git", symlinks=True
    )
    reference = stubs.drop_markers((REPO_ROOT / SOURCE).read_text(), REPO_ROOT / SOURCE)
    for user, kind in (("ada", "full"), ("bob", "stubs"), ("eve", "tampered")):
        repo = remotes / OWNER / f"{ASSIGNMENT}-{user}.git"
        shutil.copytree(built.root, repo, symlinks=True)
        if kind != "stubs":
            (repo / SOURCE).chmod(0o644)
            (repo / SOURCE).write_text(reference)
        if kind == "tampered":
            (repo / TESTS).chmod(0o644)
            (repo / TESTS).write_text("def test_free():\n    pass\n")
        commit_all(repo, "work")
    staff = tmp_path / "staff"
    staff.mkdir()
    roster = ["identifier,github_username,github_id,name"]
    roster += [f"{u}@uni,{u},{n},{u}" for n, u in enumerate(("ada", "bob", "eve", "zed"))]
    (staff / "classroom_roster.csv").write_text("\n".join(roster) + "\n")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.file://{remotes}/.insteadOf",
        "GIT_CONFIG_VALUE_0": "https://github.com/",
    }
    values = {
        "inputs.assignment": ASSIGNMENT,
        "inputs.template": f"{OWNER}/tinytorch-foundation-template",
        "inputs.roster": "classroom_roster.csv",
        "inputs.shards": "2",
        "inputs.deadline": "",
        "github.repository_owner": OWNER,
        f"secrets.{TOKEN_SECRET}": TOKEN,
    }
    text = render_regrade_workflow("Test").replace(
        "python -m pip install --quiet --editable .", "echo the grader is this venv"
    )
    artifacts = tmp_path / "artifacts"

    def upload_from(workspace: Path):
        def upload(_env, with_):
            shutil.copytree(workspace / with_["path"], artifacts / with_["name"])

        return upload

    def download(_env, with_):
        for found in sorted(artifacts.glob(with_["pattern"])):
            shutil.copytree(found, staff / with_["path"] / found.name)

    workflow = tmp_path / "regrade.yml"
    workflow.write_text(instantiate(text, values))
    (plan,), _ = local_workflow.run_job(workflow, "plan", staff, env)
    assert plan.outputs == {"shards": "[1, 2]"}
    logs = []
    for shard in (1, 2):
        job = tmp_path / f"shard-{shard}.yml"
        job.write_text(instantiate(text, {**values, "matrix.shard": str(shard)}))
        workspace = tmp_path / f"runner-{shard}"
        shutil.copytree(staff, workspace)
        steps, _ = local_workflow.run_job(
            job, "grade", workspace, env, actions={UPLOAD: upload_from(workspace)}
        )
        assert all(s.exit_code == 0 for s in steps), [s.output for s in steps]
        logs += [s.output for s in steps]
    steps, summary = local_workflow.run_job(
        workflow, "merge", staff, env, actions={DOWNLOAD: download, UPLOAD: lambda e, w: None}
    )
    assert all(s.exit_code == 0 for s in steps), [s.output for s in steps]
    logs += [s.output for s in steps] + [summary]
    rows = {
        r["student"]: r
        for r in csv.DictReader(io.StringIO((staff / "regrade" / "summary.csv").read_text()))
    }
    assert {u: (r["status"], r["points"]) for u, r in rows.items()} == {
        "ada": ("passed", "60"),
        "bob": ("failed", "0"),
        "eve": ("failed", "60"),
        "zed": ("missing", ""),
    }
    assert rows["eve"]["tampered"] == f"{TESTS} (modified)"
    assert "Missing repositories (1)" in summary and "zed" in summary
    gradebook = (staff / "regrade" / "gradebook" / "gradebook.csv").read_text()
    assert "ada@uni" in gradebook and (staff / "regrade" / "gradebook" / "canvas.csv").is_file()
    encoded = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    for seen in logs:
        assert TOKEN not in seen
        # Only the mask command shows the header value; the runner hides it from the log.
        assert all("::add-mask::" in line for line in seen.splitlines() if encoded in line)
    written = {workflow, tmp_path / "shard-1.yml", tmp_path / "shard-2.yml"}
    for path in tmp_path.rglob("*"):
        if path.is_file() and path not in written:
            data = path.read_bytes()
            assert TOKEN.encode() not in data and encoded.encode() not in data, path
