"""Mutation testing of the graded tests: does every realistic student bug lose points?

    .venv/bin/python scripts/mutation.py [--modules 05,09] [--jobs 2] [--min-rate 0.97]

Each module may keep a catalogue `modules/NN_name/mutants.yaml` (staff only: it holds
solution text and never ships in a template) of bugs students really write:

    mutants:
      - id: add-returns-ndarray        # unique within the module
        exercise: "01.2"                # the exercise whose solution region it changes
        bug: __add__ returns a NumPy array instead of a Tensor
        find: |                         # text of the module's source (blocks written without
          return Tensor(self.data + other.data)   # their indentation), found exactly once,
                                                  # inside a solution region of `exercise`
        replace: |
          return self.data + other.data
        equivalent: "why no test can tell it apart"   # optional: left out of the rate

For every mutant the tool copies the course's modules/ tree (and template/course.yaml) into a
scratch folder, applies the one edit to the module's source and grades that module with
`tiny grade --root <scratch> --modules NN` — the same command, points and sandbox as a
student's grade. Outcomes: killed (the module scores less than its maximum), survived (full
points: a missing test), crashed (the grader reported status "error": a fault of the grader
or of this tool). The unmutated tree is graded first and must score full points.

Exit code: 0 every module's kill rate >= --min-rate and nothing crashed; 1 a rate below it;
2 an invalid catalogue, a crash, or a reference that does not score full points.
Cost: one `tiny grade` of one module per mutant (about 2-20 s each); --jobs runs several.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `grading` and `scripts` importable
    sys.path.insert(0, str(ROOT))

from grading.course_config import TEMPLATE_CONFIG  # noqa: E402
from grading.course_modules import ModuleMeta, ModuleMetaError, load_module_meta  # noqa: E402
from scripts.stubs import MARKER, StubError, find_regions  # noqa: E402

CATALOGUE = "mutants.yaml"
REQUIRED = ("id", "exercise", "bug", "find", "replace")
OPTIONAL = ("equivalent",)
DEFAULT_MIN_RATE = 0.97
IGNORED = shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc", ".ipynb_checkpoints")


class CatalogueError(ValueError):
    """A catalogue that cannot be used; the message names the file, line and what to fix."""


@dataclass(frozen=True)
class Mutant:
    module: ModuleMeta
    id: str
    exercise: str
    bug: str
    find: str
    replace: str
    equivalent: str | None = None
    line: int = 0  # line of the catalogue entry, for messages

    @property
    def label(self) -> str:
        return f"{self.module.key}:{self.id}"

    def apply(self, source: str) -> str:
        """The module's source with this one bug in it (`find` must occur exactly once)."""
        (start, block, indent), *_ = occurrences(source, self.find)
        return source[:start] + _indented(self.replace, indent) + source[start + len(block) :]


def _indented(text: str, indent: str) -> str:
    """`text` with `indent` before each non-blank line after the first: catalogues write
    blocks without their indentation, the first line starts where the match starts."""
    first, *rest = text.split("\n")
    return "\n".join([first, *((indent + line) if line.strip() else line for line in rest)])


def occurrences(source: str, find: str) -> list[tuple[int, str, str]]:
    """(offset, matched text, indentation) of each place `find` occurs in `source`, its
    lines after the first indented like the source line where the match starts."""
    first = find.split("\n")[0]
    found = []
    at = source.find(first) if first.strip() else -1
    while at != -1:
        line_start = source.rfind("\n", 0, at) + 1
        line = source[line_start:at]
        indent = line[: len(line) - len(line.lstrip())]
        block = _indented(find, indent)
        if source.startswith(block, at):
            found.append((at, block, indent))
        at = source.find(first, at + 1)
    return found


@dataclass(frozen=True)
class Outcome:
    mutant: Mutant
    status: str  # killed | survived | crashed
    earned: int = 0
    possible: int = 0
    lost_in: tuple[str, ...] = ()  # exercises that lost points
    detail: str = ""
    seconds: float = 0.0


# ---- catalogues -----------------------------------------------------------------------


