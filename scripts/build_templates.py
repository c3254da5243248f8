"""`tiny build`: write one GitHub template repository per tier of course.yaml.

    tiny build --out out/templates                    # every tier
    tiny build --out out/templates --tier foundation  # one tier
    tiny build --config my-course.yaml --out DIR --strict

Each `DIR/<tier>/` is a git repository with one commit by "TinyTorch Classroom", ready to
push and mark as a template: the tier's modules with every solution region replaced by its
stub, their tests and READMEs (never ANSWERS.md), the import layer, grading/, the earlier
modules as read-only reference copies (carry_forward: reference), the tier's milestones and
datasets, pyproject.toml, a README with the points table, `.tinytorch/course.yaml` (this
tier's part of the configuration), `.tinytorch/protected.json` and the Classroom workflow.
Under `carry_forward: student` the earlier modules ship as stubs instead of reference
copies: students bring their own with `tiny carry-forward`.

Beside each `DIR/<tier>/` it writes that tier's variants for the platforms that replaced
GitHub Classroom: `DIR/<tier>-classroom50-template/` (the template without our workflow)
and `DIR/<tier>-classroom50/` (Classroom 50's autograder), `DIR/<tier>-gradescope.zip`
(Gradescope); see scripts/platform_bundles.py. Everything is built in a staging folder and
moved into DIR only when every tier succeeded; a tier that ships reference solutions of a
tier still accepting submissions (deadline + late_days) is warned about
(scripts/build_publish.py).

Modules that course.yaml lists but modules/ does not hold yet are reported and left out
(`--strict` makes that an error). Before a tier is written out as done, its files and every
object of its git history are scanned for the text of its solutions; a hit fails the build.
"""

from __future__ import annotations

import datetime as dt
import shutil
import stat
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from grading import protected
from grading.course_config import (
    TEMPLATE_CONFIG,
    CourseConfig,
    CourseConfigError,
    Tier,
    dump_course_config,
    load_course_config,
)
from grading.course_modules import ModuleMeta, ModuleMetaError, load_module_meta
from grading.repo import REPO_ROOT
from scripts import platform_bundles, regrade_workflow, solution_leaks, stubs
from scripts.build_publish import (
    MARKER,
    PublishError,
    make_writable_and_retry,
    publish_staged,
    publishing_warnings,
    remove_build,
    start_staging,
)
from scripts.classroom_workflow import WORKFLOW_PATH, build_workflow, render_workflow
from scripts.git_snapshot import commit_snapshot
from scripts.module_yaml import ModuleYamlError, write_module_yaml
from scripts.points_table import ModulePoints, module_points
from scripts.template_files import Entry, Plan, plan_tier
from scripts.template_pyproject import render_pyproject
from scripts.template_readme import render_readme

HELP = "write one template repository per tier (staff): stubs, tests, points table, CI workflow"
READ_ONLY_NOTE = """\
# READ-ONLY REFERENCE (Module {number:02d} {title}). This tier ships the course's own
# implementation of this earlier module so your work stands on a correct base. It is not
# graded here; .tinytorch/protected.json records its checksum, so edits are reported.
"""
GITIGNORE = """\
.venv/
__pycache__/
*.pyc
*.egg-info/
.pytest_cache/
.tinytorch/results/
# Notebooks are derived: each is paired with its module's .py (jupytext.toml), which is what
# is committed and graded. Nothing lives only in an .ipynb but outputs.
*.ipynb
.ipynb_checkpoints/
"""
# Jupytext reads this in the repository root: every notebook is paired with a py:percent file,
# so saving a notebook in Jupyter writes the module's .py that `tiny test` and CI grade.
JUPYTEXT_TOML = """\
# Open a module's .py as a notebook (Jupyter with jupytext installed): saving writes both the
# .ipynb and the .py; the .py is the file that is graded and committed, the .ipynb is ignored.
formats = "ipynb,py:percent"
notebook_metadata_filter = "-jupytext.text_representation"
"""


class BuildError(RuntimeError):
    """The build cannot produce a correct template; the message says what to fix."""


@dataclass(frozen=True)
class TierBuild:
    tier: Tier
    root: Path
    plan: Plan
    rows: tuple[ModulePoints, ...]
    commit: str
    seconds: float


# ---- writing one tier ---------------------------------------------------------------


def _reference_copy(text: str, meta: ModuleMeta, where: Path) -> str:
    """An earlier module's file: solutions kept, markers dropped, a read-only note added
    after the jupytext header (if any)."""
    text = stubs.drop_markers(text, where)
    note = READ_ONLY_NOTE.format(number=meta.number, title=meta.title)
    lines = text.splitlines(keepends=True)
    if lines and lines[0].strip() == "# ---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "# ---"), None)
        if end is not None:
            return "".join(lines[: end + 1]) + "\n" + note + "".join(lines[end + 1 :])
    return note + text


