"""Grading one student repository for `tiny grade-batch`, in two steps, and the grader's
fingerprint.

    prepare(repo, template) -> Prepared            nothing of `repo` runs: the audit
        (grading/batch_audit.py) and the bytes of its student files
    grade_prepared(prepared, settings) -> (results | None, error | None)
        the student files graded in a tree assembled from the template, by `grade` of
        grading/commands/grade.py (one sandboxed pytest per module); the audit's findings
        become the results' tamper section; writes settings.out (results.json, summary.md,
        classroom_result.json, runs/)

Cost: a copy of the template per submission (in a temporary folder), then the grading.
"""

from __future__ import annotations

import hashlib
import tempfile
import traceback
from dataclasses import dataclass, replace
from pathlib import Path

from grading.batch_audit import (
    assemble,
    audit,
    read_student_files,
    student_files,
    tamper_findings,
)
from grading.batch_shards import tree_fingerprint
from grading.commands.grade import GradeSettings, SettingsError, grade, write_outputs
from grading.results import build_results

GRADER_ROOT = Path(__file__).resolve().parent  # grading/


def grader_fingerprint() -> str:
    """tree_fingerprint of the running grader: grading/ and the import layer beside it."""
    layer = GRADER_ROOT.parent / "modules" / "tinytorch"
    parts = [tree_fingerprint(GRADER_ROOT)]
    parts += [tree_fingerprint(layer)] if layer.is_dir() else []
    return hashlib.sha256(" ".join(parts).encode()).hexdigest()


def audited_results(results: dict, findings: list[dict], template: Path) -> dict:
    """The results object with the audit's findings as its tamper section (status follows)."""
    tamper = {
        "checked": True,
        "manifest": f"every file of the repository against the template {template.name}",
        "findings": tamper_findings(findings),
    }
    return build_results(
        results["modules"],
        results["tests_source"],
        tamper,
        milestones=results["milestones"],
        errors=results["errors"],
    )


@dataclass(frozen=True)
class Prepared:
    """One repository, audited and its student files read, before any student code runs."""

    template: Path
    files: tuple[str, ...]
    student: dict[str, bytes]
    findings: tuple[dict, ...]


def prepare(repo: Path, template: Path) -> Prepared:
    """Audit `repo` against `template` and read its student files (nothing is executed)."""
    files = student_files(template)
    findings = tuple(f.as_dict() for f in audit(repo, template, files))
    return Prepared(template, tuple(files), read_student_files(repo, files), findings)


def grade_prepared(prepared: Prepared, settings: GradeSettings) -> tuple[dict | None, str | None]:
    """(results, None) or (None, why it could not be graded): the student files graded in a
    tree assembled from the template, with the audit's findings; writes settings.out."""
    try:
        with tempfile.TemporaryDirectory(prefix="tiny-batch-") as scratch:
            if settings.run_as:  # the unprivileged user reaches the graded tree inside
                Path(scratch).chmod(0o755)
            tree = Path(scratch) / "tree"
            assemble(prepared.template, prepared.student, list(prepared.files), tree)
            (Path(scratch) / "work").mkdir()
            here = replace(settings, root=tree, modules_root=tree / "modules")
            results = grade(here, Path(scratch) / "work")
        results = audited_results(results, list(prepared.findings), prepared.template)
        write_outputs(results, settings, environ={})
        return results, None
    except SettingsError as error:
        return None, str(error)
    except Exception as error:  # one broken repository must not stop the batch
        traceback.print_exc()
        return None, f"the grader failed: {type(error).__name__}: {error}"


def grade_repository(
    repo: Path, template: Path, settings: GradeSettings
) -> tuple[dict | None, tuple[dict, ...], str | None]:
    """prepare + grade_prepared for one repository: (results, findings, error)."""
    prepared = prepare(repo, template)
    results, error = grade_prepared(prepared, settings)
    return results, prepared.findings, error
