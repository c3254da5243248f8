"""Find reference-solution text in a built template: in its files and in every git object.

The needles are the non-trivial lines of the solution regions of the modules a tier grades,
minus any line the course hands out on purpose anyway (code outside the regions, tests,
READMEs, reference copies of earlier modules...). That "handed out" text is read from the
course repository, never from the build output, so a broken stubber cannot hide its own leak.
A needle is found when it occurs anywhere in a file, not only as a whole line.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

from scripts.stubs import find_regions

# Lines too generic to prove anything: brackets, bare keywords, a lone name.
PUNCTUATION = re.compile(r"^[\s()\[\]{}.,:;]*$")
LONE_NAME = re.compile(r"^(return\s+|yield\s+)?[A-Za-z_]\w*:?$")
MIN_LENGTH = 6


def is_trivial(line: str) -> bool:
    stripped = line.strip()
    return (
        len(stripped) < MIN_LENGTH
        or bool(PUNCTUATION.match(stripped))
        or bool(LONE_NAME.match(stripped))
    )


def solution_lines(text: str, where: Path | str = "<text>") -> set[str]:
    """The stripped, non-trivial lines inside the solution regions of one source file."""
    return {
        line.strip()
        for region in find_regions(text, where)
        for line in region.body
        if not is_trivial(line)
    }


def outside_regions(text: str, where: Path | str = "<text>") -> str:
    """The lines of `text` outside its solution regions (markers dropped): what students get."""
    lines = text.splitlines()
    inside: set[int] = set()
    for region in find_regions(text, where):
        inside.update(range(region.begin, region.end + 1))
    return "\n".join(line for i, line in enumerate(lines) if i not in inside)


def needles(solution_sources: Iterable[tuple[str, str]], handed_out: Iterable[str]) -> set[str]:
    """Solution lines of `(where, text)` sources that the course does not hand out anyway."""
    given = "\n".join(handed_out)
    found: set[str] = set()
    for where, text in solution_sources:
        found |= solution_lines(text, where)
    return {line for line in found if line not in given}


def find_leaks(needle_set: set[str], texts: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(label, needle) for every needle found in a text. Cost: needles × total text length."""
    return [(label, n) for label, text in texts for n in sorted(needle_set) if n in text]


def tree_texts(root: Path) -> Iterator[tuple[str, str]]:
    """(relative path, text) of every file under `root` except git's own objects."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and ".git" not in path.relative_to(root).parts:
            yield str(path.relative_to(root)), path.read_bytes().decode("utf-8", "replace")


def git_object_texts(root: Path) -> Iterator[tuple[str, str]]:
    """(label, text) of every blob in the repository at `root`: all history, all branches,
    unreachable objects too."""
    listing = subprocess.run(
        ["git", "-C", str(root), "cat-file", "--batch-all-objects", "--batch-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    blobs = [line.split()[0] for line in listing if line.split()[1:2] == ["blob"]]
    batch = subprocess.run(
        ["git", "-C", str(root), "cat-file", "--batch"],
        input="\n".join(blobs).encode(),
        capture_output=True,
        check=True,
    ).stdout
    position = 0
    for sha in blobs:  # each answer: "<sha> blob <size>\n<content>\n"
        header_end = batch.index(b"\n", position)
        size = int(batch[position:header_end].split()[2])
        content = batch[header_end + 1 : header_end + 1 + size]
        position = header_end + 1 + size + 1
        yield f"git blob {sha}", content.decode("utf-8", "replace")
