"""Points in a results object can be trusted: checked when built and when read back.

    points_problems(results) -> [(where, problem)]   points above a maximum, negative,
                                                     fractional, or totals that do not add up
    load_results(path) -> dict                        read a results.json; a problem raises
                                                     ValueError naming `file:line`

`build_results` (grading/results.py) refuses to hand out a results object with a problem;
anything that reads one back from disk uses `load_results`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from grading.schemas import validate

_POINTS_KEY = re.compile(r'(?<!\\)"points"\s*:\s*\{')


def _points_in_order(value, where: str = "results"):
    """(where, points) for every `points` object, in the order they appear in the JSON."""
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{where}.{key}"
            if key == "points" and isinstance(item, dict):
                yield inner, item
            else:
                yield from _points_in_order(item, inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _points_in_order(item, f"{where}[{index}]")


def _points_problem(points: dict) -> str | None:
    earned, possible = points.get("earned"), points.get("possible")
    for name, number in (("earned", earned), ("possible", possible)):
        if not isinstance(number, int) or isinstance(number, bool):
            return f"{name} points must be a whole number, got {number!r}"
        if number < 0:
            return f"{name} points must not be negative, got {number}"
    if earned > possible:
        return f"{earned} points earned of a maximum of {possible}"
    return None


def points_problems(results: dict) -> list[tuple[str, str]]:
    """(where, problem) for every points object above its maximum, negative or fractional,
    and every total that is not the sum of its parts."""
    found = [
        (where, problem)
        for where, points in _points_in_order(results)
        if (problem := _points_problem(points))
    ]
    modules = results.get("modules") or []
    for index, module in enumerate(modules):
        parts = sum(e["points"]["earned"] for e in module.get("exercises", []))
        if module.get("exercises") and parts != module["points"]["earned"]:
            found.append((f"results.modules[{index}].points", "is not the sum of its exercises"))
    for side in ("earned", "possible"):
        if sum(m["points"][side] for m in modules) != results["points"][side]:
            found.append(("results.points", f"{side} is not the sum of the modules"))
    return found


def load_results(path) -> dict:
    """Read a results.json, validate it against the schema and its points; a problem raises
    ValueError naming `file:line` of the points object at fault."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        results = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}:{error.lineno}: not JSON: {error.msg}") from error
    lines = [text.count("\n", 0, m.start()) + 1 for m in _POINTS_KEY.finditer(text)]
    for index, (where, points) in enumerate(_points_in_order(results)):
        problem = _points_problem(points)
        if problem:  # before the schema, so the message can name the line
            line = lines[index] if index < len(lines) else 1
            raise ValueError(f"{path}:{line}: {where}: {problem}")
    validate("results", results, str(path))
    problems = points_problems(results)
    if problems:
        where, problem = problems[0]
        raise ValueError(f"{path}:1: {where}: {problem}")
    return results
