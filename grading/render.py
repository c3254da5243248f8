"""Pure renderers of a results object (`tinytorch/results/v1`): terminal table, Markdown
summary, GitHub Classroom grader result. Each takes the results dict and returns text or a
dict; no file, process or environment access (the `tiny grade` command does the writing).

GitHub Classroom result format (confirmed in classroom-resources/autograding-grading-reporter
src/main.js, src/notify-classroom.js, src/console-results.js, src/helpers/test-helpers.js,
and autograding-command-grader src/main.js): a grader step sets its output
`result=<base64 of JSON>`; the reporter step reads it from the env var
`<STEP-ID upper-cased>_RESULTS` for each id in its `runners` input and decodes it. JSON:

    {"version": 1, "status": "pass" | "fail" | "error", "max_score": int,
     "tests": [{"name", "status": "pass" | "fail" | "error", "score", "message",
                "test_code", "filename", "line_no", "execution_time"}]}

GitHub Classroom records `Points <sum of tests[].score>/<sum of max_score>` (the notice the
reporter writes); the reporter's console table instead shows passed/total tests times
max_score, so with unequal per-test points that table can differ from the recorded grade;
our own table (this step's log and the step summary) shows the exact points.
Schema: grading/schemas/classroom_result.v1.schema.json.
"""

from __future__ import annotations

import base64
import json

from grading.feedback import stub_note
from grading.results import format_bytes
from grading.schemas import validate

STATUS_WORDS = {
    "passed": "passed",
    "failed": "failed",
    "error": "error",
    "timeout": "timed out",
    "crashed": "crashed",
    "not_run": "not run",
}
CLASSROOM_STATUS = {
    "passed": "pass",
    "failed": "fail",
    "error": "error",
    "timeout": "error",
    "crashed": "error",
    "not_run": "error",
}


def _module_name(module: dict) -> str:
    return f"{module['number']:02d} {module['title']}"


def _failures(module: dict) -> list[dict]:
    return [t for t in module["tests"] if t["status"] != "passed" and t["graded"]]


def module_note(module: dict) -> str:
    """One short phrase on what went wrong in a module ('' when it passed)."""
    if module["status"] == "passed":
        return ""
    run = module["run"]
    if run["ended"] != "completed" and run["message"]:
        return {
            "collection_error": "tests could not be loaded",
            "crashed": "test process crashed",
            "wall_timeout": "stopped at the time limit",
            "grader_error": "grader error",
            "refused": "not run: refused",
            "tampered": "tampering detected",
        }[run["ended"]]
    failed = _failures(module)
    graded = [t for t in module["tests"] if t["graded"]]
    return f"{len(failed)} of {len(graded)} tests not passed"


def _test_parts(test: dict, module: dict) -> tuple[str, str, str, str, str | None]:
    """(label, test name or '', 'earned/possible', status words, message or None); the
    module's own run message is not repeated on each of its tests."""
    points = f"{test['points']['earned']}/{test['points']['possible']}"
    name = test["name"] if test["nodeid"] else ""
    message = test["message"] if test["message"] != module["run"]["message"] else None
    return test["label"] or "", name, points, STATUS_WORDS[test["status"]], message


def _test_line(test: dict, module: dict) -> str:
    label, name, points, status, message = _test_parts(test, module)
    line = f"{label}  {name + '  ' if name else ''}[{points}]  {status}"
    return line + (f": {message}" if message else "")


# ---- terminal ---------------------------------------------------------------------------


def points_table(results: dict) -> str:
    """The plain-text table `tiny grade` prints: one row per module, then every failure."""
    rows = [
        (_module_name(m), f"{m['points']['earned']}/{m['points']['possible']}", m)
        for m in results["modules"]
    ]
    width = max([len(name) for name, _, _ in rows] + [len("Module")])
    lines = [f"{'Module':<{width}}  {'Points':>9}  Status"]
    for name, points, module in rows:
        note = module_note(module)
        lines.append(
            f"{name:<{width}}  {points:>9}  {module['status']}{'  ' + note if note else ''}"
        )
    total = results["points"]
    lines.append("-" * (width + 24))
    points = f"{total['earned']}/{total['possible']}"
    lines.append(f"{'Total':<{width}}  {points:>9}  {results['status']}")
    for milestone in results["milestones"]:
        lines.append(f"Milestone {milestone['number']} {milestone['name']}: {milestone['message']}")
    for finding in results["tamper"]["findings"]:
        lines.append(f"WARNING {finding['message']}")
    for error in results["errors"]:
        lines.append(f"ERROR {error}")
    for module in results["modules"]:
        failed = _failures(module)
        if not failed and module["status"] != "error":
            continue
        lines.append("")
        lines.append(f"Module {_module_name(module)}:")
        if module["run"]["message"]:
            lines.append(f"  {module['run']['message']}")
        stubbed: set[str] = set()  # one line per exercise stopped at a stub, without its hint
        for test in failed:
            note = stub_note(test["message"], test["exercise"])
            if note is None:
                lines.append(f"  {_test_line(test, module)}")
            elif test["label"] not in stubbed:
                stubbed.add(test["label"])
                lines.append(f"  {test['label']}  {note}")
    return "\n".join(lines) + "\n"


# ---- Markdown ------------------------------------------------------------------------------


def _md(text: str | None) -> str:
    """Student-produced text inside Markdown: no HTML, no table breaks, one line."""
    if not text:
        return ""
    return " ".join(text.replace("<", "&lt;").replace("|", "\\|").split())


