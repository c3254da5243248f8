"""Protected-files manifest: write, check, CRLF tolerance, pristine copies from git."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from grading.protected import (
    MANIFEST_PATH,
    DirTree,
    GitTree,
    check_manifest,
    load_manifest,
    pristine_manifest,
    protected_paths,
    write_manifest,
)
from grading.sandbox import build_pristine_tree

MODULE_YAML = "number: 1\nslug: demo\ntests: test_01_demo.py\nsource: demo.py\n"


def make_repo(root: Path) -> Path:
    files = {
        "modules/01_demo/module.yaml": MODULE_YAML,
        "modules/01_demo/test_01_demo.py": "def test_x():\n    assert True\n",
        "modules/01_demo/demo.py": "X = 1\n",
        "modules/01_demo/README.md": "read me\n",
        "modules/tinytorch/__init__.py": "",
        "grading/plugin.py": "# grader\n",
        "grading/__pycache__/plugin.cpython-311.pyc": "junk",
        ".github/workflows/classroom.yml": "on: push\n",
        "pyproject.toml": "[project]\n",
        "notes.txt": "student notes\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(root), *args],
        check=True,
        capture_output=True,
    )


def test_default_protected_paths_cover_tests_points_grader_workflow_not_student_files(tmp_path):
    paths = protected_paths(DirTree(make_repo(tmp_path)))
    assert paths == [
        ".github/workflows/classroom.yml",
        "grading/plugin.py",
        "modules/01_demo/module.yaml",
        "modules/01_demo/test_01_demo.py",
        "modules/tinytorch/__init__.py",
        "pyproject.toml",
    ]


def test_unchanged_tree_has_no_findings_even_with_windows_line_endings(tmp_path):
    root = make_repo(tmp_path)
    manifest = write_manifest(root)
    assert manifest == root / MANIFEST_PATH
    assert json.loads(manifest.read_text())["schema"] == "tinytorch/protected/v1"
    assert check_manifest(root) == []
    test_file = root / "modules/01_demo/test_01_demo.py"
    test_file.write_bytes(test_file.read_bytes().replace(b"\n", b"\r\n"))
    assert check_manifest(root) == []
    (root / "modules/01_demo/demo.py").write_text("X = 2\n")  # the student's own file
    assert check_manifest(root) == []


def test_modified_deleted_and_added_files_are_reported(tmp_path):
    root = make_repo(tmp_path)
    write_manifest(root)
    (root / "modules/01_demo/test_01_demo.py").write_text("def test_x():\n    pass\n")
    (root / "grading/plugin.py").unlink()
    (root / "modules/conftest.py").write_text("# sneaky\n")
    findings = check_manifest(root)
    assert [(f["path"], f["kind"]) for f in findings] == [
        ("grading/plugin.py", "deleted"),
        ("modules/01_demo/test_01_demo.py", "modified"),
        ("modules/conftest.py", "added"),
    ]
    assert findings[1]["message"] == "protected file modules/01_demo/test_01_demo.py was changed"


def test_explicit_paths_and_missing_manifest(tmp_path):
    root = make_repo(tmp_path)
    with pytest.raises(FileNotFoundError, match="no .tinytorch/protected.json"):
        check_manifest(root)
    write_manifest(root, ["notes.txt"])
    assert list(load_manifest(DirTree(root))["files"]) == ["notes.txt"]
    (root / "notes.txt").write_text("changed\n")
    assert [f["kind"] for f in check_manifest(root)] == ["modified"]
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        write_manifest(root, ["missing.txt"])


def test_root_commit_is_the_pristine_copy(tmp_path):
    root = make_repo(tmp_path)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "template")
    (root / "modules/01_demo/test_01_demo.py").write_text("def test_x():\n    pass\n")
    (root / "modules/01_demo/demo.py").write_text("X = 2  # student work\n")
    git(root, "commit", "-qam", "my work")
    pristine = GitTree(root)
    assert pristine.read("modules/01_demo/test_01_demo.py") == b"def test_x():\n    assert True\n"
    assert pristine.read("no/such/file") is None
    manifest, described = pristine_manifest(pristine)
    assert described.startswith("protected files of the root commit")
    findings = check_manifest(root, manifest)
    assert [(f["path"], f["kind"]) for f in findings] == [
        ("modules/01_demo/test_01_demo.py", "modified")
    ]
    tree, refused = build_pristine_tree(pristine, root / "modules", tmp_path / "grading")
    assert refused == {}
    assert (tree / "01_demo/test_01_demo.py").read_text() == "def test_x():\n    assert True\n"
    assert (tree / "01_demo/demo.py").read_text() == "X = 2  # student work\n"


def test_pristine_tree_drops_added_conftest_and_restores_deleted_tests(tmp_path):
    pristine_root = make_repo(tmp_path / "pristine")
    student = make_repo(tmp_path / "student")
    (student / "modules/01_demo/test_01_demo.py").unlink()
    (student / "modules/01_demo/conftest.py").write_text("# rewrites outcomes\n")
    (student / "modules/01_demo/__init__.py").write_text("# imported by pytest\n")
    tree, refused = build_pristine_tree(DirTree(pristine_root), student / "modules", tmp_path / "w")
    assert refused == {}
    # Only the student's one source file is taken: no conftest.py, __init__.py or README.
    assert sorted(p.name for p in (tree / "01_demo").iterdir()) == [
        "demo.py",
        "module.yaml",
        "test_01_demo.py",
    ]


@pytest.mark.parametrize("kind", ["symlink", "directory", "missing", "folder_link"])
def test_a_student_file_that_is_not_a_regular_file_is_refused_never_followed(tmp_path, kind):
    pristine_root = make_repo(tmp_path / "pristine")
    student = make_repo(tmp_path / "student")
    source = student / "modules/01_demo/demo.py"
    source.unlink()
    secret = tmp_path / "secret.py"
    secret.write_text("SECRET = 1\n")
    if kind == "symlink":
        source.symlink_to(secret)
    elif kind == "directory":
        source.mkdir()
    elif kind == "folder_link":
        shutil.move(student / "modules/01_demo", tmp_path / "elsewhere")
        (tmp_path / "elsewhere/demo.py").write_text("X = 1\n")
        (student / "modules/01_demo").symlink_to(tmp_path / "elsewhere")
    tree, refused = build_pristine_tree(DirTree(pristine_root), student / "modules", tmp_path / "w")
    expected = {
        "symlink": "is a symbolic link",
        "directory": "is not a regular file",
        "missing": "is missing",
        "folder_link": "is inside a symbolic link to a folder",
    }[kind]
    assert refused["01_demo"].startswith(f"modules/01_demo/demo.py {expected}")
    assert not (tree / "01_demo/demo.py").exists()


def test_a_linked_protected_file_counts_as_deleted_never_followed(tmp_path):
    root = make_repo(tmp_path / "repo")
    write_manifest(root)
    tests = root / "modules/01_demo/test_01_demo.py"
    copy = tmp_path / "copy.py"
    copy.write_bytes(tests.read_bytes())
    tests.unlink()
    tests.symlink_to(copy)
    assert [(f["path"], f["kind"]) for f in check_manifest(root)] == [
        ("modules/01_demo/test_01_demo.py", "deleted")
    ]


def test_not_a_git_repository_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="not a git repository"):
        GitTree(tmp_path)