def _entry_lines(text: str) -> list[int]:
    """1-based line of each entry of the `mutants:` list (0 where it cannot be told)."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return []
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if key.value == "mutants" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def load_catalogue(meta: ModuleMeta) -> list[Mutant]:
    """The mutants of one module, validated against its module.yaml and source.
    Raises CatalogueError listing every problem found, each as `file:line: message`."""
    path = meta.folder / CATALOGUE
    where = _relative(path)
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CatalogueError(f"{where}: not valid YAML: {error}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("mutants"), list):
        raise CatalogueError(f"{where}: must be a mapping with a list under 'mutants:'")
    source_path = meta.folder / meta.source
    source = source_path.read_text(encoding="utf-8")
    try:
        regions = find_regions(source, _relative(source_path))
    except StubError as error:
        raise CatalogueError(str(error)) from None
    lines = _entry_lines(text)
    exercises = {e.id for e in meta.exercises}
    problems: list[str] = []
    mutants: list[Mutant] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(raw["mutants"]):
        line = lines[index] if index < len(lines) else 0
        at = f"{where}:{line}"
        if not isinstance(entry, dict):
            problems.append(f"{at}: each mutant must be a mapping with {', '.join(REQUIRED)}")
            continue
        missing = [key for key in REQUIRED if not isinstance(entry.get(key), str)]
        unknown = sorted(set(entry) - set(REQUIRED) - set(OPTIONAL))
        if missing or unknown:
            if missing:
                problems.append(f"{at}: needs text values for {', '.join(missing)}")
            if unknown:
                problems.append(f"{at}: unknown keys {', '.join(map(str, unknown))}")
            continue
        mutant = Mutant(
            module=meta,
            id=entry["id"],
            exercise=entry["exercise"],
            bug=" ".join(entry["bug"].split()),
            find=entry["find"],
            replace=entry["replace"],
            equivalent=entry.get("equivalent"),
            line=line,
        )
        problems += _problems(mutant, at, source, regions, exercises, seen, meta)
        seen.setdefault(mutant.id, line)
        mutants.append(mutant)
    if problems:
        raise CatalogueError("\n".join(problems))
    return mutants


def _problems(mutant, at, source, regions, exercises, seen, meta) -> list[str]:
    found: list[str] = []
    name = f"mutant '{mutant.id}'"
    if mutant.id in seen:
        found.append(f"{at}: {name}: id already used at line {seen[mutant.id]}")
    if mutant.exercise not in exercises:
        found.append(
            f"{at}: {name}: exercise {mutant.exercise} is not in module.yaml "
            f"({', '.join(sorted(exercises))})"
        )
    if mutant.find == mutant.replace:
        found.append(f"{at}: {name}: find and replace are the same text")
    places = occurrences(source, mutant.find)
    count = len(places)
    if count != 1:
        how = "does not occur" if count == 0 else f"occurs {count} times"
        found.append(
            f"{at}: {name}: find text {how} in {meta.key}/{meta.source} (it must occur "
            f"exactly once: copy it from the source, or add a neighbouring line): "
            f"{mutant.find.strip()[:80]!r}"
        )
    elif mutant.exercise in exercises:
        offset, block, _ = places[0]
        start = source.count("\n", 0, offset)
        stop = start + block.rstrip("\n").count("\n")
        inside = [r for r in regions if r.begin <= start and stop <= r.end]
        if _markers(mutant.find) != _markers(mutant.replace):
            found.append(
                f"{at}: {name}: replace must keep the solution markers of find as they are"
            )
        elif not inside or inside[0].exercise_id != mutant.exercise:
            actual = f"the region of {inside[0].exercise_id}" if inside else "no solution region"
            found.append(
                f"{at}: {name}: find text is at {meta.source}:{start + 1}, in {actual}; a "
                f"student bug changes their own code: the solution region of {mutant.exercise}"
            )
        try:
            compile(mutant.apply(source), f"{meta.source} with mutant {mutant.id}", "exec")
        except SyntaxError as error:
            found.append(
                f"{at}: {name}: the mutated source is not valid Python ({error.msg}, line "
                f"{error.lineno}): a syntax error is not a student bug the tests should catch"
            )
    return found


def _markers(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if MARKER.search(line)]


def catalogued_modules(modules_root: Path, wanted: Iterable[str] | None = None) -> list[ModuleMeta]:
    """Modules with a catalogue, in order; `wanted` filters by number (5, 05) or name."""
    metas = []
    for path in sorted(modules_root.glob(f"[0-9][0-9]_*/{CATALOGUE}")):
        try:
            metas.append(load_module_meta(path.parent))
        except ModuleMetaError as error:
            raise CatalogueError(str(error)) from None
    if wanted is None:
        return metas
    chosen = []
    for query in wanted:
        q = query.strip().lower()
        match = [m for m in metas if q in (str(m.number), f"{m.number:02d}", m.slug, m.key)]
        if not match:
            known = ", ".join(m.key for m in metas) or "none"
            raise CatalogueError(f"--modules: no catalogue for '{query}' (catalogued: {known})")
        chosen += [m for m in match if m not in chosen]
    return sorted(chosen, key=lambda m: m.number)


def load_all(metas: list[ModuleMeta]) -> list[Mutant]:
    """Every mutant of `metas`; CatalogueError naming every problem of every catalogue."""
    mutants, problems = [], []
    for meta in metas:
        try:
            mutants += load_catalogue(meta)
        except CatalogueError as error:
            problems.append(str(error))
    if problems:
        raise CatalogueError("\n".join(problems))
    return mutants


# ---- grading ----------------------------------------------------------------------------


def grade_tree(course_root: Path, meta: ModuleMeta, mutant: Mutant | None, scratch: Path) -> dict:
    """Copy the course's modules/ (and course.yaml) into `scratch`, apply `mutant` (None:
    the reference as it is) and grade `meta`'s module with `tiny grade --root`. Returns the
    module's record of the results object, or {"status": "error", "detail": ...}."""
    shutil.copytree(course_root / "modules", scratch / "modules", ignore=IGNORED)
    config = course_root / TEMPLATE_CONFIG
    if config.is_file():
        (scratch / TEMPLATE_CONFIG).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(config, scratch / TEMPLATE_CONFIG)
    if mutant is not None:
        source = scratch / "modules" / meta.key / meta.source
        source.write_text(mutant.apply(source.read_text(encoding="utf-8")), encoding="utf-8")
    out = scratch / "grade"
    command = [sys.executable, "-m", "grading.cli", "grade", "--root", str(scratch)]
    command += ["--modules", meta.key, "--out", str(out)]
    env = {k: v for k, v in os.environ.items() if k != "TINYTORCH_MODULES"}
    done = subprocess.run(command, cwd=course_root, capture_output=True, text=True, env=env)
    results_path = out / "results.json"
    if not results_path.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        return {"status": "error", "detail": f"tiny grade exited {done.returncode}: {tail}"}
    results = json.loads(results_path.read_text(encoding="utf-8"))
    records = [m for m in results["modules"] if m["key"] == meta.key]
    if not records:
        return {"status": "error", "detail": f"no record of {meta.key}: {results['errors']}"}
    return records[0]


