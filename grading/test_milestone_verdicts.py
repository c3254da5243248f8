"""Milestone runs attached to a grade: verdicts are read from the milestone's own output."""

import pytest

from grading.commands.milestone import verdict_line
from grading.milestone_verdicts import milestone_record


def test_the_verdict_is_the_last_pass_or_fail_line():
    output = "epoch 1 ...\nFAIL: 80% (threshold 95%)\nretrying\nPASS: 97% (threshold 95%)\n"
    assert verdict_line(output) == "PASS: 97% (threshold 95%)"
    assert verdict_line("no verdict here\n") is None


def test_exit_codes_map_to_statuses():
    assert milestone_record(3, "mlp", 0, "PASS: 97%")["status"] == "passed"
    failed = milestone_record(3, "mlp", 1, "FAIL: 40% (threshold 95%)")
    assert failed["status"] == "failed" and failed["message"].startswith("FAIL: 40%")
    crashed = milestone_record(3, "mlp", 2, "Traceback ...\nNameError: x\n")
    assert crashed["status"] == "error" and "NameError: x" in crashed["message"]
    hung = milestone_record(3, "mlp", None, "")
    assert hung["status"] == "failed" and "time limit" in hung["message"]


def test_the_course_configuration_sets_threshold_and_dataset(tmp_path):
    from grading.commands.milestone import configured_arguments
    from grading.course_config import load_course_config
    from grading.repo import REPO_ROOT

    text = (REPO_ROOT / "template" / "examples" / "half-semester.yaml").read_text()
    (tmp_path / "course.yaml").write_text(text)
    config = load_course_config(tmp_path / "course.yaml")
    assert configured_arguments(3, [], ("tinydigits",), config) == ["--threshold", "0.9"]
    assert configured_arguments(3, ["--threshold", "1"], ("tinydigits",), config) == [
        "--threshold",
        "1",
    ]
    assert configured_arguments(1, ["--epochs", "2"], (), None) == ["--epochs", "2"]
    with pytest.raises(ValueError, match="trains on cifar10"):
        configured_arguments(3, [], ("cifar10",), config)
