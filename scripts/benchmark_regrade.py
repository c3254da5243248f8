"""Regrading a large class on GitHub Actions: measured cost per submission, projected wall time.

    python scripts/benchmark_regrade.py                        # 1,000 students, 20 runners
    python scripts/benchmark_regrade.py --students 1000 --runners 10,20,40 --cores 2,4

Measured here, in one run:
  - install: a fresh venv + `pip install --editable` of the built Foundation template (what
    a regrade job installs before grading; the staff workflow installs the course repository,
    which has the same runtime dependencies);
  - grading: the Foundation tier template graded by `tiny grade-batch`'s own code
    (grading/commands/grade_batch.py `grade_repository`: audit, assembled tree, one sandboxed
    pytest per module) for three real submissions: the reference solution, the stubs as
    handed out, and a partial one (reference for the first half of the modules, stubs after);
    wall and CPU seconds each (CPU of the child processes: the steadier figure on a busy
    machine). Submissions per core-minute = 60 / mean CPU seconds.

Projected (stated assumptions, printed): a shard holds the largest shard of the hash
partition (grading/batch_shards.py) of N synthetic usernames; a runner grades `cores`
submissions at once (`--jobs` = cores), each taking the mean CPU seconds; per-job start-up =
runner start (STARTUP_S) + install (measured) + clones (CLONE_S per repository, sequential);
plus the plan and merge jobs (MERGE_S + install). Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

from grading.batch_grading import grade_repository
from grading.batch_shards import shard_of
from grading.commands.grade import GradeSettings
from grading.course_config import load_course_config
from grading.course_modules import load_module_meta
from grading.repo import REPO_ROOT
from scripts import stubs
from scripts.build_templates import build

GOAL_MINUTES = 15.0
STARTUP_S = 20.0  # GitHub-hosted runner: job queued to first step (typical, not measured here)
CLONE_S = 1.0  # one small private repository over HTTPS from a GitHub runner (assumed)
MERGE_S = 30.0  # plan job, artifact download and merge of N shards (assumed)


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the sandboxed pytest runs)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def measure_install(template: Path, scratch: Path) -> float:
    """Seconds for a fresh venv + `pip install --editable` of a copy of the template (the
    install leaves build metadata beside it, which must not reach the graded template)."""
    copy = scratch / "install" / template.name
    shutil.copytree(template, copy, symlinks=True)
    started = time.perf_counter()
    env_dir = scratch / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", "--editable"]
    subprocess.run([*pip, str(copy)], check=True, capture_output=True)
    return time.perf_counter() - started


def make_submissions(template: Path, course_config: Path, scratch: Path) -> dict[str, Path]:
    """reference / stubs / partial copies of the built template, as students would push them."""
    config = load_course_config(course_config)
    numbers = config.tiers[0].modules
    sources = {}
    for number in numbers:
        (folder,) = sorted((REPO_ROOT / "modules").glob(f"{number:02d}_*/module.yaml"))
        meta = load_module_meta(folder.parent)
        sources[number] = (f"modules/{meta.key}/{meta.source}", meta.source_path)
    half = set(numbers[: math.ceil(len(numbers) / 2)])
    made = {}
    for kind in ("reference", "stubs", "partial"):
        repo = scratch / "submissions" / f"tinytorch-foundation-{kind}"
        shutil.copytree(template, repo, symlinks=True)
        for number, (relative, reference) in sources.items():
            if kind == "reference" or (kind == "partial" and number in half):
                target = repo / relative
                target.chmod(0o644)
                target.write_text(stubs.drop_markers(reference.read_text(), reference))
        made[kind] = repo
    return made


def grade_once(repo: Path, template: Path, out: Path) -> tuple[float, float, str]:
    """(wall s, CPU s, 'earned/possible') of grading one submission like tiny grade-batch."""
    settings = GradeSettings(
        root=Path("."), modules_root=Path("modules"), out=out, pristine_dir=template
    )
    wall, cpu = time.perf_counter(), cpu_seconds()
    results, findings, error = grade_repository(repo, template, settings)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    if error or results is None:
        raise SystemExit(f"{repo.name} could not be graded: {error}")
    if findings:
        raise SystemExit(f"{repo.name}: unexpected findings {findings}")
    points = results["points"]
    return wall, cpu, f"{points['earned']}/{points['possible']}"


def largest_shard(students: int, runners: int) -> int:
    counts = [0] * runners
    for number in range(students):
        counts[shard_of(f"student-{number:05d}", runners) - 1] += 1
    return max(counts)


def projection(
    students: int, runners: int, cores: int, seconds_per_submission: float, install_s: float
) -> dict[str, float]:
    """Seconds of each phase of one regrade; a core grades one submission at a time."""
    per_shard = largest_shard(students, runners)
    grading = math.ceil(per_shard / cores) * seconds_per_submission
    startup = STARTUP_S + install_s + CLONE_S * per_shard
    merge = STARTUP_S + install_s + MERGE_S
    return {
        "per_shard": per_shard,
        "grading": grading,
        "startup": startup,
        "merge": merge,
        "total": STARTUP_S + startup + grading + merge,  # + the plan job's start
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--runners", default="10,20,40", help="comma-separated runner counts")
    parser.add_argument("--cores", default="2,4", help="cores per runner (GitHub: 2 or 4)")
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "template" / "course.yaml")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tiny-regrade-bench-") as scratch_name:
        scratch = Path(scratch_name)
        started = time.perf_counter()
        (built, *_) = build(args.config, scratch / "templates", ["foundation"], log=lambda _: None)
        print(f"built the Foundation template in {time.perf_counter() - started:.1f} s")
        install_s = measure_install(built.root, scratch)
        print(f"install (fresh venv + pip install --editable template): {install_s:.1f} s")
        submissions = make_submissions(built.root, args.config, scratch)
        cpus, walls = [], []
        for kind, repo in submissions.items():
            wall, cpu, points = grade_once(repo, built.root, scratch / "out" / kind)
            cpus.append(cpu)
            walls.append(wall)
            print(f"graded {kind:9s} {points:>9s}: {wall:6.1f} s wall, {cpu:6.1f} s CPU")
    mean_cpu, mean_wall = statistics.mean(cpus), statistics.mean(walls)
    print(
        f"\nmean {mean_cpu:.1f} CPU s per Foundation submission -> "
        f"{60 / mean_cpu:.2f} submissions per core-minute "
        f"(wall here {mean_wall:.1f} s, on a machine with load {os.getloadavg()[0]:.1f})"
    )
    print(
        f"assumed: runner start {STARTUP_S:.0f} s, clone {CLONE_S:.0f} s per repository, "
        f"plan+merge {MERGE_S:.0f} s; measured install {install_s:.0f} s"
    )
    print("projection with CPU s per submission (a quiet runner core); in brackets with the")
    print("wall s measured here (an upper bound: this machine's cores are shared)\n")
    print("students | runners | cores | per shard | start-up | grading | total")
    meets = {}
    for cores in (int(c) for c in args.cores.split(",")):
        for runners in (int(r) for r in args.runners.split(",")):
            p = projection(args.students, runners, cores, mean_cpu, install_s)
            slow = projection(args.students, runners, cores, mean_wall, install_s)
            meets[(runners, cores)] = (p["total"], slow["total"])
            dominant = "grading" if p["grading"] > p["startup"] else "start-up"
            print(
                f"{args.students:8d} | {runners:7d} | {cores:5d} | {p['per_shard']:9d} | "
                f"{p['startup']:6.0f} s | {p['grading']:5.0f} s | {p['total'] / 60:5.1f} min "
                f"[{slow['total'] / 60:5.1f} min] ({dominant} dominates)"
            )
    for (runners, cores), (fast, slow) in meets.items():
        if runners != 20:
            continue
        verdict = "MEETS" if fast <= GOAL_MINUTES * 60 else "MISSES"
        bound = "meets" if slow <= GOAL_MINUTES * 60 else "misses"
        print(
            f"goal: {args.students} Foundation submissions <= {GOAL_MINUTES:.0f} min on 20 "
            f"runners of {cores} cores: {verdict} ({fast / 60:.1f} min; the wall-time upper "
            f"bound {slow / 60:.1f} min {bound} it)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
