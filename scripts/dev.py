"""Set-up and the two README commands, with nothing installed but Python 3.10+.

    python3 scripts/dev.py demo   # build the tier templates, grade the reference, print points
    python3 scripts/dev.py test   # lint, format check and the whole test suite (what CI runs)

Creates `.venv/` beside this repository on first use and installs the project with
its `dev` extra; re-installs only when pyproject.toml changes (a hash stamp).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STAMP = VENV / "tinytorch-install.stamp"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")

# pytest exits 5 when it collected no test: for us that is a broken run, not a pass.
PYTEST_NO_TESTS = 5


def ensure_environment() -> None:
    """Create the venv and install the project (editable, with dev tools) if out of date."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text().strip() == wanted and PYTHON.exists():
        return
    if not PYTHON.exists():
        print(f"creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing tinytorch-classroom and its tools ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(wanted)


def run(*command: str) -> int:
    print("$", " ".join(command), flush=True)
    return subprocess.call(command, cwd=ROOT)


def demo() -> int:
    """The main job: build every tier template, grade the reference solution, print points."""
    out = ROOT / "out"
    status = run(str(BIN / "tiny"), "build", "--out", str(out / "templates"))
    if status:
        return status
    # Milestones that run offline in seconds; 4 (CIFAR-10) and 5 (minutes) are `tiny milestone N`.
    grade = (str(BIN / "tiny"), "grade", "--reference", "--out", str(out / "grade"))
    return run(*grade, "--milestones", "1,2,3,6")


def test() -> int:
    """Everything CI checks: ruff lint, ruff format, the course lint, the test suite."""
    for command in (
        (str(BIN / "ruff"), "check", "."),
        (str(BIN / "ruff"), "format", "--check", "."),
    ):
        if run(*command):
            return 1
    status = run(str(PYTHON), "-m", "pytest", "-p", "no:cacheprovider")
    if status == PYTEST_NO_TESTS:
        print("pytest collected no tests: treating this run as broken", file=sys.stderr)
        return 1
    return status


def main() -> int:
    actions = {"demo": demo, "test": test}
    if len(sys.argv) != 2 or sys.argv[1] not in actions:
        print(__doc__)
        return 2
    ensure_environment()
    return actions[sys.argv[1]]()


if __name__ == "__main__":
    sys.exit(main())
