"""`tiny gradebook`: parsing (pure), matching, rendering and the command on real-shaped files.

The grade exports below have GitHub Classroom's exact header (github/gh-classroom
assignment_grades.go; the web page's "Download grades" writes the same columns) and the
roster has the roster page's header (`"identifier","github_username","github_id","name"`).
Both quoting styles occur: the roster page quotes every field, `gh` quotes only when needed.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from pathlib import Path

import pytest
import yaml

from grading import cli
from grading.course_config import parse_course_config
from grading.course_modules import Exercise, ModuleMeta
from grading.gradebook import (
    GradebookInputError,
    Submission,
    assign_tiers,
    build_gradebook,
    tier_for_assignment,
)
from grading.gradebook_inputs import parse_classroom_grades, parse_roster, parse_timestamp
from grading.gradebook_render import (
    CANVAS_POINTS_POSSIBLE,
    backup_name,
    render_canvas,
    render_gradebook,
)
from grading.results import ModuleRun, RunLimits, build_module, build_results

UTC = dt.timezone.utc
CONFIG = """\
schema: tinytorch-course/v1
course: {name: TinyTorch, institution: Example U, term: Spring 2027, timezone: America/New_York}
tiers:
  - slug: foundation
    title: "Foundation: tensors to training"
    modules: [1, 2]
    deadline: "2027-03-07T23:59:00-05:00"
  - slug: architecture
    title: "Architecture: data, vision and language"
    modules: [3]
    deadline: "2027-04-11T23:59:00-04:00"
