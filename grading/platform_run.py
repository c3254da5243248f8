"""Grade a student's checkout with an autograder bundle: the one run every platform shares.

Classroom 50's `autograder.py` and Gradescope's `run_autograder` (written per tier by
`tiny build`, scripts/platform_bundles.py) both do exactly this, then hand the results
object to their own pure renderer (grading/classroom50.py, grading/gradescope.py):

1. `tiny grade --root CHECKOUT --pristine BUNDLE` in this process (grading/commands/grade.py):
   module.yaml files and graded tests from the bundle's pristine copy of the tier, the
   student's source files from the checkout, the tamper check against the bundle's
   `.tinytorch/protected.json`, limits from the bundle's `.tinytorch/course.yaml`;
2. every milestone the tier ships, `tiny milestone N` as the GitHub workflow runs it, in
   its own process group under a wall-clock and memory limit, on the same graded tree;
   PASS/FAIL goes into the results object's `milestones`, and a capstone `submission.json`
   a milestone wrote is validated (grading/submission.py) for Gradescope's leaderboard;
3. the usual outputs (`results.json`, `summary.md`, `classroom_result.json`) into `out`.

The bundle's pristine tree is the tier's protected files (tests, module.yaml files,
grading/, the import layer, milestones, datasets, reference modules, course.yaml and the
manifest); because `grading/` is imported from it, the child processes run the bundle's
grader and import layer too (grading/sandbox/run.py `grader_paths`), never the student's copy.

`run_milestones` is tested with a stand-in for the process (grading/test_platforms.py),
the whole run through the built bundles (scripts/test_platform_bundles.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from grading.commands.grade import GradeSettings, grade, write_outputs
from grading.course_config import CourseConfig, find_course_config, load_course_config
from grading.milestone_verdicts import milestone_record
from grading.sandbox import child_environment, memory_limit_supported
from grading.sandbox.milestones import DEFAULT_TIMEOUT
from grading.schemas import validate
from grading.submission import SubmissionError, load_submission

MILESTONE_TIMEOUT = DEFAULT_TIMEOUT  # seconds per milestone, as `tiny grade --milestones`
MILESTONES_ENV = "TINYTORCH_MILESTONES"  # "0" skips them (e.g. a quick re-grade)
SUBMISSION_FILE = "submission.json"
OUTPUT_TAIL = 4000  # characters of a milestone's output kept for its message


@dataclass(frozen=True)
class PlatformGrade:
    """What one platform run produced.

    results: the results object (tinytorch/results/v1), milestones included.
    submission: the validated capstone submission a milestone wrote, if any.
    submission_error: why a submission.json that was written is not valid.
    seconds: wall-clock time of the whole run."""

    results: dict
    submission: dict | None = None
    submission_error: str | None = None
    seconds: float = 0.0


# ---- milestones ---------------------------------------------------------------------------
#
# The record of a milestone run and its name are grading/milestone_verdicts.py's, exactly as
# `tiny grade --milestones` makes them in the GitHub workflow. Only the process differs:
# here the child imports the bundle's grader and milestones (PYTHONPATH from
# grading/sandbox/run.py, working directory outside the checkout, so `python -m` cannot pick up
# the student's copy of grading/), under the course's memory limit, in its own process
# group that is killed afterwards.


def milestone_name(path: Path) -> str:
    """'m1_perceptron_1958.py' → 'perceptron 1958', as grading/milestone_verdicts.py names it."""
    return path.stem.split("_", 1)[1].replace("_", " ") if "_" in path.stem else path.stem


def shipped_milestones(pristine: Path, course: CourseConfig | None) -> dict[int, Path]:
    """Milestone number -> its file, for the tier's milestones that the bundle ships."""
    wanted = set(course.tiers[0].milestones) if course is not None and course.tiers else set()
    found = {}
    for path in sorted((pristine / "milestones").glob("m[0-9]_*.py")):
        number = int(path.name[1])
        if number in wanted:
            found[number] = path
    return found


def _limit_memory(memory_bytes: int | None):
    if memory_bytes is None or not memory_limit_supported():
        return None

    def limit() -> None:  # in the child, between fork and exec
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return limit


