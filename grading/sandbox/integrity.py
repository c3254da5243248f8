"""Snapshot, in the test process, of the objects a grade relies on; report what changed.

    integrity = Integrity(pluginmanager)   # at pytest_configure, before student code runs
    integrity.changed() -> list[str]       # e.g. ['numpy.testing.assert_allclose']

Checked by identity: every attribute of `builtins`; numpy's comparison functions and all of
`numpy.testing`; pytest's outcome helpers (fail, raises, approx, skip, ...); the classes
that carry outcomes (`_pytest.reports.TestReport`, `CallInfo`, the runner's functions) and
every attribute of those classes; `json`'s writers; the `sys.modules` entry of each of
those modules; and the hook implementations registered for the hooks that make and log
reports. Student code that replaces any of them to make a failing test pass is named.

Cost: a few thousand `id()` calls per check, well under a millisecond.
Limit: this code runs in the same process as the student's, so a file that evades the
static policy (grading/policy.py) could in principle disable it; it is one layer of three.
"""

from __future__ import annotations

import builtins
import json
import sys

import _pytest.outcomes
import _pytest.python
import _pytest.reports
import _pytest.runner
import numpy
import numpy.testing
import pytest

CHECKED_MODULES = (
    "builtins",
    "json",
    "numpy",
    "numpy.testing",
    "pytest",
    "_pytest.reports",
    "_pytest.runner",
    "_pytest.outcomes",
    "_pytest.python",
    "grading.sandbox.plugin",
    "grading.sandbox.integrity",
)
NUMPY_FUNCTIONS = ("allclose", "array_equal", "isclose", "array", "asarray", "all", "any")
PYTEST_FUNCTIONS = ("fail", "raises", "approx", "skip", "xfail", "importorskip", "warns")
CLASSES = (
    ("_pytest.reports.TestReport", _pytest.reports.TestReport),
    ("_pytest.reports.BaseReport", _pytest.reports.BaseReport),
    ("_pytest.reports.CollectReport", _pytest.reports.CollectReport),
    ("_pytest.runner.CallInfo", _pytest.runner.CallInfo),
    ("_pytest.python.Function", _pytest.python.Function),
)
RUNNER_FUNCTIONS = (
    "call_and_report",
    "runtestprotocol",
    "call_runtest_hook",
    "check_interactive_exception",
)
HOOKS = (
    "pytest_runtest_protocol",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_runtest_logreport",
    "pytest_runtest_logfinish",
    "pytest_report_teststatus",
    "pytest_collection_modifyitems",
    "pytest_collection_finish",
    "pytest_sessionfinish",
    "pytest_pyfunc_call",
)
IGNORED_BUILTINS = ("_",)  # set by the interactive interpreter
PYTEST_CACHES = ("_pytest_",)  # flags pytest itself sets on its classes once


def _snapshot(pluginmanager) -> dict[str, int]:
    seen: dict[str, int] = {}
    for name, value in vars(builtins).items():
        if name not in IGNORED_BUILTINS:
            seen[f"builtins.{name}"] = id(value)
    for name in NUMPY_FUNCTIONS:
        seen[f"numpy.{name}"] = id(getattr(numpy, name, None))
    for name in dir(numpy.testing):
        if not name.startswith("_"):
            seen[f"numpy.testing.{name}"] = id(getattr(numpy.testing, name))
    for name in PYTEST_FUNCTIONS:
        seen[f"pytest.{name}"] = id(getattr(pytest, name, None))
    for name in ("fail", "skip", "exit", "xfail", "Exit", "Skipped", "Failed"):
        seen[f"_pytest.outcomes.{name}"] = id(getattr(_pytest.outcomes, name, None))
    for name in RUNNER_FUNCTIONS:
        seen[f"_pytest.runner.{name}"] = id(getattr(_pytest.runner, name, None))
    for label, cls in CLASSES:
        for klass in cls.__mro__:
            if klass is object:
                continue
            for name, value in vars(klass).items():
                if name.startswith(PYTEST_CACHES):
                    continue
                seen[f"{label}({klass.__name__}).{name}"] = id(value)
    for name in ("dumps", "dump", "JSONEncoder"):
        seen[f"json.{name}"] = id(getattr(json, name))
    for name in CHECKED_MODULES:
        seen[f"sys.modules[{name!r}]"] = id(sys.modules.get(name))
    for hook in HOOKS:
        caller = getattr(pluginmanager.hook, hook, None)
        for impl in caller.get_hookimpls() if caller is not None else []:
            seen[f"hook {hook} of {impl.plugin_name}"] = id(impl.function)
        seen[f"hook {hook}: number of implementations"] = -len(
            caller.get_hookimpls() if caller is not None else []
        )
    return seen


class Integrity:
    """Holds the start-up snapshot; `changed()` lists every entry that differs now."""

    def __init__(self, pluginmanager) -> None:
        self.pluginmanager = pluginmanager
        self.start = _snapshot(pluginmanager)

    def changed(self) -> list[str]:
        now = _snapshot(self.pluginmanager)
        return sorted(
            name for name in self.start.keys() | now.keys() if self.start.get(name) != now.get(name)
        )
