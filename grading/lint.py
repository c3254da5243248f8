"""Forward-dependency lint: no module may lean on a module that comes after it.

Two rules, over every `modules/NN_name/` folder (module.yaml is the only input):

1. Imports. A module's Python files (its source, its tests, any helper .py) may import the
   standard library, numpy, pytest (test files only) and, from `tinytorch.<namespace>`,
   only names that the module itself or its prerequisites (transitively) export
   (`tinytorch._loader` and other private parts of the import layer are allowed).
   `from tinytorch.optim import SGD` in module 03 is a finding: SGD comes from module 06.
2. Vocabulary. A module's text — source, tests, module.yaml, README.md and any other
   .py/.md file except the instructors' ANSWERS.md — may not use a term that a later module
   lists in its `terms` (unless an earlier or the same module lists it too). Matching is
   case-insensitive and whole-word; a term's words may be joined by spaces, '_' or '-'
   (`chain rule`, `chain_rule`, `chain-rule`) and may take a plural 's'/'es'.

3. Policy. Each module's source file follows the grader's static policy (grading/policy.py):
   the file `tiny grade` would refuse to run is reported here first.

Each finding prints as `path:line: message`, e.g.
    modules/03_layers/layers.py:12: term 'computational graph' is introduced in module 05
`lint_modules(root)` is pure apart from reading files; `tiny lint` prints and exits 1.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from grading.course_modules import ModuleMeta, ModuleMetaError, load_module_meta
from grading.policy import check_source, module_namespaces

THIRD_PARTY_ALLOWED = ("numpy",)
TEST_ONLY_ALLOWED = ("pytest",)
SKIPPED_FILES = ("ANSWERS.md", "mutants.yaml")  # staff-only: never shipped to students
TEXT_SUFFIXES = (".py", ".md", ".yaml", ".yml")
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


# ---- vocabulary -------------------------------------------------------------------------------


def term_pattern(term: str) -> re.Pattern:
    """Whole-word, case-insensitive; words joined by space/_/-; optional plural s/es."""
    words = [re.escape(word) for word in re.split(r"[\s_\-]+", term.strip()) if word]
    body = r"[\s_\-]+".join(words)
    return re.compile(rf"(?<![A-Za-z0-9]){body}(?:s|es)?(?![A-Za-z0-9])", re.IGNORECASE)


def forbidden_terms(modules: list[ModuleMeta]) -> dict[int, list[tuple[str, int]]]:
    """For each module number: (term, number of the later module that introduces it)."""
    first_use: dict[str, int] = {}
    for meta in sorted(modules, key=lambda m: m.number):
        for term in meta.terms:
            first_use.setdefault(term.lower(), meta.number)
    return {
        meta.number: sorted(
            (term, owner) for term, owner in first_use.items() if owner > meta.number
        )
        for meta in modules
    }


def lint_text(text: str, path: str, forbidden: list[tuple[str, int]]) -> list[Finding]:
    """One finding per (line, term) where a later module's term is used."""
    findings = []
    patterns = [(term, owner, term_pattern(term)) for term, owner in forbidden]
    for number, line in enumerate(text.splitlines(), start=1):
        for term, owner, pattern in patterns:
            if pattern.search(line):
                findings.append(
                    Finding(path, number, f"term '{term}' is introduced in module {owner:02d}")
                )
    return findings


# ---- imports ------------------------------------------------------------------------------------


def prerequisites_closure(meta: ModuleMeta, by_number: dict[int, ModuleMeta]) -> set[int]:
    """The module's own number and every prerequisite, transitively."""
    seen, stack = {meta.number}, list(meta.prerequisites)
    while stack:
        number = stack.pop()
        if number in seen:
            continue
        seen.add(number)
        if number in by_number:
            stack.extend(by_number[number].prerequisites)
    return seen


def exporters(modules: list[ModuleMeta]) -> dict[tuple[str, str], int]:
    """(namespace, name) -> the module number that exports it."""
    owners = {}
    for meta in modules:
        for namespace, names in meta.exports.items():
            for name in names:
                owners.setdefault((namespace, name), meta.number)
    return owners


class _ImportVisitor(ast.NodeVisitor):
    """Collect (line, namespace or None, name or None, top-level module) uses."""

    def __init__(self) -> None:
        self.uses: list[tuple[int, str, str | None]] = []  # (line, dotted target, name)
        self.aliases: dict[str, str] = {}  # local name -> 'tinytorch' or 'tinytorch.ns'

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.uses.append((node.lineno, alias.name, None))
            if alias.name == "tinytorch" or alias.name.startswith("tinytorch."):
                local = alias.asname or alias.name.split(".")[0]
                self.aliases[local] = alias.name if alias.asname else "tinytorch"

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:  # relative import: a helper file beside the module
            return
        module = node.module or ""
        for alias in node.names:
            self.uses.append((node.lineno, module, alias.name))
            if module == "tinytorch":
                self.aliases[alias.asname or alias.name] = f"tinytorch.{alias.name}"

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain, current = [node.attr], node.value
        while isinstance(current, ast.Attribute):
            chain.append(current.attr)
            current = current.value
        if isinstance(current, ast.Name) and current.id in self.aliases:
            dotted = ".".join([self.aliases[current.id], *reversed(chain)])
            parts = dotted.split(".")
            if len(parts) >= 3:  # tinytorch.ns.Name
                self.uses.append((node.lineno, ".".join(parts[:2]), parts[2]))
                return
        self.generic_visit(node)


