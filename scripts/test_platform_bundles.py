"""The platform autograders `tiny build` writes, run end to end like the platforms run them.

A foundation tier cut down to Modules 01–02 is built twice (stubs, and with the reference
solutions); its Classroom 50 bundle (`autograder.py` in the student's checkout, identity in
the environment) and its Gradescope zip (`run_autograder` against a temporary
$GRADESCOPE_ROOT) grade the reference (full points), the stubs (zero, even with an edited
test file) and a broken submission (a readable result, never a missing file); every output
is validated against its schema. A third build adds Module 03 and Milestone 1 to check that
the milestones run too.
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

from grading import classroom50
from grading.repo import REPO_ROOT
from grading.schemas import can_validate, validate
from scripts import build_templates, solution_leaks
from scripts.build_templates import build
from scripts.platform_bundles import PRISTINE, pristine_paths

CONFIG = {
    "schema": "tinytorch-course/v1",
    "course": {"name": "Test Course", "institution": "U", "term": "T", "timezone": "UTC"},
    "defaults": {"memory_limit_mb": 1536},
    "tiers": [
        {
            "slug": "foundation",
            "title": "Foundation",
            "modules": [1, 2],
            "deadline": "2027-03-07T23:59:00+00:00",
        }
    ],
}
ENV = {
    "CLASSROOM": "cs249",
    "ASSIGNMENT": "foundation",
    "USERNAME": "alice",
    "SUBMISSION_TAG": "submit/2027-03-01T12-00-00Z-1a2b3c4",
    "COMMIT_URL": "https://github.com/org/cs249-foundation-alice/commit/1a2b3c4",
    "RELEASE_URL": "https://github.com/org/cs249-foundation-alice/releases/tag/submit%2F1",
    "REVIEW_URL": "",
}
TOTAL = 110  # Modules 01 and 02
SOURCES = ("modules/01_tensor/tensor.py", "modules/02_activations/activations.py")


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """{'stubs': TierBuild, 'reference': TierBuild, 'out': Path}."""
    base = tmp_path_factory.mktemp("platforms")
    config = write_config(base / "course.yaml", CONFIG)
    (stubs,) = build(config, base / "out", log=lambda _: None)
    (reference,) = build(config, base / "ref", with_solutions=True, log=lambda _: None)
    return {"stubs": stubs, "reference": reference, "out": base / "out"}


def checkout(built: dict, kind: str, dest: Path) -> Path:
    """A student's checkout: a copy of the built tier (git history and all)."""
    shutil.copytree(built[kind].root, dest, symlinks=True)
    for path in dest.rglob("*"):
        path.chmod(path.stat().st_mode | 0o200)
    return dest


def break_module_02(root: Path) -> None:
    source = root / SOURCES[1]
    source.write_text(source.read_text(encoding="utf-8") + "\ndef oops(:\n", encoding="utf-8")


