"""Build TinyDigits from the UCI optical digits bundled with scikit-learn (course staff only).

    python -m datasets.build_tinydigits              # rewrite datasets/tinydigits/
    python -m datasets.build_tinydigits --out /tmp/x # build elsewhere (the rebuild test does this)

What it writes, into `--out` (default `datasets/tinydigits/`):
    tinydigits.npz  — x_train, y_train, x_test, y_test, train_source_index, test_source_index
    DATASHEET.md    — source, licence, true counts per split and class, format, sha256

Contract: the output is a pure function of scikit-learn's bundled copy of the data. Two runs,
on any machine, write byte-identical files:
- the split uses no random-number generator: each image's place in a "shuffled" order is the
  SHA-256 of a fixed key and its source index, which no library version can change;
- the .npz is written entry by entry with a fixed timestamp (NumPy's own `savez_compressed`
  stamps the current time into the zip, so its bytes change every run).
The one outside dependency of the bytes is zlib's deflate output, which has been stable in
stock zlib for decades; a zlib replacement (e.g. zlib-ng) may compress differently, in which
case the arrays still match and only the sha256 changes (the rebuild test tells these apart).

scikit-learn is imported only inside `load_source()`: students never need it, since the built
file ships with the course. Cost: well under a second and about 1 MB of memory.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "tinydigits"
NPZ_NAME = "tinydigits.npz"
DATASHEET_NAME = "DATASHEET.md"

SPLIT_KEY = "tinydigits-v1"  # the fixed "seed": change it and every split changes
TEST_FRACTION = 0.2
NUM_CLASSES = 10
IMAGE_SIDE = 8
PIXEL_MAX = 16  # the source counts "on" pixels in 4x4 blocks: integers 0..16
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # earliest time a zip can hold; fixed for byte-identity


def load_source() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 images and labels exactly as scikit-learn ships them, in its order.

    Returns (images uint8 (1797, 8, 8) with values 0..16, labels uint8 (1797,) with 0..9).
    Raises RuntimeError naming the package if scikit-learn is not installed.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise RuntimeError(
            "building TinyDigits needs scikit-learn (it ships the source data): "
            "pip install scikit-learn. Students do not need this: the built file ships "
            "with the course."
        ) from error
    digits = load_digits()
    pixels, labels = digits.images, digits.target
    if pixels.min() < 0 or pixels.max() > PIXEL_MAX or not np.all(pixels == np.round(pixels)):
        raise RuntimeError(f"expected integer pixels in 0..{PIXEL_MAX} from load_digits")
    return pixels.astype(np.uint8), labels.astype(np.uint8)


def keyed_order(indices: np.ndarray, key: str = SPLIT_KEY) -> np.ndarray:
    """`indices` sorted by SHA-256(key:index): a shuffle that every machine and every NumPy
    version reproduces exactly, because no random-number generator is involved.

    Cost: one SHA-256 of a short string per index (about 1 µs each)."""

    def digest(index: int) -> bytes:
        return hashlib.sha256(f"{key}:{index}".encode()).digest()

    return np.asarray(sorted(np.asarray(indices).tolist(), key=digest), dtype=np.int64)


def stratified_split(
    labels: np.ndarray, test_fraction: float = TEST_FRACTION, key: str = SPLIT_KEY
) -> tuple[np.ndarray, np.ndarray]:
    """Split positions 0..N-1 into (train, test) so that every class keeps its share.

    Class c with n_c images puts floor(n_c · test_fraction + 0.5) of them in test: the first
    ones in `keyed_order`. Both returned index arrays are themselves in keyed order, so
    neither split is sorted by class. Disjoint by construction; their union is 0..N-1.
    """
    train, test = [], []
    for digit in np.unique(labels):
        members = keyed_order(np.flatnonzero(labels == digit), key)
        n_test = int(np.floor(len(members) * test_fraction + 0.5))
        test.extend(members[:n_test].tolist())
        train.extend(members[n_test:].tolist())
    return keyed_order(np.asarray(train), key), keyed_order(np.asarray(test), key)


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """A compressed .npz (readable by np.load) whose bytes depend only on `arrays`.

    Entries are written in the given order, each as a version-1.0 .npy with a fixed zip
    timestamp and deflate level 9."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, array in arrays.items():
            payload = io.BytesIO()
            np.lib.format.write_array(payload, np.ascontiguousarray(array), version=(1, 0))
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # "Unix", whatever machine builds it
            info.external_attr = 0o644 << 16
            archive.writestr(info, payload.getvalue(), compresslevel=9)
    return buffer.getvalue()


def build_arrays() -> dict[str, np.ndarray]:
    """Everything that goes into tinydigits.npz, in file order."""
    images, labels = load_source()
    train, test = stratified_split(labels)
    return {
        "x_train": images[train],
        "y_train": labels[train],
        "x_test": images[test],
        "y_test": labels[test],
        # Position of each image in sklearn's load_digits() order: provenance, and a way to
        # check that no image is in both splits.
        "train_source_index": train.astype(np.uint16),
        "test_source_index": test.astype(np.uint16),
    }


def _count_row(name: str, labels: np.ndarray) -> str:
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    return f"| {name} | {len(labels):,} | " + " | ".join(str(c) for c in counts) + " |"


