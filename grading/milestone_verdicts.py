"""What a milestone run means: its record in the results schema, decided by the grader.

    milestone_record(number, name, exit_code, output) -> record
    parse_record(text, where) -> record            (raises VerdictError)

A record is {number, name, status: passed | failed | error | not_run, message}. The status
comes from how the milestone's own code ended (exit code 0 PASS, 1 FAIL, anything else an
error, None stopped at its time limit); the message is the milestone's last verdict line
that agrees with that status (`PASS: …` / `FAIL: …`), so printed text alone cannot turn a
failed run into a passed one.
"""

from __future__ import annotations

import json

from grading.commands.milestone import verdict_line

STATUSES = ("passed", "failed", "error", "not_run")
FIELDS = {"number": int, "name": str, "status": str, "message": str}


class VerdictError(ValueError):
    """A milestone record that is not one; the message names where it came from."""


def milestone_name(module_name: str) -> str:
    """'milestones.m2_xor_1969' -> 'xor 1969'."""
    return module_name.rsplit(".", 1)[1].split("_", 1)[1].replace("_", " ")


def milestone_record(number: int, name: str, exit_code: int | None, output: str) -> dict:
    """Pure: one results-schema record from how a milestone process ended."""
    if exit_code is None:
        status, message = "failed", "stopped: the milestone ran past its time limit"
    elif exit_code in (0, 1):
        status = "passed" if exit_code == 0 else "failed"
        word = "PASS" if exit_code == 0 else "FAIL"
        agreeing = "\n".join(line for line in output.splitlines() if line.strip().startswith(word))
        message = verdict_line(agreeing) or ("passed" if exit_code == 0 else "failed its threshold")
    else:
        tail = [line for line in output.splitlines() if line.strip()][-1:]
        status = "error"
        message = f"exited with code {exit_code}: {tail[0] if tail else 'no output'}"
    return {"number": number, "name": name, "status": status, "message": message[:300]}


def parse_record(text: str | None, where: str) -> dict:
    """A record read back from JSON, checked field by field."""
    try:
        value = json.loads(text) if text else None
    except json.JSONDecodeError as error:
        raise VerdictError(f"{where}: not JSON ({error})") from error
    if not (
        isinstance(value, dict)
        and set(value) == set(FIELDS)
        and all(isinstance(value[k], t) for k, t in FIELDS.items())
        and value["status"] in STATUSES
    ):
        raise VerdictError(f"{where}: not a milestone record (number, name, status, message)")
    return value
