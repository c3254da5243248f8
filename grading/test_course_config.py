"""Tests of the course configuration schema (grading/course_config.py): the shipped
template/course.yaml loads, and every kind of mistake fails with the file and the key."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml

from grading.course_config import (
    COURSE_CONFIG,
    SCHEMA,
    TEMPLATE_CONFIG,
    CourseConfigError,
    dump_course_config,
    find_course_config,
    load_course_config,
    parse_course_config,
)
from grading.course_modules import load_module_meta
from grading.repo import REPO_ROOT

MINIMAL = {
    "schema": SCHEMA,
    "course": {"name": "C", "institution": "U", "term": "T", "timezone": "Europe/Berlin"},
    "defaults": {"timeout": 30, "memory_limit_mb": 1024},
    "tiers": [
        {
            "slug": "first",
            "title": "First",
            "modules": [1, 2],
            "milestones": [1],
            "deadline": "2027-03-01T23:59:00+01:00",
        },
        {
            "slug": "second",
            "title": "Second",
            "modules": [3],
            "deadline": "2027-04-01T23:59:00",
            "carry_forward": "student",
        },
    ],
}


def parse(**changes) -> object:
    raw = copy.deepcopy(MINIMAL)
    for dotted, value in changes.items():
        target = raw
        keys = dotted.split("__")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        last = int(keys[-1]) if keys[-1].isdigit() else keys[-1]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return parse_course_config(raw, "course.yaml")


DELETE = object()


def test_shipped_course_yaml_loads_with_the_default_tiers():
    config = load_course_config(REPO_ROOT / COURSE_CONFIG)
    assert [t.slug for t in config.tiers] == ["foundation", "architecture", "optimization"]
    assert config.tier("foundation").modules == tuple(range(1, 8))
    assert config.tier("architecture").modules == tuple(range(8, 14))
    assert config.tier("optimization").modules == tuple(range(14, 21))
    assert [t.milestones for t in config.tiers] == [(1, 2, 3), (4, 5), (6,)]
    assert config.tier("architecture").carry_forward == "reference"
    assert config.tier("optimization").carry_forward == "reference"
    assert config.modules == tuple(range(1, 21))
    assert all(t.deadline.tzinfo is not None for t in config.tiers)


def test_overrides_of_the_shipped_config_name_real_exercises():
    config = load_course_config(REPO_ROOT / COURSE_CONFIG)
    meta = load_module_meta(REPO_ROOT / "modules" / "01_tensor")
    config.check_modules([meta])  # raises if an override names an unknown exercise


def test_minimal_config_defaults_and_deadline_zone():
    config = parse()
    first, second = config.tiers
    assert first.carry_forward == "reference" and first.platforms == ("ubuntu-latest",)
    assert second.milestones == () and config.python == "3.11"
    assert second.deadline == dt.datetime(2027, 4, 1, 23, 59, tzinfo=second.deadline.tzinfo)
    assert second.deadline.utcoffset() == dt.timedelta(hours=2)  # Berlin summer time
    assert config.earlier_modules(second) == (1, 2)


def test_round_trip_through_yaml(tmp_path: Path):
    config = parse(points={"01.3": 12}, timeouts={"02": 90})
    path = dump_course_config(config, tmp_path / "c.yaml", header="# generated\n")
    again = load_course_config(path)
    assert again.tiers == config.tiers and again.points == {"01.3": 12}
    assert again.timeouts == {2: 90}


def test_restricted_keeps_one_tier_and_its_overrides():
    config = parse(points={"01.3": 12, "03.1": 5}, timeouts={1: 60, 3: 90})
    cut = config.restricted("first", modules=(1,))
    assert [t.slug for t in cut.tiers] == ["first"] and cut.tiers[0].modules == (1,)
    assert cut.points == {"01.3": 12} and cut.timeouts == {1: 60}


def test_find_course_config_prefers_the_tier_copy(tmp_path: Path):
    assert find_course_config(tmp_path) is None
    (tmp_path / COURSE_CONFIG).parent.mkdir(parents=True)
    (tmp_path / COURSE_CONFIG).write_text("x")
    assert find_course_config(tmp_path) == tmp_path / COURSE_CONFIG
    (tmp_path / TEMPLATE_CONFIG).parent.mkdir(parents=True)
    (tmp_path / TEMPLATE_CONFIG).write_text("x")
    assert find_course_config(tmp_path) == tmp_path / TEMPLATE_CONFIG


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"schema": "tinytorch-course/v0"}, 'course.yaml: schema: must be "tinytorch-course/v1"'),
        ({"course__name": DELETE}, "course.yaml: course.name: missing"),
        ({"course__timezone": "Mars/Olympus"}, "course.timezone: 'Mars/Olympus' is not an IANA"),
        ({"defaults__timeout": 0}, "defaults.timeout: timeout must be greater than 0"),
        ({"defaults__memory_limit_mb": 1.5}, "defaults.memory_limit_mb: memory limit (MB) must"),
        ({"defaults__colour": "red"}, "defaults: unknown key(s) colour"),
        ({"tiers": []}, "tiers: must be a non-empty list"),
        ({"tiers__0__slug": "First Tier"}, "tiers[0].slug: 'First Tier' must be lower-case"),
        ({"tiers__1__slug": "first"}, "tiers[1].slug: tier slug 'first' is used twice"),
        ({"tiers__0__modules": []}, "tiers[0].modules: a tier needs at least one module"),
        ({"tiers__0__modules": [1, "two"]}, "tiers[0].modules[1]: module must be a whole number"),
        ({"tiers__0__modules": [1, 1]}, "tiers[0].modules: lists a module twice"),
        ({"tiers__1__modules": [2]}, "tiers[1].modules: module 02 is already in tier 'first'"),
        ({"tiers__0__modules": [1, 4]}, "tiers[1].modules: tiers go in course order"),
        ({"tiers__0__modules": [0]}, "tiers[0].modules[0]: module 0 is outside 1–99"),
        ({"tiers__1__milestones": [1]}, "tiers[1].milestones: milestone 1 is already in tier"),
        ({"tiers__0__deadline": DELETE}, "tiers[0].deadline: missing"),
        ({"tiers__0__deadline": "next friday"}, "tiers[0].deadline: is not an ISO-8601"),
        ({"tiers__0__deadline": "2027-03-01"}, "tiers[0].deadline: needs a time as well"),
        ({"tiers__0__deadline": dt.date(2027, 3, 1)}, "tiers[0].deadline: needs a time"),
        ({"tiers__0__carry_forward": "copy"}, "tiers[0].carry_forward: must be one of reference"),
        ({"tiers__0__late_days": -1}, "tiers[0].late_days: must be a whole number of days >= 0"),
        ({"tiers__0__late_days": 1.5}, "tiers[0].late_days: must be a whole number of days"),
        ({"tiers__0__platforms": []}, "tiers[0].platforms: needs at least one runner label"),
        ({"tiers__0__platforms": "ubuntu"}, "tiers[0].platforms: must be a list of non-empty"),
        ({"tiers__0__datasets": ["Tiny Digits"]}, "tiers[0].datasets[0]: 'Tiny Digits' must be"),
        ({"tiers__0__colour": 1}, "tiers[0]: unknown key(s) colour"),
        ({"points": {"01.3": 2.5}}, "points.01.3: points must be a whole number, got 2.5"),
        ({"points": {"01.3": "ten"}}, "points.01.3: points must be a whole number, got str"),
        ({"points": {"01.3": 0}}, "points.01.3: points must be greater than 0"),
        (
            {"points": {1.3: 12}},
            'exercise id 1.3 was read as a number: put it in quotes, e.g. "01.3"',
        ),
        ({"points": {"1.3": 12}}, 'points.1.3: exercise ids look like "03.2"'),
        ({"timeouts": {"x": 5}}, "timeouts.x: module must be a whole number"),
        ({"timeouts": {2: 2.5}}, "timeouts.02: timeout (seconds per test) must be a whole number"),
        ({"milestones": {1: {"threshold": "high"}}}, "milestones.1.threshold: must be a number"),
        ({"milestones": {1: {"threshold": 0.9, "goal": 1}}}, "milestones.1: unknown key(s) goal"),
        ({"milestones": {4: {"threshold": 0.9}}}, "milestones.4: milestone 4 is in no tier"),
        ({"datasets": {1: "Digits!"}}, "datasets.1: must be the snake_case name of a dataset"),
        ({"datasets": {5: "tinydigits"}}, "datasets.5: milestone 5 is in no tier"),
        ({"colour": "red"}, "course.yaml: (top level): unknown key(s) colour"),
        (
            {"defaults__python": 3.1},
            'defaults.python: put the version in quotes, e.g. python: "3.10"',
        ),
    ],
)
def test_each_mistake_names_file_key_and_fix(changes, expected):
    with pytest.raises(CourseConfigError) as caught:
        parse(**changes)
    assert expected in str(caught.value), str(caught.value)
    assert str(caught.value).startswith("course.yaml: ")


def test_fractional_points_error_suggests_a_whole_number():
    with pytest.raises(CourseConfigError, match=r"not supported \(use 2 or 3\)"):
        parse(points={"01.3": 2.5})


def test_yaml_errors_and_missing_files_name_the_file(tmp_path: Path):
    broken = tmp_path / "course.yaml"
    broken.write_text("schema: [unclosed\n")
    with pytest.raises(CourseConfigError, match=r"course.yaml: is not valid YAML"):
        load_course_config(broken)
    with pytest.raises(CourseConfigError, match=r"nope.yaml: cannot read"):
        load_course_config(tmp_path / "nope.yaml")


def test_unquoted_exercise_id_in_a_real_file_is_caught(tmp_path: Path):
    raw = copy.deepcopy(MINIMAL)
    text = yaml.safe_dump(raw, sort_keys=False) + "points:\n  01.3: 12\n"
    path = tmp_path / "course.yaml"
    path.write_text(text)
    with pytest.raises(CourseConfigError, match=r'put it in quotes, e.g. "01.3": 12'):
        load_course_config(path)


def test_check_modules_reports_unknown_exercises_and_missing_modules():
    meta = load_module_meta(REPO_ROOT / "modules" / "01_tensor")
    config = parse(points={"01.9": 5})
    with pytest.raises(CourseConfigError, match=r"points.01.9: 01_tensor/module.yaml has no such"):
        config.check_modules([meta])
    config = parse()
    config.check_modules([meta])  # modules 02 and 03 missing is fine unless required
    with pytest.raises(CourseConfigError, match=r"modules 02, 03 are configured but have no"):
        config.check_modules([meta], require_all=True)
    with pytest.raises(CourseConfigError, match=r"points.05.1: module 05 is in no tier"):
        parse(points={"05.1": 5}).check_modules([meta])


def test_missing_modules_lists_configured_numbers_without_a_folder(tmp_path: Path):
    (tmp_path / "01_tensor").mkdir()
    (tmp_path / "01_tensor" / "module.yaml").write_text("number: 1\n")
    assert parse().missing_modules(tmp_path) == [2, 3]


def test_points_and_timeouts_apply_overrides_over_module_yaml():
    meta = load_module_meta(REPO_ROOT / "modules" / "01_tensor")
    config = parse(points={"01.3": 12}, timeouts={1: 45})
    points = config.exercise_points(meta)
    assert points["01.3"] == 12 and points["01.1"] == meta.exercise("01.1").points
    assert config.module_points(meta) == meta.points + 2
    assert config.module_timeout(meta) == 45
    assert parse().module_timeout(meta) == meta.timeout  # module.yaml names its own


def test_a_tier_closes_its_late_window_days_after_its_deadline():
    raw = yaml.safe_load(Path(REPO_ROOT / "template" / "course.yaml").read_text())
    raw["tiers"][0]["late_days"] = 3
    raw["tiers"][1].pop("late_days", None)
    config = parse_course_config(raw, "course.yaml")
    first = config.tiers[0]
    assert first.closes - first.deadline == dt.timedelta(days=3)
    assert config.tiers[1].closes == config.tiers[1].deadline, "no late window by default"
    again = parse_course_config(config.to_dict(), "again.yaml")
    assert again.tiers[0].late_days == 3
