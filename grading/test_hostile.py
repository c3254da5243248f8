"""Hostile and careless submissions, graded as the Classroom workflow grades them.

A course repository with Modules 01 and 02 stubbed (as the template build hands them out) is
committed as the template's root commit; each case edits the student's files on top and
runs the workflow's grader command for each module, `tiny grade --modules NN --pristine-git
--classroom-output --summary --out .tinytorch/results/NN`, with GitHub's output files set.
Honest stubs earn 0 of 60 and 0 of 50: every attack must earn exactly that, and the report
must name what was refused. About 3 s per case.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from grading.cli import main
from grading.repo import REPO_ROOT
from grading.results import without_durations

SOURCE = "modules/01_tensor/tensor.py"
MODULES = ("01_tensor", "02_activations")
POSSIBLE = {"01": 60, "02": 50}
MARKER = "/tmp/tinytorch-hostile-marker"


def _stub(path: Path) -> None:
    pattern = re.compile(r"^( *)### BEGIN SOLUTION (\S+)\n.*?### END SOLUTION\n", re.M | re.S)
    text = pattern.sub(
        lambda m: f'{m.group(1)}raise NotImplementedError("exercise {m.group(2)}")\n',
        path.read_text(encoding="utf-8"),
    )
    path.write_text(text, encoding="utf-8")


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def build_template(root: Path) -> Path:
    """Modules 01 and 02 stubbed, committed as the root commit of `root`."""
    for key in MODULES:
        shutil.copytree(
            REPO_ROOT / "modules" / key,
            root / "modules" / key,
            ignore=shutil.ignore_patterns("__pycache__", "ANSWERS.md"),
        )
        meta = (root / "modules" / key / "module.yaml").read_text(encoding="utf-8")
        source = re.search(r"^source: (\S+)$", meta, re.M).group(1)
        _stub(root / "modules" / key / source)
    _git(root, "init", "-q")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "template")
    return root


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> Path:
    return build_template(tmp_path_factory.mktemp("template") / "repo")


def submission(template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "student"
    shutil.copytree(template, root, symlinks=True)
    return root


def append(root: Path, code: str, path: str = SOURCE) -> None:
    target = root / path
    target.write_text(target.read_text(encoding="utf-8") + "\n" + code + "\n", encoding="utf-8")


def grade_as_workflow(root: Path, monkeypatch, modules=("01", "02")) -> dict[str, dict]:
    """Each module's step as the workflow runs it; returns results.json by module, and
    checks that what reached $GITHUB_OUTPUT is the grader's own result."""
    github = root.parent / "github"
    github.mkdir(exist_ok=True)
    files = {name: github / name for name in ("output", "summary", "env", "path")}
    for path in files.values():
        path.write_text("")
    for name, variable in (
        ("output", "GITHUB_OUTPUT"),
        ("summary", "GITHUB_STEP_SUMMARY"),
        ("env", "GITHUB_ENV"),
        ("path", "GITHUB_PATH"),
    ):
        monkeypatch.setenv(variable, str(files[name]))
    monkeypatch.delenv("TINYTORCH_MODULES", raising=False)
    found = {}
    for number in modules:
        out = root / ".tinytorch" / "results" / number
        argv = ["grade", "--root", str(root), "--modules", number, "--pristine-git"]
        main([*argv, "--classroom-output", "--summary", "--out", str(out), "--wall-limit", "60"])
        found[number] = json.loads((out / "results.json").read_text(encoding="utf-8"))
    lines = files["output"].read_text().splitlines()
    assert len(lines) == len(modules) and all(line.startswith("result=") for line in lines)
    for line, number in zip(lines, modules, strict=True):
        payload = json.loads(base64.b64decode(line.removeprefix("result=")))
        assert payload["max_score"] == POSSIBLE[number], "every step reports its full maximum"
        assert (
            sum(test["score"] for test in payload["tests"]) == (found[number]["points"]["earned"])
        )
    assert files["env"].read_text() == "" and files["path"].read_text() == ""
    return found


