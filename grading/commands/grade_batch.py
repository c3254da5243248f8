"""`tiny grade-batch DIR --pristine TEMPLATE`: grade every cloned student repository in DIR.

DIR is what `gh classroom clone student-repos` leaves (layout: grading/grade_batch.py).
Nothing of a student's repository runs but its student module files (the one source file
per graded module): each repository is audited against the pristine template
(grading/batch_audit.py: every file added, changed or deleted outside the student files,
symlinks, rewritten history, each named by path), then graded in a grading tree assembled
from the template plus those files only, by exactly the code CI runs (`grade` of
grading/commands/grade.py: one sandboxed pytest process per module) with the template's
module.yaml files, graded tests and course configuration.

  --pristine DIR    a template built by `tiny build` (out/templates/foundation) or a clone of
                    the template repository, or the folder holding several (out/templates):
                    each assignment folder then uses the template whose tier slug is a word
                    of its name
  --roster CSV      GitHub Classroom roster: a linked student without a repository is listed
                    as "missing" (--assignment SLUG names the assignment when DIR's name
                    does not end in -submissions)
  --shard I/N       grade only the students of shard I of N (grading/batch_shards.py: by a
                    hash of the username); `tiny merge-shards` joins the N outputs
  --list-shard      print the repository names of the shard's roster students and exit
                    (what the regrade workflow clones)

Two phases: first every repository is audited and its student files read (nothing runs),
then they are graded in parallel, one worker process each (--jobs, default: every core;
each worker runs one module at a time), so a submission graded early cannot change a later
one; if the template or the grader changed meanwhile, the batch stops with exit 2.

Outputs in --out (default out/grade-batch):
  <assignment>/<student>/results.json, summary.md, classroom_result.json, runs/...
  summary.csv     one row per student (schema in grading/grade_batch.py)
  report.txt      missing repositories, repositories not graded, every finding
  batch.json      what `tiny merge-shards` reads (schema in grading/batch_shards.py)
stdout: one progress line per repository, then every finding.

--audit-only skips the tests: only the audit, in seconds.

Exit code: 0 every repository graded and no finding; 1 a finding, a missing repository or
one that could not be graded; 2 bad options, no repository found, or the template changed.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path

from grading.batch_grading import GRADER_ROOT, grade_prepared, grader_fingerprint, prepare
from grading.batch_shards import (
    BATCH_FILE,
    BATCH_SCHEMA,
    Shard,
    ShardError,
    parse_shard,
    tree_fingerprint,
)
from grading.commands.grade import GradeSettings, SettingsError, parse_size
from grading.grade_batch import (
    BatchEntry,
    StudentRepo,
    assignment_slug,
    batch_report,
    discover,
    entry_document,
    findings_of,
    missing_entries,
    progress_line,
    render_summary_csv,
    results_relative,
    roster_students,
    tamper_report,
    template_for,
)

HELP = "grade a folder of cloned student repositories in parallel, audit them (staff)"
PRISTINE_HELP = (
    "built template of the tier (tiny build --out DIR: DIR/<tier>) or a clone of the template "
    "repository, or DIR itself to pick each assignment's tier from its name"
)


def add_arguments(parser) -> None:
    parser.add_argument(
        "folder", type=Path, nargs="?", help="folder of cloned student repositories"
    )
    parser.add_argument("--pristine", type=Path, metavar="DIR", help=PRISTINE_HELP)
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
        "--audit-only", action="store_true", help="only audit the repositories, run no tests"
    )
    parser.add_argument(
        "--roster", type=Path, metavar="CSV", help="GitHub Classroom roster: report the missing"
    )
    parser.add_argument(
        "--assignment", metavar="SLUG", help="assignment slug (default: from the folder name)"
    )
    parser.add_argument("--shard", metavar="I/N", help="grade only shard I of N (e.g. 3/20)")
    parser.add_argument(
        "--run-as",
        metavar="USER",
        help="run student code as this unprivileged user, so no submission can write another's "
        "files (needs root or sudo; the course checkout must be readable by USER)",
    )
    parser.add_argument(
        "--list-shard",
        action="store_true",
        help="print the repository names of the shard's roster students, then exit",
    )


# ---- the command -----------------------------------------------------------------------------


def _base_settings(args) -> GradeSettings:
    if args.pristine is None:
        raise SettingsError(
            "say where the pristine tests come from: --pristine DIR (a built template or a "
            "clone of the template repository; never the student's own history)"
        )
    if not args.pristine.is_dir():
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
        timeout=args.timeout,
        run_as=args.run_as,
    )
    if args.memory_limit:
        settings = replace(
            settings, memory_bytes=parse_size(args.memory_limit), memory_explicit=True
        )
    return settings


def _settings_for(base: GradeSettings, repo: StudentRepo, template: Path, out: Path):
    return replace(
        base,
        out=(out / results_relative(repo)).parent.resolve(),
        pristine_dir=template.resolve(),
    )


def _run_all(jobs: list, workers: int, report) -> list[BatchEntry]:
    """jobs: (StudentRepo, Prepared, GradeSettings); grade them on `workers` processes."""
    entries = []
    if workers == 1 or len(jobs) <= 1:
        for repo, prepared, settings in jobs:
            results, error = grade_prepared(prepared, settings)
            entries.append(BatchEntry(repo, results, prepared.findings, error))
            report(entries[-1], len(entries))
        return entries
    # spawn: each worker starts clean (no threads inherited, safe with the sandbox's fork+exec)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        futures = {
            pool.submit(grade_prepared, prepared, settings): (repo, prepared)
            for repo, prepared, settings in jobs
        }
        for future in as_completed(futures):
            results, error = future.result()
            repo, prepared = futures[future]
            entries.append(BatchEntry(repo, results, prepared.findings, error))
            report(entries[-1], len(entries))
    return entries


def _sha256(path: Path | None) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path is not None else None


def batch_document(
    args, shard: Shard, assignment: str, fingerprints: tuple[str, str], entries: list
) -> dict:
    """batch.json (schema in grading/batch_shards.py); `assignment`: the one named by
    --assignment or the folder ('' for a folder of several)."""
    ordered = sorted(entries, key=lambda e: (e.repo.assignment, e.repo.student))
    return {
        "schema": BATCH_SCHEMA,
        "shard": {"index": shard.index, "count": shard.count},
        "pristine": fingerprints[0],
        "options": {
            "modules": args.modules,
            "milestones": args.milestones,
            "timeout": args.timeout,
            "memory_limit": args.memory_limit,
            "audit_only": bool(args.audit_only),
            "assignment": assignment,
            "roster": _sha256(args.roster),
            "grader": fingerprints[1],
        },
        "entries": [entry_document(e) for e in ordered],
    }


def write_batch_outputs(out: Path, entries: list[BatchEntry], audit_only: bool, document) -> None:
    """summary.csv, report.txt and batch.json in `out` (also used by `tiny merge-shards`)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.csv").write_text(render_summary_csv(entries, audit_only), encoding="utf-8")
    (out / "report.txt").write_text(batch_report(entries), encoding="utf-8")
    (out / BATCH_FILE).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def _shard(args) -> Shard:
    try:
        return parse_shard(args.shard) if args.shard else Shard(1, 1)
    except ShardError as error:
        raise SettingsError(str(error)) from None


