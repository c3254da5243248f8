"""`tiny test 03`: run one module's graded tests against the file you are editing."""

from __future__ import annotations

import subprocess
import sys

from grading.repo import REPO_ROOT, resolve_module

HELP = "run the graded tests of one module (e.g. `tiny test 01` or `tiny test tensor`)"


def add_arguments(parser) -> None:
    parser.add_argument("module", help="module number or name: 1, 01, tensor, 01_tensor")
    parser.add_argument("-k", dest="keyword", help="only tests whose name matches (pytest -k)")
    parser.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failure")


def run(args) -> int:
    try:
        meta = resolve_module(args.module)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    command = [sys.executable, "-m", "pytest", str(meta.tests_path), "-v", "--no-header"]
    if args.keyword:
        command += ["-k", args.keyword]
    if args.exitfirst:
        command.append("-x")
    print(
        f"Module {meta.number:02d} {meta.title}: testing {meta.source_path.relative_to(REPO_ROOT)}"
    )
    return subprocess.call(command, cwd=REPO_ROOT)
