"""README.md of a tier template: what to do, how it is graded, and the points table."""

from __future__ import annotations

import textwrap
import zoneinfo

from grading.course_config import CourseConfig, Tier
from grading.course_modules import ModuleMeta
from scripts import points_table
from scripts.classroom_workflow import WORKFLOW_PATH
from scripts.points_table import ModulePoints

SOLUTIONS_BANNER = """\
> **INSTRUCTOR BUILD — CONTAINS THE REFERENCE SOLUTIONS.** Built with `--with-solutions` to
> check the workflow end to end. Never publish this repository to students.

"""


def _modules_range(numbers) -> str:
    """'Modules 08–13' or 'Module 02'."""
    numbers = sorted(numbers)
    if len(numbers) == 1:
        return f"Module {numbers[0]:02d}"
    return f"Modules {numbers[0]:02d}–{numbers[-1]:02d}"


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=96, break_on_hyphens=False) + "\n"


def carry_forward_text(config: CourseConfig, tier: Tier, carried: tuple[ModuleMeta, ...]) -> str:
    earlier = config.earlier_modules(tier)
    if not earlier:
        return "This is the first tier: everything starts here.\n"
    if tier.carry_forward == "reference":
        names = ", ".join(f"{m.number:02d} {m.title}" for m in carried)
        one = len(earlier) == 1
        return _wrap(
            f"{_modules_range(earlier)} of the earlier tiers {'is' if one else 'are'} here as "
            f"the course's **reference implementation** ({names}), so your work stands on a "
            f"correct base. {'It is' if one else 'They are'} read-only and not graded in this "
            "repository: a change is reported as a change to a protected file.\n"
        )
    folders = ", ".join(f"`modules/{n:02d}_*`" for n in earlier)
    return _wrap(
        f"This tier builds on **your own** {_modules_range(earlier)}. Copy the "
        f"folders ({folders}) from your earlier repository into `modules/` before you start: "
        "this tier's code imports them, but they are not graded again here.\n"
    )


def render_readme(
    config: CourseConfig,
    tier: Tier,
    rows: list[ModulePoints],
    carried: tuple[ModuleMeta, ...],
    milestones: tuple[int, ...],
    with_solutions: bool = False,
) -> str:
    deadline = tier.deadline.astimezone(zoneinfo.ZoneInfo(config.timezone))
    first = rows[0].meta
    modules = ",".join(f"{r.meta.number:02d}" for r in rows)
    module_lines = "\n".join(
        f"- `modules/{r.meta.key}/{r.meta.source}` — Module {r.meta.number:02d} {r.meta.title}"
        for r in rows
    )
    milestone_text = (
        "\n".join(f"    tiny milestone {n}" for n in milestones)
        if milestones
        else "    (no milestone in this tier)"
    )
    return f"""\
{SOLUTIONS_BANNER if with_solutions else ""}# {config.name} — {tier.title}

{config.institution}, {config.term}. {_modules_range(tier.modules)}.
**Deadline: {deadline.strftime("%A %d %B %Y, %H:%M")} ({config.timezone})**, that is
`{tier.deadline.isoformat()}`. GitHub Classroom records the points of every push.

## What you write

You edit only these files, one per module:

{module_lines}

Each `raise NotImplementedError("exercise NN.k name: hint")` marks one exercise: replace the
line by your code. The exercise id `NN.k` is also in the test that checks it and in the points
table below. The module's `README.md` explains the ideas; the docstrings state each contract.

{carry_forward_text(config, tier, carried)}
## Working on your machine

    python3 -m venv .venv && source .venv/bin/activate   # Windows: .venv\\Scripts\\activate
    pip install -e .
    tiny test {first.number:02d}          # Module {first.number:02d}'s graded tests, on your file
    tiny grade --modules {modules}   # this tier's modules, scored as CI scores them
    tiny lint             # no words or imports from later modules

Milestones (a historical model trained with your framework; PASS/FAIL against a threshold):

{milestone_text}

## How you are graded

Every push runs `{WORKFLOW_PATH}`: one step per module runs that module's
graded tests (each within the time limit in the table below) and GitHub Classroom adds the
points up. Each exercise's points are split over its tests, so partial work earns partial
points. The tests are taken from this repository's first commit, and the files listed in
`.tinytorch/protected.json` (tests, `module.yaml` files, `grading/`, the workflow, milestones,
datasets, reference modules) are checked: editing them changes nothing but is reported. The
job summary of each run shows your points per exercise.

## Points

{points_table.render(rows)}"""
