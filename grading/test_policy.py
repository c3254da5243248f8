"""The static policy for student module files (grading/policy.py), on snippets and on the
course's own reference solutions, which must all pass it."""

from __future__ import annotations

import pytest

from grading.course_modules import load_all_modules
from grading.policy import check_source, module_namespaces
from grading.repo import REPO_ROOT

CORE = frozenset({"tinytorch.core"})
PATH = "modules/01_tensor/tensor.py"


def violations(code: str, number: int = 1, namespaces=CORE) -> list[str]:
    return [str(v) for v in check_source(code, number, PATH, namespaces)]


def test_every_reference_solution_follows_the_policy():
    metas = load_all_modules(REPO_ROOT / "modules")
    assert len(metas) >= 20
    for meta in metas:
        shown = f"modules/{meta.key}/{meta.source}"
        namespaces = module_namespaces(meta.number, metas)
        assert check_source(meta.source_path.read_bytes(), meta.number, shown, namespaces) == []


@pytest.mark.parametrize(
    "code, message",
    [
        ("import atexit", "imports `atexit`: module files may not import atexit; use only numpy"),
        ("import os", "imports `os`"),
        ("import sys", "imports `sys`"),
        ("import importlib", "imports `importlib`"),
        ("from importlib import import_module", "imports `importlib`"),
        ("import ctypes", "imports `ctypes`"),
        ("import gc", "imports `gc`"),
        ("import inspect", "imports `inspect`"),
        ("import signal", "imports `signal`"),
        ("import subprocess", "imports `subprocess`"),
        ("import builtins", "imports `builtins`"),
        ("import scipy", "imports `scipy`"),
        ("from tinytorch.optim import SGD", "imports `tinytorch.optim`: module 01 may use only"),
        ("from . import x", "relative imports are not used"),
        ("from numpy import *", "`from numpy import *`"),
        ("x = __import__('sys')", "uses `__import__`"),
        ("exec('1')", "uses `exec`"),
        ("eval('1')", "uses `eval`"),
        ("compile('1', 'f', 'exec')", "uses `compile`"),
        ("breakpoint()", "uses `breakpoint`"),
        ("g = globals()", "uses `globals`"),
        ("v = vars()", "uses `vars()`"),
        ("b = __builtins__", "uses `__builtins__`"),
        ("import numpy as np\nnp.testing.assert_allclose = None", "changes `np.testing.assert"),
        ("import numpy as np\nnp.allclose = None", "changes `np.allclose`"),
        ("import numpy as np\ndel np.allclose", "changes `np.allclose`"),
        ("import numpy as np\nt = np.testing\nt.assert_allclose = None", "changes `t.assert_all"),
        ("from numpy import testing\ntesting.assert_allclose = 1", "changes `testing.assert"),
        ("import numpy as np\nsetattr(np, 'allclose', 1)", "uses `setattr` on a module"),
        ("import numpy as np\ngetattr(np, 'testing')", "uses `getattr` on a module"),
        ("import numpy as np\nvars(np)['x'] = 1", "uses `vars` on a module"),
        ("import numpy as np\nd = np.__dict__", "uses `.__dict__` of a module"),
        ("import math\nmath.sys", "reaches `sys` through a module"),
        ("f = (lambda: 0).__globals__", "uses `.__globals__`"),
        ("s = ().__class__.__base__.__subclasses__()", "uses `.__base__`"),
        ("def f(e):\n    return e.__traceback__.tb_frame.f_back", "uses `.f_back`"),
        ("x = getattr(object, '__subclasses__')", "uses `__subclasses__`"),
        ("class A:\n    def __del__(self):\n        pass", "defines `__del__`"),
        ("open('x', 'w')", "opens a file for writing"),
        ("open('x', mode='ab')", "opens a file for writing"),
        ("open('x', m)", "opens a file for writing"),
    ],
)
def test_refused_constructs_are_named_with_their_line(code, message):
    found = violations("x = 1\n" + code)
    last = len(code.splitlines()) + 1
    assert found, f"{code!r} was not refused"
    assert any(
        f.startswith(f"{PATH}:{line}: {message}") for f in found for line in range(2, last + 1)
    ), found


@pytest.mark.parametrize(
    "code",
    [
        "import numpy as np\nclass T:\n    def __init__(self, d):\n"
        "        self.data = np.asarray(d)",
        "import numpy as np\nrows = np.zeros(3)\nrows[0] = 1.0",
        "import numpy as np\nout = np.zeros((2, 2))\nout[0, 1] = np.float32(1)",
        "from tinytorch.core import Tensor\nsetattr(Tensor, 'double', lambda self: self)",
        "from tinytorch.core import Tensor\nmethod = Tensor.__dict__['__add__']",
        "class M:\n    def params(self):\n        return list(vars(self).values())",
        "def f(layer):\n    return getattr(layer, 'bias', None)",
        "def f(fn):\n    return getattr(fn, '__qualname__', 'op')",
        "import numpy as np\nv = np.__version__",
        "text = open('data.txt').read()",
        "import math, time, itertools, functools, dataclasses, typing, collections",
        "from collections.abc import Callable",
    ],
)
def test_what_exercises_need_is_allowed(code):
    assert violations(code) == []


def test_os_only_where_the_course_needs_it_and_only_its_few_functions():
    assert violations("import os\nos.replace('a', 'b')", number=7) == []
    assert violations("import os\nos.cpu_count()", number=19) == []
    assert violations("import os\nos.system('ls')", number=7) == [
        f"{PATH}:2: uses `os.system`: module files may use only os.PathLike, os.cpu_count, "
        f"os.fspath, os.replace, os.sep"
    ]
    assert violations("import os\nos.environ['GITHUB_OUTPUT']", number=19)
    assert violations("open('ckpt.npz', 'wb')", number=7) == []


def test_a_file_that_is_not_utf8_is_one_violation_and_a_syntax_error_is_left_to_the_run():
    assert [str(v) for v in check_source(b"x = 1\n# caf\xe9\n", 1, PATH, CORE)] == [
        f"{PATH}:2: is not UTF-8 text (byte 11): save it as UTF-8 (your editor's encoding setting)"
    ]
    assert check_source("def broken(:\n", 1, PATH, CORE) == []


def test_namespaces_are_the_module_and_its_prerequisites_transitively():
    metas = load_all_modules(REPO_ROOT / "modules")
    assert module_namespaces(1, metas) == {"tinytorch.core"}
    assert "tinytorch.nn" in module_namespaces(3, metas)
    assert "tinytorch.optim" not in module_namespaces(3, metas)
