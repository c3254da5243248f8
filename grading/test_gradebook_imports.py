"""`tiny gradebook` on Classroom 50's `scores.csv`, lateness judged twice, refused points and
how canvas.csv will be matched by Canvas (values checked, not only that code runs).

The scores.csv below has the exact header `gh teacher download` writes (foundation50/
classroom50 cli/gh-teacher/internal/download/download.go, scoresCSVHeader): one line per
submission newest first, a blank line for a student who never submitted, `late` as
"true"/"false"/"", a formula-guarded cell starting with '.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from grading import cli
from grading.grade_imports import GradeImportError, detect_format, read_grade_source
from grading.gradebook import GradebookInputError, assign_tiers, build_gradebook
from grading.gradebook_inputs import parse_classroom_grades
from grading.gradebook_render import canvas_matching, render_canvas, render_report
from grading.test_gradebook import ARCHITECTURE, FOUNDATION, HEADER, TIERS, grade_row, write_inputs

SCORES_HEADER = (
    "username,first_name,last_name,email,section,score,max_score,datetime,submission_tag,"
    "submitted_by,review_url,late,override\n"
)
SCORES_CSV = SCORES_HEADER + (
    # Ada: two submissions, newest first; the newer one is the grade, on time.
    "ada-l,Ada,Lovelace,ada@example.edu,A,58,60,2027-04-11T20:00:00Z,submit/2,ada-l,"
    "https://github.com/o/r/compare/a...b,false,\n"
    "ada-l,Ada,Lovelace,ada@example.edu,A,30,60,2027-04-01T20:00:00Z,submit/1,ada-l,,false,\n"
    # Bob: Classroom 50 says on time, but the commit time is after our deadline (its `due`
    # was set later than course.yaml's).
    "bobcat,Bob,Bobson,bob@example.edu,B,48,60,2027-04-12T05:00:00Z,submit/9,bobcat,,false,\n"
    # Cy never submitted: one blank line.
    "cy-codes,,,,,,,,,,,,\n"
    # Dee: a formula-guarded review cell, flagged late by Classroom 50 and by us.
    "dee,,,,,40,60,2027-04-13T00:00:00Z,submit/3,dee,'=HYPERLINK(x),true,\n"
)


def write_scores(folder: Path, text: str = SCORES_CSV) -> Path:
    download = folder / "cs249-tinytorch-architecture_submissions_2027_04_14_T_09_00_00"
    download.mkdir(parents=True, exist_ok=True)
    (download / "scores.csv").write_text(text, encoding="utf-8")
    return download / "scores.csv"


def test_scores_csv_gives_each_students_newest_submission(tmp_path):
    path = write_scores(tmp_path)
    assert detect_format(path) == "classroom50-csv"
    records = {r.student: r for r in read_grade_source(path)}
    assert sorted(records) == ["ada-l", "bobcat", "cy-codes", "dee"]
    ada = records["ada-l"]
    assert (ada.points, ada.max_points, ada.submitted_at) == (58, 60, "2027-04-11T20:00:00Z")
    assert ada.source.endswith("scores.csv:line 2") and ada.name == "Ada Lovelace"
    assert ada.assignment == "cs249-tinytorch-architecture", "named after the download folder"
    assert (records["cy-codes"].points, records["cy-codes"].submitted_at) == (None, None)
    assert (records["bobcat"].late, records["dee"].late) == (False, True)
    assert records["dee"].platform == "classroom50"


@pytest.mark.parametrize(
    ("line", "place", "message"),
    [
        ("ada-l,,,,,61,60,2027-04-11T20:00:00Z,s,,,false,", "line 2, column 'score'", "above"),
        ("ada-l,,,,,-3,60,2027-04-11T20:00:00Z,s,,,false,", "line 2, column 'score'", "negative"),
        ("ada-l,,,,,7.5,60,2027-04-11T20:00:00Z,s,,,false,", "line 2, column 'score'", "fraction"),
        (
            "ada-l,,,,,7,,2027-04-11T20:00:00Z,s,,,false,",
            "line 2, column 'max_score'",
            "whole number",
        ),
        ("ada-l,,,,,7,60,yesterday,s,,,false,", "line 2, column 'datetime'", "RFC 3339"),
        ("ada-l,,,,,7,60,2027-04-11T20:00:00Z,s,,,maybe,", "line 2, column 'late'", "true, false"),
        (",,,,,7,60,2027-04-11T20:00:00Z,s,,,false,", "line 2, column 'username'", "whose line"),
    ],
)
def test_a_bad_scores_csv_line_is_refused_with_file_line_and_column(tmp_path, line, place, message):
    path = write_scores(tmp_path, SCORES_HEADER + line + "\n")
    with pytest.raises(GradeImportError) as caught:
        read_grade_source(path)
    assert f"{path}: {place}" in str(caught.value)
    assert message in str(caught.value)


def test_an_older_submission_above_its_maximum_is_refused_too(tmp_path):
    text = SCORES_CSV.replace("30,60,2027-04-01", "70,60,2027-04-01")
    with pytest.raises(GradeImportError, match=r"scores.csv: line 3, column 'score'.*above"):
        read_grade_source(write_scores(tmp_path, text))


def test_the_command_imports_scores_csv_and_reports_both_lateness_judgements(tmp_path, capsys):
    argv = write_inputs(tmp_path)
    classroom_architecture = str(tmp_path / "tinytorch-architecture-grades.csv")
    argv = [a for a in argv if a != classroom_architecture]
    argv[2:2] = [str(write_scores(tmp_path))]
    assert cli.main(argv) == 0, capsys.readouterr().err
    rows = {r["identifier"]: r for r in csv.DictReader(open(tmp_path / "out" / "gradebook.csv"))}
    assert rows["ada@example.edu"]["architecture"] == "58"
    assert (
        rows["bob@example.edu"]["architecture"],
        rows["bob@example.edu"]["architecture_late"],
    ) == ("48", "late")
    report = (tmp_path / "out" / "report.txt").read_text()
    assert "Lateness, the platform's flag beside the course deadline: 2 agree, 1 differ" in report
    assert "bob@example.edu, tier architecture: Classroom 50 says on time, the course deadline " \
        "says late (submitted 2027-04-12T05:00:00Z" in report  # fmt: skip


@pytest.mark.parametrize(
    ("points", "of", "message"),
    [("500", "470", "points_awarded 500 is above points_available 470"),
     ("59.5", "110", "points_awarded '59.5' is a fraction"),
     ("-1", "110", "points_awarded '-1' is not a number of points >= 0")],
)  # fmt: skip
def test_classroom_exports_refuse_impossible_points_with_file_and_line(points, of, message):
    row = grade_row("TinyTorch Foundation", "ada-l", "a@x", "2027-03-01T00:00:00Z", points, of)
    with pytest.raises(GradebookInputError) as caught:
        parse_classroom_grades(HEADER + row, "foundation.csv")
    assert str(caught.value).startswith("foundation.csv:2: ") and message in str(caught.value)


def test_500_of_470_never_reaches_canvas_csv(tmp_path, capsys):
    argv = write_inputs(tmp_path)
    export = Path(argv[1])
    export.write_text(export.read_text().replace(",110,110\n", ",500,470\n", 1))
    assert cli.main(argv) == 2
    assert f"{export}:2: points_awarded 500 is above" in capsys.readouterr().err
    assert not (tmp_path / "out" / "canvas.csv").exists()


def book():
    submissions = parse_classroom_grades(FOUNDATION, "f.csv")
    submissions += parse_classroom_grades(ARCHITECTURE, "a.csv")
    return build_gradebook(assign_tiers(submissions, TIERS, None), None, TIERS)


def test_canvas_headers_are_stable_so_a_reimport_matches_the_same_assignments():
    first, _ = render_canvas(book(), {"foundation": "4757"})
    again, _ = render_canvas(book(), {"foundation": "4757"})
    header = next(csv.reader(io.StringIO(first)))
    assert header[5:] == [
        "Foundation: tensors to training (4757)",
        "Architecture: data, vision and language",
    ]
    assert first == again
    notes = "\n".join(canvas_matching(book(), {"foundation": "4757"}))
    assert "Canvas matches students by the SIS User ID column" in notes
    assert "foundation: assignment id 4757" in notes
    assert "architecture: the assignment titled exactly 'Architecture: data, vision and " \
        "language' (created by the first import, matched by title after that" in notes  # fmt: skip
    assert notes in render_report(book(), (), canvas_matching(book(), {"foundation": "4757"}))


@pytest.mark.parametrize("bad", ["abc", "#4757", "47 57", "４７"])
def test_a_canvas_id_that_is_not_a_number_is_refused(bad):
    with pytest.raises(GradebookInputError, match=f"foundation={bad}: a Canvas assignment id"):
        render_canvas(book(), {"foundation": bad})


def test_a_tier_title_canvas_would_read_as_an_id_is_refused_without_an_id():
    import dataclasses

    tiers = tuple(
        dataclasses.replace(t, title="Foundation (2027)") if t.slug == "foundation" else t
        for t in TIERS
    )
    named = dataclasses.replace(book(), tiers=tiers)
    with pytest.raises(GradebookInputError, match="reads as an assignment id"):
        render_canvas(named, {})
    text, _ = render_canvas(named, {"foundation": "12"})
    assert next(csv.reader(io.StringIO(text)))[5] == "Foundation (2027) (12)"


def test_a_results_artifact_above_its_maximum_is_refused_with_its_place(tmp_path):
    from grading.test_gradebook import results_object

    results = results_object(True)
    results["modules"][0]["points"] = {"earned": 70, "possible": 60}
    folder = tmp_path / "artifacts" / "cy-codes"
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps(results))
    with pytest.raises(GradeImportError) as caught:
        read_grade_source(tmp_path / "artifacts")
    message = str(caught.value)
    assert "cy-codes/results.json: modules[0].points: earned 70 is above possible 60" in message