def lint_imports(
    text: str,
    path: str,
    meta: ModuleMeta,
    modules: list[ModuleMeta],
    is_test: bool,
) -> list[Finding]:
    """Findings for imports of `text` (one Python file of module `meta`)."""
    try:
        tree = ast.parse(text)
    except SyntaxError as error:
        return [Finding(path, error.lineno or 0, f"cannot parse: {error.msg}")]
    visitor = _ImportVisitor()
    visitor.visit(tree)
    by_number = {m.number: m for m in modules}
    allowed_modules = prerequisites_closure(meta, by_number)
    owners = exporters(modules)
    namespaces = {namespace for namespace, _ in owners}
    prerequisites = ", ".join(f"{n:02d}" for n in sorted(allowed_modules - {meta.number}))
    findings = []
    for line, target, name in visitor.uses:
        top = target.split(".")[0]
        if top == "tinytorch":
            if target.startswith("tinytorch._"):  # the import layer itself, not a module
                continue
            if target == "tinytorch":
                if name is not None and f"tinytorch.{name}" not in namespaces and name != "*":
                    findings.append(
                        Finding(
                            path,
                            line,
                            f"'tinytorch.{name}' is not a namespace any module exports into",
                        )
                    )
                continue
            if target not in namespaces:
                findings.append(
                    Finding(path, line, f"'{target}' is not a namespace any module exports into")
                )
                continue
            if name is None:
                continue
            if name == "*":
                findings.append(
                    Finding(
                        path,
                        line,
                        f"'from {target} import *' hides which module a name "
                        f"comes from: import names one by one",
                    )
                )
                continue
            owner = owners.get((target, name))
            if owner is None:
                findings.append(
                    Finding(path, line, f"'{target}.{name}' is not exported by any module")
                )
            elif owner not in allowed_modules:
                findings.append(
                    Finding(
                        path,
                        line,
                        f"uses '{target}.{name}' from module {owner:02d}, which is not a "
                        f"prerequisite of module {meta.number:02d} (prerequisites: "
                        f"{prerequisites or 'none'})",
                    )
                )
        elif top in STDLIB or top in THIRD_PARTY_ALLOWED or (is_test and top in TEST_ONLY_ALLOWED):
            continue
        else:
            also = ", pytest in tests" if not is_test else ", pytest"
            findings.append(
                Finding(
                    path,
                    line,
                    f"imports '{top}': a module may import only the standard library, numpy"
                    f"{also} and names from its prerequisites via tinytorch",
                )
            )
    return findings


# ---- the whole course ------------------------------------------------------------------------


def _module_files(meta: ModuleMeta) -> list[Path]:
    return sorted(
        path
        for path in meta.folder.rglob("*")
        if path.is_file()
        and path.suffix in TEXT_SUFFIXES
        and path.name not in SKIPPED_FILES
        and "__pycache__" not in path.parts
    )


def lint_modules(modules_root: Path, display_root: Path | None = None) -> list[Finding]:
    """Every finding in every module under `modules_root`, sorted by path and line.
    Paths are shown relative to `display_root` (default: the folder above modules_root)."""
    display_root = display_root or modules_root.parent
    modules, findings = [], []
    for manifest in sorted(modules_root.glob("[0-9][0-9]_*/module.yaml")):
        try:
            modules.append(load_module_meta(manifest.parent, check_files=False))
        except ModuleMetaError as error:
            shown = manifest.relative_to(display_root).as_posix()
            findings.append(Finding(shown, 0, f"cannot read module metadata: {error}"))
    forbidden = forbidden_terms(modules)
    for meta in modules:
        for path in _module_files(meta):
            shown = path.relative_to(display_root).as_posix()
            text = path.read_text(encoding="utf-8", errors="replace")
            findings += lint_text(text, shown, forbidden[meta.number])
            if path.suffix == ".py":
                is_test = path.name.startswith("test_") or path.name == meta.tests
                findings += lint_imports(text, shown, meta, modules, is_test)
        findings += policy_findings(meta, modules, display_root)
    return sorted(findings)


def policy_findings(
    meta: ModuleMeta, modules: list[ModuleMeta], display_root: Path
) -> list[Finding]:
    """The grader's static policy (grading/policy.py) on the module's source file: what
    `tiny grade` would refuse to run, found before pushing."""
    path = meta.source_path
    if not path.is_file() or path.is_symlink():
        return []
    shown = path.relative_to(display_root).as_posix()
    namespaces = module_namespaces(meta.number, modules)
    return [
        Finding(v.path, v.line, v.message)
        for v in check_source(path.read_bytes(), meta.number, shown, namespaces)
    ]
