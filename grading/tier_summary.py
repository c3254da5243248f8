"""One results object for a whole push: the per-module results of a tier's grader steps and
its milestone records, merged, so the job summary shows one total — the number the
Classroom reporter records.

    merge_tier(results, milestones, expected) -> results object (tinytorch/results/v1)

`results` are the results.json of the module steps, `milestones` the records the milestone
steps wrote, `expected` each module's full points as the workflow was built (`{1: 60}`). A
module expected but absent (its step crashed or never ran: the step then reported the
fallback result, 0 of its full points) is kept in the total as an error with those points,
so the summary and the reporter agree. Pure: reading the files is `read_tier`'s job.
"""

from __future__ import annotations

import json
from pathlib import Path

from grading.milestone_verdicts import VerdictError, parse_record
from grading.results import RunLimits, build_results, error_module
from grading.schemas import SchemaError, validate

MILESTONE_GLOB = "milestone-*.json"


class SummaryInputError(ValueError):
    """A results file that is not what a grader step writes; the message names it."""


def parse_expected(text: str) -> dict[int, int]:
    """'01=60,02=50' -> {1: 60, 2: 50}; raises SummaryInputError naming the bad part."""
    expected = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        number, _, points = part.partition("=")
        if not (number.isdigit() and points.isdigit()):
            raise SummaryInputError(f"--expect: '{part}' is not NN=POINTS (e.g. 01=60)")
        expected[int(number)] = int(points)
    return expected


def _missing_module(number: int, points: int) -> dict:
    message = (
        f"Module {number:02d} was not graded: its grader step left no result, so it counts "
        f"0 of {points} points. Open the step 'Module {number:02d}' of this run."
    )
    meta_like = {"number": number, "key": f"{number:02d}", "title": f"Module {number:02d}"}
    return error_module({**meta_like, "points": points}, message, RunLimits(0.0, 0.0, None))


def merge_tier(
    results: list[dict],
    milestones: list[dict],
    expected: dict[int, int],
    problems: list[str] | None = None,
) -> dict:
    """The tier's results: every expected module once (graded or missing), every milestone
    once, tamper findings and errors (with `problems` reading the files) without repeats."""
    modules: dict[int, dict] = {}
    errors: list[str] = list(problems or [])
    findings: dict[tuple[str, str], dict] = {}
    milestone_records: dict[int, dict] = {}
    for result in results:
        for module in result["modules"]:
            modules[module["number"]] = module
        for finding in result["tamper"]["findings"]:
            findings.setdefault((finding["path"], finding["kind"]), finding)
        for record in result["milestones"]:
            milestone_records[record["number"]] = record
        errors += [e for e in result["errors"] if e not in errors]
    for record in milestones:
        milestone_records[record["number"]] = record
    for number, points in expected.items():
        if number not in modules:
            modules[number] = _missing_module(number, points)
        elif modules[number]["points"]["possible"] != points:
            errors.append(
                f"Module {number:02d} was graded out of {modules[number]['points']['possible']} "
                f"points, but the course sets {points}: ask course staff to rebuild the template."
            )
    first = results[0] if results else None
    tamper = {
        "checked": bool(first and first["tamper"]["checked"]),
        "manifest": first["tamper"]["manifest"] if first else "not checked",
        "findings": list(findings.values()),
    }
    source = first["tests_source"] if first else {"kind": "working_tree", "detail": "not read"}
    ordered = [modules[n] for n in sorted(modules)]
    records = [milestone_records[n] for n in sorted(milestone_records)]
    return build_results(ordered, source, tamper, milestones=records, errors=errors)


def _results(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
        validate("results", value, str(path))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, SchemaError) as error:
        raise SummaryInputError(f"{path}: not a grader result ({error})") from error
    return value


def _milestone(path: Path) -> dict:
    try:
        return parse_record(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError, VerdictError) as error:
        raise SummaryInputError(str(error)) from error


def read_tier(folder: Path) -> tuple[list[dict], list[dict], list[str]]:
    """(module results, milestone records, problems) from a results folder: NN/results.json
    and milestone-N.json. An unreadable file is a problem, never a crash."""
    results, milestones, problems = [], [], []
    for path in sorted(folder.glob("*/results.json")):
        try:
            results.append(_results(path))
        except SummaryInputError as error:
            problems.append(str(error))
    for path in sorted(folder.glob(MILESTONE_GLOB)):
        try:
            milestones.append(_milestone(path))
        except SummaryInputError as error:
            problems.append(str(error))
    return results, milestones, problems
