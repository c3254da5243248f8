"""Tests of solution stripping (scripts/stubs.py) and of the leak scanner that checks it
(scripts/solution_leaks.py), on small hand-written sources and on Module 01."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from grading.course_modules import Exercise, load_module_meta
from grading.repo import REPO_ROOT
from scripts import solution_leaks, stubs

EXERCISES = {
    "09.1": Exercise("09.1", "scale", 5, 'multiply by "factor"'),
    "09.2": Exercise("09.2", "shift", 5, ""),
}
SOURCE = '''\
def scale(x, factor):
    """Multiply."""
    ### BEGIN SOLUTION 09.1
    result = x * factor
    return result
    ### END SOLUTION


class Shifter:
    def shift(self, x):
        if x is None:
            raise ValueError("x")
        ### BEGIN SOLUTION 09.2
        return x + self.offset_amount
        ### END SOLUTION
'''


def test_regions_become_one_raise_at_the_marker_indentation():
    stubbed, regions = stubs.strip_solutions(SOURCE, EXERCISES)
    assert [r.exercise_id for r in regions] == ["09.1", "09.2"]
    lines = stubbed.splitlines()
    assert '    raise NotImplementedError("exercise 09.1 scale: multiply by \\"factor\\"")' in lines
    assert '        raise NotImplementedError("exercise 09.2 shift")' in lines
    assert "result = x * factor" not in stubbed and "offset_amount" not in stubbed
    assert "SOLUTION" not in stubbed
    namespace: dict = {}
    exec(compile(stubbed, "<stub>", "exec"), namespace)
    with pytest.raises(NotImplementedError, match=r'exercise 09.1 scale: multiply by "factor"'):
        namespace["scale"](2, 3)
    with pytest.raises(ValueError):  # code outside the regions is kept
        namespace["Shifter"]().shift(None)


def test_drop_markers_keeps_the_solution():
    kept = stubs.drop_markers(SOURCE)
    assert "result = x * factor" in kept and "SOLUTION" not in kept
    namespace: dict = {}
    exec(compile(kept, "<kept>", "exec"), namespace)
    assert namespace["scale"](2, 3) == 6


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "    ### BEGIN SOLUTION 09.1\n    ### BEGIN SOLUTION 09.2\n",
            "f.py:2: BEGIN SOLUTION inside",
        ),
        ("    ### END SOLUTION\n", "f.py:1: END SOLUTION without a BEGIN"),
        ("x = 1\n    ### BEGIN SOLUTION 09.1\n    y = 2\n", "f.py:2: BEGIN SOLUTION 09.1 is never"),
        (
            "    ### BEGIN SOLUTION\n    ### END SOLUTION\n",
            "f.py:1: BEGIN SOLUTION needs the exercise",
        ),
        ("    x = 1  ### BEGIN SOLUTION 09.1\n", "f.py:1: a solution marker must stand alone"),
        (
            "    ### BEGIN SOLUTION 07.1\n    ### END SOLUTION\n",
            "f.py:1: BEGIN SOLUTION 07.1 names no",
        ),
    ],
)
def test_malformed_regions_name_file_and_line(text, expected):
    with pytest.raises(stubs.StubError) as caught:
        stubs.strip_solutions(text, EXERCISES, "f.py")
    assert expected in str(caught.value)


def test_module_01_stub_imports_and_every_exercise_has_a_region():
    meta = load_module_meta(REPO_ROOT / "modules" / "01_tensor")
    text = meta.source_path.read_text(encoding="utf-8")
    stubbed, regions = stubs.strip_solutions(text, {e.id: e for e in meta.exercises})
    assert {r.exercise_id for r in regions} == {e.id for e in meta.exercises}
    namespace: dict = {"__name__": "tinytorch.m01_tensor"}  # the loader's name for it
    exec(compile(stubbed, "tensor.py", "exec"), namespace)  # imports without running a stub
    stub_message = f"exercise 01.1 storage: {meta.exercise('01.1').hint}"
    with pytest.raises(NotImplementedError, match=re.escape(stub_message)):
        namespace["Tensor"]([1.0])


def test_trivial_lines_are_not_needles():
    for line in ["", "return", "  )", "]),", "pass", "else:", "return out", "x"]:
        assert solution_leaks.is_trivial(line), line
    for line in ["return self.data.shape", "result = x * factor", "return Tensor(a + b)"]:
        assert not solution_leaks.is_trivial(line), line


def test_needles_skip_lines_the_course_hands_out_anyway():
    handed_out = ["    if x is None:\n        result = x * factor  # shown in the README"]
    found = solution_leaks.needles([("s.py", SOURCE)], handed_out)
    assert found == {"return x + self.offset_amount"}


def test_scanner_finds_a_leak_in_files_and_in_git_history(tmp_path: Path):
    needle_set = solution_leaks.needles([("s.py", SOURCE)], [])
    assert needle_set == {"result = x * factor", "return x + self.offset_amount"}
    (tmp_path / "clean.py").write_text(stubs.strip_solutions(SOURCE, EXERCISES)[0])
    assert solution_leaks.find_leaks(needle_set, solution_leaks.tree_texts(tmp_path)) == []
    (tmp_path / "notes.md").write_text("hint: `return x + self.offset_amount`\n")
    leaks = solution_leaks.find_leaks(needle_set, solution_leaks.tree_texts(tmp_path))
    assert leaks == [("notes.md", "return x + self.offset_amount")]

    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run([*git, "-C", str(tmp_path), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(tmp_path), "commit", "-qm", "leak"], check=True)
    (tmp_path / "notes.md").unlink()  # gone from the tree, still in history
    subprocess.run([*git, "-C", str(tmp_path), "commit", "-qam", "remove"], check=True)
    assert solution_leaks.find_leaks(needle_set, solution_leaks.tree_texts(tmp_path)) == []
    history = solution_leaks.find_leaks(needle_set, solution_leaks.git_object_texts(tmp_path))
    assert [needle for _, needle in history] == ["return x + self.offset_amount"]
