"""The gradebook: grade exports + roster + course configuration -> one row per student.

Pure functions only (parse -> match -> render); `tiny gradebook`
(grading/commands/gradebook.py) reads the files, writes the outputs and keeps backups.
Every file format read or written here has its schema below, and every reader rejects a
malformed file with `file:line: what is wrong` (GradebookInputError).

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
  read as UTC; empty means no submission. points_awarded / points_available: numbers >= 0;
  an empty points_awarded means no score yet (counted as 0, reported).

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

Other platforms' exports (Classroom 50 scores.json, Gradescope grade CSVs, folders of our
results.json artifacts) are read by grading/grade_imports.py; `tiny gradebook` turns each
of its GradeRecords into a Submission (grading/commands/gradebook.py `from_grade_record`).

Students are matched to the roster by roster_identifier (or the e-mail some platforms
give), else by github_username. A student with several rows for one tier (a re-accepted
assignment, two exports of the same assignment) keeps the row with the latest
submission_timestamp; each duplicate is reported.

## Outputs

gradebook.csv, one row per roster student (roster order), then one per submission that
matched no roster entry (by GitHub username):

    identifier, name, github_username,
    <slug>, <slug>_submitted, <slug>_late   for each tier, in course order,
    total, possible, late, notes

  <slug>: points (empty: no submission or no points recorded); <slug>_submitted: ISO-8601 UTC;
  <slug>_late: "late" when submitted after the tier's deadline; total: sum of the tiers'
  points; possible: sum of the tiers' points possible (course configuration, else the
  largest points_available seen); late: "late" if any tier is; notes: "not on roster",
  "no submission: architecture" (no row, or one with neither a time nor points),
  "no points recorded: foundation", "late: foundation"

canvas.csv, Canvas's gradebook import, in the layout of Canvas's own gradebook export
(class GradebookExporter of instructure/canvas-lms; assignment columns "Title (id)"):

    Student, ID, SIS User ID, SIS Login ID, Section, <tier title> (<canvas assignment id>) ...
    "    Points Possible", "", "", "", "", <points possible per tier> ...
    one row per student with an identifier

  The roster identifier goes into the SIS User ID column (or ID / SIS Login ID, as
  chosen); Student is the roster name, else the identifier. A column without a Canvas
  assignment id ("Foundation") makes Canvas create a new assignment on import. A tier a
  student never submitted, or whose points were never recorded, is left empty (Canvas then
  keeps what it has), or 0 on request (--missing-zero).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from grading.course_config import Tier

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
CANVAS_FIXED = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_POSSIBLE = "    Points Possible"
CANVAS_ID_COLUMNS = {"sis_user_id": "SIS User ID", "sis_login_id": "SIS Login ID", "id": "ID"}
UTC = dt.timezone.utc
_NON_SLUG = re.compile(r"[^a-z0-9]+")
_EXTRA = "\0extra"  # DictReader's key for fields beyond the header
_MISSING = "\0missing"  # and its value for fields a short row lacks


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
    match the roster with; late: the platform's own flag, used only when submitted_at is
    None (otherwise the course's deadline decides)."""

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


@dataclass(frozen=True)
class TierGrade:
    points: float | None
    submitted_at: dt.datetime | None
    late: bool
    where: str


@dataclass(frozen=True)
class StudentRow:
    identifier: str
    name: str
    github_username: str
    on_roster: bool
    tiers: dict[str, TierGrade] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(grade.points or 0.0 for grade in self.tiers.values())

    @property
    def late(self) -> bool:
        return any(grade.late for grade in self.tiers.values())


@dataclass(frozen=True)
class Duplicate:
    student: str
    tier: str
    kept: str  # where the kept row is
    dropped: str


@dataclass(frozen=True)
class Gradebook:
    tiers: tuple[Tier, ...]
    possible: dict[str, float]
    rows: tuple[StudentRow, ...]
    roster_without_submission: tuple[RosterEntry, ...]
    unmatched_submissions: tuple[Submission, ...]
    duplicates: tuple[Duplicate, ...]
    warnings: tuple[str, ...]


# ---- small parsers ---------------------------------------------------------------------------