def _list_shard(args, shard: Shard) -> int:
    if args.roster is None or not args.assignment:
        raise SettingsError("--list-shard needs --roster CSV and --assignment SLUG")
    for student in roster_students(args.roster):
        if shard.holds(student):
            print(f"{args.assignment}-{student}")
    return 0


def run(args) -> int:
    try:
        shard = _shard(args)
        if args.list_shard:
            return _list_shard(args, shard)
        base = _base_settings(args)
        if args.folder is None or not args.folder.is_dir():
            raise SettingsError(f"no folder {args.folder}: give the folder of cloned repositories")
        repos = discover(args.folder, args.assignment)
        roster = roster_students(args.roster) if args.roster else []
    except SettingsError as error:
        print(f"tiny grade-batch: {error}", file=sys.stderr)
        return 2
    assignment = args.assignment or assignment_slug(args.folder.name)
    if roster and not assignment and len({r.assignment for r in repos}) != 1:
        print("tiny grade-batch: --roster needs --assignment SLUG here", file=sys.stderr)
        return 2
    assignment = assignment or (repos[0].assignment if repos else "")
    missing = missing_entries(repos, roster, assignment, args.folder) if roster else []
    repos = [r for r in repos if shard.holds(r.student)]
    missing = [e for e in missing if shard.holds(e.repo.student)]
    if not repos and not missing and shard.count == 1:
        print(
            f"tiny grade-batch: no student repository (a folder with modules/ or .git) in "
            f"{args.folder} or its *-submissions folders",
            file=sys.stderr,
        )
        return 2
    total = len(repos) + len(missing)

    def report(entry: BatchEntry, done: int) -> None:
        print(progress_line(entry, done, total), flush=True)

    entries: list[BatchEntry] = []
    for entry in missing:
        entries.append(entry)
        report(entry, len(entries))
    # Phase 1, nothing runs: audit every repository and read its student files.
    jobs = []
    for repo in repos:
        try:
            template = template_for(repo.assignment, args.pristine)
            prepared = prepare(repo.path, template)
        except (SettingsError, OSError) as error:
            entries.append(BatchEntry(repo, error=str(error)))
            report(entries[-1], len(entries))
            continue
        if args.audit_only:
            entries.append(BatchEntry(repo, findings=prepared.findings))
            report(entries[-1], len(entries))
        else:
            jobs.append((repo, prepared, _settings_for(base, repo, template, args.out)))
    # Phase 2: grade, then check that no submission changed the template or the grader.
    fingerprint, grader = tree_fingerprint(args.pristine), grader_fingerprint()
    done_before = len(entries)
    entries += _run_all(jobs, args.jobs, lambda e, n: report(e, done_before + n))
    for what, before, after in (
        (f"the template {args.pristine}", fingerprint, tree_fingerprint(args.pristine)),
        (f"the grader {GRADER_ROOT}", grader, grader_fingerprint()),
    ):
        if before != after:
            print(
                f"tiny grade-batch: {what} changed while submissions were graded: a "
                f"submission wrote into it. Nothing is written; restore it and regrade.",
                file=sys.stderr,
            )
            return 2

    write_batch_outputs(
        args.out,
        entries,
        args.audit_only,
        batch_document(args, shard, assignment, (fingerprint, grader), entries),
    )
    tampered = [e for e in entries if findings_of(e)]
    if tampered:
        print("\nEdits outside the student files:\n" + tamper_report(entries), end="")
    failed = [e for e in entries if e.error]
    where = f" (shard {shard})" if shard.count > 1 else ""
    print(
        f"\n{len(entries)} repositories{where}, {len(failed)} not graded "
        f"({len(missing)} missing), {len(tampered)} tampered -> {args.out / 'summary.csv'}"
    )
    return 1 if tampered or failed else 0
