"""Map `tinytorch.<namespace>.<Name>` to the module file that defines it.

Contract: `install_namespaces("tinytorch")` reads every `modules/NN_name/module.yaml`,
registers one lazy namespace module per `exports` key (`tinytorch.core`,
`tinytorch.nn`, ...) and returns their short names. Asking a namespace for a
name executes that module's source file the first time (per process) and hands
back the object. Source is compiled from the file itself, never from a cached
`.pyc`, so an edit saved a millisecond ago is what runs.

Cost: one YAML parse per module at `import tinytorch` (about 1 ms each); one
compile of a module file the first time one of its names is used.
"""

from __future__ import annotations

import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import yaml

MODULES_ENV = "TINYTORCH_MODULES"


@dataclass(frozen=True)
class ModuleFile:
    """Where one course module lives and what it exports."""

    number: int
    title: str
    path: Path
    exports: dict[str, tuple[str, ...]]

    @property
    def import_name(self) -> str:
        return f"tinytorch.m{self.number:02d}_{self.path.parent.name.split('_', 1)[1]}"


def modules_dir() -> Path:
    """The folder holding `NN_name/` module folders (override with $TINYTORCH_MODULES)."""
    override = os.environ.get(MODULES_ENV)
    return Path(override).resolve() if override else Path(__file__).resolve().parent.parent


def discover_modules(root: Path | None = None) -> list[ModuleFile]:
    """Every module folder under `root` that has a module.yaml, in course order."""
    root = root or modules_dir()
    found = []
    for manifest in sorted(root.glob("[0-9][0-9]_*/module.yaml")):
        meta = yaml.safe_load(manifest.read_text(encoding="utf-8"))
        exports = {ns: tuple(names) for ns, names in (meta.get("exports") or {}).items()}
        found.append(
            ModuleFile(meta["number"], meta["title"], manifest.parent / meta["source"], exports)
        )
    return found


def load_module_file(module: ModuleFile) -> types.ModuleType:
    """Execute a module's source file once per process and return it as a Python module."""
    cached = sys.modules.get(module.import_name)
    if cached is not None:
        return cached
    code = compile(module.path.read_text(encoding="utf-8"), str(module.path), "exec")
    loaded = types.ModuleType(module.import_name, f"Module {module.number:02d}: {module.title}")
    loaded.__file__ = str(module.path)
    sys.modules[module.import_name] = loaded
    try:
        exec(code, loaded.__dict__)
    except BaseException:
        del sys.modules[module.import_name]  # a fixed file is retried on the next import
        raise
    return loaded


def _namespace(full_name: str, owners: dict[str, ModuleFile]) -> types.ModuleType:
    """A module object whose attributes are fetched lazily from their owning module file."""
    namespace = types.ModuleType(full_name, f"Names exported to {full_name} by the course modules.")
    namespace.__all__ = sorted(owners)

    def __getattr__(name: str):
        owner = owners.get(name)
        if owner is None and name.startswith("_"):
            raise AttributeError(name)  # probes such as __path__ or __wrapped__
        if owner is None:
            # ImportError, not AttributeError: `from x import y` would replace our message.
            raise ImportError(
                f"{full_name} has no '{name}'. Names available here: {', '.join(sorted(owners))}. "
                f"Check the spelling, or the 'exports' list in the module.yaml of the module "
                f"that should define it."
            )
        value = getattr(load_module_file(owner), name, None)
        if value is None:
            raise ImportError(
                f"{owner.path} is expected to define '{name}' (it is listed under "
                f"exports: {full_name} in its module.yaml), but the file does not define it."
            )
        return value

    namespace.__getattr__ = __getattr__
    namespace.__dir__ = lambda: sorted(owners)
    return namespace


def install_namespaces(package: str) -> list[str]:
    """Register `package.<ns>` for every namespace some module exports into; return the names."""
    owners: dict[str, dict[str, ModuleFile]] = {}
    for module in discover_modules():
        for namespace, names in module.exports.items():
            for name in names:
                owners.setdefault(namespace, {})[name] = module
    parent = sys.modules[package]
    for namespace, names in owners.items():
        full_name = f"{package}.{namespace.removeprefix(package + '.')}"
        sys.modules[full_name] = _namespace(full_name, names)
        setattr(parent, full_name.rsplit(".", 1)[1], sys.modules[full_name])
    return sorted(name.rsplit(".", 1)[1] for name in owners)
