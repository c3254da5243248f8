"""How much `tiny grade` costs on top of plain pytest, and how long grading the repository takes.

    python scripts/benchmark_grading.py                 # every module, 3 repeats
    python scripts/benchmark_grading.py --modules 01,05 --repeat 5

For each module: the median wall time and child-process CPU time of plain
`python -m pytest <graded tests>` (what `tiny test` runs) and of the grader's sandboxed run
of the same tests (own process, JSON report, event stream, limits), and their ratios. CPU
time is the steadier figure on a busy machine. Then the wall time of grading the whole
repository once, as `tiny grade` does (results, summary, Classroom result built and
validated). Figures only: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grading.commands.grade import GradeSettings, grade
from grading.course_modules import load_module_meta
from grading.render import classroom_result, markdown_summary
from grading.repo import REPO_ROOT
from grading.results import RunLimits
from grading.sandbox import run_module


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(action) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child processes) of one call of `action`."""
    wall, cpu = time.perf_counter(), children_cpu()
    action()
    return time.perf_counter() - wall, children_cpu() - cpu


def plain_pytest(tests: Path) -> tuple[float, float]:
    command = [sys.executable, "-m", "pytest", str(tests), "-q", "-p", "no:cacheprovider"]
    return measured(lambda: subprocess.run(command, cwd=REPO_ROOT, capture_output=True))


def graded(tests: Path, work: Path, timeout: float) -> tuple[float, float]:
    limits = RunLimits(timeout, 10 * timeout, 2 << 30)
    return measured(lambda: run_module(tests, REPO_ROOT / "modules", work, limits))


def medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def _row(name: str, row: list[float]) -> str:
    plain_wall, graded_wall, plain_cpu, graded_cpu = row
    return (
        f"{name:<18} {plain_wall:>9.2f} {graded_wall:>9.2f} {graded_wall / plain_wall:>6.2f}   "
        f"{plain_cpu:>10.2f} {graded_cpu:>10.2f} {graded_cpu / plain_cpu:>6.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", help="comma-separated module numbers (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per module (median shown)")
    args = parser.parse_args(argv)
    modules = [
        meta
        for meta in (
            load_module_meta(path.parent, check_files=False)
            for path in sorted((REPO_ROOT / "modules").glob("[0-9][0-9]_*/module.yaml"))
        )
        if meta.tests_path.is_file()  # a module still being written has no tests yet
    ]
    if args.modules:
        wanted = {int(part) for part in args.modules.split(",")}
        modules = [m for m in modules if m.number in wanted]
    print(
        f"{'module':<18} {'pytest s':>9} {'graded s':>9} {'ratio':>6}   "
        f"{'pytest cpu':>10} {'graded cpu':>10} {'ratio':>6}"
    )
    totals = [0.0, 0.0, 0.0, 0.0]
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as scratch:
        for meta in modules:
            plain = medians([plain_pytest(meta.tests_path) for _ in range(args.repeat)])
            work = Path(scratch) / meta.key
            sandboxed = medians(
                [graded(meta.tests_path, work, meta.timeout) for _ in range(args.repeat)]
            )
            row = [plain[0], sandboxed[0], plain[1], sandboxed[1]]
            totals = [t + r for t, r in zip(totals, row, strict=True)]
            print(_row(meta.key, row))
        print(_row("sum", totals))
        keys = tuple(m.key for m in modules)
        settings = GradeSettings(root=REPO_ROOT, modules_root=REPO_ROOT / "modules", modules=keys)
        results: dict = {}

        def whole_grade() -> None:
            results.update(grade(settings, Path(scratch) / "whole"))
            classroom_result(results)
            markdown_summary(results)

        whole, cpu = measured(whole_grade)
    points = results["points"]
    print(
        f"tiny grade of {len(modules)} modules: {whole:.2f} s wall, {cpu:.2f} s CPU, "
        f"{points['earned']}/{points['possible']} points, status {results['status']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