"""
COURSE = parse_course_config(yaml.safe_load(CONFIG), "course.yaml")
TIERS = COURSE.tiers

HEADER = (
    "assignment_name,assignment_url,starter_code_url,github_username,roster_identifier,"
    "student_repository_name,student_repository_url,submission_timestamp,points_awarded,"
    "points_available\n"
)
URL = "https://classroom.github.com/classrooms/123-tinytorch/assignments"


def grade_row(assignment: str, user: str, identifier: str, when: str, points: str, of: str) -> str:
    slug = assignment.lower().replace(" ", "-")
    return (
        f"{assignment},{URL}/{slug},https://github.com/tinytorch-s27/{slug}-template,{user},"
        f"{identifier},{slug}-{user},https://github.com/tinytorch-s27/{slug}-{user},{when},"
        f"{points},{of}\n"
    )


FOUNDATION = HEADER + "".join(
    [
        grade_row(
            "TinyTorch Foundation", "ada-l", "ada@example.edu", "2027-03-05T18:02:11Z", "110", "110"
        ),
        grade_row(
            "TinyTorch Foundation", "bobcat", "bob@example.edu", "2027-03-01T09:00:00Z", "40", "110"
        ),
        # Bob accepted twice; the later submission counts.
        grade_row(
            "TinyTorch Foundation", "bobcat", "bob@example.edu", "2027-03-06T10:30:00Z", "90", "110"
        ),
        # Cy never linked the roster entry: matched by GitHub username; late by one minute.
        grade_row("TinyTorch Foundation", "cy-codes", "", "2027-03-08T05:00:00Z", "100", "110"),
        grade_row("TinyTorch Foundation", "mallory", "", "2027-03-02T12:00:00Z", "110", "110"),
    ]
)
ARCHITECTURE = HEADER + "".join(
    [
        grade_row(
            "TinyTorch Architecture",
            "ada-l",
            "ada@example.edu",
            "2027-04-11 23:00:00 UTC",
            "60",
            "60",
        ),
        # Accepted, never pushed: Classroom leaves the time empty and awards nothing.
        grade_row("TinyTorch Architecture", "bobcat", "bob@example.edu", "", "0", "60"),
    ]
)
ROSTER = """\
"identifier","github_username","github_id","name"
"ada@example.edu","ada-l","1001","Lovelace, Ada"
"bob@example.edu","bobcat","1002","Bobson, Bob"
"cy@example.edu","cy-codes","1003",""
"dee@example.edu","","",""
"""


def table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def book_of(foundation: str = FOUNDATION, architecture: str = ARCHITECTURE, **kwargs):
    submissions = parse_classroom_grades(foundation, "foundation.csv")
    submissions += parse_classroom_grades(architecture, "architecture.csv")
    placed = assign_tiers(submissions, TIERS, None)
    roster = parse_roster(ROSTER, "roster.csv")
    return build_gradebook(placed, roster, TIERS, kwargs.get("points", {"foundation": 110}))


# ---- parsing ---------------------------------------------------------------------------------


def test_timestamps_in_every_export_style_become_aware_utc_times():
    expected = dt.datetime(2027, 3, 8, 4, 59, tzinfo=UTC)
    for text in (
        "2027-03-08T04:59:00Z",
        "2027-03-08 04:59:00 UTC",
        "2027-03-07T23:59:00-05:00",
        "2027-03-08T04:59:00",  # no offset: UTC
        "2027-03-08T04:59:00.000Z",
    ):
        assert parse_timestamp(text, "x.csv:2") == expected, text
    assert parse_timestamp("", "x.csv:2") is None
    for bad in ("03/08/2027", "2027-03-08", "MM-DD-YYYY", "yesterday"):
        with pytest.raises(GradebookInputError, match=r"^x.csv:2: submission_timestamp"):
            parse_timestamp(bad, "x.csv:2")


def test_classroom_export_rows_are_read_with_file_and_line():
    rows = parse_classroom_grades(FOUNDATION, "foundation.csv")
    assert len(rows) == 5
    first = rows[0]
    assert first.where == "foundation.csv:2" and first.assignment == "TinyTorch Foundation"
    assert (first.github_username, first.roster_identifier) == ("ada-l", "ada@example.edu")
    assert first.repository == "tinytorch-foundation-ada-l"
    assert (first.points, first.possible) == (110.0, 110.0)
    assert first.submitted_at == dt.datetime(2027, 3, 5, 18, 2, 11, tzinfo=UTC)
    empty = parse_classroom_grades(ARCHITECTURE, "a.csv")[1]
    assert empty.submitted_at is None and empty.points == 0.0


def test_a_group_assignment_export_and_a_byte_order_mark_are_accepted():
    text = "\ufeff" + HEADER.replace("points_available\n", "points_available,group_name\n")
    text += grade_row("TinyTorch Foundation", "ada-l", "", "", "5", "110").replace("\n", ",team\n")
    (row,) = parse_classroom_grades(text, "g.csv")
    assert row.points == 5.0


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (HEADER.replace("points_awarded,", ""), r"^bad.csv:1: missing column\(s\) points_awarded"),
        ("", r"^bad.csv:1: empty file"),
        (FOUNDATION.replace(",40,110", ",forty,110"), r"^bad.csv:3: points_awarded 'forty'"),
        (FOUNDATION.replace(",40,110", ",-4,110"), r"^bad.csv:3: points_awarded '-4'"),
        (FOUNDATION.replace(",90,110", ",90,nan"), r"^bad.csv:4: points_available 'nan'"),
        (
            FOUNDATION.replace("2027-03-06T10:30:00Z", "06.03.2027 10:30"),
            r"^bad.csv:4: submission_timestamp '06.03.2027 10:30'",
        ),
        (
            FOUNDATION.replace(",100,110", ",100,110,extra"),
            r"^bad.csv:5: 11 fields, but the header has 10",
        ),
        (HEADER + "TinyTorch Foundation,,,,,,,,1,2\n", r"^bad.csv:2: neither github_username"),
        (HEADER + "TinyTorch Foundation,u,s,ada-l,ada@example.edu\n", r"^bad.csv:2: 5 fields"),
    ],
)
def test_malformed_exports_are_rejected_with_file_and_line(broken, message):
    with pytest.raises(GradebookInputError, match=message):
        parse_classroom_grades(broken, "bad.csv")


def test_a_quoted_comma_and_a_quoted_line_break_keep_line_numbers_right():
    text = HEADER + (
        '"TinyTorch Foundation, Spring",u,s,ada-l,"ada@example.edu",r,r,'
        '"2027-03-05T18:02:11Z",110,110\n'
        '"TinyTorch\nFoundation",u,s,bobcat,,r,r,,zero,110\n'
    )
    with pytest.raises(GradebookInputError, match=r"^q.csv:4: points_awarded 'zero'"):
        parse_classroom_grades(text, "q.csv")


def test_roster_needs_unique_identifiers_and_usernames():
    entries = parse_roster(ROSTER, "roster.csv")
    assert [e.identifier for e in entries][:2] == ["ada@example.edu", "bob@example.edu"]
    assert entries[0].name == "Lovelace, Ada" and entries[3].github_username == ""
    with pytest.raises(GradebookInputError, match=r"^roster.csv:6: identifier 'ADA@example.edu'"):
        parse_roster(ROSTER + '"ADA@example.edu","","",""\n', "roster.csv")
    with pytest.raises(GradebookInputError, match=r"^roster.csv:6: github_username 'Bobcat'"):
        parse_roster(ROSTER + '"eve@example.edu","Bobcat","",""\n', "roster.csv")
    with pytest.raises(GradebookInputError, match=r"^roster.csv:1: missing column\(s\) identifier"):
        parse_roster('"id","github_username"\n"a","b"\n', "roster.csv")


# ---- assignments to tiers --------------------------------------------------------------------


def test_assignments_map_to_tiers_by_slug_title_or_explicit_mapping():
    assert tier_for_assignment("TinyTorch Foundation", TIERS) == "foundation"
    assert tier_for_assignment("tinytorch-architecture-2027", TIERS) == "architecture"
    title = "Foundation: tensors to training"
    assert tier_for_assignment(title, TIERS) == "foundation"
    assert tier_for_assignment("Part B", TIERS, {"part b": "architecture"}) == "architecture"
    with pytest.raises(GradebookInputError, match="'Homework 1' matches no tier"):
        tier_for_assignment("Homework 1", TIERS)
    with pytest.raises(GradebookInputError, match="names tiers foundation, architecture"):
        tier_for_assignment("Foundation to Architecture", TIERS)
    with pytest.raises(GradebookInputError, match="no tier 'capstone'"):
        tier_for_assignment("X", TIERS, {"X": "capstone"})
    # Whole words only: 'foundational' is not 'foundation'.
    with pytest.raises(GradebookInputError, match="matches no tier"):
        tier_for_assignment("Foundational skills", TIERS)


def test_an_unmapped_assignment_is_reported_with_its_row():
    rows = parse_classroom_grades(HEADER + grade_row("Lab 1", "ada-l", "", "", "1", "2"), "l.csv")
    with pytest.raises(GradebookInputError, match=r"^l.csv:2: assignment 'Lab 1' matches no tier"):
        assign_tiers(rows, TIERS, None)


# ---- the merge -------------------------------------------------------------------------------


def test_students_are_matched_by_identifier_or_username_and_the_rest_reported():
    book = book_of()
    rows = {row.identifier or row.github_username: row for row in book.rows}
    assert list(rows) == [
        "ada@example.edu",
        "bob@example.edu",
        "cy@example.edu",
        "dee@example.edu",
        "mallory",
    ]
    assert rows["ada@example.edu"].total == 170 and not rows["ada@example.edu"].late
    assert rows["cy@example.edu"].tiers["foundation"].points == 100  # by username
    assert [e.identifier for e in book.roster_without_submission] == ["dee@example.edu"]
    assert [s.github_username for s in book.unmatched_submissions] == ["mallory"]
    assert not rows["mallory"].on_roster


def test_duplicates_keep_the_latest_submission_and_are_reported():
    book = book_of()
    bob = next(row for row in book.rows if row.identifier == "bob@example.edu")
    assert bob.tiers["foundation"].points == 90
    (duplicate,) = book.duplicates
    assert (duplicate.student, duplicate.tier) == ("bob@example.edu", "foundation")
    assert (duplicate.kept, duplicate.dropped) == ("foundation.csv:4", "foundation.csv:3")
    # Order of the rows does not matter: the latest still wins.
    lines = FOUNDATION.splitlines(keepends=True)
    swapped = "".join([lines[0], lines[1], lines[3], lines[2], *lines[4:]])
    bob = next(row for row in book_of(swapped).rows if row.identifier == "bob@example.edu")
    assert bob.tiers["foundation"].points == 90


def test_late_flags_follow_each_tier_deadline_to_the_second():
    book = book_of()
    cy = next(row for row in book.rows if row.identifier == "cy@example.edu")
    # 2027-03-08T05:00Z is 00:00 in New York, one minute after the 23:59 deadline.
    assert cy.tiers["foundation"].late and cy.late
    on_time = FOUNDATION.replace("2027-03-08T05:00:00Z", "2027-03-08T04:59:00Z")
    cy = next(row for row in book_of(on_time).rows if row.identifier == "cy@example.edu")
    assert not cy.late
    ada = next(row for row in book.rows if row.identifier == "ada@example.edu")
    assert not ada.tiers["architecture"].late  # 23:00 UTC is 19:00 in New York


def test_gradebook_csv_has_a_row_per_student_with_tier_points_total_and_notes():
    rows = table(render_gradebook(book_of()))
    assert list(rows[0]) == [
        "identifier",
        "name",
        "github_username",
        "foundation",
        "foundation_submitted",
        "foundation_late",
        "architecture",
        "architecture_submitted",
        "architecture_late",
        "total",
        "possible",
        "late",
        "notes",
    ]
    ada, bob, cy, dee, mallory = rows
    assert ada["foundation"] == "110" and ada["architecture"] == "60" and ada["total"] == "170"
    assert ada["possible"] == "170" and ada["notes"] == ""
    assert ada["architecture_submitted"] == "2027-04-11T23:00:00Z"
    assert bob["total"] == "90" and bob["architecture"] == "0"
    assert bob["notes"] == "no submission: architecture"
    assert cy["github_username"] == "cy-codes" and cy["late"] == "late"
    assert cy["notes"] == "no submission: architecture; late: foundation"
    assert dee["total"] == "0" and dee["notes"] == "no submission: foundation, architecture"
    assert mallory["identifier"] == "" and mallory["notes"].startswith("not on roster")


def test_points_possible_come_from_the_configuration_and_a_mismatch_is_a_warning():
    book = book_of(points={"foundation": 100})
    assert book.possible == {"foundation": 100.0, "architecture": 60.0}
    assert any("grade export says 110 points possible" in w for w in book.warnings)


def test_canvas_import_has_canvas_columns_points_possible_and_identifiers():
    text, left_out = render_canvas(book_of(), {"foundation": "4757"})
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "Foundation: tensors to training (4757)",
        "Architecture: data, vision and language",
    ]
    assert lines[1] == [CANVAS_POINTS_POSSIBLE, "", "", "", "", "110", "60"]
    assert lines[2] == ["Lovelace, Ada", "", "ada@example.edu", "", "", "110", "60"]
    assert lines[4] == ["cy@example.edu", "", "cy@example.edu", "", "", "100", ""]
    assert len(lines) == 2 + 4 and [r.github_username for r in left_out] == ["mallory"]
    zero, _ = render_canvas(book_of(), None, "sis_login_id", missing_as_zero=True)
    assert list(csv.reader(io.StringIO(zero)))[5] == [
        "dee@example.edu",
        "",
        "",
        "dee@example.edu",
        "",
        "0",
        "0",
    ]


def test_without_a_roster_students_are_whoever_the_exports_name():
    placed = assign_tiers(parse_classroom_grades(FOUNDATION, "f.csv"), TIERS, None)
    book = build_gradebook(placed, None, TIERS)
    assert [(r.identifier, r.github_username) for r in book.rows] == [
        ("ada@example.edu", "ada-l"),
        ("bob@example.edu", "bobcat"),
        ("", "cy-codes"),
        ("", "mallory"),
    ]
    assert book.unmatched_submissions == () and book.possible == {"foundation": 110.0}


def test_records_from_other_platforms_that_name_their_tier_are_not_remapped():
    record = Submission("scores.json:1", "anything", "ada-l", points=7.0, tier="architecture")
    (placed,) = assign_tiers([record], TIERS, None)
    assert placed.tier == "architecture"
    with pytest.raises(GradebookInputError, match="tier 'capstone' is not in the course"):
        assign_tiers([Submission("s:1", "x", "ada-l", tier="capstone")], TIERS, None)


def test_backup_names_carry_the_utc_time():
    now = dt.datetime(2027, 3, 8, 10, 15, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert backup_name("gradebook.csv", now) == "gradebook.20270308T091500Z.csv"


# ---- the command -----------------------------------------------------------------------------


def write_inputs(folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "course.yaml").write_text(CONFIG)
    (folder / "tinytorch-foundation-grades.csv").write_text(FOUNDATION)
    (folder / "tinytorch-architecture-grades.csv").write_text(ARCHITECTURE)
    (folder / "classroom_roster.csv").write_text(ROSTER)
    return [
        "gradebook",
        str(folder / "tinytorch-foundation-grades.csv"),
        str(folder / "tinytorch-architecture-grades.csv"),
        "--roster",
        str(folder / "classroom_roster.csv"),
        "--config",
        str(folder / "course.yaml"),
        "--out",
        str(folder / "out"),
    ]


def test_command_writes_outputs_and_is_idempotent_with_timestamped_backups(tmp_path, capsys):
    argv = write_inputs(tmp_path)
    assert cli.main(argv) == 0
    out = tmp_path / "out"
    first = capsys.readouterr().out
    assert "Roster entries without any submission (1):\n  dee@example.edu" in first
    assert "Submissions without a roster entry (1):\n  mallory" in first
    assert "bob@example.edu, tier foundation: kept" in first
    assert f"{out / 'gradebook.csv'}: written" in first
    gradebook = (out / "gradebook.csv").read_text()
    # Points possible come from the modules' points (01 + 02 and 03 of this repository).
    ada = table(gradebook)[0]
    assert ada["total"] == "170" and int(ada["possible"]) > 0
    assert sorted(p.name for p in out.iterdir()) == ["canvas.csv", "gradebook.csv", "report.txt"]

    assert cli.main(argv) == 0  # the same inputs: nothing changes, no backup
    assert "gradebook.csv: unchanged" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["canvas.csv", "gradebook.csv", "report.txt"]

    later = FOUNDATION.replace("mallory", "mallory2")
    (tmp_path / "tinytorch-foundation-grades.csv").write_text(later)
    assert cli.main(argv) == 0
    assert "gradebook.csv: updated (old copy: gradebook." in capsys.readouterr().out
    backups = sorted(out.glob("gradebook.*Z.csv"))
    assert len(backups) == 1 and backups[0].read_text() == gradebook
    assert "mallory2" in (out / "gradebook.csv").read_text()


def test_command_rejects_a_malformed_export_naming_file_and_line(tmp_path, capsys):
    argv = write_inputs(tmp_path)
    broken = tmp_path / "tinytorch-architecture-grades.csv"
    broken.write_text(ARCHITECTURE.replace(",60,60", ",sixty,60"))
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"{broken}:2: points_awarded 'sixty'" in err
    assert not (tmp_path / "out").exists(), "nothing is written from a broken input"


def test_command_reports_an_unknown_export_format(tmp_path, capsys):
    argv = write_inputs(tmp_path)
    other = tmp_path / "tinytorch-architecture-grades.csv"
    other.write_text("week,mood\n1,fine\n")
    assert cli.main(argv) == 2
    assert f"{other}: not a grade export tiny gradebook reads" in capsys.readouterr().err


def test_a_tier_slug_inside_a_longer_matching_one_gives_way():
    tiers = [
        dataclasses.replace(tier, slug=slug)
        for tier, slug in zip(TIERS, ("part-1", "part-1-extra"), strict=True)
    ]
    assert tier_for_assignment("TinyTorch Part 1 Extra", tiers) == "part-1-extra"
    assert tier_for_assignment("TinyTorch Part 1", tiers) == "part-1"


# ---- other platforms' exports (read by grading/grade_imports.py) ---------------------------------

GRADESCOPE = """\
First Name,Last Name,SID,Email,Sections,Total Score,Max Points,Status,Submission ID,Submission Time,Lateness (H:M:S),View Count,Submission Count
Ada,Lovelace,1001,ada@example.edu,,55.0,60.0,Graded,111,2027-04-10 12:00:00 -0400,0:00:00,2,1
Dee,Dee,1004,dee@example.edu,,,60.0,Missing,,,,0,0
"""  # noqa: E501
CLASSROOM50 = {
    "schema": "classroom50/scores/v1",
    "assignments": {
        "tinytorch-architecture": {
            "type": "individual",
            "entries": [
                {
                    "owner": "bobcat",
                    "submissions": [
                        {"score": 48, "max-score": 60, "datetime": "2027-04-12T10:00:00Z"},
                        {"score": 30, "max-score": 60, "datetime": "2027-04-01T10:00:00Z"},
                    ],
                }
            ],
        }
    },
}


def results_object(earned_all: bool) -> dict:
    """A tinytorch/results/v1 object for a 60-point Module 03 (architecture tier here)."""
    meta = ModuleMeta(
        number=3,
        slug="layers",
        title="Layers",
        tier="foundation",
        folder=Path("/nowhere/03_layers"),
        source="layers.py",
        tests="test_03_layers.py",
        prerequisites=(),
        exports={},
        terms=(),
        timeout=30,
        exercises=(Exercise("03.1", "linear", 60, ""),),
    )
    nodeid = "modules/03_layers/test_03_layers.py::test_03_1_linear"
    collected = {"nodeid": nodeid, "lineno": 1, "exercise": "03.1", "label": "03.1 linear"}
    stream = [
        {"event": "begin", "schema": "tinytorch/test-events/v1"},
        {"event": "collected", "tests": [{**collected, "points": 60}]},
        {"event": "start", "nodeid": nodeid},
        {"event": "finish", "nodeid": nodeid, "outcome": "passed" if earned_all else "failed",
         "message": None, "duration": 0.1},
        {"event": "end", "exitstatus": 0 if earned_all else 1},
    ]  # fmt: skip
    run = ModuleRun(limits=RunLimits(30.0, 300.0, None), events=stream, exit_code=0)
    files = {"source": "modules/03_layers/layers.py", "tests": "modules/03_layers/t.py"}
    return build_results([build_module(meta, run, files)], {"kind": "working_tree", "detail": "x"})


def test_command_merges_gradescope_classroom50_and_results_artifacts(tmp_path, capsys):
    argv = write_inputs(tmp_path)
    gradescope = tmp_path / "TinyTorch_Architecture_scores.csv"
    gradescope.write_text(GRADESCOPE)
    scores = tmp_path / "scores.json"
    scores.write_text(json.dumps(CLASSROOM50))
    artifacts = tmp_path / "artifacts"
    (artifacts / "cy-codes" / "03").mkdir(parents=True)
    (artifacts / "cy-codes" / "03" / "results.json").write_text(json.dumps(results_object(True)))
    classroom_architecture = str(tmp_path / "tinytorch-architecture-grades.csv")
    argv = [a for a in argv if a != classroom_architecture]
    argv[2:2] = [str(gradescope), str(scores), str(artifacts)]
    assert cli.main(argv) == 0, capsys.readouterr().err
    rows = {r["identifier"]: r for r in table((tmp_path / "out" / "gradebook.csv").read_text())}
    ada, bob, cy, dee = (rows[f"{n}@example.edu"] for n in ("ada", "bob", "cy", "dee"))
    # Gradescope: matched by e-mail (its SID is not a roster identifier); 16:00 UTC.
    assert (ada["architecture"], ada["architecture_submitted"]) == ("55", "2027-04-10T16:00:00Z")
    # Classroom 50: by GitHub login; the newest submission is the grade; after the deadline.
    assert (bob["architecture"], bob["architecture_late"]) == ("48", "late")
    # Results artifacts: by GitHub login (the folder name), module 03 is this course's
    # architecture tier; no submission time, so not late.
    assert (cy["architecture"], cy["architecture_submitted"]) == ("60", "")
    assert cy["total"] == "160"
    assert dee["notes"] == "no submission: foundation, architecture"
    assert "Duplicate rows, the latest submission kept (1)" in capsys.readouterr().out
    canvas = list(csv.reader(io.StringIO((tmp_path / "out" / "canvas.csv").read_text())))
    # Gradescope's "Missing" records no points: left empty, like no row at all.
    assert canvas[-1] == ["dee@example.edu", "", "dee@example.edu", "", "", "", ""]


def test_a_broken_export_of_another_platform_is_rejected_with_its_place(tmp_path, capsys):
    argv = write_inputs(tmp_path)
    broken = tmp_path / "scores.json"
    document = json.loads(json.dumps(CLASSROOM50))
    document["assignments"]["tinytorch-architecture"]["entries"][0]["submissions"][0]["score"] = 4.5
    broken.write_text(json.dumps(document))
    assert cli.main([*argv[:2], str(broken), *argv[2:]]) == 2
    assert "entries[0].submissions[0].score" in capsys.readouterr().err


def test_without_a_roster_a_username_joins_the_identifier_classroom_gave_it():
    classroom = parse_classroom_grades(FOUNDATION, "f.csv")
    other = Submission("scores.json#x", "tinytorch-architecture", "ada-l", points=50.0)
    placed = assign_tiers([*classroom, other], TIERS, None)
    book = build_gradebook(placed, None, TIERS)
    ada = next(row for row in book.rows if row.github_username == "ada-l")
    assert ada.identifier == "ada@example.edu" and ada.total == 160
    assert len([row for row in book.rows if row.github_username == "ada-l"]) == 1
