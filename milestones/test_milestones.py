"""Every milestone passes on the reference modules, and each one can fail.

A milestone that cannot fail proves nothing, so each PASS test has a FAIL twin that
changes one argument (an untrained model, a too-small network) and expects exit code 1.
Integration tests across modules: run by CI, never graded.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from grading import cli
from grading.commands.milestone import available_milestones

pytestmark = pytest.mark.integration
HERE = Path(__file__).resolve().parent
EXPECTED = {1: "m1_perceptron_1958", 2: "m2_xor_1969", 3: "m3_mlp_1986"}


def run_milestone(number: int, argv: list[str], capsys) -> tuple[int, str]:
    module = importlib.import_module(f"milestones.{EXPECTED[number]}")
    code = module.main(argv)
    return code, capsys.readouterr().out


def verdict(output: str) -> str:
    """The PASS/FAIL word of the last line, which must also state the threshold."""
    last = output.strip().splitlines()[-1]
    assert "threshold" in last, f"the verdict line must state the threshold: {last!r}"
    assert re.match(r"^(PASS|FAIL): ", last), f"last line must start PASS: or FAIL: {last!r}"
    return last.split(":")[0]


def test_every_expected_milestone_is_found_by_the_cli():
    found = available_milestones()
    for number, name in EXPECTED.items():
        assert found.get(number) == f"milestones.{name}"


def test_m1_perceptron_learns_and_or(capsys):
    code, output = run_milestone(1, [], capsys)
    assert (code, verdict(output)) == (0, "PASS"), output
    assert "AND 100%, OR 100%" in output and "threshold: every gate at least 100%" in output


def test_m1_fails_without_training(capsys):
    code, output = run_milestone(1, ["--epochs", "0"], capsys)
    assert (code, verdict(output)) == (1, "FAIL"), output
    assert "AND 75%, OR 25%" in output  # all-zero weights answer 0 everywhere


def test_m1_fails_before_convergence(capsys):
    code, output = run_milestone(1, ["--epochs", "2"], capsys)
    assert (code, verdict(output)) == (1, "FAIL"), output


def test_m2_single_layer_stays_at_75_and_mlp_solves_xor(capsys):
    code, output = run_milestone(2, [], capsys)
    assert (code, verdict(output)) == (0, "PASS"), output
    assert "single layer best 75%" in output and "MLP 100%" in output


def test_m2_fails_with_an_untrained_mlp(capsys):
    code, output = run_milestone(2, ["--epochs", "0"], capsys)
    assert (code, verdict(output)) == (1, "FAIL"), output
    assert "missed" in output


def test_m2_fails_with_one_hidden_unit(capsys):
    # One hidden unit is a single line again: the MLP cannot beat 75% either.
    code, output = run_milestone(2, ["--hidden", "1"], capsys)
    assert (code, verdict(output)) == (1, "FAIL"), output


def test_m2_fails_when_tanh_is_not_applied(capsys, monkeypatch):
    # A bugged Tanh that returns its input makes the MLP one straight line again.
    from tinytorch.nn import Tanh

    monkeypatch.setattr(Tanh, "forward", lambda self, x: x)
    code, output = run_milestone(2, [], capsys)
    assert (code, verdict(output)) == (1, "FAIL"), output


def test_m2_passes_for_other_initial_seeds(capsys):
    # A correct framework that draws its random numbers in another order must still pass:
    # scripts/milestone_seeds.py checks 50 seeds; two of the seeds that failed 2-4-1 here.
    for seed in ("25", "34"):
        code, output = run_milestone(2, ["--seed", seed], capsys)
        assert (code, verdict(output)) == (0, "PASS"), output


def test_m3_mlp_reaches_95_percent_on_held_out_digits(capsys):
    code, output = run_milestone(3, [], capsys)
    assert (code, verdict(output)) == (0, "PASS"), output
    accuracy = float(re.search(r"held-out accuracy ([\d.]+)%", output).group(1))
    assert accuracy >= 95.0 and "threshold 95%" in output
    assert output.count("  epoch ") == 15, "progress: one line per epoch"


def test_m3_fails_without_training(capsys):
    code, output = run_milestone(3, ["--epochs", "0"], capsys)
    assert (code, verdict(output)) == (1, "FAIL"), output


def test_m3_fails_when_adam_steps_uphill(capsys, monkeypatch):
    # A sign slip in the optimizer (param.data += instead of -=) climbs the loss.
    from tinytorch.optim import Adam

    original = Adam._adam_step

    def uphill(self, index, param, grad):
        before = param.data.copy()
        original(self, index, param, grad)
        param.data[...] = 2 * before - param.data  # the same step, the other way

    monkeypatch.setattr(Adam, "_adam_step", uphill)
    code, output = run_milestone(3, [], capsys)
    assert (code, verdict(output)) == (1, "FAIL"), output


def test_m3_fails_when_the_threshold_is_out_of_reach(capsys):
    code, output = run_milestone(3, ["--epochs", "1", "--threshold", "0.999"], capsys)
    assert (code, verdict(output)) == (1, "FAIL"), output


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_an_unfinished_exercise_is_a_fail_with_its_hint(number, capsys, monkeypatch):
    from tinytorch.nn import Linear

    def stub(self, x):
        raise NotImplementedError("exercise 03.3 linear: return x @ weight + bias")

    monkeypatch.setattr(Linear, "forward", stub)
    code, output = run_milestone(number, [], capsys)
    assert (code, verdict(output)) == (1, "FAIL"), output
    assert "not implemented yet: exercise 03.3 linear" in output


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_bad_arguments_are_refused_with_exit_code_2(number, capsys):
    module = importlib.import_module(f"milestones.{EXPECTED[number]}")
    with pytest.raises(SystemExit) as stopped:
        module.main(["--threshold", "1.5"])
    assert stopped.value.code == 2


def test_tiny_milestone_runs_a_milestone_and_reports_its_exit_code(capsys):
    assert cli.main(["milestone", "1"]) == 0
    assert cli.main(["milestone", "1", "--epochs", "0"]) == 1
    assert cli.main(["milestone", "9"]) == 2
    assert "no milestone 9" in capsys.readouterr().err


# Milestone 6 also uses grading.submission to validate what it writes; 1–5 train only.
TRAINING_MILESTONES = ("m1_perceptron_1958", "m2_xor_1969", "m3_mlp_1986", "m4_cnn_1998")
TRAINING_MILESTONES += ("m5_transformer_2017",)


@pytest.mark.parametrize("name", TRAINING_MILESTONES)
def test_milestones_import_only_tinytorch_numpy_and_their_data_loaders(name):
    """A milestone may import tinytorch.*, numpy and the loaders of the datasets it lists in
    DATASETS, so it runs on the student's own framework."""
    milestone = importlib.import_module(f"milestones.{name}")
    allowed = {"__future__", "argparse", "time", "numpy", "milestones"}
    allowed |= {f"datasets.{dataset}" for dataset in milestone.DATASETS}
    tree = ast.parse((HERE / f"{name}.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
        else:
            continue
        for module in modules:
            assert module in allowed or module.startswith("tinytorch."), (
                f"{name}.py imports {module}: milestones may use tinytorch.*, numpy and "
                f"the loaders of the datasets in their DATASETS only"
            )


def test_every_milestone_has_a_history_docstring():
    for name in EXPECTED.values():
        doc = ast.get_docstring(ast.parse((HERE / f"{name}.py").read_text(encoding="utf-8")))
        assert doc and "History:" in doc and re.search(r"\b19\d\d\b", doc), name
