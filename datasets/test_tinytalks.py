"""TinyTalks: the shipped file is what the generator writes, the datasheet tells the truth,
the test split is really held out, and every answer can be derived from its question."""

from __future__ import annotations

import calendar
import hashlib
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from datasets import build_tinytalks
from datasets.checksums import ChecksumError
from datasets.tinytalks import DATA_FILE, SHA256, SPLITS, load_tinytalks

ROOT = Path(__file__).resolve().parent.parent
DATASHEET = DATA_FILE.parent / "DATASHEET.md"


@pytest.fixture(scope="module")
def pairs():
    return load_tinytalks()


def _datasheet_rows(pattern: str) -> list[tuple[str, ...]]:
    return re.findall(pattern, DATASHEET.read_text(encoding="utf-8"), flags=re.MULTILINE)


def test_checksum_of_file_matches_loader_and_datasheet():
    digest = hashlib.sha256(DATA_FILE.read_bytes()).hexdigest()
    assert digest == SHA256, "rebuilt the file? copy the printed sha256 into datasets/tinytalks.py"
    assert f"sha256 `{SHA256}`" in DATASHEET.read_text(encoding="utf-8")


def test_counts_match_the_datasheet(pairs):
    totals = dict(_datasheet_rows(r"^\| (train|validation|test|total) \| (\d+) \|$"))
    per_split = Counter(pair.split for pair in pairs)
    assert {split: int(totals[split]) for split in SPLITS} == dict(per_split)
    assert int(totals["total"]) == len(pairs)
    assert 3000 <= len(pairs) <= 3500, "the datasheet and the brief promise about 3,000 pairs"
    rows = _datasheet_rows(r"^\| (\w+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$")
    assert len(rows) == 15, "one row per category"
    for name, templates, entities, heldout, *split_counts in rows:
        mine = [pair for pair in pairs if pair.category == name]
        assert len({pair.template for pair in mine}) == int(templates), name
        assert len({pair.entity for pair in mine}) == int(entities), name
        test_only = {p.entity for p in mine} - {p.entity for p in mine if p.split != "test"}
        assert len(test_only) == int(heldout), name
        counts = Counter(pair.split for pair in mine)
        assert [counts[split] for split in SPLITS] == [int(n) for n in split_counts], name


def test_datasheet_vocabulary_figures_are_true(pairs):
    words = {split: set() for split in SPLITS}
    characters = set()
    for pair in pairs:
        text = f"{pair.question} {pair.answer}"
        words[pair.split].update(re.findall(r"\w+|[^\w\s]", text.lower()))
        characters.update(text)
    sheet = DATASHEET.read_text(encoding="utf-8")
    everything = set().union(*words.values())
    unseen = words["test"] - words["train"]
    assert f"{len(everything)} distinct words in all splits" in sheet
    assert f"{len(words['train'])} in train; {len(unseen)} words of the test split" in sheet
    assert f"{len(characters)} distinct characters" in sheet
    assert all(ord(character) < 128 for character in characters), "the datasheet says ASCII only"


def test_rebuild_in_a_fresh_process_is_byte_identical(tmp_path):
    """Another process with another hash seed writes exactly the committed bytes."""
    environment = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run(
        [sys.executable, "-m", "datasets.build_tinytalks", "--out", str(tmp_path)],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
    )
    assert (tmp_path / "tinytalks.jsonl").read_bytes() == DATA_FILE.read_bytes(), (
        "the generator no longer writes the shipped file: rebuild with "
        "`python -m datasets.build_tinytalks` and update SHA256"
    )
    assert (tmp_path / "DATASHEET.md").read_bytes() == DATASHEET.read_bytes(), (
        "the datasheet's generated figures are stale: rebuild"
    )


def test_check_mode_reports_stale_files(tmp_path):
    status = build_tinytalks.main(["--check", "--out", str(tmp_path)])
    assert status == 1, "--check must fail when the files are missing"
    assert build_tinytalks.main(["--check"]) == 0


