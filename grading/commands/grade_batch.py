"""`tiny grade-batch DIR --pristine TEMPLATE`: grade every cloned student repository in DIR.

DIR is what `gh classroom clone student-repos` leaves (layout: grading/grade_batch.py).
Each repository is graded by exactly the code CI runs (`grade` of
grading/commands/grade.py: one sandboxed pytest process per module), with the module.yaml
files and graded tests of a PRISTINE copy, never the student's own:

  --pristine DIR    a template built by `tiny build` (out/templates/foundation), or the
                    folder holding several (out/templates): each assignment folder then uses
                    the template whose tier slug is a word of its name
  --pristine-git    each repository's first commit (the template as Classroom copied it;
                    a student who rewrote history defeats this, --pristine does not)

Repositories are graded in parallel, one worker process each (--jobs, default: every core);
each worker runs one module at a time. Every repository is also audited against the
template's protected-files manifest (.tinytorch/protected.json, grading/protected.py).

Outputs in --out (default out/grade-batch):
  <assignment>/<student>/results.json, summary.md, classroom_result.json, runs/...
  summary.csv     one row per repository (schema in grading/grade_batch.py)
stdout: one progress line per repository, then every tampered repository with its files.

--audit-only skips the tests: only the protected-files audit, in seconds.

Exit code: 0 every repository graded and none tampered; 1 a repository was tampered with
or could not be graded; 2 bad options or no repository found.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path

from grading.commands.grade import (
    GradeSettings,
    SettingsError,
    grade,
    parse_size,
    tamper_check,
    write_outputs,
)
from grading.grade_batch import (
    BatchEntry,
    StudentRepo,
    assignment_slug,
    choose_template,
    findings_of,
    progress_line,
    render_summary_csv,
    student_name,
    tamper_report,
)
from grading.protected import DirTree, GitTree

HELP = "grade a folder of cloned student repositories in parallel, like CI, and audit them (staff)"
PRISTINE_HELP = (
    "built template of the tier (tiny build --out DIR: DIR/<tier>), or DIR itself to pick "
    "each assignment's tier from its name"
)


def add_arguments(parser) -> None:
    parser.add_argument("folder", type=Path, help="folder of cloned student repositories")
    parser.add_argument("--pristine", type=Path, metavar="DIR", help=PRISTINE_HELP)
    parser.add_argument(
        "--pristine-git",
        action="store_true",
        help="take the tests from each repository's first commit instead",
    )
    parser.add_argument("--out", type=Path, default=Path("out/grade-batch"), help="output folder")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="repositories graded at once (default: number of cores)",
    )
    parser.add_argument("--modules", metavar="LIST", help="grade only these modules (01,03)")
    parser.add_argument(
        "--milestones", metavar="LIST", help="also run these milestones (1,2,3), as CI does"
    )
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="per-test limit")
    parser.add_argument("--memory-limit", metavar="SIZE", help="per module process, e.g. 2G")
    parser.add_argument(
        "--audit-only", action="store_true", help="only check protected files, run no tests"
    )


# ---- finding the repositories ----------------------------------------------------------------


def _is_repository(path: Path) -> bool:
    return path.is_dir() and ((path / "modules").is_dir() or (path / ".git").exists())


def discover(folder: Path) -> list[StudentRepo]:
    """The student repositories under `folder` (one assignment folder, or a folder of them)."""
    if _is_repository(folder) and (folder / "modules").is_dir():
        raise SettingsError(
            f"{folder} is a single repository: give the folder that holds the cloned "
            f"repositories (e.g. tinytorch-foundation-submissions/)"
        )
    found = []
    children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    for child in children:
        if _is_repository(child):
            assignment = assignment_slug(folder.name)
            found.append(StudentRepo(assignment, student_name(child.name, assignment), child))
        else:
            assignment = assignment_slug(child.name) or child.name
            for repo in sorted(p for p in child.iterdir() if _is_repository(p)):
                found.append(StudentRepo(assignment, student_name(repo.name, assignment), repo))
    return found


def template_for(repo: StudentRepo, pristine: Path) -> Path:
    """The built template that grades `repo`. Raises SettingsError when none fits."""
    if (pristine / "modules").is_dir():
        return pristine
    templates = sorted(p.name for p in pristine.iterdir() if (p / "modules").is_dir())
    if len(templates) == 1:
        return pristine / templates[0]
    chosen = choose_template(repo.assignment, templates)
    if chosen is None:
        raise SettingsError(
            f"no single template in {pristine} fits assignment '{repo.assignment}' "
            f"(templates: {', '.join(templates) or 'none'}): give --pristine {pristine}/<tier>"
        )
    return pristine / chosen


# ---- grading one repository (in a worker process) --------------------------------------------


def grade_repository(settings: GradeSettings) -> tuple[dict | None, str | None]:
    """(results, None), or (None, why it could not be graded). Writes settings.out."""
    try:
        with tempfile.TemporaryDirectory(prefix="tiny-batch-") as scratch:
            results = grade(settings, Path(scratch))
        write_outputs(results, settings, environ={})
        return results, None
    except SettingsError as error:
        return None, str(error)
    except Exception as error:  # one broken repository must not stop the batch
        traceback.print_exc()
        return None, f"the grader failed: {type(error).__name__}: {error}"


def audit_repository(repo: StudentRepo, template: Path | None) -> tuple[dict, ...]:
    pristine = DirTree(template) if template is not None else GitTree(repo.path)
    return tuple(tamper_check(DirTree(repo.path), pristine)["findings"])


# ---- the command -----------------------------------------------------------------------------


def _base_settings(args) -> GradeSettings:
    if bool(args.pristine) == bool(args.pristine_git):
        raise SettingsError(
            "say where the pristine tests come from: --pristine DIR (a built template) or "
            "--pristine-git (each repository's first commit)"
        )
    if args.pristine is not None and not args.pristine.is_dir():
        raise SettingsError(f"--pristine: no folder {args.pristine}")
    if args.jobs < 1:
        raise SettingsError(f"--jobs: must be at least 1, got {args.jobs}")
    if args.timeout is not None and args.timeout <= 0:
        raise SettingsError(f"--timeout: must be a positive number of seconds, got {args.timeout}")
    modules = None
    if args.modules:
        modules = tuple(part.strip() for part in args.modules.split(",") if part.strip())
    try:
        milestones = tuple(int(p) for p in (args.milestones or "").split(",") if p.strip())
    except ValueError:
        message = f"--milestones takes numbers such as 1,2,3, got {args.milestones}"
        raise SettingsError(message) from None
    settings = GradeSettings(
        root=Path("."),
        modules_root=Path("modules"),
        modules=modules,
        milestones=milestones,
        pristine_git=bool(args.pristine_git),
        timeout=args.timeout,
    )
    if args.memory_limit:
        settings = replace(
            settings, memory_bytes=parse_size(args.memory_limit), memory_explicit=True
        )
    return settings


def _settings_for(base: GradeSettings, repo: StudentRepo, template: Path | None, out: Path):
    target = out / (repo.assignment or "repositories") / repo.student
    return replace(
        base,
        root=repo.path.resolve(),
        modules_root=repo.path.resolve() / "modules",
        out=target.resolve(),
        pristine_dir=template.resolve() if template is not None else None,
    )


def _run_all(jobs: list[tuple[StudentRepo, GradeSettings]], workers: int, report) -> list:
    entries = []
    if workers == 1 or len(jobs) <= 1:
        for repo, settings in jobs:
            results, error = grade_repository(settings)
            entries.append(BatchEntry(repo, results, error=error))
            report(entries[-1], len(entries))
        return entries
    # spawn: each worker starts clean (no threads inherited, safe with the sandbox's fork+exec)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        futures = {pool.submit(grade_repository, settings): repo for repo, settings in jobs}
        for future in as_completed(futures):
            results, error = future.result()
            entries.append(BatchEntry(futures[future], results, error=error))
            report(entries[-1], len(entries))
    return entries


def run(args) -> int:
    try:
        base = _base_settings(args)
        if not args.folder.is_dir():
            raise SettingsError(f"no folder {args.folder}")
        repos = discover(args.folder)
    except SettingsError as error:
        print(f"tiny grade-batch: {error}", file=sys.stderr)
        return 2
    if not repos:
        print(
            f"tiny grade-batch: no student repository (a folder with modules/ or .git) in "
            f"{args.folder} or its *-submissions folders",
            file=sys.stderr,
        )
        return 2
    total = len(repos)

    def report(entry: BatchEntry, done: int) -> None:
        print(progress_line(entry, done, total), flush=True)

    entries: list[BatchEntry] = []
    jobs = []
    for repo in repos:
        try:
            template = template_for(repo, args.pristine) if args.pristine else None
        except SettingsError as error:
            entries.append(BatchEntry(repo, error=str(error)))
            report(entries[-1], len(entries))
            continue
        if args.audit_only:
            try:
                entries.append(BatchEntry(repo, findings=audit_repository(repo, template)))
            except ValueError as error:  # no git history for --pristine-git
                entries.append(BatchEntry(repo, error=str(error)))
            report(entries[-1], len(entries))
        else:
            jobs.append((repo, _settings_for(base, repo, template, args.out)))
    done_before = len(entries)
    entries += _run_all(jobs, args.jobs, lambda e, n: report(e, done_before + n))

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.csv").write_text(
        render_summary_csv(entries, args.audit_only), encoding="utf-8"
    )
    tampered = [e for e in entries if findings_of(e)]
    if tampered:
        print("\nProtected files changed:\n" + tamper_report(entries), end="")
    failed = [e for e in entries if e.error]
    print(
        f"\n{len(entries)} repositories, {len(failed)} not graded, {len(tampered)} tampered "
        f"-> {args.out / 'summary.csv'}"
    )
    return 1 if tampered or failed else 0
