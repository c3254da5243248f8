"""Run a milestone on a student's modules in the sandbox, and read its verdict back.

    run_milestone(number, modules_root, arguments, run_as=None, timeout=900, keep=None,
                  memory=None) -> (record, output)

A milestone trains the student's own code, so it runs like the graded tests
(grading/sandbox/run.py `run_child`): an allow-listed environment, `python -s` through the
trusted bootstrap, an import root holding only the grader's packages (here also
`milestones` and `datasets`), its own throwaway folder, optionally as an unprivileged
user, a wall-clock limit and, when given, an address-space limit (`memory` bytes). Before
anything runs, every module file of the tree must pass the static policy
(grading/policy.py); a refused file is the milestone's error.

Inside, `tiny milestone N --record verdict.json` writes the record after the milestone's
own code returned; a run that left no record (the student's code exited or crashed the
process) is an error. `TINYTORCH_DATA` is passed on, so CIFAR-10 fetched by the grader is
read, never downloaded by the child. With `keep=DIR`, the regular files the milestone wrote
under its `out/` folder (milestone 6: `out/capstone/submission.json`) are copied to DIR
(links and files over 64 MiB are skipped): nothing else of the child's folder survives.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import grading
from grading.commands.milestone import available_milestones
from grading.course_modules import ModuleMetaError, load_all_modules
from grading.grade_module import ModuleGrader
from grading.milestone_verdicts import VerdictError, milestone_name, parse_record
from grading.sandbox.run import (
    child_folder,
    memory_limit_supported,
    read_child_file,
    run_child,
)

DEFAULT_TIMEOUT = 900
PACKAGES = ("grading", "milestones", "datasets")
VERDICT = "verdict.json"


def _import_root(folder: Path) -> Path:
    """Links to the grader's own packages; run_child adds `tinytorch` beside them."""
    repo = Path(grading.__file__).resolve().parent.parent
    folder.mkdir(parents=True)
    for name in PACKAGES:
        (folder / name).symlink_to(repo / name, target_is_directory=True)
    return folder


def policy_problem(modules_root: Path) -> str | None:
    """Why the module files of the tree may not run (the first refused file), or None."""
    try:
        metas = load_all_modules(modules_root)
    except ModuleMetaError as error:
        return f"a module.yaml could not be read: {error}"
    checker = ModuleGrader(modules_root, metas, {}, modules_root)
    problems = (checker.static_problem(meta.number) for meta in metas)
    return next((problem for problem in problems if problem), None)


def run_milestone(
    number: int,
    modules_root: Path,
    arguments: tuple[str, ...] = (),
    run_as: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    keep: Path | None = None,
    memory: int | None = None,
) -> tuple[dict, str]:
    """Run one milestone against the modules in `modules_root`; never raises for a milestone.
    Its threshold and dataset come from the grader's own course configuration."""
    shipped = available_milestones()
    if number not in shipped:
        message = "this milestone is not shipped in this repository"
        record = {"number": number, "name": f"milestone {number}", "status": "not_run"}
        return {**record, "message": message}, message
    name = milestone_name(shipped[number])
    refused = policy_problem(modules_root)
    if refused:
        message = f"not run: {refused}"
        return {"number": number, "name": name, "status": "error", "message": message[:300]}, (
            message
        )
    child = child_folder(run_as, prefix="tiny-milestone-")
    logs = Path(tempfile.mkdtemp(prefix="tiny-milestone-log-"))  # the parent's alone
    try:
        _import_root(child / "imports")
        data = {k: os.environ[k] for k in ("TINYTORCH_DATA",) if k in os.environ}
        ended = run_child(
            ["milestone", str(number), *arguments],
            modules_root,
            child,
            logs / "output.log",
            timeout,
            memory if memory_limit_supported() else None,
            data,
            run_as,
        )
        text = read_child_file(child / VERDICT)
        if keep is not None:
            keep_outputs(child / "out", keep)
    finally:
        shutil.rmtree(child, ignore_errors=True)
        shutil.rmtree(logs, ignore_errors=True)
    if ended.wall_timeout:
        record = {"number": number, "name": name, "status": "failed"}
        return {**record, "message": "stopped: the milestone ran past its time limit"}, (
            ended.output
        )
    try:
        record = parse_record(text, f"milestone {number}")
    except VerdictError:
        tail = [line for line in ended.output.splitlines() if line.strip()][-1:]
        message = (
            f"ended without a verdict (exit code {ended.exit_code}): "
            f"{tail[0] if tail else 'no output'}"
        )
        record = {"number": number, "name": name, "status": "error", "message": message[:300]}
    return record, ended.output


def keep_outputs(folder: Path, keep: Path) -> None:
    """Copy the regular files under `folder` (written by the child) to `keep`, same layout,
    without following a link."""
    if folder.is_symlink() or not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        text = read_child_file(path)
        if text is not None and not any(p.is_symlink() for p in path.parents):
            target = keep / path.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")


def run_milestones(
    numbers: tuple[int, ...], modules_root: Path, run_as: str | None = None
) -> list[dict]:
    """`run_milestone` for each number, records only."""
    return [run_milestone(n, modules_root, run_as=run_as)[0] for n in numbers]
