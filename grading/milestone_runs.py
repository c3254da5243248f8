"""Run milestones on a student's modules, each in its own process, with a time limit.

Contract: `run_milestone(3, modules_root)` returns (record, output): the record in the
results schema's `milestones` shape — number, name, status (passed | failed | error |
not_run), message: the milestone's own `PASS: …` / `FAIL: …` line, or what went wrong — and
everything the milestone printed. A milestone that hangs past `timeout` seconds is stopped
and reported as failed. `run_milestones` does the same for several, records only.

The child is the grader's own `tiny milestone`, started from a scratch folder (never the
student's checkout, so no file of theirs shadows a grader module) with an environment
that holds no CI file or token (GITHUB_*, RUNNER_*, ACTIONS_*).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from grading.commands.milestone import available_milestones, verdict_line

DEFAULT_TIMEOUT = 900
CI_PREFIXES = ("GITHUB_", "RUNNER_", "ACTIONS_", "INPUT_", "STATE_")


def milestone_record(number: int, name: str, exit_code: int | None, output: str) -> dict:
    """Pure: one results-schema record from how a milestone process ended."""
    verdict = verdict_line(output)
    if exit_code is None:
        status, message = "failed", "stopped: the milestone ran past its time limit"
    elif exit_code == 0:
        status, message = "passed", verdict or "passed"
    elif exit_code == 1:
        status, message = "failed", verdict or "failed its threshold"
    else:
        tail = [line for line in output.splitlines() if line.strip()][-1:]
        status = "error"
        message = f"exited with code {exit_code}: {tail[0] if tail else 'no output'}"
    return {"number": number, "name": name, "status": status, "message": message[:300]}


def milestone_name(module_name: str) -> str:
    """'milestones.m2_xor_1969' -> 'xor 1969'."""
    return module_name.rsplit(".", 1)[1].split("_", 1)[1].replace("_", " ")


def milestone_environment(modules_root: Path, environ=os.environ) -> dict[str, str]:
    """The parent's environment less every CI variable, with the student's modules."""
    env = {k: v for k, v in environ.items() if not k.startswith(CI_PREFIXES)}
    env["TINYTORCH_MODULES"] = str(modules_root)
    return env


def run_milestone(
    number: int,
    modules_root: Path,
    arguments: tuple[str, ...] = (),
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[dict, str]:
    """Run one milestone against the modules in `modules_root`; never raises for a milestone.
    The milestone's threshold and dataset come from the grader's own course configuration."""
    shipped = available_milestones()
    if number not in shipped:
        message = "this milestone is not shipped in this repository"
        record = {"number": number, "name": f"milestone {number}", "status": "not_run"}
        return {**record, "message": message}, message
    name = milestone_name(shipped[number])
    command = [sys.executable, "-m", "grading.cli", "milestone", str(number), *arguments]
    env = milestone_environment(modules_root)
    with tempfile.TemporaryDirectory(prefix="tiny-milestone-") as scratch:
        try:
            done = subprocess.run(
                command,
                cwd=scratch,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as stopped:
            output = _text(stopped.stdout) + _text(stopped.stderr)
            return milestone_record(number, name, None, output), output
    output = done.stdout + done.stderr
    return milestone_record(number, name, done.returncode, output), output


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value or ""


def run_milestones(
    numbers: tuple[int, ...], modules_root: Path, timeout: float = DEFAULT_TIMEOUT
) -> list[dict]:
    """`run_milestone` for each number, records only."""
    return [run_milestone(n, modules_root, timeout=timeout)[0] for n in numbers]
