"""The import layer: every process runs the module file as saved, with no export step."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

MODULES = Path(__file__).resolve().parent.parent


def _run(modules_dir: Path, code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TINYTORCH_MODULES": str(modules_dir)}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def course_copy(tmp_path: Path) -> Path:
    """A modules/ folder holding only a copy of Module 01."""
    shutil.copytree(MODULES / "01_tensor", tmp_path / "01_tensor")
    return tmp_path


def test_an_edit_is_seen_by_the_next_process_without_any_export(course_copy: Path):
    source = course_copy / "01_tensor" / "tensor.py"
    probe = "from tinytorch.core import Tensor; print(Tensor([2.0]).memory_footprint())"
    assert _run(course_copy, probe).stdout.strip() == "4"
    # Same length, same second: a .pyc keyed on mtime and size could not tell them apart.
    edited = source.read_text().replace(
        "return self.size * self.data.itemsize", "return self.size * self.data.itemsize * 9"
    )
    source.write_text(edited)
    assert _run(course_copy, probe).stdout.strip() == "36"
    assert not list(course_copy.rglob("*.pyc")), "module files must never be byte-compiled"


def test_a_broken_module_file_fails_loudly_with_its_path(course_copy: Path):
    source = course_copy / "01_tensor" / "tensor.py"
    source.write_text(source.read_text() + "\ndef broken(:\n")
    result = _run(course_copy, "from tinytorch.core import Tensor")
    assert result.returncode != 0
    assert "SyntaxError" in result.stderr and "tensor.py" in result.stderr


def test_unknown_names_say_what_is_available(course_copy: Path):
    result = _run(course_copy, "from tinytorch.core import Tensr")
    assert result.returncode != 0
    assert "Tensor" in result.stderr, "the error should list the names that do exist"


def test_namespaces_come_from_module_metadata(course_copy: Path):
    result = _run(course_copy, "import tinytorch; print(tinytorch.__all__)")
    assert result.stdout.strip() == "['core']"
