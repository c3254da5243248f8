"""`tiny carry-forward FROM`: bring your own earlier modules into this tier's repository.

In a tier built with `carry_forward: student` (course.yaml), the modules of the earlier
tiers ship as stubs: this tier's code imports them, but they are yours to bring, not graded
again here. `tiny carry-forward ../tinytorch-foundation-yourname` copies, for every earlier
module this repository has, the one file you wrote (its module.yaml `source`, e.g.
`modules/01_tensor/tensor.py`) from that earlier repository over the stub here. Nothing
else is copied: tests, module.yaml files and this tier's own modules stay as the course
ships them. Then commit: `git add modules && git commit -m "My earlier modules"`.

A file that is a symbolic link, not a regular file, or missing in FROM is not copied and
is named; the exit code is then 1 (nothing is half-copied: each file is written whole).
In a tier that ships the course's reference copies (`carry_forward: reference`) there is
nothing to bring: the command says so and exits 2.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from grading.course_config import CourseConfigError, find_course_config, load_course_config
from grading.course_modules import ModuleMetaError, load_module_meta

HELP = "copy your own earlier modules from an earlier tier's repository over this tier's stubs"


def add_arguments(parser) -> None:
    parser.add_argument("source", type=Path, metavar="FROM", help="your earlier tier's repository")
    parser.add_argument(
        "--root", type=Path, default=Path.cwd(), help="this tier's repository (default: here)"
    )


def earlier_sources(root: Path, graded: set[int]) -> list[str]:
    """`modules/<key>/<source>` of every module folder here that this tier does not grade."""
    found = []
    for manifest in sorted((root / "modules").glob("[0-9][0-9]_*/module.yaml")):
        try:
            meta = load_module_meta(manifest.parent, check_files=False)
        except ModuleMetaError:
            continue
        if meta.number not in graded:
            found.append(f"modules/{meta.key}/{meta.source}")
    return found


def regular_file(path: Path) -> bool:
    """Whether `path` is a regular file, not followed through a symbolic link."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def carry_forward(source: Path, root: Path) -> tuple[list[str], list[str]]:
    """Copy each earlier module's file from `source` to `root`: (copied, refused with why).
    Raises CourseConfigError when `root` is no tier repository or ships reference copies."""
    config_path = find_course_config(root)
    if config_path is None:
        raise CourseConfigError(f"{root}: no .tinytorch/course.yaml: run this in a tier repository")
    tier = load_course_config(config_path).tiers[0]
    if tier.carry_forward != "student":
        raise CourseConfigError(
            f"tier '{tier.slug}' ships the course's reference copies of the earlier modules "
            f"(carry_forward: {tier.carry_forward}): there is nothing to bring"
        )
    copied, refused = [], []
    for relative in earlier_sources(root, set(tier.modules)):
        origin, target = source / relative, root / relative
        if not regular_file(origin):
            why = "is a symbolic link" if origin.is_symlink() else "is missing or not a file"
            refused.append(f"{origin} {why}: copy your file there, or fix it by hand")
            continue
        if target.is_symlink() or (target.exists() and not regular_file(target)):
            refused.append(f"{target} is not a regular file: remove it first")
            continue
        data = origin.read_bytes()
        partial = target.with_name(f".{target.name}.carry-forward")
        partial.write_bytes(data)
        os.replace(partial, target)
        copied.append(relative)
    return copied, refused


def run(args) -> int:
    root, source = args.root.resolve(), args.source.resolve()
    if not (source / "modules").is_dir():
        print(f"tiny carry-forward: {source} has no modules/ folder", file=sys.stderr)
        return 2
    try:
        copied, refused = carry_forward(source, root)
    except CourseConfigError as error:
        print(f"tiny carry-forward: {error}", file=sys.stderr)
        return 2
    for relative in copied:
        print(f"copied {relative} from {source}")
    for problem in refused:
        print(f"NOT copied: {problem}", file=sys.stderr)
    if copied:
        print('Now commit them: git add modules && git commit -m "My earlier modules"')
    return 1 if refused else 0
