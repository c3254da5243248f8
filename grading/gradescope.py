"""Gradescope adapter: the results object → Gradescope's `results/results.json`.

`tiny build` writes one autograder zip per tier (scripts/platform_bundles.py): `setup.sh`
(installs Python and the student runtime once, when Gradescope builds the image),
`run_autograder` (runs for every submission) and `autograder.py`, which calls `main()` here,
with the tier's pristine tree (tests, grader, milestones, datasets) beside them.

Gradescope's contract, confirmed in its autograder specification
(gradescope-autograders.readthedocs.io/en/latest/specs/): the zip's files are extracted to
`/autograder/source`, `run_autograder` is run from `/autograder` with the student's files
in `/autograder/submission`, and must leave `/autograder/results/results.json` with a
`score` (or per-test scores), optional `execution_time` (s), `output`, `output_format`
("text", "simple_format", "html", "md", "ansi"), `tests` (`name`, `number`, `score`,
`max_score`, `status` "passed"/"failed", `output`, `tags`, ...) and `leaderboard` entries
(`name`, `value`, `order` "asc" where lower is better; the default is descending).
Everything printed goes to `/autograder/results/stdout`, shown to instructors only.
Schema of what we write: grading/schemas/gradescope_results.v1.schema.json.

Paths come from `--root` or $GRADESCOPE_ROOT (default /autograder), so the tests run the
real `run_autograder` against a temporary root.

The submission may be the student's whole repository (Gradescope's GitHub submission, or a
zip of it: a `modules/` folder at the top or one folder down), graded as it is with the
tamper check; or loose files (their `modules/NN_name/<source>.py` files uploaded by hand),
placed by file name into a copy of the tier's pristine tree. The top-level output says
which files were found and which are missing.

Whatever happens, results.json is written (atomically): a broken submission is a readable
0-point result, an infrastructure failure an explanatory 0-point result and exit code 2.

Time: Gradescope stops a run after the assignment's autograder timeout, 600 s unless the
instructor raises it ("Your submission timed out. It took longer than 600 seconds to run"):
`--run-limit` (default RUN_LIMIT) is shared by platform_run.RunBudget so that even the worst
case ends GRADESCOPE_MARGIN seconds before it and results.json is written. Student code
runs as `--run-as USER` (run_autograder passes the unprivileged user setup.sh creates,
STUDENT_USER), never as root.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from grading.classroom50 import write_atomic
from grading.course_modules import ModuleMetaError, load_module_meta
from grading.platform_run import RunBudget, bundle_course, grade_checkout
from grading.render import STATUS_WORDS, markdown_summary, points_table
from grading.schemas import validate

ROOT_ENV = "GRADESCOPE_ROOT"
RUN_LIMIT = 600.0  # seconds: Gradescope's default autograder timeout
GRADESCOPE_MARGIN = 90.0  # seconds kept free: start-up, unpacking, writing results
STUDENT_USER = "tinytorch-student"  # created by setup.sh; runs every student process
DEFAULT_ROOT = Path("/autograder")
CAPSTONE_MODULE = 20
EXIT_GRADED, EXIT_INFRASTRUCTURE = 0, 2
OUTPUT_LIMIT = 60_000  # characters of top-level output; Gradescope truncates long text


@dataclass(frozen=True)
class Layout:
    """Where Gradescope puts things under its root (normally /autograder)."""

    root: Path

    @property
    def submission(self) -> Path:
        return self.root / "submission"

    @property
    def results_file(self) -> Path:
        return self.root / "results" / "results.json"


# ---- pure renderers ----------------------------------------------------------------------


def leaderboard(submission: dict) -> list[dict]:
    """Gradescope leaderboard entries from a capstone submission (tinytorch/submission/v1):
    the optimized model's accuracy (higher is better), median latency and stored size
    (lower is better: order "asc")."""
    best = submission["optimized"]
    return [
        {"name": "Accuracy", "value": round(float(best["accuracy"]), 4), "order": "desc"},
        {
            "name": "Latency p50 (ms)",
            "value": float(f"{float(best['latency_p50_ms']):.4g}"),
            "order": "asc",
        },
        {"name": "Model size (bytes)", "value": int(best["model_bytes"]), "order": "asc"},
    ]


def _test_entry(test: dict, module: dict) -> dict:
    name = f"{test['label']} · {test['name']}" if test["nodeid"] else test["name"]
    message = test["message"] or module["run"]["message"]
    passed = test["status"] == "passed"
    return {
        "name": name,
        "number": test["exercise"],
        "score": int(test["points"]["earned"]),
        "max_score": int(test["points"]["possible"]),
        "status": "passed" if passed else "failed",
        "output": "" if passed else f"{STATUS_WORDS[test['status']]}: {message or 'no message'}",
        "tags": [module["key"]],
    }


def _milestone_entry(milestone: dict) -> dict:
    return {
        "name": f"Milestone {milestone['number']}: {milestone['name']} (not graded)",
        "number": f"M{milestone['number']}",
        "status": "passed" if milestone["status"] == "passed" else "failed",
        "output": milestone.get("message") or "",
    }


def gradescope_results(
    results: dict,
    *,
    execution_time: float,
    notes: tuple[str, ...] = (),
    submission: dict | None = None,
    submission_error: str | None = None,
) -> dict:
    """Pure: results.json for Gradescope. One test per graded pytest test (score = points
    earned, number = exercise id), one informational test per milestone, the Markdown
    summary as the output; in the tier holding Module 20, a leaderboard from the capstone
    submission when a valid one was written (else a note saying why there is none)."""
    tests = [
        _test_entry(test, module)
        for module in results["modules"]
        for test in module["tests"]
        if test["graded"]
    ]
    tests += [_milestone_entry(milestone) for milestone in results["milestones"]]
    lines = list(notes)
    capstone = any(module["number"] == CAPSTONE_MODULE for module in results["modules"])
    if capstone and submission is None:
        reason = submission_error or "no milestone wrote a capstone submission.json"
        lines.append(f"No leaderboard entry: {reason}.")
    text = "\n".join(f"- {line}" for line in lines)
    output = (text + "\n\n" if text else "") + markdown_summary(results)
    if len(output) > OUTPUT_LIMIT:
        output = output[: OUTPUT_LIMIT - 40] + "\n\n… (cut: the full report is longer)\n"
    extra: dict = {"tinytorch_results": results}
    payload = {
        "score": int(results["points"]["earned"]),
        "execution_time": int(round(execution_time)),
        "output": output,
        "output_format": "md",
        "test_output_format": "text",
        "tests": tests,
        "extra_data": extra,
    }
    if capstone and submission is not None:
        payload["leaderboard"] = leaderboard(submission)
        extra["capstone_submission"] = submission
    validate("gradescope_results", payload, "Gradescope results.json")
    return payload


def error_results(message: str, execution_time: float) -> dict:
    """Pure: the results.json of a run that could not grade (never the student's fault)."""
    payload = {
        "score": 0,
        "execution_time": int(round(execution_time)),
        "output": (
            f"The autograder could not grade this submission: {message}\n\n"
            "This is a problem with the grader, not with your code: please tell the course "
            "staff; they can re-run the autograder once it is fixed."
        ),
        "output_format": "text",
        "tests": [],
    }
    validate("gradescope_results", payload, "Gradescope results.json")
    return payload


# ---- the submission ------------------------------------------------------------------------


def student_files(pristine: Path) -> list[str]:
    """The files a student of this tier writes: each graded module's source, as its
    pristine module.yaml names it (`modules/01_tensor/tensor.py`, ...), and under
    carry_forward: student each earlier module's source (the bundle has no copy of it,
    where it has the course's reference copy under carry_forward: reference)."""
    course = bundle_course(pristine)
    graded = set(course.tiers[0].modules) if course is not None and course.tiers else None
    found = []
    for manifest in sorted((pristine / "modules").glob("[0-9][0-9]_*/module.yaml")):
        try:
            meta = load_module_meta(manifest.parent, check_files=False)
        except ModuleMetaError:
            continue
        brought = not (manifest.parent / meta.source).is_file()
        if graded is None or meta.number in graded or brought:
            found.append(f"modules/{meta.key}/{meta.source}")
    return found


def find_repository(submission: Path) -> Path | None:
    """The submitted repository: the folder holding `modules/`, at the top or one down."""
    if (submission / "modules").is_dir():
        return submission
    inner = [p for p in sorted(submission.iterdir()) if p.is_dir() and (p / "modules").is_dir()]
    return inner[0] if len(inner) == 1 else None


def place_loose_files(
    submission: Path, pristine: Path, expected: list[str], dest: Path
) -> tuple[Path, list[str]]:
    """A checkout at `dest`: a copy of the pristine tree with each expected file taken from
    the upload by its file name (the shallowest match wins). Returns it and the notes."""
    shutil.copytree(pristine, dest)
    uploaded: dict[str, Path] = {}
    for path in sorted(submission.rglob("*"), key=lambda p: (len(p.parts), str(p))):
        if path.is_file():
            uploaded.setdefault(path.name, path)
    notes, missing = [], []
    for relative in expected:
        name = Path(relative).name
        if name in uploaded:
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(uploaded[name], target)
            shown = uploaded[name].relative_to(submission).as_posix()
            notes.append(f"Graded your `{shown}` as `{relative}`.")
        else:
            missing.append(relative)
    if missing:
        listed = ", ".join(f"`{m}`" for m in missing)
        notes.append(f"Not in your submission, so not graded (0 points): {listed}.")
    return dest, notes


def locate_checkout(submission: Path, pristine: Path, scratch: Path) -> tuple[Path, list[str]]:
    """The checkout to grade and what the output should say about it."""
    if not submission.is_dir():
        raise FileNotFoundError(f"no submission folder at {submission}")
    repository = find_repository(submission)
    if repository is not None:
        where = repository.relative_to(submission).as_posix()
        shown = "the top of your submission" if where == "." else f"`{where}/`"
        return repository, [f"Graded the repository at {shown}."]
    return place_loose_files(submission, pristine, student_files(pristine), scratch / "checkout")


# ---- the command shell ----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_autograder",
        description="Gradescope autograder of a TinyTorch tier: grade ROOT/submission, "
        "write ROOT/results/results.json.",
    )
    parser.add_argument(
        "--root", type=Path, default=None, help=f"default: ${ROOT_ENV}, else {DEFAULT_ROOT}"
    )
    parser.add_argument("--bundle", type=Path, default=None, help="the bundle's pristine/ tree")
    parser.add_argument("--no-milestones", action="store_true", help="skip the milestones")
    parser.add_argument(
        "--run-limit",
        type=float,
        default=RUN_LIMIT,
        metavar="SECONDS",
        help=f"the assignment's autograder timeout (default {RUN_LIMIT:.0f}, Gradescope's)",
    )
    parser.add_argument("--run-as", metavar="USER", help="run student code as this user")
    return parser


