"""Grades back out of the platforms: every grade source as one list of `GradeRecord`s.

    read_grade_source(path, *, assignment=None, course=None) -> list[GradeRecord]
    detect_format(path) -> "classroom50-scores" | "gradescope-csv" | "tinytorch-results" | None

`tiny gradebook` merges these records with GitHub Classroom's CSV exports; the parsers here
are pure (`parse_classroom50_scores`, `parse_gradescope_csv`, `records_from_results`: text
or parsed documents in, records out) and `read_grade_source` is the thin shell that reads
the files. Malformed input raises GradeImportError naming the file and the place: a JSON
path (`assignments.foundation.entries[2].submissions[0].score`) or a CSV line and column.
Points are whole numbers end to end: a fractional score is rejected, not rounded.

GradeRecord — one student's grade for one assignment (frozen dataclass; keep the name):
    student       str  the student's key on that platform: GitHub login for Classroom 50
                       and for results artifacts, Gradescope's SID (else the e-mail)
    assignment    str  Classroom 50 assignment slug; Gradescope: the `assignment` argument,
                       else the file name without `_scores.csv`; results artifacts: the
                       course tier of the modules (with `course`), else module.yaml's tier,
                       or the `assignment` argument for all of them
    points        int | None  points earned; None when there is no graded submission
                       (Gradescope "Missing"/"Ungraded")
    max_points    int  points possible
    submitted_at  str | None  submission time, UTC 'YYYY-MM-DDTHH:MM:SSZ'; None when the
                       source does not say (results artifacts carry no time)
    platform      str  "classroom50" | "gradescope" | "tinytorch-results"
    source        str  where the record came from: file plus JSON path or CSV line
    email, name   str  when the platform has them, else ""
    late          bool | None  the platform's own lateness flag, when it has one

Formats read:
- Classroom 50 `<classroom>/scores.json` (`classroom50/scores/v1`, schema
  grading/schemas/classroom50_scores.v1.schema.json; confirmed in foundation50/classroom50
  `cli/gh-teacher/skeleton/dotgithub/scripts/collect_scores.py`): `assignments` maps each
  slug to `{type, entries}`; an entry is one student repository (`owner`, for group work
  `member_usernames`, `override`) with `submissions` newest first, each a published
  result.json (`score`, `max-score`, `datetime`, `late`). The newest submission is the
  grade (an override entry's too); a group entry gives one record per credited member.
  The earlier published shape, a flat `submissions` list of rows with `assignment` and
  `usernames`, is read too.
- Gradescope's per-assignment "Download Grades" CSV (columns confirmed in public code that
  reads it): First Name, Last Name (or Name), SID, Email, Sections, Total Score, Max Points,
  Status (Graded / Ungraded / Missing), Submission ID, Submission Time
  ('2027-03-01 12:00:00 -0500'), Lateness (H:M:S), View Count, Submission Count, then one
  column per question. Assumption: the file is named '<assignment>_scores.csv' as
  Gradescope names it; pass `assignment` otherwise.
- A folder of our own results artifacts (`tinytorch/results/v1`, e.g. the `grading-results`
  artifacts of the GitHub workflow, or `.tinytorch/results/` folders): one folder or `.zip`
  per student, named after the student (as GitHub's artifact download and `tiny grade-batch`
  lay them out), any number of `results.json` inside (one per module is what the workflow
  writes). A module found twice with different points is an error.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grading.course_config import CourseConfig
from grading.schemas import SchemaError, validate
from grading.submission import dotted

SCORES_SCHEMA = "classroom50/scores/v1"
RESULTS_SCHEMA = "tinytorch/results/v1"
RESULTS_FILE = "results.json"
GRADESCOPE_REQUIRED = ("Total Score", "Max Points", "Status")
GRADESCOPE_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S%z")
MAX_ZIP_DEPTH = 2
MAX_MEMBER_BYTES = 20 * 1024 * 1024


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


# ---- shared checks ---------------------------------------------------------------------------


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


# ---- Classroom 50 scores.json -----------------------------------------------------------------


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


# ---- Gradescope CSV --------------------------------------------------------------------------


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


# ---- our own results artifacts ------------------------------------------------------------


def student_of(relative: str) -> str | None:
    """The student a results file belongs to: the first folder (or zip, without '.zip') of
    its path inside the artifacts folder; None for a file at the top level."""
    parts = PurePosixPath(relative.replace("!", "/")).parts
    return parts[0].removesuffix(".zip") if len(parts) > 1 else None


def records_from_results(
    found: list[tuple[str, dict]],
    assignment: str | None = None,
    course: CourseConfig | None = None,
    base: str = "",
) -> list[GradeRecord]:
    """Pure: one record per (student, assignment) from (source, results object) pairs,
    `source` being the path inside the artifacts folder ('alice/01/results.json'), which
    messages and records show after `base` (the folder, e.g. 'artifacts/')."""
    modules: dict[tuple[str, str], dict[str, tuple[str, dict]]] = {}
    for relative, results in found:
        student = student_of(relative)
        source = f"{base}{relative}"
        if student is None:
            raise GradeImportError(
                f"{source}: cannot tell whose results these are: put each student's artifacts "
                f"in a folder (or zip) named after the student"
            )
        if not isinstance(results, dict) or results.get("schema") != RESULTS_SCHEMA:
            got = results.get("schema") if isinstance(results, dict) else type(results).__name__
            raise GradeImportError(f"{source}: schema: expected {RESULTS_SCHEMA!r}, got {got!r}")
        try:
            validate("results", results, source)
        except SchemaError as error:
            raise GradeImportError(str(error)) from None
        for module in results["modules"]:
            if assignment is not None:
                slug = assignment
            elif course is not None and course.tier_of_module(module["number"]) is not None:
                slug = course.tier_of_module(module["number"]).slug
            else:
                slug = module["tier"]
            seen = modules.setdefault((student, slug), {})
            earlier = seen.get(module["key"])
            if earlier is not None and earlier[1]["points"] != module["points"]:
                raise GradeImportError(
                    f"{source}: module {module['key']} is also in {earlier[0]} with other "
                    f"points ({earlier[1]['points']} vs {module['points']}): keep one run "
                    f"per student"
                )
            seen.setdefault(module["key"], (source, module))
    records = []
    for (student, slug), by_key in sorted(modules.items()):
        sources = sorted({source for source, _ in by_key.values()})
        records.append(
            GradeRecord(
                student=student,
                assignment=slug,
                points=sum(m["points"]["earned"] for _, m in by_key.values()),
                max_points=sum(m["points"]["possible"] for _, m in by_key.values()),
                submitted_at=None,
                platform="tinytorch-results",
                source=", ".join(sources),
            )
        )
    return records


def _json(data: bytes, source: str):
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise GradeImportError(f"{source}: not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise GradeImportError(
            f"{source}: line {error.lineno}, column {error.colno}: not valid JSON: {error.msg}"
        ) from None


def _results_in_zip(source: str, data: bytes, depth: int) -> list[tuple[str, dict]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise GradeImportError(f"{source}: not a readable zip file") from None
    found = []
    with archive:
        for info in archive.infolist():
            inner = f"{source}!{info.filename}"
            if info.is_dir() or info.file_size > MAX_MEMBER_BYTES:
                continue
            if PurePosixPath(info.filename).name == RESULTS_FILE:
                found.append((inner, _json(archive.read(info), inner)))
            elif info.filename.lower().endswith(".zip") and depth < MAX_ZIP_DEPTH:
                found += _results_in_zip(inner, archive.read(info), depth + 1)
    return found


def collect_results(folder: Path) -> list[tuple[str, dict]]:
    """Every results.json under `folder` (files and zips), as (relative source, document)."""
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(folder).as_posix()
        if path.name == RESULTS_FILE:
            found.append((relative, _json(path.read_bytes(), str(path))))
        elif path.suffix.lower() == ".zip":
            found += _results_in_zip(relative, path.read_bytes(), depth=1)
    return found


# ---- the shell ------------------------------------------------------------------------------


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
        return "gradescope-csv" if all(c in header for c in GRADESCOPE_REQUIRED) else None
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
        document = _json(path.read_bytes(), str(path))
        schema = document.get("schema") if isinstance(document, dict) else None
        if schema not in (SCORES_SCHEMA, RESULTS_SCHEMA):
            raise GradeImportError(
                f"{path}: schema: {schema!r} is not a format this reader knows "
                f"({SCORES_SCHEMA}, {RESULTS_SCHEMA})"
            )
    if kind == "classroom50-scores":
        return parse_classroom50_scores(_json(path.read_bytes(), str(path)), str(path))
    if kind == "gradescope-csv":
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise GradeImportError(f"{path}: byte {error.start}: not UTF-8 text") from None
        slug = assignment or gradescope_assignment(path.name)
        return parse_gradescope_csv(text, str(path), slug)
    if kind == "tinytorch-results":
        if path.is_dir():
            found, base = collect_results(path), f"{path}/"
        elif path.suffix.lower() == ".zip":  # one student's zip: its name is the student
            found, base = _results_in_zip(path.name, path.read_bytes(), depth=1), f"{path.parent}/"
        else:  # one results.json: the folder holding it is the student's
            found = [(f"{path.parent.name}/{path.name}", _json(path.read_bytes(), str(path)))]
            base = f"{path.parent.parent}/"
        if not found:
            raise GradeImportError(f"{path}: no {RESULTS_FILE} inside")
        return records_from_results(found, assignment, course, base)
    raise GradeImportError(
        f"{path}: not a grade source this reader knows (Classroom 50 scores.json, Gradescope "
        f"grade CSV, or a folder of results.json artifacts)"
    )
