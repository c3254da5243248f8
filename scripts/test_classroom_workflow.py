"""Tests of the generated GitHub Classroom workflow (scripts/classroom_workflow.py): its
structure, and one end-to-end run of its `run:` steps on this machine (scripts/local_workflow.py)
for a tier holding Module 01 only: with the reference solution it must report 60/60 to the
emulated reporter, with the stubs 0/60."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
import yaml

from grading.course_config import COURSE_CONFIG, parse_course_config
from grading.course_modules import load_module_meta
from grading.repo import REPO_ROOT
from scripts import local_workflow
from scripts.build_templates import build
from scripts.classroom_workflow import (
    CAPSTONE_BENCHMARK,
    WORKFLOW_PATH,
    build_workflow,
    render_workflow,
    step_ids,
)
from scripts.points_table import ModulePoints, module_points
from scripts.workflow_steps import (
    CACHE_RESTORE,
    CACHE_SAVE,
    CHECKOUT,
    REPORTER,
    RESULTS_ARTIFACT_PATH,
    UPLOAD,
    fallback_result,
)

CONFIG = {
    "schema": "tinytorch-course/v1",
    "course": {"name": "T", "institution": "U", "term": "X", "timezone": "UTC"},
    "defaults": {"memory_limit_mb": 1536},
    "tiers": [
        {
            "slug": "foundation",
            "title": "Foundation",
            "modules": [1],
            "deadline": "2027-03-07T23:59:00+00:00",
        }
    ],
}
JOB = "run-autograding-tests"


def rows_for(config) -> list[ModulePoints]:
    return module_points(config, [load_module_meta(REPO_ROOT / "modules" / "01_tensor")])


def fake_row(number: int, title: str, points: int) -> ModulePoints:
    meta = load_module_meta(REPO_ROOT / "modules" / "01_tensor")
    fake = type(meta)(**{**meta.__dict__, "number": number, "title": title})
    return ModulePoints(fake, (("x", "x", points),), 30)


def generated(milestones=(1, 2), rows=None, platforms=None) -> tuple[dict, str]:
    raw = json.loads(json.dumps(CONFIG))
    if platforms:
        raw["tiers"][0]["platforms"] = platforms
    config = parse_course_config(raw, "course.yaml")
    workflow = build_workflow(config, config.tiers[0], rows or rows_for(config), milestones)
    return workflow, render_workflow(workflow)


def test_rendered_workflow_parses_back_to_the_same_mapping():
    workflow, text = generated()
    assert yaml.safe_load(text) == workflow
    assert text.startswith("# GitHub Classroom autograding")


def test_triggers_permissions_and_bot_skip():
    workflow, text = generated()
    assert set(workflow["on"]) == {"push", "pull_request", "workflow_dispatch"}
    assert "pull_request_target" not in text and "secrets." not in text
    assert workflow["permissions"] == {"contents": "read", "checks": "write", "actions": "read"}
    job = workflow["jobs"][JOB]
    assert job["if"] == "github.actor != 'github-classroom[bot]'"
    assert job["runs-on"] == "ubuntu-latest" and job["timeout-minutes"] > 10


def test_steps_in_order_with_one_grader_per_module():
    rows = [fake_row(3, "Layers", 60), fake_row(4, "Losses", 50)]
    workflow, _ = generated(milestones=(2,), rows=rows)
    steps = workflow["jobs"][JOB]["steps"]
    names = [s["name"].split(" (")[0] for s in steps]
    assert names == [
        "Check out the repository with its whole history",
        "Take the grader and the tests from the template's first commit",
        "Set up Python",
        "Restore the pip cache",
        "Install the grader",
        "Save the pip cache",
        "Create an unprivileged user for student code",
        "Forward-dependency lint and module-file policy",
        "Module 03 Layers",
        "Module 04 Losses",
        "Milestone 2",
        "Job summary",
        "Report the points to GitHub Classroom",
        "Upload the grading results",
    ], "no capstone upload without Module 20"
    assert steps[0]["uses"] == CHECKOUT and steps[0]["with"]["fetch-depth"] == 0
    assert "git archive" in steps[1]["run"] and "rev-list --max-parents=0" in steps[1]["run"]
    assert steps[2]["with"] == {"python-version": "3.11"}, "setup-python saves only on success"
    assert steps[3]["uses"] == CACHE_RESTORE and steps[5]["uses"] == CACHE_SAVE
    assert steps[3]["with"] == steps[5]["with"] and "cache-hit != 'true'" in steps[5]["if"]
    assert "!cancelled()" in steps[5]["if"], "the pip cache is saved whatever the grade"
    assert steps[4]["run"] == 'python -I -m pip install -e "$TINYTORCH_GRADER"'
    assert step_ids(workflow) == ["module03", "module04"]
    graders = [s for s in steps if s.get("id", "").startswith("module")]
    for step, number in zip(graders, ("03", "04"), strict=True):
        assert f'tiny grade --modules {number} --root "$GITHUB_WORKSPACE"' in step["run"]
        assert '--pristine "$TINYTORCH_GRADER"' in step["run"]
        assert "--classroom-output" in step["run"] and "--summary" not in step["run"]
        assert "--memory-limit 1536M" in step["run"] and step["if"] == "${{ !cancelled() }}"
    assert graders[0]["name"] == "Module 03 Layers (60 points)"
    assert (
        "tiny milestone" in steps[10]["run"]
        and '--record "$TINYTORCH_RESULTS/milestone-2' in (steps[10]["run"])
    )
    assert "tiny summary" in steps[11]["run"] and "--expect 03=60,04=50" in steps[11]["run"]
    reporter = steps[12]
    assert reporter["uses"] == REPORTER
    assert reporter["with"] == {"runners": "module03,module04"}
    assert reporter["env"] == {
        "MODULE03_RESULTS": "${{ steps.module03.outputs.result }}",
        "MODULE04_RESULTS": "${{ steps.module04.outputs.result }}",
    }
    assert steps[13]["uses"] == UPLOAD and steps[13]["with"]["path"] == RESULTS_ARTIFACT_PATH


def test_every_module_step_carries_a_fallback_with_its_full_points():
    """A step whose grader left no result still hands the reporter valid JSON: 0 of the
    module's full max_score, never max_score 0 (which drops it from both sides)."""
    rows = [fake_row(3, "Layers", 60), fake_row(4, "Losses", 50)]
    workflow, _ = generated(milestones=(), rows=rows)
    graders = [s for s in workflow["jobs"][JOB]["steps"] if s.get("id", "").startswith("module")]
    for step, row in zip(graders, rows, strict=True):
        (line,) = [x for x in step["run"].splitlines() if x.strip().startswith('echo "result=')]
        encoded = line.split("result=", 1)[1].split('"', 1)[0]
        payload = json.loads(base64.b64decode(encoded))
        assert payload == fallback_result(row)
        assert payload["status"] == "error" and payload["max_score"] == row.total
        assert [t["score"] for t in payload["tests"]] == [0]


