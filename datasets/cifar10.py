"""CIFAR-10 (Krizhevsky 2009): 60,000 colour images of 32×32 pixels in 10 classes.

    >>> from datasets.cifar10 import load_cifar10
    >>> images, labels = load_cifar10("train")        # downloads 170 MB once, then reads the copy
    >>> images.shape, images.dtype, labels[:3]
    ((50000, 32, 32, 3), dtype('float32'), array([6, 9, 9]))

Where the archive lives: `root` argument > $TINYTORCH_DATA > ~/.cache/tinytorch. The file
is the canonical python archive from the authors' site, verified by sha256 before anything
is read; without network, the error says where to put a copy made elsewhere.

Archive format (https://www.cs.toronto.edu/~kriz/cifar.html): a tar.gz holding
`cifar-10-batches-py/data_batch_1` … `data_batch_5` (10,000 training images each),
`test_batch` (10,000) and `batches.meta`. Each batch is a pickled dict (written by
Python 2, so it is read with encoding="bytes") with b"data": uint8 array (N, 3072) — one
row per image: 1,024 red, then 1,024 green, then 1,024 blue values, each a 32×32 grid in
row-major order — and b"labels": N class numbers 0–9.

sha256 of cifar-10-python.tar.gz: 6d958be0…c001ce (170,498,071 bytes, md5 c58f3010…4349a,
the md5 torchvision checks). Sources: pytorch/vision
torchvision/prototype/datasets/_builtin/cifar.py (`_SHA256` of "cifar-10-python.tar.gz"), and
public reproduction scripts that check size, md5 and sha256 together. The often-quoted
c4a38c50…a1dd is the sha256 of the *binary* archive cifar-10-binary.tar.gz, a different file.
"""

from __future__ import annotations

import io
import os
import pickle
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from datasets.checksums import ChecksumError, verify_sha256

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
ARCHIVE_BYTES = 170_498_071
DATA_ENV = "TINYTORCH_DATA"
DEFAULT_DIR = Path("~/.cache/tinytorch")

FOLDER = "cifar-10-batches-py"
MEMBERS = {
    "train": tuple(f"{FOLDER}/data_batch_{i}" for i in range(1, 6)),
    "test": (f"{FOLDER}/test_batch",),
}
META_MEMBER = f"{FOLDER}/batches.meta"
CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
SIDE, COLOURS = 32, 3
LAYOUTS = ("NHWC", "NCHW")


class DatasetUnavailableError(RuntimeError):
    """The archive is not on disk and could not be downloaded."""


def data_dir(root: str | Path | None = None) -> Path:
    """The folder holding downloaded archives: `root`, else $TINYTORCH_DATA, else
    ~/.cache/tinytorch (not created here)."""
    chosen = root if root is not None else os.environ.get(DATA_ENV) or DEFAULT_DIR
    return Path(chosen).expanduser()


def download(url: str, destination: Path, timeout: float = 60.0) -> None:
    """Stream `url` into `destination` through a `.part` file renamed at the end, so an
    interrupted download never leaves a file that looks complete. Raises OSError (URLError
    is one) when the network is unavailable."""
    partial = destination.with_name(destination.name + ".part")
    destination.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(url, timeout=timeout) as response, partial.open("wb") as out:
        while block := response.read(1 << 20):
            out.write(block)
    partial.replace(destination)


def _place_by_hand(path: Path) -> str:
    return (
        f"To use CIFAR-10 without network access, download {URL} on a machine that has it "
        f"({ARCHIVE_BYTES:,} bytes, sha256 {SHA256}) and copy the file, unchanged and "
        f"unpacked, to {path} — or put it in any folder and set {DATA_ENV} to that folder."
    )


