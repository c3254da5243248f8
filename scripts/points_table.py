"""The points table of a tier: per module and per exercise, from module.yaml + course.yaml.

One function builds the rows; one renders them as Markdown; one reads a rendered table back
(the tests compare that with module.yaml, so the README cannot drift from the grader).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grading.course_config import CourseConfig
from grading.course_modules import ModuleMeta

MODULE_ROW = re.compile(r"^\| (?P<number>\d\d) \| .* \| (?P<points>\d+) \|$")
EXERCISE_ROW = re.compile(r"^\| `(?P<id>\d\d\.\d+)` \| .* \| (?P<points>\d+) \|$")
TOTAL_ROW = re.compile(r"^\| \*\*Total\*\* \|.*\| \*\*(?P<points>\d+)\*\* \|$")


@dataclass(frozen=True)
class ModulePoints:
    meta: ModuleMeta
    exercises: tuple[tuple[str, str, int], ...]  # (id, name, points)
    timeout: int

    @property
    def total(self) -> int:
        return sum(points for _, _, points in self.exercises)


def module_points(config: CourseConfig, modules: list[ModuleMeta]) -> list[ModulePoints]:
    """Effective points and timeout of each module, course.yaml overrides applied."""
    rows = []
    for meta in modules:
        points = config.exercise_points(meta)
        exercises = tuple((e.id, e.name, points[e.id]) for e in meta.exercises)
        rows.append(ModulePoints(meta, exercises, config.module_timeout(meta)))
    return rows


def render(rows: list[ModulePoints]) -> str:
    """Markdown: one table of modules with a total, one table of exercises."""
    lines = [
        "| Module | Title | Exercises | Time limit per test | Points |",
        "|---|---|---|---|---|",
        *(
            f"| {r.meta.number:02d} | {r.meta.title} | {len(r.exercises)} | {r.timeout} s "
            f"| {r.total} |"
            for r in rows
        ),
        f"| **Total** | | {sum(len(r.exercises) for r in rows)} | | "
        f"**{sum(r.total for r in rows)}** |",
        "",
        "| Exercise | Module | Name | Points |",
        "|---|---|---|---|",
    ]
    for row in rows:
        for exercise_id, name, points in row.exercises:
            lines.append(f"| `{exercise_id}` | {row.meta.title} | {name} | {points} |")
    return "\n".join(lines) + "\n"


def parse(markdown: str) -> tuple[dict[int, int], dict[str, int], int | None]:
    """(module -> points, exercise id -> points, total) read back from rendered Markdown."""
    modules, exercises, total = {}, {}, None
    for line in markdown.splitlines():
        if match := MODULE_ROW.match(line):
            modules[int(match["number"])] = int(match["points"])
        elif match := EXERCISE_ROW.match(line):
            exercises[match["id"]] = int(match["points"])
        elif match := TOTAL_ROW.match(line):
            total = int(match["points"])
    return modules, exercises, total