def _write_entry(entry: Entry, root: Path, with_solutions: bool) -> None:
    dest = root / entry.dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    meta = entry.meta
    if entry.kind == "stub" and not with_solutions:
        text = entry.source.read_text(encoding="utf-8")
        exercises = {e.id: e for e in meta.exercises}
        stubbed, _ = stubs.strip_solutions(text, exercises, entry.source)
        try:
            compile(stubbed, str(entry.source), "exec")
        except SyntaxError as error:
            raise BuildError(
                f"{entry.source}: the stubbed file does not compile ({error}); each solution "
                f"region must sit inside a function body"
            ) from None
        dest.write_text(stubbed, encoding="utf-8")
    elif entry.kind == "stub":  # --with-solutions: keep the solutions, drop the markers
        dest.write_text(
            stubs.drop_markers(entry.source.read_text(encoding="utf-8"), entry.source),
            encoding="utf-8",
        )
    elif entry.kind == "reference":
        text = _reference_copy(entry.source.read_text(encoding="utf-8"), meta, entry.source)
        dest.write_text(text, encoding="utf-8")
    elif entry.kind == "module_yaml":
        return  # written after the module's other files (it names them)
    else:
        shutil.copyfile(entry.source, dest)
        if entry.source.suffix == ".py" and _has_region(entry.source):
            raise BuildError(
                f"{entry.source}: holds a solution region but is copied as it is (it is not "
                f"a module's source file); solution regions belong in module source files only"
            )


def _has_region(path: Path) -> bool:
    lines = path.read_bytes().decode("utf-8", "replace").splitlines()
    return any(stubs.BEGIN.match(line) for line in lines)


def _mark_read_only(root: Path, plan: Plan) -> None:
    for meta in plan.carried:
        for path in (root / "modules" / meta.key).rglob("*"):
            if path.is_file():
                path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


def _prepare(root: Path) -> None:
    if root.exists():
        if any(root.iterdir()) and not (root / MARKER).is_dir():
            raise BuildError(
                f"{root} exists and is not a template build: choose an empty --out folder"
            )
        if sys.version_info >= (3, 12):
            shutil.rmtree(root, onexc=make_writable_and_retry)
        else:
            shutil.rmtree(root, onerror=make_writable_and_retry)
    root.mkdir(parents=True)


def protected_paths(root: Path, plan: Plan) -> list[str]:
    """What a student must not change: grading's default set (module.yaml points tables,
    graded tests, the import layer, grading/, workflows, pyproject.toml), plus this tier's
    course.yaml, the milestones (their thresholds), the datasets and the reference modules."""
    chosen = set(protected.protected_paths(protected.DirTree(root))) | {TEMPLATE_CONFIG.as_posix()}
    extra_roots = ["milestones/", "datasets/", *(f"modules/{m.key}/" for m in plan.carried)]
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and relative.startswith(tuple(extra_roots)):
            chosen.add(relative)
    return sorted(chosen - set(plan.student_files))


def handed_out_texts(plan: Plan) -> list[str]:
    """Course text this tier hands out on purpose, read from the course repository."""
    texts = []
    for entry in plan.entries:
        raw = entry.source.read_bytes().decode("utf-8", "replace")
        texts.append(
            solution_leaks.outside_regions(raw, entry.source) if entry.kind == "stub" else raw
        )
    for meta in (*plan.graded, *plan.brought):  # the hints, as the stubs print them
        texts += [stubs.stub_line("", exercise) for exercise in meta.exercises]
    return texts


def solution_needles(plan: Plan) -> set[str]:
    sources = [
        (str(e.source), e.source.read_text(encoding="utf-8"))
        for e in plan.entries
        if e.kind == "stub"
    ]
    return solution_leaks.needles(sources, handed_out_texts(plan))


def check_no_solutions(root: Path, needle_set: set[str], history: bool) -> None:
    texts = solution_leaks.git_object_texts(root) if history else solution_leaks.tree_texts(root)
    leaks = solution_leaks.find_leaks(needle_set, texts)
    if leaks:
        shown = "\n  ".join(f"{label}: {needle!r}" for label, needle in leaks[:10])
        raise BuildError(f"{root}: reference solution text found in the template:\n  {shown}")


