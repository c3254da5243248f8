"""`tiny gradebook EXPORTS... --roster classroom_roster.csv`: one gradebook from grade exports.

Reads each export (a GitHub Classroom grade CSV per tier assignment; exports of other
platforms through grading/grade_imports.py when it is present), the Classroom roster and
the course configuration (tiers, deadlines, points), and writes into --out:

  gradebook.csv   one row per student: points per tier, submission time, late flag, total
  canvas.csv      the same points as a Canvas gradebook import
  report.txt      unmatched students, duplicate rows kept/dropped, warnings (also printed)

Formats and the rules for matching students and assignments: grading/gradebook.py.
Running it again on the same inputs changes nothing; when an output would change, the old
file is first renamed to `<name>.<UTC time>.<ext>` beside it, never lost.

Exit code: 0 written (unmatched students and duplicates are reported, not fatal);
2 an input could not be read (the message names file and line) or a bad option.
"""

from __future__ import annotations

import datetime as dt
import importlib
import sys
from pathlib import Path

from grading.course_config import COURSE_CONFIG, CourseConfig, CourseConfigError
from grading.course_config import load_course_config as load_config
from grading.course_modules import ModuleMetaError, load_module_meta
from grading.gradebook import (
    CANVAS_ID_COLUMNS,
    GradebookInputError,
    Submission,
    assign_tiers,
    backup_name,
    build_gradebook,
    looks_like_classroom_csv,
    parse_classroom_grades,
    parse_mapping,
    parse_roster,
    parse_timestamp,
    render_canvas,
    render_gradebook,
    render_report,
)
from grading.repo import REPO_ROOT

HELP = "merge grade exports and the roster into gradebook.csv and a Canvas import (staff)"
OUTPUTS = ("gradebook.csv", "canvas.csv", "report.txt")
# Readers of other platforms' exports (issue 8): `read_grade_source(path) -> list[GradeRecord]`.
OTHER_SOURCES_MODULE = "grading.grade_imports"


def add_arguments(parser) -> None:
    parser.add_argument(
        "exports",
        nargs="+",
        type=Path,
        metavar="EXPORT",
        help="grade exports: GitHub Classroom grade CSVs (one per tier assignment), and the "
        "formats grading/grade_imports.py reads",
    )
    parser.add_argument("--roster", type=Path, help="GitHub Classroom roster CSV")
    parser.add_argument(
        "--config",
        type=Path,
        default=REPO_ROOT / COURSE_CONFIG,
        help="course configuration: tiers, deadlines, points (default: template/course.yaml)",
    )
    parser.add_argument("--out", type=Path, default=Path("out/gradebook"), help="output folder")
    parser.add_argument(
        "--assignment",
        action="append",
        default=[],
        metavar="NAME=TIER",
        help="map an assignment name to a tier slug (default: the tier its name contains)",
    )
    parser.add_argument(
        "--canvas-assignment",
        action="append",
        default=[],
        metavar="TIER=ID",
        help="Canvas assignment id of a tier (without one, importing creates the assignment)",
    )
    parser.add_argument(
        "--canvas-id-column",
        choices=sorted(CANVAS_ID_COLUMNS),
        default="sis_user_id",
        help="Canvas column that holds the roster identifier (default: sis_user_id)",
    )
    parser.add_argument(
        "--missing-zero",
        action="store_true",
        help="write 0 into canvas.csv for a tier never submitted (default: leave it empty)",
    )


# ---- reading ---------------------------------------------------------------------------------


def other_source_reader():
    """`read_grade_source` of grading/grade_imports.py, or None when it is not installed."""
    try:
        module = importlib.import_module(OTHER_SOURCES_MODULE)
    except ModuleNotFoundError as error:
        if error.name != OTHER_SOURCES_MODULE:
            raise
        return None
    return getattr(module, "read_grade_source", None)


def _get(record, *names: str, default=None):
    """The first attribute (or mapping key) of `record` among `names` that is set."""
    for name in names:
        value = record.get(name) if isinstance(record, dict) else getattr(record, name, None)
        if value not in (None, ""):
            return value
    return default


