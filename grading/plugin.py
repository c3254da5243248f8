"""pytest plugin: every test in a module's graded test file carries an exercise id.

Contract:
- `@pytest.mark.exercise("03.2")` ties a test to exercise 03.2 of module.yaml; an
  exercise's points are split over its tests as evenly as whole numbers allow
  (10 points over 3 tests: 4, 3, 3, in file order).
- `@pytest.mark.integration` marks a test across modules: run, never graded.
- A test in a graded test file with neither marker, or an unknown id, is a
  collection error: an ungraded test in a graded file is a bug in the course.
- Each graded test's id, label and points are stashed on the item and added to
  pytest-json-report's per-test `metadata` (`exercise`, `label`, `points`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grading.course_modules import ModuleMeta, find_module_folder, load_module_meta

GRADE_KEY = pytest.StashKey[dict]()
_META_CACHE: dict[Path, ModuleMeta] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "exercise(id): the graded exercise this test checks")
    config.addinivalue_line("markers", "integration: a test across modules, not graded")


def _module_of(item: pytest.Item) -> ModuleMeta | None:
    folder = find_module_folder(Path(str(item.path)).parent)
    if folder is None:
        return None
    if folder not in _META_CACHE:
        _META_CACHE[folder] = load_module_meta(folder)
    meta = _META_CACHE[folder]
    return meta if Path(str(item.path)).name == meta.tests else None


def split_points(points: int, parts: int) -> list[int]:
    """Whole-number shares of `points` over `parts` tests, larger shares first."""
    base, extra = divmod(points, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def pytest_collection_modifyitems(session: pytest.Session, config, items) -> None:
    by_exercise: dict[tuple[Path, str], list[pytest.Item]] = {}
    problems = []
    for item in items:
        meta = _module_of(item)
        if meta is None:
            continue
        marker = item.get_closest_marker("exercise")
        if marker is None:
            if item.get_closest_marker("integration") is None:
                problems.append(f"{item.nodeid}: graded test without @pytest.mark.exercise(id)")
            continue
        exercise_id = str(marker.args[0]) if marker.args else ""
        try:
            exercise = meta.exercise(exercise_id)
        except ValueError as error:
            problems.append(f"{item.nodeid}: {error}")
            continue
        item.stash[GRADE_KEY] = {"exercise": exercise.id, "label": exercise.label, "points": 0}
        by_exercise.setdefault((meta.folder, exercise.id), []).append(item)
    if problems:
        raise pytest.UsageError("graded tests are mislabelled:\n  " + "\n  ".join(problems))
    for (folder, exercise_id), tests in by_exercise.items():
        total = _META_CACHE[folder].exercise(exercise_id).points
        for test, share in zip(tests, split_points(total, len(tests)), strict=True):
            test.stash[GRADE_KEY]["points"] = share


@pytest.hookimpl(optionalhook=True)
def pytest_json_runtest_metadata(item: pytest.Item, call) -> dict:
    """Add the exercise id and points to pytest-json-report's record of this test."""
    return dict(item.stash.get(GRADE_KEY, {}))
