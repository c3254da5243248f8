"""Run one job of a GitHub Actions workflow on this machine, as a runner would, for testing.

Each `run:` step runs in order with `bash -e` in the repository, with GitHub's files
emulated: a fresh $GITHUB_OUTPUT per step (its `key=value` and `key<<EOF` lines become
`steps.<id>.outputs.<key>`), one $GITHUB_STEP_SUMMARY and $GITHUB_ENV (whose lines join
the environment of later steps). `${{ steps.<id>.outputs.<key> }}` in a step's `env:` and
`with:` is substituted. `uses:` steps are handed to `actions[<name@version>]` when given
(e.g. an emulation of the reporter), else skipped. `if:` is honoured for the expressions
our workflows use: `${{ !cancelled() }}`/`always()` run, no `if:` runs only after success.
This is not a GitHub runner: no containers, no services, no contexts beyond `steps`.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\s*\}\}")
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


def substitute(value, outputs: dict[str, dict[str, str]]):
    """Replace `${{ steps.X.outputs.Y }}` in strings (recursively in mappings)."""
    if isinstance(value, dict):
        return {k: substitute(v, outputs) for k, v in value.items()}
    if isinstance(value, str):
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
        summary.touch()
        for number, step in enumerate(steps):
            name = step.get("name") or step.get("uses") or step.get("run", "")[:40]
            condition = step.get("if")
            if (condition is None and failed) or (
                condition is not None and condition not in ALWAYS
            ):
                results.append(StepResult(name, ran=False))
                continue
            step_env = {**job_env, **substitute(step.get("env") or {}, outputs)}
            if "uses" in step:
                handler = actions.get(step["uses"])
                value = (
                    handler(step_env, substitute(step.get("with") or {}, outputs))
                    if handler
                    else None
                )
                results.append(StepResult(name, ran=handler is not None, value=value))
                continue
            output_file = Path(scratch) / f"output_{number}"
            output_file.touch()
            env_file.write_text("")
            step_env |= {
                "GITHUB_OUTPUT": str(output_file),
                "GITHUB_STEP_SUMMARY": str(summary),
                "GITHUB_ENV": str(env_file),
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
