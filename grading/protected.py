"""Protected files: which files a student must not change, their hashes, and pristine copies.

The API the template builder calls (manifest at `.tinytorch/protected.json`, schema
grading/schemas/protected.v1.schema.json):

    write_manifest(root, paths=None) -> Path
        Hash `paths` (POSIX paths relative to `root`; default: `protected_paths(DirTree(root))`)
        and write the manifest into `root`. Call it after the template tree is complete.
    check_manifest(root, manifest=None) -> list[dict]
        Compare the files under `root` with `manifest` (default: the one in `root`); one
        finding per changed file: {"path", "kind": "modified" | "deleted" | "added", "message"}.
        An empty list means nothing protected changed.

Protected by default: every `modules/*/module.yaml` (the points table) and the graded test
file it names, `modules/tinytorch/` (the import layer), `grading/`, `.github/workflows/`
and `pyproject.toml`. Added `conftest.py`/`pytest.ini` files next to the tests are
reported too ("added"): grading ignores them, but they show intent.

Hashes are sha256 of the bytes with CRLF turned into LF, so a Windows checkout of an
unchanged file is not a finding. A manifest inside the student's repository can itself be
edited: `tiny grade --pristine-git` reads the manifest (and the test files) from the
repository's root commit instead, `--pristine DIR` from a clean copy.

A `Tree` is anything with `files()` and `read(path)`: a folder (`DirTree`) or one commit of a
git repository (`GitTree`); the grader reads pristine copies through the same interface.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import subprocess
from pathlib import Path, PurePosixPath
from typing import Protocol

import yaml

from grading.schemas import validate

MANIFEST_PATH = ".tinytorch/protected.json"
MANIFEST_SCHEMA = "tinytorch/protected/v1"
PROTECTED_PREFIXES = ("grading/", ".github/workflows/", "modules/tinytorch/")
PROTECTED_FILES = ("pyproject.toml",)
SUSPICIOUS_NAMES = ("conftest.py", "pytest.ini")
IGNORED_PARTS = ("__pycache__", ".pytest_cache", ".ruff_cache")
SKIPPED_DIRS = {".git", ".venv", "venv", "node_modules", "out", ".tinytorch"}


class Tree(Protocol):
    description: str

    def files(self) -> list[str]: ...

    def read(self, path: str) -> bytes | None: ...


class DirTree:
    """Regular files of a folder on disk, as sorted POSIX paths relative to it; links
    (to files or folders) are neither listed nor followed."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.description = f"folder {self.root}"

    def files(self) -> list[str]:
        found = []
        stack = [self.root]
        while stack:
            folder = stack.pop()
            for entry in folder.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    if entry.name not in SKIPPED_DIRS and entry.name not in IGNORED_PARTS:
                        stack.append(entry)
                elif entry.is_file() and not entry.is_symlink():
                    found.append(entry.relative_to(self.root).as_posix())
        return sorted(found)

    def read(self, path: str) -> bytes | None:
        """The bytes of a regular file inside the folder; None for a missing file, a link
        (never followed: a linked protected file counts as deleted) or anything else."""
        target = self.root / path
        parts = PurePosixPath(path).parts
        if ".." in parts or any(
            (self.root / Path(*parts[:i])).is_symlink() for i in range(1, len(parts) + 1)
        ):
            return None
        return target.read_bytes() if target.is_file() else None


class GitTree:
    """Files of one commit of a git repository (default: its first, root commit)."""

    def __init__(self, repo: Path, commit: str | None = None) -> None:
        self.repo = Path(repo)
        self.commit = commit or root_commit(self.repo)
        self.description = f"root commit {self.commit[:12]}"
        self._files: list[str] | None = None
        self._known: set[str] = set()

    def _git(self, *args: str) -> bytes:
        return subprocess.run(
            ["git", "-C", str(self.repo), *args], capture_output=True, check=True
        ).stdout

    def files(self) -> list[str]:
        if self._files is None:
            listing = self._git("ls-tree", "-r", "-z", "--name-only", self.commit)
            self._files = sorted(name for name in listing.decode().split("\0") if name)
            self._known = set(self._files)
        return self._files

    def read(self, path: str) -> bytes | None:
        self.files()
        if path not in self._known:
            return None
        return self._git("show", f"{self.commit}:{path}")


def root_commit(repo: Path) -> str:
    """The first commit of `repo` (the template as GitHub Classroom created it).
    Raises ValueError when `repo` is not a git repository or has several roots."""
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "rev-list", "--max-parents=0", "HEAD"],
            capture_output=True,
            check=True,
            text=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError) as error:
        raise ValueError(f"{repo} is not a git repository with commits: {error}") from error
    if len(out) != 1:
        raise ValueError(f"{repo} has {len(out)} root commits ({', '.join(out)}); expected one")
    return out[0]


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest()


