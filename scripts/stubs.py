"""Solution regions: find them, replace them by stubs, or drop only their markers.

A region is the lines between `### BEGIN SOLUTION NN.k` and `### END SOLUTION` (markers on
lines of their own, inside a function body). For students each region becomes one line at
the BEGIN marker's indentation:

    raise NotImplementedError("exercise NN.k name: hint")

with the name and hint from module.yaml, so a failing test, the stub and the points table
name the same exercise. Malformed regions (nested, unterminated, unknown id) raise
StubError naming the file and line: a broken region must never ship half a solution.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from grading.course_modules import Exercise

BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION(?:[ \t]+(?P<id>\S+))?[ \t]*$")
END = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")
MARKER = re.compile(r"###\s*(BEGIN|END) SOLUTION")


class StubError(ValueError):
    """A solution region that cannot be stubbed safely; the message names file and line."""


@dataclass(frozen=True)
class Region:
    exercise_id: str
    indent: str
    begin: int  # 0-based line index of the BEGIN marker
    end: int  # 0-based line index of the END marker
    body: tuple[str, ...]  # the solution lines between the markers


def find_regions(text: str, where: Path | str = "<text>") -> list[Region]:
    """Every solution region of `text`, in order; StubError on a malformed one."""
    regions = []
    open_at: int | None = None
    indent = exercise_id = ""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if open_at is not None:
                raise StubError(
                    f"{where}:{number + 1}: BEGIN SOLUTION inside the region opened at line "
                    f"{open_at + 1}; close it with '### END SOLUTION' first"
                )
            if not begin.group("id"):
                raise StubError(
                    f"{where}:{number + 1}: BEGIN SOLUTION needs the exercise id, "
                    f"e.g. '### BEGIN SOLUTION 01.2'"
                )
            open_at, indent, exercise_id = number, begin.group("indent"), begin.group("id")
        elif end:
            if open_at is None:
                raise StubError(f"{where}:{number + 1}: END SOLUTION without a BEGIN SOLUTION")
            regions.append(
                Region(exercise_id, indent, open_at, number, tuple(lines[open_at + 1 : number]))
            )
            open_at = None
        elif MARKER.search(line):
            raise StubError(
                f"{where}:{number + 1}: a solution marker must stand alone on its line as "
                f"'### BEGIN SOLUTION NN.k' or '### END SOLUTION', got {line.strip()!r}"
            )
    if open_at is not None:
        raise StubError(f"{where}:{open_at + 1}: BEGIN SOLUTION {exercise_id} is never closed")
    return regions


def stub_line(indent: str, exercise: Exercise) -> str:
    """The one line that replaces a region: names the exercise and gives the hint."""
    message = f"exercise {exercise.label}" + (f": {exercise.hint}" if exercise.hint else "")
    literal = '"' + message.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{indent}raise NotImplementedError({literal})"


def strip_solutions(
    text: str, exercises: dict[str, Exercise], where: Path | str = "<text>"
) -> tuple[str, list[Region]]:
    """`text` with every region replaced by its stub line, and the regions removed.

    `exercises` maps the ids a region may name (the module's own) to their module.yaml entry.
    Cost: one pass over the lines.
    """
    regions = find_regions(text, where)
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    position = 0
    for region in regions:
        exercise = exercises.get(region.exercise_id)
        if exercise is None:
            known = ", ".join(exercises) or "none"
            raise StubError(
                f"{where}:{region.begin + 1}: BEGIN SOLUTION {region.exercise_id} names no "
                f"exercise of this module's module.yaml (known: {known})"
            )
        out.extend(lines[position : region.begin])
        out.append(stub_line(region.indent, exercise) + "\n")
        position = region.end + 1
    out.extend(lines[position:])
    return "".join(out), regions


def drop_markers(text: str, where: Path | str = "<text>") -> str:
    """`text` with the solution kept and only the marker lines removed (reference copies)."""
    find_regions(text, where)  # refuse malformed regions here too
    kept = [
        line
        for line in text.splitlines(keepends=True)
        if not (BEGIN.match(line) or END.match(line))
    ]
    return "".join(kept)
