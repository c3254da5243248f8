"""Sharded regrading: `tiny grade-batch --shard I/N` on every shard, then `tiny merge-shards`,
gives row for row the gradebook of one unsharded run.

Synthetic class: a one-module template (Module 01) and submissions cycling through full
(reference), partial (one exercise wrong), broken (syntax error), stubs, tampered (reference
plus rewritten tests) and missing (on the roster, no repository). CI grades
REGRADE_SUBMISSIONS (default 20, ~30 s on 2 cores: each submission is graded twice); the
staff run of the 200-submission version (a few minutes):

    TINYTORCH_REGRADE_SUBMISSIONS=200 .venv/bin/python -m pytest grading/test_batch_shards.py
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from grading import cli
from grading.batch_shards import Shard, ShardError, check_shards, parse_shard, read_shard, shard_of
from grading.repo import REPO_ROOT
from grading.results import without_durations
from scripts import stubs
from scripts.build_templates import build

SUBMISSIONS = int(os.environ.get("TINYTORCH_REGRADE_SUBMISSIONS", "20"))
SHARDS = 3
CONFIG = """\
schema: tinytorch-course/v1
course: {name: Regrade, institution: Test U, term: Test Term, timezone: UTC}
tiers:
  - {slug: foundation, title: Foundation, modules: [1], deadline: "2027-03-07T23:59:00Z"}