def run_classroom50(bundle: Path, repo: Path, env: dict | None = None):
    environ = {k: v for k, v in os.environ.items() if k not in ENV}
    environ.update(ENV if env is None else env)
    return subprocess.run(
        [sys.executable, str(bundle / "autograder.py")],
        cwd=repo,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def check_classroom50_result(repo: Path) -> dict:
    payload = json.loads((repo / "result.json").read_text(encoding="utf-8"))
    if can_validate():
        validate("classroom50_result", payload)
    assert classroom50.check_result(payload) == []
    names = [t["test-name"] for t in payload["tests"]]
    assert len(set(names)) == len(names)
    assert all(len(name.encode("utf-8")) <= 100 for name in names)
    assert payload["max-score"] == TOTAL and payload["classroom"] == "cs249"
    assert payload["review"] == ENV["COMMIT_URL"], "empty REVIEW_URL falls back to COMMIT_URL"
    assert not list(repo.glob(".*.tmp")), "no temporary file left behind"
    return payload


def gradescope_root(built: dict, tmp_path: Path) -> Path:
    root = tmp_path / "autograder"
    with zipfile.ZipFile(built["out"] / "foundation-gradescope.zip") as archive:
        archive.extractall(root / "source")
    for name in ("run_autograder", "setup.sh", "autograder.py"):
        (root / "source" / name).chmod(0o755)  # extractall drops the mode bits
    (root / "submission").mkdir()
    return root


def run_gradescope(root: Path):
    environ = {**os.environ, "GRADESCOPE_ROOT": str(root), "TINYTORCH_PYTHON": sys.executable}
    completed = subprocess.run(
        [str(root / "source" / "run_autograder")],
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )
    payload = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    if can_validate():
        validate("gradescope_results", payload)
    return completed, payload


# ---- what the build writes ----------------------------------------------------------------


def test_the_build_writes_both_autograders_beside_each_tier(built):
    out, tier = built["out"], built["stubs"]
    folder = out / "foundation-classroom50"
    assert (folder / "autograder.py").stat().st_mode & 0o111
    expected = pristine_paths(out / "foundation-classroom50-template")  # no classroom.yml
    assert set(pristine_paths(tier.root)) - set(expected) == {build_templates.WORKFLOW_PATH}
    shipped = sorted(
        p.relative_to(folder / PRISTINE).as_posix()
        for p in (folder / PRISTINE).rglob("*")
        if p.is_file()
    )
    assert shipped == expected and ".tinytorch/protected.json" in shipped
    assert "modules/01_tensor/test_01_tensor.py" in shipped and "grading/gradescope.py" in shipped
    assert not set(SOURCES) & set(shipped), "no file the student writes"
    assert (folder / "requirements.txt").read_text().splitlines()[0].startswith("numpy")
    with zipfile.ZipFile(out / "foundation-gradescope.zip") as archive:
        names = archive.namelist()
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    assert {"setup.sh", "run_autograder", "autograder.py", "requirements.txt"} <= set(names)
    assert sorted(n.removeprefix(f"{PRISTINE}/") for n in names if n.startswith(PRISTINE)) == (
        pristine_paths(tier.root)  # Gradescope grades the GitHub template's repositories
    )
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    for script in ("setup.sh", "run_autograder"):
        with zipfile.ZipFile(out / "foundation-gradescope.zip") as archive:
            text = archive.read(script).decode()
        assert subprocess.run(["bash", "-n"], input=text, text=True).returncode == 0


def test_the_gradescope_bundle_creates_the_student_user_and_states_its_time_limit(built):
    with zipfile.ZipFile(built["out"] / "foundation-gradescope.zip") as archive:
        setup, run, readme = (archive.read(n).decode() for n in ("setup.sh", "run_autograder",
                                                                  "README.md"))  # fmt: skip
    assert "useradd --system --no-create-home --shell /usr/sbin/nologin tinytorch-student" in setup
    assert "fetch_archive" not in setup, "Foundation downloads nothing (TinyDigits ships)"
    assert "RUN_LIMIT=600" in run and '--run-limit "$RUN_LIMIT"' in run
    assert "RUN_AS=(--run-as tinytorch-student)" in run and 'if [ "$(id -u)" = 0 ]' in run
    text = " ".join(readme.split())
    assert "autograder timeout of **600 s**" in text
    assert "This tier's 2 modules get at most 45 s each" in text
    assert "ends 90 s before the limit" in text and "`tinytorch-student`" in text


def test_a_tier_with_cifar10_fetches_it_once_in_setup_checked(tmp_path):
    """setup.sh downloads through the course's own loader (sha256-checked), into the image."""
    from scripts.platform_bundles import FETCH_DATASET, GRADESCOPE_DATA, downloaded_datasets

    tier = tmp_path / "tier"
    (tier / "datasets").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "datasets" / "cifar10.py", tier / "datasets")
    shutil.copy(REPO_ROOT / "datasets" / "tinydigits.py", tier / "datasets")
    assert downloaded_datasets(tier) == ["cifar10"]
    line = FETCH_DATASET.format(name="cifar10", data=GRADESCOPE_DATA)
    assert "from datasets.cifar10 import fetch_archive" in line
    assert f"TINYTORCH_DATA={GRADESCOPE_DATA}" in line
    assert subprocess.run(["bash", "-n"], input=line, text=True).returncode == 0