def _lost(record: dict) -> tuple[str, ...]:
    return tuple(
        e["id"]
        for e in record.get("exercises", ())
        if e["points"]["earned"] < e["points"]["possible"]
    )


def classify(mutant: Mutant, record: dict, seconds: float) -> Outcome:
    """killed / survived / crashed from the module's record of the results object."""
    if record.get("status") == "error":
        detail = record.get("detail") or (record.get("run") or {}).get("message") or ""
        return Outcome(mutant, "crashed", detail=str(detail), seconds=seconds)
    earned, possible = record["points"]["earned"], record["points"]["possible"]
    status = "killed" if earned < possible else "survived"
    return Outcome(mutant, status, earned, possible, _lost(record), seconds=seconds)


def run_mutant(course_root: Path, mutant: Mutant) -> Outcome:
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutant.module.number:02d}-") as scratch:
        record = grade_tree(course_root, mutant.module, mutant, Path(scratch))
    return classify(mutant, record, time.monotonic() - start)


def check_reference(course_root: Path, meta: ModuleMeta) -> str | None:
    """None when the unmutated module scores full points, else what went wrong."""
    with tempfile.TemporaryDirectory(prefix=f"reference-{meta.number:02d}-") as scratch:
        record = grade_tree(course_root, meta, None, Path(scratch))
    if record.get("status") == "error":
        return f"{meta.key}: the grader could not grade the reference: {record.get('detail')}"
    earned, possible = record["points"]["earned"], record["points"]["possible"]
    if earned < possible:
        return f"{meta.key}: the reference scores {earned}/{possible} (lost in {_lost(record)})"
    return None


# ---- report ------------------------------------------------------------------------------


def kill_rate(outcomes: list[Outcome]) -> tuple[int, int]:
    """(killed, counted): equivalent mutants are not run, crashes count as not killed."""
    counted = [o for o in outcomes if o.mutant.equivalent is None]
    return sum(o.status == "killed" for o in counted), len(counted)


