"""CIFAR-10 loader, tested on a small archive in the real format: pickled dicts (protocol 2,
bytes keys, numpy uint8 rows of 3072, the module path numpy 1.x writes) in a tar.gz under the
canonical member names. Nothing here touches the network: `download` is replaced in every
test that could reach it."""

from __future__ import annotations

import io
import pickle
import shutil
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from datasets import cifar10
from datasets.checksums import ChecksumError, sha256_of

TRAIN_PER_BATCH, TEST_IMAGES = 3, 4


def _pickle_like_the_original(obj) -> bytes:
    """Protocol 2, as the archive's Python 2 writer used, naming numpy.core like numpy 1.x."""
    data = pickle.dumps(obj, protocol=2)
    return data.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def _batch(first_label: int, count: int, rng) -> dict:
    return {
        b"batch_label": b"fixture batch",
        b"labels": [(first_label + i) % 10 for i in range(count)],
        b"data": rng.integers(0, 256, size=(count, 3072), dtype=np.uint8),
        b"filenames": [f"image_{first_label + i}.png".encode() for i in range(count)],
    }


def build_fixture(folder: Path, extra: dict[str, bytes] | None = None) -> tuple[Path, dict]:
    """Write cifar-10-python.tar.gz into `folder`; return its path and the batches."""
    rng = np.random.default_rng(0)
    batches = {f"data_batch_{i}": _batch(i, TRAIN_PER_BATCH, rng) for i in (1, 2, 3, 4, 5)}
    batches["test_batch"] = _batch(7, TEST_IMAGES, rng)
    meta = {b"label_names": [name.encode() for name in cifar10.CLASSES], b"num_vis": 3072}
    members = {name: _pickle_like_the_original(batch) for name, batch in batches.items()}
    members["batches.meta"] = _pickle_like_the_original(meta)
    members.update(extra or {})
    # Out of order on purpose, like the real archive (data_batch_4 comes first there).
    order = ["data_batch_4", "batches.meta", "test_batch", "data_batch_2", "data_batch_5"]
    order += [name for name in members if name not in order]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / cifar10.ARCHIVE_NAME
    with tarfile.open(path, "w:gz") as tar:
        for name in order:
            info = tarfile.TarInfo(f"{cifar10.FOLDER}/{name}")
            info.size = len(members[name])
            tar.addfile(info, io.BytesIO(members[name]))
    return path, batches


@pytest.fixture
def fixture_archive(tmp_path):
    path, batches = build_fixture(tmp_path / "data")
    return path, batches, sha256_of(path)


@pytest.fixture
def no_network(monkeypatch):
    def refuse(url, destination, timeout=60.0):
        raise AssertionError(f"the loader tried to download {url} although a copy was there")

    monkeypatch.setattr(cifar10, "download", refuse)


def test_reads_the_real_format_into_float32_nchw_and_nhwc(fixture_archive, no_network):
    path, batches, digest = fixture_archive
    images, labels = cifar10.load_cifar10("train", layout="NCHW", root=path.parent, sha256=digest)
    assert images.shape == (5 * TRAIN_PER_BATCH, 3, 32, 32) and images.dtype == np.float32
    assert labels.dtype == np.int64
    rows = np.concatenate([batches[f"data_batch_{i}"][b"data"] for i in (1, 2, 3, 4, 5)])
    expected_labels = sum((batches[f"data_batch_{i}"][b"labels"] for i in (1, 2, 3, 4, 5)), [])
    np.testing.assert_array_equal(labels, expected_labels, err_msg="batches 1..5 in order")
    # Row layout: 1024 red, 1024 green, 1024 blue; each a 32×32 grid, row-major.
    image, colour, y, x = 4, 1, 5, 7
    assert images[image, colour, y, x] == np.float32(rows[image, colour * 1024 + y * 32 + x] / 255)
    np.testing.assert_allclose(images.reshape(len(rows), -1), rows / 255, rtol=1e-6)
    nhwc, _ = cifar10.load_cifar10("train", layout="NHWC", root=path.parent, sha256=digest)
    assert nhwc.shape == (15, 32, 32, 3) and nhwc.flags.c_contiguous
    np.testing.assert_array_equal(nhwc, images.transpose(0, 2, 3, 1))
    assert 0.0 <= images.min() and images.max() <= 1.0


def test_test_split_and_class_names(fixture_archive, no_network):
    path, batches, digest = fixture_archive
    images, labels = cifar10.load_cifar10("test", root=path.parent, sha256=digest)
    assert images.shape == (TEST_IMAGES, 32, 32, 3)
    np.testing.assert_array_equal(labels, batches["test_batch"][b"labels"])
    names = cifar10.load_class_names(path.parent, sha256=digest)
    assert names == list(cifar10.CLASSES)


