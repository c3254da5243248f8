"""Grade a student's checkout with an autograder bundle: the one run every platform shares.

Classroom 50's `autograder.py` and Gradescope's `run_autograder` (written per tier by
`tiny build`, scripts/platform_bundles.py) both do exactly this, then hand the results
object to their own pure renderer (grading/classroom50.py, grading/gradescope.py):

1. `tiny grade --root CHECKOUT --pristine BUNDLE` in this process (grading/commands/grade.py):
   module.yaml files and graded tests from the bundle's pristine copy of the tier, the
   student's source files from the checkout, the tamper check against the bundle's
   `.tinytorch/protected.json`, limits from the bundle's `.tinytorch/course.yaml`;
2. every milestone the tier ships, `tiny milestone N` in the sandbox as the GitHub workflow
   runs it, under a wall-clock and memory limit, on the same graded tree;
   PASS/FAIL goes into the results object's `milestones`, and a capstone `submission.json`
   a milestone wrote is validated (grading/submission.py) for Gradescope's leaderboard;
3. the usual outputs (`results.json`, `summary.md`, `classroom_result.json`) into `out`.

The bundle's pristine tree is the tier's protected files (tests, module.yaml files,
grading/, the import layer, milestones, datasets, reference modules, course.yaml and the
manifest); because `grading/` is imported from it, the child processes run the bundle's
grader and import layer too (grading/sandbox/run.py `grader_paths`), never the student's copy.

A platform with a limit on the whole run (Gradescope stops a run after 600 s unless the
assignment allows more) passes a `RunBudget`: every module then gets a wall-clock limit
that fits, and each milestone only the time that is left, keeping a reserve for the ones
after it; a milestone with no time left is recorded as not run. The worst case (every
module and milestone running to its limit) ends `margin` seconds before the platform's
limit, so results are always written.

`run_as=USER` runs student code as that unprivileged user: modules and milestones alike run
in the grader's sandbox (grading/sandbox/: GradeSettings.run_as for the modules,
grading/sandbox/milestones.py for the milestones).

`run_milestones` is tested with a stand-in for the process (grading/test_platforms.py),
the whole run through the built bundles (scripts/test_platform_bundles.py).
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from grading.commands.grade import GradeSettings, grade, write_outputs
from grading.course_config import CourseConfig, find_course_config, load_course_config
from grading.milestone_verdicts import milestone_name as name_of_milestone
from grading.milestone_verdicts import milestone_record
from grading.sandbox.milestones import DEFAULT_TIMEOUT
from grading.sandbox.milestones import run_milestone as sandboxed_milestone
from grading.schemas import validate
from grading.submission import SubmissionError, load_submission

MILESTONE_TIMEOUT = DEFAULT_TIMEOUT  # seconds per milestone, as `tiny grade --milestones`
MILESTONES_ENV = "TINYTORCH_MILESTONES"  # "0" skips them (e.g. a quick re-grade)
SUBMISSION_FILE = "submission.json"
OUTPUT_TAIL = 4000  # characters of a milestone's output kept for its message
NOT_RUN = "not run: the platform's limit on the whole run ({limit:.0f} s) leaves no time for it"


@dataclass(frozen=True)
class RunBudget:
    """How a platform's limit on one whole grading run is shared (all in seconds).

    run_limit: the platform's limit (Gradescope's default: 600);
    margin: kept free for start-up, the tamper check and writing the results;
    module_wall: the most one module's tests may take;
    milestone_reserve: kept for each milestone still to run while an earlier one runs;
    milestone_floor: a milestone with less time than this left is not started."""

    run_limit: float
    margin: float = 90.0
    module_wall: float = 45.0
    milestone_reserve: float = 60.0
    milestone_floor: float = 20.0

    @property
    def grading(self) -> float:
        """Seconds the grading itself may take: the limit less the margin."""
        return self.run_limit - self.margin

    def module_limit(self, modules: int, milestones: int) -> float:
        """Wall-clock limit per module: `module_wall`, less when the modules would otherwise
        leave the milestones less than their reserve."""
        room = self.grading - milestones * self.milestone_reserve
        return max(1.0, min(self.module_wall, room / max(1, modules)))

    def worst_case(self, modules: int, milestones: int) -> float:
        """The longest the grading can take: every module at its limit, then milestones
        until the budget is spent (never past `grading`)."""
        spent = modules * self.module_limit(modules, milestones)
        return spent + max(0.0, self.grading - spent) if milestones else spent

    def milestone_limit(self, remaining: float, milestones_after: int) -> float | None:
        """Limit of the next milestone with `remaining` seconds of the budget left and
        `milestones_after` still to come; None when it should not start."""
        limit = min(MILESTONE_TIMEOUT, remaining - milestones_after * self.milestone_reserve)
        return limit if limit >= self.milestone_floor else None


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


def milestone_name(path: Path) -> str:
    """'m1_perceptron_1958.py' → 'perceptron 1958', as every milestone record names it."""
    return name_of_milestone(f"milestones.{path.stem}")


def shipped_milestones(pristine: Path, course: CourseConfig | None) -> dict[int, Path]:
    """Milestone number -> its file, for the tier's milestones that the bundle ships."""
    wanted = set(course.tiers[0].milestones) if course is not None and course.tiers else set()
    found = {}
    for path in sorted((pristine / "milestones").glob("m[0-9]_*.py")):
        number = int(path.name[1])
        if number in wanted:
            found[number] = path
    return found


