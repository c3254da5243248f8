"""`tiny grade`: grade every module (or `--modules 01,03`), each in its own sandboxed process.

One module's syntax error, infinite loop, memory blow-up, sys.exit or os._exit costs that
module's points only: each module runs in a child process with a per-test time limit
(module.yaml `timeout`, default 30 s), a wall-clock limit for the whole module and a memory
limit (see grading/sandbox/run.py); the plugin streams every finished test, so a crash keeps
the outcomes before it and names the test that was running.

Outputs, all rendered from one results object (grading/results.py, schema
grading/schemas/results.v1.schema.json):
  stdout                  points table per module and every failure
  --out DIR               DIR/results.json, DIR/summary.md, DIR/classroom_result.json,
                          DIR/runs/<module>/{output.log,report.json,events.jsonl}
  --summary               append the Markdown summary to $GITHUB_STEP_SUMMARY (when set)
  --classroom-output      write `result=<base64 JSON>` to $GITHUB_OUTPUT (stdout when unset):
                          the GitHub Classroom grader result (grading/render.py)

Points, per-test timeouts, the memory limit and the modules graded by default come from
module.yaml with the course configuration's overrides (grading/course_config.py:
`.tinytorch/course.yaml` in a tier repository, `template/course.yaml` in the course).

Test files: by default the ones in the working tree. `--pristine DIR` takes every module.yaml
and graded test file from a clean copy of the repository, `--pristine-git` from the
repository's root commit; the student's source files are graded against those, and
protected files that differ are reported at the top of every output.

Exit code: 0 every point earned and no protected file changed; 1 points lost or protected
files changed; 2 the grader could not grade (bad option, unreadable module.yaml, pytest
could not run); a module it could not grade shows status "error".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

import yaml

from grading.course_config import (
    COURSE_CONFIG,
    TEMPLATE_CONFIG,
    CourseConfig,
    CourseConfigError,
    find_course_config,
    load_course_config,
)
from grading.course_modules import ModuleMeta, ModuleMetaError, load_module_meta
from grading.grade_module import ModuleGrader
from grading.points import apply_course_config
from grading.protected import (
    MANIFEST_PATH,
    DirTree,
    GitTree,
    Tree,
    compare,
    file_hash,
    load_manifest,
    pristine_manifest,
)
from grading.render import classroom_result, encode_classroom, markdown_summary, points_table
from grading.repo import REPO_ROOT
from grading.results import RunLimits, build_results, error_module
from grading.sandbox.milestones import run_milestones
from grading.sandbox.plugin import COURSE_ENV
from grading.sandbox.run import build_pristine_tree, memory_limit_supported, open_to_readers

HELP = "grade every module here (or --modules 01,03), each in its own sandboxed process"

MODULES_HELP = (
    "comma-separated modules to grade: numbers or names (01,3,layers); default: the modules "
    "the course configuration grades here, else all"
)
OUT_HELP = "write results.json, summary.md, classroom_result.json and run logs into DIR"
PRISTINE_HELP = "take module.yaml and graded test files from this clean copy of the repository"
PRISTINE_GIT_HELP = "take module.yaml and graded test files from the repository's root commit"
SUMMARY_HELP = "append the Markdown summary to $GITHUB_STEP_SUMMARY when it is set"
CLASSROOM_HELP = "write the GitHub Classroom result (result=<base64>) to $GITHUB_OUTPUT"
ROOT_HELP = "repository to grade (default: this one; $TINYTORCH_MODULES moves its modules/)"
REFERENCE_HELP = "grade the course repository's reference solutions (ignores $TINYTORCH_MODULES)"
TIMEOUT_HELP = (
    "per-test time limit in seconds for every module "
    "(default: course.yaml timeouts, else module.yaml timeout, else 30)"
)
WALL_HELP = "wall-clock limit per module in seconds (default: 10 x per-test limit, at least 60)"
MEMORY_HELP = (
    "address-space limit per module process, e.g. 512M, 2G, none "
    "(default: course.yaml memory_limit_mb, else 2G; enforced on Linux)"
)
RUN_AS_HELP = (
    "run student code as this unprivileged user (as root: setuid in the child; "
    "otherwise through `sudo -n -u USER`); default: the grader's own user"
)
VERBOSE_HELP = "also print pytest's own output for each module"

DEFAULT_MEMORY = 2 << 30
MODULES_ENV = "TINYTORCH_MODULES"


class SettingsError(ValueError):
    """A bad option value; the message says which option and what was expected."""


@dataclass(frozen=True)
class GradeSettings:
    """Everything `tiny grade` needs, resolved once from options and environment."""

    root: Path
    modules_root: Path
    modules: tuple[str, ...] | None = None
    milestones: tuple[int, ...] = ()
    out: Path | None = None
    pristine_dir: Path | None = None
    pristine_git: bool = False
    timeout: float | None = None
    wall_limit: float | None = None
    memory_bytes: int | None = DEFAULT_MEMORY
    memory_explicit: bool = False
    summary: bool = False
    classroom_output: bool = False
    verbose: bool = False
    reference: bool = False
    run_as: str | None = None

    def limits(self, meta: ModuleMeta, course: CourseConfig | None = None) -> RunLimits:
        """Per-test timeout: --timeout > course.yaml > module.yaml (already in `meta`);
        wall clock: --wall-limit > 10 x per-test (at least 60 s);
        memory: --memory-limit > course.yaml memory_limit_mb > 2 GiB."""
        test_timeout = self.timeout or meta.timeout
        wall = self.wall_limit or max(60.0, 10.0 * test_timeout)
        memory = self.memory_bytes
        if not self.memory_explicit and course is not None:
            memory = course.memory_limit_mb << 20
        return RunLimits(float(test_timeout), float(wall), memory)


def parse_size(text: str, where: str = "--memory-limit") -> int | None:
    """'2G' -> 2147483648, '512M', '1.5G', '4096' (bytes); 'none'/'0' -> None (no limit)."""
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    if value in ("NONE", "0", "OFF", ""):
        return None
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(value[-1:], 1)
    number = value[:-1] if value[-1:] in "KMG" else value
    try:
        size = int(float(number) * scale)
    except ValueError:
        size = -1
    if size < 64 << 20:
        raise SettingsError(
            f"{where}: '{text}' is not a size of at least 64M (write e.g. 512M, 2G or none)"
        )
    return size


def _positive(value, where: str) -> float | None:
    if value is None:
        return None
    if value <= 0:
        raise SettingsError(f"{where}: must be a positive number of seconds, got {value}")
    return float(value)


def resolve_settings(args: argparse.Namespace, environ=os.environ) -> GradeSettings:
    """One place for precedence: --reference > --root > $TINYTORCH_MODULES > this repository."""
    if args.pristine and args.pristine_git:
        raise SettingsError("--pristine DIR and --pristine-git exclude each other: pick one")
    if args.reference:
        root, modules_root = REPO_ROOT, REPO_ROOT / "modules"
    elif args.root:
        root = Path(args.root).resolve()
        modules_root = root / "modules"
    else:
        root = REPO_ROOT
        modules_root = (
            Path(environ[MODULES_ENV]).resolve()
            if environ.get(MODULES_ENV)
            else (REPO_ROOT / "modules")
        )
    if not modules_root.is_dir():
        raise SettingsError(f"no modules folder at {modules_root} (from --root or ${MODULES_ENV})")
    pristine_dir = Path(args.pristine).resolve() if args.pristine else None
    if pristine_dir is not None and not (pristine_dir / "modules").is_dir():
        raise SettingsError(f"--pristine: {pristine_dir} has no modules/ folder")
    milestones = ()
    if getattr(args, "milestones", None):
        try:
            milestones = tuple(int(part) for part in args.milestones.split(",") if part.strip())
        except ValueError as error:
            raise SettingsError(f"--milestones takes numbers such as 1,2,3: {error}") from error
    modules = None
    if args.modules:
        modules = tuple(part.strip() for part in args.modules.split(",") if part.strip())
    return GradeSettings(
        root=root,
        modules_root=modules_root,
        modules=modules,
        milestones=milestones,
        out=Path(args.out).resolve() if args.out else None,
        pristine_dir=pristine_dir,
        pristine_git=bool(args.pristine_git),
        timeout=_positive(args.timeout, "--timeout"),
        wall_limit=_positive(args.wall_limit, "--wall-limit"),
        memory_bytes=parse_size(args.memory_limit) if args.memory_limit else DEFAULT_MEMORY,
        memory_explicit=bool(args.memory_limit),
        summary=bool(args.summary),
        classroom_output=bool(args.classroom_output),
        verbose=bool(args.verbose),
        reference=bool(args.reference),
        run_as=getattr(args, "run_as", None) or None,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--modules", metavar="LIST", help=MODULES_HELP)
    parser.add_argument(
        "--milestones",
        metavar="LIST",
        help="also run these milestones (e.g. 1,2,3) and report PASS/FAIL with the grade",
    )
    parser.add_argument("--out", metavar="DIR", help=OUT_HELP)
    parser.add_argument("--pristine", metavar="DIR", help=PRISTINE_HELP)
    parser.add_argument("--pristine-git", action="store_true", help=PRISTINE_GIT_HELP)
    parser.add_argument("--summary", action="store_true", help=SUMMARY_HELP)
    parser.add_argument("--classroom-output", action="store_true", help=CLASSROOM_HELP)
    parser.add_argument("--root", metavar="DIR", help=ROOT_HELP)
    parser.add_argument("--reference", action="store_true", help=REFERENCE_HELP)
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help=TIMEOUT_HELP)
    parser.add_argument("--wall-limit", type=float, metavar="SECONDS", help=WALL_HELP)
    parser.add_argument("--memory-limit", metavar="SIZE", help=MEMORY_HELP)
    parser.add_argument("--run-as", metavar="USER", help=RUN_AS_HELP)
    parser.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)


# ---- grading ------------------------------------------------------------------------------


class ModulesFolder:
    """A `Tree` over a modules folder of any name (e.g. $TINYTORCH_MODULES), its paths
    spelled `modules/...` like a repository's."""

    def __init__(self, modules_root: Path) -> None:
        self.folder = DirTree(modules_root)
        self.description = f"folder {modules_root}"

    def files(self) -> list[str]:
        return [f"modules/{path}" for path in self.folder.files()]

    def read(self, path: str) -> bytes | None:
        return self.folder.read(path.removeprefix("modules/"))


