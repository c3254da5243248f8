"""Staff-side audit of one student repository against the course's pristine template.

`tiny grade-batch` trusts nothing of a student's repository but the student module files
(the one source file per graded module that students edit, as the template's module.yaml
names it). Everything else comes from the pristine template, and every difference is a
finding, named by path:

    student_files(template) -> list[str]
        'modules/01_tensor/tensor.py', ... for the modules the template's
        .tinytorch/course.yaml grades (all its modules when it has none).
    audit(repo, template, files) -> list[Finding]
        every file added, modified or deleted anywhere in the repository except the student
        files; a symlink or other non-regular file in place of any file (never followed);
        a missing student file; rewritten history (see `history_findings`).
    read_student_files(repo, files) -> {path: bytes}
        the student files that are regular files (a refused or missing one is left out, so
        that module grades 0 with a "could not be loaded" message).
    assemble(template, student_bytes, files, dest) -> dest
        the grading tree: a copy of the template with only those student files in it.

Finding kinds: added, modified, deleted (as in grading/protected.py), not_regular, missing
(a student file), history. `tamper_findings` maps them onto the three kinds the results
schema allows, keeping the words in the message.

Compared: every path of the working tree except `.git/` and caches (__pycache__,
.pytest_cache, .ruff_cache, *.pyc); bytes hashed with CRLF read as LF (grading/protected.py).
Cost: one read of both trees, O(repository size); two or three `git` calls for history.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from grading.course_config import TEMPLATE_CONFIG
from grading.protected import file_hash

CACHE_PARTS = ("__pycache__", ".pytest_cache", ".ruff_cache")
SCHEMA_KINDS = {"added": "added", "modified": "modified", "deleted": "deleted"}


@dataclass(frozen=True)
class Finding:
    path: str
    kind: str  # added | modified | deleted | not_regular | missing | history
    message: str

    def as_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "message": self.message}


def _skipped(relative: PurePosixPath) -> bool:
    parts = relative.parts
    return parts[0] == ".git" or any(p in CACHE_PARTS for p in parts) or relative.suffix == ".pyc"


def tree_entries(root: Path) -> dict[str, Path]:
    """Every path under `root` that is not a folder (files, symlinks, fifos...), by POSIX
    path; symlinked folders are entries too and are never entered."""
    found: dict[str, Path] = {}
    stack = [root]
    while stack:
        folder = stack.pop()
        for entry in folder.iterdir():
            relative = PurePosixPath(entry.relative_to(root).as_posix())
            if _skipped(relative):
                continue
            if entry.is_dir() and not entry.is_symlink():
                stack.append(entry)
            else:
                found[relative.as_posix()] = entry
    return found


def _is_regular(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def student_files(template: Path) -> list[str]:
    """The student module files of the template: `modules/<key>/<source>` of each graded
    module (course.yaml `modules`; every module when the template has no course.yaml)."""
    graded = None
    config = template / TEMPLATE_CONFIG
    if config.is_file():
        raw = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        graded = {n for tier in raw.get("tiers") or [] for n in tier.get("modules") or []}
    files = []
    for manifest in sorted(template.glob("modules/[0-9][0-9]_*/module.yaml")):
        folder = manifest.parent
        if graded is not None and int(folder.name[:2]) not in graded:
            continue
        meta = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
        source = meta.get("source")
        if isinstance(source, str) and "/" not in source:
            files.append(f"modules/{folder.name}/{source}")
    return files


def _describe(path: Path) -> str:
    if path.is_symlink():
        return f"a symlink (to {path.readlink()})"
    return "not a regular file"


def audit(repo: Path, template: Path, files: list[str]) -> list[Finding]:
    """Every difference between `repo` and `template` outside the student files, refused
    student files, and rewritten history; sorted by path. Nothing of `repo` is executed."""
    ours, theirs = tree_entries(template), tree_entries(repo)
    allowed = set(files)
    findings = []
    for path in sorted(set(ours) | set(theirs)):
        mine, student = ours.get(path), theirs.get(path)
        if student is not None and not _is_regular(student):
            what = _describe(student)
            role = "a student file" if path in allowed else "a file"
            findings.append(
                Finding(path, "not_regular", f"{path} is {what} in place of {role}: not followed")
            )
        elif path in allowed:
            if student is None:
                message = f"student file {path} is missing: that module grades 0"
                findings.append(Finding(path, "missing", message))
        elif student is None:
            findings.append(Finding(path, "deleted", f"{path} of the template was deleted"))
        elif mine is None:
            findings.append(Finding(path, "added", f"{path} was added (outside the student files)"))
        elif not _is_regular(mine) or file_hash(mine.read_bytes()) != file_hash(
            student.read_bytes()
        ):
            findings.append(Finding(path, "modified", f"{path} of the template was changed"))
    return findings + history_findings(repo, template)


def _git(repo: Path, *args: str) -> str | None:
    """`git -C repo args` stdout, or None when git fails. Never runs hooks or the repo's
    configured programs: only plumbing commands are used."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def template_commit(template: Path) -> tuple[str, str] | None:
    """(commit, tree) of the template's HEAD, or None when it is not a git repository."""
    if not (template / ".git").exists():
        return None
    commit = _git(template, "rev-parse", "--verify", "HEAD^{commit}")
    tree = _git(template, "rev-parse", "--verify", "HEAD^{tree}")
    return (commit, tree) if commit and tree else None


