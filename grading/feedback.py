"""What `tiny test` prints: one line per failing test, from pytest-json-report's report.

Pure functions (report dict in, text out); the command (grading/commands/test.py) runs pytest.

Each failing test becomes one line naming its exercise and what went wrong:
- "not started": the test stopped at its own exercise's stub
  (`NotImplementedError("exercise 01.1 ...")` raised by the exercise the test checks);
- "blocked by 01.1": it stopped at another exercise's stub (e.g. every Tensor test needs
  01.1's constructor): fix that one first, this test says nothing yet about its own code;
- otherwise the error's first line, then the frames of the student's own files (module
  sources, never the test file, pytest or NumPy), innermost last, at most MAX_FRAMES.

Hints are shown only for exercises the student has started (a test passed, or failed past
its stub) or asked about (`--exercise`); an untouched exercise gets a pointer to
`tiny hint NN.k`, not its hint.
"""

from __future__ import annotations

import linecache
import re
from dataclasses import dataclass, field
from pathlib import Path

from grading.course_modules import ModuleMeta
from grading.results import RunLimits, collection_error_message, explain, short_message

STUB = re.compile(r"NotImplementedError: exercise (?P<id>\d\d\.\d+)\b")
MAX_FRAMES = 3


@dataclass(frozen=True)
class Frame:
    path: str  # as the report names it, relative to the repository root
    line: int
    function: str
    source: str  # the line of code, stripped ('' when unreadable)

    def render(self) -> str:
        where = f"{Path(self.path).name}:{self.line} in {self.function}"
        return f"{where}: {self.source}" if self.source else where


@dataclass(frozen=True)
class Outcome:
    """One test's result as `tiny test` reports it."""

    name: str
    exercise: str  # '' for a test without an exercise (integration)
    passed: bool
    points: int = 0  # what the test is graded for
    kind: str = "passed"  # passed | not_started | blocked | failed
    message: str = ""
    blocker: str = ""  # the exercise whose stub stopped a blocked test
    frames: tuple[Frame, ...] = field(default=())


def _failed_phase(test: dict) -> dict | None:
    for phase in ("setup", "call", "teardown"):
        stage = test.get(phase) or {}
        if stage.get("outcome") == "failed":
            return stage
    return None


def _student_frames(stage: dict, root: Path, student_files: set[str]) -> tuple[Frame, ...]:
    frames = []
    for entry in stage.get("traceback") or ():
        path = str(entry.get("path", ""))
        relative = _relative(path, root)
        if relative not in student_files:
            continue
        line = int(entry.get("lineno") or 0)
        function = str(entry.get("message", "")).removeprefix("in ").strip() or "?"
        source = linecache.getline(str(root / relative), line).strip() if line else ""
        frames.append(Frame(relative, line, function, source))
    return tuple(frames[-MAX_FRAMES:])


def _relative(path: str, root: Path) -> str:
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            return candidate.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return candidate.as_posix()
    return candidate.as_posix()


def classify(
    test: dict, root: Path, student_files: set[str], limits: RunLimits | None = None
) -> Outcome:
    """One test of a pytest-json-report report as an Outcome. `student_files` are the
    repository-relative paths of files the student writes (the module sources)."""
    name = str(test.get("nodeid", "")).split("::", 1)[-1]
    metadata = test.get("metadata") or {}
    exercise, points = str(metadata.get("exercise") or ""), int(metadata.get("points") or 0)
    if test.get("outcome") == "passed":
        return Outcome(name, exercise, True, points)
    if test.get("outcome") == "skipped":  # a graded test earns nothing when skipped
        why = str((test.get("setup") or test.get("call") or {}).get("longrepr") or "")
        reason = why.rsplit("Skipped: ", 1)[-1].strip("')\" ") if why else "no reason given"
        return Outcome(name, exercise, False, points, "failed", f"skipped: {reason}")
    stage = _failed_phase(test) or {}
    crash = str((stage.get("crash") or {}).get("message") or stage.get("longrepr") or "")
    stub = STUB.search(crash)
    frames = _student_frames(stage, root, student_files)
    if stub and stub.group("id") == exercise:
        return Outcome(name, exercise, False, points, "not_started", frames=frames[-1:])
    if stub:
        return Outcome(name, exercise, False, points, "blocked", blocker=stub.group("id"))
    message = short_message(crash) or "failed without a message"
    if limits is not None:
        message = explain(message, limits) or message
    return Outcome(name, exercise, False, points, "failed", message, frames=frames)