def test_capstone_tier_uploads_the_benchmark_json():
    workflow, _ = generated(milestones=(), rows=[fake_row(20, "Capstone", 100)])
    last = workflow["jobs"][JOB]["steps"][-1]
    kept = f"{RESULTS_ARTIFACT_PATH}/milestone-6-out/capstone/submission.json"
    assert last["uses"] == UPLOAD and last["with"]["path"] == kept
    assert CAPSTONE_BENCHMARK == "out/capstone/submission.json"


def test_extra_platforms_run_the_tests_without_reporting():
    workflow, _ = generated(platforms=["ubuntu-latest", "windows-latest", "macos-latest"])
    other = workflow["jobs"]["other-platforms"]
    assert other["strategy"]["matrix"]["os"] == ["windows-latest", "macos-latest"]
    assert all(s.get("uses") != REPORTER for s in other["steps"])
    assert workflow["jobs"][JOB]["runs-on"] == "ubuntu-latest"


def test_output_file_parser_reads_both_github_formats():
    text = "result=abc=\nsummary<<EOF\nline 1\nline 2\nEOF\nempty=\n"
    assert local_workflow.parse_output_file(text) == {
        "result": "abc=",
        "summary": "line 1\nline 2",
        "empty": "",
    }


# ---- one run of the workflow's steps on this machine ----------------------------------


def reporter(env: dict, inputs: dict) -> dict:
    """What classroom-resources/autograding-grading-reporter@v1 does with its inputs
    (src/main.js): for each runner id, base64-decode env[<ID in capitals>_RESULTS], parse JSON."""
    return {
        runner.strip(): json.loads(base64.b64decode(env[f"{runner.strip().upper()}_RESULTS"]))
        for runner in inputs["runners"].split(",")
    }