def test_checksum_mismatch_is_a_clear_error_and_keeps_your_file(fixture_archive, no_network):
    path, _, _ = fixture_archive
    with pytest.raises(ChecksumError) as caught:
        cifar10.load_cifar10(root=path.parent)  # the canonical sha256, not the fixture's
    message = str(caught.value)
    assert str(path) in message and cifar10.SHA256 in message and sha256_of(path) in message
    assert "Delete" in message, "the message must say how to recover"
    assert path.is_file(), "a file the user placed is never deleted"


def test_offline_message_says_how_to_place_the_file(tmp_path, monkeypatch):
    def offline(url, destination, timeout=60.0):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(cifar10, "download", offline)
    with pytest.raises(cifar10.DatasetUnavailableError) as caught:
        cifar10.load_cifar10(root=tmp_path)
    message = str(caught.value)
    expected_path = tmp_path / cifar10.ARCHIVE_NAME
    for needed in (cifar10.URL, str(expected_path), cifar10.SHA256, cifar10.DATA_ENV, "copy"):
        assert needed in message, f"the offline message should mention {needed!r}: {message}"


def test_download_happens_once_then_the_copy_is_used(tmp_path, monkeypatch):
    source, _ = build_fixture(tmp_path / "elsewhere")
    digest, calls = sha256_of(source), []

    def fake_download(url, destination, timeout=60.0):
        calls.append(url)
        shutil.copyfile(source, destination)

    monkeypatch.setattr(cifar10, "download", fake_download)
    root = tmp_path / "cache"
    root.mkdir()
    first, _ = cifar10.load_cifar10("test", root=root, sha256=digest)
    second, _ = cifar10.load_cifar10("test", root=root, sha256=digest)
    assert calls == [cifar10.URL], "download on first use only; the second load is a cache hit"
    np.testing.assert_array_equal(first, second)


def test_a_bad_download_is_deleted(tmp_path, monkeypatch):
    def corrupt_download(url, destination, timeout=60.0):
        destination.write_bytes(b"<html>rate limited</html>")

    monkeypatch.setattr(cifar10, "download", corrupt_download)
    with pytest.raises(ChecksumError):
        cifar10.load_cifar10(root=tmp_path)
    assert not (tmp_path / cifar10.ARCHIVE_NAME).exists(), "the next run must retry"


def test_data_dir_argument_beats_environment_beats_default(tmp_path, monkeypatch):
    monkeypatch.delenv(cifar10.DATA_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cifar10.data_dir() == tmp_path / "home" / ".cache" / "tinytorch"
    monkeypatch.setenv(cifar10.DATA_ENV, str(tmp_path / "env"))
    assert cifar10.data_dir() == tmp_path / "env"
    assert cifar10.data_dir(tmp_path / "arg") == tmp_path / "arg"


def test_environment_variable_is_where_the_loader_looks(fixture_archive, monkeypatch, no_network):
    path, _, digest = fixture_archive
    monkeypatch.setenv(cifar10.DATA_ENV, str(path.parent))
    images, _ = cifar10.load_cifar10("test", sha256=digest)
    assert images.shape[0] == TEST_IMAGES


def test_bad_arguments_and_foreign_pickles_are_refused(tmp_path, no_network):
    class Evil:
        def __reduce__(self):
            return (print, ("this would run while unpickling",))

    path, _ = build_fixture(tmp_path, extra={"test_batch": pickle.dumps(Evil(), protocol=2)})
    digest = sha256_of(path)
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load \S*print"):
        cifar10.load_cifar10("test", root=tmp_path, sha256=digest)
    with pytest.raises(ValueError, match="layout"):
        cifar10.load_cifar10("train", layout="HWC", root=tmp_path, sha256=digest)
    with pytest.raises(ValueError, match="split"):
        cifar10.load_cifar10("validation", root=tmp_path, sha256=digest)


def test_download_streams_into_place_without_network(tmp_path):
    """The real downloader, fed a file:// URL: bytes arrive intact, no .part file remains."""
    source, _ = build_fixture(tmp_path / "mirror")
    destination = tmp_path / "new" / "folder" / cifar10.ARCHIVE_NAME
    cifar10.download(source.as_uri(), destination)
    assert destination.read_bytes() == source.read_bytes()
    assert list(destination.parent.iterdir()) == [destination]