def from_grade_record(record, where: str) -> Submission:
    """A GradeRecord of grading/grade_imports.py as a Submission. The field names are read
    leniently (that module is written in parallel); a missing student or tier is an error."""
    submitted = _get(record, "submitted_at", "submission_time", "timestamp")
    if isinstance(submitted, str):
        submitted = parse_timestamp(submitted, where)
    elif isinstance(submitted, dt.datetime) and submitted.tzinfo is None:
        submitted = submitted.replace(tzinfo=dt.timezone.utc)
    points = _get(record, "points", "points_awarded", "score")
    possible = _get(record, "possible", "points_possible", "points_available", "max_score")
    submission = Submission(
        where=str(_get(record, "source", "where", default=where)),
        assignment=str(_get(record, "assignment", "assignment_name", "tier", default="")),
        github_username=str(_get(record, "github_username", "github", "username", default="")),
        roster_identifier=str(
            _get(record, "roster_identifier", "identifier", "student_id", "email", default="")
        ),
        repository=str(_get(record, "repository", "repo", default="")),
        submitted_at=submitted,
        points=float(points) if points is not None else None,
        possible=float(possible) if possible is not None else None,
        tier=_get(record, "tier", "tier_slug"),
    )
    if not (submission.github_username or submission.roster_identifier):
        raise GradebookInputError(f"{where}: a grade record names no student")
    if not (submission.tier or submission.assignment):
        raise GradebookInputError(f"{where}: a grade record names no assignment or tier")
    return submission


def read_export(path: Path) -> list[Submission]:
    """Every grade in one export file. Raises GradebookInputError (file and line)."""
    try:
        text = path.read_text(encoding="utf-8-sig") if path.suffix.lower() == ".csv" else None
    except OSError as error:
        raise GradebookInputError(f"{path}: cannot read: {error}") from None
    except UnicodeDecodeError as error:
        raise GradebookInputError(f"{path}: not UTF-8 text: {error}") from None
    if text is not None and looks_like_classroom_csv(text):
        return parse_classroom_grades(text, str(path))
    reader = other_source_reader()
    if reader is None:
        raise GradebookInputError(
            f"{path}:1: not a GitHub Classroom grade export (its header lacks assignment_name, "
            f"points_awarded, points_available), and grading/grade_imports.py, which reads "
            f"other platforms' exports, is not installed here"
        )
    try:
        records = reader(path)
    except (ValueError, OSError) as error:
        message = str(error)
        raise GradebookInputError(
            message if message.startswith(str(path)) else f"{path}: {message}"
        ) from None
    return [from_grade_record(r, f"{path}:{i + 1}") for i, r in enumerate(records)]


def configured_points(config: CourseConfig, modules_root: Path) -> dict[str, float]:
    """Tier slug -> points possible per the configuration, for tiers whose modules all exist."""
    points = {}
    for tier in config.tiers:
        total = 0
        for number in tier.modules:
            folders = sorted(modules_root.glob(f"{number:02d}_*/module.yaml"))
            try:
                meta = load_module_meta(folders[0].parent, check_files=False) if folders else None
            except ModuleMetaError:
                meta = None
            if meta is None:
                break
            total += config.module_points(meta)
        else:
            points[tier.slug] = float(total)
    return points


# ---- writing ---------------------------------------------------------------------------------


def write_keeping_backup(path: Path, text: str, now: dt.datetime) -> str:
    """Write `text` to `path`; an existing different file is renamed first. Returns what
    happened: 'written', 'unchanged' or 'updated (old copy: <name>)'."""
    if path.exists():
        if path.read_text(encoding="utf-8") == text:
            return "unchanged"
        backup = path.with_name(backup_name(path.name, now))
        counter = 1
        while backup.exists():
            backup = path.with_name(backup_name(path.name, now) + f".{counter}")
            counter += 1
        path.rename(backup)
        path.write_text(text, encoding="utf-8")
        return f"updated (old copy: {backup.name})"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return "written"


def run(args, now: dt.datetime | None = None) -> int:
    try:
        config = load_config(args.config)
        roster = None
        if args.roster is not None:
            try:
                roster_text = args.roster.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as error:
                raise GradebookInputError(f"{args.roster}: cannot read: {error}") from None
            roster = parse_roster(roster_text, str(args.roster))
        explicit = parse_mapping(args.assignment, "--assignment")
        canvas_ids = parse_mapping(args.canvas_assignment, "--canvas-assignment")
        submissions: list[Submission] = []
        for path in args.exports:
            submissions += read_export(path)
        placed = assign_tiers(submissions, config.tiers, explicit)
        book = build_gradebook(
            placed, roster, config.tiers, configured_points(config, REPO_ROOT / "modules")
        )
        canvas, left_out = render_canvas(book, canvas_ids, args.canvas_id_column, args.missing_zero)
    except (GradebookInputError, CourseConfigError) as error:
        print(f"tiny gradebook: {error}", file=sys.stderr)
        return 2
    report = render_report(book, left_out)
    texts = dict(zip(OUTPUTS, (render_gradebook(book), canvas, report), strict=True))
    now = now or dt.datetime.now(dt.timezone.utc)
    print(report, end="")
    for name, text in texts.items():
        print(f"{args.out / name}: {write_keeping_backup(args.out / name, text, now)}")
    return 0