def build_tier(
    config: CourseConfig,
    tier: Tier,
    modules: dict[int, ModuleMeta],
    out: Path,
    *,
    course_root: Path = REPO_ROOT,
    with_solutions: bool = False,
    plan: Plan | None = None,
) -> TierBuild:
    """Write `out/<tier.slug>/` as a one-commit git repository and return what it holds."""
    started = time.perf_counter()
    plan = plan or plan_tier(config, tier, modules, course_root)
    if not plan.graded:
        raise BuildError(f"tier '{tier.slug}': none of its modules exists yet")
    root = out / tier.slug
    _prepare(root)
    for entry in plan.entries:
        _write_entry(entry, root, with_solutions)
    rows = tuple(module_points(config, list(plan.graded)))
    for row in rows:
        points = {exercise_id: p for exercise_id, _, p in row.exercises}
        try:
            write_module_yaml(row.meta.folder, root / "modules" / row.meta.key, points, row.timeout)
        except ModuleYamlError as error:
            raise BuildError(str(error)) from None
    _write_generated(config, tier, plan, rows, root, course_root, with_solutions)

    needle_set = set() if with_solutions else solution_needles(plan)
    if not with_solutions:
        check_no_solutions(root, needle_set, history=False)
    protected.write_manifest(root, protected_paths(root, plan))
    _mark_read_only(root, plan)
    message = f"{config.name}: {tier.title} ({config.term})"
    if with_solutions:
        message += " [INSTRUCTOR BUILD WITH SOLUTIONS: do not publish]"
    commit = commit_snapshot(root, message)
    if not with_solutions:
        check_no_solutions(root, needle_set, history=True)
    return TierBuild(tier, root, plan, rows, commit, time.perf_counter() - started)


