"""TinyTalks: about 3,200 synthetic question–answer pairs, shipped in the repository.

    >>> from datasets.tinytalks import load_tinytalks
    >>> train = load_tinytalks("train")
    >>> train[0].question, train[0].answer
    ('Hello, I am Ada.', 'Nice to meet you, Ada!')

The file is built by `datasets/build_tinytalks.py`; `tinytalks/DATASHEET.md` states the
true counts, the split policy and the licence. Every load checks the file's sha256 first
(about 2 ms for its 0.5 MB), so a modified or truncated file fails loudly instead of
silently changing results.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from datasets.checksums import verify_sha256

DATA_FILE = Path(__file__).resolve().parent / "tinytalks" / "tinytalks.jsonl"
SHA256 = "2393cf0116d804dc25027438d87e9cc4d7ee59132fd5c885de476ae6df94f3c9"
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class TalkPair:
    """One record of tinytalks.jsonl (field meanings: DATASHEET.md, 'Instances')."""

    id: int
    split: str
    category: str
    template: int
    entity: str
    question: str
    answer: str


def load_tinytalks(
    split: str | None = None, *, path: Path = DATA_FILE, sha256: str = SHA256
) -> list[TalkPair]:
    """The pairs of one split ('train', 'validation', 'test'), or all of them, in file order.

    Raises ChecksumError if the file's sha256 is not `sha256`, and ValueError for an
    unknown split. Cost: reads and parses the whole file (0.5 MB, about 10 ms).
    """
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)} or None, got {split!r}")
    path = Path(path)
    verify_sha256(
        path,
        sha256,
        fix="Restore it from git (git checkout -- datasets/tinytalks) or rebuild it with "
        "`python -m datasets.build_tinytalks`.",
    )
    with path.open(encoding="ascii") as lines:
        pairs = [TalkPair(**json.loads(line)) for line in lines]
    return [pair for pair in pairs if split is None or pair.split == split]
