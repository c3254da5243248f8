"""Forward-dependency lint: green on this repository, red on small fake course trees."""

from __future__ import annotations

import shutil
from pathlib import Path

from grading.cli import main
from grading.lint import lint_modules, term_pattern
from grading.repo import REPO_ROOT

YAML = """\
number: {n}
slug: {slug}
title: {slug}
tier: foundation
source: {slug}.py
tests: test_{n:02d}_{slug}.py
prerequisites: {prereq}
exports: {{tinytorch.{ns}: [{export}]}}
terms: {terms}
exercises:
  - {{id: "{n:02d}.1", name: one, points: 5}}
"""
TEST = """\
import pytest
from tinytorch.{ns} import {export}

@pytest.mark.exercise("{n:02d}.1")
def test_{n:02d}_1():
    assert {export} is not None
"""


def module(root: Path, n: int, slug: str, export: str, ns: str, terms, prereq=(),
           source: str = "", readme: str | None = None) -> None:  # fmt: skip
    folder = root / "modules" / f"{n:02d}_{slug}"
    folder.mkdir(parents=True)
    fields = dict(n=n, slug=slug, export=export, ns=ns, terms=list(terms), prereq=list(prereq))
    (folder / "module.yaml").write_text(YAML.format(**fields))
    (folder / f"{slug}.py").write_text(source or f"def {export}():\n    return 1\n")
    (folder / f"test_{n:02d}_{slug}.py").write_text(TEST.format(**fields))
    if readme is not None:
        (folder / "README.md").write_text(readme)


def course(root: Path, two_source: str = "", two_readme: str | None = None) -> Path:
    """Three modules: 01 (tensor), 02 (layers, needs 01), 03 (optimizer, needs 02)."""
    module(root, 1, "tensor", "Tensor", "core", ["tensor", "broadcasting"])
    module(root, 2, "layers", "Linear", "nn", ["linear layer"], [1], two_source, two_readme)
    module(root, 3, "optim", "SGD", "optim", ["optimizer", "chain rule", "tensor"], [2])
    return root / "modules"


def lines(findings) -> list[str]:
    return [str(f) for f in findings]


def test_this_repository_has_no_forward_dependencies():
    findings = lint_modules(REPO_ROOT / "modules")
    assert findings == [], "forward dependencies:\n" + "\n".join(lines(findings))


def test_clean_course_passes(tmp_path):
    assert lint_modules(course(tmp_path)) == []


def test_a_later_term_in_source_comment_docstring_and_readme_is_reported(tmp_path):
    source = (
        '"""Layers. Later an Optimizer will update them."""\n'
        "from tinytorch.core import Tensor\n\n"
        "def Linear():\n"
        "    # by the chain_rule this works\n"
        '    raise ValueError("use the chain-rule")\n'
    )
    readme = "# Layers\n\nWe use tensor broadcasting.\nOptimizers come later.\n"
    findings = lines(lint_modules(course(tmp_path, source, readme)))
    assert findings == [
        "modules/02_layers/README.md:4: term 'optimizer' is introduced in module 03",
        "modules/02_layers/layers.py:1: term 'optimizer' is introduced in module 03",
        "modules/02_layers/layers.py:5: term 'chain rule' is introduced in module 03",
        "modules/02_layers/layers.py:6: term 'chain rule' is introduced in module 03",
    ], "'tensor' is listed by 03 too, but 01 introduced it first"


def test_terms_match_whole_words_only():
    pattern = term_pattern("epoch")
    assert pattern.search("one Epoch") and pattern.search("two epochs")
    assert not pattern.search("epochal") and not pattern.search("preepoch")
    assert term_pattern("learning rate schedule").search("a learning_rate_schedule here")


def test_importing_from_a_module_that_is_not_a_prerequisite_is_reported(tmp_path):
    source = (
        "import numpy as np\n"
        "import sklearn\n"
        "from tinytorch.optim import SGD\n"
        "import tinytorch.core as core\n"
        "import tinytorch\n\n"
        "def Linear():\n"
        "    return core.Tensor, tinytorch.optim.SGD, tinytorch.core.Missing\n"
    )
    findings = lines(lint_modules(course(tmp_path, source)))
    # The grader's policy refuses these too (its own test: test_lint_reports_what_the_grader...).
    findings = [f for f in findings if "module files may" not in f and "may use only" not in f]
    assert findings == [
        "modules/02_layers/layers.py:2: imports 'sklearn': a module may import only the "
        "standard library, numpy, pytest in tests and names from its prerequisites via tinytorch",
        "modules/02_layers/layers.py:3: uses 'tinytorch.optim.SGD' from module 03, which is not "
        "a prerequisite of module 02 (prerequisites: 01)",
        "modules/02_layers/layers.py:8: 'tinytorch.core.Missing' is not exported by any module",
        "modules/02_layers/layers.py:8: uses 'tinytorch.optim.SGD' from module 03, which is not "
        "a prerequisite of module 02 (prerequisites: 01)",
    ]


def test_prerequisites_are_transitive_and_answers_are_not_linted(tmp_path):
    root = course(tmp_path)
    optim = root / "03_optim" / "optim.py"
    optim.write_text("from tinytorch.core import Tensor\n\ndef SGD():\n    return Tensor\n")
    (root / "01_tensor" / "ANSWERS.md").write_text("Module 03 adds the optimizer.\n")
    assert lint_modules(root) == []


def test_tiny_lint_exits_one_on_findings(tmp_path, capsys):
    course(tmp_path, two_readme="the chain rule\n")
    assert main(["lint", "--root", str(tmp_path)]) == 1
    assert "README.md:1: term 'chain rule' is introduced in module 03" in capsys.readouterr().out
    (tmp_path / "modules/02_layers/README.md").write_text("plain\n")
    assert main(["lint", "--root", str(tmp_path)]) == 0


def test_lint_reports_what_the_grader_would_refuse(tmp_path):
    modules = tmp_path / "modules"
    shutil.copytree(REPO_ROOT / "modules" / "01_tensor", modules / "01_tensor")
    source = modules / "01_tensor" / "tensor.py"
    source.write_text(source.read_text(encoding="utf-8") + "\nimport atexit\n", encoding="utf-8")
    findings = [str(f) for f in lint_modules(modules)]
    line = len(source.read_text(encoding="utf-8").splitlines())
    assert findings == [
        f"modules/01_tensor/tensor.py:{line}: imports `atexit`: module files may not import "
        f"atexit; use only numpy, math and the tinytorch namespaces listed in module.yaml "
        f"(tinytorch.core); standard-library modules allowed here: abc, collections, "
        f"collections.abc, contextlib, copy, dataclasses, enum, functools, itertools, re, "
        f"statistics, time, typing"
    ]