def _write_generated(
    config: CourseConfig,
    tier: Tier,
    plan: Plan,
    rows: tuple[ModulePoints, ...],
    root: Path,
    course_root: Path,
    with_solutions: bool,
) -> None:
    restricted = config.restricted(tier.slug, tuple(m.number for m in plan.graded), plan.milestones)
    dump_course_config(
        restricted,
        root / TEMPLATE_CONFIG,
        header=(
            f"# This tier's part of the course configuration, written by `tiny build` from\n"
            f"# {config.path.name}. Read by the grader; protected. Schema: "
            f"grading/course_config.py\n"
        ),
    )
    (root / "README.md").write_text(
        render_readme(config, tier, list(rows), plan.carried, plan.milestones, with_solutions),
        encoding="utf-8",
    )
    (root / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    (root / "jupytext.toml").write_text(JUPYTEXT_TOML, encoding="utf-8")
    (root / "pyproject.toml").write_text(
        render_pyproject(
            course_root / "pyproject.toml",
            f"tinytorch-{tier.slug}",
            f"{config.name}: {tier.title}",
            root,
        ),
        encoding="utf-8",
    )
    pyproject = (root / "pyproject.toml").read_bytes()
    workflow = build_workflow(config, tier, list(rows), plan.milestones, pyproject)
    (root / WORKFLOW_PATH).parent.mkdir(parents=True, exist_ok=True)
    (root / WORKFLOW_PATH).write_text(render_workflow(workflow), encoding="utf-8")


# ---- the command --------------------------------------------------------------------


def build(
    config_path: Path,
    out: Path,
    tier_slugs: list[str] | None = None,
    *,
    strict: bool = False,
    with_solutions: bool = False,
    course_root: Path = REPO_ROOT,
    log=print,
    now: dt.datetime | None = None,
) -> list[TierBuild]:
    """Build the chosen tiers (all by default); report what is missing and which tier would
    publish solutions of a tier still open. Everything is written into a staging folder
    inside `out` and moved into place only when every tier succeeded, so a failed build
    leaves `out` as it was. Raises BuildError, CourseConfigError or ModuleMetaError with a
    message naming what to fix."""
    config = load_course_config(config_path)
    tiers = [config.tier(slug) for slug in tier_slugs] if tier_slugs else list(config.tiers)
    present, broken = load_modules(course_root / "modules")
    for folder, error in broken.items():
        if strict:
            raise error
        log(f"WARNING: {folder.name} is left out, its module.yaml does not load: {error}")
    config.check_modules(present, require_all=strict)
    modules = {meta.number: meta for meta in present}
    unplaced = [meta.key for meta in present if config.tier_of_module(meta.number) is None]
    if unplaced:
        log(f"note: modules in no tier of {config_path}, not shipped: {', '.join(unplaced)}")
    staging = start_staging(out)
    try:
        built = []
        for tier in tiers:
            result = _build_one(
                config, tier, modules, staging, strict, with_solutions, course_root, log
            )
            if result is not None:
                built.append(result)
        if built:
            regrade_workflow.write_staff_files(staging, config.name)
        publish_staged(staging, out)
    except PublishError as error:
        raise BuildError(str(error)) from None
    finally:
        remove_build(staging)
    built = [replace(result, root=out / result.root.name) for result in built]
    if built:
        staff = out / regrade_workflow.STAFF_DIR / regrade_workflow.REGRADE_PATH
        log(f"staff: {staff} (regrade a class on N runners; copy it to the staff repository)")
    if not with_solutions:
        for warning in publishing_warnings(config, built, now or dt.datetime.now(dt.timezone.utc)):
            log(warning)
    return built


def _build_one(
    config: CourseConfig,
    tier: Tier,
    modules: dict[int, ModuleMeta],
    out: Path,
    strict: bool,
    with_solutions: bool,
    course_root: Path,
    log,
) -> TierBuild | None:
    """One tier and its platform variants into `out` (the staging folder); None if skipped."""
    plan = plan_tier(config, tier, modules, course_root)
    problems = _missing_report(plan)
    if problems and strict:
        raise BuildError(f"tier '{tier.slug}' is incomplete: {problems}")
    if not plan.graded:
        log(f"{tier.slug}: SKIPPED, none of its modules exists yet ({problems})")
        return None
    result = build_tier(
        config, tier, modules, out, course_root=course_root, with_solutions=with_solutions,
        plan=plan,
    )  # fmt: skip
    try:
        bundles = platform_bundles.write_tier_bundles(result, out, config, course_root)
    except platform_bundles.BundleError as error:
        raise BuildError(str(error)) from None
    total = sum(row.total for row in result.rows)
    earlier = (
        f"{len(plan.carried)} reference modules"
        if not plan.brought
        else f"{len(plan.brought)} earlier modules as stubs for the student's own"
    )
    log(
        f"{tier.slug}: {out.parent / tier.slug} — modules "
        f"{', '.join(m.key for m in plan.graded)}; {total} points; {earlier}; milestones "
        f"{', '.join(map(str, plan.milestones)) or 'none'}; commit {result.commit[:12]} "
        f"({result.seconds:.1f} s)"
    )
    log(
        f"{tier.slug}: Classroom 50 template {bundles.classroom50_template.name}/ and "
        f"autograder {bundles.classroom50.name}/, Gradescope {bundles.gradescope.name}"
    )
    if problems:
        log(f"{tier.slug}: WARNING, left out because not in the course yet: {problems}")
    return result


def load_modules(modules_root: Path) -> tuple[list[ModuleMeta], dict[Path, ModuleMetaError]]:
    """Every module that loads, and the error of each one that does not (e.g. a module
    still being written: its module.yaml names a test file that is not there yet)."""
    loaded, broken = [], {}
    for manifest in sorted(modules_root.glob("[0-9][0-9]_*/module.yaml")):
        try:
            loaded.append(load_module_meta(manifest.parent))
        except ModuleMetaError as error:
            broken[manifest.parent] = error
    return loaded, broken


def _missing_report(plan: Plan) -> str:
    parts = []
    if plan.missing_modules:
        parts.append("modules " + ", ".join(f"{n:02d}" for n in plan.missing_modules))
    for number, lacking in plan.blocked.items():
        needs = ", ".join(f"{n:02d}" for n in lacking)
        parts.append(f"module {number:02d} (it needs {needs})")
    if plan.missing_reference:
        numbers = ", ".join(f"{n:02d}" for n in plan.missing_reference)
        parts.append(f"earlier modules {numbers}")
    for number, lacking in plan.milestones_blocked.items():
        needs = ", ".join(f"{n:02d}" for n in lacking)
        parts.append(f"milestone {number} (it needs modules {needs})")
    if plan.missing_milestones:
        parts.append("milestones " + ", ".join(map(str, plan.missing_milestones)))
    if plan.missing_datasets:
        parts.append("datasets " + ", ".join(plan.missing_datasets))
    return "; ".join(parts)


def add_arguments(parser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=REPO_ROOT / "template" / "course.yaml",
        help="course configuration (default: template/course.yaml)",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for one repo per tier")
    parser.add_argument(
        "--tier", action="append", dest="tiers", metavar="SLUG", help="build only this tier"
    )
    parser.add_argument(
        "--strict", action="store_true", help="fail if a configured module is not written yet"
    )
    parser.add_argument(
        "--with-solutions",
        action="store_true",
        help="keep the reference solutions (to test the workflow end to end; never publish)",
    )


def run(args) -> int:
    try:
        build(
            args.config,
            args.out,
            args.tiers,
            strict=args.strict,
            with_solutions=args.with_solutions,
        )
    except (BuildError, CourseConfigError, ModuleMetaError, stubs.StubError) as error:
        print(f"tiny build: {error}", file=sys.stderr)
        return 1
    return 0