def datasheet(arrays: dict[str, np.ndarray], sha256: str, size: int) -> str:
    """DATASHEET.md: every number in it is computed from `arrays` and the written file."""
    n_train, n_test = len(arrays["y_train"]), len(arrays["y_test"])
    total = n_train + n_test
    all_labels = np.concatenate([arrays["y_train"], arrays["y_test"]])
    header = "| split | images | " + " | ".join(str(c) for c in range(NUM_CLASSES)) + " |"
    rule = "|---|---:|" + "---:|" * NUM_CLASSES
    rows = "\n".join(
        [
            _count_row("train", arrays["y_train"]),
            _count_row("test", arrays["y_test"]),
            _count_row("total", all_labels),
        ]
    )
    flat = np.concatenate([arrays["x_train"], arrays["x_test"]]).reshape(total, -1)
    duplicates = total - len(np.unique(flat, axis=0))
    return f"""# TinyDigits — datasheet

<!-- Generated by `python -m datasets.build_tinydigits`; edit that script, not this file. -->

## What it is

{total:,} real handwritten digits (0–9), each an {IMAGE_SIDE}×{IMAGE_SIDE} grid of integers
0–{PIXEL_MAX}, split {1 - TEST_FRACTION:.0%}/{TEST_FRACTION:.0%} by class into train and test.

That is all the source holds: every image is a real scan, used once, in exactly one split.
Nothing is augmented, synthesised, resampled or duplicated. Exact duplicate images in the
set: {duplicates}.

## Source and licence

- **Data:** the copy of the UCI *Optical Recognition of Handwritten Digits* data set that
  scikit-learn bundles as `sklearn.datasets.load_digits()` (all {total:,} images it holds).
  That copy is the UCI set's original *test* part (`optdigits.tes`, 13 writers); the UCI
  training part (3,823 images from 30 other writers) is not included.
- **Creators:** E. Alpaydin and C. Kaynak, Boğaziçi University, 1998. Bitmaps were extracted
  from preprinted forms with NIST's preprocessing programs; each 32×32 bitmap was divided
  into non-overlapping 4×4 blocks and the "on" pixels of each block counted, giving 8×8
  integers 0–16.
- **Licence:** Creative Commons Attribution 4.0 International (CC BY 4.0), as stated by the
  UCI Machine Learning Repository. Attribution: Alpaydin, E. and Kaynak, C. (1998). Optical
  Recognition of Handwritten Digits [Dataset]. UCI Machine Learning Repository.
  https://doi.org/10.24432/C50P49
- **Changes made here:** a fixed stratified split, pixels stored as uint8, labels as uint8.
  No pixel is altered.

## Counts (true, computed when the file was built)

{header}
{rule}
{rows}

Columns 0–9 are images per digit. Each digit puts floor(n · {TEST_FRACTION} + 0.5) of its
images in test, so every class keeps its share in both splits.

## Format

`tinydigits.npz` ({size:,} bytes, deflate-compressed NumPy archive):

| key | dtype | shape | values |
|---|---|---|---|
| `x_train` | uint8 | ({n_train}, 8, 8) | 0–{PIXEL_MAX} |
| `y_train` | uint8 | ({n_train},) | 0–9 |
| `x_test` | uint8 | ({n_test}, 8, 8) | 0–{PIXEL_MAX} |
| `y_test` | uint8 | ({n_test},) | 0–9 |
| `train_source_index` | uint16 | ({n_train},) | index in `load_digits()` |
| `test_source_index` | uint16 | ({n_test},) | index in `load_digits()` |

Use `datasets.tinydigits.load_tinydigits()`: it checks the sha256 below and returns float32
pixels divided by {PIXEL_MAX} (range 0.0–1.0), shapes (N, 64) or (N, 8, 8), and int64 labels.

sha256 of `tinydigits.npz`: `{sha256}`

## How the split is made

No random-number generator is used. Within each digit, images are ordered by
SHA-256("{SPLIT_KEY}:<source index>") and the first floor(n · {TEST_FRACTION} + 0.5) go to
test; both splits are then stored in that same keyed order (not sorted by digit). The key
`{SPLIT_KEY}` is the fixed seed.

## Limitations

- Small: {total:,} images. One test image is worth {100 / n_test:.2f}
  percentage points of test accuracy.
- All images come from the same 13 writers, and the source does not record who wrote which
  image, so the split cannot keep writers apart: train and test almost surely share every
  writer. Test accuracy therefore measures new images from familiar hands, not new writers,
  and is likely higher than a writer-independent test would give.
- 8×8 at 17 grey levels is coarse: a far easier task than 28×28 MNIST.

## Rebuild

    pip install scikit-learn        # staff only; students never need it
    python -m datasets.build_tinydigits

The build is deterministic: it rewrites this datasheet and a byte-identical `tinydigits.npz`
(same sha256). `datasets/test_tinydigits.py` rebuilds into a temporary folder and compares.
"""


def build(out: Path) -> tuple[Path, Path, str]:
    """Write tinydigits.npz and DATASHEET.md into `out`; return their paths and the sha256."""
    arrays = build_arrays()
    payload = npz_bytes(arrays)
    sha256 = hashlib.sha256(payload).hexdigest()
    out.mkdir(parents=True, exist_ok=True)
    npz_path, sheet_path = out / NPZ_NAME, out / DATASHEET_NAME
    npz_path.write_bytes(payload)
    sheet_path.write_text(datasheet(arrays, sha256, len(payload)), encoding="utf-8")
    return npz_path, sheet_path, sha256


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write into")
    args = parser.parse_args(argv)
    npz_path, sheet_path, sha256 = build(args.out)
    print(f"wrote {npz_path} ({npz_path.stat().st_size:,} bytes)\nwrote {sheet_path}")
    print(f"sha256 {sha256}")
    from datasets.tinydigits import EXPECTED_SHA256

    if sha256 != EXPECTED_SHA256:
        print(
            f"NOTE: datasets/tinydigits.py expects sha256 {EXPECTED_SHA256}; if this build is "
            f"meant to replace the shipped file, set EXPECTED_SHA256 there to the value above.",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
