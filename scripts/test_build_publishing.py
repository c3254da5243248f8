"""Publishing tiers safely: `carry_forward: student` with `tiny carry-forward`, the warning
for a tier that would publish solutions of a tier still open, all-or-nothing builds, and the
Classroom 50 template without our workflow. On the synthetic course of
scripts/test_build_templates.py (real Module 01, a two-line Module 02 in tier 'two')."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grading import cli, gradescope
from grading.commands.carry_forward import carry_forward
from grading.course_config import TEMPLATE_CONFIG, CourseConfigError, load_course_config
from grading.protected import MANIFEST_PATH
from grading.protected import check_manifest as protected_findings
from scripts import stubs
from scripts.build_publish import STAGING_PREFIX
from scripts.build_templates import BuildError, build
from scripts.classroom_workflow import WORKFLOW_PATH
from scripts.test_build_templates import (
    DOUBLE_SOURCE,
    check_git_snapshot,
    check_no_solution_text,
    make_synthetic_course,
    tier_env,
)

QUIET = {"log": lambda _: None}
BEFORE_ONE_CLOSES = dt.datetime(2027, 1, 2, tzinfo=dt.timezone.utc)  # 'one': due 2027-01-01


def student_course(root: Path) -> Path:
    course = make_synthetic_course(root)
    config = course / "template" / "course.yaml"
    config.write_text(
        config.read_text().replace("carry_forward: reference", "carry_forward: student")
    )
    return course


def run_module_02(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "modules/02_double"],
        cwd=root, env=tier_env(root), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def student_tier(tmp_path_factory):
    course = student_course(tmp_path_factory.mktemp("course"))
    out = tmp_path_factory.mktemp("out")
    (built,) = build(course / "template" / "course.yaml", out, ["two"], course_root=course, **QUIET)
    return course, built


def test_student_carry_forward_ships_earlier_modules_as_ungraded_stubs(student_tier):
    course, built = student_tier
    root = built.root
    assert [m.key for m in built.plan.brought] == ["01_tensor"] and built.plan.carried == ()
    assert [m.key for m in built.plan.graded] == ["02_double"]
    check_no_solution_text(built)  # the earlier module's solutions are stubbed too
    stub = (root / "modules" / "01_tensor" / "tensor.py").read_text()
    assert "BEGIN SOLUTION" not in stub and "NotImplementedError" in stub
    manifest = json.loads((root / MANIFEST_PATH).read_text())["files"]
    assert "modules/01_tensor/tensor.py" not in manifest, "the student's own file to bring"
    assert "modules/01_tensor/module.yaml" in manifest
    assert "modules/01_tensor/test_01_tensor.py" in manifest
    assert load_course_config(root / TEMPLATE_CONFIG).tiers[0].modules == (2,), "not graded"
    readme = " ".join((root / "README.md").read_text().split())
    assert "**your own** Module 01" in readme and "`tiny carry-forward" in readme


def test_carry_forward_brings_the_students_own_file_and_grading_uses_it(student_tier, tmp_path):
    course, built = student_tier
    root = tmp_path / "two"
    subprocess.run(["git", "clone", "-q", str(built.root), str(root)], check=True)
    double = root / "modules" / "02_double" / "double.py"
    double.write_text(stubs.drop_markers(DOUBLE_SOURCE, double))  # their work on this tier
    first = run_module_02(root)
    assert first.returncode == 1 and "NotImplementedError" in first.stdout, "01 is a stub"
    earlier = tmp_path / "my-foundation"
    (earlier / "modules" / "01_tensor").mkdir(parents=True)
    source = course / "modules" / "01_tensor" / "tensor.py"
    mine = stubs.drop_markers(source.read_text(), source)  # the student's finished work
    (earlier / "modules" / "01_tensor" / "tensor.py").write_text(mine)
    copied, refused = carry_forward(earlier.resolve(), root)
    assert (copied, refused) == (["modules/01_tensor/tensor.py"], [])
    assert (root / "modules" / "01_tensor" / "tensor.py").read_text() == mine
    assert double.read_text() == stubs.drop_markers(DOUBLE_SOURCE, double), "02 untouched"
    completed = run_module_02(root)
    assert completed.returncode == 0, completed.stdout
    assert protected_findings(root) == [], "bringing your own file is not tampering"


def test_carry_forward_refuses_links_and_reference_tiers(student_tier, tmp_path):
    _, built = student_tier
    root = tmp_path / "two"
    subprocess.run(["git", "clone", "-q", str(built.root), str(root)], check=True)
    earlier = tmp_path / "my-foundation"
    (earlier / "modules" / "01_tensor").mkdir(parents=True)
    (earlier / "modules" / "01_tensor" / "tensor.py").symlink_to("/etc/passwd")
    copied, refused = carry_forward(earlier, root)
    assert copied == [] and "tensor.py is a symbolic link" in refused[0]
    stub = (built.root / "modules" / "01_tensor" / "tensor.py").read_text()
    assert (root / "modules" / "01_tensor" / "tensor.py").read_text() == stub
    config = root / TEMPLATE_CONFIG
    config.write_text(
        config.read_text().replace("carry_forward: student", "carry_forward: reference")
    )
    with pytest.raises(CourseConfigError, match="nothing to bring"):
        carry_forward(earlier, root)


def test_a_tier_carrying_solutions_of_an_open_tier_is_warned_about(tmp_path):
    course = make_synthetic_course(tmp_path / "course")
    config = course / "template" / "course.yaml"
    config.write_text(
        config.read_text().replace(
            '"2027-01-01T12:00:00+00:00"}', '"2027-01-01T12:00:00+00:00", late_days: 2}'
        )
    )
    log: list[str] = []
    build(
        config, tmp_path / "out", ["two"], course_root=course, log=log.append, now=BEFORE_ONE_CLOSES
    )
    warnings = [line for line in log if line.startswith("WARNING: tier 'two'")]
    assert warnings == [
        "WARNING: tier 'two' ships the reference solutions of tier 'one' (modules 01), which "
        "accepts submissions until 2027-01-03T12:00:00+00:00 (deadline + late_days): publish "
        "the 'two' template only after that (INSTRUCTOR.md, publishing schedule), or set "
        "carry_forward: student"
    ]
    after = dt.datetime(2027, 1, 3, 12, 0, 1, tzinfo=dt.timezone.utc)
    log.clear()
    build(config, tmp_path / "out", ["two"], course_root=course, log=log.append, now=after)
    assert not [line for line in log if line.startswith("WARNING: tier")]
    config.write_text(
        config.read_text().replace("carry_forward: reference", "carry_forward: student")
    )
    log.clear()
    build(
        config, tmp_path / "out", ["two"], course_root=course, log=log.append, now=BEFORE_ONE_CLOSES
    )
    assert not [line for line in log if line.startswith("WARNING: tier")], "stubs leak nothing"


def test_a_failed_strict_build_leaves_the_earlier_output_untouched(tmp_path):
    course = make_synthetic_course(tmp_path / "course")
    config = course / "template" / "course.yaml"
    out = tmp_path / "out"
    build(config, out, course_root=course, **QUIET)
    before = {
        p.relative_to(out): p.stat().st_mtime_ns for p in out.rglob("*") if ".git" not in p.parts
    }
    commit = (out / "one" / ".git" / "HEAD").read_text()
    # Tier 'two' now names a milestone the course lacks: strict fails on it, after 'one'.
    config.write_text(
        config.read_text().replace("modules: [2]", "modules: [2]\n    milestones: [7]")
    )
    with pytest.raises(BuildError, match="tier 'two' is incomplete"):
        build(config, out, course_root=course, strict=True, **QUIET)
    after = {
        p.relative_to(out): p.stat().st_mtime_ns for p in out.rglob("*") if ".git" not in p.parts
    }
    assert after == before, "nothing was rewritten, nothing half-written"
    assert (out / "one" / ".git" / "HEAD").read_text() == commit
    assert not list(out.glob(f"{STAGING_PREFIX}*")), "the staging folder is removed"


def test_a_build_never_replaces_a_folder_it_did_not_write(tmp_path):
    course = make_synthetic_course(tmp_path / "course")
    out = tmp_path / "out"
    (out / "two-gradescope.zip").parent.mkdir(parents=True)
    (out / "two-gradescope.zip").write_text("my notes")
    with pytest.raises(BuildError, match="two-gradescope.zip exists and is not a template build"):
        build(course / "template" / "course.yaml", out, course_root=course, **QUIET)
    assert (out / "two-gradescope.zip").read_text() == "my notes"
    assert sorted(p.name for p in out.iterdir()) == ["two-gradescope.zip"]


def test_the_classroom50_template_has_no_workflow_and_a_manifest_without_it(tmp_path):
    course = make_synthetic_course(tmp_path / "course")
    out = tmp_path / "out"
    build(course / "template" / "course.yaml", out, ["two"], course_root=course, **QUIET)
    github, classroom50 = out / "two", out / "two-classroom50-template"
    assert (github / WORKFLOW_PATH).is_file() and not (classroom50 / WORKFLOW_PATH).exists()
    check_git_snapshot(classroom50)
    manifest = json.loads((classroom50 / MANIFEST_PATH).read_text())["files"]
    assert WORKFLOW_PATH not in manifest
    assert protected_findings(classroom50) == [], "the variant is pristine by its own manifest"
    bundle = json.loads((out / "two-classroom50" / "pristine" / MANIFEST_PATH).read_text())
    assert bundle == json.loads((classroom50 / MANIFEST_PATH).read_text())
    github_files = set(json.loads((github / MANIFEST_PATH).read_text())["files"])
    assert github_files - set(manifest) == {WORKFLOW_PATH}
    assert "Classroom 50 template" in (classroom50 / "README.md").read_text()


def test_gradescope_takes_the_brought_modules_from_the_submission_too(student_tier, tmp_path):
    _, built = student_tier
    with zipfile.ZipFile(built.root.parent / "two-gradescope.zip") as archive:
        archive.extractall(tmp_path / "source")
    pristine = tmp_path / "source" / "pristine"
    assert gradescope.student_files(pristine) == [
        "modules/01_tensor/tensor.py",
        "modules/02_double/double.py",
    ], "an uploaded tensor.py replaces the stub; under reference it would be the course's"


def test_tiny_carry_forward_on_the_command_line(student_tier, tmp_path, capsys):
    course, built = student_tier
    root = tmp_path / "two"
    subprocess.run(["git", "clone", "-q", str(built.root), str(root)], check=True)
    earlier = tmp_path / "my-foundation"
    (earlier / "modules" / "01_tensor").mkdir(parents=True)
    (earlier / "modules" / "01_tensor" / "tensor.py").write_text("# mine\n")
    assert cli.main(["carry-forward", str(earlier), "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert f"copied modules/01_tensor/tensor.py from {earlier.resolve()}" in out
    assert "git add modules" in out
    assert (root / "modules" / "01_tensor" / "tensor.py").read_text() == "# mine\n"
    assert cli.main(["carry-forward", str(tmp_path / "nowhere"), "--root", str(root)]) == 2
    assert "has no modules/ folder" in capsys.readouterr().err
