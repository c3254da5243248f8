"""`tiny lint`: no module uses words or imports from a module that comes after it.

Exit code: 0 no findings, 1 findings (one `path:line: message` line each), 2 bad option.
Rules: grading/lint.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from grading.lint import lint_modules
from grading.repo import REPO_ROOT

HELP = "check that no module uses a term or an import from a later module"
ROOT_HELP = "repository to lint (default: this one; $TINYTORCH_MODULES moves its modules/)"


def add_arguments(parser) -> None:
    parser.add_argument("--root", metavar="DIR", help=ROOT_HELP)


def run(args) -> int:
    if args.root:
        modules_root = Path(args.root).resolve() / "modules"
    elif os.environ.get("TINYTORCH_MODULES"):
        modules_root = Path(os.environ["TINYTORCH_MODULES"]).resolve()
    else:
        modules_root = REPO_ROOT / "modules"
    if not modules_root.is_dir():
        print(f"tiny lint: no modules folder at {modules_root}", file=sys.stderr)
        return 2
    findings = lint_modules(modules_root)
    for finding in findings:
        print(finding)
    count = len(list(modules_root.glob("[0-9][0-9]_*/module.yaml")))
    if findings:
        files = len({finding.path for finding in findings})
        print(f"{len(findings)} forward-dependency findings in {files} files", file=sys.stderr)
        return 1
    print(f"lint: {count} modules, no forward dependencies")
    return 0
