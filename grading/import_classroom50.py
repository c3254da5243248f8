"""Classroom 50's grade exports → GradeRecords: scores.json and `gh teacher download` scores.csv.

    parse_classroom50_scores(document, source) -> list[GradeRecord]     (scores.json)
    parse_classroom50_csv(text, source, assignment) -> list[GradeRecord] (scores.csv)

`<classroom>/scores.json` (`classroom50/scores/v1`, schema
grading/schemas/classroom50_scores.v1.schema.json; confirmed in foundation50/classroom50
`cli/gh-teacher/skeleton/dotgithub/scripts/collect_scores.py`): `assignments` maps each
slug to `{type, entries}`; an entry is one student repository (`owner`, for group work
`member_usernames`, `override`) with `submissions` newest first, each a published
result.json (`score`, `max-score`, `datetime`, `late`). The newest submission is the
grade (an override entry's too); a group entry gives one record per credited member.
The earlier published shape, a flat `submissions` list of rows with `assignment` and
`usernames`, is read too.

`scores.csv`, written by `gh teacher download ORG CLASSROOM ASSIGNMENT` at the root of its
folder (confirmed in foundation50/classroom50 `cli/gh-teacher/internal/download/download.go`,
`scoresCSVHeader` and `scoresCSVRows`): the columns

    username, first_name, last_name, email, section, score, max_score, datetime,
    submission_tag, submitted_by, review_url, late, override

one line per submission, newest first, grouped by student (the first line of a student is
the grade); a student without a submission has one line with every score column empty.
`late` and `override` are "true", "false" or empty. Text cells that begin with = + - @ are
written with a leading ' (their guard against spreadsheet formulas), removed here. The file
names no assignment: it is the `assignment` argument, else the download folder's name
without its `_submissions_<time>` suffix (`cs249-foundation_submissions_2027_03_08_T_...`
→ `cs249-foundation`), which `tiny gradebook` maps to a tier like any assignment name.
Required columns: username, score, max_score, datetime, late.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from grading.grade_records import (
    GradeImportError,
    GradeRecord,
    parse_rfc3339,
    whole_points,
)
from grading.schemas import SchemaError, validate
from grading.submission import dotted

SCORES_SCHEMA = "classroom50/scores/v1"
SCORES_CSV_REQUIRED = ("username", "score", "max_score", "datetime", "late")
FORMULA_GUARD = re.compile(r"^'(?=[=+\-@\t\r])")
DOWNLOAD_FOLDER = re.compile(r"_submissions_[0-9_T]+$")


def _login(value, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise GradeImportError(f"{where}: expected a GitHub login, got {value!r}")
    return value.strip()


def _c50_record(
    row, path: tuple, source: str, assignment: str, students: list[str]
) -> list[GradeRecord]:
    where = f"{source}: {dotted(path)}"
    if not isinstance(row, dict):
        raise GradeImportError(f"{where}: expected an object (a result), got {row!r}")
    points = whole_points(row.get("score"), f"{source}: {dotted((*path, 'score'))}")
    possible = whole_points(row.get("max-score"), f"{source}: {dotted((*path, 'max-score'))}")
    if points > possible:
        raise GradeImportError(f"{where}: score {points} is above max-score {possible}")
    submitted = parse_rfc3339(row.get("datetime"), f"{source}: {dotted((*path, 'datetime'))}")
    late = row.get("late")
    if late is not None and not isinstance(late, bool):
        raise GradeImportError(f"{source}: {dotted((*path, 'late'))}: expected true or false")
    return [
        GradeRecord(
            student=student,
            assignment=assignment,
            points=points,
            max_points=possible,
            submitted_at=submitted,
            platform="classroom50",
            source=f"{source}#{dotted(path)}",
            late=late,
        )
        for student in students
    ]


def parse_classroom50_scores(document, source: str) -> list[GradeRecord]:
    """Pure: records of a parsed scores.json (`source` names it in messages)."""
    if not isinstance(document, dict):
        raise GradeImportError(f"{source}: (top level): expected a JSON object")
    if document.get("schema") != SCORES_SCHEMA:
        raise GradeImportError(
            f"{source}: schema: expected {SCORES_SCHEMA!r}, got {document.get('schema')!r}"
        )
    records: list[GradeRecord] = []
    buckets = document.get("assignments")
    if buckets is not None:
        if not isinstance(buckets, dict):
            raise GradeImportError(f"{source}: assignments: expected an object keyed by slug")
        for slug, bucket in buckets.items():
            at = ("assignments", slug)
            entries = bucket.get("entries") if isinstance(bucket, dict) else None
            if not isinstance(entries, list):
                raise GradeImportError(
                    f"{source}: {dotted(at)}: expected {{type, entries: [...]}}, got {bucket!r}"
                )
            for i, entry in enumerate(entries):
                here = (*at, "entries", i)
                if not isinstance(entry, dict):
                    raise GradeImportError(f"{source}: {dotted(here)}: expected an object")
                owner = _login(entry.get("owner"), f"{source}: {dotted((*here, 'owner'))}")
                members = entry.get("member_usernames") or [owner]
                if not isinstance(members, list):
                    raise GradeImportError(
                        f"{source}: {dotted((*here, 'member_usernames'))}: expected a list"
                    )
                students = [
                    _login(m, f"{source}: {dotted((*here, 'member_usernames', j))}")
                    for j, m in enumerate(members)
                ]
                history = entry.get("submissions")
                if not isinstance(history, list):
                    raise GradeImportError(
                        f"{source}: {dotted((*here, 'submissions'))}: expected a list"
                    )
                if history:  # newest first: the first one is the grade
                    path = (*here, "submissions", 0)
                    records += _c50_record(history[0], path, source, str(slug), students)
    rows = document.get("submissions") if buckets is None else None
    if buckets is None and not isinstance(rows, list):
        raise GradeImportError(
            f"{source}: (top level): has neither 'assignments' nor a list of 'submissions'"
        )
    for i, row in enumerate(rows or []):
        here = ("submissions", i)
        if not isinstance(row, dict):
            raise GradeImportError(f"{source}: {dotted(here)}: expected an object")
        slug = row.get("assignment")
        if not isinstance(slug, str) or not slug:
            raise GradeImportError(f"{source}: {dotted((*here, 'assignment'))}: missing")
        names = row.get("usernames")
        if not isinstance(names, list) or not names:
            raise GradeImportError(f"{source}: {dotted((*here, 'usernames'))}: expected a list")
        students = [
            _login(n, f"{source}: {dotted((*here, 'usernames', j))}") for j, n in enumerate(names)
        ]
        records += _c50_record(row, here, source, slug, students)
    try:
        validate("classroom50_scores", document, source)
    except SchemaError as error:
        raise GradeImportError(str(error)) from None
    return records


# ---- gh teacher download's scores.csv ------------------------------------------------------


def csv_assignment(path: Path) -> str:
    """The assignment a scores.csv belongs to, from the folder `gh teacher download` made."""
    return DOWNLOAD_FOLDER.sub("", path.resolve().parent.name)


def _flag(text: str, where: str) -> bool | None:
    value = text.strip().lower()
    if value in ("", "true", "false"):
        return None if not value else value == "true"
    raise GradeImportError(f"{where}: expected true, false or nothing, got {text!r}")


def parse_classroom50_csv(text: str, source: str, assignment: str) -> list[GradeRecord]:
    """Pure: one record per student of a `gh teacher download` scores.csv: their newest
    submission (first line), or points None for a student who never submitted. Every line
    is checked, older submissions too: points whole, 0 <= score <= max_score."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    columns = [name.strip() for name in reader.fieldnames or []]
    missing = [c for c in SCORES_CSV_REQUIRED if c not in columns]
    if missing:
        raise GradeImportError(
            f"{source}: line 1: missing column(s) {', '.join(missing)} — expected the "
            f"scores.csv that `gh teacher download` writes"
        )
    reader.fieldnames = columns
    records: dict[str, GradeRecord] = {}
    try:
        for row in reader:
            line = reader.line_num  # the row's last line, as the other readers count
            if None in row or any(value is None for value in row.values()):
                raise GradeImportError(
                    f"{source}: line {line}: has a different number of fields than the header"
                )

            def at(column: str, line=line) -> str:
                return f"{source}: line {line}, column {column!r}"

            cell = {k: FORMULA_GUARD.sub("", (v or "").strip()) for k, v in row.items()}
            student = cell["username"]
            if not student:
                raise GradeImportError(f"{at('username')}: empty: whose line is it?")
            late = _flag(cell["late"], at("late"))
            if cell["score"] or cell["max_score"]:
                points = whole_points(cell["score"], at("score"))
                possible = whole_points(cell["max_score"], at("max_score"))
                if points > possible:
                    raise GradeImportError(f"{at('score')}: {points} is above max_score {possible}")
                submitted = parse_rfc3339(cell["datetime"], at("datetime"))
            else:
                points, possible, submitted = None, 0, None
            if student.casefold() in records:
                continue  # an older submission of the same student: the first line is the grade
            name = " ".join(p for p in (cell.get("first_name", ""), cell.get("last_name", "")) if p)
            records[student.casefold()] = GradeRecord(
                student=student,
                assignment=assignment,
                points=points,
                max_points=possible,
                submitted_at=submitted,
                platform="classroom50",
                source=f"{source}:line {line}",
                email=cell.get("email", ""),
                name=name,
                late=late,
            )
    except csv.Error as error:
        raise GradeImportError(f"{source}: line {reader.line_num}: {error}") from None
    return list(records.values())
