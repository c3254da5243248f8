"""README.md of a tier template: what to do, how it is graded, and the points table."""

from __future__ import annotations

import textwrap
import zoneinfo

from grading.course_config import CourseConfig, Tier
from grading.course_modules import ModuleMeta
from scripts import points_table
from scripts.classroom_workflow import CAPSTONE_MODULE, WORKFLOW_PATH
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
    return _wrap(
        f"This tier builds on **your own** {_modules_range(earlier)}: they are here as stubs, "
        f"which this tier's code imports but which are not graded again here. Bring your "
        f"own files from your earlier repository before you start: `tiny carry-forward "
        f"../<your earlier repository>` copies each earlier module's one file (nothing "
        f"else) over its stub; then commit them.\n"
    )


def platforms_text(rows: list[ModulePoints]) -> str:
    """Where a tier can be graded now that GitHub Classroom's service is retired."""
    capstone = any(row.meta.number == CAPSTONE_MODULE for row in rows)
    board = (
        " In this tier, Milestone 6's measured submission also goes on the assignment's "
        "leaderboard (accuracy, latency, model size)."
        if capstone
        else ""
    )
    items = [
        "**Plain GitHub or Classmoji**: every push runs the workflow above; the run's summary "
        "shows your points and its `grading-results` artifact keeps them as JSON "
        "(`tinytorch/results/v1`).",
        "**Classroom 50**: submit as your course says (a push or `gh student submit`); the "
        "submission's Release shows your points per module and every failed test with its "
        "exercise id.",
        "**Gradescope**: submit this repository (from GitHub, or as a zip) or upload your "
        "module files; every test is listed under its exercise id." + board,
    ]
    intro = _wrap(
        "GitHub Classroom's own service was retired on 28 August 2026; this repository does "
        "not need it. Your course grades it on one of these platforms, all with the same tests "
        "and points (the tests always come from the course, not from your copy):"
    )
    bullets = "".join(
        textwrap.fill(item, width=96, initial_indent="- ", subsequent_indent="  ") + "\n"
        for item in items
    )
    return f"## Where this repository is graded\n\n{intro}\n{bullets}"


def notebook_text(first: ModuleMeta) -> str:
    """How to work on a module as a Jupyter notebook paired with its .py (jupytext)."""
    source = f"modules/{first.key}/{first.source}"
    notebook = source.removesuffix(".py") + ".ipynb"
    return f"""\
## Working in Jupyter

Every module file is also a notebook: markdown cells explain, and each exercise sits in its
own code cell under its explanation. Jupytext pairs the notebook with the `.py` file
(`jupytext.toml`: `formats = "ipynb,py:percent"`), so saving the notebook in Jupyter writes
the `.py` that `tiny test` and CI grade:

    pip install jupytext jupyterlab     # only for notebooks: grading never needs them
    jupyter lab                          # then right-click the module's .py: Open With → Notebook

or write the paired notebook once and open that (saving it updates the `.py` too):

    jupytext --sync {source}       # writes {notebook}

The `.py` is the file you commit; `*.ipynb` is in `.gitignore` because it is derived (only
outputs live there alone). Edit a module in one place at a time: after changing the `.py` in
an editor, reload the notebook (File → Reload Notebook from Disk) before saving it again.
`tiny test` warns when a notebook is newer than its `.py` (saved without jupytext).
"""


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
    n = f"{first.number:02d}"
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
`{tier.deadline.isoformat()}`. Every push is graded (see *Where this repository is graded*).

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
    tiny test {n} --exercise {n}.1   # only exercise {n}.1's tests, with its hint
    tiny hint {n}.1        # a hint for exercise {n}.1: what to check, not the code
    tiny grade --modules {modules}   # this tier's modules, scored as CI scores them
    tiny lint             # no words or imports from later modules

`tiny test` prints one line per failing test: its exercise id and what went wrong, "not
started" while the exercise is still a stub, "blocked by NN.k" when an earlier exercise's stub
stops it (fix that one first), and the lines of your own code involved. `-v` shows pytest's
full output. `tiny grade` on your machine runs the tests in your working tree; CI grades with
the pristine tests of this repository's first commit (`--pristine-git`), so editing a test
changes your local result only.

{notebook_text(first)}
Milestones (a historical model trained with your framework; PASS/FAIL against a threshold):

{milestone_text}

## How you are graded

Every push runs `{WORKFLOW_PATH}`: one step per module runs that module's
graded tests (each within the time limit in the table below) and a last step adds the
points up. Each exercise's points are split over its tests, so partial work earns partial
points. The tests are taken from this repository's first commit, and the files listed in
`.tinytorch/protected.json` (tests, `module.yaml` files, `grading/`, the workflow, milestones,
datasets, reference modules) are checked: editing them changes nothing but is reported. The
job summary of each run shows your points per exercise.

{platforms_text(rows)}
## Points

{points_table.render(rows)}"""
