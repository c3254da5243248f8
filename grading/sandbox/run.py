"""Run one module's graded tests in its own process, under limits, and collect what it left.

    run_module(tests_path, modules_root, work, limits) -> ModuleRun

The child is `python -m pytest <tests> -c <grader ini> -p grading.sandbox.plugin -p pytest_timeout
-p pytest_jsonreport.plugin --json-report ... --grade-stream ... --timeout <per test>`, with

- plugin auto-loading off and no conftest.py or ini file of the graded repository: the
  plugin set and options are the grader's (an installed pytest-randomly cannot reorder
  tests, a student's conftest.py cannot rewrite outcomes);
- RLIMIT_AS = the memory limit (Linux; `MemoryError` instead of a frozen machine);
- its own process group, killed with SIGKILL at the wall-clock limit and after it ends
  (no stray children survive);
- stdout and stderr in `output.log`, the JSON report in `report.json` and the event stream
  in `events.jsonl`, all under `work`.

`build_pristine_tree` assembles the modules/ folder that grading uses when test files must
come from a pristine copy: pristine module.yaml and graded test file, the student's other files.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

import grading
from grading.protected import SUSPICIOUS_NAMES, Tree
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


def grader_paths() -> list[str]:
    """Import roots of the running grader: its repository (for `grading`) and its modules/
    folder (for `tinytorch`), so the child uses the same grader code as this process."""
    repo = Path(grading.__file__).resolve().parent.parent
    return [str(repo), str(repo / "modules")]


def pytest_command(tests_path: Path, rootdir: Path, work: Path, test_timeout: float) -> list[str]:
    command = [sys.executable, "-m", "pytest", str(tests_path), "-c", str(work / "grader.ini")]
    command += ["--rootdir", str(rootdir), "--noconftest", "-p", "no:cacheprovider"]
    command += [part for plugin in PLUGINS for part in ("-p", plugin)]
    command += [f"--import-mode={IMPORT_MODE}", "-q", "-rN", "--no-header", "--color=no"]
    command += ["--json-report", f"--json-report-file={work / 'report.json'}"]
    command += ["--json-report-omit", "log", "streams", "warnings", "keywords"]
    command += ["--grade-stream", str(work / "events.jsonl"), f"--timeout={test_timeout:g}"]
    return command


def child_environment(modules_root: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV + (COURSE_ENV,)}
    env.update(extra or {})
    env.update(
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        TINYTORCH_MODULES=str(modules_root),
        PYTHONHASHSEED="0",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONPATH=os.pathsep.join(grader_paths() + [p for p in [env.get("PYTHONPATH")] if p]),
    )
    # OpenBLAS reserves address space per thread at import: keep it small under RLIMIT_AS.
    env.setdefault("OPENBLAS_NUM_THREADS", str(min(4, os.cpu_count() or 1)))
    return env


def memory_limit_supported() -> bool:
    return sys.platform.startswith("linux")


def _preexec(memory_bytes: int | None):
    if memory_bytes is None or not memory_limit_supported():
        return None

    def limit() -> None:  # runs in the child between fork and exec
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return limit


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def read_events(path: Path) -> list[dict]:
    """The stream's events in order; a line cut short by a kill, or not following the
    schema, is skipped."""
    if not path.is_file():
        return []
    events = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
            validate("test_events", event, str(path))
        except (json.JSONDecodeError, SchemaError):
            continue
        if isinstance(event, dict) and "event" in event:
            events.append(event)
    return events


def read_report(path: Path) -> dict | None:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return report if isinstance(report, dict) else None


def run_module(
    tests_path: Path,
    modules_root: Path,
    work: Path,
    limits: RunLimits,
    echo: bool = False,
    extra_env: dict[str, str] | None = None,
) -> ModuleRun:
    """Run one module's graded tests in a child process and collect what it left behind."""
    work.mkdir(parents=True, exist_ok=True)
    for name in ("report.json", "events.jsonl", "output.log"):
        (work / name).unlink(missing_ok=True)
    (work / "grader.ini").write_text(GRADER_INI, encoding="utf-8")
    memory = limits.memory_bytes if memory_limit_supported() else None
    command = pytest_command(tests_path, modules_root.parent, work, limits.test_timeout)
    started = time.monotonic()
    wall_timeout = False
    with (work / "output.log").open("wb") as log:
        try:
            process = subprocess.Popen(
                command,
                cwd=work,
                env=child_environment(modules_root, extra_env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_preexec(memory),
                start_new_session=True,
            )
        except OSError as error:
            return ModuleRun(limits=limits, grader_error=f"could not start pytest: {error}")
        try:
            process.wait(timeout=limits.wall_time)
        except subprocess.TimeoutExpired:
            wall_timeout = True
            _kill_group(process)
            process.wait()
        _kill_group(process)  # children the tests left running
    duration = time.monotonic() - started
    output = (work / "output.log").read_text(encoding="utf-8", errors="replace")
    if echo:
        print(output, end="" if output.endswith("\n") else "\n", flush=True)
    code = process.returncode
    return ModuleRun(
        limits=RunLimits(limits.test_timeout, limits.wall_time, memory),
        report=read_report(work / "report.json"),
        events=read_events(work / "events.jsonl"),
        exit_code=code if code >= 0 else None,
        signal=signal.Signals(-code).name if code < 0 else None,
        wall_timeout=wall_timeout,
        output_tail="\n".join(output.splitlines()[-OUTPUT_TAIL_LINES:]),
        duration=duration,
    )


def build_pristine_tree(pristine: Tree, student_modules: Path, dest: Path) -> Path:
    """Write dest/modules/: for every module folder of `pristine`, its module.yaml and the
    graded test file it names come from `pristine`; every other file of that folder comes
    from the student's `student_modules/<folder>/` (their source, data files), except
    conftest.py / pytest.ini. Returns dest/modules."""
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
    for folder in folders:
        target = modules / folder
        target.mkdir(parents=True)
        yaml_bytes = pristine.read(f"modules/{folder}/module.yaml") or b""
        try:
            tests_name = (yaml.safe_load(yaml_bytes) or {}).get("tests")
        except yaml.YAMLError:
            tests_name = None
        pristine_names = {"module.yaml"} | ({tests_name} if isinstance(tests_name, str) else set())
        student = student_modules / folder
        if student.is_dir():
            for path in sorted(student.rglob("*")):
                relative = path.relative_to(student)
                if (
                    path.is_file()
                    and relative.as_posix() not in pristine_names
                    and path.name not in SUSPICIOUS_NAMES
                    and "__pycache__" not in relative.parts
                ):
                    (target / relative).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target / relative)
        for name in sorted(pristine_names):
            data = pristine.read(f"modules/{folder}/{name}")
            if data is not None:
                (target / name).write_bytes(data)
    return modules
