"""`tiny milestone 3`: run a historical milestone; exit 0 on PASS, 1 on FAIL.

The course configuration (`.tinytorch/course.yaml` in a tier, `template/course.yaml` in the
course) may set a milestone's threshold and dataset; they are passed on as `--threshold`
and `--dataset` unless the command line sets them. A milestone lists the datasets it can
train on in its `DATASETS` tuple.

In CI (`--root DIR --pristine DIR --record FILE`, what the Classroom workflow runs) the
milestone trains on the student's source files of DIR graded with the module.yaml files and
tests of the pristine copy, in the grader's sandbox (grading/sandbox/milestones.py),
and its verdict is written to FILE as a results-schema milestone record, which the one job
summary of the push reads (`tiny summary`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import sys
import tempfile
from pathlib import Path

from grading.course_config import CourseConfig, find_course_config, load_course_config
from grading.repo import REPO_ROOT

HELP = "run a historical milestone (1 Perceptron … 6 MLPerf-style submission); PASS/FAIL"


def available_milestones() -> dict[int, str]:
    """Milestone number -> importable module name, for every milestones/mN_*.py shipped here."""
    found = {}
    for path in sorted((REPO_ROOT / "milestones").glob("m[0-9]_*.py")):
        found[int(path.name[1])] = f"milestones.{path.stem}"
    return found


ROOT_HELP = "the student's repository whose module files the milestone runs (with --pristine)"
PRISTINE_HELP = "take module.yaml files and tests from this clean copy (the grader's own)"
RECORD_HELP = "write the verdict as JSON (a results-schema milestone record) to FILE"
RUN_AS_HELP = "with --pristine: run the student's code as this unprivileged user"
KEEP_HELP = "with --pristine: copy what the milestone wrote under out/ into DIR"


def add_arguments(parser) -> None:
    parser.add_argument("--root", metavar="DIR", help=ROOT_HELP)
    parser.add_argument("--pristine", metavar="DIR", help=PRISTINE_HELP)
    parser.add_argument("--record", metavar="FILE", help=RECORD_HELP)
    parser.add_argument("--run-as", metavar="USER", help=RUN_AS_HELP)
    parser.add_argument("--keep-output", metavar="DIR", help=KEEP_HELP)
    parser.add_argument("number", type=int, help="milestone number")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="options for the milestone (--help)")


class _Tee(io.TextIOBase):
    """Write to the real stdout and keep a copy, so the verdict can be summarised."""

    def __init__(self, stream):
        self.stream, self.copy = stream, io.StringIO()

    def write(self, text: str) -> int:
        self.copy.write(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()


def verdict_line(output: str) -> str | None:
    """The last line of a milestone's output that states its verdict (PASS…/FAIL…), if any."""
    verdicts = [line.strip() for line in output.splitlines()]
    verdicts = [line for line in verdicts if line.startswith(("PASS", "FAIL"))]
    return verdicts[-1] if verdicts else None


def configured_arguments(
    number: int, argv: list[str], choices: tuple[str, ...], config: CourseConfig | None
) -> list[str]:
    """argv plus the course's threshold and dataset for this milestone, where argv sets none.
    Raises ValueError when the course names a dataset the milestone cannot train on."""
    if config is None:
        return list(argv)
    extra = []
    rule = config.milestones.get(number)
    if rule is not None and "--threshold" not in argv:
        extra += ["--threshold", repr(rule.threshold)]
    dataset = config.datasets.get(number)
    if dataset is not None and "--dataset" not in argv:
        if dataset not in choices:
            trains_on = ", ".join(choices) or "no dataset"
            raise ValueError(
                f"{config.path}: datasets: {number}: {dataset!r} — milestone {number} trains on "
                f"{trains_on}. Change the course configuration."
            )
        if len(choices) > 1:
            extra += ["--dataset", dataset]
    return [*argv, *extra]


def run(args) -> int:
    milestones = available_milestones()
    if args.number not in milestones:
        shipped = ", ".join(str(n) for n in milestones) or "none"
        print(f"no milestone {args.number} here (available: {shipped})", file=sys.stderr)
        return 2
    milestone = importlib.import_module(milestones[args.number])
    config_path = find_course_config(REPO_ROOT)
    config = load_course_config(config_path) if config_path else None
    try:
        argv = configured_arguments(
            args.number, args.rest, getattr(milestone, "DATASETS", ()), config
        )
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    from grading.milestone_verdicts import milestone_name, milestone_record  # imports this file

    if args.pristine:
        record, code = _run_on_pristine_tree(args)
    else:
        tee = _Tee(sys.stdout)
        with contextlib.redirect_stdout(tee):
            code = int(milestone.main(argv) or 0)
        name = milestone_name(milestones[args.number])
        record = milestone_record(args.number, name, code, tee.copy.getvalue())
    if args.record:
        path = Path(args.record)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return code


def _run_on_pristine_tree(args) -> tuple[dict, int]:
    """The milestone on the student's files of --root with the --pristine copy's module.yaml
    files and tests, in the sandbox (grading/sandbox/milestones.py); its output is echoed.
    Exit code: 0 passed, 1 failed, 2 anything else."""
    from grading.protected import DirTree
    from grading.sandbox.milestones import run_milestone
    from grading.sandbox.run import build_pristine_tree, open_to_readers

    root = Path(args.root or ".").resolve()
    with tempfile.TemporaryDirectory(prefix="tiny-milestone-tree-") as scratch:
        tree, refused = build_pristine_tree(
            DirTree(Path(args.pristine)), root / "modules", Path(scratch)
        )
        if args.run_as:  # the unprivileged user reads the tree
            open_to_readers(Path(scratch))
        if refused:
            problem = "; ".join(refused.values())
            record = {"number": args.number, "name": f"milestone {args.number}"}
            record |= {"status": "error", "message": f"not run: {problem}"[:300]}
            output = record["message"]
        else:
            keep = Path(args.keep_output) if args.keep_output else None
            record, output = run_milestone(
                args.number, tree, tuple(args.rest), args.run_as, keep=keep
            )
    print(output, end="" if output.endswith("\n") else "\n", flush=True)
    codes = {"passed": 0, "failed": 1}
    return record, codes.get(record["status"], 2)
