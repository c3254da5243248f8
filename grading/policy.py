"""What a student module file may contain: checked from its text, before any of it runs.

    check_source(text_or_bytes, meta, path, namespaces) -> list[Violation]

A module file is the one file a student edits, and the grader executes it. The exercises
need NumPy, `math`, the `tinytorch` namespaces of the module and its prerequisites and a
few pure standard-library modules; nothing else. Everything else that a file could use to
reach the grader — the import system, the interpreter's internals, files and processes,
or the objects of other modules — is refused here with one plain line per use, e.g.

    modules/07_training/training.py:3: imports `atexit`: module files may not import atexit;
    use only numpy, math and the tinytorch namespaces listed in module.yaml

The rules (one table, `MODULE_IMPORTS`, says which extra standard-library modules the
course's own reference solutions need, module by module):
- imports: numpy, math, `BASE_IMPORTS`, the module's row of `MODULE_IMPORTS`, and
  `tinytorch.<ns>` where <ns> is exported by the module itself or a prerequisite, and the
  course's own helper `tinytorch._cells` (`part_of`, which extends course classes only);
- names no exercise needs: `REFUSED_NAMES` (`__import__`, exec, eval, compile, globals,
  locals, breakpoint, `__builtins__`, ...); `vars()` without an argument;
- attributes that escape the object model (`ESCAPE_ATTRIBUTES`: `__subclasses__`,
  `__globals__`, `__code__`, frame and traceback links, ...), anywhere;
- modules are read-only: no assignment to, deletion of, or setattr/getattr/delattr/vars on
  an imported module or anything reached through one (`np.testing.assert_allclose = ...`),
  no dunder attribute of a module, no `sys`/`os`/`builtins`/`modules` reached through one;
- no `__del__` finalizer; `open` only for reading, except where `WRITE_FILES` allows it;
- `os` (where allowed) only through `OS_ATTRIBUTES`.
A file that is not UTF-8 is one violation; a file with a syntax error has none here (the
test run reports it with its line).

Known limit: a static check of a dynamic language refuses the routes above, not every
route; the sandbox (grading/sandbox/) and the integrity check in the test process are the
layers behind it.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass

# The course's own helpers that module files import (one class across notebook cells).
COURSE_HELPERS = frozenset({"tinytorch._cells"})
BASE_IMPORTS = frozenset(
    {
        "__future__",
        "numpy",
        "math",
        "collections",
        "collections.abc",
        "dataclasses",
        "functools",
        "itertools",
        "typing",
        "contextlib",
        "copy",
        "re",
        "statistics",
        "time",
        "enum",
        "abc",
    }
)
# Extra standard-library modules the course's reference solutions use, by module number.
MODULE_IMPORTS: dict[int, frozenset[str]] = {
    7: frozenset({"os", "pathlib"}),  # checkpoints: open(..., "wb") then os.replace
    14: frozenset({"tracemalloc"}),  # peak-memory measurement is the lesson
    19: frozenset({"os", "platform", "pathlib"}),  # the environment record of a benchmark
    20: frozenset({"datetime", "json"}),  # the capstone submission file
}
OS_ATTRIBUTES = frozenset({"replace", "cpu_count", "fspath", "PathLike", "sep"})
WRITE_FILES = frozenset({7})  # modules whose exercises write files (checkpoints)
REFUSED_NAMES = frozenset(
    {
        "__import__",
        "exec",
        "eval",
        "compile",
        "globals",
        "locals",
        "breakpoint",
        "__builtins__",
        "__loader__",
        "__spec__",
        "memoryview",
        "input",
    }
)
ESCAPE_ATTRIBUTES = frozenset(
    {
        "__subclasses__",
        "__globals__",
        "__builtins__",
        "__code__",
        "__closure__",
        "__bases__",
        "__base__",
        "__mro__",
        "__loader__",
        "__spec__",
        "__reduce__",
        "__reduce_ex__",
        "__getattribute__",
        "__set_name__",
        "__init_subclass__",
        "f_back",
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_code",
        "tb_frame",
        "tb_next",
        "gi_frame",
        "gi_code",
        "cr_frame",
        "cr_code",
        "ag_frame",
        "ag_code",
    }
)
MODULE_REACH = frozenset({"sys", "os", "builtins", "modules", "importlib", "subprocess"})
ATTRIBUTE_FUNCTIONS = frozenset({"setattr", "getattr", "delattr", "hasattr", "vars", "dir"})
READABLE_DUNDERS = frozenset({"__name__", "__version__", "__doc__"})
READ_MODES = frozenset({"r", "rb", "rt", "br", "tr"})


@dataclass(frozen=True, order=True)
class Violation:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def allowed_imports(number: int) -> frozenset[str]:
    return BASE_IMPORTS | MODULE_IMPORTS.get(number, frozenset())


def import_advice(number: int, namespaces: frozenset[str]) -> str:
    extra = sorted(allowed_imports(number) - {"numpy", "math", "__future__"})
    names = ", ".join(sorted(namespaces)) or "none"
    return (
        f"use only numpy, math and the tinytorch namespaces listed in module.yaml "
        f"({names}); standard-library modules allowed here: {', '.join(extra)}"
    )


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _root_name(node: ast.AST) -> str | None:
    """`np` for `np.testing.assert_allclose` (a chain of attributes and subscripts);
    None when the chain passes through a call (`np.zeros(3)[0]` is a new array)."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


