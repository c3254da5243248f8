"""`tiny summary DIR --expect 01=60,02=50`: one Markdown job summary for a whole push.

Reads what the workflow's grader steps left in DIR (`NN/results.json` of each module step,
`milestone-N.json` of each milestone step), merges them (grading/tier_summary.py) and prints
the summary: the tier's total first — the number the Classroom reporter records, a module
whose step left nothing counting 0 of its full points — then the modules, the milestones,
every failure by exercise id and the tamper findings. Exit code: 0 printed, 2 bad option.
"""

from __future__ import annotations

import sys
from pathlib import Path

from grading.render import markdown_summary
from grading.tier_summary import SummaryInputError, merge_tier, parse_expected, read_tier

HELP = "print one Markdown summary of a push from its grader steps' results folder"
EXPECT_HELP = "each module's full points as NN=POINTS,… (modules without a result count 0)"


def add_arguments(parser) -> None:
    parser.add_argument("results", metavar="DIR", help="the folder the grader steps wrote")
    parser.add_argument("--expect", metavar="LIST", default="", help=EXPECT_HELP)


def run(args) -> int:
    try:
        expected = parse_expected(args.expect)
    except SummaryInputError as error:
        print(f"tiny summary: {error}", file=sys.stderr)
        return 2
    folder = Path(args.results)
    results, milestones, problems = read_tier(folder) if folder.is_dir() else ([], [], [])
    if not folder.is_dir():
        problems.append(f"no results folder at {folder}: no grader step wrote a result")
    print(markdown_summary(merge_tier(results, milestones, expected, problems)), end="")
    return 0