def tamper_check(working: DirTree, pristine: Tree | None) -> dict:
    """Protected files of the working tree against the pristine manifest (or the tree's own)."""
    if pristine is not None:
        manifest, described = pristine_manifest(pristine)
        findings = compare(working, manifest)
        ours, theirs = pristine.read(MANIFEST_PATH), working.read(MANIFEST_PATH)
        if ours is not None and (theirs is None or file_hash(ours) != file_hash(theirs)):
            kind = "deleted" if theirs is None else "modified"
            words = "deleted" if theirs is None else "changed"
            message = f"protected file {MANIFEST_PATH} was {words}"
            findings.insert(0, {"path": MANIFEST_PATH, "kind": kind, "message": message})
        return {"checked": True, "manifest": described, "findings": findings}
    stored = load_manifest(working)
    if stored is not None:
        return {
            "checked": True,
            "manifest": f"{MANIFEST_PATH} of the working tree (it could be edited too; "
            f"CI grades with --pristine-git)",
            "findings": compare(working, stored),
        }
    return {"checked": False, "manifest": "no manifest and no pristine copy", "findings": []}


def course_config(
    settings: GradeSettings, pristine: Tree | None, work: Path
) -> CourseConfig | None:
    """The course configuration that sets points, timeouts and the modules graded by default:
    the pristine copy's when grading from one, else the repository's. None when there is none."""
    if pristine is None:
        path = find_course_config(settings.root)
        return load_course_config(path) if path else None
    for relative in (TEMPLATE_CONFIG, COURSE_CONFIG):
        data = pristine.read(relative.as_posix())
        if data is not None:
            (work / "course.yaml").write_bytes(data)
            return load_course_config(work / "course.yaml")
    return None


