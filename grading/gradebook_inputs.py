"""Readers of the GitHub Classroom files `tiny gradebook` merges (pure: text in, values out).

## Inputs

GitHub Classroom grade export, one CSV per assignment (the web page's "Download grades"
and `gh classroom assignment-grades` write the same columns, confirmed in
github/gh-classroom cmd/gh-classroom/assignment-grades/assignment_grades.go):

    assignment_name, assignment_url, starter_code_url, github_username, roster_identifier,
    student_repository_name, student_repository_url, submission_timestamp,
    points_awarded, points_available[, group_name]

  Required here: assignment_name, github_username, roster_identifier,
  student_repository_name, submission_timestamp, points_awarded, points_available
  (CLASSROOM_REQUIRED); the others are read when present. roster_identifier is empty for a
  student who never linked a roster entry. submission_timestamp: ISO-8601
  ("2027-03-07T23:59:00Z", "...+01:00") or "2027-03-07 23:59:00 UTC"; without an offset it is
  read as UTC; empty means no submission. points_awarded / points_available: whole numbers >= 0,
  points_awarded <= points_available (a fraction, a negative value or points above the
  maximum is refused with file:line); an empty points_awarded means no score yet (counted
  as 0, reported).

GitHub Classroom roster (classroom_roster.csv from the roster page):

    identifier, github_username, github_id, name

  Required: identifier, github_username (empty until the student links their account).
  Identifiers and linked usernames must be unique (compared case-insensitively).

Assignments map to tiers of the course configuration, in this order:
  1. an explicit mapping `assignment name -> tier slug` (`--assignment "NAME=slug"`);
  2. the tier whose slug is a whole-word part of the assignment's slug: "TinyTorch
     Foundation" -> tinytorch-foundation -> tier `foundation` (a tier slug inside a longer
     matching one gives way to it; two unrelated tiers in one name are an error);
  3. the tier whose title, turned into a slug, equals the assignment's slug.
  Assignment slugs are made as GitHub Classroom makes them: lower case, every run of other
  characters than letters and digits becomes one '-'.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

UTC = dt.timezone.utc


class GradebookInputError(ValueError):
    """A grade export, roster or mapping that cannot be read; the message starts with
    `file:line:` (line 1 is the header)."""


# ---- values ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterEntry:
    identifier: str
    github_username: str = ""
    github_id: str = ""
    name: str = ""
    line: int = 0


@dataclass(frozen=True)
class Submission:
    """One student's grade for one assignment, whatever platform it came from.

    where: 'file:line' for messages; assignment: the platform's name for the assignment;
    tier: the tier slug when the source knows it (else mapped from `assignment`);
    submitted_at: timezone-aware, None when nothing was submitted (or the source does not
    say); points: None when the platform recorded no score; email: a second identifier to
    match the roster with; late: the platform's own flag (Classroom 50's `late`,
    Gradescope's Lateness), reported beside the course's judgement and used for it only
    when submitted_at is None; platform: who says so ("classroom50", "gradescope", ...)."""

    where: str
    assignment: str
    github_username: str = ""
    roster_identifier: str = ""
    repository: str = ""
    submitted_at: dt.datetime | None = None
    points: float | None = None
    possible: float | None = None
    tier: str | None = None
    email: str = ""
    name: str = ""
    late: bool | None = None
    platform: str = ""


CLASSROOM_COLUMNS = (
    "assignment_name",
    "assignment_url",
    "starter_code_url",
    "github_username",
    "roster_identifier",
    "student_repository_name",
    "student_repository_url",
    "submission_timestamp",
    "points_awarded",
    "points_available",
)
CLASSROOM_REQUIRED = (
    "assignment_name",
    "github_username",
    "roster_identifier",
    "student_repository_name",
    "submission_timestamp",
    "points_awarded",
    "points_available",
)
ROSTER_COLUMNS = ("identifier", "github_username", "github_id", "name")
ROSTER_REQUIRED = ("identifier", "github_username")
_EXTRA = "\0extra"  # DictReader's key for fields beyond the header
_MISSING = "\0missing"  # and its value for fields a short row lacks


def parse_timestamp(text: str, where: str) -> dt.datetime | None:
    """ISO-8601 or 'YYYY-MM-DD HH:MM:SS UTC' -> aware datetime (UTC if no offset); '' -> None."""
    value = (text or "").strip()
    if not value:
        return None
    normal = value.removesuffix(" UTC").removesuffix("Z")
    if normal != value:
        normal += "+00:00"
    try:
        if len(normal) < 16:  # a date alone (or less) says nothing about lateness
            raise ValueError
        moment = dt.datetime.fromisoformat(normal)
    except ValueError:
        raise GradebookInputError(
            f"{where}: submission_timestamp {value!r} is not a date and time such as "
            f"2027-03-07T23:59:00Z or 2027-03-07 23:59:00 UTC"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_points(text: str, where: str, column: str) -> float | None:
    """'97' (or '97.0') -> 97.0, '' -> None; a fraction, a negative or non-numeric value is an
    error: TinyTorch points are whole numbers, so 59.5 means a grade was edited by hand."""
    value = (text or "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise GradebookInputError(f"{where}: {column} {value!r} is not a number of points >= 0")
    if not number.is_integer():
        raise GradebookInputError(
            f"{where}: {column} {value!r} is a fraction: TinyTorch points are whole numbers; "
            f"fix the grade where it was edited"
        )
    return number


def _read_csv(text: str, source: str, required: Sequence[str], what: str) -> list[tuple[int, dict]]:
    """(line, row) pairs of a CSV with a header; missing columns and ragged rows raise."""
    text = text.removeprefix("\ufeff")  # a BOM from spreadsheet programs
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey=_EXTRA, restval=_MISSING)
    try:
        header = reader.fieldnames
    except csv.Error as error:
        raise GradebookInputError(f"{source}:1: not a CSV file: {error}") from None
    if not header:
        raise GradebookInputError(f"{source}:1: empty file: expected a {what} with a header")
    columns = [name.strip() for name in header]
    missing = [name for name in required if name not in columns]
    if missing:
        raise GradebookInputError(
            f"{source}:1: missing column(s) {', '.join(missing)} of a {what}; "
            f"the header has: {', '.join(columns)}"
        )
    reader.fieldnames = columns
    rows = []
    try:
        for row in reader:
            line = reader.line_num
            if _EXTRA in row:
                raise GradebookInputError(
                    f"{source}:{line}: {len(columns) + len(row[_EXTRA])} fields, but the "
                    f"header has {len(columns)}: is a comma in a value missing its quotes?"
                )
            if _MISSING in row.values():
                count = sum(value != _MISSING for value in row.values())
                raise GradebookInputError(
                    f"{source}:{line}: {count} fields, but the header has {len(columns)}: "
                    f"was the line cut short?"
                )
            rows.append((line, {k: (v or "").strip() for k, v in row.items()}))
    except csv.Error as error:
        raise GradebookInputError(f"{source}:{reader.line_num}: {error}") from None
    return rows


def looks_like_classroom_csv(text: str) -> bool:
    """Whether the first line is a GitHub Classroom grade export's header."""
    first = text.removeprefix("\ufeff").split("\n", 1)[0]
    names = {name.strip().strip('"') for name in first.split(",")}
    return {"points_awarded", "points_available", "assignment_name"} <= names


