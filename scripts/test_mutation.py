"""Tests of the mutation tool (scripts/mutation.py) and of its catalogues.

Cheap: every catalogue of the course validates; a broken catalogue is reported by file and
line; no template ships a catalogue. End to end (a CI sample of the staff command): two
mutants of Module 01 are graded with the real `tiny grade`, one killed and one surviving.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grading.course_config import COURSE_CONFIG, load_course_config
from grading.course_modules import load_module_meta
from grading.repo import REPO_ROOT
from scripts import build_templates, mutation, solution_leaks
from scripts.template_files import plan_tier

TENSOR = REPO_ROOT / "modules" / "01_tensor"


def test_every_catalogue_of_the_course_is_valid():
    metas = mutation.catalogued_modules(REPO_ROOT / "modules")
    mutants = mutation.load_all(metas)
    assert [m.key for m in metas][:1] == ["01_tensor"], "Module 01 has a catalogue"
    for meta in metas:
        mine = [m for m in mutants if m.module == meta]
        assert len(mine) >= 5, f"{meta.key}: a catalogue needs at least 5 mutants"
        assert all(m.equivalent is None or m.equivalent.strip() for m in mine), (
            f"{meta.key}: an equivalent mutant says why it cannot be told apart"
        )


def copy_module(tmp_path: Path, catalogue: str) -> Path:
    folder = tmp_path / "modules" / TENSOR.name
    shutil.copytree(TENSOR, folder, ignore=mutation.IGNORED)
    (folder / mutation.CATALOGUE).write_text(catalogue, encoding="utf-8")
    return folder


BROKEN = """\
mutants:
  - id: twice
    exercise: "01.2"
    bug: b
    find: "return Tensor(self.data + other.data)"
    replace: "return self.data + other.data"
  - id: twice
    exercise: "01.9"
    bug: b
    find: "no such line"
    replace: "x"
  - id: outside
    exercise: "01.2"
    bug: b
    find: "return self * -1.0"
    replace: "return self * 1.0"
  - id: wrong-region
    exercise: "01.1"
    bug: b
    find: "return Tensor(self.data * other.data)"
    replace: "return self.data * other.data"
  - id: many
    exercise: "01.1"
    bug: b
    find: "return self.data"
    replace: "return None"
  - id: incomplete
    exercise: "01.1"
  - id: not-python
    exercise: "01.7"
    bug: b
    find: "return self.size * self.data.itemsize"
    replace: "return self.size *"
"""


def test_a_broken_catalogue_names_file_line_and_problem(tmp_path: Path):
    meta = load_module_meta(copy_module(tmp_path, BROKEN))
    with pytest.raises(mutation.CatalogueError) as caught:
        mutation.load_catalogue(meta)
    message = str(caught.value)
    for expected in (
        "mutants.yaml:7: mutant 'twice': id already used at line 2",
        "exercise 01.9 is not in module.yaml",
        "find text does not occur",
        "mutants.yaml:12: mutant 'outside': find text is at tensor.py:",
        "no solution region",
        "in the region of 01.2",
        "mutants.yaml:22: mutant 'many': find text occurs 5 times",
        "mutants.yaml:27: needs text values for bug, find, replace",
        "mutants.yaml:29: mutant 'not-python': the mutated source is not valid Python",
    ):
        assert expected in message, f"{expected!r} missing from:\n{message}"


def test_the_command_rejects_an_invalid_catalogue_with_exit_2(tmp_path: Path, capsys):
    copy_module(tmp_path, "mutants: {}\n")
    assert mutation.main(["--root", str(tmp_path), "--check"]) == 2
    assert "must be a mapping with a list under 'mutants:'" in capsys.readouterr().err


def test_no_template_ships_a_catalogue_and_the_leak_scan_would_find_one():
    """mutants.yaml quotes solution lines: never in a plan, and its text is a leak."""
    config = load_course_config(REPO_ROOT / COURSE_CONFIG)
    present, _ = build_templates.load_modules(REPO_ROOT / "modules")
    modules = {meta.number: meta for meta in present}
    catalogue = (TENSOR / mutation.CATALOGUE).read_text(encoding="utf-8")
    checked = 0
    for tier in config.tiers:
        plan = plan_tier(config, tier, modules, REPO_ROOT)
        shipped = [e.dest for e in plan.entries if e.dest.name == mutation.CATALOGUE]
        assert shipped == [], f"tier {tier.slug} would ship {shipped}"
        if any(meta.number == 1 for meta in plan.graded):
            needles = build_templates.solution_needles(plan)
            leaks = solution_leaks.find_leaks(needles, [("mutants.yaml", catalogue)])
            assert leaks, "the leak scan must flag a catalogue planted in a template"
            checked += 1
    assert checked, "some tier grades Module 01"


ONE_KILLED_ONE_SURVIVING = """\
mutants:
  - id: footprint-counts-entries
    exercise: "01.7"
    bug: memory_footprint returns the number of entries, not bytes
    find: |
      return self.size * self.data.itemsize
    replace: |
      return self.size
  - id: footprint-same-bytes
    exercise: "01.7"
    bug: counts bytes with nbytes (the same number, written differently)
    find: |
      return self.size * self.data.itemsize
    replace: |
      return self.data.nbytes
  - id: footprint-declared-equivalent
    exercise: "01.7"
    bug: multiplies in the other order
    find: |
      return self.size * self.data.itemsize
    replace: |
      return self.data.itemsize * self.size
    equivalent: the product does not depend on the order
"""


def test_end_to_end_a_killed_and_a_surviving_mutant(tmp_path: Path, capsys):
    """The real grader on a copy of the course: a CI-sized sample of the staff command."""
    shutil.copytree(REPO_ROOT / "modules", tmp_path / "modules", ignore=mutation.IGNORED)
    for extra in tmp_path.glob("modules/*/" + mutation.CATALOGUE):
        extra.unlink()
    (tmp_path / "modules" / TENSOR.name / mutation.CATALOGUE).write_text(
        ONE_KILLED_ONE_SURVIVING, encoding="utf-8"
    )
    status = mutation.main(["--root", str(tmp_path), "--jobs", "2", "-v"])
    out = capsys.readouterr().out
    assert status == 1, f"one survivor of two is below 97%:\n{out}"
    assert "50.0%  killed 1/2, 1 equivalent" in out, out
    assert "killed    footprint-counts-entries (01.7): 52/60, lost in 01.7  [" in out, out
    assert "SURVIVED  footprint-same-bytes (01.7): counts bytes with nbytes" in out, out
    assert "equivalent footprint-declared-equivalent (01.7)" in out, out
    assert mutation.main(["--root", str(tmp_path), "--mutants", "footprint-counts-entries"]) == 0
