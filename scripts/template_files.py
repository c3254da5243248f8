"""Which files of the course repository a tier template ships, and how each is changed.

A plan is a list of `Entry(source, dest, kind)`; the build writes it. Kinds:
- "copy": the bytes as they are;
- "stub": a graded module's file with every solution region replaced by its stub;
- "reference": an earlier module's file, solutions kept, markers dropped, marked read-only;
- "module_yaml": a graded module's module.yaml with course.yaml's overrides written in.
Never shipped: ANSWERS.md (instructors only), mutants.yaml (staff mutation catalogues:
they quote solution lines, see scripts/mutation.py), caches, course-infrastructure tests
(`test_*.py` outside module folders), dataset build scripts and staff-only commands.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import yaml

from grading.course_config import CourseConfig, Tier
from grading.course_modules import ModuleMeta

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when available
NEVER = {
    "ANSWERS.md",
    "mutants.yaml",
    "__pycache__",
    ".pytest_cache",
    ".ipynb_checkpoints",
    ".DS_Store",
}
NEVER_SUFFIXES = {".pyc", ".pyo"}
# `tiny` subcommands for course staff: they read folders of student repositories, not a tier.
STAFF_COMMANDS = {"grade_batch.py", "gradebook.py", "leaderboard.py"}


@dataclass(frozen=True)
class Entry:
    source: Path
    dest: Path  # relative to the tier root
    kind: str = "copy"
    meta: ModuleMeta | None = None


@dataclass(frozen=True)
class Plan:
    entries: tuple[Entry, ...]
    graded: tuple[ModuleMeta, ...]
    carried: tuple[ModuleMeta, ...]
    missing_modules: tuple[int, ...]
    missing_reference: tuple[int, ...]
    blocked: dict[int, tuple[int, ...]]  # module -> prerequisites it lacks (left out)
    milestones: tuple[int, ...]
    milestones_blocked: dict[int, tuple[int, ...]]  # milestone -> modules it lacks
    missing_milestones: tuple[int, ...]
    datasets: tuple[str, ...]
    missing_datasets: tuple[str, ...]

    @property
    def student_files(self) -> tuple[str, ...]:
        """The files students edit: each graded module's source file."""
        return tuple(f"modules/{meta.key}/{meta.source}" for meta in self.graded)


def _shippable(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return not any(part in NEVER for part in parts) and path.suffix not in NEVER_SUFFIXES


def _files(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.rglob("*")) if p.is_file() and _shippable(p, folder)]


def _module_entries(meta: ModuleMeta, graded: bool) -> list[Entry]:
    entries = []
    for path in _files(meta.folder):
        dest = Path("modules") / meta.key / path.relative_to(meta.folder)
        if path.name == "module.yaml":
            kind = "module_yaml" if graded else "copy"
        elif path.suffix == ".py" and path.name != meta.tests:
            kind = "stub" if graded else "reference"
        else:
            kind = "copy"
        entries.append(Entry(path, dest, kind, meta))
    return entries


def _infrastructure_test(path: Path) -> bool:
    """Tests of the course's own code (not graded module tests): never shipped."""
    python_test = path.suffix == ".py" and path.name.startswith("test_")
    return python_test or path.name == "conftest.py" or "tests" in path.parts[:-1]


def _package(root: Path, name: str, keep) -> list[Entry]:
    folder = root / name
    if not folder.is_dir():
        return []
    return [
        Entry(path, Path(name) / path.relative_to(folder))
        for path in _files(folder)
        if not _infrastructure_test(path.relative_to(folder)) and keep(path.relative_to(folder))
    ]


def milestone_files(root: Path) -> dict[int, list[Path]]:
    """Milestone number -> its files under milestones/ (`mN_*.py` and `mN_*/`)."""
    found: dict[int, list[Path]] = {}
    for path in sorted((root / "milestones").glob("m[0-9]_*")):
        found.setdefault(int(path.name[1]), []).append(path)
    return found


def dataset_names(root: Path) -> set[str]:
    """Datasets of the course: each has a loader datasets/<name>.py (its data, if shipped,
    in datasets/<name>/)."""
    folder = root / "datasets"
    if not folder.is_dir():
        return set()
    return {
        p.stem
        for p in folder.glob("*.py")
        if not p.name.startswith(("test_", "build_", "_")) and p.stem not in _helpers(folder)
    }


def _helpers(folder: Path) -> set[str]:
    """Modules of a package that other modules of it import (shared code, not datasets)."""
    used: set[str] = set()
    for path in folder.glob("*.py"):
        if not path.name.startswith(("test_", "build_")):
            used |= imported_names(path, folder.name)
    return used


def imported_names(path: Path, package: str) -> set[str]:
    """Names of `package`'s modules that the Python file `path` imports (anywhere in it)."""
    try:
        text = path.read_text(encoding="utf-8")
        if package not in text:  # cheap test first: most files import nothing of it
            return set()
        tree = ast.parse(text, str(path))
    except (SyntaxError, UnicodeDecodeError):
        return set()
    inside = path.parent.name == package
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[1] for a in node.names if a.name.startswith(package + ".")}
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 0 and module == package or node.level == 1 and inside and not module:
                names |= {alias.name for alias in node.names}
            elif node.level == 0 and module.startswith(package + "."):
                names.add(module.split(".")[1])
            elif node.level == 1 and inside:
                names.add(module.split(".")[0])
    return names