class _Checker(ast.NodeVisitor):
    def __init__(self, number: int, namespaces: frozenset[str], path: str) -> None:
        self.number = number
        self.namespaces = namespaces
        self.path = path
        self.allowed = allowed_imports(number)
        self.modules: set[str] = set()  # names bound to a module or something reached from one
        self.found: list[Violation] = []

    def refuse(self, node: ast.AST, message: str) -> None:
        self.found.append(Violation(self.path, getattr(node, "lineno", 0), message))

    # ---- imports -------------------------------------------------------------------
    def _check_import(self, node: ast.AST, name: str) -> bool:
        top = name.split(".")[0]
        if name.startswith("tinytorch"):
            if name in self.namespaces or name in COURSE_HELPERS:
                return True
            self.refuse(
                node,
                f"imports `{name}`: module {self.number:02d} may use only the tinytorch "
                f"namespaces of its own and its prerequisites' exports "
                f"({', '.join(sorted(self.namespaces)) or 'none'})",
            )
            return False
        if name in self.allowed or (top in self.allowed and top in ("numpy", "collections")):
            return True
        self.refuse(
            node,
            f"imports `{name}`: module files may not import {name}; "
            f"{import_advice(self.number, self.namespaces)}",
        )
        return False

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if self._check_import(node, alias.name):
                self.modules.add(alias.asname or alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.refuse(node, "relative imports are not used in module files")
            return
        base = node.module or ""
        if not self._check_import(node, base):
            return
        for alias in node.names:
            if alias.name == "*":
                self.refuse(node, f"`from {base} import *`: import the names you use by name")
            elif not base.startswith("tinytorch") and _is_module(f"{base}.{alias.name}"):
                self.modules.add(alias.asname or alias.name)

    # ---- names and attributes ------------------------------------------------------
    def visit_Name(self, node: ast.Name) -> None:
        if node.id in REFUSED_NAMES:
            self.refuse(node, f"uses `{node.id}`: no exercise needs it in a module file")
        self.generic_visit(node)

    def _module_derived(self, node: ast.AST) -> bool:
        root = _root_name(node)
        return root is not None and root in self.modules

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = node.attr
        if name in ESCAPE_ATTRIBUTES:
            self.refuse(node, f"uses `.{name}`: module files may not reach into the interpreter")
        elif self._module_derived(node.value):
            if name.startswith("__") and name.endswith("__") and name not in READABLE_DUNDERS:
                self.refuse(node, f"uses `.{name}` of a module: modules are read-only here")
            elif name in MODULE_REACH:
                self.refuse(node, f"reaches `{name}` through a module: not allowed")
            elif _root_name(node.value) == "os" and name not in OS_ATTRIBUTES:
                self.refuse(
                    node,
                    f"uses `os.{name}`: module files may use only "
                    f"{', '.join(f'os.{a}' for a in sorted(OS_ATTRIBUTES))}",
                )
        if isinstance(node.ctx, ast.Store | ast.Del) and self._module_derived(node.value):
            self.refuse(
                node,
                f"changes `{ast.unparse(node)}`: module files may not change another "
                f"module (numpy, math, tinytorch or the standard library)",
            )
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.ctx, ast.Store | ast.Del) and self._module_derived(node.value):
            self.refuse(node, f"changes `{ast.unparse(node)}`: modules are read-only here")
        self.generic_visit(node)

    def _assign_aliases(self, targets: list[ast.AST], value: ast.AST) -> None:
        if self._module_derived(value) or (
            isinstance(value, ast.Tuple | ast.List)
            and any(self._module_derived(v) for v in value.elts)
        ):
            for target in targets:
                leaves = target.elts if isinstance(target, ast.Tuple | ast.List) else [target]
                self.modules.update(leaf.id for leaf in leaves if isinstance(leaf, ast.Name))

    def visit_Assign(self, node: ast.Assign) -> None:
        self._assign_aliases(node.targets, node.value)
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self._assign_aliases([node.target], node.value)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ATTRIBUTE_FUNCTIONS:
            first = node.args[0] if node.args else None
            if first is None and func.id == "vars":
                self.refuse(node, "uses `vars()`: no exercise needs the local namespace")
            elif first is not None and self._module_derived(first):
                self.refuse(node, f"uses `{func.id}` on a module: modules are read-only here")
            if len(node.args) > 1 and func.id != "vars":
                attribute = node.args[1]
                if isinstance(attribute, ast.Constant) and attribute.value in ESCAPE_ATTRIBUTES:
                    self.refuse(node, f"uses `{attribute.value}`: not allowed in module files")
        if isinstance(func, ast.Name) and func.id == "open" and not self._reads_only(node):
            self.refuse(node, "opens a file for writing: module files may only read files")
        self.generic_visit(node)

    def _reads_only(self, node: ast.Call) -> bool:
        if self.number in WRITE_FILES:
            return True
        mode = node.args[1] if len(node.args) > 1 else None
        for keyword in node.keywords:
            if keyword.arg == "mode":
                mode = keyword.value
        if mode is None:
            return True
        return isinstance(mode, ast.Constant) and mode.value in READ_MODES

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if node.name == "__del__":
            self.refuse(node, "defines `__del__`: finalizers are not allowed in module files")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef


