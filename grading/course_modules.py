"""Module metadata (`modules/NN_name/module.yaml`): the one schema, validated at load.

Every consumer — imports, graded tests, points table, templates, lint — reads modules
through `load_module_meta` / `load_all_modules`, so a typo fails here with the file
name and the key to fix, never as a wrong grade later.

Schema (version 1), one YAML mapping per module:
    number: int 1–99, equal to the NN of the folder name
    slug: str, equal to the folder name after NN_
    title: str
    tier: str (foundation | architecture | optimization | capstone)
    source: str — the one file the student edits, relative to the folder
    tests: str — the graded test file, relative to the folder
    prerequisites: list[int] — module numbers this one builds on (all smaller)
    exports: {namespace: [names]} — e.g. {"tinytorch.core": ["Tensor"]}
    terms: list[str] — vocabulary this module introduces (forward-dependency lint)
    timeout: int seconds per test (default 30)
    exercises: list of {id: "NN.k", name: snake_case, points: int > 0, hint: str}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

TIERS = ("foundation", "architecture", "optimization", "capstone")
EXERCISE_ID = re.compile(r"^(\d\d)\.(\d+)$")
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
DEFAULT_TIMEOUT = 30


class ModuleMetaError(ValueError):
    """A module.yaml that does not follow the schema; the message names file and key."""


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str
    points: int
    hint: str

    @property
    def label(self) -> str:
        """The name used everywhere a person reads it: '01.3 matmul'."""
        return f"{self.id} {self.name}"


@dataclass(frozen=True)
class ModuleMeta:
    number: int
    slug: str
    title: str
    tier: str
    folder: Path
    source: str
    tests: str
    prerequisites: tuple[int, ...]
    exports: dict[str, tuple[str, ...]]
    terms: tuple[str, ...]
    timeout: int
    exercises: tuple[Exercise, ...]

    @property
    def key(self) -> str:
        """Folder name, e.g. '01_tensor'."""
        return self.folder.name

    @property
    def points(self) -> int:
        return sum(exercise.points for exercise in self.exercises)

    @property
    def source_path(self) -> Path:
        return self.folder / self.source

    @property
    def tests_path(self) -> Path:
        return self.folder / self.tests

    def exercise(self, exercise_id: str) -> Exercise:
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        known = ", ".join(e.id for e in self.exercises)
        raise ModuleMetaError(
            f"{self.folder / 'module.yaml'}: no exercise '{exercise_id}' (known: {known})"
        )


def _require(meta: dict, key: str, kind: type, where: Path):
    if key not in meta:
        raise ModuleMetaError(f"{where}: missing key '{key}'")
    value = meta[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ModuleMetaError(
            f"{where}: '{key}' must be {kind.__name__}, got {type(value).__name__} {value!r}"
        )
    return value


def _exercise(raw, number: int, where: Path) -> Exercise:
    if not isinstance(raw, dict):
        raise ModuleMetaError(f"{where}: each exercise must be a mapping, got {raw!r}")
    exercise_id = str(_require(raw, "id", str, where))
    match = EXERCISE_ID.match(exercise_id)
    if not match or int(match.group(1)) != number:
        raise ModuleMetaError(
            f"{where}: exercise id '{exercise_id}' must look like '{number:02d}.1' (module number, "
            f"dot, exercise number)"
        )
    name = _require(raw, "name", str, where)
    if not SNAKE.match(name):
        raise ModuleMetaError(f"{where}: exercise {exercise_id} name '{name}' must be snake_case")
    points = _require(raw, "points", int, where)
    if points <= 0:
        raise ModuleMetaError(f"{where}: exercise {exercise_id} points must be > 0, got {points}")
    return Exercise(exercise_id, name, points, str(raw.get("hint", "")).strip())


def load_module_meta(folder: Path, check_files: bool = True) -> ModuleMeta:
    """Parse and validate `folder/module.yaml`. Raises ModuleMetaError naming the problem.

    check_files=False skips the check that `source` and `tests` exist: the grader reads the
    points table of a module whose files a student deleted, and scores that module 0."""
    where = folder / "module.yaml"
    try:
        meta = yaml.safe_load(where.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ModuleMetaError(f"{where}: cannot read module metadata: {error}") from error
    if not isinstance(meta, dict):
        raise ModuleMetaError(f"{where}: must be a YAML mapping")
    number = _require(meta, "number", int, where)
    if folder.name[:2] != f"{number:02d}":
        raise ModuleMetaError(f"{where}: number {number} does not match folder '{folder.name}'")
    slug = _require(meta, "slug", str, where)
    if folder.name != f"{number:02d}_{slug}":
        raise ModuleMetaError(f"{where}: slug '{slug}' does not match folder '{folder.name}'")
    tier = _require(meta, "tier", str, where)
    if tier not in TIERS:
        raise ModuleMetaError(f"{where}: tier '{tier}' must be one of {', '.join(TIERS)}")
    prerequisites = tuple(meta.get("prerequisites") or ())
    if any(not isinstance(p, int) or p >= number for p in prerequisites):
        raise ModuleMetaError(
            f"{where}: prerequisites must be numbers of earlier modules, got {list(prerequisites)}"
        )
    exports = {
        str(ns): tuple(names) for ns, names in (_require(meta, "exports", dict, where)).items()
    }
    exercises = tuple(
        _exercise(raw, number, where) for raw in _require(meta, "exercises", list, where)
    )
    ids = [e.id for e in exercises]
    if len(set(ids)) != len(ids) or not exercises:
        raise ModuleMetaError(f"{where}: exercise ids must be unique and non-empty, got {ids}")
    timeout = meta.get("timeout", DEFAULT_TIMEOUT)
    if not isinstance(timeout, int) or timeout <= 0:
        raise ModuleMetaError(f"{where}: timeout must be a positive whole number of seconds")
    source, tests = _require(meta, "source", str, where), _require(meta, "tests", str, where)
    for name in (source, tests) if check_files else ():
        if not (folder / name).is_file():
            raise ModuleMetaError(f"{where}: file '{name}' named here does not exist")
    return ModuleMeta(
        number=number,
        slug=slug,
        title=_require(meta, "title", str, where),
        tier=tier,
        folder=folder,
        source=source,
        tests=tests,
        prerequisites=prerequisites,
        exports=exports,
        terms=tuple(str(t).lower() for t in meta.get("terms") or ()),
        timeout=timeout,
        exercises=exercises,
    )


def load_all_modules(root: Path) -> list[ModuleMeta]:
    """Every module under `root` (a `modules/` folder), in course order."""
    return [load_module_meta(path.parent) for path in sorted(root.glob("[0-9][0-9]_*/module.yaml"))]


def find_module_folder(path: Path) -> Path | None:
    """The module folder (holding module.yaml) that contains `path`, if any."""
    for folder in (path, *path.parents):
        if (folder / "module.yaml").is_file():
            return folder
    return None
