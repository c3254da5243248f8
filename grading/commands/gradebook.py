"""`tiny gradebook EXPORTS... --roster classroom_roster.csv`: one gradebook from grade exports.

Reads each export — a GitHub Classroom grade CSV per tier assignment, or what
grading/grade_imports.py reads: a Classroom 50 scores.json or `gh teacher download`'s
scores.csv, a Gradescope grade CSV, a folder (or zip) of results.json artifacts — the
Classroom roster and the course configuration (tiers, deadlines, points), and writes into
--out:

  gradebook.csv   one row per student: points per tier, submission time, late flag, total
  canvas.csv      the same points as a Canvas gradebook import
  report.txt      unmatched students, duplicate rows kept/dropped, a platform's late flag
                  where it differs from the course deadline, how Canvas will match each
                  column of canvas.csv, warnings (also printed)

Formats: grading/gradebook_inputs.py (read) and grading/gradebook_render.py (written); the
rules for matching students and assignments: grading/gradebook.py.
Running it again on the same inputs changes nothing; when an output would change, the old
file is first renamed to `<name>.<UTC time>.<ext>` beside it, never lost.

Exit code: 0 written (unmatched students and duplicates are reported, not fatal);
2 an input could not be read (the message names file and line) or a bad option.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from grading.course_config import COURSE_CONFIG, CourseConfig, CourseConfigError
from grading.course_config import load_course_config as load_config
from grading.course_modules import ModuleMetaError, load_module_meta
from grading.grade_imports import (
    GradeImportError,
    GradeRecord,
    detect_format,
    read_grade_source,
)
from grading.gradebook import GradebookInputError, Submission, assign_tiers, build_gradebook
from grading.gradebook_inputs import (
    looks_like_classroom_csv,
    parse_classroom_grades,
    parse_mapping,
    parse_roster,
    parse_timestamp,
)
from grading.gradebook_render import (
    CANVAS_ID_COLUMNS,
    backup_name,
    canvas_matching,
    render_canvas,
    render_gradebook,
    render_report,
)
from grading.repo import REPO_ROOT

HELP = "merge grade exports and the roster into gradebook.csv and a Canvas import (staff)"
OUTPUTS = ("gradebook.csv", "canvas.csv", "report.txt")
# Platforms whose GradeRecord.student is a GitHub login (grading/grade_imports.py).
GITHUB_LOGIN_PLATFORMS = ("classroom50", "tinytorch-results")


def add_arguments(parser) -> None:
    parser.add_argument(
        "exports",
        nargs="+",
        type=Path,
        metavar="EXPORT",
        help="grade exports: GitHub Classroom grade CSVs (one per tier assignment), Classroom 50 "
        "scores.json or scores.csv, Gradescope grade CSVs, folders or zips of results.json "
        "artifacts",
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
        help="Canvas assignment id of a tier, the number in its address (without one, the "
        "first import creates an assignment with the tier's title and later ones match it by "
        "title)",
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


def from_grade_record(record: GradeRecord) -> Submission:
    """A record of another platform (grading/grade_imports.py) as a Submission: its
    `student` is a GitHub login for Classroom 50 and results artifacts, a roster-style
    identifier (Gradescope's SID, else e-mail) for Gradescope; its `assignment` is mapped to
    a tier like a Classroom assignment name (results artifacts already name the tier)."""
    github = record.platform in GITHUB_LOGIN_PLATFORMS
    submitted = None
    if record.submitted_at:
        submitted = parse_timestamp(record.submitted_at, record.source)
    return Submission(
        where=record.source,
        assignment=record.assignment,
        github_username=record.student if github else "",
        roster_identifier="" if github else record.student,
        submitted_at=submitted,
        points=float(record.points) if record.points is not None else None,
        possible=float(record.max_points),
        email=record.email,
        name=record.name,
        late=record.late,
        platform=record.platform,
    )


def read_export(path: Path, config: CourseConfig) -> list[Submission]:
    """Every grade in one export: a GitHub Classroom grade CSV (read here), else whatever
    grading/grade_imports.py reads. Raises GradebookInputError (file and line)."""
    if path.is_file() and path.suffix.lower() == ".csv":
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as error:
            raise GradebookInputError(f"{path}: cannot read: {error}") from None
        except UnicodeDecodeError as error:
            raise GradebookInputError(f"{path}: not UTF-8 text: {error}") from None
        if looks_like_classroom_csv(text):
            return parse_classroom_grades(text, str(path))
    if not path.exists():
        raise GradebookInputError(f"{path}: no such file or folder")
    if detect_format(path) is None:
        raise GradebookInputError(
            f"{path}: not a grade export tiny gradebook reads: a GitHub Classroom grade CSV "
            f"(assignment_name, ..., points_awarded, points_available), a Classroom 50 "
            f"scores.json or scores.csv, a Gradescope grade CSV, or a folder or zip of "
            f"results.json files"
        )
    try:
        records = read_grade_source(path, course=config)
    except GradeImportError as error:
        raise GradebookInputError(str(error)) from None
    return [from_grade_record(record) for record in records]


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
            submissions += read_export(path, config)
        placed = assign_tiers(submissions, config.tiers, explicit)
        book = build_gradebook(
            placed, roster, config.tiers, configured_points(config, REPO_ROOT / "modules")
        )
        canvas, left_out = render_canvas(book, canvas_ids, args.canvas_id_column, args.missing_zero)
    except (GradebookInputError, CourseConfigError) as error:
        print(f"tiny gradebook: {error}", file=sys.stderr)
        return 2
    report = render_report(book, left_out, canvas_matching(book, canvas_ids, args.canvas_id_column))
    texts = dict(zip(OUTPUTS, (render_gradebook(book), canvas, report), strict=True))
    now = now or dt.datetime.now(dt.timezone.utc)
    print(report, end="")
    for name, text in texts.items():
        print(f"{args.out / name}: {write_keeping_backup(args.out / name, text, now)}")
    return 0
