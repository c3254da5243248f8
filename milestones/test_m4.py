"""Milestone 4 (CNN vs MLP) passes offline on TinyDigits, runs the CIFAR-10 path end to end
on a small archive in the real format, and fails when it should.

Nothing here downloads: the CIFAR-10 tests point the loader at an archive built in tmp_path
(the same way datasets/test_cifar10.py builds its fixture) and replace `download` with a
function that refuses. Integration tests across modules 01–09: run by CI, never graded.
"""

from __future__ import annotations

import ast
import re
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from datasets import cifar10
from datasets.checksums import sha256_of
from datasets.test_cifar10 import _pickle_like_the_original, build_fixture
from grading.commands.milestone import available_milestones
from milestones import m4_cnn_1998 as m4

pytestmark = pytest.mark.integration
HERE = Path(__file__).resolve().parent
PER_TRAIN_BATCH, TEST_IMAGES = 20, 50  # 100 training images (10 per class), 50 test (5)


def run(argv: list[str], capsys) -> tuple[int, str]:
    code = m4.main(argv)
    return code, capsys.readouterr().out


def verdict(output: str) -> str:
    """The PASS/FAIL word of the last line, which must also state the threshold."""
    last = output.strip().splitlines()[-1]
    assert "threshold" in last, f"the verdict line must state the threshold: {last!r}"
    assert re.match(r"^(PASS|FAIL): ", last), f"last line must start PASS: or FAIL: {last!r}"
    return last.split(":")[0]


def accuracies(output: str) -> tuple[float, float]:
    """(CNN, MLP) test accuracy in percent, read from the verdict line."""
    found = re.search(r"CNN ([\d.]+)%, MLP ([\d.]+)%", output.strip().splitlines()[-1])
    assert found, output
    return float(found.group(1)), float(found.group(2))


# ---- TinyDigits: the offline check -------------------------------------------------------


def test_cnn_beats_the_mlp_on_tinydigits(capsys):
    code, output = run(["--dataset", "tinydigits"], capsys)
    assert (code, verdict(output)) == (0, "PASS"), output
    cnn, mlp = accuracies(output)
    assert cnn >= 98.0 and cnn >= mlp, output
    assert "threshold: CNN >= 98%" in output
    assert output.count("  CNN epoch ") == 10 and output.count("  MLP epoch ") == 10, "progress"
    table = re.search(r"MLP\s+([\d,]+)\s+[\d.]+%\n\s+CNN\s+([\d,]+)\s+[\d.]+%", output)
    assert table and table.groups() == ("4,810", "21,386"), "parameter counts side by side"


def test_untrained_networks_fail(capsys):
    code, output = run(["--dataset", "tinydigits", "--epochs", "0"], capsys)
    assert (code, verdict(output)) == (1, "FAIL"), output
    assert "CNN >= 98% missed" in output


def test_a_threshold_out_of_reach_exits_1(capsys):
    code, output = run(["--dataset", "tinydigits", "--epochs", "1", "--threshold", "0.999"], capsys)
    assert (code, verdict(output)) == (1, "FAIL"), output


def test_an_unfinished_exercise_is_a_fail_with_its_hint(capsys, monkeypatch):
    from tinytorch.nn import Conv2d

    def stub(self, x):
        raise NotImplementedError("exercise 09.6 conv2d_layer: call convolve(...)")

    monkeypatch.setattr(Conv2d, "forward", stub)
    code, output = run(["--dataset", "tinydigits"], capsys)
    assert (code, verdict(output)) == (1, "FAIL"), output
    assert "not implemented yet: exercise 09.6 conv2d_layer" in output


@pytest.mark.parametrize(
    "argv",
    [
        ["--threshold", "1.5"],
        ["--dataset", "tinydigits", "--full"],
        ["--quick", "--full"],
        ["--train-size", "5"],
        ["--dataset", "imagenet"],
    ],
)
def test_bad_arguments_are_refused_with_exit_code_2(argv):
    with pytest.raises(SystemExit) as stopped:
        m4.main(argv)
    assert stopped.value.code == 2


# ---- CIFAR-10: the real loading path on a small archive ---------------------------------