def offline_install_possible() -> bool:
    """`pip install -e .` without build isolation needs a setuptools that builds wheels."""
    import setuptools

    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


def runner_environment(scratch: Path) -> dict[str, str]:
    """A fresh venv that sees this environment's packages (numpy, pytest, ...) but not its
    editable course install, so `pip install -e .` of the tier is what `tiny` runs."""
    target = scratch / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(target)
    bin_dir = target / ("Scripts" if os.name == "nt" else "bin")
    site = Path(sysconfig.get_paths(vars={"base": str(target), "platbase": str(target)})["purelib"])
    site.mkdir(parents=True, exist_ok=True)
    (site / "course-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    ours = str(Path(sys.executable).parent)
    path = [str(bin_dir), *(p for p in os.environ["PATH"].split(os.pathsep) if p != ours)]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "TINYTORCH_MODULES", "PYTHONHOME")
    }
    return env | {
        "PATH": os.pathsep.join(path),
        "VIRTUAL_ENV": str(target),
        "PIP_NO_BUILD_ISOLATION": "0",  # pip's spelling of --no-build-isolation
        "PIP_NO_INDEX": "1",  # nothing downloads: every dependency is already here
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def build_tier(tmp_path: Path, with_solutions: bool, config: Path | None = None):
    """Build the foundation tier of `config` (default: Module 01 only)."""
    if config is None:
        config = tmp_path / "course.yaml"
        config.write_text(yaml.safe_dump(CONFIG))
    (built,) = build(
        config, tmp_path / "out", ["foundation"], with_solutions=with_solutions, log=lambda _: None
    )
    return built


def run_built_workflow(tmp_path: Path, built):
    """Run the tier's grading job; each uploaded artifact is copied to tmp_path/artifacts."""
    uploads: list[Path] = []

    def upload(env: dict, inputs: dict) -> None:
        source = built.root / inputs["path"]  # an absolute path stays as it is
        target = tmp_path / "artifacts" / inputs["name"]
        if source.is_dir():
            shutil.copytree(source, target)
        elif source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        uploads.append(target)

    steps, summary = local_workflow.run_job(
        built.root / WORKFLOW_PATH,
        JOB,
        built.root,
        runner_environment(tmp_path),
        actions={REPORTER: reporter, UPLOAD: upload},
    )
    return steps, summary, uploads


def run_tier_workflow(tmp_path: Path, with_solutions: bool, config: Path | None = None):
    """Build the foundation tier and run its grading job."""
    built = build_tier(tmp_path, with_solutions, config)
    return (built, *run_built_workflow(tmp_path, built))


@pytest.fixture
def workflow_commands_available():
    for command in ("grading.commands.grade", "grading.commands.lint"):
        if importlib.util.find_spec(command) is None:
            pytest.skip(f"{command} is not written yet: the workflow calls it")
    if not offline_install_possible():
        pytest.skip("`pip install -e .` offline needs setuptools>=70.1 (or wheel) in this venv")


def test_workflow_steps_run_locally_reference_scores_full(tmp_path, workflow_commands_available):
    """The course's own foundation tier (every module and milestone written so far), built
    with the reference solutions: every step succeeds and every point is reported."""
    built, steps, summary, uploads = run_tier_workflow(
        tmp_path, with_solutions=True, config=REPO_ROOT / COURSE_CONFIG
    )
    ran = {s.name: s for s in steps if s.ran}
    failed = {name: s.output[-2000:] for name, s in ran.items() if s.exit_code}
    assert not failed, failed
    milestones = [name for name in ran if name.startswith("Milestone")]
    assert len(milestones) == len(built.plan.milestones)
    reported = next(s.value for s in steps if s.value and "module01" in s.value)
    assert list(reported) == [f"module{m.number:02d}" for m in built.plan.graded]
    for row in built.rows:
        payload = reported[f"module{row.meta.number:02d}"]
        assert payload["status"] == "pass" and payload["max_score"] == row.total
        assert sum(test["score"] for test in payload["tests"]) == row.total
    total = sum(row.total for row in built.rows)
    assert summary.startswith(f"## TinyTorch grade: {total} / {total} points\n"), summary
    assert summary.count("TinyTorch grade") == 1 and summary.count("### Milestones") == 1
    assert summary.count("| passed | PASS") == len(built.plan.milestones), summary
    results = json.loads((uploads[0] / "01" / "results.json").read_text(encoding="utf-8"))
    assert results["points"] == {"earned": 60, "possible": 60}
    assert results["tests_source"]["kind"] == "pristine_dir"


def test_workflow_steps_run_locally_stubs_score_zero(tmp_path, workflow_commands_available):
    built, steps, summary, _ = run_tier_workflow(tmp_path, with_solutions=False)
    grader = next(s for s in steps if s.name.startswith("Module 01"))
    assert grader.ran and grader.exit_code == 1, grader.output[-2000:]
    install = next(s for s in steps if s.name.startswith("Install the grader"))
    lint = next(s for s in steps if s.name.startswith("Forward-dependency lint"))
    assert install.exit_code == 0 and lint.exit_code == 0, install.output + lint.output
    reported = next(s.value for s in steps if s.value and "module01" in s.value)
    payload = reported["module01"]
    assert payload["status"] == "fail" and payload["max_score"] == 60
    assert sum(test["score"] for test in payload["tests"]) == 0
    assert summary.startswith("## TinyTorch grade: 0 / 60 points\n"), summary


def test_without_a_grader_every_module_still_reports_its_full_maximum(
    tmp_path, workflow_commands_available
):
    """History rewritten to two first commits: no grader is taken, the install is skipped,
    and yet the reporter receives 0 of 60 (not a missing result that voids the push, nor
    max_score 0 that drops the module) and the summary says 0 / 60."""
    built = build_tier(tmp_path, with_solutions=True)
    git = ["git", "-C", str(built.root), "-c", "user.name=s", "-c", "user.email=s@x"]
    branch = subprocess.run([*git, "branch", "--show-current"], capture_output=True, text=True)
    subprocess.run([*git, "checkout", "-q", "--orphan", "rewritten"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "a second root"], check=True)
    subprocess.run([*git, "checkout", "-q", branch.stdout.strip()], check=True)
    merge = [*git, "merge", "-q", "--allow-unrelated-histories", "-m", "m", "rewritten"]
    subprocess.run(merge, check=True)
    steps, summary, _ = run_built_workflow(tmp_path, built)
    grader = next(s for s in steps if s.name.startswith("Module 01"))
    assert grader.ran and grader.exit_code != 0
    assert "the grader left no result; reporting 0 of 60 points" in grader.output
    reported = next(s.value for s in steps if s.value and "module01" in s.value)
    assert reported["module01"] == fallback_result(built.rows[0])
    assert summary.startswith("## TinyTorch grade: 0 / 60 points\n"), summary


def test_the_uploaded_capstone_file_is_the_one_milestone_6_writes():
    from milestones.m6_mlperf_submission import DEFAULT_OUT

    assert DEFAULT_OUT.as_posix() == CAPSTONE_BENCHMARK


def test_cifar_milestone_is_cached_whatever_the_verdict_and_runs_full_only_when_dispatched():
    from dataclasses import replace

    from grading.course_config import load_course_config
    from scripts.workflow_steps import DISPATCH_MODE, milestone_steps

    config = load_course_config(REPO_ROOT / "template" / "course.yaml")
    cifar = replace(config, datasets={4: "cifar10"})
    steps = milestone_steps(cifar, (4, 5))
    restore, save = steps[0], steps[-1]
    assert restore["uses"] == CACHE_RESTORE and "cifar10" in restore["with"]["key"]
    assert restore["with"]["path"] == "/tmp/tinytorch-data" and "fetch_archive" in steps[1]["run"]
    assert save["uses"] == CACHE_SAVE and save["with"] == restore["with"]
    assert save["if"] == "${{ !cancelled() && steps.cifar10-cache.outputs.cache-hit != 'true' }}"
    runs = [s["run"] for s in steps[2:-1]]
    assert runs[0].endswith(f" 4 {DISPATCH_MODE}") and runs[1].endswith(f" 5 {DISPATCH_MODE}")
    offline = milestone_steps(replace(config, datasets={4: "tinydigits"}), (3, 4))
    assert [s["run"].split()[-1] for s in offline] == ["3", "4"]
    assert all(s["run"].startswith("tiny milestone --root") for s in offline)
