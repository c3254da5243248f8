"""TinyDigits: 1,797 real 8×8 handwritten digits, shipped with the course (no download).

    >>> from datasets.tinydigits import load_tinydigits
    >>> x_train, y_train, x_test, y_test = load_tinydigits()
    >>> x_train.shape, x_test.shape, x_train.dtype, float(x_train.max())
    ((1438, 64), (359, 64), dtype('float32'), 1.0)

The data is the copy of the UCI optical digits that scikit-learn bundles, split 80/20 by class
(see tinydigits/DATASHEET.md for the source, licence and true counts). Only NumPy is needed
here; scikit-learn is needed only to rebuild the file (datasets/build_tinydigits.py).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

TINYDIGITS_PATH = Path(__file__).resolve().parent / "tinydigits" / "tinydigits.npz"
# The sha256 printed by `python -m datasets.build_tinydigits` and written into DATASHEET.md.
EXPECTED_SHA256 = "27ca5551514f42d01e0e7d25e216442a456545afc6f7285356c75c5dea4e5c4b"
PIXEL_MAX = 16  # stored pixels are counts 0..16; the loader divides by this
KEYS = ("x_train", "y_train", "x_test", "y_test")


class DatasetError(RuntimeError):
    """A dataset file that is missing or not the file the course shipped."""


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes. Cost: one pass over the file (about 30 kB here)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_tinydigits(
    flatten: bool = True, path: Path | str | None = None, expected_sha256: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load the fixed TinyDigits split as (x_train, y_train, x_test, y_test).

    Contract:
    - x_*: float32 in [0.0, 1.0] (stored counts 0..16 divided by 16); shape (N, 64) when
      `flatten` (one row per image, row-major pixels), else (N, 8, 8).
    - y_*: int64 digit labels 0..9, shape (N,). N is 1,438 for train and 359 for test.
    - Fresh arrays on every call: changing them cannot change the next call's result.
    - Before reading, the file's sha256 is compared with `expected_sha256` (default: the
      shipped file's, EXPECTED_SHA256); a missing or different file raises DatasetError
      saying how to restore it. `path` points elsewhere, e.g. at a rebuilt copy.

    Cost: reads and hashes about 30 kB; returns about 460 kB of float32 pixels
    (1,797 × 64 × 4 bytes) plus 14 kB of labels.
    """
    path = Path(path) if path is not None else TINYDIGITS_PATH
    expected = expected_sha256 or EXPECTED_SHA256
    restore = (
        "Restore the shipped file (e.g. `git checkout -- datasets/tinydigits/tinydigits.npz`), "
        "or, as course staff, rebuild it with `python -m datasets.build_tinydigits`."
    )
    if not path.is_file():
        raise DatasetError(f"TinyDigits file not found at {path}. {restore}")
    actual = sha256_of(path)
    if actual != expected:
        raise DatasetError(
            f"TinyDigits file {path} is corrupt or not the shipped version: its sha256 is "
            f"{actual}, expected {expected} ({path.stat().st_size:,} bytes on disk). {restore}"
        )
    with np.load(path, allow_pickle=False) as archive:
        x_train, y_train, x_test, y_test = (archive[key] for key in KEYS)
    shape = (-1, x_train.shape[1] * x_train.shape[2]) if flatten else (-1, *x_train.shape[1:])

    def pixels(x: np.ndarray) -> np.ndarray:
        return (x.astype(np.float32) / np.float32(PIXEL_MAX)).reshape(shape)

    return pixels(x_train), y_train.astype(np.int64), pixels(x_test), y_test.astype(np.int64)
