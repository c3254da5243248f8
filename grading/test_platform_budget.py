"""Fitting a platform's limit on the whole run, and running student code as another user.

Gradescope stops an autograder run after the assignment's timeout, 600 s by default; the
numbers below are checked as values: the limits the grader will use for the Architecture
tier (6 modules, 2 milestones) add up to less than that with the margin kept, and the
milestones get only the time that is left."""

from __future__ import annotations

import pytest

from grading import gradescope, platform_run
from grading.milestone_verdicts import milestone_record
from grading.platform_run import RunBudget
from grading.test_platforms import pristine_tree

ARCHITECTURE = {"modules": 6, "milestones": 2}


def test_the_gradescope_budget_fits_the_architecture_tier_with_a_margin():
    budget = gradescope.budget_for(gradescope.RUN_LIMIT)
    assert budget.run_limit == 600 and budget.margin == 90
    assert budget.module_limit(**ARCHITECTURE) == 45
    worst = budget.worst_case(**ARCHITECTURE)
    assert worst == 510 and worst + budget.margin <= 600
    # An honest run: modules in ~30 s leave Milestone 4 (CIFAR-10, ~5 min on 2 cores) its
    # time while keeping a minute for Milestone 5 (~1 min).
    assert budget.milestone_limit(remaining=480, milestones_after=1) == 420
    assert budget.milestone_limit(remaining=120, milestones_after=0) == 120
    assert budget.milestone_limit(remaining=75, milestones_after=1) is None


def test_many_modules_shrink_their_wall_so_the_milestones_keep_their_reserve():
    budget = RunBudget(run_limit=600, margin=90)
    assert budget.module_limit(modules=20, milestones=3) == pytest.approx((510 - 180) / 20)
    assert budget.worst_case(modules=20, milestones=3) <= 510
    assert budget.worst_case(modules=7, milestones=0) == 7 * 45


def test_milestones_get_what_is_left_and_one_without_time_is_not_run(tmp_path, monkeypatch):
    pristine = pristine_tree(tmp_path / "pristine")
    (pristine / "milestones").mkdir()
    for name in ("m4_cnn.py", "m5_gpt.py"):
        (pristine / "milestones" / name).write_text('TITLE = "x"\n')
    course_yaml = pristine / ".tinytorch" / "course.yaml"
    course_yaml.write_text(course_yaml.read_text().replace("milestones: [6]", "milestones: [4, 5]"))
    limits = []
    clock = {"now": 1000.0}
    monkeypatch.setattr(platform_run.time, "monotonic", lambda: clock["now"])

    def fake_run(number, modules_root, arguments, run_as, timeout, keep, memory):
        limits.append((number, timeout, run_as))
        clock["now"] += 440  # Milestone 4 runs to 10 s before the deadline
        return milestone_record(number, "cnn", 0, "PASS: fine\n"), "PASS: fine"

    monkeypatch.setattr(platform_run, "sandboxed_milestone", fake_run)
    course = platform_run.bundle_course(pristine)
    entries, _, _ = platform_run.run_milestones(
        pristine, tmp_path / "tree", tmp_path / "work", course,
        budget=RunBudget(run_limit=600, margin=90), deadline=1000.0 + 450, run_as="nobody",
    )  # fmt: skip
    assert limits == [(4, 390.0, "nobody")], "450 s left, 60 s kept for Milestone 5"
    assert entries[1]["number"] == 5 and entries[1]["status"] == "failed"
    assert entries[1]["message"].startswith("not run: the platform's limit on the whole run")


def test_a_whole_run_passes_the_module_wall_to_the_grader(tmp_path, monkeypatch):
    seen = {}

    def fake_grade(settings, work):
        seen["wall"] = settings.wall_limit
        raise RuntimeError("stop here")

    monkeypatch.setattr(platform_run, "grade", fake_grade)
    pristine = pristine_tree(tmp_path / "pristine")
    with pytest.raises(RuntimeError, match="stop here"):
        platform_run.grade_checkout(
            tmp_path, pristine, budget=RunBudget(run_limit=100, margin=40), milestones=False
        )
    assert seen["wall"] == 45, "one module, no milestones: the per-module cap"
