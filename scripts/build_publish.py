"""Writing `tiny build`'s output safely: all tiers or nothing, and never solutions too early.

    start_staging(out) -> staging folder inside `out`
    publish_staged(staging, out)        move every built tier and bundle into place
    publishing_warnings(config, built, now) -> warnings for tiers that carry reference
                                         solutions of a tier still accepting submissions

`tiny build` (scripts/build_templates.py) writes every tier into the staging folder and
publishes only when all of them succeeded, so a failed build leaves `out` as it was. A
target in `out` is replaced only when it is an earlier output of `tiny build` (a tier with
`.tinytorch/`, an autograder folder, a zip): anything else stops the build before a file
moves.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grading.course_config import CourseConfig
    from scripts.build_templates import TierBuild

MARKER = Path(".tinytorch")  # a folder holding this is a build we may replace
STAGING_PREFIX = ".tiny-build-"


class PublishError(RuntimeError):
    """`out` holds something that is not a build: the message names it."""


def make_writable_and_retry(function, path, _info) -> None:
    """shutil.rmtree's error hook: a read-only reference module is made writable, retried."""
    Path(path).chmod(stat.S_IWUSR | stat.S_IRUSR)
    function(path)


def start_staging(out: Path) -> Path:
    """A fresh staging folder inside `out` (same file system: moves are renames)."""
    out.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))


def _replaceable(target: Path) -> bool:
    """Whether `target` is absent or an earlier output of `tiny build` (never anything else)."""
    if not target.exists() and not target.is_symlink():
        return True
    if target.is_symlink():
        return False
    if target.is_dir():
        tier_or_autograder = (target / MARKER).is_dir() or (target / "autograder.py").is_file()
        staff = (target / ".github" / "workflows" / "regrade.yml").is_file()  # the staff folder
        return tier_or_autograder or staff
    return target.suffix == ".zip" and zipfile.is_zipfile(target)


def publish_staged(staging: Path, out: Path) -> None:
    """Move everything built in `staging` into `out`, replacing earlier builds of the same
    names. Checks every target first, so a refusal moves nothing."""
    names = sorted(p.name for p in staging.iterdir())
    refused = [name for name in names if not _replaceable(out / name)]
    if refused:
        raise PublishError(
            f"{out / refused[0]} exists and is not a template build: choose an empty --out "
            f"folder or move it away"
        )
    for name in names:
        remove_build(out / name)
        os.replace(staging / name, out / name)


def remove_build(path: Path) -> None:
    """Delete a build output (folder or file), read-only files included."""
    if path.is_dir() and not path.is_symlink():
        if sys.version_info >= (3, 12):
            shutil.rmtree(path, onexc=make_writable_and_retry)
        else:
            shutil.rmtree(path, onerror=make_writable_and_retry)
    elif path.exists() or path.is_symlink():
        path.unlink()


# ---- publishing tiers without leaking solutions ------------------------------------


def publishing_warnings(
    config: CourseConfig, built: list[TierBuild], now: dt.datetime
) -> list[str]:
    """One warning per built tier that ships reference solutions of an earlier tier whose
    deadline plus late window (Tier.closes) is still ahead: publishing its template now
    hands those solutions to students who may still submit."""
    warnings = []
    for result in built:
        open_tiers: dict[str, list[int]] = {}
        for meta in result.plan.carried:
            owner = config.tier_of_module(meta.number)
            if owner is not None and owner.closes > now:
                open_tiers.setdefault(owner.slug, []).append(meta.number)
        for slug, numbers in open_tiers.items():
            closes = config.tier(slug).closes
            warnings.append(
                f"WARNING: tier '{result.tier.slug}' ships the reference solutions of tier "
                f"'{slug}' (modules {', '.join(f'{n:02d}' for n in numbers)}), which accepts "
                f"submissions until {closes.isoformat()} (deadline + late_days): publish the "
                f"'{result.tier.slug}' template only after that (INSTRUCTOR.md, publishing "
                f"schedule), or set carry_forward: student"
            )
    return warnings