def test_the_bundles_hold_no_solution_text(built, tmp_path):
    tier = built["stubs"]
    needles = build_templates.solution_needles(tier.plan)
    assert needles, "no solution line to look for: the check would prove nothing"
    folder = built["out"] / "foundation-classroom50"
    assert solution_leaks.find_leaks(needles, solution_leaks.tree_texts(folder)) == []
    with zipfile.ZipFile(built["out"] / "foundation-gradescope.zip") as archive:
        archive.extractall(tmp_path / "zip")
    assert solution_leaks.find_leaks(needles, solution_leaks.tree_texts(tmp_path / "zip")) == []


def test_a_rebuild_gives_the_same_zip_and_refuses_foreign_folders(built, tmp_path):
    config = write_config(tmp_path / "course.yaml", CONFIG)
    (again,) = build(config, tmp_path / "out", log=lambda _: None)
    first = (built["out"] / "foundation-gradescope.zip").read_bytes()
    assert (tmp_path / "out" / "foundation-gradescope.zip").read_bytes() == first
    foreign = tmp_path / "other" / "foundation-classroom50"
    foreign.mkdir(parents=True)
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(build_templates.BuildError, match="exists and is not a template build"):
        build(config, tmp_path / "other", log=lambda _: None)
    assert (foreign / "notes.txt").read_text() == "mine"


# ---- Classroom 50 ---------------------------------------------------------------------------


def test_classroom50_reference_scores_full(built, tmp_path):
    repo = checkout(built, "reference", tmp_path / "repo")
    completed = run_classroom50(built["out"] / "foundation-classroom50", repo)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    payload = check_classroom50_result(repo)
    assert payload["score"] == TOTAL and all(t["passed"] for t in payload["tests"])
    body = (repo / "release-body.md").read_text(encoding="utf-8")
    assert f"TinyTorch grade: {TOTAL} / {TOTAL} points" in body
    saved = json.loads((repo / classroom50.RESULTS_DIR / "results.json").read_text())
    assert saved["schema"] == "tinytorch/results/v1" and saved["points"]["earned"] == TOTAL
    assert saved["tests_source"]["kind"] == "pristine_dir"


def test_classroom50_stubs_score_zero_even_with_an_edited_test_file(built, tmp_path):
    repo = checkout(built, "stubs", tmp_path / "repo")
    tests = repo / "modules" / "01_tensor" / "test_01_tensor.py"
    tests.write_text(
        "import pytest\n\n@pytest.mark.exercise('01.1')\ndef test_01_1_free():\n    pass\n"
    )
    completed = run_classroom50(built["out"] / "foundation-classroom50", repo)
    assert completed.returncode == 0, "a failing grade is not a runner failure"
    payload = check_classroom50_result(repo)
    assert payload["score"] == 0 and not any(t["passed"] for t in payload["tests"])
    body = (repo / "release-body.md").read_text(encoding="utf-8")
    assert "Protected files were changed" in body and "test_01_tensor.py` changed" in body
    assert "**01.1 storage**: not started (`tiny hint 01.1`)" in body, body


def test_classroom50_broken_submission_gets_a_readable_result(built, tmp_path):
    repo = checkout(built, "reference", tmp_path / "repo")
    break_module_02(repo)
    completed = run_classroom50(built["out"] / "foundation-classroom50", repo)
    assert completed.returncode == 0, completed.stderr
    payload = check_classroom50_result(repo)
    assert payload["score"] == 60, "Module 01 keeps its points"
    body = (repo / "release-body.md").read_text(encoding="utf-8")
    assert "could not be loaded" in body and "SyntaxError" in body
    assert "modules/02_activations/activations.py" in body


