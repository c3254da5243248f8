"""Where things are in a course or template repository, and how users name modules."""

from __future__ import annotations

from pathlib import Path

from grading.course_modules import ModuleMeta, load_all_modules

REPO_ROOT = Path(__file__).resolve().parent.parent


def modules_root(root: Path = REPO_ROOT) -> Path:
    return root / "modules"


def resolve_module(query: str, root: Path = REPO_ROOT) -> ModuleMeta:
    """Find a module by '1', '01', 'tensor' or '01_tensor'; raise ValueError listing the choices."""
    modules = load_all_modules(modules_root(root))
    wanted = query.strip().lower()
    for meta in modules:
        if wanted in (str(meta.number), f"{meta.number:02d}", meta.slug, meta.key):
            return meta
    choices = ", ".join(meta.key for meta in modules) or "none found"
    raise ValueError(f"no module '{query}' in {modules_root(root)}. Modules here: {choices}")
