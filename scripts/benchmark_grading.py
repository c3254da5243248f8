"""How much `tiny grade` costs on top of plain pytest, and how long grading the repository takes.

    python scripts/benchmark_grading.py                 # every module, 3 repeats
    python scripts/benchmark_grading.py --modules 01,05 --repeat 5

For each module: the median wall time of plain `python -m pytest <graded tests>` (what
`tiny test` runs) and of the grader's sandboxed run of the same tests (own process, JSON
report, event stream, limits), and their ratio. Then the wall time of grading the whole
repository once, as `tiny grade` does (results, summary, Classroom result built and
validated). Figures only: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grading.commands.grade import GradeSettings, grade
from grading.course_modules import load_all_modules
from grading.render import classroom_result, markdown_summary
from grading.repo import REPO_ROOT
from grading.results import RunLimits
from grading.sandbox import run_module


def plain_pytest(tests: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", str(tests), "-q", "-p", "no:cacheprovider"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - started


def graded(tests: Path, work: Path, timeout: float) -> float:
    started = time.perf_counter()
    run_module(tests, REPO_ROOT / "modules", work, RunLimits(timeout, 10 * timeout, 2 << 30))
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", help="comma-separated module numbers (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per module (median shown)")
    args = parser.parse_args(argv)
    modules = load_all_modules(REPO_ROOT / "modules")
    if args.modules:
        wanted = {int(part) for part in args.modules.split(",")}
        modules = [m for m in modules if m.number in wanted]
    print(f"{'module':<18} {'pytest s':>9} {'graded s':>9} {'overhead s':>11} {'ratio':>6}")
    plain_total = graded_total = 0.0
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as scratch:
        for meta in modules:
            plain = statistics.median(plain_pytest(meta.tests_path) for _ in range(args.repeat))
            sandboxed = statistics.median(
                graded(meta.tests_path, Path(scratch) / meta.key, meta.timeout)
                for _ in range(args.repeat)
            )
            plain_total, graded_total = plain_total + plain, graded_total + sandboxed
            print(
                f"{meta.key:<18} {plain:>9.2f} {sandboxed:>9.2f} {sandboxed - plain:>11.2f} "
                f"{sandboxed / plain:>6.2f}"
            )
        print(
            f"{'sum':<18} {plain_total:>9.2f} {graded_total:>9.2f} "
            f"{graded_total - plain_total:>11.2f} {graded_total / max(plain_total, 1e-9):>6.2f}"
        )
        keys = tuple(m.key for m in modules)
        settings = GradeSettings(root=REPO_ROOT, modules_root=REPO_ROOT / "modules", modules=keys)
        started = time.perf_counter()
        results = grade(settings, Path(scratch) / "whole")
        classroom_result(results)
        markdown_summary(results)
        whole = time.perf_counter() - started
    points = results["points"]
    print(
        f"tiny grade of {len(modules)} modules: {whole:.2f} s wall, "
        f"{points['earned']}/{points['possible']} points, status {results['status']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