@pytest.mark.parametrize("missing", ["CLASSROOM", "RELEASE_URL"])
def test_classroom50_without_its_identity_fails_cleanly(built, tmp_path, missing):
    repo = checkout(built, "stubs", tmp_path / "repo")
    env = {k: v for k, v in ENV.items() if k != missing}
    completed = run_classroom50(built["out"] / "foundation-classroom50", repo, env)
    assert completed.returncode == 2
    assert missing in completed.stderr and "environment variable" in completed.stderr
    assert not (repo / "result.json").exists() and not list(repo.glob(".*.tmp"))


# ---- Gradescope -------------------------------------------------------------------------------


def test_gradescope_reference_repository_scores_full(built, tmp_path):
    root = gradescope_root(built, tmp_path)
    repo = checkout(built, "reference", root / "submission" / "cs249-foundation-alice")
    shutil.rmtree(repo / ".git")  # a zip of the repository, one folder down
    completed, payload = run_gradescope(root)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert payload["score"] == TOTAL
    assert sum(t["max_score"] for t in payload["tests"]) == TOTAL
    assert all(t["status"] == "passed" for t in payload["tests"])
    assert {t["number"] for t in payload["tests"]} >= {"01.1", "02.1"}
    assert "Graded the repository at `cs249-foundation-alice/`" in payload["output"]
    assert "leaderboard" not in payload


def test_gradescope_stub_files_uploaded_by_hand_score_zero(built, tmp_path):
    root = gradescope_root(built, tmp_path)
    for source in SOURCES:
        shutil.copy(built["stubs"].root / source, root / "submission")
    completed, payload = run_gradescope(root)
    assert completed.returncode == 0
    assert payload["score"] == 0 and all(t["status"] == "failed" for t in payload["tests"])
    assert "Graded your `tensor.py` as `modules/01_tensor/tensor.py`." in payload["output"]
    assert any("NotImplementedError" in t["output"] for t in payload["tests"])


def test_gradescope_broken_submission_gets_a_readable_result(built, tmp_path):
    root = gradescope_root(built, tmp_path)
    shutil.copy(built["reference"].root / SOURCES[0], root / "submission")
    shutil.copy(built["reference"].root / SOURCES[1], root / "submission")
    broken = root / "submission" / "activations.py"
    broken.write_text(broken.read_text(encoding="utf-8") + "\ndef oops(:\n", encoding="utf-8")
    completed, payload = run_gradescope(root)
    assert completed.returncode == 0
    assert payload["score"] == 60
    failed = [t for t in payload["tests"] if t["status"] == "failed"]
    assert failed and all(t["number"].startswith("02.") for t in failed)
    assert "SyntaxError" in failed[0]["output"] and "could not be loaded" in failed[0]["output"]


def test_gradescope_without_a_submission_still_writes_a_result(built, tmp_path):
    root = gradescope_root(built, tmp_path)
    (root / "submission").rmdir()
    completed, payload = run_gradescope(root)
    assert completed.returncode == 2
    assert payload["score"] == 0 and payload["tests"] == []
    assert "no submission folder" in payload["output"] and "not with your code" in payload["output"]


# ---- milestones ---------------------------------------------------------------------------------


def test_the_tiers_milestones_run_in_the_autograder(tmp_path):
    config = json.loads(json.dumps(CONFIG))
    config["tiers"][0].update(modules=[1, 2, 3], milestones=[1])
    path = write_config(tmp_path / "course.yaml", config)
    (tier,) = build(path, tmp_path / "out", with_solutions=True, log=lambda _: None)
    assert tier.plan.milestones == (1,)
    repo = tmp_path / "repo"
    shutil.copytree(tier.root, repo)
    completed = run_classroom50(tmp_path / "out" / "foundation-classroom50", repo)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    results = json.loads((repo / classroom50.RESULTS_DIR / "results.json").read_text())
    (milestone,) = results["milestones"]
    assert milestone["number"] == 1 and milestone["status"] == "passed"
    assert milestone["message"].startswith("PASS") and milestone["name"] == "perceptron 1958"
    body = (repo / "release-body.md").read_text(encoding="utf-8")
    assert "| 1 perceptron 1958 | passed | PASS" in body