def test_test_split_is_new_in_template_or_entity(pairs):
    """From the data alone: every test pair uses a template or an entity that no train or
    validation pair of its category uses, and every category holds out both kinds."""
    seen_templates, seen_entities = defaultdict(set), defaultdict(set)
    for pair in pairs:
        if pair.split != "test":
            seen_templates[pair.category].add(pair.template)
            seen_entities[pair.category].add(pair.entity)
    new_templates, new_entities = defaultdict(set), defaultdict(set)
    for pair in (pair for pair in pairs if pair.split == "test"):
        new_template = pair.template not in seen_templates[pair.category]
        new_entity = pair.entity not in seen_entities[pair.category]
        assert new_template or new_entity, f"test pair {pair.id} is neither new nor held out"
        if new_template:
            new_templates[pair.category].add(pair.template)
        if new_entity:
            new_entities[pair.category].add(pair.entity)
    categories = {pair.category for pair in pairs}
    assert all(new_templates[c] and new_entities[c] for c in categories)
    train_questions = {pair.question for pair in pairs if pair.split == "train"}
    assert not train_questions & {pair.question for pair in pairs if pair.split == "test"}


def test_answers_are_derivable(pairs):
    """Recompute every checkable answer from the question with code independent of the
    generator; facts from tables (capitals, colours ...) must at least be consistent."""
    operations = {"addition": ("+", "plus"), "subtraction": ("-", "minus")}
    operations["multiplication"] = ("x", "times")
    weekdays, months = list(calendar.day_name), list(calendar.month_name)[1:]
    answers_by_entity = defaultdict(set)
    for pair in pairs:
        answers_by_entity[pair.category, pair.entity].add(pair.answer)
        if pair.category in operations:
            symbol, word = operations[pair.category]
            a, b = (int(n) for n in pair.entity.split(symbol))
            value = {"+": a + b, "-": a - b, "x": a * b}[symbol]
            assert sorted(re.findall(r"\d+", pair.question)) == sorted([str(a), str(b)]), pair
            assert pair.answer == f"{a} {word} {b} is {value}.", pair
        elif pair.category == "comparison":
            a, b = (int(n) for n in re.findall(r"\d+", pair.question))
            assert pair.answer == f"{max(a, b)} is bigger than {min(a, b)}.", pair
        elif pair.category == "counting":
            (n,) = (int(n) for n in re.findall(r"\d+", pair.question))
            assert pair.answer == f"After {n} comes {n + 1}.", pair
        elif pair.category in ("spelling", "letter_count"):
            word = pair.entity
            assert re.search(rf"\b{word}\b", pair.question), pair
            derived = "-".join(word) if pair.category == "spelling" else f"has {len(word)} letters"
            assert derived in pair.answer, pair
        elif pair.category == "sequence":
            kind, relation, item = pair.entity.split(" ")
            names = weekdays if kind == "day" else months
            step = 1 if relation == "after" else -1
            expected = names[(names.index(item) + step) % len(names)]
            assert pair.answer.endswith(f" is {expected}."), pair
        elif pair.category in ("greeting", "farewell"):
            assert pair.entity in pair.question and pair.entity in pair.answer, pair
    inconsistent = {key: found for key, found in answers_by_entity.items() if len(found) != 1}
    assert not inconsistent, f"an entity must get one answer whatever the wording: {inconsistent}"


def test_loader_filters_splits_and_rejects_a_modified_file(tmp_path, pairs):
    assert [p.id for p in pairs] == list(range(len(pairs))), "ids are line numbers"
    assert sum(len(load_tinytalks(split)) for split in SPLITS) == len(pairs)
    with pytest.raises(ValueError, match="split must be one of"):
        load_tinytalks("dev")
    tampered = tmp_path / "tinytalks.jsonl"
    tampered.write_bytes(DATA_FILE.read_bytes().replace(b"is 12.", b"is 13.", 1))
    with pytest.raises(ChecksumError) as caught:
        load_tinytalks(path=tampered)
    message = str(caught.value)
    assert SHA256 in message and "build_tinytalks" in message and str(tampered) in message
