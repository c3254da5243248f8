"""`tiny leaderboard ARTIFACTS`: rank every capstone submission found in a folder.

Looks for files named `submission.json` anywhere under ARTIFACTS — in per-student folders,
in `.zip` archives as GitHub's artifact download produces them, and in zips inside zips
(one level). Each is validated (grading/submission.py); valid ones are ranked
(grading/leaderboard.py), invalid ones are listed with the reason. Writes
`leaderboard.md`, `leaderboard.csv` and `leaderboard.html` to --out.

Exit code: 0 written (even if some submissions are invalid: they are listed), 1 no
submission.json found at all, 2 bad option or unreadable folder.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

from grading.leaderboard import (
    DEFAULT_SORT,
    Entry,
    parse_sort,
    rank,
    render_csv,
    render_html,
    render_markdown,
    student_name,
)
from grading.submission import SubmissionError, parse_submission

HELP = "rank capstone submissions (folders or zips of submission.json) into Markdown, CSV, HTML"
FILE_NAME = "submission.json"
MAX_ZIP_DEPTH = 2
MAX_MEMBER_BYTES = 5 * 1024 * 1024  # a submission is a few kB; refuse anything huge


def add_arguments(parser) -> None:
    parser.add_argument("artifacts", type=Path, help="folder of downloaded artifacts")
    parser.add_argument("--out", type=Path, default=Path("out/leaderboard"), help="output folder")
    parser.add_argument(
        "--sort",
        default=DEFAULT_SORT,
        help=f"comma-separated field:asc|desc list (default {DEFAULT_SORT})",
    )
    parser.add_argument("--title", default="Capstone leaderboard", help="page title")


def _entry(source: str, data: bytes) -> Entry:
    """Validate the bytes of one submission.json found at `source`."""
    try:
        text = data.decode("utf-8")
        submission = parse_submission(text, source)
    except UnicodeDecodeError:
        return Entry(source, student_name(source, None), error="not UTF-8 text")
    except SubmissionError as error:
        reason = str(error).removeprefix(f"{source}: ")
        return Entry(source, student_name(source, None), error=reason)
    return Entry(source, student_name(source, submission), submission=submission)


def _from_zip(source: str, data: bytes, depth: int) -> list[Entry]:
    """Every submission.json in a zip (and in zips inside it, up to MAX_ZIP_DEPTH)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return [Entry(source, student_name(source + "!", None), error="not a readable zip file")]
    found: list[Entry] = []
    with archive:
        for info in archive.infolist():
            name = info.filename
            if info.is_dir() or info.file_size > MAX_MEMBER_BYTES:
                continue
            inner = f"{source}!{name}"
            if Path(name).name == FILE_NAME:
                found.append(_entry(inner, archive.read(info)))
            elif name.lower().endswith(".zip") and depth < MAX_ZIP_DEPTH:
                found += _from_zip(inner, archive.read(info), depth + 1)
    if not found and depth == 1:
        found.append(
            Entry(source, student_name(source + "!", None), error=f"no {FILE_NAME} in this zip")
        )
    return found


def collect(folder: Path) -> list[Entry]:
    """Every submission under `folder`, valid or not, in path order."""
    entries: list[Entry] = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        source = path.relative_to(folder).as_posix()
        if path.name == FILE_NAME:
            entries.append(_entry(source, path.read_bytes()))
        elif path.suffix.lower() == ".zip":
            entries += _from_zip(source, path.read_bytes(), depth=1)
    return entries


def run(args) -> int:
    try:
        keys = parse_sort(args.sort)
    except ValueError as error:
        print(f"tiny leaderboard: --sort: {error}", file=sys.stderr)
        return 2
    if not args.artifacts.is_dir():
        print(f"tiny leaderboard: no folder at {args.artifacts}", file=sys.stderr)
        return 2
    entries = collect(args.artifacts)
    if not entries:
        print(
            f"tiny leaderboard: no {FILE_NAME} (or zip holding one) under {args.artifacts}",
            file=sys.stderr,
        )
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    outputs = {
        "leaderboard.md": render_markdown(entries, keys, args.title),
        "leaderboard.csv": render_csv(entries, keys),
        "leaderboard.html": render_html(entries, keys, args.title),
    }
    for name, text in outputs.items():
        (args.out / name).write_text(text, encoding="utf-8")
    ranked = rank(entries, keys)
    rejected = [entry for entry in entries if entry.error is not None]
    for position, entry in ranked[:3]:
        print(f"  {position}. {entry.student}")
    for entry in rejected:
        print(f"  invalid: {entry.source}: {entry.error}", file=sys.stderr)
    print(
        f"leaderboard: {len(ranked)} valid, {len(rejected)} invalid submissions → "
        f"{args.out}/leaderboard.{{md,csv,html}}"
    )
    return 0
