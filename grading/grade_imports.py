"""Grades back out of the platforms: every grade source as one list of `GradeRecord`s.

    read_grade_source(path, *, assignment=None, course=None) -> list[GradeRecord]
    detect_format(path) -> "classroom50-scores" | "classroom50-csv" | "gradescope-csv"
                           | "tinytorch-results" | None

`tiny gradebook` merges these records with GitHub Classroom's CSV exports. This is the thin
shell that reads files and picks the reader; the readers are pure (text or parsed documents
in, records out), one file per platform:

    grading/import_classroom50.py  Classroom 50 scores.json and `gh teacher download`'s scores.csv
    grading/import_gradescope.py   Gradescope's "Download Grades" CSV
    grading/import_results.py      folders or zips of our own results.json artifacts

GradeRecord, GradeImportError and the shared checks (whole points within the maximum):
grading/grade_records.py. Malformed input raises GradeImportError naming the file and the
place: a JSON path (`assignments.foundation.entries[2].submissions[0].score`) or a CSV
line and column.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from grading.course_config import CourseConfig
from grading.grade_records import GradeImportError, GradeRecord, whole_points
from grading.import_classroom50 import (
    SCORES_CSV_REQUIRED,
    SCORES_SCHEMA,
    csv_assignment,
    parse_classroom50_csv,
    parse_classroom50_scores,
)
from grading.import_gradescope import (
    GRADESCOPE_REQUIRED,
    gradescope_assignment,
    parse_gradescope_csv,
)
from grading.import_results import (
    RESULTS_FILE,
    RESULTS_SCHEMA,
    collect_results,
    read_json,
    records_from_results,
    results_in_zip,
)

__all__ = ["GradeImportError", "GradeRecord", "detect_format", "read_grade_source", "whole_points"]


def detect_format(path: Path) -> str | None:
    """Which reader `path` needs; None when it is none of ours (e.g. a GitHub Classroom CSV)."""
    path = Path(path)
    if path.is_dir() or path.suffix.lower() == ".zip":
        return "tinytorch-results"
    if path.suffix.lower() == ".json":
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        schema = document.get("schema") if isinstance(document, dict) else None
        if schema == SCORES_SCHEMA:
            return "classroom50-scores"
        return "tinytorch-results" if schema == RESULTS_SCHEMA else None
    if path.suffix.lower() == ".csv":
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                header = next(csv.reader(handle), [])
        except (OSError, UnicodeDecodeError):
            return None
        columns = [c.strip() for c in header]
        if all(c in columns for c in SCORES_CSV_REQUIRED):
            return "classroom50-csv"
        return "gradescope-csv" if all(c in columns for c in GRADESCOPE_REQUIRED) else None
    return None


def read_grade_source(
    path: Path, *, assignment: str | None = None, course: CourseConfig | None = None
) -> list[GradeRecord]:
    """Read one grade source, whatever its format (detect_format), into GradeRecords.
    Raises GradeImportError naming the file and the place of the first problem."""
    path = Path(path)
    if not path.exists():
        raise GradeImportError(f"{path}: no such file or folder")
    kind = detect_format(path)
    if path.is_file() and path.suffix.lower() == ".json":  # say why, even if it is broken
        document = read_json(path.read_bytes(), str(path))
        schema = document.get("schema") if isinstance(document, dict) else None
        if schema not in (SCORES_SCHEMA, RESULTS_SCHEMA):
            raise GradeImportError(
                f"{path}: schema: {schema!r} is not a format this reader knows "
                f"({SCORES_SCHEMA}, {RESULTS_SCHEMA})"
            )
    if kind == "classroom50-scores":
        return parse_classroom50_scores(read_json(path.read_bytes(), str(path)), str(path))
    if kind in ("gradescope-csv", "classroom50-csv"):
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise GradeImportError(f"{path}: byte {error.start}: not UTF-8 text") from None
        if kind == "classroom50-csv":
            return parse_classroom50_csv(text, str(path), assignment or csv_assignment(path))
        slug = assignment or gradescope_assignment(path.name)
        return parse_gradescope_csv(text, str(path), slug)
    if kind == "tinytorch-results":
        if path.is_dir():
            found, base = collect_results(path), f"{path}/"
        elif path.suffix.lower() == ".zip":  # one student's zip: its name is the student
            found, base = results_in_zip(path.name, path.read_bytes(), depth=1), f"{path.parent}/"
        else:  # one results.json: the folder holding it is the student's
            found = [(f"{path.parent.name}/{path.name}", read_json(path.read_bytes(), str(path)))]
            base = f"{path.parent.parent}/"
        if not found:
            raise GradeImportError(f"{path}: no {RESULTS_FILE} inside")
        return records_from_results(found, assignment, course, base)
    raise GradeImportError(
        f"{path}: not a grade source this reader knows (Classroom 50 scores.json or "
        f"scores.csv, Gradescope grade CSV, or a folder of results.json artifacts)"
    )
