"""`tiny test 03`: run one module's graded tests against the file you are editing.

Prints one line per failing test (its exercise id and what went wrong, "not started" or
"blocked by 01.1" for a test stopped by a stub) and the frames of your own code; hints only
for exercises you started or asked about (grading/feedback.py). `-v` prints pytest's own
full output instead. The tests always import the modules of this repository
($TINYTORCH_MODULES, when set, moves them), so what runs is what your file says now.

Exit code: pytest's (0 every selected test passed, 1 some failed, 2+ pytest could not run).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from grading.course_modules import ModuleMeta, load_all_modules
from grading.feedback import render
from grading.repo import REPO_ROOT, resolve_module
from grading.results import RunLimits

HELP = "run the graded tests of one module (e.g. `tiny test 01` or `tiny test tensor`)"
EXERCISE_HELP = "only the tests of this exercise, e.g. 05.1 (repeatable); shows its hint"
MODULES_ENV = "TINYTORCH_MODULES"


def add_arguments(parser) -> None:
    parser.add_argument("module", help="module number or name: 1, 01, tensor, 01_tensor")
    parser.add_argument(
        "--exercise", action="append", default=[], metavar="NN.K", help=EXERCISE_HELP
    )
    parser.add_argument("-k", dest="keyword", help="only tests whose name matches (pytest -k)")
    parser.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failure")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="print pytest's full output instead"
    )


def exercise_ids(meta: ModuleMeta, queries: list[str]) -> tuple[str, ...]:
    """'5.1', '05.1' or '05_1' -> '05.1'; ValueError naming the module's exercises."""
    known = [exercise.id for exercise in meta.exercises]
    chosen = []
    for query in queries:
        major, _, minor = query.strip().replace("_", ".").partition(".")
        wanted = f"{int(major):02d}.{int(minor)}" if major.isdigit() and minor.isdigit() else query
        if wanted not in known:
            raise ValueError(
                f"--exercise: Module {meta.number:02d} has no exercise '{query}' "
                f"(its exercises: {', '.join(known)})"
            )
        chosen.append(wanted)
    return tuple(dict.fromkeys(chosen))


def student_files(root: Path) -> set[str]:
    """Repository-relative paths of every module source file (the files students write)."""
    modules = Path(os.environ.get(MODULES_ENV) or root / "modules")
    files = set()
    for meta in load_all_modules(modules):
        try:
            files.add(meta.source_path.resolve().relative_to(root.resolve()).as_posix())
        except ValueError:
            files.add(meta.source_path.as_posix())
    return files


def pytest_command(meta: ModuleMeta, args, exercises: tuple[str, ...], report: Path | None):
    command = [sys.executable, "-m", "pytest", str(meta.tests_path), "--no-header"]
    command += ["-p", "no:cacheprovider", f"--timeout={meta.timeout:g}"]
    if exercises:
        command += ["-p", "grading.select_exercise"]
        command += [part for exercise in exercises for part in ("--exercise", exercise)]
    if args.keyword:
        command += ["-k", args.keyword]
    if args.exitfirst:
        command.append("-x")
    if report is None:
        return command + ["-v"]
    command += ["-q", "--tb=short", "--json-report", f"--json-report-file={report}"]
    return command + ["--json-report-omit", "log", "streams", "warnings", "keywords"]


def stale_notebook_note(meta: ModuleMeta, margin: float = 2.0) -> None:
    """Warn when the module's paired notebook was saved after its .py: the tests read the .py,
    so that notebook's latest edits are not what is tested (it was saved without jupytext)."""
    notebook = meta.source_path.with_suffix(".ipynb")
    if not (notebook.is_file() and meta.source_path.is_file()):
        return
    if notebook.stat().st_mtime > meta.source_path.stat().st_mtime + margin:
        where = notebook.relative_to(REPO_ROOT) if notebook.is_relative_to(REPO_ROOT) else notebook
        print(
            f"note: {where} is newer than {meta.source}, and the tests read {meta.source}. "
            f"Save the notebook in Jupyter with jupytext installed (it writes both files), "
            f"or run `jupytext --sync {where}`.",
            file=sys.stderr,
        )


def run(args) -> int:
    try:
        meta = resolve_module(args.module)
        exercises = exercise_ids(meta, args.exercise)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    env = dict(os.environ)
    env.setdefault(MODULES_ENV, str(REPO_ROOT / "modules"))
    print(
        f"Module {meta.number:02d} {meta.title}: testing {meta.source_path.relative_to(REPO_ROOT)}"
    )
    stale_notebook_note(meta)
    if args.verbose:
        return subprocess.call(pytest_command(meta, args, exercises, None), cwd=REPO_ROOT, env=env)
    with tempfile.TemporaryDirectory(prefix="tiny-test-") as scratch:
        report_path = Path(scratch) / "report.json"
        command = pytest_command(meta, args, exercises, report_path)
        done = subprocess.run(
            command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, errors="replace"
        )
        try:
            report = json.loads(report_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            report = None
    if report is None:  # pytest ended before writing its report: show what it said
        print(done.stdout + done.stderr, end="")
        print(f"pytest stopped before it could report (exit code {done.returncode}).")
        return done.returncode or 2
    limits = RunLimits(float(meta.timeout), 0.0, None)
    print(render(meta, report, REPO_ROOT, student_files(REPO_ROOT), exercises, limits), end="")
    return done.returncode