def report(outcomes: list[Outcome], equivalents: list[Mutant], verbose: bool = False) -> str:
    lines = []
    modules = sorted({o.mutant.module.key for o in outcomes} | {m.module.key for m in equivalents})
    for key in modules:
        mine = [o for o in outcomes if o.mutant.module.key == key]
        killed, counted = kill_rate(mine)
        same = [m for m in equivalents if m.module.key == key]
        rate = f"{killed / counted:6.1%}" if counted else "   n/a"
        extra = f", {len(same)} equivalent" if same else ""
        lines.append(f"{key:<22} {rate}  killed {killed}/{counted}{extra}")
        for outcome in mine:
            m = outcome.mutant
            if outcome.status != "killed":
                lines.append(f"    {outcome.status.upper():<9} {m.id} ({m.exercise}): {m.bug}")
                if outcome.detail:
                    lines.append(f"              {outcome.detail[:200]}")
            elif verbose:
                lost = ", ".join(outcome.lost_in)
                own = "" if m.exercise in outcome.lost_in else "  (not in its own exercise)"
                lines.append(
                    f"    killed    {m.id} ({m.exercise}): {outcome.earned}/{outcome.possible}, "
                    f"lost in {lost}{own}  [{outcome.seconds:.1f}s]"
                )
        if verbose:
            lines += [f"    equivalent {m.id} ({m.exercise}): {m.equivalent}" for m in same]
    killed, counted = kill_rate(outcomes)
    if counted:
        lines.append(f"{'overall':<22} {killed / counted:6.1%}  killed {killed}/{counted}")
    return "\n".join(lines)


# ---- command -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/mutation.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--modules", metavar="LIST", help="modules to test, e.g. 05,09 or autograd")
    parser.add_argument("--mutants", metavar="IDS", help="only these mutant ids (comma-separated)")
    parser.add_argument("--jobs", type=int, default=1, help="mutants graded at once (default 1)")
    parser.add_argument(
        "--min-rate",
        type=float,
        default=DEFAULT_MIN_RATE,
        help=f"lowest acceptable kill rate per module (default {DEFAULT_MIN_RATE})",
    )
    parser.add_argument("--check", action="store_true", help="only validate the catalogues")
    parser.add_argument("--root", default=str(ROOT), help="course repository (default: this one)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list killed mutants too")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if not 0 <= args.min_rate <= 1:
        parser.error("--min-rate is a fraction between 0 and 1, e.g. 0.97")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    course_root = Path(args.root).resolve()
    try:
        wanted = args.modules.split(",") if args.modules else None
        metas = catalogued_modules(course_root / "modules", wanted)
        mutants = load_all(metas)
    except CatalogueError as error:
        print(f"invalid mutant catalogue:\n{error}", file=sys.stderr)
        return 2
    if args.mutants:
        ids = {part.strip() for part in args.mutants.split(",")}
        unknown = ids - {m.id for m in mutants}
        if unknown:
            print(f"--mutants: no mutant {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        mutants = [m for m in mutants if m.id in ids]
        metas = [meta for meta in metas if any(m.module == meta for m in mutants)]
    print(f"{len(mutants)} mutants in {len(metas)} catalogues are valid")
    if args.check:
        return 0
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        failures = [f for f in pool.map(lambda m: check_reference(course_root, m), metas) if f]
        if failures:
            print("the reference must score full points first:\n" + "\n".join(failures))
            return 2
        runnable = [m for m in mutants if m.equivalent is None]
        outcomes = list(pool.map(lambda m: _progress(run_mutant(course_root, m)), runnable))
    equivalents = [m for m in mutants if m.equivalent is not None]
    print(report(outcomes, equivalents, args.verbose))
    print(f"{len(outcomes)} mutants graded in {time.monotonic() - start:.0f} s ({args.jobs} jobs)")
    if any(o.status == "crashed" for o in outcomes):
        print("FAIL: the grader crashed on a mutant (see CRASHED above)")
        return 2
    low = []
    for meta in metas:
        killed, counted = kill_rate([o for o in outcomes if o.mutant.module == meta])
        if counted and killed / counted < args.min_rate:
            low.append(f"{meta.key} {killed}/{counted}")
    if low:
        print(f"FAIL: kill rate below {args.min_rate:.0%} in {', '.join(low)}")
        return 1
    return 0


def _progress(outcome: Outcome) -> Outcome:
    """One line on stderr per graded mutant, so a long run shows it is alive."""
    print(f"  {outcome.status:<8} {outcome.mutant.label}", file=sys.stderr, flush=True)
    return outcome


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