def slugify(text: str) -> str:
    """'TinyTorch: Foundation (2027)' -> 'tinytorch-foundation-2027', as Classroom slugs."""
    return _NON_SLUG.sub("-", text.lower()).strip("-")


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
    """'97' -> 97.0, '' -> None; anything else than a finite number >= 0 is an error."""
    value = (text or "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise GradebookInputError(f"{where}: {column} {value!r} is not a number of points >= 0")
    return number


def format_points(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def format_time(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        submissions.append(
            Submission(
                where=where,
                assignment=row["assignment_name"],
                github_username=row["github_username"],
                roster_identifier=row["roster_identifier"],
                repository=row["student_repository_name"],
                submitted_at=parse_timestamp(row["submission_timestamp"], where),
                points=parse_points(row["points_awarded"], where, "points_awarded"),
                possible=parse_points(row["points_available"], where, "points_available"),
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


# ---- assignments to tiers --------------------------------------------------------------------


def tier_for_assignment(
    assignment: str, tiers: Sequence[Tier], explicit: dict[str, str] | None = None
) -> str:
    """The tier slug of an assignment name (rules in the module docstring). Raises
    GradebookInputError naming the assignment when no rule or more than one tier fits."""
    slugs = [tier.slug for tier in tiers]
    for name, slug in (explicit or {}).items():
        if name.casefold() == assignment.casefold():
            if slug not in slugs:
                raise GradebookInputError(
                    f"--assignment {name}={slug}: no tier '{slug}' (tiers: {', '.join(slugs)})"
                )
            return slug
    words = f"-{slugify(assignment)}-"
    found = [slug for slug in slugs if f"-{slug}-" in words]
    if found:
        # A slug inside a longer matching one ('part-1' in 'part-1-extra') gives way to it.
        best = [s for s in found if not any(s != o and f"-{s}-" in f"-{o}-" for o in found)]
        if len(best) == 1:
            return best[0]
        raise GradebookInputError(
            f"assignment {assignment!r} names tiers {', '.join(best)}: say which with "
            f"--assignment '{assignment}=<tier slug>'"
        )
    titled = [tier.slug for tier in tiers if slugify(tier.title) == slugify(assignment)]
    if len(titled) == 1:
        return titled[0]
    raise GradebookInputError(
        f"assignment {assignment!r} matches no tier (tiers: {', '.join(slugs)}): name the "
        f"assignment after its tier (e.g. 'TinyTorch {slugs[0]}') or map it with "
        f"--assignment '{assignment}=<tier slug>'"
    )


def assign_tiers(
    submissions: Sequence[Submission], tiers: Sequence[Tier], explicit: dict[str, str] | None
) -> list[Submission]:
    """Each submission with its tier set (a tier the source named must exist)."""
    slugs = {tier.slug for tier in tiers}
    placed = []
    for submission in submissions:
        tier = submission.tier
        if tier is None:
            try:
                tier = tier_for_assignment(submission.assignment, tiers, explicit)
            except GradebookInputError as error:
                raise GradebookInputError(f"{submission.where}: {error}") from None
        elif tier not in slugs:
            raise GradebookInputError(
                f"{submission.where}: tier '{tier}' is not in the course configuration "
                f"(tiers: {', '.join(sorted(slugs))})"
            )
        placed.append(replace(submission, tier=tier))
    return placed


# ---- the merge -------------------------------------------------------------------------------


def _later(a: Submission, b: Submission) -> bool:
    """Whether b was submitted after a (no timestamp counts as earliest; ties: b, the later row)."""
    oldest = dt.datetime.min.replace(tzinfo=UTC)
    return (b.submitted_at or oldest) >= (a.submitted_at or oldest)


def build_gradebook(
    submissions: Sequence[Submission],
    roster: Sequence[RosterEntry] | None,
    tiers: Sequence[Tier],
    configured_points: dict[str, float] | None = None,
) -> Gradebook:
    """Match every submission (tier already set) to a roster entry, keep the latest per
    student and tier, flag late ones, and list everything that did not fit.

    roster None: no roster was given; students are whoever the submissions name.
    configured_points: tier slug -> points possible per the course configuration."""
    by_id = {e.identifier.casefold(): e for e in roster or ()}
    by_user = {e.github_username.casefold(): e for e in roster or () if e.github_username}
    deadlines = {tier.slug: tier.deadline for tier in tiers}
    warnings: list[str] = []
    # Without a roster, rows naming both an identifier and a username (Classroom's) link
    # that username to the identifier, so another platform's row by username joins them.
    learned = {
        s.github_username.casefold(): s.roster_identifier.casefold()
        for s in submissions
        if roster is None and s.github_username and s.roster_identifier
    }

    def key_of(submission: Submission) -> tuple[str, RosterEntry | None]:
        entry = None
        for identifier in (submission.roster_identifier, submission.email):
            if entry is None and identifier:
                entry = by_id.get(identifier.casefold())
        if entry is None and submission.github_username:
            entry = by_user.get(submission.github_username.casefold())
        if entry is not None:
            return f"id:{entry.identifier.casefold()}", entry
        if roster is None and submission.roster_identifier:
            return f"id:{submission.roster_identifier.casefold()}", None
        user = submission.github_username.casefold()
        return (f"id:{learned[user]}" if user in learned else f"user:{user}"), None

    kept: dict[tuple[str, str], Submission] = {}
    owners: dict[str, RosterEntry | None] = {}
    duplicates = []
    for submission in submissions:
        key, entry = key_of(submission)
        owners[key] = entry
        slot = (key, submission.tier or "")
        if slot in kept:
            old = kept[slot]
            newer = submission if _later(old, submission) else old
            older = old if newer is submission else submission
            kept[slot] = newer
            who = entry.identifier if entry else (submission.github_username or key)
            duplicates.append(Duplicate(who, slot[1], newer.where, older.where))
        else:
            kept[slot] = submission

    possible: dict[str, float] = {}
    for tier in tiers:
        seen = [s.possible for (_, t), s in kept.items() if t == tier.slug and s.possible]
        configured = (configured_points or {}).get(tier.slug)
        if configured is not None:
            possible[tier.slug] = float(configured)
            odd = sorted({p for p in seen if p != configured})
            if odd:
                warnings.append(
                    f"tier {tier.slug}: the grade export says {', '.join(map(format_points, odd))} "
                    f"points possible, the course configuration {format_points(configured)}: "
                    f"was the template built with other modules or points?"
                )
        elif seen:
            possible[tier.slug] = max(seen)

    def row_for(key: str, identifier: str, name: str, user: str, on_roster: bool) -> StudentRow:
        grades = {}
        for tier in tiers:
            submission = kept.get((key, tier.slug))
            if submission is None:
                continue
            if submission.submitted_at is not None:
                late = submission.submitted_at > deadlines[tier.slug]
            else:
                late = bool(submission.late)
            grades[tier.slug] = TierGrade(
                submission.points, submission.submitted_at, late, submission.where
            )
            if submission.points is None and submission.submitted_at is not None:
                warnings.append(f"{submission.where}: submitted but no points recorded (counted 0)")
        return StudentRow(identifier, name, user, on_roster, grades)

    rows = []
    without = []
    for entry in roster or ():
        key = f"id:{entry.identifier.casefold()}"
        mine = [kept[(key, t.slug)] for t in tiers if (key, t.slug) in kept]
        user = entry.github_username or next(
            (s.github_username for s in mine if s.github_username), ""
        )
        row = row_for(key, entry.identifier, entry.name, user, True)
        rows.append(row)
        if not row.tiers:
            without.append(entry)
    unmatched = []
    extra_keys = sorted(k for k, entry in owners.items() if entry is None)
    for key in extra_keys:
        mine = [kept[(key, t.slug)] for t in tiers if (key, t.slug) in kept]
        identifier = next((s.roster_identifier for s in mine if s.roster_identifier), "")
        user = next((s.github_username for s in mine if s.github_username), "")
        name = next((s.name for s in mine if s.name), "")
        rows.append(row_for(key, identifier, name, user, roster is None))
        if roster is not None:
            unmatched += mine
    return Gradebook(
        tiers=tuple(tiers),
        possible=possible,
        rows=tuple(rows),
        roster_without_submission=tuple(without),
        unmatched_submissions=tuple(unmatched),
        duplicates=tuple(duplicates),
        warnings=tuple(dict.fromkeys(warnings)),
    )


# ---- rendering -------------------------------------------------------------------------------


def _csv_text(rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(rows)
    return buffer.getvalue()


def gradebook_header(tiers: Sequence[Tier]) -> list[str]:
    header = ["identifier", "name", "github_username"]
    for tier in tiers:
        header += [tier.slug, f"{tier.slug}_submitted", f"{tier.slug}_late"]
    return header + ["total", "possible", "late", "notes"]


def notes(row: StudentRow, tiers: Sequence[Tier]) -> str:
    parts = [] if row.on_roster else ["not on roster"]
    missing = [
        t.slug
        for t in tiers
        if t.slug not in row.tiers
        or (row.tiers[t.slug].submitted_at is None and not row.tiers[t.slug].points)
    ]
    if missing:
        parts.append(f"no submission: {', '.join(missing)}")
    unscored = [
        t.slug
        for t in tiers
        if t.slug in row.tiers and row.tiers[t.slug].points is None and t.slug not in missing
    ]
    if unscored:
        parts.append(f"no points recorded: {', '.join(unscored)}")
    late = [t.slug for t in tiers if t.slug in row.tiers and row.tiers[t.slug].late]
    if late:
        parts.append(f"late: {', '.join(late)}")
    return "; ".join(parts)


def render_gradebook(book: Gradebook) -> str:
    """gradebook.csv (schema in the module docstring)."""
    lines: list[list[str]] = [gradebook_header(book.tiers)]
    possible = sum(book.possible.get(t.slug, 0.0) for t in book.tiers)
    for row in book.rows:
        cells = [row.identifier, row.name, row.github_username]
        for tier in book.tiers:
            grade = row.tiers.get(tier.slug)
            if grade is None:
                cells += ["", "", ""]
            else:
                points = format_points(grade.points)
                cells += [points, format_time(grade.submitted_at), "late" if grade.late else ""]
        cells += [
            format_points(row.total),
            format_points(possible),
            "late" if row.late else "",
            notes(row, book.tiers),
        ]
        lines.append(cells)
    return _csv_text(lines)


def canvas_header(tier: Tier, assignment_ids: dict[str, str]) -> str:
    canvas_id = assignment_ids.get(tier.slug)
    return f"{tier.title} ({canvas_id})" if canvas_id else tier.title


def render_canvas(
    book: Gradebook,
    assignment_ids: dict[str, str] | None = None,
    id_column: str = "sis_user_id",
    missing_as_zero: bool = False,
) -> tuple[str, list[StudentRow]]:
    """(canvas.csv, the rows left out because they have no identifier)."""
    if id_column not in CANVAS_ID_COLUMNS:
        raise GradebookInputError(
            f"--canvas-id-column: {id_column!r} is not one of {', '.join(CANVAS_ID_COLUMNS)}"
        )
    ids = assignment_ids or {}
    unknown = sorted(set(ids) - {t.slug for t in book.tiers})
    if unknown:
        raise GradebookInputError(f"--canvas-assignment: no tier {', '.join(unknown)}")
    target = CANVAS_FIXED.index(CANVAS_ID_COLUMNS[id_column])
    lines: list[list[str]] = [
        [*CANVAS_FIXED, *(canvas_header(t, ids) for t in book.tiers)],
        [
            CANVAS_POINTS_POSSIBLE,
            "",
            "",
            "",
            "",
            *(format_points(book.possible.get(t.slug)) for t in book.tiers),
        ],
    ]
    left_out = []
    for row in book.rows:
        if not row.identifier:
            left_out.append(row)
            continue
        fixed = [row.name or row.identifier, "", "", "", ""]
        fixed[target] = row.identifier
        scores = []
        for tier in book.tiers:
            grade = row.tiers.get(tier.slug)
            if grade is None or grade.points is None:
                scores.append("0" if missing_as_zero else "")
            else:
                scores.append(format_points(grade.points))
        lines.append(fixed + scores)
    return _csv_text(lines), left_out


def render_report(book: Gradebook, left_out_of_canvas: Sequence[StudentRow] = ()) -> str:
    """What the instructor should look at: unmatched students, duplicates, warnings."""
    out = [
        f"{len(book.rows)} students; tiers: "
        + ", ".join(
            f"{t.slug} ({format_points(book.possible.get(t.slug))} points)" for t in book.tiers
        )
    ]
    late = [r for r in book.rows if r.late]
    out.append(f"{len(late)} with a late submission")
    if book.roster_without_submission:
        out.append(
            f"\nRoster entries without any submission ({len(book.roster_without_submission)}):"
        )
        for entry in book.roster_without_submission:
            user = (
                f" (GitHub {entry.github_username})"
                if entry.github_username
                else " (no GitHub account linked)"
            )
            out.append(f"  {entry.identifier}{user}")
    if book.unmatched_submissions:
        out.append(f"\nSubmissions without a roster entry ({len(book.unmatched_submissions)}):")
        for s in book.unmatched_submissions:
            who = s.github_username or s.roster_identifier
            out.append(f"  {who} — {s.assignment} ({s.where}): link them on the roster page")
    if book.duplicates:
        out.append(f"\nDuplicate rows, the latest submission kept ({len(book.duplicates)}):")
        for d in book.duplicates:
            out.append(f"  {d.student}, tier {d.tier}: kept {d.kept}, dropped {d.dropped}")
    if left_out_of_canvas:
        out.append(f"\nNot in canvas.csv, no roster identifier ({len(left_out_of_canvas)}):")
        out += [f"  {r.github_username}" for r in left_out_of_canvas]
    if book.warnings:
        out.append("\nWarnings:")
        out += [f"  {w}" for w in book.warnings]
    return "\n".join(out) + "\n"


def backup_name(name: str, now: dt.datetime) -> str:
    """'gradebook.csv' -> 'gradebook.20270308T101500Z.csv' (UTC), for the copy kept before
    a changed file is overwritten."""
    stem, dot, suffix = name.rpartition(".")
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stem}.{stamp}.{suffix}" if dot else f"{name}.{stamp}"
