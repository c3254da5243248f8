"""Does every milestone PASS for any correct implementation? Run each over many seeds.

    .venv/bin/python scripts/milestone_seeds.py --seeds 50                  # milestones 1, 2, 3, 6
    .venv/bin/python scripts/milestone_seeds.py --seeds 50 --milestones 2,3
    .venv/bin/python scripts/milestone_seeds.py --seeds 10 --milestones 4,5  # slow: minutes each
    .venv/bin/python scripts/milestone_seeds.py --milestones 4 --extra "--epochs 15"  # a recipe

A student's correct code may draw its random numbers in another order than the reference,
so a milestone must pass for every initial seed, not only for the default one. This staff
command runs milestone N with `--seed s` for s = start … start + seeds - 1 on the modules
`tinytorch` imports (the reference in this repository; set TINYTORCH_MODULES to point at a
student's modules), prints the pass rate per milestone and the seeds that failed, and exits
1 if any seed failed. Milestone 4 runs on its offline TinyDigits path, milestone 5 in its
default quick mode, milestone 6 as grading runs it.

Runs in this process, one milestone run after another (the machine's cores are left to the
BLAS threads). Cost: about 1 s per run for milestones 1 and 2, a few seconds for 3, 4 and
6, about a minute for 5.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import shlex
import sys
import time
from dataclasses import dataclass, field

from grading.commands.milestone import available_milestones, verdict_line

# Arguments that select the path each milestone takes here (before `--seed s`).
MILESTONE_ARGUMENTS = {4: ["--dataset", "tinydigits"]}
DEFAULT_MILESTONES = "1,2,3,6"


@dataclass
class SeedRuns:
    """What happened to one milestone over the seeds tried."""

    number: int
    passed: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)  # seed -> its verdict line
    seconds: float = 0.0

    @property
    def runs(self) -> int:
        return len(self.passed) + len(self.failed)

    def summary(self) -> str:
        rate = len(self.passed) / self.runs if self.runs else 0.0
        line = (
            f"milestone {self.number}: {len(self.passed)}/{self.runs} seeds PASS ({rate:.0%}), "
            f"{self.seconds / max(self.runs, 1):.1f} s per run"
        )
        if self.failed:
            line += f"; FAIL for seeds {sorted(self.failed)}"
        return line


def run_once(number: int, seed: int, extra: tuple[str, ...] = ()) -> tuple[int, str]:
    """Run milestone `number` with `--seed seed` and `extra` options; return (exit code,
    its output)."""
    module = importlib.import_module(available_milestones()[number])
    argv = [*MILESTONE_ARGUMENTS.get(number, []), *extra, "--seed", str(seed)]
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        try:
            code = module.main(argv)
        except SystemExit as stop:  # argparse errors exit 2
            code = stop.code if isinstance(stop.code, int) else 2
    return code, output.getvalue()


def measure(number: int, seeds: range, extra: tuple[str, ...] = (), log=print) -> SeedRuns:
    """Run one milestone for every seed in `seeds`, logging each verdict as it arrives."""
    result = SeedRuns(number)
    started = time.perf_counter()
    for seed in seeds:
        code, output = run_once(number, seed, extra)
        verdict = verdict_line(output) or f"exited with code {code}"
        if code == 0:
            result.passed.append(seed)
        else:
            result.failed[seed] = verdict
        log(f"  milestone {number} seed {seed:3d}: {verdict[:110]}")
    result.seconds = time.perf_counter() - started
    return result


def parse_milestones(text: str) -> list[int]:
    shipped = available_milestones()
    try:
        numbers = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise SystemExit(f"--milestones takes numbers such as 2,3; got {text!r}") from None
    unknown = [number for number in numbers if number not in shipped]
    if unknown or not numbers:
        raise SystemExit(f"--milestones: choose from {sorted(shipped)}, got {text!r}")
    return numbers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=50, help="how many seeds per milestone")
    parser.add_argument("--start", type=int, default=0, help="first seed")
    parser.add_argument(
        "--milestones", default=DEFAULT_MILESTONES, help=f"e.g. 2,3 (default {DEFAULT_MILESTONES})"
    )
    parser.add_argument(
        "--extra", default="", help='more options for every run, e.g. "--epochs 15"'
    )
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.start < 0:
        parser.error("--seeds must be >= 1 and --start >= 0")
    seeds = range(args.start, args.start + args.seeds)
    results = []
    for number in parse_milestones(args.milestones):
        print(f"milestone {number}: seeds {seeds.start}..{seeds.stop - 1}", flush=True)
        log = lambda line: print(line, flush=True)  # noqa: E731
        results.append(measure(number, seeds, tuple(shlex.split(args.extra)), log=log))
    print()
    for result in results:
        print(result.summary())
    return 0 if all(not result.failed for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
