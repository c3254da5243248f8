"""Jupyter as a supported way to work (jupytext pairing, `py:percent`): every module source is a
notebook with each exercise in its own code cell under its markdown, a notebook round trip
leaves the file as it was, and an edit saved in the notebook is what `tiny test` grades.
Needs jupytext (the `dev` extra); skipped with a message without it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from grading.course_modules import load_all_modules
from grading.points import expected_tests
from grading.repo import REPO_ROOT
from scripts import stubs
from scripts.build_templates import GITIGNORE, JUPYTEXT_TOML, build

jupytext = pytest.importorskip(
    "jupytext", reason="jupytext is a dev dependency: pip install -e .[dev]"
)
nbformat = pytest.importorskip("nbformat", reason="nbformat comes with jupytext")

MODULES = load_all_modules(REPO_ROOT / "modules")
TOML_FILTER = re.search(r'notebook_metadata_filter = "(.*)"', JUPYTEXT_TOML).group(1)


def cells(text: str) -> list[tuple[str, str]]:
    """(cell_type, source) of every cell of a py:percent text, as jupytext reads it."""
    notebook = jupytext.reads(text, fmt="py:percent")
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


@pytest.mark.parametrize("meta", MODULES, ids=[m.key for m in MODULES])
def test_each_exercise_has_its_own_code_cell_under_its_markdown(meta):
    text = meta.source_path.read_text(encoding="utf-8")
    found = cells(text)
    seen: list[str] = []
    for index, (kind, source) in enumerate(found):
        ids = list(dict.fromkeys(stubs.BEGIN.match(line)["id"] for line in source.splitlines()
                                 if stubs.BEGIN.match(line)))  # fmt: skip
        if kind != "code" or not ids:
            continue
        assert len(ids) == 1, f"{meta.source}: cell {index} holds exercises {ids}: one per cell"
        assert index > 0 and found[index - 1][0] == "markdown", (
            f"{meta.source}: the cell of exercise {ids[0]} has no markdown cell right above it"
        )
        seen += ids
    expected = [exercise.id for exercise in meta.exercises]
    assert sorted(set(seen)) == sorted(expected), f"{meta.source}: exercises in cells {seen}"
    assert len(seen) == len(set(seen)), f"{meta.source}: an exercise is split over cells: {seen}"


@pytest.mark.parametrize("meta", MODULES, ids=[m.key for m in MODULES])
def test_a_notebook_round_trip_leaves_the_module_file_unchanged(meta):
    """Open as a notebook, save as ipynb, save back as py:percent (what Jupyter does on save,
    with the template's jupytext.toml): the file is byte for byte what it was."""
    text = meta.source_path.read_text(encoding="utf-8")
    notebook = jupytext.reads(text, fmt="py:percent")
    header = notebook.metadata["jupytext"]
    assert header.get("formats") == "ipynb,py:percent", f"{meta.source}: not paired: {header}"
    assert header.get("notebook_metadata_filter") == TOML_FILTER, (
        f"{meta.source}: its header must carry jupytext.toml's metadata filter, or the first "
        f"save in Jupyter adds it: {header}"
    )
    saved = nbformat.reads(nbformat.writes(notebook), as_version=4)
    back = jupytext.writes(saved, fmt="py:percent")
    assert back == text, f"{meta.source}: a notebook round trip changes the file"


def test_template_pairs_notebooks_and_ignores_them():
    assert 'formats = "ipynb,py:percent"' in JUPYTEXT_TOML
    assert "*.ipynb" in GITIGNORE.splitlines() and ".ipynb_checkpoints/" in GITIGNORE
    course = (REPO_ROOT / "jupytext.toml").read_text(encoding="utf-8")
    assert course == JUPYTEXT_TOML, "the course repository pairs notebooks as templates do"


def test_an_edit_saved_in_the_notebook_is_what_tiny_test_grades(tmp_path):
    """Student path end to end in a built tier: pair tensor.py with a notebook (jupytext
    --sync), write exercise 01.1 in the notebook's cell, save (sync), run `tiny test`."""
    (built,) = build(
        REPO_ROOT / "template" / "course.yaml", tmp_path, ["foundation"], log=lambda _: None
    )
    root = built.root
    env = {k: v for k, v in os.environ.items() if k != "TINYTORCH_MODULES"}
    env["PYTHONPATH"] = str(root)
    source = root / "modules/01_tensor/tensor.py"
    notebook_path = source.with_suffix(".ipynb")
    stubbed = source.read_text(encoding="utf-8")

    def run(*command: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", *command], cwd=root, env=env, capture_output=True, text=True
        )
        return done

    synced = run("jupytext", "--sync", str(source.relative_to(root)))
    assert synced.returncode == 0 and notebook_path.is_file(), synced.stderr
    tests = expected_tests(root / "modules/01_tensor/test_01_tensor.py")
    count = sum(test.instances for test in tests if test.exercise == "01.1")
    before = run("grading.cli", "test", "01", "--exercise", "01.1")
    assert f"0 of {count} tests passed" in before.stdout, before.stdout

    # The student's edit: every 01.1 stub line in the notebook becomes the solution.
    course_text = (REPO_ROOT / "modules/01_tensor/tensor.py").read_text(encoding="utf-8")
    bodies = [r.body for r in stubs.find_regions(course_text) if r.exercise_id == "01.1"]
    notebook = nbformat.read(notebook_path, as_version=4)
    stub_line = re.compile(r'^\s*raise NotImplementedError\("exercise 01\.1 ')
    for cell in notebook.cells:
        lines = cell.source.splitlines()
        if not any(stub_line.match(line) for line in lines):
            continue
        edited = []
        for line in lines:
            edited += list(bodies.pop(0)) if stub_line.match(line) else [line]
        cell.source = "\n".join(edited)
    assert not bodies, "every 01.1 stub was found in the notebook"
    time.sleep(1.1)  # the notebook is now newer than its .py, as after an edit in Jupyter
    nbformat.write(notebook, notebook_path)
    stale = run("grading.cli", "test", "01", "--exercise", "01.1")
    assert "is newer than tensor.py" in stale.stderr, stale.stderr
    saved = run("jupytext", "--sync", str(notebook_path.relative_to(root)))
    assert saved.returncode == 0, saved.stderr

    after = run("grading.cli", "test", "01", "--exercise", "01.1")
    assert f"{count} of {count} tests passed" in after.stdout, after.stdout
    assert "newer than" not in after.stderr
    text = source.read_text(encoding="utf-8")
    expected = stubbed
    for region in (r for r in stubs.find_regions(course_text) if r.exercise_id == "01.1"):
        expected = re.sub(
            r'^[ \t]*raise NotImplementedError\("exercise 01\.1 .*\n',
            lambda _, body=region.body: "\n".join(body) + "\n",
            expected,
            count=1,
            flags=re.M,
        )
    assert text == expected, "the .py holds the notebook's edit and nothing else changed"