def _learnable_batch(first: int, count: int, rng) -> dict:
    """A CIFAR-format batch whose class shows in the colour: class c has its own mean RGB
    (a corner of the colour cube), plus noise. Learnable in a few steps by both networks."""
    corners = np.array([[r, g, b] for r in (0, 1) for g in (0, 1) for b in (0, 1)])
    colours = np.concatenate([corners, [[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]]]) * 180
    labels = [(first + i) % 10 for i in range(count)]
    noise = rng.integers(0, 60, size=(count, 3, 1024))
    data = (colours[labels][:, :, None] + noise).astype(np.uint8).reshape(count, 3072)
    return {b"batch_label": b"learnable fixture", b"labels": labels, b"data": data}


@pytest.fixture
def cifar_archive(tmp_path, monkeypatch):
    """A CIFAR-10 python archive of 100 training and 50 test images in tmp_path/data,
    accepted by the loader (its sha256 swapped in), with downloading forbidden."""
    rng = np.random.default_rng(0)
    batches = {f"data_batch_{i}": _learnable_batch(i, PER_TRAIN_BATCH, rng) for i in range(1, 6)}
    batches["test_batch"] = _learnable_batch(0, TEST_IMAGES, rng)
    extra = {name: _pickle_like_the_original(batch) for name, batch in batches.items()}
    path, _ = build_fixture(tmp_path / "data", extra=extra)

    def refuse(url, destination, timeout=60.0):
        raise AssertionError(f"the milestone tried to download {url} although a copy was there")

    monkeypatch.setattr(cifar10, "SHA256", sha256_of(path))
    monkeypatch.setattr(cifar10, "download", refuse)
    monkeypatch.delenv(cifar10.DATA_ENV, raising=False)
    return path


def test_cifar_path_trains_and_passes_on_a_small_archive(cifar_archive, capsys):
    folder = str(cifar_archive.parent)
    argv = ["--data-dir", folder, "--epochs", "2", "--batch-size", "20", "--threshold", "0.5"]
    code, output = run(argv, capsys)
    assert (code, verdict(output)) == (0, "PASS"), output
    assert "CIFAR-10: 100 training and 50 test images of 3×32×32" in output
    cnn, mlp = accuracies(output)
    assert cnn >= 50.0 and cnn >= mlp, output
    assert "CNN >= 50% ok" in output
    assert "113,738" in output and "789,258" in output, "the CIFAR networks' parameter counts"


def test_cifar_path_reads_the_data_folder_from_the_environment(cifar_archive, capsys, monkeypatch):
    monkeypatch.setenv(cifar10.DATA_ENV, str(cifar_archive.parent))
    code, output = run(["--epochs", "0"], capsys)  # untrained: loads, evaluates, fails
    assert (code, verdict(output)) == (1, "FAIL"), output
    assert "100 training and 50 test images" in output


def test_offline_without_an_archive_fails_with_the_loaders_message(tmp_path, capsys, monkeypatch):
    def offline(url, destination, timeout=60.0):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(cifar10, "download", offline)
    code, output = run(["--data-dir", str(tmp_path), "--full"], capsys)
    assert (code, verdict(output)) == (1, "FAIL"), output
    for needed in (cifar10.URL, str(tmp_path / cifar10.ARCHIVE_NAME), cifar10.DATA_ENV, "copy"):
        assert needed in output, f"the offline message should mention {needed!r}: {output}"
    assert "CIFAR-10 is not available" in output and "threshold 65%" in output


def test_balanced_subset_takes_the_first_images_of_every_class():
    labels = np.array([0, 1, 0, 1, 2, 2, 0, 1, 2] + list(range(3, 10)) * 2)
    chosen = m4.balanced_subset(labels, 10)
    assert sorted(labels[chosen]) == list(range(10)), "one image of each class"
    assert list(chosen[:3]) == [0, 1, 4], "the first image of classes 0, 1 and 2, in file order"
    assert len(m4.balanced_subset(labels, None)) == len(labels)


# ---- the milestone contract --------------------------------------------------------------


def test_tiny_milestone_finds_milestone_4():
    assert available_milestones().get(4) == "milestones.m4_cnn_1998"


def test_has_a_history_docstring():
    doc = ast.get_docstring(ast.parse((HERE / "m4_cnn_1998.py").read_text(encoding="utf-8")))
    assert doc and "History:" in doc and "1998" in doc
