"""One job summary per push: module results and milestone records merged, the total first."""

from __future__ import annotations

import argparse
import json

import pytest

from grading.commands import summary as summary_command
from grading.results import RunLimits, build_results, error_module
from grading.tier_summary import SummaryInputError, merge_tier, parse_expected, read_tier

LIMITS = RunLimits(30.0, 300.0, 1 << 30)
SOURCE = {"kind": "pristine_dir", "detail": "folder /tmp/g"}
TAMPER = {
    "checked": True,
    "manifest": "pristine",
    "findings": [{"path": "grading/x.py", "kind": "modified", "message": "changed"}],
}


def module_result(number: int, points: int, tamper: dict | None = None) -> dict:
    """A graded module that earned nothing (an error module is the simplest valid one)."""
    meta = {"number": number, "key": f"{number:02d}_m", "title": f"M{number}", "points": points}
    module = error_module(meta, "boom", LIMITS)
    return build_results([module], SOURCE, tamper or TAMPER)


def passed(number: int, points: int) -> dict:
    result = module_result(number, points)
    module = result["modules"][0]
    module["status"] = "passed"
    module["points"]["earned"] = points
    module["tests"][0] |= {"status": "passed", "points": {"earned": points, "possible": points}}
    return build_results([module], SOURCE, TAMPER)


MILESTONE = {"number": 2, "name": "xor 1969", "status": "failed", "message": "FAIL: 50%"}


def test_total_counts_every_expected_module_once_and_a_missing_one_with_its_full_points():
    merged = merge_tier([passed(1, 60), module_result(2, 50)], [MILESTONE], {1: 60, 2: 50, 3: 40})
    assert merged["points"] == {"earned": 60, "possible": 150}
    assert [m["number"] for m in merged["modules"]] == [1, 2, 3]
    missing = merged["modules"][2]
    assert missing["points"] == {"earned": 0, "possible": 40} and missing["status"] == "error"
    assert "its grader step left no result" in missing["run"]["message"]
    assert merged["milestones"] == [MILESTONE]
    assert len(merged["tamper"]["findings"]) == 1, "the same finding of two steps shows once"


def test_points_that_disagree_with_the_course_are_named():
    merged = merge_tier([passed(1, 60)], [], {1: 70})
    assert merged["points"]["possible"] == 60, "the reporter's number: what the step reported"
    assert any("graded out of 60 points, but the course sets 70" in e for e in merged["errors"])


def test_expected_points_are_parsed_with_a_message_that_says_what_to_write():
    assert parse_expected("01=60, 02=50") == {1: 60, 2: 50}
    with pytest.raises(SummaryInputError, match="'01:60' is not NN=POINTS"):
        parse_expected("01:60")


def test_unreadable_files_are_problems_not_crashes(tmp_path):
    (tmp_path / "01").mkdir()
    (tmp_path / "01" / "results.json").write_text(json.dumps(passed(1, 60)))
    (tmp_path / "02").mkdir()
    (tmp_path / "02" / "results.json").write_text("{not json")
    (tmp_path / "milestone-2.json").write_text(json.dumps(MILESTONE))
    (tmp_path / "milestone-3.json").write_text(json.dumps({"number": 3, "status": "passed"}))
    results, milestones, problems = read_tier(tmp_path)
    assert len(results) == 1 and milestones == [MILESTONE]
    assert len(problems) == 2 and "02/results.json: not a grader result" in problems[0]
    assert "milestone-3.json: not a milestone record" in problems[1]


def test_the_command_prints_one_summary_with_the_total_first(tmp_path, capsys):
    (tmp_path / "01").mkdir()
    (tmp_path / "01" / "results.json").write_text(json.dumps(passed(1, 60)))
    (tmp_path / "milestone-2.json").write_text(json.dumps(MILESTONE))
    parser = argparse.ArgumentParser()
    summary_command.add_arguments(parser)
    code = summary_command.run(parser.parse_args([str(tmp_path), "--expect", "01=60,02=50"]))
    text = capsys.readouterr().out
    assert code == 0
    assert text.startswith("## TinyTorch grade: 60 / 110 points\n")
    assert text.count("TinyTorch grade") == 1 and text.count("| 2 xor 1969 | failed |") == 1
    assert text.index("### Milestones") < text.index("### What to fix") < text.index("WARNING")
