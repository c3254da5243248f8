"""Milestone 6 in fast mode: PASS on the reference modules, a valid and reproduced
submission.json, and a FAIL for each way it can fail. Integration tests: never graded."""

from __future__ import annotations

import contextlib
import io
import json
import re

import pytest

from grading import cli
from grading.commands.milestone import available_milestones
from grading.submission import load_submission
from milestones import m6_mlperf_submission as m6

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """One fast run, shared: (exit code, printed output, submission path)."""
    out = tmp_path_factory.mktemp("m6") / "submission.json"
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = m6.main(["--fast", "--out", str(out), "--submitter", "ada"])
    return code, buffer.getvalue(), out


def last_line(output: str) -> str:
    line = output.strip().splitlines()[-1]
    assert re.match(r"^(PASS|FAIL): ", line) and "threshold" in line, line
    return line


def test_fast_run_passes_and_writes_a_valid_reproduced_submission(first_run):
    code, output, out = first_run
    assert code == 0 and last_line(output).startswith("PASS"), output
    assert "second run reproduced" in output
    submission = load_submission(out)  # validates against the schema
    assert submission["submitter"] == "ada"
    assert submission["dataset"] == {
        "name": "tinydigits",
        "split": "test",
        "samples": 359,
        "features": 64,
        "classes": 10,
    }
    assert submission["model"]["architecture"] == "64-64-10 MLP"
    assert submission["optimized"]["accuracy"] >= 0.9
    assert submission["improvement"]["model_size_ratio"] > 3, "int8 weights: about 4x smaller"
    assert (out.parent / "model.npz").is_file(), "the trained model is saved beside it"
    assert "NaN" not in out.read_text() and json.loads(out.read_text())


def test_load_reuses_the_checkpoint_and_reproduces_accuracy(first_run, tmp_path, capsys):
    _, _, out = first_run
    second = tmp_path / "submission.json"
    code = m6.main(
        ["--fast", "--load", "--model", str(out.parent / "model.npz"), "--out", str(second)]
    )
    output = capsys.readouterr().out
    assert code == 0 and "loaded" in output, output
    before, after = load_submission(out), load_submission(second)
    for variant in ("baseline", "optimized"):
        assert after[variant]["accuracy"] == before[variant]["accuracy"]
        assert after[variant]["model_bytes"] == before[variant]["model_bytes"]


def test_an_unreachable_quality_target_fails(first_run, tmp_path, capsys):
    _, _, out = first_run
    argv = ["--fast", "--load", "--model", str(out.parent / "model.npz")]
    code = m6.main([*argv, "--out", str(tmp_path / "s.json"), "--threshold", "0.999"])
    output = capsys.readouterr().out
    assert code == 1 and last_line(output).startswith("FAIL"), output


def test_an_untrained_model_fails(tmp_path, capsys):
    code = m6.main(["--fast", "--epochs", "0", "--out", str(tmp_path / "s.json")])
    output = capsys.readouterr().out
    assert code == 1 and last_line(output).startswith("FAIL"), output


def test_a_run_that_does_not_reproduce_fails(first_run, tmp_path, capsys, monkeypatch):
    _, _, out = first_run
    calls = []
    original = m6.run_pipeline

    def drifting(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append(1)
        if len(calls) == 2:  # the second run measures a different accuracy
            result["optimized"]["accuracy"] -= 0.01
        return result

    monkeypatch.setattr(m6, "run_pipeline", drifting)
    argv = ["--fast", "--load", "--model", str(out.parent / "model.npz")]
    code = m6.main([*argv, "--out", str(tmp_path / "s.json")])
    output = capsys.readouterr().out
    assert code == 1 and "not reproduced: optimized.accuracy" in output, output
    assert "did not reproduce" in last_line(output)


def test_an_invalid_submission_fails_with_the_field(first_run, tmp_path, capsys, monkeypatch):
    _, _, out = first_run
    original = m6.run_pipeline

    def broken(*args, **kwargs):
        result = original(*args, **kwargs)
        result["optimized"]["latency_p50_ms"] = float("nan")
        return result

    monkeypatch.setattr(m6, "run_pipeline", broken)
    argv = ["--fast", "--load", "--model", str(out.parent / "model.npz")]
    code = m6.main([*argv, "--out", str(tmp_path / "s.json")])
    output = capsys.readouterr().out
    assert code == 1 and "optimized.latency_p50_ms" in last_line(output), output
    assert not (tmp_path / "s.json").exists(), "an invalid submission is never written"


def test_an_unfinished_capstone_exercise_is_a_fail_with_its_hint(tmp_path, capsys, monkeypatch):
    def stub(*args, **kwargs):
        raise NotImplementedError("exercise 20.4 measure_variant: run predict over x")

    monkeypatch.setattr(m6, "run_pipeline", stub)
    code = m6.main(["--fast", "--epochs", "1", "--out", str(tmp_path / "s.json")])
    output = capsys.readouterr().out
    assert code == 1 and "not implemented yet: exercise 20.4" in last_line(output), output


def test_bad_options_exit_2_and_the_cli_finds_milestone_6(capsys):
    with pytest.raises(SystemExit) as stopped:
        m6.main(["--threshold", "1.5"])
    assert stopped.value.code == 2
    with pytest.raises(SystemExit) as stopped:
        m6.main(["--latency-factor", "0.5"])
    assert stopped.value.code == 2
    assert available_milestones().get(6) == "milestones.m6_mlperf_submission"
    with pytest.raises(SystemExit) as stopped:
        cli.main(["milestone", "6", "--threshold", "2"])
    assert stopped.value.code == 2