def markdown_summary(results: dict) -> str:
    """The Markdown report for students and TAs (the job summary, summary.md), in the order
    a reader needs it: the total (the number Classroom records), the points per module, the
    milestones' verdicts, what to fix (each failure with its exercise id and message), then
    grader errors and protected files that were changed."""
    total = results["points"]
    out = [f"## TinyTorch grade: {total['earned']} / {total['possible']} points", ""]
    out += ["| Module | Points | Status | Note |", "|---|---:|---|---|"]
    for module in results["modules"]:
        points = f"{module['points']['earned']} / {module['points']['possible']}"
        out.append(
            f"| {_md(_module_name(module))} | {points} | {module['status']} | "
            f"{_md(module_note(module))} |"
        )
    out += [f"| **Total** | **{total['earned']} / {total['possible']}** | {results['status']} | |"]
    if results["milestones"]:
        out += ["", "### Milestones", "", "| Milestone | Status | Result |", "|---|---|---|"]
        for milestone in results["milestones"]:
            out.append(
                f"| {milestone['number']} {_md(milestone['name'])} | {milestone['status']} | "
                f"{_md(milestone.get('message'))} |"
            )
    problems = [m for m in results["modules"] if _failures(m) or m["status"] == "error"]
    if problems:
        out += ["", "### What to fix", ""]
        for module in problems:
            out.append(f"**Module {_md(_module_name(module))}**")
            out.append("")
            if module["run"]["message"]:
                out.append(f"- {_md(module['run']['message'])}")
            stubbed: set[str] = set()  # one line per exercise stopped at a stub, no hint
            for test in _failures(module):
                label, name, points, status, message = _test_parts(test, module)
                note = stub_note(test["message"], test["exercise"])
                if note is not None:
                    if label not in stubbed:
                        stubbed.add(label)
                        out.append(f"- **{_md(label)}**: {note} (`tiny hint {test['exercise']}`)")
                    continue
                shown = f" `{name}`" if name else ""
                tail = f": {_md(message)}" if message else ""
                out.append(f"- **{_md(label)}**{shown} ({points}, {status}){tail}")
            out.append("")
    if results["errors"]:
        out += ["", "> [!CAUTION]", "> **The grader could not finish:**"]
        out += [f"> - {_md(error)}" for error in results["errors"]]
    tamper = results["tamper"]
    if tamper["findings"]:
        out += [
            "",
            "> [!WARNING]",
            f"> **Protected files were changed.** Checked against: {_md(tamper['manifest'])}. "
            f"Grading used the tests from: {_md(results['tests_source']['detail'])}.",
        ]
        words = {"modified": "changed", "deleted": "deleted", "added": "added (grading ignores it)"}
        out += [
            f"> - `{_md(f['path'])}` {words.get(f['kind'], f['kind'])}" for f in tamper["findings"]
        ]
    graded = [m for m in results["modules"] if m["run"]["ended"] != "grader_error"]
    limits = {m["run"]["limits"]["memory_bytes"] for m in graded}
    if limits:
        memory = ", ".join(format_bytes(limit) for limit in sorted(limits, key=lambda x: x or 0))
        out += [
            "",
            f"<sub>Tests from: {_md(results['tests_source']['detail'])}. "
            f"Memory limit per module: {memory}.</sub>",
        ]
    return "\n".join(out) + "\n"


# ---- GitHub Classroom ---------------------------------------------------------------------


def classroom_result(results: dict, module_keys: list[str] | None = None) -> dict:
    """The Classroom grader result for the given modules (default: all in `results`):
    one entry per graded test, score = points earned, max_score = points possible."""
    modules = [m for m in results["modules"] if module_keys is None or m["key"] in set(module_keys)]
    tests = []
    for module in modules:
        for test in module["tests"]:
            if not test["graded"]:
                continue
            status = CLASSROOM_STATUS[test["status"]]
            points = f"{test['points']['earned']}/{test['points']['possible']}"
            name = f"{test['label']} · {test['name']} ({points} pts)"
            message = test["message"]
            if status == "error":  # the reporter prints only the message for errors
                message = f"{name}: {STATUS_WORDS[test['status']]}: {message}"
            tests.append(
                {
                    "name": name,
                    "status": status,
                    "score": test["points"]["earned"],
                    "message": message,
                    "test_code": f"tiny test {module['number']:02d} -k {test['name']}"
                    if test["nodeid"]
                    else f"tiny test {module['number']:02d}",
                    "filename": module["files"]["tests"],
                    "line_no": test["line"] or 0,
                    "execution_time": f"{round(test['duration'] * 1000)}ms",
                }
            )
    if results["errors"] or any(m["status"] == "error" for m in modules):
        status = "error"
    elif all(t["status"] == "pass" for t in tests) and tests:
        status = "pass"
    else:
        status = "fail"
    payload = {
        "version": 1,
        "status": status,
        "max_score": sum(m["points"]["possible"] for m in modules),
        "tests": tests,
    }
    validate("classroom_result", payload, "classroom result")
    return payload


def encode_classroom(payload: dict) -> str:
    """base64 of the compact JSON, one line: the value of the step output `result`."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def decode_classroom(value: str) -> dict:
    """What the reporter does: base64-decode, then JSON-parse."""
    return json.loads(base64.b64decode(value).decode("utf-8"))
