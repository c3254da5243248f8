"""The gradebook: grade exports + roster + course configuration -> one row per student.

Pure functions only (parse -> match -> render), one file per step:
    grading/gradebook_inputs.py   GitHub Classroom grade exports, the roster, NAME=VALUE maps
    grading/gradebook.py          the values, assignments to tiers, the merge (this file)
    grading/gradebook_render.py   gradebook.csv, canvas.csv, report.txt
`tiny gradebook` (grading/commands/gradebook.py) reads the files, writes the outputs and
keeps backups. Every reader rejects a malformed file with `file:line: what is wrong`
(GradebookInputError).

Other platforms' exports (Classroom 50 scores.json, Gradescope grade CSVs, folders of our
results.json artifacts) are read by grading/grade_imports.py; `tiny gradebook` turns each
of its GradeRecords into a Submission (grading/commands/gradebook.py `from_grade_record`).

Students are matched to the roster by roster_identifier (or the e-mail some platforms
give), else by github_username. A student with several rows for one tier (a re-accepted
assignment, two exports of the same assignment) keeps the row with the latest
submission_timestamp; each duplicate is reported.

A platform's own lateness flag (Classroom 50's `late`, Gradescope's Lateness) is kept beside
the course's judgement (submitted after the tier's deadline): the report lists where they
disagree; the course's deadline decides, the platform's flag only when no time is known.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from grading.course_config import Tier
from grading.gradebook_inputs import UTC, GradebookInputError, RosterEntry, Submission
from grading.gradebook_inputs import parse_roster as parse_roster  # grade_batch reads it here

_NON_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class TierGrade:
    """late: the course's judgement (after the tier's deadline); platform_late: the
    platform's own flag when it has one, with `platform` naming it."""

    points: float | None
    submitted_at: dt.datetime | None
    late: bool
    where: str
    platform_late: bool | None = None
    platform: str = ""


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


def slugify(text: str) -> str:
    """'TinyTorch: Foundation (2027)' -> 'tinytorch-foundation-2027', as Classroom slugs."""
    return _NON_SLUG.sub("-", text.lower()).strip("-")


def format_points(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def format_time(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
                submission.points,
                submission.submitted_at,
                late,
                submission.where,
                submission.late,
                submission.platform,
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
