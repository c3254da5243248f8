"""Write course.yaml's point and timeout overrides into a copy of a module.yaml.

The template's module.yaml is then the one source the plugin, the grader and the points
table read, with the instructor's numbers in it. The text is edited line by line (comments
survive), and the result is loaded back and compared, so a format this editor does not
understand fails the build instead of shipping the wrong points.
"""

from __future__ import annotations

import re
from pathlib import Path

from grading.course_modules import load_module_meta

EXERCISE_START = re.compile(r"""^\s*-\s*id:\s*["']?(?P<id>\d\d\.\d+)["']?\s*$""")
POINTS_LINE = re.compile(r"^(?P<lead>\s*points:\s*)\d+(?P<tail>\s*(#.*)?)$")
TIMEOUT_LINE = re.compile(r"^timeout:\s*\d+(\s*#.*)?$")


class ModuleYamlError(ValueError):
    """The overrides could not be written into this module.yaml."""


def apply_overrides(text: str, points: dict[str, int], timeout: int | None) -> str:
    """module.yaml text with exercise points (id -> points) and the module timeout replaced."""
    lines = text.splitlines(keepends=True)
    current = None
    for i, line in enumerate(lines):
        if match := EXERCISE_START.match(line.rstrip("\n")):
            current = match["id"]
        elif current and (match := POINTS_LINE.match(line.rstrip("\n"))) and current in points:
            lines[i] = f"{match['lead']}{points[current]}{match['tail']}\n"
            current = None
        elif timeout is not None and TIMEOUT_LINE.match(line.rstrip("\n")):
            lines[i] = f"timeout: {timeout}\n"
            timeout = None
    if timeout is not None:  # module.yaml named no timeout: add one
        lines.append(f"timeout: {timeout}\n")
    return "".join(lines)


def write_module_yaml(
    source_folder: Path, dest_folder: Path, points: dict[str, int], timeout: int
) -> None:
    """Write dest_folder/module.yaml (the other module files must already be there)."""
    meta = load_module_meta(source_folder)
    changed_points = {e.id: points[e.id] for e in meta.exercises if points[e.id] != e.points}
    text = (source_folder / "module.yaml").read_text(encoding="utf-8")
    if changed_points or timeout != meta.timeout:
        text = apply_overrides(text, changed_points, timeout if timeout != meta.timeout else None)
    (dest_folder / "module.yaml").write_text(text, encoding="utf-8")
    written = load_module_meta(dest_folder)
    got = {e.id: e.points for e in written.exercises}
    if got != points or written.timeout != timeout:
        raise ModuleYamlError(
            f"{source_folder / 'module.yaml'}: could not write the course.yaml overrides "
            f"(wanted points {points} and timeout {timeout}, the copy reads {got} and "
            f"{written.timeout}); keep each exercise's 'points:' on its own line"
        )