def _ignored(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return any(part in IGNORED_PARTS for part in parts) or path.endswith(".pyc")


def graded_test_files(tree: Tree) -> list[str]:
    """The graded test file of every module in `tree`, as its module.yaml names it
    (falling back to `test_*.py` when that module.yaml cannot be read)."""
    files = tree.files()
    found = []
    for manifest in (f for f in files if fnmatch.fnmatch(f, "modules/[0-9][0-9]_*/module.yaml")):
        folder = manifest.rsplit("/", 1)[0]
        try:
            tests = yaml.safe_load(tree.read(manifest) or b"").get("tests")
        except (yaml.YAMLError, AttributeError):
            tests = None
        if isinstance(tests, str):
            found.append(f"{folder}/{tests}")
        else:
            found += [f for f in files if fnmatch.fnmatch(f, f"{folder}/test_*.py")]
    return found


def protected_paths(tree: Tree) -> list[str]:
    """The default protected set of `tree` (see the module docstring), sorted."""
    files = tree.files()
    chosen = {f for f in files if fnmatch.fnmatch(f, "modules/[0-9][0-9]_*/module.yaml")}
    chosen |= {f for f in graded_test_files(tree) if f in set(files)}
    chosen |= {f for f in files if f.startswith(PROTECTED_PREFIXES) or f in PROTECTED_FILES}
    return sorted(f for f in chosen if not _ignored(f))


def build_manifest(tree: Tree, paths: list[str]) -> dict:
    """{"schema", "files": {path: sha256}} for `paths` of `tree`; a missing path raises."""
    hashes = {}
    for path in sorted(set(paths)):
        data = tree.read(path)
        if data is None:
            raise FileNotFoundError(f"protected file {path} does not exist in {tree.description}")
        hashes[path] = file_hash(data)
    manifest = {"schema": MANIFEST_SCHEMA, "files": hashes}
    validate("protected", manifest, "protected-files manifest")
    return manifest


def write_manifest(root: Path, paths: list[str] | None = None) -> Path:
    """Hash `paths` of the folder `root` (default: its protected_paths) and write the
    manifest to root/.tinytorch/protected.json. Returns the manifest's path."""
    tree = DirTree(root)
    manifest = build_manifest(tree, protected_paths(tree) if paths is None else list(paths))
    target = Path(root) / MANIFEST_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return target


def load_manifest(tree: Tree) -> dict | None:
    """The manifest stored in `tree`, validated; None when there is none."""
    data = tree.read(MANIFEST_PATH)
    if data is None:
        return None
    try:
        manifest = json.loads(data)
    except json.JSONDecodeError as error:
        raise ValueError(f"{MANIFEST_PATH} in {tree.description} is not JSON: {error}") from error
    validate("protected", manifest, f"{MANIFEST_PATH} in {tree.description}")
    if not isinstance(manifest, dict) or manifest.get("schema") != MANIFEST_SCHEMA:
        raise ValueError(f"{MANIFEST_PATH} in {tree.description} is not a {MANIFEST_SCHEMA}")
    return manifest


def compare(tree: Tree, manifest: dict) -> list[dict]:
    """Findings for every protected file of `manifest` that `tree` changed or lost, plus
    added conftest.py / pytest.ini files under modules/ or at the top."""
    findings = []
    for path, expected in sorted(manifest["files"].items()):
        data = tree.read(path)
        if data is None:
            findings.append(
                {"path": path, "kind": "deleted", "message": f"protected file {path} was deleted"}
            )
        elif file_hash(data) != expected:
            findings.append(
                {"path": path, "kind": "modified", "message": f"protected file {path} was changed"}
            )
    for path in tree.files():
        name = PurePosixPath(path).name
        top_or_modules = "/" not in path or path.startswith("modules/")
        if name in SUSPICIOUS_NAMES and top_or_modules and path not in manifest["files"]:
            findings.append(
                {
                    "path": path,
                    "kind": "added",
                    "message": f"{path} was added: it could change how tests run "
                    f"(grading ignores it)",
                }
            )
    return findings


def check_manifest(root: Path, manifest: dict | None = None) -> list[dict]:
    """Findings for the folder `root` against `manifest` (default: root's own manifest).
    Raises FileNotFoundError when no manifest is given and root has none."""
    tree = DirTree(root)
    if manifest is None:
        manifest = load_manifest(tree)
        if manifest is None:
            raise FileNotFoundError(f"no {MANIFEST_PATH} in {root}")
    return compare(tree, manifest)


def pristine_manifest(pristine: Tree) -> tuple[dict, str]:
    """The manifest to check against, taken from a pristine tree: its stored manifest if it
    has one, else hashes of its default protected files. Returns (manifest, description)."""
    stored = load_manifest(pristine)
    if stored is not None:
        return stored, f"{MANIFEST_PATH} from the {pristine.description}"
    computed = build_manifest(pristine, protected_paths(pristine))
    return computed, f"protected files of the {pristine.description}"
