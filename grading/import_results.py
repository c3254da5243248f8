"""Folders (or zips) of our own results artifacts (`tinytorch/results/v1`) → GradeRecords.

For example the `grading-results` artifacts of the GitHub workflow, or `.tinytorch/results/`
folders: one folder or `.zip` per student, named after the student (as GitHub's artifact
download and `tiny grade-batch` lay them out), any number of `results.json` inside (one
per module is what the workflow writes). A module found twice with different points is an
error.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path, PurePosixPath

from grading.course_config import CourseConfig
from grading.grade_records import GradeImportError, GradeRecord, whole_points
from grading.schemas import SchemaError, validate

RESULTS_SCHEMA = "tinytorch/results/v1"
RESULTS_FILE = "results.json"
MAX_ZIP_DEPTH = 2
MAX_MEMBER_BYTES = 20 * 1024 * 1024


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
        for index, module in enumerate(results["modules"]):
            earned, possible = module["points"]["earned"], module["points"]["possible"]
            where = f"{source}: modules[{index}].points"
            if whole_points(earned, where) > whole_points(possible, where):
                raise GradeImportError(f"{where}: earned {earned} is above possible {possible}")
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


def read_json(data: bytes, source: str):
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise GradeImportError(f"{source}: not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise GradeImportError(
            f"{source}: line {error.lineno}, column {error.colno}: not valid JSON: {error.msg}"
        ) from None


def results_in_zip(source: str, data: bytes, depth: int) -> list[tuple[str, dict]]:
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
                found.append((inner, read_json(archive.read(info), inner)))
            elif info.filename.lower().endswith(".zip") and depth < MAX_ZIP_DEPTH:
                found += results_in_zip(inner, archive.read(info), depth + 1)
    return found


def collect_results(folder: Path) -> list[tuple[str, dict]]:
    """Every results.json under `folder` (files and zips), as (relative source, document)."""
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(folder).as_posix()
        if path.name == RESULTS_FILE:
            found.append((relative, read_json(path.read_bytes(), str(path))))
        elif path.suffix.lower() == ".zip":
            found += results_in_zip(relative, path.read_bytes(), depth=1)
    return found