def stub_note(message: str | None, exercise_id: str | None) -> str | None:
    """'not started' or 'blocked by 01.1 (still a stub)' when `message` is a stub's
    NotImplementedError, else None. Used by `tiny grade`'s table to say it without the hint."""
    stub = STUB.search(message or "")
    if stub is None:
        return None
    if stub.group("id") == exercise_id:
        return "not started"
    return f"blocked by {stub.group('id')} (still a stub)"


def started_exercises(outcomes: list[Outcome]) -> set[str]:
    """Exercises whose stub is gone: a test passed or failed past the stub."""
    return {o.exercise for o in outcomes if o.kind in ("passed", "failed") and o.exercise}


def _failure_line(outcome: Outcome, meta: ModuleMeta) -> list[str]:
    label = outcome.exercise or "integration"
    if outcome.kind == "not_started":
        frame = outcome.frames[0] if outcome.frames else None
        where = f" (its stub at {Path(frame.path).name}:{frame.line})" if frame else ""
        return [f"FAIL {label} {outcome.name}: not started{where}"]
    if outcome.kind == "blocked":
        owner = (
            f"Module {outcome.blocker[:2]}" if outcome.blocker[:2] != f"{meta.number:02d}" else ""
        )
        tail = f" in {owner}" if owner else ""
        return [f"FAIL {label} {outcome.name}: blocked by {outcome.blocker}{tail} (still a stub)"]
    lines = [f"FAIL {label} {outcome.name}: {outcome.message}"]
    lines += [f"    {frame.render()}" for frame in outcome.frames]
    return lines


def render(
    meta: ModuleMeta,
    report: dict,
    root: Path,
    student_files: set[str],
    asked: tuple[str, ...] = (),
    limits: RunLimits | None = None,
) -> str:
    """The compact report of one `tiny test` run: failing tests grouped by exercise in
    module.yaml order, each started (or asked-about) exercise's hint after its failures,
    then one summary line. Passed tests are only counted."""
    lines: list[str] = []
    collectors = [c for c in report.get("collectors") or () if c.get("outcome") == "failed"]
    for collector in collectors:
        why = collection_error_message(str(collector.get("longrepr") or ""))
        lines.append(f"ERROR the tests could not be loaded: {why}")
    outcomes = [classify(t, root, student_files, limits) for t in report.get("tests") or ()]
    started = started_exercises(outcomes) | set(asked)
    order = {exercise.id: index for index, exercise in enumerate(meta.exercises)}
    failed = [o for o in outcomes if not o.passed]
    for exercise_id in sorted({o.exercise for o in failed}, key=lambda e: order.get(e, 999)):
        for outcome in (o for o in failed if o.exercise == exercise_id):
            lines += _failure_line(outcome, meta)
        if exercise_id in started and exercise_id in order:
            hint = meta.exercise(exercise_id).hint
            if hint:
                lines.append(f"    hint {exercise_id}: {hint}")
    for exercise_id in asked:  # asked about and passing: still answer the question
        if exercise_id not in {o.exercise for o in failed} and meta.exercise(exercise_id).hint:
            lines.append(f"hint {exercise_id}: {meta.exercise(exercise_id).hint}")
    lines.append(summary_line(meta, outcomes, failed, started))
    return "\n".join(lines) + "\n"


def summary_line(
    meta: ModuleMeta, outcomes: list[Outcome], failed: list[Outcome], started: set[str]
) -> str:
    passed = len(outcomes) - len(failed)
    earned = sum(o.points for o in outcomes if o.passed)
    possible = sum(o.points for o in outcomes)
    text = f"{passed} of {len(outcomes)} tests passed ({earned}/{possible} points)."
    if not outcomes:
        text = "No test ran."
    todo = [o for o in failed if o.kind in ("not_started", "blocked")]
    if todo:
        first = min(
            (o.blocker if o.kind == "blocked" else o.exercise for o in todo),
            key=lambda e: (e[:2], int(e.split(".")[1])),
        )
        if first not in started:
            text += f" Next: exercise {first} (`tiny hint {first}` for a hint)."
    number = f"{meta.number:02d}"
    return text + f" `tiny test {number} -v` shows pytest's full output."
