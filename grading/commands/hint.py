"""`tiny hint 05.3`: the hint of one exercise (or `tiny hint 05`: of every exercise of a module).

Hints live in module.yaml and say what concept to use, what to check and what shape to
expect, never the code. `tiny test` and `tiny grade` show a hint only for an exercise you
have started; this command shows it whenever you ask.
"""

from __future__ import annotations

import sys

from grading.course_modules import ModuleMeta
from grading.repo import resolve_module

HELP = "show the hint of an exercise (e.g. `tiny hint 05.3`) or of every exercise of a module"


def add_arguments(parser) -> None:
    parser.add_argument("exercise", help="exercise id (05.3, 5.3) or module (05, autograd)")


def hints(meta: ModuleMeta, exercise_id: str | None) -> list[str]:
    chosen = [e for e in meta.exercises if exercise_id in (None, e.id)]
    if not chosen:
        known = ", ".join(e.id for e in meta.exercises)
        raise ValueError(
            f"Module {meta.number:02d} has no exercise {exercise_id} (its exercises: {known})"
        )
    source = meta.source_path.name
    return [f"{e.label} ({e.points} points, {source}): {e.hint or 'no hint'}" for e in chosen]


def run(args) -> int:
    query = args.exercise.strip().replace("_", ".")
    module_part, _, minor = query.partition(".")
    try:
        meta = resolve_module(module_part)
        exercise_id = None
        if minor:
            if not minor.isdigit():
                raise ValueError(f"'{args.exercise}' is not an exercise id such as 05.3")
            exercise_id = f"{meta.number:02d}.{int(minor)}"
        lines = hints(meta, exercise_id)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0