def check_source(
    source: str | bytes, number: int, path: str, namespaces: frozenset[str]
) -> list[Violation]:
    """Every policy violation of one module file, sorted by line; [] when it may run.

    number: the module's number (selects its row of MODULE_IMPORTS);
    namespaces: the `tinytorch.<ns>` names it may import (see `module_namespaces`)."""
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as error:
            return [
                Violation(
                    path,
                    source[: error.start].count(b"\n") + 1,
                    f"is not UTF-8 text (byte {error.start}): save it as UTF-8 "
                    f"(your editor's encoding setting)",
                )
            ]
    try:
        tree = ast.parse(source, path)
    except (SyntaxError, ValueError):
        return []  # the test run reports the syntax error with its line
    checker = _Checker(number, namespaces, path)
    checker.visit(tree)
    return sorted(set(checker.found))


def module_namespaces(number: int, metas) -> frozenset[str]:
    """`tinytorch.<ns>` names exported by module `number` or any prerequisite, transitively.
    `metas`: every ModuleMeta of the course (grading/course_modules.py)."""
    by_number = {meta.number: meta for meta in metas}
    seen, stack = set(), [number]
    while stack:
        current = stack.pop()
        if current in seen or current not in by_number:
            continue
        seen.add(current)
        stack.extend(by_number[current].prerequisites)
    return frozenset(ns for n in seen for ns in by_number[n].exports)