def points(found: dict[str, dict]) -> dict[str, int]:
    return {number: results["points"]["earned"] for number, results in found.items()}


def message(found: dict[str, dict], number: str = "01") -> str:
    return found[number]["modules"][0]["run"]["message"] or ""


# ---- attacks written in the student's module file --------------------------------------

# Each is a working exploit against a grader without the trust boundary (measured on the
# grader before issue 11: the report patches earned 60 of 60 for a stubbed Module 01).
PASS_EVERY_REPORT = """
_original = _reports.TestReport.from_item_and_call


def _passed(cls, item, call):
    report = _original(item, call)
    report.outcome, report.longrepr = "passed", None
    return report


_reports.TestReport.from_item_and_call = classmethod(_passed)
"""
REWRITE_RESULTS = """
def _rewrite():
    import json

    for name in ("report.json",):
        try:
            report = json.load(open(name))
        except OSError:
            continue
        for test in report.get("tests", []):
            test["outcome"] = "passed"
            for stage in ("setup", "call", "teardown"):
                (test.get(stage) or {}).update(outcome="passed")
        report["exitcode"] = 0
        json.dump(report, open(name, "w"))
"""
ATTACKS = {
    "report patching through sys.modules": (
        "import sys\n_reports = sys.modules['_pytest.reports']\n" + PASS_EVERY_REPORT,
        "modules/01_tensor/tensor.py imports `sys`: module files may not import sys",
    ),
    "report patching through __import__": (
        "_reports = __import__('_pytest.reports', fromlist=['x'])\n" + PASS_EVERY_REPORT,
        "modules/01_tensor/tensor.py uses `__import__`",
    ),
    "report patching through importlib": (
        "import importlib\n_reports = importlib.import_module('_pytest.reports')\n"
        + PASS_EVERY_REPORT,
        "modules/01_tensor/tensor.py imports `importlib`",
    ),
    "assert_allclose neutered": (
        "np.testing.assert_allclose = lambda *a, **k: None",
        "modules/01_tensor/tensor.py changes `np.testing.assert_allclose`",
    ),
    "np.allclose patched through an alias": (
        "checks = np\nchecks.allclose = lambda *a, **k: True",
        "modules/01_tensor/tensor.py changes `checks.allclose`",
    ),
    "builtins patched": (
        "import builtins\nbuiltins.print = lambda *a, **k: None",
        "modules/01_tensor/tensor.py imports `builtins`",
    ),
    "builtins reached by a dunder": (
        "(lambda: 0).__globals__['__builtins__']['len'] = lambda x: 0",
        "modules/01_tensor/tensor.py uses `.__globals__`",
    ),
    "atexit handler rewrites results": (
        "import atexit\n" + REWRITE_RESULTS + "\natexit.register(_rewrite)",
        "modules/01_tensor/tensor.py imports `atexit`: module files may not import atexit; "
        "use only numpy, math and the tinytorch namespaces listed in module.yaml",
    ),
    "finalizer rewrites results": (
        REWRITE_RESULTS + "\n\nclass Sneaky:\n    def __del__(self):\n        _rewrite()\n\n\n"
        "keep = Sneaky()",
        "modules/01_tensor/tensor.py imports `json`",  # then: opens a file, defines __del__
    ),
    "writes $GITHUB_OUTPUT": (
        "import os\nopen(os.environ['GITHUB_OUTPUT'], 'a').write('result=e30=\\n')",
        "modules/01_tensor/tensor.py imports `os`",
    ),
    "writes .tinytorch/results": (
        "open('../../.tinytorch/results/01/results.json', 'w').write('{}')",
        "modules/01_tensor/tensor.py opens a file for writing",
    ),
    "fake tiny on $GITHUB_PATH": (
        "import subprocess\nsubprocess.run(['sh', '-c', 'echo /tmp/fake >> $GITHUB_PATH'])",
        "modules/01_tensor/tensor.py imports `subprocess`",
    ),
    "getattr on a module": (
        "getattr(np, 'testing').assert_allclose = None",
        "modules/01_tensor/tensor.py uses `getattr` on a module",
    ),
    "exec": ("exec('x = 1')", "modules/01_tensor/tensor.py uses `exec`"),
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_in_the_module_file_earns_nothing_and_is_named(
    template, tmp_path, monkeypatch, name
):
    root = submission(template, tmp_path)
    code, expected = ATTACKS[name]
    append(root, code)
    found = grade_as_workflow(root, monkeypatch)
    assert points(found) == {"01": 0, "02": 0}
    assert message(found).startswith(expected), message(found)
    if name == "finalizer rewrites results":
        assert "opens a file for writing" in message(found)
        assert "defines `__del__`: finalizers are not allowed" in message(found)
    assert found["01"]["modules"][0]["run"]["ended"] == "refused"
    assert message(found, "02").startswith("blocked by module 01: " + expected)


# ---- start-up files anywhere in the repository ---------------------------------------

STARTUP = f"import pathlib\npathlib.Path({MARKER!r}).write_text('ran')\n"
CONFTEST = (
    "import pytest\n@pytest.hookimpl(hookwrapper=True)\n"
    "def pytest_runtest_makereport(item, call):\n"
    "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n" + STARTUP
)


STARTUP_FILES = (
    "sitecustomize.py",
    "usercustomize.py",
    "modules/sitecustomize.py",
    "modules/01_tensor/sitecustomize.py",
    "evil.pth",
    "modules/evil.pth",
    "conftest.py",
    "modules/conftest.py",
    "modules/01_tensor/conftest.py",
    "modules/01_tensor/__init__.py",
    "pytest.ini",
    "tox.ini",
    "setup.py",
    "setup.cfg",
    "modules/numpy.py",
    "numpy.py",
    "modules/pytest.py",
)


def test_startup_files_anywhere_never_execute(template, tmp_path, monkeypatch):
    """All at once (one grading, a few seconds): each would make every test pass, or at
    least leave a marker file, if the grader's processes ran it."""
    Path(MARKER).unlink(missing_ok=True)
    root = submission(template, tmp_path)
    for path in STARTUP_FILES:
        if path.endswith(".pth"):
            text = f"import pathlib; pathlib.Path({MARKER!r}).write_text('ran')\n"
        elif path.endswith((".ini", ".cfg")):
            text = "[pytest]\naddopts = -p no:grading.sandbox.plugin\n[tool:pytest]\naddopts = -x\n"
        else:
            text = CONFTEST
        (root / path).write_text(text, encoding="utf-8")
    found = grade_as_workflow(root, monkeypatch)
    assert points(found) == {"01": 0, "02": 0}
    assert not Path(MARKER).exists(), "a start-up file was executed during grading"
    assert found["01"]["modules"][0]["run"]["ended"] == "completed"
    assert found["01"]["modules"][0]["tests"][0]["message"] == "NotImplementedError: exercise 01.1"


# ---- careless submissions ----------------------------------------------------------------


def test_syntax_error_costs_its_module_and_names_the_line(template, tmp_path, monkeypatch):
    root = submission(template, tmp_path)
    append(root, "def broken(:\n    pass")
    found = grade_as_workflow(root, monkeypatch)
    assert points(found) == {"01": 0, "02": 0}
    assert "SyntaxError" in message(found) and "modules/01_tensor/tensor.py" in message(found)


def test_import_time_loop_costs_its_module_and_blocks_dependants_quickly(
    template, tmp_path, monkeypatch
):
    root = submission(template, tmp_path)
    append(root, "while True:\n    pass")
    found = grade_as_workflow(root, monkeypatch)
    assert points(found) == {"01": 0, "02": 0}
    assert message(found).startswith("importing modules/01_tensor/tensor.py did not finish in 30 s")
    assert message(found, "02").startswith(
        "blocked by module 01: importing modules/01_tensor/tensor.py did not finish"
    )
    for number in ("01", "02"):
        assert found[number]["modules"][0]["run"]["ended"] == "refused"


@pytest.mark.parametrize(
    "code, expected",
    [
        ("breakpoint()", "modules/01_tensor/tensor.py uses `breakpoint`"),
        ("import scipy", "modules/01_tensor/tensor.py imports `scipy`"),
    ],
)
def test_careless_code_is_refused_with_a_plain_message(
    template, tmp_path, monkeypatch, code, expected
):
    root = submission(template, tmp_path)
    append(root, code)
    found = grade_as_workflow(root, monkeypatch)
    assert points(found) == {"01": 0, "02": 0}
    assert message(found).startswith(expected)


def test_non_utf8_file_is_refused(template, tmp_path, monkeypatch):
    root = submission(template, tmp_path)
    (root / SOURCE).write_bytes((root / SOURCE).read_bytes() + b"\n# caf\xe9\n")
    found = grade_as_workflow(root, monkeypatch)
    assert points(found) == {"01": 0, "02": 0}
    assert message(found).startswith("modules/01_tensor/tensor.py is not UTF-8 text")


@pytest.mark.parametrize("kind", ["deleted", "symlink"])
def test_deleted_or_linked_module_file_is_refused(template, tmp_path, monkeypatch, kind):
    root = submission(template, tmp_path)
    reference = REPO_ROOT / SOURCE
    (root / SOURCE).unlink()
    if kind == "symlink":
        (root / SOURCE).symlink_to(reference)  # the reference would earn 60 if followed
    found = grade_as_workflow(root, monkeypatch)
    assert points(found) == {"01": 0, "02": 0}
    words = "is missing" if kind == "deleted" else "is a symbolic link"
    assert message(found).startswith(f"modules/01_tensor/{'tensor.py'} {words}")


def test_honest_work_still_earns_and_grading_twice_is_identical(template, tmp_path, monkeypatch):
    root = submission(template, tmp_path)
    shutil.copy(REPO_ROOT / SOURCE, root / SOURCE)
    first = grade_as_workflow(root, monkeypatch)
    second = grade_as_workflow(root, monkeypatch)
    assert points(first) == {"01": 60, "02": 0}
    assert without_durations(first) == without_durations(second)


# ---- the layers behind the policy -----------------------------------------------------------

BEHIND_THE_POLICY = {
    "report patching through sys.modules": "_pytest.reports.TestReport",
    "report patching through __import__": "_pytest.reports.TestReport",
    "report patching through importlib": "_pytest.reports.TestReport",
    "assert_allclose neutered": "numpy.testing.assert_allclose",
    "np.allclose patched through an alias": "numpy.allclose",
    "builtins patched": "builtins.print",
    "builtins reached by a dunder": "builtins.len",
    "atexit handler rewrites results": "the JSON report and the event stream disagree",
}


@pytest.mark.parametrize("name", sorted(BEHIND_THE_POLICY))
def test_with_the_policy_off_the_test_process_is_still_caught(
    template, tmp_path, monkeypatch, name
):
    """If a route slipped past the static policy, the integrity check in the test process
    and the grader's consistency checks still zero the module and name what changed."""
    monkeypatch.setattr("grading.grade_module.check_source", lambda *args, **kwargs: [])
    root = submission(template, tmp_path)
    append(root, ATTACKS[name][0])
    found = grade_as_workflow(root, monkeypatch, modules=("01",))
    assert points(found) == {"01": 0}
    module = found["01"]["modules"][0]
    assert module["run"]["ended"] == "tampered", module["run"]
    assert message(found).startswith("tampering detected, so this module earns no points: ")
    assert BEHIND_THE_POLICY[name] in message(found)


def test_with_the_policy_off_runner_files_are_out_of_reach(template, tmp_path, monkeypatch):
    monkeypatch.setattr("grading.grade_module.check_source", lambda *args, **kwargs: [])
    root = submission(template, tmp_path)
    append(root, ATTACKS["writes $GITHUB_OUTPUT"][0])  # KeyError: the child has no such variable
    found = grade_as_workflow(root, monkeypatch, modules=("01",))  # checks the files untouched
    assert points(found) == {"01": 0}
    assert "KeyError: 'GITHUB_OUTPUT'" in message(found)
