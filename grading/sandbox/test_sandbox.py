"""The child process that runs student code (grading/sandbox/run.py): what it can see and
where it can write. Each test runs a real child on a one-test module (about 1 s)."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from pathlib import Path

import pytest

from grading.results import RunLimits
from grading.sandbox.run import run_module

LIMITS = RunLimits(test_timeout=30.0, wall_time=60.0, memory_bytes=None)
MODULE_YAML = """\
number: 1
slug: probe
title: Probe
tier: foundation
source: probe.py
tests: test_01_probe.py
prerequisites: []
exports: {tinytorch.core: [VALUE]}
exercises:
  - {id: "01.1", name: isolation, points: 10, hint: none}
"""
PROBE = """\
import json, os, sys
from pathlib import Path

import pytest

from tinytorch.core import VALUE


@pytest.mark.exercise("01.1")
def test_01_1_isolation():
    seen = {
        "github": sorted(k for k in os.environ if k.startswith(("GITHUB", "RUNNER", "ACTIONS"))),
        "home": os.environ.get("HOME"),
        "tmpdir": os.environ.get("TMPDIR"),
        "cwd": os.getcwd(),
        "no_user_site": sys.flags.no_user_site,
        "pythonpath": os.environ.get("PYTHONPATH"),
        "import_root": sorted(os.listdir(sys.path[0])),
        "uid": os.getuid(),
        "value": VALUE,
        "marker": os.path.exists(os.environ["HOME"] + "/../startup-ran"),
    }
    try:
        Path(os.environ["PARENT_FILE"]).write_text("overwritten")
        seen["wrote_parent_file"] = True
    except OSError:
        seen["wrote_parent_file"] = False
    raise AssertionError("SEEN" + json.dumps(seen))  # the message reaches the event stream
"""


def make_module(root: Path) -> Path:
    folder = root / "modules" / "01_probe"
    folder.mkdir(parents=True)
    (folder / "module.yaml").write_text(MODULE_YAML)
    (folder / "probe.py").write_text("VALUE = 42\n")
    (folder / "test_01_probe.py").write_text(PROBE)
    # Start-up files that would run if the child imported anything of the repository.
    startup = "open('/tmp/tinytorch-sandbox-startup-ran', 'w').write('x')\n"
    for name in ("sitecustomize.py", "usercustomize.py", "numpy.py", "pytest.py"):
        (root / "modules" / name).write_text(startup)
        (root / name).write_text(startup)
    (root / "modules" / "evil.pth").write_text("import os; " + startup)
    return root / "modules"


def seen_by_child(tmp_path: Path, monkeypatch, run_as: str | None = None) -> dict:
    import json

    Path("/tmp/tinytorch-sandbox-startup-ran").unlink(missing_ok=True)
    modules = make_module(tmp_path / "repo")
    parent_file = tmp_path / "results.json"
    parent_file.write_text("the grader's")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))
    monkeypatch.setenv("RUNNER_TEMP", str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(modules))
    monkeypatch.setenv("PYTHONSTARTUP", str(modules / "sitecustomize.py"))
    work = tmp_path / "work"
    run = run_module(
        modules / "01_probe" / "test_01_probe.py",
        modules,
        work,
        LIMITS,
        extra_env={"PARENT_FILE": str(parent_file)},
        run_as=run_as,
    )
    output = (work / "output.log").read_text()
    finish = [e for e in run.events if e["event"] == "finish"]
    assert len(finish) == 1 and "SEEN" in (finish[0]["message"] or ""), output
    assert not Path("/tmp/tinytorch-sandbox-startup-ran").exists(), "a start-up file ran"
    seen = json.loads(finish[0]["message"].split("SEEN", 1)[1])
    return seen | {"parent_file": parent_file.read_text()}


def test_the_child_sees_no_runner_variables_and_runs_no_startup_file(tmp_path, monkeypatch):
    seen = seen_by_child(tmp_path, monkeypatch)
    assert seen["github"] == [] and seen["pythonpath"] is None
    assert seen["home"] == seen["tmpdir"] == seen["cwd"]
    assert not seen["cwd"].startswith(str(tmp_path)), "the child works outside the results"
    assert seen["no_user_site"] and seen["import_root"] == ["grading", "tinytorch"]
    assert seen["value"] == 42


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="dropping privileges needs root"
)
def test_run_as_an_unprivileged_user_cannot_write_the_graders_files(tmp_path, monkeypatch):
    scratch = Path(tempfile.mkdtemp(prefix="tiny-run-as-test-"))  # /tmp/pytest-of-root is 0700
    try:
        scratch.chmod(0o755)
        seen = seen_by_child(scratch, monkeypatch, run_as="nobody")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert seen["uid"] == pwd.getpwnam("nobody").pw_uid
    assert seen["wrote_parent_file"] is False and seen["parent_file"] == "the grader's"