def budget_for(run_limit: float) -> RunBudget:
    """How a Gradescope run of `run_limit` seconds is shared (platform_run.RunBudget)."""
    return RunBudget(run_limit=run_limit, margin=GRADESCOPE_MARGIN)


def main(argv: list[str] | None = None, *, pristine: Path | None = None, environ=None) -> int:
    """Grade the submission and write results.json; 0 when grading ran, 2 when it could not
    (results.json then explains that to the student)."""
    environ = os.environ if environ is None else environ
    started = time.monotonic()
    args = build_parser().parse_args(argv)
    layout = Layout(args.root or Path(environ.get(ROOT_ENV) or DEFAULT_ROOT))
    pristine = args.bundle or pristine
    code = EXIT_GRADED
    try:
        if pristine is None or not (pristine / "modules").is_dir():
            raise FileNotFoundError(f"no pristine tier tree at {pristine} (--bundle)")
        with tempfile.TemporaryDirectory(prefix="tiny-gradescope-") as scratch:
            checkout, notes = locate_checkout(layout.submission, pristine, Path(scratch))
            run = grade_checkout(
                checkout,
                pristine,
                milestones=False if args.no_milestones else None,
                environ=environ,
                budget=budget_for(args.run_limit),
                run_as=args.run_as,
            )
        print(points_table(run.results), end="")
        if run.results["status"] == "error":
            problems = run.results["errors"] + [
                m["run"]["message"] for m in run.results["modules"] if m["status"] == "error"
            ]
            raise RuntimeError("; ".join(p for p in problems if p) or "grader error")
        payload = gradescope_results(
            run.results,
            execution_time=time.monotonic() - started,
            notes=tuple(notes),
            submission=run.submission,
            submission_error=run.submission_error,
        )
    except Exception as error:  # the grader failed: say so in results.json, exit 2
        traceback.print_exc()
        payload = error_results(f"{type(error).__name__}: {error}", time.monotonic() - started)
        code = EXIT_INFRASTRUCTURE
    layout.results_file.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(layout.results_file, json.dumps(payload, indent=2) + "\n")
    print(f"results.json: {payload['score']} points, {len(payload['tests'])} tests")
    return code


if __name__ == "__main__":
    sys.exit(main())
