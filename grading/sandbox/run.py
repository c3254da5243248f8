"""Run one module's graded tests in a child process that can decide nothing, and collect
what it observed.

    run_module(tests_path, modules_root, work, limits, run_as=None) -> ModuleRun
    probe_imports(numbers, modules_root, work, seconds, run_as=None) -> ProbeResult

The child is `python -s grading/sandbox/bootstrap.py IMPORT_ROOT pytest <tests> -c <grader
ini> -p grading.sandbox.plugin -p pytest_timeout -p pytest_jsonreport.plugin ...`:

- its environment is built from an allow-list (`SAFE_ENV`), never inherited: no GITHUB_*,
  RUNNER_*, ACTIONS_* variables or paths, no PYTHONPATH/PYTEST_ADDOPTS; HOME and TMPDIR
  point into a throwaway folder that is also its working directory and the only place it
  is meant to write; the parent owns the run logs and the results folder;
- `-s` plus that environment is `python -I` with a fixed hash seed: no sitecustomize,
  usercustomize or *.pth of the repository runs; IMPORT_ROOT holds only the grader's
  `grading` and `tinytorch` packages (symbolic links made by the parent), put first on
  sys.path; plugin auto-loading is off and the repository's conftest.py / ini files are
  ignored (`--noconftest`, `-c`);
- `run_as=USER` runs it as that unprivileged user (as root: setgroups/setgid/setuid in
  the child; otherwise through `sudo -n -u USER --`); the work folder is then the only
  folder it may write;
- RLIMIT_AS = the memory limit (Linux); its own process group, killed with SIGKILL at
  the wall-clock limit and after it ends.

What it leaves (report.json, events.jsonl) is copied into `work` by the parent, refusing
links and oversized files; stdout and stderr go to work/output.log through a pipe the parent
opened. Nothing in them is trusted: grading/results.py checks them against the pristine
test file (grading/points.py).

`build_pristine_tree` assembles the modules/ folder that grading runs on: module.yaml and
the graded test file from the pristine tree, the student's one source file per module
(a link, a non-regular file or a missing file is refused and reported, never followed).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

import grading
from grading.protected import Tree
from grading.results import ModuleRun, RunLimits
from grading.sandbox.plugin import COURSE_ENV
from grading.schemas import SchemaError, validate

PLUGINS = ("grading.sandbox.plugin", "pytest_timeout", "pytest_jsonreport.plugin")
# The course's pytest settings (pyproject.toml [tool.pytest.ini_options]) that change test
# outcomes, repeated here so a student's edit of pyproject.toml cannot change them;
# grading/test_grade.py checks that the two agree.
GRADER_INI = """\
[pytest]
python_files = test_*.py
filterwarnings =
    error::RuntimeWarning
"""
IMPORT_MODE = "importlib"
OUTPUT_TAIL_LINES = 60
DROPPED_ENV = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")
BOOTSTRAP = Path(__file__).resolve().parent / "bootstrap.py"
# The only variables of the grader's environment the child sees.
SAFE_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "SYSTEMROOT", "TZ")
THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
CHILD_FILE_LIMIT = 64 << 20  # bytes of report.json / events.jsonl read back
STUDENT_FILE_LIMIT = 16 << 20  # bytes of one student module file


def grader_paths() -> list[str]:
    """Import roots of the running grader: its repository (for `grading`) and its modules/
    folder (for `tinytorch`), so the child uses the same grader code as this process."""
    repo = Path(grading.__file__).resolve().parent.parent
    return [str(repo), str(repo / "modules")]


def make_import_root(folder: Path) -> Path:
    """A folder holding only links to the grader's `grading` and `tinytorch` packages."""
    repo = Path(grading.__file__).resolve().parent.parent
    folder.mkdir(parents=True, exist_ok=True)
    for name, target in (
        ("grading", repo / "grading"),
        ("tinytorch", repo / "modules" / "tinytorch"),
    ):
        link = folder / name
        if not link.is_symlink():
            link.symlink_to(target, target_is_directory=True)
    return folder


