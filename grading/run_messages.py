"""Plain-words messages from raw pytest output: the first useful line of a failure, what a
time-out or MemoryError means, where a SyntaxError is. Pure functions of text (and of the
run's limits), used by grading/results.py.
"""

from __future__ import annotations

import re

MESSAGE_LIMIT = 300

_NUMPY_HEADERS = ("Not equal to tolerance", "Arrays are not equal", "Arrays are not almost equal")
_ERROR_LINE = re.compile(
    r"^(?:E\s+)?((?:[A-Za-z_][\w.]*)?(?:Error|Exception|Exit)\b.*|Failed: .*)$"
)
_FILE_LINE = re.compile(r'^(?:E\s+)?File "(?P<path>[^"]+)", line (?P<line>\d+)')
TIMEOUT_LINE = re.compile(r"Timeout \(>[\d.]+s\) from pytest-timeout")


def short_message(text: str | None, limit: int = MESSAGE_LIMIT) -> str | None:
    """First useful line of a failure: 'AssertionError: shapes differ ...', trimmed.

    A bare 'AssertionError:' takes the next line; NumPy's 'Not equal to tolerance'
    header takes the line after it (the test's err_msg, or the mismatch count)."""
    if not text:
        return None
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    if not lines:
        return None
    first, rest = lines[0], lines[1:]
    if first.endswith(":") and rest:
        first, rest = f"{first} {rest[0]}", rest[1:]
    if any(header in first for header in _NUMPY_HEADERS) and rest:
        first = f"{first} — {rest[0]}"
    return first if len(first) <= limit else first[: limit - 1] + "…"


def format_bytes(count: int | None) -> str:
    if count is None:
        return "no limit"
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            value = count / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{count} bytes"


def explain(message: str | None, limits) -> str | None:
    """Say in plain words what a raw failure line means when it is about the sandbox."""
    if message is None:
        return None
    if TIMEOUT_LINE.search(message):
        return (
            f"took longer than {limits.test_timeout:g} s (the per-test time limit) and was "
            f"stopped: an infinite loop, or far more work than the exercise needs?"
        )
    if "MemoryError" in message:
        detail = message.split(":", 1)[1].strip() if ":" in message else ""
        return short_message(
            f"ran out of memory (limit {format_bytes(limits.memory_bytes)}): "
            f"{detail or 'MemoryError'}. Is something growing without end?"
        )
    if message.startswith("SystemExit"):
        return short_message(
            f"your code called sys.exit() ({message}): graded code must return a value or "
            f"raise an error, never end the process"
        )
    return message


def relative_paths(text: str | None, aliases: tuple[tuple[str, str], ...]) -> str | None:
    """Replace machine-specific path prefixes (temporary folders) by repository paths."""
    if text is None:
        return None
    for actual, shown in aliases:
        text = text.replace(actual, shown)
    return text


def collection_error_message(longrepr: str, aliases: tuple[tuple[str, str], ...] = ()) -> str:
    """The line that says why a test file could not be imported, with file and line for a
    SyntaxError: 'SyntaxError: invalid syntax (modules/01_tensor/tensor.py, line 41)'."""
    lines = [line.rstrip() for line in longrepr.splitlines() if line.strip()]
    error, where = None, None
    for line in lines:
        file_match = _FILE_LINE.match(line.strip())
        if file_match:
            where = f"{file_match['path']}, line {file_match['line']}"
        error_match = _ERROR_LINE.match(line.strip())
        if error_match:
            error = error_match.group(1)
    if error is None:
        error = next((line.strip() for line in reversed(lines)), "unknown error")
    if where and error.startswith(("SyntaxError", "IndentationError", "TabError")):
        error = f"{error} ({where})"
    return short_message(relative_paths(error, aliases)) or "unknown error"
