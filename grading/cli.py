"""`tiny`: the one command students and course staff use.

Each subcommand lives in its own file under grading/commands/ (or scripts/ for
commands that only exist in the course repository, not in student templates).
A command whose file is not shipped in this repository is listed as unavailable.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

# (name, module): the order here is the order of `tiny --help`.
COMMANDS = (
    ("test", "grading.commands.test"),
    ("milestone", "grading.commands.milestone"),
    ("lint", "grading.commands.lint"),
    ("grade", "grading.commands.grade"),
    ("build", "scripts.build_templates"),
    ("grade-batch", "grading.commands.grade_batch"),
    ("gradebook", "grading.commands.gradebook"),
    ("leaderboard", "grading.commands.leaderboard"),
    ("carry-forward", "grading.commands.carry_forward"),
)

DESCRIPTION = """\
TinyTorch Classroom: build your own ML framework, one module at a time.

Students:   tiny test 01          run the graded tests of Module 01 on your file
            tiny milestone 1      run a historical milestone (PASS/FAIL)
            tiny lint             check no module uses words or imports from later modules
            tiny grade            grade every module here, like CI does
            tiny carry-forward D  bring your earlier modules from repository D (if your
                                  course has you continue from your own work)
Staff:      tiny build            write one template repository per tier
            tiny grade-batch      grade a folder of cloned student repositories
            tiny gradebook        merge grade exports into one gradebook CSV
            tiny leaderboard      rank capstone submissions
"""


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tiny", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS:
        if not _available(module_name):
            continue
        module = importlib.import_module(module_name)
        sub = commands.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
