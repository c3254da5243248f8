"""`tiny`: the one command students and course staff use.

Each subcommand lives in its own file under grading/commands/ (or scripts/ for commands that
only exist in the course repository). A command is offered only when its file is part of the
repository `tiny` runs from (REPO_ROOT): a student template ships no staff commands
(scripts/template_files.py leaves them out), so its `tiny --help` lists none, even when the
course repository is installed in the same Python environment.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from grading.repo import REPO_ROOT

# (name, module, usage line for --help, for staff?): the order here is the order of --help.
COMMANDS = (
    ("test", "grading.commands.test", "tiny test 01", "run Module 01's graded tests on your file"),
    ("hint", "grading.commands.hint", "tiny hint 01.2", "a hint for exercise 01.2"),
    ("milestone", "grading.commands.milestone", "tiny milestone 1", "run a historical milestone"),
    ("lint", "grading.commands.lint", "tiny lint", "check no module uses later modules' words"),
    ("grade", "grading.commands.grade", "tiny grade", "grade every module here, like CI does"),
    ("summary", "grading.commands.summary", "tiny summary DIR", "one summary of a CI run"),
    (
        "carry-forward",
        "grading.commands.carry_forward",
        "tiny carry-forward D",
        "bring your earlier modules from repository D",
    ),
    ("build", "scripts.build_templates", "tiny build", "write one template repository per tier"),
    ("grade-batch", "grading.commands.grade_batch", "tiny grade-batch", "grade student repos"),
    ("merge-shards", "grading.commands.merge_shards", "tiny merge-shards", "join batch shards"),
    ("gradebook", "grading.commands.gradebook", "tiny gradebook", "merge grade exports to CSV"),
    ("leaderboard", "grading.commands.leaderboard", "tiny leaderboard", "rank capstone runs"),
)
STAFF = {"build", "grade-batch", "merge-shards", "gradebook", "leaderboard"}


def shipped(module: str, root: Path = REPO_ROOT) -> bool:
    """Whether the command's file is in the repository at `root` (not merely importable)."""
    return (root / (module.replace(".", "/") + ".py")).is_file()


def available_commands(root: Path = REPO_ROOT) -> list[tuple[str, str, str, str]]:
    return [command for command in COMMANDS if shipped(command[1], root)]


def description(commands) -> str:
    lines = ["TinyTorch Classroom: build your own ML framework, one module at a time.", ""]
    for group, staff in (("Students:", False), ("Staff:", True)):
        rows = [c for c in commands if (c[0] in STAFF) == staff]
        for index, (_, _, usage, words) in enumerate(rows):
            lines.append(f"{group if index == 0 else '':<12}{usage:<22}{words}")
    return "\n".join(lines) + "\n"


def build_parser(root: Path = REPO_ROOT) -> argparse.ArgumentParser:
    commands = available_commands(root)
    parser = argparse.ArgumentParser(
        prog="tiny",
        description=description(commands),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name, _, _ in commands:
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
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
