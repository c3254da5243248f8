"""pytest plugin behind `tiny test 05 --exercise 05.1`: keep only the tests whose
`@pytest.mark.exercise(...)` names one of the given exercises.

`-k 05_1` matches test names as substrings, so it also selects 05.10 and 05.11; the marker
is the exercise id itself. Runs after grading.plugin has split each exercise's points over
its tests (trylast), so the points of the tests kept are the points they are graded for.
"""

from __future__ import annotations

import pytest

EXERCISE_HELP = "run only the tests of this exercise id, e.g. 05.1 (repeat for more)"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tinytorch", "TinyTorch grading")
    group.addoption("--exercise", action="append", default=[], metavar="NN.K", help=EXERCISE_HELP)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = set(config.getoption("exercise") or ())
    if not wanted:
        return
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("exercise")
        chosen = marker is not None and marker.args and str(marker.args[0]) in wanted
        (keep if chosen else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
