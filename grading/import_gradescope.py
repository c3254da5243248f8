"""Gradescope's per-assignment "Download Grades" CSV → GradeRecords.

Columns (confirmed in public code that reads it): First Name, Last Name (or Name), SID,
Email, Sections, Total Score, Max Points, Status (Graded / Ungraded / Missing), Submission
ID, Submission Time ('2027-03-01 12:00:00 -0500'), Lateness (H:M:S), View Count,
Submission Count, then one column per question. Assumption: the file is named
'<assignment>_scores.csv' as Gradescope names it; pass `assignment` otherwise.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

from grading.grade_records import (
    GradeImportError,
    GradeRecord,
    parse_rfc3339,
    utc_text,
    whole_points,
)

GRADESCOPE_REQUIRED = ("Total Score", "Max Points", "Status")
GRADESCOPE_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S%z")


def _gradescope_time(value: str, where: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    for pattern in GRADESCOPE_TIME_FORMATS:
        try:
            return utc_text(dt.datetime.strptime(text, pattern))
        except ValueError:
            continue
    return parse_rfc3339(text, where)


def _lateness(value: str, where: str) -> bool | None:
    text = value.strip()
    if not text:
        return None
    match = re.fullmatch(r"(\d+):([0-5]?\d):([0-5]?\d)", text)
    if not match:
        raise GradeImportError(f"{where}: expected H:M:S, got {value!r}")
    return any(int(part) for part in match.groups())


def gradescope_assignment(filename: str) -> str:
    """'Foundation_Tier_scores.csv' → 'Foundation_Tier' (Gradescope's download name)."""
    return re.sub(r"_scores$", "", Path(filename).stem)


def parse_gradescope_csv(text: str, source: str, assignment: str) -> list[GradeRecord]:
    """Pure: records of a Gradescope per-assignment grade export."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    columns = reader.fieldnames or []
    missing = [c for c in GRADESCOPE_REQUIRED if c not in columns]
    if "SID" not in columns and "Email" not in columns:
        missing.append("SID or Email")
    if missing:
        raise GradeImportError(
            f"{source}: line 1: missing column(s) {', '.join(missing)} — expected Gradescope's "
            f"'Download Grades' export of one assignment"
        )
    records = []
    for row in reader:
        line = reader.line_num
        if None in row or any(value is None for value in row.values()):
            raise GradeImportError(
                f"{source}: line {line}: has a different number of fields than the header"
            )

        def at(column: str, line=line) -> str:
            return f"{source}: line {line}, column {column!r}"

        student = (row.get("SID") or "").strip() or (row.get("Email") or "").strip()
        if not student:
            raise GradeImportError(f"{at('SID')}: neither SID nor Email is filled in")
        status = row["Status"].strip()
        total = row["Total Score"].strip()
        if total:
            points = whole_points(total, at("Total Score"))
        elif status.lower() in ("missing", "ungraded", ""):
            points = None
        else:
            raise GradeImportError(f"{at('Total Score')}: empty although Status is {status!r}")
        possible = whole_points(row["Max Points"], at("Max Points"))
        if points is not None and points > possible:
            raise GradeImportError(f"{at('Total Score')}: {points} is above Max Points {possible}")
        name = (
            " ".join(
                part.strip()
                for part in (row.get("First Name", ""), row.get("Last Name", ""))
                if part and part.strip()
            )
            or (row.get("Name") or "").strip()
        )
        records.append(
            GradeRecord(
                student=student,
                assignment=assignment,
                points=points,
                max_points=possible,
                submitted_at=_gradescope_time(
                    row.get("Submission Time") or "", at("Submission Time")
                ),
                platform="gradescope",
                source=f"{source}:line {line}",
                email=(row.get("Email") or "").strip(),
                name=name,
                late=_lateness(row.get("Lateness (H:M:S)") or "", at("Lateness (H:M:S)")),
            )
        )
    return records