def run_milestone(
    number: int,
    modules_root: Path,
    cwd: Path,
    timeout: float = MILESTONE_TIMEOUT,
    memory_bytes: int | None = None,
) -> tuple[int, str, float | None]:
    """`tiny milestone N` with the bundle's grader on the graded tree, in `cwd` (where a
    milestone writes its files). Returns (exit code, negative for a signal; its output; the
    time limit when it was stopped there, else None)."""
    cwd.mkdir(parents=True, exist_ok=True)
    log = cwd / "output.log"
    command = [sys.executable, "-m", "grading.cli", "milestone", str(number)]
    with log.open("wb") as handle:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=child_environment(modules_root),
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            preexec_fn=_limit_memory(memory_bytes),
            start_new_session=True,
        )
        timed_out = None
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = timeout
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        process.wait()
    output = log.read_text(encoding="utf-8", errors="replace")[-OUTPUT_TAIL:]
    return process.returncode, output, timed_out


def run_milestones(
    pristine: Path,
    modules_root: Path,
    work: Path,
    course: CourseConfig | None,
    timeout: float = MILESTONE_TIMEOUT,
) -> tuple[list[dict], dict | None, str | None]:
    """Every shipped milestone of the tier: (entries, capstone submission, its error)."""
    memory = (course.memory_limit_mb << 20) if course is not None else None
    entries, submission, problem = [], None, None
    for number, path in shipped_milestones(pristine, course).items():
        folder = work / f"milestone{number}"
        exit_code, output, timed_out = run_milestone(number, modules_root, folder, timeout, memory)
        print(output, end="" if output.endswith("\n") else "\n", flush=True)
        code = None if timed_out is not None else exit_code  # None: stopped at the limit
        entries.append(milestone_record(number, milestone_name(path), code, output))
        for found in sorted(folder.rglob(SUBMISSION_FILE)):
            try:
                submission, problem = load_submission(found), None
            except SubmissionError as error:
                submission, problem = None, str(error).replace(str(folder) + os.sep, "")
    return entries, submission, problem


# ---- the whole run ----------------------------------------------------------------------


def bundle_course(pristine: Path) -> CourseConfig | None:
    """The tier's course configuration the bundle carries (None when there is none)."""
    path = find_course_config(pristine)
    return load_course_config(path) if path else None


def grade_checkout(
    checkout: Path,
    pristine: Path,
    out: Path | None = None,
    *,
    milestones: bool | None = None,
    milestone_timeout: float = MILESTONE_TIMEOUT,
    environ=os.environ,
) -> PlatformGrade:
    """Grade `checkout` (a student's repository) with the bundle's `pristine` tree, run the
    tier's milestones, write the usual outputs to `out` (when given) and return them.
    milestones=None: run them unless $TINYTORCH_MILESTONES is "0".

    Raises whatever the grader raises when it cannot grade at all (SettingsError,
    CourseConfigError, OSError): that is an infrastructure failure, not the student's."""
    started = time.monotonic()
    if milestones is None:
        milestones = environ.get(MILESTONES_ENV, "1") != "0"
    course = bundle_course(pristine)
    settings = GradeSettings(
        root=checkout.resolve(),
        modules_root=checkout.resolve() / "modules",
        pristine_dir=pristine.resolve(),
        out=out.resolve() if out is not None else None,
    )
    submission, problem = None, None
    with tempfile.TemporaryDirectory(prefix="tiny-platform-") as scratch:
        work = Path(scratch)
        results = grade(settings, work)
        tree = work / "tree" / "modules"  # where grade() assembled the graded tree
        if milestones and tree.is_dir() and results["status"] != "error":
            entries, submission, problem = run_milestones(
                pristine.resolve(), tree, work / "milestones", course, milestone_timeout
            )
            if entries:
                results = {**results, "milestones": entries}
                validate("results", results, "results with milestones")
    if out is not None:
        write_outputs(results, settings, environ={})
    return PlatformGrade(results, submission, problem, time.monotonic() - started)
