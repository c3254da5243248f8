"""`tiny leaderboard`: ranking and rendering (pure), and the command on artifact folders
made here in tmp dirs: per-student folders, zips, zips in zips, and every kind of
invalid submission — each listed with its reason, never dropped."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

from grading import cli
from grading.leaderboard import (
    DEFAULT_SORT,
    Entry,
    parse_sort,
    rank,
    render_csv,
    render_html,
    render_markdown,
    student_name,
    svg_bar_chart,
)
from grading.submission import dump_submission, example_submission


def entry(student: str, **figures) -> Entry:
    document = example_submission(submitter=student, **figures)
    return Entry(f"{student}/submission.json", student, submission=document)


ENTRIES = [
    entry("ada", accuracy=0.95, latency_p50_ms=0.5),
    entry("bob", accuracy=0.97, latency_p50_ms=0.8),
    entry("cy", accuracy=0.95, latency_p50_ms=0.4),
    entry("dee", accuracy=0.95, latency_p50_ms=0.4),
    Entry("eve/submission.json", "eve", error="field baseline.accuracy: is NaN or infinite"),
]


def test_default_ranking_is_accuracy_then_latency_with_shared_ranks():
    ranked = rank(ENTRIES, parse_sort(DEFAULT_SORT))
    assert [(position, e.student) for position, e in ranked] == [
        (1, "bob"),
        (2, "cy"),
        (2, "dee"),
        (4, "ada"),
    ]


def test_custom_sort_and_default_directions():
    keys = parse_sort("improvement.speedup_p50")
    assert str(keys[0]) == "improvement.speedup_p50:desc"
    assert str(parse_sort("optimized.model_bytes")[0]).endswith(":asc")
    ranked = rank(ENTRIES, keys)
    assert [e.student for _, e in ranked][:2] == ["cy", "dee"]  # 2.0 / 0.4 = 5x
    with pytest.raises(ValueError, match="choose from"):
        parse_sort("optimized.vibes:desc")
    with pytest.raises(ValueError, match="asc or desc"):
        parse_sort("optimized.accuracy:up")


def test_student_names_come_from_folders_zips_or_the_submitter():
    assert student_name("alice/out/submission.json", None) == "alice"
    assert student_name("bob.zip!capstone/submission.json", None) == "bob"
    assert student_name("submission.json", {"submitter": "carol"}) == "carol"


def test_markdown_and_csv_list_valid_and_invalid_entries():
    keys = parse_sort(DEFAULT_SORT)
    markdown = render_markdown(ENTRIES, keys)
    assert "4 valid, 1 invalid" in markdown and "## Invalid submissions" in markdown
    assert "| eve | eve/submission.json | field baseline.accuracy: is NaN" in markdown
    assert markdown.index("| 1 | bob") < markdown.index("| 4 | ada")
    rows = list(csv.DictReader(io.StringIO(render_csv(ENTRIES, keys))))
    assert [r["student"] for r in rows] == ["bob", "cy", "dee", "ada", "eve"]
    assert rows[-1]["status"] == "invalid" and "NaN" in rows[-1]["reason"]
    assert rows[0]["accuracy"] == "0.97" and rows[0]["rank"] == "1"


def test_html_is_self_contained_and_escaped():
    hostile = entry("<script>alert(1)</script>", accuracy=0.9)
    page = render_html([*ENTRIES, hostile], parse_sort(DEFAULT_SORT), title="Spring & co")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "</svg>" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "Spring &amp; co" in page
    for external in ("http://", "https://", "src=", "href=", "@import", "url("):
        assert external not in page, f"the page must not load anything: found {external!r}"
    assert page.count("<rect") == 5, "one bar per valid submission"
    assert "Invalid submissions" in page and "eve" in page


def test_chart_scales_bars_to_the_largest_value():
    ranked = rank(ENTRIES[:2], parse_sort("optimized.latency_p50_ms"))
    svg = svg_bar_chart(ranked, parse_sort("optimized.latency_p50_ms")[0], width=640)
    assert 'width="380.0"' in svg, "the largest value spans the chart (640 - 170 - 90)"
    assert 'width="237.5"' in svg, "0.5 / 0.8 of it for the other"


# ---- the command, on artifact folders made here ---------------------------------------------


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def artifacts(tmp_path):
    folder = tmp_path / "artifacts"
    (folder / "alice" / "out" / "capstone").mkdir(parents=True)
    (folder / "alice/out/capstone/submission.json").write_text(
        dump_submission(example_submission("alice", accuracy=0.93)), encoding="utf-8"
    )
    valid_bob = dump_submission(example_submission("bob", accuracy=0.97)).encode()
    (folder / "bob.zip").write_bytes(zip_bytes({"capstone/submission.json": valid_bob}))
    nan_text = dump_submission(example_submission("carol")).replace(
        '"latency_p50_ms": 0.5', '"latency_p50_ms": NaN', 1
    )
    (folder / "carol").mkdir()
    (folder / "carol/submission.json").write_text(nan_text, encoding="utf-8")
    inner = zip_bytes(
        {"submission.json": dump_submission(example_submission("dan", accuracy=0.95)).encode()}
    )
    (folder / "dan.zip").write_bytes(zip_bytes({"submission-artifact.zip": inner}))
    (folder / "erin.zip").write_bytes(zip_bytes({"notes.txt": b"forgot the file"}))
    (folder / "frank").mkdir()
    (folder / "frank/submission.json").write_text("{ not json", encoding="utf-8")
    missing = example_submission("gus")
    del missing["optimized"]["model_bytes"]
    (folder / "gus").mkdir()
    (folder / "gus/submission.json").write_text(json.dumps(missing), encoding="utf-8")
    (folder / "hal.zip").write_bytes(b"this is not a zip")
    return folder


def test_command_ranks_valid_and_lists_every_invalid_submission(artifacts, tmp_path, capsys):
    out = tmp_path / "board"
    assert cli.main(["leaderboard", str(artifacts), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "3 valid, 5 invalid" in printed.out
    markdown = (out / "leaderboard.md").read_text(encoding="utf-8")
    order = [markdown.index(f"| {n} | {s} |") for n, s in ((1, "bob"), (2, "dan"), (3, "alice"))]
    assert order == sorted(order), markdown
    reasons = {
        "carol": "optimized.latency_p50_ms: is NaN or infinite",
        "erin": "no submission.json in this zip",
        "frank": "not valid JSON",
        "gus": "optimized.model_bytes: is a required property and is missing",
        "hal": "not a readable zip file",
    }
    for student, reason in reasons.items():
        line = next(line for line in markdown.splitlines() if line.startswith(f"| {student} |"))
        assert reason in line, f"{student}: {line}"
        assert student in printed.err
    rows = list(csv.DictReader(io.StringIO((out / "leaderboard.csv").read_text())))
    assert len(rows) == 8 and sum(r["status"] == "invalid" for r in rows) == 5
    page = (out / "leaderboard.html").read_text(encoding="utf-8")
    assert "<svg" in page and page.count("<rect") == 3


def test_command_refuses_bad_options_and_empty_folders(tmp_path, capsys):
    assert cli.main(["leaderboard", str(tmp_path / "nowhere")]) == 2
    assert cli.main(["leaderboard", str(tmp_path), "--sort", "optimized.nope"]) == 2
    (tmp_path / "empty").mkdir()
    assert cli.main(["leaderboard", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) == 1
    assert "no submission.json" in capsys.readouterr().err


def test_custom_sort_option_changes_the_order(artifacts, tmp_path):
    out = tmp_path / "board"
    argv = ["leaderboard", str(artifacts), "--out", str(out), "--sort", "optimized.accuracy:asc"]
    assert cli.main(argv) == 0
    markdown = (out / "leaderboard.md").read_text(encoding="utf-8")
    assert markdown.index("| 1 | alice |") < markdown.index("| 3 | bob |")
    assert "Ranked by optimized.accuracy:asc" in markdown