def export_owners(root: Path) -> dict[tuple[str, str], int]:
    """(namespace, name) -> number of the module that exports it, e.g. ("tinytorch.nn",
    "Linear") -> 3, read from every module.yaml under root/modules (even unfinished ones)."""
    owners: dict[tuple[str, str], int] = {}
    for manifest in sorted((root / "modules").glob("[0-9][0-9]_*/module.yaml")):
        try:
            raw = yaml.load(manifest.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
        except yaml.YAMLError:
            continue
        for namespace, names in (raw.get("exports") or {}).items():
            for name in names or ():
                owners[(str(namespace), str(name))] = int(manifest.parent.name[:2])
    return owners


def required_modules(path: Path, owners: dict[tuple[str, str], int]) -> set[int]:
    """Modules whose exports the Python file (or folder of files) `path` imports from
    tinytorch; a bare `import tinytorch.nn` needs every module exporting into tinytorch.nn."""
    files = [path] if path.is_file() else sorted(path.rglob("*.py"))
    needed: set[int] = set()
    for file in files:
        if file.suffix != ".py":
            continue
        text = file.read_text(encoding="utf-8")
        if "tinytorch" not in text:
            continue
        for node in ast.walk(ast.parse(text, str(file))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tinytorch."):
                for alias in node.names:
                    if (node.module, alias.name) in owners:
                        needed.add(owners[(node.module, alias.name)])
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("tinytorch."):
                        needed |= {n for (ns, _), n in owners.items() if ns == alias.name}
    return needed


def _closure(root: Path, package: str, seeds: set[str], importers: list[Path]) -> set[str]:
    """`seeds` plus every module of `package` that they or `importers` import, transitively."""
    folder = root / package
    wanted = set(seeds)
    for path in importers:
        if path.suffix == ".py":
            wanted |= imported_names(path, package)
    frontier = set(wanted)
    while frontier:
        name = frontier.pop()
        module = folder / f"{name}.py"
        new = imported_names(module, package) - wanted if module.is_file() else set()
        wanted |= new
        frontier |= new
    return wanted


def _package_files(root: Path, package: str, names: set[str]) -> list[Entry]:
    """__init__.py, README.md and each named module `<name>.py` with its folder `<name>/`."""
    folder = root / package
    if not folder.is_dir():
        return []
    chosen = []
    for path in _files(folder):
        relative = path.relative_to(folder)
        top = relative.parts[0]
        if _infrastructure_test(relative) or top.startswith("build_"):
            continue
        if top in ("__init__.py", "README.md") or top.removesuffix(".py") in names:
            chosen.append(Entry(path, Path(package) / relative))
    return chosen


def plan_tier(config: CourseConfig, tier: Tier, modules: dict[int, ModuleMeta], root: Path) -> Plan:
    """Everything tier `tier` ships, read from the course repository at `root`."""
    earlier = config.earlier_modules(tier)
    carried: tuple[ModuleMeta, ...] = ()
    missing_reference: tuple[int, ...] = ()
    if tier.carry_forward == "reference":
        carried = tuple(modules[n] for n in earlier if n in modules)
        missing_reference = tuple(n for n in earlier if n not in modules)
    # A module ships only when every prerequisite is there too: else its tests cannot import.
    usable = {meta.number for meta in carried}
    if tier.carry_forward == "student":
        usable |= set(earlier)  # the student brings these
    graded_list, blocked = [], {}
    for number in tier.modules:
        meta = modules.get(number)
        if meta is None:
            continue
        lacking = [p for p in meta.prerequisites if p not in usable]
        if lacking:
            blocked[number] = tuple(lacking)
        else:
            graded_list.append(meta)
            usable.add(number)
    graded = tuple(graded_list)
    missing = tuple(n for n in tier.modules if n not in modules)
    entries: list[Entry] = []
    for meta in carried:
        entries += _module_entries(meta, graded=False)
    for meta in graded:
        entries += _module_entries(meta, graded=True)
    tinytorch = root / "modules" / "tinytorch"
    entries += [
        Entry(p, Path("modules/tinytorch") / p.relative_to(tinytorch))
        for p in _files(tinytorch)
        if not _infrastructure_test(p.relative_to(tinytorch))
    ]
    entries += _package(root, "grading", lambda rel: rel.name not in STAFF_COMMANDS)

    by_milestone = milestone_files(root)
    owners = export_owners(root)
    shipped_milestones, milestones_blocked = [], {}
    for number in tier.milestones:
        if number not in by_milestone:
            continue
        needs = set().union(*(required_modules(p, owners) for p in by_milestone[number]))
        lacking = tuple(sorted(needs - usable))
        if lacking:
            milestones_blocked[number] = lacking
        else:
            shipped_milestones.append(number)
    milestone_paths = [p for m in shipped_milestones for p in by_milestone[m]]
    milestone_names = {p.name.removesuffix(".py") for p in milestone_paths}
    entries += _package_files(
        root, "milestones", _closure(root, "milestones", milestone_names, milestone_paths)
    )
    code = [e.source for e in entries if e.source.suffix == ".py"]
    wanted = config.tier_datasets(tier)
    available = dataset_names(root)
    used = _closure(root, "datasets", {d for d in wanted if d in available}, code)
    entries += _package_files(root, "datasets", used)
    return Plan(
        entries=tuple(entries),
        graded=graded,
        carried=carried,
        missing_modules=missing,
        blocked=blocked,
        missing_reference=missing_reference,
        milestones=tuple(shipped_milestones),
        milestones_blocked=milestones_blocked,
        missing_milestones=tuple(m for m in tier.milestones if m not in by_milestone),
        datasets=tuple(sorted(used & available)),
        missing_datasets=tuple(d for d in wanted if d not in available),
    )
