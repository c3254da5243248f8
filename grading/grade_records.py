"""One student's grade for one assignment from any platform, and the checks every reader shares.

Readers: grading/import_classroom50.py, import_gradescope.py, import_results.py; the shell
that picks one is grading/grade_imports.py. Points are whole numbers end to end: a
fractional, negative or non-numeric value, or points above the maximum, is refused with
the place it came from (`file: line 4, column 'score'` or a JSON path), never rounded or
clipped.

GradeRecord — one student's grade for one assignment (frozen dataclass; keep the name):
    student       str  the student's key on that platform: GitHub login for Classroom 50
                       and for results artifacts, Gradescope's SID (else the e-mail)
    assignment    str  Classroom 50 assignment slug; Gradescope: the `assignment` argument,
                       else the file name without `_scores.csv`; results artifacts: the
                       course tier of the modules (with `course`), else module.yaml's tier,
                       or the `assignment` argument for all of them
    points        int | None  points earned; None when there is no graded submission
    max_points    int  points possible
    submitted_at  str | None  submission time, UTC 'YYYY-MM-DDTHH:MM:SSZ'; None when the
                       source does not say (results artifacts carry no time)
    platform      str  "classroom50" | "gradescope" | "tinytorch-results"
    source        str  where the record came from: file plus JSON path or CSV line
    email, name   str  when the platform has them, else ""
    late          bool | None  the platform's own lateness flag, when it has one
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass


class GradeImportError(ValueError):
    """A grade source that cannot be read; the message names the file and the place."""


@dataclass(frozen=True)
class GradeRecord:
    """One student's grade for one assignment (see the module docstring)."""

    student: str
    assignment: str
    points: int | None
    max_points: int
    submitted_at: str | None
    platform: str
    source: str
    email: str = ""
    name: str = ""
    late: bool | None = None


def whole_points(value, where: str) -> int:
    """A points value as an int: 60, 60.0 or "60.0" → 60; 59.5, "x", True → GradeImportError."""
    if isinstance(value, bool):
        raise GradeImportError(f"{where}: points must be a whole number, got {value!r}")
    number = value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise GradeImportError(
                f"{where}: points must be a whole number, got {value!r}"
            ) from None
    if not isinstance(number, (int, float)) or not math.isfinite(number):
        raise GradeImportError(f"{where}: points must be a whole number, got {value!r}")
    if number != int(number):
        raise GradeImportError(
            f"{where}: fractional points {value!r} — TinyTorch points are whole numbers; "
            f"fix the grade on the platform (or in the file) to a whole number"
        )
    if number < 0:
        raise GradeImportError(f"{where}: points must not be negative, got {value!r}")
    return int(number)


def utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(value, where: str) -> str:
    """An RFC 3339 time with an offset, as UTC 'YYYY-MM-DDTHH:MM:SSZ'."""
    if not isinstance(value, str) or not value.strip():
        raise GradeImportError(f"{where}: expected a date-time text, got {value!r}")
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise GradeImportError(f"{where}: {value!r} is not an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        raise GradeImportError(f"{where}: {value!r} has no time zone offset")
    return utc_text(moment)
