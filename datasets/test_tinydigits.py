"""TinyDigits: the shipped file, its datasheet, its loader and its build agree.

Only the rebuild test needs scikit-learn (it is skipped, saying so, where it is missing);
everything else runs on NumPy alone, like a student's machine.
"""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from datasets import build_tinydigits as build
from datasets.tinydigits import (
    EXPECTED_SHA256,
    TINYDIGITS_PATH,
    DatasetError,
    load_tinydigits,
    sha256_of,
)

DATASHEET = TINYDIGITS_PATH.parent / "DATASHEET.md"


def datasheet_counts() -> dict[str, list[int]]:
    """{'train': [total, n0, ..., n9], 'test': [...], 'total': [...]} from DATASHEET.md."""
    rows = {}
    for line in DATASHEET.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| (train|test|total) \| ([\d,]+) \|((?: \d+ \|){10})$", line)
        if match:
            numbers = [match.group(2), *match.group(3).replace("|", " ").split()]
            rows[match.group(1)] = [int(n.replace(",", "")) for n in numbers]
    assert set(rows) == {"train", "test", "total"}, f"count table not found in {DATASHEET}"
    return rows


def raw_archive() -> dict[str, np.ndarray]:
    with np.load(TINYDIGITS_PATH) as archive:
        return {key: archive[key] for key in archive.files}


def test_loader_returns_float32_pixels_in_unit_range_and_int_labels():
    x_train, y_train, x_test, y_test = load_tinydigits()
    assert x_train.shape == (len(y_train), 64) and x_test.shape == (len(y_test), 64)
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    for x in (x_train, x_test):
        assert x.min() == 0.0 and x.max() == 1.0, "pixels 0..16 must map onto 0.0..1.0"
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    images = load_tinydigits(flatten=False)[0]
    assert images.shape == (len(y_train), 8, 8)
    np.testing.assert_array_equal(images.reshape(len(images), 64), x_train)


def test_loader_returns_fresh_arrays():
    first = load_tinydigits()
    first[0][:] = -1.0
    assert load_tinydigits()[0].min() == 0.0, "a caller's edit must not leak into the next load"


def test_counts_match_the_datasheet():
    sheet = datasheet_counts()
    _, y_train, _, y_test = load_tinydigits()
    for name, labels in (("train", y_train), ("test", y_test)):
        measured = [len(labels), *np.bincount(labels, minlength=10).tolist()]
        assert measured == sheet[name], f"{name}: file has {measured}, datasheet {sheet[name]}"
    total = [a + b for a, b in zip(sheet["train"], sheet["test"], strict=True)]
    assert total == sheet["total"] and total[0] == 1797, "the source holds 1,797 images"


def test_splits_are_disjoint_and_cover_the_source_once():
    arrays = raw_archive()
    train, test = arrays["train_source_index"], arrays["test_source_index"]
    assert not set(train.tolist()) & set(test.tolist()), "an image is in both splits"
    assert sorted([*train.tolist(), *test.tolist()]) == list(range(1797))
    # No identical image on both sides either (the source has no duplicates at all).
    x_train, _, x_test, _ = load_tinydigits()
    train_rows = {row.tobytes() for row in x_train}
    assert not any(row.tobytes() in train_rows for row in x_test)


def test_split_is_stratified_80_20():
    _, y_train, _, y_test = load_tinydigits()
    per_class = np.bincount(y_train, minlength=10) + np.bincount(y_test, minlength=10)
    expected_test = np.floor(per_class * 0.2 + 0.5).astype(int)
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), expected_test)
    assert len(y_test) / (len(y_train) + len(y_test)) == pytest.approx(0.2, abs=0.005)


def test_split_is_shuffled_not_sorted_by_class():
    _, y_train, _, y_test = load_tinydigits()
    for labels in (y_train, y_test):
        assert np.count_nonzero(np.diff(labels)) > len(labels) // 2, "labels look sorted"


def test_checksum_of_file_loader_and_datasheet_agree():
    actual = sha256_of(TINYDIGITS_PATH)
    assert actual == EXPECTED_SHA256, "shipped file differs from the loader's EXPECTED_SHA256"
    assert f"`{actual}`" in DATASHEET.read_text(encoding="utf-8"), "datasheet sha256 is stale"


def test_missing_file_raises_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="not found.*build_tinydigits"):
        load_tinydigits(path=tmp_path / "nowhere.npz")


def test_corrupt_file_raises_a_clear_error(tmp_path):
    damaged = tmp_path / "tinydigits.npz"
    shutil.copyfile(TINYDIGITS_PATH, damaged)
    payload = bytearray(damaged.read_bytes())
    payload[len(payload) // 2] ^= 0xFF
    damaged.write_bytes(bytes(payload))
    with pytest.raises(DatasetError, match="corrupt.*expected " + EXPECTED_SHA256):
        load_tinydigits(path=damaged)
    truncated = tmp_path / "short.npz"
    truncated.write_bytes(TINYDIGITS_PATH.read_bytes()[:1000])
    with pytest.raises(DatasetError, match="1,000 bytes on disk"):
        load_tinydigits(path=truncated)


def test_keyed_split_is_stratified_disjoint_and_reproducible_on_toy_labels():
    labels = np.repeat(np.arange(3), [10, 7, 5])
    train, test = build.stratified_split(labels, test_fraction=0.2, key="toy")
    assert np.bincount(labels[test]).tolist() == [2, 1, 1]  # floor(n * 0.2 + 0.5)
    assert sorted([*train.tolist(), *test.tolist()]) == list(range(len(labels)))
    again = build.stratified_split(labels, test_fraction=0.2, key="toy")
    np.testing.assert_array_equal(train, again[0])
    other = build.stratified_split(labels, test_fraction=0.2, key="another key")
    assert not np.array_equal(train, other[0]), "the key must actually drive the order"


def test_rebuild_writes_identical_arrays_and_bytes(tmp_path):
    pytest.importorskip("sklearn", reason="rebuilding TinyDigits needs scikit-learn")
    npz_path, sheet_path, sha256 = build.build(tmp_path)
    with np.load(npz_path) as rebuilt:
        shipped = raw_archive()
        assert rebuilt.files == list(shipped), "same entries, same order"
        for key in rebuilt.files:
            assert rebuilt[key].dtype == shipped[key].dtype, key
            np.testing.assert_array_equal(rebuilt[key], shipped[key], err_msg=key)
    # Same arrays but different bytes would mean a different zlib: see build_tinydigits.py.
    assert sha256 == EXPECTED_SHA256, "same arrays, different compressed bytes (zlib version?)"
    assert npz_path.read_bytes() == TINYDIGITS_PATH.read_bytes()
    assert sheet_path.read_text(encoding="utf-8") == DATASHEET.read_text(encoding="utf-8"), (
        "DATASHEET.md was edited by hand or is stale: rerun python -m datasets.build_tinydigits"
    )