def fetch_archive(root: str | Path | None = None, *, sha256: str = SHA256) -> Path:
    """Path of the verified archive, downloading it first if it is not in the data folder.

    A file already there is never downloaded again (cache hit) but is always verified
    (about 0.4 s for 170 MB). A fresh download that fails verification is deleted; a file
    you placed yourself is kept and the error says what to do.
    Raises DatasetUnavailableError (offline) or ChecksumError (wrong file).
    """
    path = data_dir(root) / ARCHIVE_NAME
    downloaded = False
    if not path.is_file():
        try:
            download(URL, path)
        except OSError as error:
            raise DatasetUnavailableError(
                f"CIFAR-10 is not in {path.parent} and downloading it from {URL} failed "
                f"({error}). {_place_by_hand(path)}"
            ) from error
        downloaded = True
    try:
        fix = f"Delete {path} and run again to download it anew. {_place_by_hand(path)}"
        verify_sha256(path, sha256, fix=fix)
    except ChecksumError:
        if downloaded:
            path.unlink()
        raise
    return path


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain containers and NumPy arrays only. A pickle can name any function to
    call while loading; CIFAR batches need just these, so a tampered file cannot run code."""

    ALLOWED = {
        ("_codecs", "encode"),  # how Python 3 writes bytes in pickle protocol 2
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name} from a CIFAR-10 batch: the batches hold "
                f"only dicts, lists, bytes and NumPy arrays"
            )
        return super().find_class(module, name)


def _read_members(archive: Path, names: tuple[str, ...]) -> dict[str, dict]:
    """Unpickle the named members in one pass over the gzip stream (the canonical archive
    stores them out of order; seeking backwards in a .tar.gz re-reads it from the start)."""
    found = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if member.name in names:
                with tar.extractfile(member) as handle:
                    found[member.name] = _ArrayUnpickler(
                        io.BytesIO(handle.read()), encoding="bytes"
                    ).load()
    missing = [name for name in names if name not in found]
    if missing:
        raise ValueError(
            f"{archive} passed its checksum but lacks {', '.join(missing)}: it is not the "
            f"CIFAR-10 python archive (members must sit under {FOLDER}/)"
        )
    return found


def load_cifar10(
    split: str = "train",
    *,
    layout: str = "NHWC",
    root: str | Path | None = None,
    sha256: str = SHA256,
) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of one split: ('train': 50,000, 'test': 10,000 in the full set).

    Returns images float32 in [0, 1] with shape (N, 32, 32, 3) for layout "NHWC" or
    (N, 3, 32, 32) for "NCHW", and labels int64 (N,) in 0–9 (names: CLASSES).
    Train batches are concatenated in the order data_batch_1 … data_batch_5.
    Memory: N × 3072 × 4 bytes of float32 — 614 MB for train, 123 MB for test — plus the
    uint8 batches while converting (a quarter of that).
    """
    if split not in MEMBERS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if layout not in LAYOUTS:
        raise ValueError(
            f"layout must be 'NHWC' (N, 32, 32, 3) or 'NCHW' (N, 3, 32, 32), got {layout!r}"
        )
    archive = fetch_archive(root, sha256=sha256)
    batches = _read_members(archive, MEMBERS[split])
    pixels, labels = [], []
    for name in MEMBERS[split]:
        data = np.asarray(batches[name][b"data"])
        batch_labels = np.asarray(batches[name][b"labels"], dtype=np.int64)
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != SIDE * SIDE * COLOURS:
            raise ValueError(
                f"{name}: b'data' must be uint8 of shape (N, 3072), got {data.dtype} {data.shape}"
            )
        if batch_labels.shape != (data.shape[0],):
            raise ValueError(f"{name}: {data.shape[0]} images but {batch_labels.size} labels")
        pixels.append(data)
        labels.append(batch_labels)
    grid = np.concatenate(pixels).reshape(-1, COLOURS, SIDE, SIDE)  # a view: NCHW
    if layout == "NHWC":
        grid = grid.transpose(0, 2, 3, 1)
    images = grid.astype(np.float32, order="C")  # one contiguous float32 copy
    images /= np.float32(255)
    return images, np.concatenate(labels)


def load_class_names(root: str | Path | None = None, *, sha256: str = SHA256) -> list[str]:
    """The class names stored in batches.meta, in label order (equal to CLASSES)."""
    archive = fetch_archive(root, sha256=sha256)
    meta = _read_members(archive, (META_MEMBER,))[META_MEMBER]
    return [name.decode("ascii") for name in meta[b"label_names"]]


if __name__ == "__main__":
    train_images, train_labels = load_cifar10("train")
    print(f"train: {train_images.shape} float32, {train_images.nbytes:,} bytes")
    print("first labels:", [CLASSES[i] for i in train_labels[:5]])
