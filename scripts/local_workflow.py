"""Run one job of a GitHub Actions workflow on this machine, as a runner would, for testing.

Each `run:` step runs in order with `bash -e` in the repository, with GitHub's files
emulated: a fresh $GITHUB_OUTPUT per step (its `key=value` and `key<<EOF` lines become
`steps.<id>.outputs.<key>`), one $GITHUB_STEP_SUMMARY, $GITHUB_ENV (whose lines join the
environment of later steps), $GITHUB_PATH (whose lines are put in front of later steps'
PATH) and $RUNNER_TEMP. `${{ steps.<id>.outputs.<key> }}` and `${{ runner.temp }}` in a
step's `env:` and `with:` are substituted. `uses:` steps are handed to
`actions[<name@version>]` when given (e.g. an emulation of the reporter), else skipped.
`if:` is honoured for `${{ !cancelled() }}`/`always()` (run) and no `if:` (runs only after
success); any other condition skips the step (the cache saves). This is not a GitHub
runner: no containers, no services, no contexts beyond `steps` and `runner.temp`.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\s*\}\}")
RUNNER_TEMP = re.compile(r"\$\{\{\s*runner\.temp\s*\}\}")
ALWAYS = {"${{ !cancelled() }}", "!cancelled()", "${{ always() }}", "always()"}


@dataclass
class StepResult:
    name: str
    ran: bool
    exit_code: int = 0
    output: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    value: object = None  # what an emulated `uses:` action returned


def parse_output_file(text: str) -> dict[str, str]:
    """GitHub's output/env file format: `key=value` lines and `key<<DELIM` ... `DELIM`."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            body = []
            i += 1
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            values[key] = "\n".join(body)
        elif "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
        i += 1
    return values


def substitute(value, outputs: dict[str, dict[str, str]], runner_temp: str = ""):
    """Replace `${{ steps.X.outputs.Y }}` and `${{ runner.temp }}` in strings (recursively
    in mappings)."""
    if isinstance(value, dict):
        return {k: substitute(v, outputs, runner_temp) for k, v in value.items()}
    if isinstance(value, str):
        value = RUNNER_TEMP.sub(lambda _: runner_temp, value)
        return EXPRESSION.sub(lambda m: outputs.get(m[1], {}).get(m[2], ""), value)
    return value


def run_job(
    workflow_path: Path,
    job: str,
    repo: Path,
    env: dict[str, str],
    actions: dict[str, Callable[[dict, dict], object]] | None = None,
    timeout: float = 600,
) -> tuple[list[StepResult], str]:
    """Run `job` of the workflow in `repo`; return each step's result and the job summary."""
    workflow = yaml.safe_load(workflow_path.read_text(encoding="utf-8"))
    steps = workflow["jobs"][job]["steps"]
    actions = actions or {}
    outputs: dict[str, dict[str, str]] = {}
    results: list[StepResult] = []
    job_env = dict(env)
    failed = False
    with tempfile.TemporaryDirectory(prefix="local-actions-") as scratch:
        summary = Path(scratch) / "step_summary.md"
        env_file = Path(scratch) / "env"
        path_file = Path(scratch) / "path"
        runner_temp = Path(scratch) / "runner-temp"
        runner_temp.mkdir()
        summary.touch()
        for number, step in enumerate(steps):
            name = step.get("name") or step.get("uses") or step.get("run", "")[:40]
            condition = step.get("if")
            if (condition is None and failed) or (
                condition is not None and condition not in ALWAYS
            ):
                results.append(StepResult(name, ran=False))
                continue
            step_env = {**job_env, **substitute(step.get("env") or {}, outputs, str(runner_temp))}
            if "uses" in step:
                handler = actions.get(step["uses"])
                value = (
                    handler(step_env, substitute(step.get("with") or {}, outputs, str(runner_temp)))
                    if handler
                    else None
                )
                results.append(StepResult(name, ran=handler is not None, value=value))
                continue
            output_file = Path(scratch) / f"output_{number}"
            output_file.touch()
            env_file.write_text("")
            path_file.write_text("")
            step_env |= {
                "GITHUB_OUTPUT": str(output_file),
                "GITHUB_STEP_SUMMARY": str(summary),
                "GITHUB_ENV": str(env_file),
                "GITHUB_PATH": str(path_file),
                "RUNNER_TEMP": str(runner_temp),
                "GITHUB_WORKSPACE": str(repo),
                "CI": "true",
                "GITHUB_ACTIONS": "true",
            }
            completed = subprocess.run(
                ["bash", "-e", "-c", step["run"]],
                cwd=repo,
                env=step_env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            step_outputs = parse_output_file(output_file.read_text(encoding="utf-8"))
            if "id" in step:
                outputs[step["id"]] = step_outputs
            job_env |= parse_output_file(env_file.read_text(encoding="utf-8"))
            added = [line for line in path_file.read_text(encoding="utf-8").splitlines() if line]
            if added:
                job_env["PATH"] = os.pathsep.join([*reversed(added), job_env.get("PATH", "")])
            results.append(
                StepResult(
                    name,
                    ran=True,
                    exit_code=completed.returncode,
                    output=completed.stdout + completed.stderr,
                    outputs=step_outputs,
                )
            )
            failed = failed or completed.returncode != 0
        return results, summary.read_text(encoding="utf-8")
