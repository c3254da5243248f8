"""Batch grading of cloned student repositories: finding them (and the roster students
without one), naming, and the outputs summary.csv, report.txt and batch.json entries.

`tiny grade-batch` (grading/commands/grade_batch.py) finds the repositories here, grades
each with the same code as CI (grading/commands/grade.py) and hands the results back here.
Everything but `discover`, `template_for` and `roster_students` (which read folders and
files) is pure.

Layout, as `gh classroom clone student-repos` makes it (github/gh-classroom
cmd/gh-classroom/clone/student-repos: `<directory>/<assignment slug>-submissions/<repo name>`,
where Classroom names a student's repository `<assignment slug>-<github username>`):

    DIR/                                  the folder given, either
      tinytorch-foundation-submissions/   ... a folder of such folders (one per assignment)
        tinytorch-foundation-ada-l/       ... or one of them: each child with a modules/
        tinytorch-foundation-bobcat/          folder or a .git is a student repository

summary.csv, one row per student, sorted by assignment then student:

    assignment, student, repository, status, points, possible, <module key>..., tampered, error

  status: passed / failed / error (the results object's status; "error" also when the
  repository could not be graded at all, then `error` says why); "missing" for a roster
  student without a repository; "audited" with --audit-only (points and modules empty);
  points/possible: totals; <module key> (e.g. 01_tensor): points earned in that module,
  empty if not graded there; tampered: every audit finding (grading/batch_audit.py) as
  "path (kind)" joined by "; ".
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grading.commands.grade import SettingsError
from grading.gradebook import GradebookInputError, parse_roster

SUBMISSIONS_SUFFIX = "-submissions"
_NON_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class StudentRepo:
    assignment: str  # the assignment slug ('' when the folder name does not say)
    student: str  # GitHub username, from the repository name
    path: Path

    @property
    def label(self) -> str:
        return f"{self.assignment}/{self.student}" if self.assignment else self.student


@dataclass(frozen=True)
class BatchEntry:
    repo: StudentRepo
    results: dict | None = None  # tinytorch/results/v1, when graded
    findings: tuple[dict, ...] = ()  # audit findings, grading/batch_audit.py Finding.as_dict
    error: str | None = None  # why the repository could not be graded
    missing: bool = False  # a roster student without a repository


def assignment_slug(folder_name: str) -> str:
    """'tinytorch-foundation-submissions' -> 'tinytorch-foundation'; other names: ''."""
    if folder_name.endswith(SUBMISSIONS_SUFFIX) and len(folder_name) > len(SUBMISSIONS_SUFFIX):
        return folder_name[: -len(SUBMISSIONS_SUFFIX)]
    return ""


def student_name(repo_name: str, assignment: str) -> str:
    """'tinytorch-foundation-ada-l' in assignment 'tinytorch-foundation' -> 'ada-l'."""
    prefix = f"{assignment}-"
    if assignment and repo_name.startswith(prefix) and len(repo_name) > len(prefix):
        return repo_name[len(prefix) :]
    return repo_name


def choose_template(assignment: str, templates: Sequence[str]) -> str | None:
    """The built tier template (by folder name) for an assignment slug: the one whose name
    is a whole word of the slug ('tinytorch-foundation' -> 'foundation'); None if no single
    one fits."""
    words = f"-{_NON_SLUG.sub('-', assignment.lower())}-"
    found = [name for name in templates if f"-{name.lower()}-" in words]
    best = [n for n in found if not any(n != o and f"-{n}-" in f"-{o}-" for o in found)]
    return best[0] if len(best) == 1 else None


def findings_of(entry: BatchEntry) -> list[dict]:
    """The audit findings of a repository, graded or only audited."""
    return list(entry.findings)


def tamper_text(findings: Sequence[dict]) -> str:
    return "; ".join(f"{f['path']} ({f['kind']})" for f in findings)


def module_keys(entries: Sequence[BatchEntry]) -> list[str]:
    """Every module key graded in any repository, in course order."""
    keys = {m["key"] for e in entries if e.results for m in e.results["modules"]}
    return sorted(keys)


def _status(entry: BatchEntry, audit_only: bool) -> str:
    if entry.missing:
        return "missing"
    return "error" if entry.error else ("audited" if audit_only else "")


def summary_rows(entries: Sequence[BatchEntry], audit_only: bool = False) -> list[dict]:
    """One dict per repository, in the order of summary.csv (schema in the docstring)."""
    keys = module_keys(entries)
    rows = []
    for entry in sorted(entries, key=lambda e: (e.repo.assignment, e.repo.student)):
        results = entry.results
        row = {
            "assignment": entry.repo.assignment,
            "student": entry.repo.student,
            "repository": entry.repo.path.name,
            "status": _status(entry, audit_only),
            "points": "",
            "possible": "",
        }
        row.update({key: "" for key in keys})
        if results is not None:
            row["status"] = results["status"]
            row["points"] = str(results["points"]["earned"])
            row["possible"] = str(results["points"]["possible"])
            for module in results["modules"]:
                row[module["key"]] = str(module["points"]["earned"])
        errors = [entry.error] if entry.error else list((results or {}).get("errors", []))
        row["tampered"] = tamper_text(findings_of(entry))
        row["error"] = "; ".join(errors)
        rows.append(row)
    return rows


def render_summary_csv(entries: Sequence[BatchEntry], audit_only: bool = False) -> str:
    rows = summary_rows(entries, audit_only)
    fixed = ["assignment", "student", "repository", "status", "points", "possible"]
    header = fixed + module_keys(entries) + ["tampered", "error"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def progress_line(entry: BatchEntry, done: int, total: int) -> str:
    """'[2/40] tinytorch-foundation/ada-l: 60/60 passed' (plus tampering or the error)."""
    head = f"[{done}/{total}] {entry.repo.label}: "
    if entry.error:
        return head + ("MISSING: " if entry.missing else "NOT GRADED: ") + entry.error
    if entry.results is None:
        body = "nothing outside the student files changed" if not entry.findings else "TAMPERED"
    else:
        points = entry.results["points"]
        body = f"{points['earned']}/{points['possible']} {entry.results['status']}"
        if entry.findings:
            body += ", TAMPERED"
    return head + body


def tamper_report(entries: Sequence[BatchEntry]) -> str:
    """Every repository with a finding, each finding on its own line; '' when none."""
    lines = []
    for entry in sorted(entries, key=lambda e: (e.repo.assignment, e.repo.student)):
        if findings_of(entry):
            lines.append(f"{entry.repo.label} ({entry.repo.path.name}):")
            lines += [f"  {f['message']}" for f in findings_of(entry)]
    return "\n".join(lines) + ("\n" if lines else "")


def batch_report(entries: Sequence[BatchEntry]) -> str:
    """report.txt: counts, then missing repositories, repositories not graded, tampering."""
    ordered = sorted(entries, key=lambda e: (e.repo.assignment, e.repo.student))
    missing = [e for e in ordered if e.missing]
    failed = [e for e in ordered if e.error and not e.missing]
    tampered = [e for e in ordered if findings_of(e)]
    lines = [
        f"{len(entries)} students: {len(entries) - len(missing) - len(failed)} graded, "
        f"{len(missing)} missing, {len(failed)} not graded, {len(tampered)} with findings",
        "",
        f"Missing repositories ({len(missing)}):",
    ]
    lines += [f"  {e.repo.label}: {e.error}" for e in missing] or ["  none"]
    lines += ["", f"Not graded ({len(failed)}):"]
    lines += [f"  {e.repo.label}: {e.error}" for e in failed] or ["  none"]
    lines += ["", f"Edits outside the student files, rewritten history ({len(tampered)}):"]
    lines += [tamper_report(entries).rstrip("\n") or "  none"]
    return "\n".join(lines) + "\n"


# ---- finding the repositories ----------------------------------------------------------------


def _is_repository(path: Path) -> bool:
    return path.is_dir() and ((path / "modules").is_dir() or (path / ".git").exists())


def discover(folder: Path, assignment: str | None = None) -> list[StudentRepo]:
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
            slug = assignment or assignment_slug(folder.name)
            found.append(StudentRepo(slug, student_name(child.name, slug), child))
        else:
            slug = assignment_slug(child.name) or child.name
            for repo in sorted(p for p in child.iterdir() if _is_repository(p)):
                found.append(StudentRepo(slug, student_name(repo.name, slug), repo))
    return found


def template_for(assignment: str, pristine: Path) -> Path:
    """The built template that grades an assignment. Raises SettingsError when none fits."""
    if (pristine / "modules").is_dir():
        return pristine
    templates = sorted(p.name for p in pristine.iterdir() if (p / "modules").is_dir())
    if len(templates) == 1:
        return pristine / templates[0]
    chosen = choose_template(assignment, templates)
    if chosen is None:
        raise SettingsError(
            f"no single template in {pristine} fits assignment '{assignment}' "
            f"(templates: {', '.join(templates) or 'none'}): give --pristine {pristine}/<tier>"
        )
    return pristine / chosen


def roster_students(path: Path) -> list[str]:
    """The linked GitHub usernames of a Classroom roster (unlinked entries have no repository;
    `tiny gradebook` reports them)."""
    try:
        entries = parse_roster(path.read_text(encoding="utf-8-sig"), str(path))
    except (OSError, GradebookInputError) as error:
        raise SettingsError(f"--roster: {error}") from None
    return [entry.github_username for entry in entries if entry.github_username]


def missing_entries(
    repos: list[StudentRepo], roster: list[str], assignment: str, folder: Path
) -> list[BatchEntry]:
    """A 'missing' entry for every roster student without a repository in the assignment."""
    present = {r.student.casefold() for r in repos if r.assignment == assignment}
    entries = []
    for student in roster:
        if student.casefold() not in present:
            name = f"{assignment}-{student}" if assignment else student
            why = f"no repository {name} in {folder} (assignment not accepted, or not cloned)"
            entries.append(
                BatchEntry(StudentRepo(assignment, student, Path(name)), error=why, missing=True)
            )
    return entries


# ---- batch.json entries (grading/batch_shards.py) --------------------------------------------


def results_relative(repo: StudentRepo) -> str:
    """Where a student's results.json lives inside the --out folder."""
    return f"{repo.assignment or 'repositories'}/{repo.student}/results.json"


def entry_document(entry: BatchEntry) -> dict:
    return {
        "assignment": entry.repo.assignment,
        "student": entry.repo.student,
        "repository": entry.repo.path.name,
        "error": entry.error,
        "missing": entry.missing,
        "findings": list(entry.findings),
        "results": results_relative(entry.repo) if entry.results is not None else None,
    }


def entry_from_document(document: dict, folder: Path) -> BatchEntry:
    """The BatchEntry a batch.json entry describes, its results read from `folder`."""
    repo = StudentRepo(document["assignment"], document["student"], Path(document["repository"]))
    results = None
    if document["results"] is not None:
        results = json.loads((folder / document["results"]).read_text(encoding="utf-8"))
    return BatchEntry(
        repo,
        results,
        findings=tuple(document["findings"]),
        error=document["error"],
        missing=bool(document["missing"]),
    )