def _select(
    metas: list[ModuleMeta], wanted: tuple[str, ...] | None, course: CourseConfig | None
) -> list[ModuleMeta]:
    """--modules, else the modules the course configuration grades here, else all."""
    if wanted is None:
        if course is None:
            return metas
        return [m for m in metas if m.number in course.modules]
    chosen = []
    for query in wanted:
        q = query.lower()
        match = [m for m in metas if q in (str(m.number), f"{m.number:02d}", m.slug, m.key)]
        if not match:
            known = ", ".join(m.key for m in metas) or "none"
            raise SettingsError(f"--modules: no module '{query}' here (modules: {known})")
        chosen += [m for m in match if m not in chosen]
    return sorted(chosen, key=lambda m: m.number)


def grade(settings: GradeSettings, work: Path) -> dict:
    """Grade the selected modules; return the results object. Nothing is printed; `work`
    holds the pristine tree, run logs go to settings.out/runs (or work/runs).
    Raises SettingsError for a bad --modules value or a repository without git history."""
    logs = (settings.out or work) / "runs"
    working = DirTree(settings.root)
    errors: list[str] = []
    pristine: Tree | None = None
    if settings.pristine_dir is not None:
        pristine = DirTree(settings.pristine_dir)
    elif settings.pristine_git:
        try:
            pristine = GitTree(settings.root)
        except ValueError as error:
            raise SettingsError(f"--pristine-git: {error}") from None
    tamper = tamper_check(working, pristine)
    try:
        course = course_config(settings, pristine, work)
    except CourseConfigError as error:
        course = None
        errors.append(f"the course configuration could not be read: {error}")
    if pristine is not None:
        kind = "pristine_dir" if settings.pristine_dir else "pristine_git"
        tests_source = {"kind": kind, "detail": pristine.description}
    else:
        reference = "reference solutions of the course repository"
        detail = reference if settings.reference else "working tree"
        tests_source = {"kind": "working_tree", "detail": detail}
    # The graded tree: module.yaml and tests from the pristine copy (else the working tree),
    # the student's one source file per module, links and odd files refused.
    modules_root, refused = build_pristine_tree(
        pristine or ModulesFolder(settings.modules_root), settings.modules_root, work / "tree"
    )
    if settings.run_as:
        open_to_readers(work)

    metas, broken = [], []
    for folder in sorted(modules_root.glob("[0-9][0-9]_*")):
        if not (folder / "module.yaml").is_file():
            continue
        try:
            metas.append(apply_course_config(load_module_meta(folder, check_files=False), course))
        except ModuleMetaError as error:
            broken.append((folder, str(error).replace(str(modules_root), "modules")))
    selected = _select(metas, settings.modules, course)
    if not metas and not broken:
        errors.append(f"no modules found in {modules_root}")

    default_limits = RunLimits(
        float(settings.timeout or 30), float(settings.wall_limit or 300), settings.memory_bytes
    )
    modules = []
    for folder, message in broken:
        if settings.modules is None or any(q in folder.name for q in settings.modules):
            info = {"number": int(folder.name[:2]), "key": folder.name}
            modules.append(
                error_module(info, f"module.yaml could not be read: {message}", default_limits)
            )
    grader = ModuleGrader(modules_root, metas, refused, logs, settings.run_as, settings.verbose)
    extra_env = {COURSE_ENV: str(course.path)} if course is not None else None
    if selected:
        grader.probe(selected, settings.limits(selected[0], course).memory_bytes)
    for meta in selected:
        modules.append(grader.grade(meta, settings.limits(meta, course), extra_env))
    modules.sort(key=lambda m: m["number"])
    milestones = run_milestones(settings.milestones, modules_root, settings.run_as)
    return build_results(modules, tests_source, tamper, milestones=milestones, errors=errors)


