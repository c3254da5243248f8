"""`tiny milestone 3`: run a historical milestone; exit 0 on PASS, 1 on FAIL."""

from __future__ import annotations

import argparse
import importlib
import sys

from grading.repo import REPO_ROOT

HELP = "run a historical milestone (1 Perceptron … 6 MLPerf-style submission); PASS/FAIL"


def available_milestones() -> dict[int, str]:
    """Milestone number -> importable module name, for every milestones/mN_*.py shipped here."""
    found = {}
    for path in sorted((REPO_ROOT / "milestones").glob("m[0-9]_*.py")):
        found[int(path.name[1])] = f"milestones.{path.stem}"
    return found


def add_arguments(parser) -> None:
    parser.add_argument("number", type=int, help="milestone number")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="options for the milestone (--help)")


def run(args) -> int:
    milestones = available_milestones()
    if args.number not in milestones:
        shipped = ", ".join(str(n) for n in milestones) or "none"
        print(
            f"no milestone {args.number} in this repository (available: {shipped})", file=sys.stderr
        )
        return 2
    return int(importlib.import_module(milestones[args.number]).main(args.rest) or 0)
