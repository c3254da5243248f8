"""Sharding a regrade across machines, and merging the shards back (pure, plus file reads).

Partition: a student belongs to shard `shard_of(student, N)` = 1 + (first 8 bytes of
sha256 of the lower-cased GitHub username, as an integer) mod N. It depends on nothing but
the name and N, so every machine, with any subset of the roster, agrees; each student is in
exactly one shard. Shards hold N/roster ± a few students (1,000 on 20 runners: 50 ± ~7).

Every `tiny grade-batch` run writes `<out>/batch.json` (schema `tinytorch/batch/v1`):

    {"schema": "tinytorch/batch/v1",
     "shard": {"index": 2, "count": 20},        (1/1 when not sharded)
     "pristine": "<sha256 of the template's files>",   which tests, grader config, points
     "options": {"modules": ..., "milestones": ..., "timeout": ..., "memory": ...},
     "entries": [{"assignment", "student", "repository", "error", "findings": [...],
                  "results": "<assignment>/<student>/results.json" | null}, ...]}

`merge` reads N such folders and refuses, with a message naming the folders: a shard
missing or given twice, shards of different N, templates (`pristine`) or options, a
student in two shards, a student in the wrong shard for its name.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BATCH_FILE = "batch.json"
BATCH_SCHEMA = "tinytorch/batch/v1"
_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class ShardError(ValueError):
    """Shards that cannot be merged, or a bad --shard value; the message says what to fix."""


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    def holds(self, student: str) -> bool:
        return shard_of(student, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """'3/20' -> Shard(3, 20); anything else raises ShardError saying what is expected."""
    match = _SHARD.match(text or "")
    if not match:
        raise ShardError(f"--shard: expected INDEX/COUNT such as 3/20, got {text!r}")
    index, count = int(match[1]), int(match[2])
    if count < 1 or not 1 <= index <= count:
        raise ShardError(f"--shard {text}: INDEX must be between 1 and COUNT (COUNT >= 1)")
    return Shard(index, count)


def shard_of(student: str, count: int) -> int:
    """The 1-based shard of a GitHub username among `count` shards (see module docstring)."""
    digest = hashlib.sha256(student.strip().lower().encode("utf-8")).digest()
    return 1 + int.from_bytes(digest[:8], "big") % count


def tree_fingerprint(root: Path) -> str:
    """sha256 over (path, sha256 of bytes) of every file under `root` outside .git folders
    and caches: two shards graded with the same tests, configuration and points have the
    same value. Cost: one read of the tree."""
    total = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink()):
        relative = path.relative_to(root).as_posix()
        if {".git", "__pycache__"} & set(relative.split("/")):
            continue
        data = path.read_bytes() if path.is_file() else str(path.readlink()).encode()
        total.update(relative.encode() + b"\0" + hashlib.sha256(data).digest())
    return total.hexdigest()


@dataclass(frozen=True)
class ShardRun:
    folder: Path
    document: dict

    @property
    def shard(self) -> Shard:
        return Shard(self.document["shard"]["index"], self.document["shard"]["count"])


def read_shard(folder: Path) -> ShardRun:
    path = folder / BATCH_FILE
    if not path.is_file():
        raise ShardError(f"{folder}: no {BATCH_FILE}: not the --out folder of tiny grade-batch")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ShardError(f"{path}: not JSON ({error})") from None
    if not isinstance(document, dict) or document.get("schema") != BATCH_SCHEMA:
        raise ShardError(f"{path}: expected schema {BATCH_SCHEMA!r}")
    for key in ("shard", "pristine", "options", "entries"):
        if key not in document:
            raise ShardError(f"{path}: missing key {key!r}")
    return ShardRun(folder, document)


def check_shards(runs: Sequence[ShardRun]) -> None:
    """Raise ShardError unless `runs` are the N shards of one regrade, each exactly once,
    every student once and in the shard its name belongs to."""
    if not runs:
        raise ShardError("no shard folder given")
    first = runs[0]
    for run in runs[1:]:
        for key, what in (("pristine", "template"), ("options", "options")):
            if run.document[key] != first.document[key]:
                raise ShardError(
                    f"{run.folder} was graded with other {what} than {first.folder} "
                    f"({key}: {run.document[key]!r} vs {first.document[key]!r}): regrade it"
                )
        if run.shard.count != first.shard.count:
            raise ShardError(
                f"{run.folder} is shard {run.shard} but {first.folder} is shard {first.shard}: "
                f"all shards must split the roster into the same count"
            )
    count = first.shard.count
    seen: dict[int, Path] = {}
    for run in runs:
        if run.shard.index in seen:
            raise ShardError(
                f"shard {run.shard} given twice: {seen[run.shard.index]} and {run.folder}"
            )
        seen[run.shard.index] = run.folder
    missing = [str(i) for i in range(1, count + 1) if i not in seen]
    if missing:
        raise ShardError(
            f"missing shard(s) {', '.join(missing)} of {count}: their students would be "
            f"lost; download every shard's artifact (or rerun the failed shard jobs)"
        )
    owner: dict[tuple[str, str], Path] = {}
    for run in runs:
        for entry in run.document["entries"]:
            key = (entry["assignment"], entry["student"])
            if key in owner:
                raise ShardError(
                    f"student {entry['student']} ({entry['assignment']}) is in {owner[key]} "
                    f"and in {run.folder}: each student must be graded once"
                )
            owner[key] = run.folder
    for run in runs:
        for entry in run.document["entries"]:
            if not run.shard.holds(entry["student"]):
                raise ShardError(
                    f"{run.folder} (shard {run.shard}) graded {entry['student']}, who belongs "
                    f"to shard {shard_of(entry['student'], count)}/{count}"
                )
