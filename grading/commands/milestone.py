"""`tiny milestone 3`: run a historical milestone; exit 0 on PASS, 1 on FAIL.

The course configuration (`.tinytorch/course.yaml` in a tier, `template/course.yaml` in the
course) may set a milestone's threshold and dataset; they are passed on as `--threshold`
and `--dataset` unless the command line sets them. A milestone lists the datasets it can
train on in its `DATASETS` tuple.

In GitHub Actions ($GITHUB_STEP_SUMMARY set) the milestone's verdict line is also
appended to the job summary, so students and TAs see every milestone's result there.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import sys

from grading.course_config import CourseConfig, find_course_config, load_course_config
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


def summary_row(number: int, exit_code: int, output: str) -> str:
    """One Markdown line for the job summary: the milestone, PASS/FAIL and its verdict."""
    verdict = verdict_line(output) or f"exited with code {exit_code}"
    mark = "✅" if exit_code == 0 else "❌"
    return f"- {mark} **Milestone {number}**: {verdict}\n"


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
    tee = _Tee(sys.stdout)
    with contextlib.redirect_stdout(tee):
        exit_code = int(milestone.main(argv) or 0)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(summary_row(args.number, exit_code, tee.copy.getvalue()))
    return exit_code