def run_milestone(
    number: int,
    modules_root: Path,
    folder: Path,
    timeout: float = MILESTONE_TIMEOUT,
    memory_bytes: int | None = None,
    run_as: str | None = None,
) -> dict:
    """`tiny milestone N` on the graded tree in the grader's sandbox, as the workflow runs it
    (grading/sandbox/milestones.py); what it wrote under out/ is kept in `folder`. Returns
    its record; its output (the last OUTPUT_TAIL characters) goes to this run's log."""
    record, output = sandboxed_milestone(
        number, modules_root, (), run_as, timeout, keep=folder, memory=memory_bytes
    )
    output = output[-OUTPUT_TAIL:]
    print(output, end="" if output.endswith("\n") else "\n", flush=True)
    return record


def run_milestones(
    pristine: Path,
    modules_root: Path,
    work: Path,
    course: CourseConfig | None,
    timeout: float = MILESTONE_TIMEOUT,
    *,
    budget: RunBudget | None = None,
    deadline: float | None = None,
    run_as: str | None = None,
) -> tuple[list[dict], dict | None, str | None]:
    """Every shipped milestone of the tier: (entries, capstone submission, its error).
    With a budget, each gets what is left before `deadline` (time.monotonic()) less the
    reserve of the ones after it; one with too little left is recorded as not run."""
    memory = (course.memory_limit_mb << 20) if course is not None else None
    entries, submission, problem = [], None, None
    shipped = shipped_milestones(pristine, course)
    for index, (number, path) in enumerate(shipped.items()):
        folder = work / f"milestone{number}"
        limit = timeout
        if budget is not None and deadline is not None:
            remaining = deadline - time.monotonic()
            limit = budget.milestone_limit(remaining, len(shipped) - index - 1)
            if limit is None:
                message = NOT_RUN.format(limit=budget.run_limit)
                entries.append(milestone_record(number, milestone_name(path), None, ""))
                entries[-1]["message"] = message
                continue
        entries.append(run_milestone(number, modules_root, folder, limit, memory, run_as))
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
    budget: RunBudget | None = None,
    run_as: str | None = None,
) -> PlatformGrade:
    """Grade `checkout` (a student's repository) with the bundle's `pristine` tree, run the
    tier's milestones, write the usual outputs to `out` (when given) and return them.
    milestones=None: run them unless $TINYTORCH_MILESTONES is "0". budget: the platform's
    limit on the whole run, shared as RunBudget says. run_as: the unprivileged user that
    runs student code (modules and milestones).

    Raises whatever the grader raises when it cannot grade at all (SettingsError,
    CourseConfigError, OSError): that is an infrastructure failure, not the student's."""
    started = time.monotonic()
    if milestones is None:
        milestones = environ.get(MILESTONES_ENV, "1") != "0"
    course = bundle_course(pristine)
    limits = {}
    if budget is not None:
        modules = len(course.tiers[0].modules) if course is not None and course.tiers else 1
        count = len(shipped_milestones(pristine, course)) if milestones else 0
        limits["wall_limit"] = budget.module_limit(modules, count)
    if run_as is not None:
        limits["run_as"] = run_as  # the sandbox's interface (grading/commands/grade.py)
    settings = GradeSettings(
        root=checkout.resolve(),
        modules_root=checkout.resolve() / "modules",
        pristine_dir=pristine.resolve(),
        out=out.resolve() if out is not None else None,
        **limits,
    )
    submission, problem = None, None
    with tempfile.TemporaryDirectory(prefix="tiny-platform-") as scratch:
        work = Path(scratch)
        results = grade(settings, work)
        tree = work / "tree" / "modules"  # where grade() assembled the graded tree
        if milestones and tree.is_dir() and results["status"] != "error":
            deadline = started + budget.grading if budget is not None else None
            entries, submission, problem = run_milestones(
                pristine.resolve(),
                tree,
                work / "milestones",
                course,
                milestone_timeout,
                budget=budget,
                deadline=deadline,
                run_as=run_as,
            )
            if entries:
                results = {**results, "milestones": entries}
                validate("results", results, "results with milestones")
    if out is not None:
        write_outputs(results, settings, environ={})
    return PlatformGrade(results, submission, problem, time.monotonic() - started)
