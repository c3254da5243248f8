"""sha256 checks shared by the dataset loaders: one way to hash a file, one error type.

Contract: `sha256_of(path)` streams the file in 1 MiB blocks (constant memory, about
0.3 s per 100 MB); `verify_sha256(path, expected, fix)` raises `ChecksumError` naming
the file, both digests and `fix` — the sentence that tells the reader what to do.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

BLOCK_BYTES = 1 << 20


class ChecksumError(ValueError):
    """A data file whose sha256 is not the one its loader expects."""


def sha256_of(path: Path) -> str:
    """Hex sha256 of the bytes of `path`, read in blocks so large archives fit in memory."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(BLOCK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str, fix: str) -> None:
    """Raise ChecksumError unless `path` hashes to `expected`; `fix` says how to repair it."""
    actual = sha256_of(path)
    if actual != expected.lower():
        raise ChecksumError(
            f"{path} has sha256 {actual}, but {expected.lower()} was expected: the file is "
            f"incomplete, modified or not the file this loader reads. {fix}"
        )