# ---- the command shell ----------------------------------------------------------------------


def _append(path: str, text: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


def write_outputs(results: dict, settings: GradeSettings, environ=os.environ) -> None:
    payload = classroom_result(results)
    if settings.out is not None:
        settings.out.mkdir(parents=True, exist_ok=True)
        (settings.out / "results.json").write_text(
            json.dumps(results, indent=2) + "\n", encoding="utf-8"
        )
        (settings.out / "summary.md").write_text(markdown_summary(results), encoding="utf-8")
        (settings.out / "classroom_result.json").write_text(
            json.dumps(payload, indent=2) + "\n", encoding="utf-8"
        )
    if settings.summary and environ.get("GITHUB_STEP_SUMMARY"):
        _append(environ["GITHUB_STEP_SUMMARY"], markdown_summary(results) + "\n")
    if settings.classroom_output:
        line = f"result={encode_classroom(payload)}\n"
        if environ.get("GITHUB_OUTPUT"):
            _append(environ["GITHUB_OUTPUT"], line)
        else:
            print(line, end="")


def _names_module(query: str, key: str) -> bool:
    """'1', '01', 'tensor' or '01_tensor' names the folder '01_tensor'."""
    return query.lower() in key or query.lstrip("0") == key[:2].lstrip("0")


def _error_results(message: str, args: argparse.Namespace) -> dict:
    """The grader failed before grading: every requested module still reports its full
    maximum (read leniently from its module.yaml) with score 0 and what went wrong, so a
    reporter that sums maxima cannot drop it from the total."""
    modules_root = Path(args.root) / "modules" if getattr(args, "root", None) else None
    modules_root = modules_root or REPO_ROOT / "modules"
    wanted = [part.strip() for part in (getattr(args, "modules", None) or "").split(",")]
    limits = RunLimits(30.0, 300.0, DEFAULT_MEMORY)
    modules = []
    for manifest in sorted(modules_root.glob("[0-9][0-9]_*/module.yaml")):
        key = manifest.parent.name
        if wanted != [""] and not any(
            w and (w in key or w.lstrip("0") == key[:2].lstrip("0")) for w in wanted
        ):
            continue
        try:
            meta = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
            possible = sum(int(e.get("points", 0)) for e in meta.get("exercises", []))
        except (OSError, ValueError, TypeError, AttributeError, yaml.YAMLError):
            meta, possible = {}, 0
        info = {"number": int(key[:2]), "key": key, "title": str(meta.get("title", key))}
        modules.append(error_module({**info, "points": max(possible, 0)}, message, limits))
    source = {"kind": "working_tree", "detail": "not read"}
    return build_results(modules, source, errors=[message])


def run(args: argparse.Namespace) -> int:
    try:
        settings = resolve_settings(args)
    except SettingsError as error:
        print(f"tiny grade: {error}", file=sys.stderr)
        # Still hand Classroom a result: the reporter fails on a missing one.
        fallback = GradeSettings(
            root=REPO_ROOT,
            modules_root=REPO_ROOT / "modules",
            classroom_output=bool(args.classroom_output),
        )
        write_outputs(_error_results(str(error), args), fallback)
        return 2
    if settings.memory_bytes is not None and not memory_limit_supported():
        print(f"note: the memory limit is not enforced on {sys.platform}", file=sys.stderr)
    try:
        with tempfile.TemporaryDirectory(prefix="tiny-grade-") as scratch:
            results = grade(settings, Path(scratch))
    except SettingsError as error:
        print(f"tiny grade: {error}", file=sys.stderr)
        results = _error_results(str(error), args)
    except Exception as error:  # the grader failed: still tell Classroom, exit 2
        traceback.print_exc()
        message = f"the grader failed: {type(error).__name__}: {error}"
        results = _error_results(message, args)
    print(f"TinyTorch grade — tests from: {results['tests_source']['detail']}")
    print(points_table(results), end="")
    write_outputs(results, settings)
    return results["exit_code"]