def history_findings(repo: Path, template: Path) -> list[Finding]:
    """[] when the repository's history starts from the template: the template's commit is
    an ancestor of HEAD, or a root commit of HEAD has the template's tree (a repository made
    from a GitHub template starts with a new commit of the same tree). One `history` finding
    otherwise. No finding when the template itself has no git history to compare with."""
    expected = template_commit(template)
    if expected is None:
        return []
    commit, tree = expected
    if not (repo / ".git").exists():
        return [Finding(".git", "history", "not a git repository: its history cannot be checked")]
    if _git(repo, "merge-base", "--is-ancestor", commit, "HEAD") is not None:
        return []
    roots = (_git(repo, "rev-list", "--max-parents=0", "HEAD") or "").split()
    if any(_git(repo, "rev-parse", "--verify", f"{root}^{{tree}}") == tree for root in roots):
        return []
    shown = ", ".join(root[:12] for root in roots) or "none"
    message = (
        f"history rewritten: no first commit holds the template's files (template commit "
        f"{commit[:12]}, tree {tree[:12]}; first commits here: {shown})"
    )
    return [Finding(".git", "history", message)]


def tamper_findings(findings: list[dict]) -> list[dict]:
    """Findings (as `Finding.as_dict`) in the results schema's kinds: added, modified,
    deleted; a missing student file counts as deleted, the other kinds as modified."""
    mapped = []
    for finding in findings:
        kind = finding["kind"]
        kind = SCHEMA_KINDS.get(kind, "deleted" if kind == "missing" else "modified")
        mapped.append({"path": finding["path"], "kind": kind, "message": finding["message"]})
    return mapped


def read_student_files(repo: Path, files: list[str]) -> dict[str, bytes]:
    """The bytes of each student file of `repo` that is a regular file reached through no
    symlinked folder; a refused or missing one is left out. Read once, before any student
    code runs, so a submission graded earlier cannot change a later one."""
    found = {}
    for path in files:
        source = repo / path
        parent_ok = not any(p.is_symlink() for p in source.parents if repo in p.parents)
        if parent_ok and _is_regular(source):
            found[path] = source.read_bytes()
    return found


def assemble(template: Path, student: dict[str, bytes], files: list[str], dest: Path) -> Path:
    """Write `dest`: the template's files (without .git), each student file replaced by
    `student[path]`, or removed when `student` lacks it. Returns dest."""
    shutil.copytree(
        template,
        dest,
        symlinks=True,
        ignore=shutil.ignore_patterns(".git", *CACHE_PARTS, "*.pyc"),
    )
    for path in files:
        target = dest / path
        target.unlink(missing_ok=True)
        if path in student:
            target.write_bytes(student[path])
            target.chmod(0o644)
    return dest
