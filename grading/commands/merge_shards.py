"""`tiny merge-shards SHARD_DIR... --out DIR`: join the N outputs of `tiny grade-batch --shard`.

Reads each folder's batch.json (grading/batch_shards.py) and refuses, naming the folders, a
missing or repeated shard, shards of different counts, templates or options, and a student
graded twice or in the wrong shard. Then writes into --out exactly what one unsharded
`tiny grade-batch` run writes: summary.csv, report.txt, batch.json (as shard 1/1) and every
student's folder (results.json, summary.md, classroom_result.json), so `tiny gradebook
DIR/<assignment>` reads the results like any other artifacts folder.

Exit code: 0 merged, no finding; 1 merged, with findings, missing or ungraded repositories;
2 the shards cannot be merged (nothing is written).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from grading.batch_shards import ShardError, check_shards, read_shard
from grading.commands.grade_batch import write_batch_outputs
from grading.grade_batch import entry_document, entry_from_document, findings_of

HELP = "merge the outputs of `tiny grade-batch --shard I/N` into one gradebook (staff)"


def add_arguments(parser) -> None:
    parser.add_argument("shards", type=Path, nargs="+", help="the --out folder of every shard")
    parser.add_argument("--out", type=Path, required=True, help="folder for the merged output")


def merge(folders: list[Path], out: Path) -> list:
    """Check the shards, copy every student's folder into `out`, write the merged files.
    Returns the BatchEntry list. Raises ShardError before writing anything."""
    runs = [read_shard(folder) for folder in folders]
    check_shards(runs)
    if out.resolve() in {folder.resolve() for folder in folders}:
        raise ShardError(f"--out {out} is one of the shard folders: choose a new folder")
    entries = []
    for run in runs:
        for document in run.document["entries"]:
            try:
                entries.append(entry_from_document(document, run.folder))
            except (OSError, ValueError) as error:
                raise ShardError(f"{run.folder}: {document['student']}: {error}") from None
    for run in runs:
        for document in run.document["entries"]:
            if document["results"] is not None:
                source = (run.folder / document["results"]).parent
                shutil.copytree(source, out / Path(document["results"]).parent, dirs_exist_ok=True)
    merged = dict(runs[0].document)
    merged["shard"] = {"index": 1, "count": 1}
    ordered = sorted(entries, key=lambda e: (e.repo.assignment, e.repo.student))
    merged["entries"] = [entry_document(e) for e in ordered]
    audit_only = bool(merged["options"].get("audit_only"))
    write_batch_outputs(out, entries, audit_only, merged)
    return entries


def run(args) -> int:
    try:
        entries = merge(args.shards, args.out)
    except ShardError as error:
        print(f"tiny merge-shards: {error}", file=sys.stderr)
        return 2
    missing = sum(1 for e in entries if e.missing)
    failed = sum(1 for e in entries if e.error) - missing
    tampered = sum(1 for e in entries if findings_of(e))
    print(
        f"{len(args.shards)} shards, {len(entries)} students: {missing} missing, {failed} not "
        f"graded, {tampered} with findings -> {args.out / 'summary.csv'}, "
        f"{args.out / 'report.txt'}"
    )
    return 1 if missing or failed or tampered else 0
