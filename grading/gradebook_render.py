"""What `tiny gradebook` writes: gradebook.csv, canvas.csv, report.txt (pure: values in, text out).

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
  chosen); Student is the roster name, else the identifier. A tier a student never
  submitted, or whose points were never recorded, is left empty (Canvas then keeps what it
  has), or 0 on request (--missing-zero).

  How Canvas matches an assignment column (instructure/canvas-lms GradebookImporter
  `parse_assignments` with `Assignment.title_and_id`): a header ending in " (<digits>)" is
  matched by that assignment id; any other header by an assignment whose title is the whole
  header, exactly; only when neither exists does Canvas create a new assignment. So a tier
  with `--canvas-assignment TIER=ID` always lands in that assignment, and a tier without one
  is written under its title alone: the first import creates the assignment with that title
  and every later import matches it by title, so re-imports never add assignments. An id
  must be the number in the assignment's URL (.../assignments/4757); anything else, and a
  tier title that itself ends in " (<digits>)" (Canvas would read it as an id), is refused.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence

from grading.course_config import Tier
from grading.gradebook import (
    UTC,
    Gradebook,
    GradebookInputError,
    StudentRow,
    format_points,
    format_time,
)

CANVAS_FIXED = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_POSSIBLE = "    Points Possible"
CANVAS_ID_COLUMNS = {"sis_user_id": "SIS User ID", "sis_login_id": "SIS Login ID", "id": "ID"}


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


CANVAS_TITLE_AND_ID = re.compile(r"\A(.*)\s\((\d+)\)\Z", re.DOTALL)  # as Canvas reads a header


def canvas_header(tier: Tier, assignment_ids: dict[str, str]) -> str:
    """'Title (4757)' for a tier with a Canvas assignment id, else the title alone (matched
    by title on import). Raises GradebookInputError for a header Canvas would misread."""
    canvas_id = assignment_ids.get(tier.slug)
    if canvas_id is not None:
        if not canvas_id.isdigit() or not canvas_id.isascii():
            raise GradebookInputError(
                f"--canvas-assignment {tier.slug}={canvas_id}: a Canvas assignment id is the "
                f"number at the end of the assignment's address (.../assignments/4757); Canvas "
                f"would match {canvas_id!r} as part of a title instead"
            )
        return f"{tier.title} ({canvas_id})"
    if CANVAS_TITLE_AND_ID.match(tier.title):
        raise GradebookInputError(
            f"tier {tier.slug}: its title {tier.title!r} ends in a number in parentheses, which "
            f"Canvas reads as an assignment id: give the tier's Canvas assignment with "
            f"--canvas-assignment {tier.slug}=<id>, or change the title in course.yaml"
        )
    return tier.title


def canvas_matching(
    book: Gradebook, assignment_ids: dict[str, str], id_column: str = "sis_user_id"
) -> list[str]:
    """Report lines saying how Canvas will match each column of canvas.csv."""
    lines = [
        f"\ncanvas.csv: Canvas matches students by the {CANVAS_ID_COLUMNS[id_column]} column "
        f"(the roster identifier) and assignments by column header:"
    ]
    for tier in book.tiers:
        canvas_id = assignment_ids.get(tier.slug)
        if canvas_id:
            lines.append(f"  {tier.slug}: assignment id {canvas_id}")
        else:
            lines.append(
                f"  {tier.slug}: the assignment titled exactly {tier.title!r} (created by the "
                f"first import, matched by title after that; or pass --canvas-assignment "
                f"{tier.slug}=<id>)"
            )
    return lines


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


def render_report(
    book: Gradebook,
    left_out_of_canvas: Sequence[StudentRow] = (),
    canvas_notes: Sequence[str] = (),
) -> str:
    """What the instructor should look at: unmatched students, duplicates, lateness the
    platforms judge otherwise, how canvas.csv will be matched, warnings."""
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
    out += lateness_report(book)
    if left_out_of_canvas:
        out.append(f"\nNot in canvas.csv, no roster identifier ({len(left_out_of_canvas)}):")
        out += [f"  {r.github_username}" for r in left_out_of_canvas]
    out += canvas_notes
    if book.warnings:
        out.append("\nWarnings:")
        out += [f"  {w}" for w in book.warnings]
    return "\n".join(out) + "\n"


PLATFORM_NAMES = {"classroom50": "Classroom 50", "gradescope": "Gradescope"}


def lateness_report(book: Gradebook) -> list[str]:
    """Report lines: each tier grade whose platform flags lateness differently from the
    course's deadline (both shown, the course's counts), and how many agree."""
    agree, differ = 0, []
    for row in book.rows:
        for slug, grade in row.tiers.items():
            if grade.platform_late is None:
                continue
            if grade.platform_late == grade.late:
                agree += 1
                continue
            who = row.identifier or row.github_username
            platform = PLATFORM_NAMES.get(grade.platform, grade.platform or "the platform")
            differ.append(
                f"  {who}, tier {slug}: {platform} says {word(grade.platform_late)}, the course "
                f"deadline says {word(grade.late)} (submitted "
                f"{format_time(grade.submitted_at) or 'at an unknown time'}; {grade.where})"
            )
    if not agree and not differ:
        return []
    lines = [
        f"\nLateness, the platform's flag beside the course deadline: {agree} agree, "
        f"{len(differ)} differ (gradebook.csv counts the course deadline)"
    ]
    return lines + differ


def word(late: bool) -> str:
    return "late" if late else "on time"


def backup_name(name: str, now: dt.datetime) -> str:
    """'gradebook.csv' -> 'gradebook.20270308T101500Z.csv' (UTC), for the copy kept before
    a changed file is overwritten."""
    stem, dot, suffix = name.rpartition(".")
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stem}.{stamp}.{suffix}" if dot else f"{name}.{stamp}"