def parse_classroom_grades(text: str, source: str) -> list[Submission]:
    """Every row of one GitHub Classroom grade export. Raises GradebookInputError."""
    submissions = []
    for line, row in _read_csv(text, source, CLASSROOM_REQUIRED, "GitHub Classroom grade export"):
        where = f"{source}:{line}"
        if not row["assignment_name"]:
            raise GradebookInputError(f"{where}: assignment_name is empty")
        if not row["github_username"] and not row["roster_identifier"]:
            raise GradebookInputError(
                f"{where}: neither github_username nor roster_identifier is set: whose row is it?"
            )
        points = parse_points(row["points_awarded"], where, "points_awarded")
        possible = parse_points(row["points_available"], where, "points_available")
        if points is not None and possible is not None and points > possible:
            raise GradebookInputError(
                f"{where}: points_awarded {row['points_awarded']} is above points_available "
                f"{row['points_available']}: no grade may exceed its maximum"
            )
        submissions.append(
            Submission(
                where=where,
                assignment=row["assignment_name"],
                github_username=row["github_username"],
                roster_identifier=row["roster_identifier"],
                repository=row["student_repository_name"],
                submitted_at=parse_timestamp(row["submission_timestamp"], where),
                points=points,
                possible=possible,
            )
        )
    return submissions


def parse_roster(text: str, source: str) -> list[RosterEntry]:
    """The GitHub Classroom roster. Raises GradebookInputError on a missing column, an
    empty identifier or a duplicate identifier / linked username."""
    entries: list[RosterEntry] = []
    seen_ids: dict[str, int] = {}
    seen_users: dict[str, int] = {}
    for line, row in _read_csv(text, source, ROSTER_REQUIRED, "GitHub Classroom roster"):
        where = f"{source}:{line}"
        identifier, user = row["identifier"], row["github_username"]
        if not identifier:
            raise GradebookInputError(f"{where}: identifier is empty")
        if identifier.casefold() in seen_ids:
            raise GradebookInputError(
                f"{where}: identifier {identifier!r} is already on line "
                f"{seen_ids[identifier.casefold()]}: roster identifiers must be unique"
            )
        if user and user.casefold() in seen_users:
            raise GradebookInputError(
                f"{where}: github_username {user!r} is already linked on line "
                f"{seen_users[user.casefold()]}: unlink one of the two roster entries"
            )
        seen_ids[identifier.casefold()] = line
        if user:
            seen_users[user.casefold()] = line
        entries.append(
            RosterEntry(identifier, user, row.get("github_id", ""), row.get("name", ""), line)
        )
    return entries


def parse_mapping(items: Iterable[str], what: str) -> dict[str, str]:
    """['Assignment name=slug', ...] -> {name: slug}; the last '=' splits."""
    mapping = {}
    for item in items:
        key, sep, value = item.rpartition("=")
        if not sep or not key.strip() or not value.strip():
            raise GradebookInputError(f"{what}: {item!r} is not of the form NAME=VALUE")
        mapping[key.strip()] = value.strip()
    return mapping