def pytest_arguments(
    tests_path: Path, rootdir: Path, child: Path, test_timeout: float
) -> list[str]:
    arguments = [str(tests_path), "-c", str(child / "grader.ini")]
    arguments += ["--rootdir", str(rootdir), "--noconftest", "-p", "no:cacheprovider"]
    arguments += [part for plugin in PLUGINS for part in ("-p", plugin)]
    arguments += [f"--import-mode={IMPORT_MODE}", "-q", "-rN", "--no-header", "--color=no"]
    arguments += ["--json-report", f"--json-report-file={child / 'report.json'}"]
    arguments += ["--json-report-omit", "log", "streams", "warnings", "keywords"]
    arguments += ["--grade-stream", str(child / "events.jsonl"), f"--timeout={test_timeout:g}"]
    return arguments


def child_environment(modules_root: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of a milestone process (grading/platform_run.py): the grader's own,
    minus pytest's option variables, with the grader's import paths."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV + (COURSE_ENV,)}
    env.update(extra or {})
    env.update(
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        TINYTORCH_MODULES=str(modules_root),
        PYTHONHASHSEED="0",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONPATH=os.pathsep.join(grader_paths() + [p for p in [env.get("PYTHONPATH")] if p]),
    )
    env.setdefault("OPENBLAS_NUM_THREADS", str(min(4, os.cpu_count() or 1)))
    return env


def isolated_environment(
    modules_root: Path, home: Path, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The child's whole environment, from an allow-list: nothing of the runner's tokens,
    GITHUB_* files or Python/pytest start-up variables reaches it."""
    env = {k: os.environ[k] for k in SAFE_ENV + THREAD_ENV if k in os.environ}
    env.update(extra or {})
    env.update(
        HOME=str(home),
        TMPDIR=str(home),
        TEMP=str(home),
        TMP=str(home),
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        TINYTORCH_MODULES=str(modules_root),
        PYTHONHASHSEED="0",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONIOENCODING="utf-8",
    )
    # OpenBLAS reserves address space per thread at import: keep it small under RLIMIT_AS.
    env.setdefault("OPENBLAS_NUM_THREADS", str(min(4, os.cpu_count() or 1)))
    return env


def memory_limit_supported() -> bool:
    return sys.platform.startswith("linux")


def _privileged() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _preexec(memory_bytes: int | None, run_as: str | None):
    limit_memory = memory_bytes is not None and memory_limit_supported()
    drop = run_as is not None and _privileged()
    if not limit_memory and not drop:
        return None
    if drop:
        import pwd

        user = pwd.getpwnam(run_as)

    def limit() -> None:  # runs in the child between fork and exec
        if limit_memory:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        if drop:
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)

    return limit


def command_prefix(run_as: str | None) -> list[str]:
    """`sudo -n -u USER --` when the child must change user and this process cannot."""
    if run_as is None or _privileged():
        return []
    return ["sudo", "-n", "-u", run_as, "--"]


def _kill_group(process: subprocess.Popen, run_as: str | None) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    except PermissionError:  # the group runs as another user
        subprocess.run(
            [*command_prefix(run_as), "kill", "-KILL", "--", f"-{process.pid}"],
            capture_output=True,
            check=False,
        )


def read_child_file(path: Path, limit: int = CHILD_FILE_LIMIT) -> str | None:
    """A file the child wrote, as text; None when missing, a link, not a regular file or
    larger than `limit` (the child chose what is there: nothing is followed)."""
    try:
        info = path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        return None
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        return handle.read(limit).decode("utf-8", errors="replace")


def parse_events(text: str | None, where: str) -> list[dict]:
    """The stream's events in order; a line cut short by a kill, or not following the
    schema, is skipped."""
    events = []
    for line in (text or "").splitlines():
        try:
            event = json.loads(line)
            validate("test_events", event, where)
        except (json.JSONDecodeError, SchemaError):
            continue
        if isinstance(event, dict) and "event" in event:
            events.append(event)
    return events


def read_events(path: Path) -> list[dict]:
    return parse_events(read_child_file(path), str(path))


def parse_report(text: str | None) -> dict | None:
    try:
        report = json.loads(text) if text else None
    except json.JSONDecodeError:
        return None
    return report if isinstance(report, dict) else None


def read_report(path: Path) -> dict | None:
    return parse_report(read_child_file(path))


@dataclass(frozen=True)
class ChildExit:
    exit_code: int | None
    signal: str | None
    wall_timeout: bool
    duration: float
    output: str


def child_folder(run_as: str | None, prefix: str = "tiny-child-") -> Path:
    """A fresh folder outside the results folder and the repository: the child's HOME, TMPDIR
    and working directory. Writable by the run-as user (mode 0o1777 when one is given)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if run_as is not None:
        folder.chmod(0o1777)
    return folder


def open_to_readers(folder: Path) -> None:
    """Folders 0o755 below and including `folder`, so a run-as user can read the graded tree
    that this process assembled (temporary folders start as 0o700)."""
    for path in (folder, *folder.rglob("*")):
        if path.is_dir():
            path.chmod(0o755)


def run_child(
    arguments: list[str],
    modules_root: Path,
    child: Path,
    log: Path,
    wall_time: float,
    memory: int | None,
    extra_env: dict[str, str] | None,
    run_as: str | None,
) -> ChildExit:
    """Start bootstrap.py with `arguments` in `child`, wait at most `wall_time` seconds,
    kill its process group; stdout and stderr go to `log` (owned by the parent)."""
    import_root = make_import_root(child / "imports")
    command = [*command_prefix(run_as), sys.executable, "-s", str(BOOTSTRAP), str(import_root)]
    started = time.monotonic()
    wall_timeout = False
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, *arguments],
            cwd=child,
            env=isolated_environment(modules_root, child, extra_env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=_preexec(memory, run_as),
            start_new_session=True,
        )
        try:
            process.wait(timeout=wall_time)
        except subprocess.TimeoutExpired:
            wall_timeout = True
            _kill_group(process, run_as)
            process.wait()
        _kill_group(process, run_as)  # children the tests left running
    code = process.returncode
    return ChildExit(
        exit_code=code if code >= 0 else None,
        signal=signal.Signals(-code).name if code < 0 else None,
        wall_timeout=wall_timeout,
        duration=time.monotonic() - started,
        output=log.read_text(encoding="utf-8", errors="replace"),
    )


def run_module(
    tests_path: Path,
    modules_root: Path,
    work: Path,
    limits: RunLimits,
    echo: bool = False,
    extra_env: dict[str, str] | None = None,
    run_as: str | None = None,
) -> ModuleRun:
    """Run one module's graded tests in a child process and collect what it left behind.
    `work` (the parent's) receives output.log, report.json and events.jsonl."""
    work.mkdir(parents=True, exist_ok=True)
    for name in ("report.json", "events.jsonl", "output.log"):
        (work / name).unlink(missing_ok=True)
    memory = limits.memory_bytes if memory_limit_supported() else None
    child = child_folder(run_as)
    try:
        (child / "grader.ini").write_text(GRADER_INI, encoding="utf-8")
        arguments = [
            "pytest",
            *pytest_arguments(tests_path, modules_root.parent, child, limits.test_timeout),
        ]
        try:
            ended = run_child(
                arguments,
                modules_root,
                child,
                work / "output.log",
                limits.wall_time,
                memory,
                extra_env,
                run_as,
            )
        except OSError as error:
            return ModuleRun(limits=limits, grader_error=f"could not start pytest: {error}")
        report_text = read_child_file(child / "report.json")
        events_text = read_child_file(child / "events.jsonl")
    finally:
        shutil.rmtree(child, ignore_errors=True)
    for name, text in (("report.json", report_text), ("events.jsonl", events_text)):
        if text is not None:
            (work / name).write_text(text, encoding="utf-8")
    if echo:
        print(ended.output, end="" if ended.output.endswith("\n") else "\n", flush=True)
    return ModuleRun(
        limits=RunLimits(limits.test_timeout, limits.wall_time, memory),
        report=parse_report(report_text),
        events=parse_events(events_text, str(work / "events.jsonl")),
        exit_code=ended.exit_code,
        signal=ended.signal,
        wall_timeout=ended.wall_timeout,
        output_tail="\n".join(ended.output.splitlines()[-OUTPUT_TAIL_LINES:]),
        duration=ended.duration,
    )


@dataclass(frozen=True)
class ProbeResult:
    """finished: the module numbers whose import ended, normally or with an exception (the
    test run reports an exception in full); stuck: the first one whose import had not
    ended at the time limit (None: none was running then)."""

    finished: tuple[int, ...]
    stuck: int | None


def probe_imports(
    numbers: list[int],
    modules_root: Path,
    work: Path,
    seconds: float,
    memory: int | None,
    run_as: str | None = None,
) -> ProbeResult:
    """Execute the module files of `numbers`, in that order, in a sandboxed child with a
    `seconds` wall-clock limit: which import hangs (a loop at import time)?
    Cost: one Python start and the imports, about half a second."""
    work.mkdir(parents=True, exist_ok=True)
    child = child_folder(run_as)
    try:
        ended = run_child(
            ["probe", *(str(n) for n in numbers)],
            modules_root,
            child,
            work / "probe.log",
            seconds,
            memory if memory_limit_supported() else None,
            None,
            run_as,
        )
    finally:
        shutil.rmtree(child, ignore_errors=True)
    finished = tuple(
        int(words[1])
        for words in (line.split() for line in ended.output.splitlines())
        if len(words) == 2 and words[0] in ("imported", "failed") and words[1].isdigit()
    )
    stuck = None
    if ended.wall_timeout:
        stuck = next((n for n in numbers if n not in finished), None)
    return ProbeResult(finished, stuck)


def build_pristine_tree(pristine: Tree, student_modules: Path, dest: Path) -> tuple[Path, dict]:
    """Write dest/modules/: for every module folder of `pristine`, its module.yaml and the
    graded test file it names come from `pristine`; the one source file it names comes from
    the student's `student_modules/<folder>/`. Nothing else of the student's is copied.

    Returns (dest/modules, {folder: message}) where a message says why a student's source
    file was refused: a symbolic link, not a regular file, or missing."""
    modules = dest / "modules"
    if modules.exists():
        shutil.rmtree(modules)
    files = pristine.files()
    folders = sorted(
        {
            f.split("/")[1]
            for f in files
            if f.startswith("modules/") and f.count("/") == 2 and f.endswith("/module.yaml")
        }
    )
    refused: dict[str, str] = {}
    for folder in folders:
        target = modules / folder
        target.mkdir(parents=True)
        yaml_bytes = pristine.read(f"modules/{folder}/module.yaml") or b""
        try:
            meta = yaml.safe_load(yaml_bytes) or {}
        except yaml.YAMLError:
            meta = {}
        names = {"module.yaml"} | {meta[k] for k in ("tests",) if isinstance(meta.get(k), str)}
        for name in sorted(names):
            data = pristine.read(f"modules/{folder}/{name}")
            if data is not None:
                (target / name).write_bytes(data)
        source = meta.get("source")
        if not isinstance(source, str):
            continue
        problem = copy_student_file(student_modules / folder, source, target / source)
        if problem:
            refused[folder] = f"modules/{folder}/{source} {problem}"
    return modules, refused


def copy_student_file(folder: Path, name: str, target: Path) -> str | None:
    """Copy folder/name to target without following links; None, or why it was refused."""
    path = folder / name
    if ".." in Path(name).parts or Path(name).is_absolute():
        return "is outside its module folder: the source file must be inside it"
    if folder.is_symlink():
        return "is inside a symbolic link to a folder: restore the module folder itself"
    try:
        info = path.lstat()
    except FileNotFoundError:
        return "is missing: restore it from the template (git checkout <first commit> -- <file>)"
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link: replace it by the file itself (links are never followed)"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file: replace it by the module file itself"
    if info.st_size > STUDENT_FILE_LIMIT:
        return f"is larger than {STUDENT_FILE_LIMIT >> 20} MiB: is it the module file?"
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(descriptor, "rb") as handle:
        target.write_bytes(handle.read(STUDENT_FILE_LIMIT))
    return None
