"""Grade imports (grading/grade_imports.py) on real-shaped files: Classroom 50's scores.json
(current and earlier shape), Gradescope's grade export, and folders of our results artifacts;
every malformed input is refused with its file and place."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from grading import grade_imports
from grading.course_config import parse_course_config
from grading.grade_imports import GradeImportError, GradeRecord, read_grade_source
from grading.schemas import can_validate, validate
from grading.test_platforms import sample_results

RESULT_ROW = {
    "schema": "classroom50/result/v1",
    "classroom": "cs249",
    "assignment_type": "individual",
    "submission": "submit/2027-03-06T20-00-00Z-aaaa111",
    "commit": "https://github.com/org/cs249-foundation-alice/commit/aaaa111",
    "release": "https://github.com/org/cs249-foundation-alice/releases/tag/submit%2F...",
    "review": "https://github.com/org/cs249-foundation-alice/commit/aaaa111",
    "graded_at": "2027-03-06T20:03:00Z",
    "tests": [{"test-name": "01.1 test_01_1_a", "passed": True, "score": 4, "max-score": 4}],
}


def row(owner: str, score: int, when: str, **extra) -> dict:
    return {**RESULT_ROW, "owner": owner, "score": score, "max-score": 470, "datetime": when,
            **extra}  # fmt: skip


SCORES = {
    "schema": "classroom50/scores/v1",
    "assignments": {
        "foundation": {
            "type": "individual",
            "collected_at": "2027-03-08T09:00:00Z",
            "entries": [
                {
                    "owner": "alice",
                    "submissions": [  # newest first
                        row("alice", 440, "2027-03-07T22:10:00Z", late=False),
                        row("alice", 300, "2027-03-01T10:00:00Z", late=False),
                    ],
                },
                {
                    "owner": "Bob",
                    "override": True,
                    "submissions": [row("Bob", 470, "2027-03-09T01:00:00+01:00", late=True)],
                },
                {"owner": "carol", "submissions": []},
            ],
        },
        "architecture": {
            "type": "group",
            "entries": [
                {
                    "owner": "dave",
                    "member_usernames": ["dave", "erin"],
                    "team_slug": "group-1",
                    "submissions": [row("dave", 400, "2027-04-10T12:00:00Z")],
                }
            ],
        },
    },
}

GRADESCOPE_CSV = (
    "\ufeffFirst Name,Last Name,SID,Email,Sections,Total Score,Max Points,Status,Submission ID,"
    "Submission Time,Lateness (H:M:S),View Count,Submission Count,1: Autograder (470.0 pts)\n"
    "Ada,Lovelace,1001,ada@uni.edu,L01,470.0,470.0,Graded,228746829,"
    "2027-03-07 18:16:26 -0500,00:00:00,3,2,470.0\n"
    "Alan,Turing,,alan@uni.edu,L01,415.0,470.0,Graded,228746844,"
    "2027-03-08 01:00:00 -0500,01:00:34,1,1,415.0\n"
    "Grace,Hopper,1003,grace@uni.edu,L02,,470.0,Missing,,,,0,0,\n"
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---- Classroom 50 -------------------------------------------------------------------------


@pytest.mark.skipif(not can_validate(), reason="jsonschema not installed")
def test_the_fixture_follows_the_scores_schema():
    validate("classroom50_scores", SCORES)


def test_classroom50_scores_give_the_newest_submission_per_student(tmp_path):
    path = write(tmp_path / "cs249" / "scores.json", json.dumps(SCORES))
    records = read_grade_source(path)
    by_student = {(r.student, r.assignment): r for r in records}
    assert set(by_student) == {
        ("alice", "foundation"),
        ("Bob", "foundation"),
        ("dave", "architecture"),
        ("erin", "architecture"),
    }, "no record for carol (no submission); both group members credited"
    alice = by_student[("alice", "foundation")]
    assert alice == GradeRecord(
        student="alice",
        assignment="foundation",
        points=440,
        max_points=470,
        submitted_at="2027-03-07T22:10:00Z",
        platform="classroom50",
        source=f"{path}#assignments.foundation.entries[0].submissions[0]",
        late=False,
    )
    bob = by_student[("Bob", "foundation")]
    assert bob.points == 470 and bob.submitted_at == "2027-03-09T00:00:00Z" and bob.late is True
    assert by_student[("erin", "architecture")].points == 400


def test_the_earlier_flat_scores_shape_is_read_too():
    legacy = {
        "schema": "classroom50/scores/v1",
        "submissions": [
            {**row("x", 18, "2026-06-01T14:33:11Z"), "assignment": "hello",
             "usernames": ["alice"], "max-score": 30},
        ],
    }  # fmt: skip
    (record,) = grade_imports.parse_classroom50_scores(legacy, "scores.json")
    assert (record.student, record.assignment, record.points, record.max_points) == (
        "alice",
        "hello",
        18,
        30,
    )


def broken_scores(change) -> dict:
    document = json.loads(json.dumps(SCORES))
    change(document)
    return document


@pytest.mark.parametrize(
    ("change", "place"),
    [
        (
            lambda d: d["assignments"]["foundation"]["entries"][0]["submissions"][0].update(
                score=439.5
            ),
            "assignments.foundation.entries[0].submissions[0].score: fractional points 439.5",
        ),
        (
            lambda d: d["assignments"]["foundation"]["entries"][1]["submissions"][0].update(
                score=500
            ),
            "assignments.foundation.entries[1].submissions[0]: score 500 is above max-score 470",
        ),
        (
            lambda d: d["assignments"]["architecture"]["entries"][0]["submissions"][0].pop(
                "datetime"
            ),
            "assignments.architecture.entries[0].submissions[0].datetime: expected a date-time",
        ),
        (
            lambda d: d["assignments"]["foundation"]["entries"][0]["submissions"][0].update(
                datetime="2027-03-07 22:10"
            ),
            "submissions[0].datetime: '2027-03-07 22:10' has no time zone offset",
        ),
        (
            lambda d: d["assignments"]["foundation"]["entries"][2].pop("owner"),
            "assignments.foundation.entries[2].owner: expected a GitHub login",
        ),
        (lambda d: d.update(schema="classroom50/scores/v2"), "schema: expected"),
        (lambda d: d.pop("assignments"), "has neither 'assignments' nor"),
    ],
)
def test_malformed_scores_are_refused_with_their_json_path(tmp_path, change, place):
    path = write(tmp_path / "scores.json", json.dumps(broken_scores(change)))
    if "schema: expected" in place:  # another schema id is not ours at all
        with pytest.raises(GradeImportError, match="'classroom50/scores/v2' is not a format"):
            read_grade_source(path)
        with pytest.raises(GradeImportError, match=place):
            grade_imports.parse_classroom50_scores(broken_scores(change), str(path))
        return
    with pytest.raises(GradeImportError) as caught:
        read_grade_source(path)
    assert str(caught.value).startswith(f"{path}: ") and place in str(caught.value)


def test_broken_json_is_refused_with_line_and_column(tmp_path):
    path = write(tmp_path / "scores.json", '{"schema": "classroom50/scores/v1",\n "x": }')
    with pytest.raises(GradeImportError, match=r"scores.json: line 2, column 7: not valid JSON"):
        read_grade_source(path)
    assert grade_imports.detect_format(path) is None


# ---- Gradescope -----------------------------------------------------------------------------


def test_gradescope_export_gives_one_record_per_row(tmp_path):
    path = write(tmp_path / "Foundation_scores.csv", GRADESCOPE_CSV)
    assert grade_imports.detect_format(path) == "gradescope-csv"
    ada, alan, grace = read_grade_source(path)
    assert ada == GradeRecord(
        student="1001",
        assignment="Foundation",
        points=470,
        max_points=470,
        submitted_at="2027-03-07T23:16:26Z",
        platform="gradescope",
        source=f"{path}:line 2",
        email="ada@uni.edu",
        name="Ada Lovelace",
        late=False,
    )
    assert alan.student == "alan@uni.edu", "no SID: the e-mail is the key"
    assert alan.points == 415 and alan.late is True and alan.submitted_at == "2027-03-08T06:00:00Z"
    assert grace.points is None and grace.submitted_at is None and grace.late is None
    assert read_grade_source(path, assignment="foundation")[0].assignment == "foundation"


@pytest.mark.parametrize(
    ("edit", "place"),
    [
        (("415.0,470.0", "414.5,470.0"), "line 3, column 'Total Score': fractional points"),
        (("470.0,470.0,Graded", "471.0,470.0,Graded"), "line 2, column 'Total Score': 471"),
        (("-0500,00:00:00", "-0500,soon"), "line 2, column 'Lateness (H:M:S)': expected H:M:S"),
        (("2027-03-08 01:00:00 -0500", "08/03/2027"), "line 3, column 'Submission Time'"),
        ((",470.0,Missing", ",470.0,Graded"), "line 4, column 'Total Score': empty although"),
        (("Total Score,", "Score,"), "line 1: missing column(s) Total Score"),
        (("L02,,470.0", "L02,,470.0,extra,fields,here"), "line 4: has a different number"),
    ],
)
def test_malformed_gradescope_exports_are_refused_with_line_and_column(tmp_path, edit, place):
    path = write(tmp_path / "x_scores.csv", GRADESCOPE_CSV.replace(*edit))
    with pytest.raises(GradeImportError) as caught:
        if "missing column" in place:
            grade_imports.parse_gradescope_csv(path.read_text(), str(path), "x")
        else:
            read_grade_source(path)
    assert place in str(caught.value) and str(path) in str(caught.value)


def test_github_classroom_csv_is_not_mistaken_for_a_grade_source_here(tmp_path):
    path = write(
        tmp_path / "grades.csv",
        "assignment_name,assignment_url,starter_code_url,github_username,roster_identifier,"
        "student_repository_name,student_repository_url,submission_timestamp,points_awarded,"
        "points_available\n",
    )
    assert grade_imports.detect_format(path) is None
    with pytest.raises(GradeImportError, match="not a grade source this reader knows"):
        read_grade_source(path)


# ---- our results artifacts ------------------------------------------------------------------


def per_module(results: dict, number: int) -> dict:
    """The results object as one workflow step writes it: one module only."""
    module = next(m for m in results["modules"] if m["number"] == number)
    points = module["points"]
    return {**results, "modules": [module], "points": points}


def zip_bytes(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_a_folder_of_results_artifacts_gives_one_record_per_student_and_tier(tmp_path):
    results = sample_results()
    folder = tmp_path / "artifacts"
    write(folder / "alice" / "01" / "results.json", json.dumps(per_module(results, 1)))
    write(folder / "alice" / "02" / "results.json", json.dumps(per_module(results, 2)))
    write(folder / "alice" / "02" / "summary.md", "ignored")
    (folder / "bob.zip").write_bytes(zip_bytes({"01/results.json": json.dumps(results)}))
    assert grade_imports.detect_format(folder) == "tinytorch-results"
    alice, bob = read_grade_source(folder)
    assert (alice.student, alice.assignment, alice.points, alice.max_points) == (
        "alice",
        "foundation",
        10,
        26,
    )
    assert alice.platform == "tinytorch-results" and alice.submitted_at is None
    assert alice.source == f"{folder}/alice/01/results.json, {folder}/alice/02/results.json"
    assert (bob.student, bob.points, bob.max_points) == ("bob", 10, 26)
    assert bob.source == f"{folder}/bob.zip!01/results.json"


def test_results_are_grouped_by_the_course_tiers_when_a_course_is_given(tmp_path):
    course = parse_course_config(
        {
            "schema": "tinytorch-course/v1",
            "course": {"name": "C", "institution": "U", "term": "T", "timezone": "UTC"},
            "tiers": [
                {"slug": "one", "title": "One", "modules": [1], "deadline": "2027-01-01T00:00Z"},
                {"slug": "two", "title": "Two", "modules": [2], "deadline": "2027-02-01T00:00Z"},
            ],
        }
    )
    found = [("alice/results.json", sample_results())]
    records = grade_imports.records_from_results(found, course=course)
    assert [(r.assignment, r.points, r.max_points) for r in records] == [
        ("one", 10, 16),
        ("two", 0, 10),
    ]
    (single,) = grade_imports.records_from_results(found, assignment="final")
    assert (single.assignment, single.max_points) == ("final", 26)


def test_conflicting_or_ownerless_results_are_refused(tmp_path):
    results = sample_results()
    changed = json.loads(json.dumps(results))
    changed["modules"][0]["points"]["earned"] = 16
    conflict = [("alice/a/results.json", results), ("alice/b/results.json", changed)]
    with pytest.raises(GradeImportError, match=r"alice/b/results.json: module 01_m1 is also in"):
        grade_imports.records_from_results(conflict)
    same = [("alice/a/results.json", results), ("alice/b/results.json", results)]
    assert grade_imports.records_from_results(same)[0].points == 10, "a repeat is harmless"
    with pytest.raises(GradeImportError, match="cannot tell whose results these are"):
        grade_imports.records_from_results([("results.json", results)])
    with pytest.raises(GradeImportError, match=r"alice/results.json: schema: expected"):
        grade_imports.records_from_results([("alice/results.json", {"schema": "other"})])
    bad = {**results, "points": {"earned": 1.5, "possible": 26}}
    if can_validate():
        with pytest.raises(GradeImportError, match="alice/results.json"):
            grade_imports.records_from_results([("alice/results.json", bad)])


def test_a_broken_artifact_file_is_named(tmp_path):
    folder = tmp_path / "artifacts"
    write(folder / "alice" / "results.json", "{ truncated")
    with pytest.raises(GradeImportError, match=r"alice/results.json: line 1, column 3"):
        read_grade_source(folder)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(GradeImportError, match="no results.json inside"):
        read_grade_source(empty)


def test_whole_points_accepts_whole_numbers_only():
    assert grade_imports.whole_points("60.0", "x") == 60 and grade_imports.whole_points(7, "x") == 7
    for bad in ("59.5", 59.5, "sixty", True, float("nan"), -1):
        with pytest.raises(GradeImportError):
            grade_imports.whole_points(bad, "x")
