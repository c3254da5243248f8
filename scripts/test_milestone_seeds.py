"""The seed sweep reports pass rates truthfully: all seeds PASS on the reference, and a
recipe that cannot learn is reported as failing, with its seeds, and exit code 1."""

import pytest

from scripts import milestone_seeds


def test_reference_passes_every_seed_tried(capsys):
    assert milestone_seeds.main(["--seeds", "3", "--milestones", "1,2"]) == 0
    output = capsys.readouterr().out
    assert "milestone 1: 3/3 seeds PASS (100%)" in output
    assert "milestone 2: 3/3 seeds PASS (100%)" in output


def test_a_failing_seed_is_named_and_fails_the_sweep(capsys):
    status = milestone_seeds.main(
        ["--seeds", "2", "--start", "5", "--milestones", "2", "--extra", "--epochs 0"]
    )
    output = capsys.readouterr().out
    assert status == 1
    assert "milestone 2: 0/2 seeds PASS (0%)" in output and "FAIL for seeds [5, 6]" in output


def test_unknown_milestones_are_refused():
    with pytest.raises(SystemExit, match="choose from"):
        milestone_seeds.main(["--milestones", "2,42"])
