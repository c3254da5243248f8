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
grader and import layer too (grading/sandbox.py `grader_paths`), never the student's copy.

Pure helpers (`milestone_entry`, `milestone_title`) are tested without processes.
"""

from __future__ import annotations

import ast
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
from grading.sandbox import child_environment, memory_limit_supported
from grading.schemas import validate
from grading.submission import SubmissionError, load_submission

MILESTONE_TIMEOUT = 600.0  # seconds per milestone; the heaviest takes well under a minute
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


# ---- milestones: pure parts ------------------------------------------------------------


def milestone_title(path: Path) -> str:
    """The milestone's TITLE constant, read without running the file (it imports the
    student's code); the file name when there is none."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return path.stem
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "TITLE" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    return path.stem


def milestone_entry(
    number: int, title: str, exit_code: int | None, output: str, timed_out: float | None = None
) -> dict:
    """A `milestones` entry of the results object from how `tiny milestone N` ended.

    Exit 0 is PASS and 1 is FAIL (the milestone's contract); a time-out, a crash or any other
    code is a failure of the student's run too (the milestone code is the course's), except
    2, a bad option, which is the grader's error. The message is the milestone's own
    PASS/FAIL line when it printed one."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    verdict = next((line for line in reversed(lines) if line.startswith(("PASS", "FAIL"))), None)
    if timed_out is not None:
        status = "failed"
        message = f"stopped after {timed_out:g} s (the milestone's time limit)"
    elif exit_code == 0:
        status, message = "passed", verdict or "PASS"
    elif exit_code == 1:
        status, message = "failed", verdict or (lines[-1] if lines else "FAIL")
    elif exit_code == 2:
        status = "error"
        message = f"the grader could not run it: {lines[-1] if lines else 'exit code 2'}"
    else:
        status = "failed"
        how = f"exit code {exit_code}" if exit_code and exit_code > 0 else "a crash"
        message = f"it ended with {how}: {lines[-1] if lines else 'no output'}"
    if len(message) > 300:
        message = message[:299] + "…"
    return {"number": number, "name": title, "status": status, "message": message}


def shipped_milestones(pristine: Path, course: CourseConfig | None) -> dict[int, Path]:
    """Milestone number -> its file, for the tier's milestones that the bundle ships."""
    wanted = set(course.tiers[0].milestones) if course is not None and course.tiers else set()
    found = {}
    for path in sorted((pristine / "milestones").glob("m[0-9]_*.py")):
        number = int(path.name[1])
        if number in wanted:
            found[number] = path
    return found


# ---- milestones: the processes ----------------------------------------------------------


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
) -> tuple[int | None, str, float | None]:
    """`tiny milestone N` with the bundle's grader on the graded tree, in `cwd` (where a
    milestone writes its files). Returns (exit code or None, output, seconds if timed out)."""
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
    code = process.returncode
    return (code if code is not None and code >= 0 else None), output, timed_out


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
        entries.append(milestone_entry(number, milestone_title(path), exit_code, output, timed_out))
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
        tree = work / "tree" / "modules"
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
