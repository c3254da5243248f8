"""Which tests a graded test file holds and what each is worth, decided without running it.

    expected_tests(tests_path, meta) -> list[ExpectedTest]      (static: reads the file's AST)
    assign_points(expected, collected_ids, meta) -> dict | str  (nodeid -> GradedTest, or why not)

The grader never takes a test's points, or the list of tests, from the process that ran
student code: it reads the pristine test file itself. A test is a top-level function whose
name starts with `test` (or a method of a `Test*` class); its exercise is the argument of
its `@pytest.mark.exercise("NN.k")` decorator; a `@pytest.mark.parametrize` with a literal
list (or a module-level name bound to one) of N values makes N instances. The ids the test
process reports must be exactly these: anything missing, added or repeated is tampering.

An exercise's points (module.yaml, with the course configuration's overrides applied by
`apply_course_config`) are split over its tests as evenly as whole numbers allow, larger
shares first in file order (10 over 3 tests: 4, 3, 3).
"""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass
from pathlib import Path

from grading.course_config import CourseConfig
from grading.course_modules import ModuleMeta


@dataclass(frozen=True)
class ExpectedTest:
    """name: 'test_x' or 'TestY::test_x'; instances: parametrized count (1 if not);
    exercise: id or None for an @pytest.mark.integration test (run, not graded)."""

    name: str
    line: int
    exercise: str | None
    instances: int


@dataclass(frozen=True)
class GradedTest:
    exercise: str | None
    label: str | None
    points: int
    line: int


class UnreadableTestFile(ValueError):
    """The pristine test file cannot be read statically: a course bug, not a student's."""


def apply_course_config(meta: ModuleMeta, course: CourseConfig | None) -> ModuleMeta:
    """module.yaml's metadata with the course's point and timeout overrides applied."""
    if course is None:
        return meta
    points = course.exercise_points(meta)
    exercises = tuple(dataclasses.replace(e, points=points[e.id]) for e in meta.exercises)
    return dataclasses.replace(meta, exercises=exercises, timeout=course.module_timeout(meta))


def split_points(points: int, parts: int) -> list[int]:
    """Whole-number shares of `points` over `parts` tests, larger shares first."""
    base, extra = divmod(points, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _marker(decorator: ast.AST, constants: dict[str, ast.AST]) -> tuple[str, ast.Call | None]:
    """('exercise', call) for @pytest.mark.exercise(...) or an alias of it bound at module
    level (`exercise = pytest.mark.exercise`), ('integration', None), ..."""
    call = decorator if isinstance(decorator, ast.Call) else None
    target = call.func if call else decorator
    if isinstance(target, ast.Name) and target.id in constants:
        target = constants[target.id]
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Attribute):
        if target.value.attr == "mark":
            return target.attr, call
    return "", None


def _literal_length(node: ast.AST, constants: dict[str, ast.AST], where: str) -> int:
    if isinstance(node, ast.Name) and node.id in constants:
        node = constants[node.id]
    if isinstance(node, ast.List | ast.Tuple):
        return len(node.elts)
    raise UnreadableTestFile(f"{where}: parametrize values must be a literal list to be graded")


def _test(node: ast.FunctionDef, name: str, constants: dict, where: str) -> ExpectedTest:
    exercise, instances, integration = None, 1, False
    for decorator in node.decorator_list:
        kind, call = _marker(decorator, constants)
        if kind == "exercise" and call and call.args and isinstance(call.args[0], ast.Constant):
            exercise = str(call.args[0].value)
        elif kind == "integration":
            integration = True
        elif kind == "parametrize" and call and len(call.args) >= 2:
            instances *= _literal_length(call.args[1], constants, f"{where}:{node.lineno}")
    if exercise is None and not integration:
        raise UnreadableTestFile(f"{where}:{node.lineno}: {name} has no @pytest.mark.exercise(id)")
    return ExpectedTest(name, node.lineno, exercise, instances)


def expected_tests(tests_path: Path, where: str | None = None) -> list[ExpectedTest]:
    """Every test of the pristine file at `tests_path`, in file order.
    Raises UnreadableTestFile when the file cannot be read, parsed or labelled."""
    where = where or str(tests_path)
    try:
        tree = ast.parse(tests_path.read_bytes(), where)
    except (OSError, SyntaxError, ValueError) as error:
        raise UnreadableTestFile(f"{where}: cannot be read: {error}") from error
    constants = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found: dict[str, ExpectedTest] = {}  # a redefinition replaces, as in Python
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            found[node.name] = _test(node, node.name, constants, where)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for method in node.body:
                if isinstance(method, ast.FunctionDef) and method.name.startswith("test"):
                    name = f"{node.name}::{method.name}"
                    found[name] = _test(method, name, constants, where)
    return list(found.values())


def _base_name(test_id: str) -> str:
    return test_id.split("[", 1)[0]


def assign_points(
    expected: list[ExpectedTest], collected_ids: list[str], meta: ModuleMeta
) -> dict[str, GradedTest] | str:
    """Points of every collected test id ('test_x', 'test_y[3-1]'), decided from `expected`
    and `meta`; or a sentence saying how the collected ids differ from the file."""
    by_name = {test.name: test for test in expected}
    if len(set(collected_ids)) != len(collected_ids):
        return "the test process reported a test twice"
    counts: dict[str, int] = {}
    for test_id in collected_ids:
        base = _base_name(test_id)
        test = by_name.get(base)
        if test is None:
            return f"the test process reported a test the file does not define: {test_id}"
        if (test.instances == 1) != (base == test_id):
            return f"the test process reported {test_id}, which the file does not define"
        counts[base] = counts.get(base, 0) + 1
    for test in expected:
        if counts.get(test.name, 0) != test.instances:
            return (
                f"the test process reported {counts.get(test.name, 0)} runs of {test.name}, "
                f"the file defines {test.instances}"
            )
    order = {test.name: index for index, test in enumerate(expected)}
    ordered = sorted(collected_ids, key=lambda i: order[_base_name(i)])  # stable: param order
    by_exercise: dict[str, list[str]] = {}
    for test_id in ordered:
        exercise = by_name[_base_name(test_id)].exercise
        if exercise is not None:
            by_exercise.setdefault(exercise, []).append(test_id)
    known = {exercise.id: exercise for exercise in meta.exercises}
    assigned = {
        test_id: GradedTest(None, None, 0, by_name[_base_name(test_id)].line) for test_id in ordered
    }
    for exercise_id, ids in by_exercise.items():
        exercise = known.get(exercise_id)
        if exercise is None:
            return f"the test file names exercise {exercise_id}, which module.yaml does not list"
        for test_id, share in zip(ids, split_points(exercise.points, len(ids)), strict=True):
            line = by_name[_base_name(test_id)].line
            assigned[test_id] = GradedTest(exercise.id, exercise.label, share, line)
    return {test_id: assigned[test_id] for test_id in ordered}
