"""Run milestones for a grade: each in its own process, with a time limit.

Contract: `run_milestones((1, 3), root, modules_root)` returns one record per milestone in
the results schema's `milestones` shape: number, name, status (passed | failed | error |
not_run), message — the milestone's own `PASS: …` / `FAIL: …` line, or what went wrong.
A milestone that hangs past `timeout` seconds is stopped and reported as failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from grading.commands.milestone import available_milestones, verdict_line

DEFAULT_TIMEOUT = 900


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


def run_milestones(
    numbers: tuple[int, ...], root: Path, modules_root: Path, timeout: float = DEFAULT_TIMEOUT
) -> list[dict]:
    """Run each milestone against the modules in `modules_root`; never raises for a milestone."""
    shipped = available_milestones()
    records = []
    for number in numbers:
        if number not in shipped:
            records.append(
                {
                    "number": number,
                    "name": f"milestone {number}",
                    "status": "not_run",
                    "message": "this milestone is not shipped in this repository",
                }
            )
            continue
        name = shipped[number].rsplit(".", 1)[1].split("_", 1)[1].replace("_", " ")
        env = {**os.environ, "TINYTORCH_MODULES": str(modules_root)}
        command = [sys.executable, "-m", "grading.cli", "milestone", str(number)]
        try:
            done = subprocess.run(
                command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout
            )
            record = milestone_record(number, name, done.returncode, done.stdout + done.stderr)
        except subprocess.TimeoutExpired:
            record = milestone_record(number, name, None, "")
        records.append(record)
    return records