"""
SOURCE = "modules/01_tensor/tensor.py"
TESTS = "modules/01_tensor/test_01_tensor.py"
ASSIGNMENT = "tinytorch-foundation"
KINDS = ("full", "partial", "broken", "stubs", "tampered", "missing")
EXP_LINE = "return Tensor(np.exp(self.data))"


def submission_text(kind: str, reference: str, stub: str) -> str:
    if kind == "partial":
        assert EXP_LINE in reference, "the partial submission needs this line of 01.6"
        return reference.replace(EXP_LINE, "return Tensor(np.exp(self.data) + 1.0)")
    if kind == "broken":
        return reference.replace("def exp(self)", "def exp(self", 1)
    return stub if kind == "stubs" else reference


@pytest.fixture(scope="module")
def classroom(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("regrade")
    (root / "course.yaml").write_text(CONFIG)
    (built,) = build(root / "course.yaml", root / "templates", log=lambda _: None)
    reference = stubs.drop_markers((REPO_ROOT / SOURCE).read_text(), REPO_ROOT / SOURCE)
    stub = (built.root / SOURCE).read_text()
    submissions = root / f"{ASSIGNMENT}-submissions"
    roster = ["identifier,github_username,github_id,name"]
    kinds = {}
    for number in range(SUBMISSIONS):
        kind = KINDS[number % len(KINDS)]
        user = f"student-{number:03d}"
        kinds[user] = kind
        roster.append(f"id{number:03d},{user},{1000 + number},Student {number}")
        if kind == "missing":
            continue
        repo = submissions / f"{ASSIGNMENT}-{user}"
        shutil.copytree(built.root, repo, symlinks=True)
        (repo / SOURCE).chmod(0o644)
        (repo / SOURCE).write_text(submission_text(kind, reference, stub))
        if kind == "tampered":
            (repo / TESTS).chmod(0o644)
            (repo / TESTS).write_text("def test_everything():\n    pass\n")
    (root / "roster.csv").write_text("\n".join(roster) + "\n")
    return {
        "template": built.root,
        "submissions": submissions,
        "roster": root / "roster.csv",
        "kinds": kinds,
        "config": root / "course.yaml",
    }


def batch(classroom, out: Path, *extra: str) -> int:
    argv = ["grade-batch", str(classroom["submissions"]), "--pristine", str(classroom["template"])]
    argv += ["--roster", str(classroom["roster"]), "--out", str(out), "--jobs", "2", *extra]
    return cli.main(argv)


@pytest.fixture(scope="module")
def runs(classroom, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("runs")
    single = root / "single"
    codes = {"single": batch(classroom, single)}
    shards = [root / f"shard-{i}" for i in range(1, SHARDS + 1)]
    for index, folder in enumerate(shards, start=1):
        codes[f"shard {index}"] = batch(classroom, folder, "--shard", f"{index}/{SHARDS}")
    merged = root / "merged"
    codes["merge"] = cli.main(["merge-shards", *map(str, shards), "--out", str(merged)])
    return {"single": single, "shards": shards, "merged": merged, "codes": codes}


def csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def test_merged_shards_equal_one_run_row_for_row(classroom, runs):
    assert set(runs["codes"].values()) == {1}, runs["codes"]  # tampered and missing: exit 1
    single = csv_rows(runs["single"] / "summary.csv")
    merged = csv_rows(runs["merged"] / "summary.csv")
    assert len(single) == SUBMISSIONS and [r["student"] for r in single] == sorted(
        classroom["kinds"]
    )
    assert merged == single
    assert (runs["merged"] / "report.txt").read_text() == (
        runs["single"] / "report.txt"
    ).read_text()
    for row in single:
        if row["status"] == "missing":
            continue
        relative = Path(ASSIGNMENT) / row["student"] / "results.json"
        one = json.loads((runs["single"] / relative).read_text())
        two = json.loads((runs["merged"] / relative).read_text())
        assert without_durations(one) == without_durations(two)


def test_each_kind_of_submission_gets_its_points(classroom, runs):
    by_kind: dict[str, set[tuple[str, str, str]]] = {}
    for row in csv_rows(runs["merged"] / "summary.csv"):
        kind = classroom["kinds"][row["student"]]
        by_kind.setdefault(kind, set()).add((row["status"], row["points"], row["tampered"]))
    assert by_kind["full"] == {("passed", "60", "")}
    assert by_kind["tampered"] == {("failed", "60", f"{TESTS} (modified)")}
    assert by_kind["stubs"] == {("failed", "0", "")}
    assert by_kind["broken"] == {("failed", "0", "")}
    assert by_kind["missing"] == {("missing", "", "")}
    ((status, points, tampered),) = by_kind["partial"]
    assert status == "failed" and 0 < int(points) < 60 and tampered == ""
    report = (runs["merged"] / "report.txt").read_text()
    assert f"Missing repositories ({Counter(classroom['kinds'].values())['missing']})" in report


def test_every_student_is_in_exactly_one_shard(classroom, runs):
    graded = [
        entry["student"]
        for folder in runs["shards"]
        for entry in read_shard(folder).document["entries"]
    ]
    assert sorted(graded) == sorted(classroom["kinds"])
    for folder in runs["shards"]:
        shard = read_shard(folder).shard
        assert all(shard.holds(e["student"]) for e in read_shard(folder).document["entries"])


def test_merge_refuses_missing_duplicate_or_mismatched_shards(classroom, runs, tmp_path, capsys):
    shards = runs["shards"]
    out = str(tmp_path / "m")
    assert cli.main(["merge-shards", *map(str, shards[:-1]), "--out", out]) == 2
    assert f"missing shard(s) {SHARDS} of {SHARDS}" in capsys.readouterr().err
    assert cli.main(["merge-shards", *map(str, shards), str(shards[0]), "--out", out]) == 2
    assert "given twice" in capsys.readouterr().err
    assert not Path(out).exists(), "a refused merge writes nothing"
    other = tmp_path / "other"
    shutil.copytree(shards[0], other)
    document = json.loads((other / "batch.json").read_text())
    document["options"]["timeout"] = 5.0
    (other / "batch.json").write_text(json.dumps(document))
    assert cli.main(["merge-shards", str(other), *map(str, shards[1:]), "--out", out]) == 2
    assert "other options" in capsys.readouterr().err
    document = json.loads((shards[0] / "batch.json").read_text())
    document["entries"].append(read_shard(shards[1]).document["entries"][0])
    (other / "batch.json").write_text(json.dumps(document))
    assert cli.main(["merge-shards", str(other), *map(str, shards[1:]), "--out", out]) == 2
    assert "each student must be graded once" in capsys.readouterr().err


def test_shard_partition_is_stable_and_complete():
    students = [f"user{n}" for n in range(1000)]
    counts = Counter(shard_of(s, 20) for s in students)
    assert sorted(counts) == list(range(1, 21))
    assert sum(counts.values()) == 1000 and max(counts.values()) < 80
    assert shard_of("Ada-L", 7) == shard_of("ada-l", 7)
    assert parse_shard("3/20") == Shard(3, 20)
    for bad in ("0/3", "4/3", "x", "3"):
        with pytest.raises(ShardError):
            parse_shard(bad)
    with pytest.raises(ShardError, match="no shard folder"):
        check_shards([])


def test_list_shard_prints_the_repositories_to_clone(classroom, capsys):
    argv = ["grade-batch", "--roster", str(classroom["roster"]), "--assignment", ASSIGNMENT]
    listed = []
    for index in range(1, SHARDS + 1):
        assert cli.main([*argv, "--list-shard", "--shard", f"{index}/{SHARDS}"]) == 0
        listed += capsys.readouterr().out.split()
    assert sorted(listed) == sorted(f"{ASSIGNMENT}-{user}" for user in classroom["kinds"])


def test_the_merged_results_make_the_gradebook_and_canvas_file(classroom, runs, tmp_path):
    """What the regrade workflow's last job runs on the merged folder."""
    out = tmp_path / "gradebook"
    argv = ["gradebook", str(runs["merged"] / ASSIGNMENT), "--roster", str(classroom["roster"])]
    code = cli.main([*argv, "--config", str(classroom["config"]), "--out", str(out)])
    assert code in (0, 1)
    rows = {r["github_username"]: r for r in csv_rows(out / "gradebook.csv")}
    summary = {r["student"]: r for r in csv_rows(runs["merged"] / "summary.csv")}
    assert set(rows) == set(classroom["kinds"])
    for student, row in rows.items():
        graded = summary[student]["points"]
        assert row["foundation"] == graded, (student, row, summary[student])
    assert (out / "canvas.csv").is_file()
