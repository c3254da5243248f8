"""Course configuration (`template/course.yaml`): the one schema, validated at load.

The instructor's course, its tiers, deadlines and overrides live in one YAML file. The
template build reads it to decide what each tier repository holds and writes the point and
timeout overrides into the tier's module.yaml files (so the plugin and the grader need
nothing else); each tier repository also carries its own part as `.tinytorch/course.yaml`
(`find_course_config`), where the staff tools and milestones find the tier, its deadline,
the milestone thresholds and dataset choices. A mistake fails here with the file and the
key to fix, e.g. `template/course.yaml: tiers[1].deadline: ...`.

Schema `tinytorch-course/v1`, one YAML mapping:
    schema: "tinytorch-course/v1"
    course:
      name, institution, term: str
      timezone: IANA name, e.g. "America/New_York" (deadlines without an offset use it)
    defaults:
      timeout: int seconds per test, for modules whose module.yaml names none (default 30)
      memory_limit_mb: int MB a grading run may use (default 2048)
      python: str Python version CI installs (default "3.11")
    tiers: list, in course order (every module of a tier comes after the previous tier's):
      - slug: str (lower-case letters, digits, '-'), unique
        title: str
        modules: list[int] module numbers, each in exactly one tier
        milestones: list[int] milestone numbers (default none), each in at most one tier
        deadline: ISO-8601 date-time, e.g. "2027-03-01T23:59:00-05:00"
        late_days: int >= 0 (default 0) — days after the deadline that late work is still
          accepted; this tier's reference solutions must not be published (in a later tier's
          template, carry_forward: reference) before deadline + late_days: `tiny build` warns
        carry_forward: "reference" | "student" — earlier tiers' modules ship as the course's
          reference copies (read-only, not graded), or the student brings their own
        platforms: list[str] GitHub runner labels (default [ubuntu-latest]); the first one
          grades, the others only run the tests
        datasets: list[str] extra datasets this tier ships (default none)
    points: {"NN.k": int > 0} — optional per-exercise overrides of module.yaml points.
      Whole numbers only; quote the ids ("01.3"), unquoted 01.3 is a YAML number.
    timeouts: {NN: int > 0} — optional per-module overrides, seconds per test
    milestones: {N: {threshold: number, metric: str}} — what a milestone must reach to PASS
    datasets: {N: name} — the dataset milestone N trains on (datasets/<name>.py + datasets/<name>/)
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from pathlib import Path

import yaml

from grading.course_model import (
    CARRY_FORWARD,
    COURSE_CONFIG,
    DEFAULT_MEMORY_MB,
    DEFAULT_PLATFORMS,
    DEFAULT_PYTHON,
    NAME,
    SCHEMA,
    SLUG,
    TEMPLATE_CONFIG,
    TIER_KEYS,
    TOP_KEYS,
    CourseConfig,
    CourseConfigError,
    MilestoneRule,
    Tier,
    declares_timeout,
)
from grading.course_modules import DEFAULT_TIMEOUT, EXERCISE_ID

__all__ = [
    "COURSE_CONFIG",
    "TEMPLATE_CONFIG",
    "CourseConfig",
    "CourseConfigError",
    "MilestoneRule",
    "Tier",
    "declares_timeout",
    "dump_course_config",
    "find_course_config",
    "load_course_config",
    "parse_course_config",
]


# ---- parsing ------------------------------------------------------------------------


class _Where:
    """The file plus the key path being read, for error messages."""

    def __init__(self, path: Path | str, key: str = ""):
        self.path, self.key = path, key

    def __truediv__(self, key) -> _Where:
        if isinstance(key, int):
            return _Where(self.path, f"{self.key}[{key}]")
        return _Where(self.path, f"{self.key}.{key}" if self.key else str(key))

    def error(self, message: str) -> CourseConfigError:
        return CourseConfigError(f"{self.path}: {self.key or '(top level)'}: {message}")


def _kind(value) -> str:
    return type(value).__name__


def _mapping(raw, where: _Where, keys: set[str] | None = None) -> dict:
    if not isinstance(raw, dict):
        raise where.error(f"must be a mapping of keys to values, got {_kind(raw)} {raw!r}")
    if keys is not None:
        unknown = sorted(str(k) for k in raw if k not in keys)
        if unknown:
            raise where.error(
                f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(keys))}"
            )
    return raw


def _text(raw: dict, key: str, where: _Where, default: str | None = None) -> str:
    if key not in raw:
        if default is not None:
            return default
        raise (where / key).error("missing (a non-empty text is required)")
    value = raw[key]
    if isinstance(value, float) and key == "python":
        raise (where / key).error(
            f'put the version in quotes, e.g. python: "3.10" (unquoted it is the number {value})'
        )
    if not isinstance(value, str) or not value.strip():
        raise (where / key).error(f"must be a non-empty text, got {_kind(value)} {value!r}")
    return value.strip()


def _whole(value, where: _Where, what: str) -> int:
    """A positive whole number; fractional and non-numeric values get their own message."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise where.error(f"{what} must be a whole number, got {_kind(value)} {value!r}")
    if isinstance(value, float):
        raise where.error(
            f"{what} must be a whole number, got {value!r}: fractional values are not "
            f"supported (use {max(1, math.floor(value))} or {max(1, math.ceil(value))})"
        )
    if value <= 0:
        raise where.error(f"{what} must be greater than 0, got {value}")
    return value


def _numbers(raw, where: _Where, what: str, low: int, high: int) -> tuple[int, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise where.error(f"must be a list of {what} numbers, got {_kind(raw)} {raw!r}")
    numbers = []
    for i, value in enumerate(raw):
        number = _number_key(value, where / i, what)
        if not low <= number <= high:
            raise (where / i).error(f"{what} {number} is outside {low}–{high}")
        numbers.append(number)
    if len(set(numbers)) != len(numbers):
        raise where.error(f"lists a {what} twice: {numbers}")
    return tuple(sorted(numbers))


def _number_key(value, where: _Where, what: str) -> int:
    """A module or milestone number written as 3, "3" or "03"."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise where.error(f'{what} must be a whole number such as 3 or "03", got {value!r}')
    return value


def _strings(raw, where: _Where, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    if raw is None:
        return default
    if not isinstance(raw, list) or not all(isinstance(s, str) and s.strip() for s in raw):
        raise where.error(f"must be a list of non-empty texts, got {raw!r}")
    return tuple(s.strip() for s in raw)


def _deadline(raw, where: _Where, timezone: zoneinfo.ZoneInfo) -> dt.datetime:
    example = 'write it like "2027-03-01T23:59:00-05:00"'
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, dt.date):
        raise where.error(f"needs a time as well as the date {raw.isoformat()}: {example}")
    elif isinstance(raw, str):
        text = raw.strip()
        if "T" not in text and " " not in text:
            raise where.error(f"needs a time as well as a date, got {raw!r}: {example}")
        try:
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise where.error(f"is not an ISO-8601 date-time: {raw!r}; {example}") from None
    else:
        raise where.error(f"must be an ISO-8601 date-time, got {_kind(raw)} {raw!r}; {example}")
    return value if value.tzinfo else value.replace(tzinfo=timezone)


def _tier(raw, where: _Where, timezone: zoneinfo.ZoneInfo) -> Tier:
    raw = _mapping(raw, where, TIER_KEYS)
    slug = _text(raw, "slug", where)
    if not SLUG.match(slug):
        raise (where / "slug").error(
            f"'{slug}' must be lower-case letters, digits and '-', starting with a letter "
            f"(it names the template repository)"
        )
    modules = _numbers(raw.get("modules"), where / "modules", "module", 1, 99)
    if not modules:
        raise (where / "modules").error("a tier needs at least one module number")
    if "deadline" not in raw:
        raise (where / "deadline").error('missing (e.g. "2027-03-01T23:59:00-05:00")')
    carry = raw.get("carry_forward", "reference")
    if carry not in CARRY_FORWARD:
        raise (where / "carry_forward").error(
            f"must be one of {', '.join(CARRY_FORWARD)}, got {carry!r}: 'reference' ships the "
            f"course's own earlier modules read-only, 'student' expects the student's own"
        )
    platforms = _strings(raw.get("platforms"), where / "platforms", DEFAULT_PLATFORMS)
    if not platforms:
        raise (where / "platforms").error("needs at least one runner label, e.g. ubuntu-latest")
    datasets = _strings(raw.get("datasets"), where / "datasets")
    for i, name in enumerate(datasets):
        if not NAME.match(name):
            raise (where / "datasets" / i).error(f"'{name}' must be a snake_case dataset name")
    late_days = raw.get("late_days", 0)
    if isinstance(late_days, bool) or not isinstance(late_days, int) or late_days < 0:
        raise (where / "late_days").error(
            f"must be a whole number of days >= 0, got {_kind(late_days)} {late_days!r}"
        )
    return Tier(
        slug=slug,
        title=_text(raw, "title", where),
        modules=modules,
        milestones=_numbers(raw.get("milestones"), where / "milestones", "milestone", 1, 9),
        deadline=_deadline(raw["deadline"], where / "deadline", timezone),
        carry_forward=carry,
        platforms=platforms,
        datasets=datasets,
        late_days=late_days,
    )


def _points(raw, where: _Where) -> dict[str, int]:
    points = {}
    for key, value in _mapping(raw or {}, where).items():
        if isinstance(key, float):
            module, exercise = str(key).split(".", 1)
            guess = f"{int(module):02d}.{exercise}"
            raise where.error(
                f"exercise id {key!r} was read as a number: put it in quotes, "
                f'e.g. "{guess}": {value!r}'
            )
        key = str(key)
        match = EXERCISE_ID.match(key)
        if not match:
            raise (where / key).error('exercise ids look like "03.2" (module, dot, exercise)')
        points[key] = _whole(value, where / key, "points")
    return points


def _timeouts(raw, where: _Where) -> dict[int, int]:
    timeouts = {}
    for key, value in _mapping(raw or {}, where).items():
        number = _number_key(key, where / str(key), "module")
        timeouts[number] = _whole(value, where / f"{number:02d}", "timeout (seconds per test)")
    return timeouts


def _milestone_rules(raw, where: _Where) -> dict[int, MilestoneRule]:
    rules = {}
    for key, value in _mapping(raw or {}, where).items():
        number = _number_key(key, where / str(key), "milestone")
        inner = where / str(number)
        value = _mapping(value, inner, {"threshold", "metric"})
        threshold = value.get("threshold")
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            raise (inner / "threshold").error(
                f"must be a number (e.g. 0.9 for 90% accuracy), got {threshold!r}"
            )
        metric = value.get("metric", "")
        if not isinstance(metric, str):
            raise (inner / "metric").error(f"must be a text such as accuracy, got {metric!r}")
        rules[number] = MilestoneRule(float(threshold), metric)
    return rules


def _dataset_choices(raw, where: _Where) -> dict[int, str]:
    choices = {}
    for key, value in _mapping(raw or {}, where).items():
        number = _number_key(key, where / str(key), "milestone")
        if not isinstance(value, str) or not NAME.match(value):
            raise (where / str(number)).error(
                f"must be the snake_case name of a dataset under datasets/, got {value!r}"
            )
        choices[number] = value
    return choices


def parse_course_config(raw, path: Path | str = "course.yaml") -> CourseConfig:
    """Validate a parsed course.yaml mapping; raise CourseConfigError naming file and key."""
    top = _Where(path)
    raw = _mapping(raw, top, TOP_KEYS)
    if raw.get("schema") != SCHEMA:
        raise (top / "schema").error(f'must be "{SCHEMA}", got {raw.get("schema")!r}')
    course = _mapping(
        raw.get("course"), top / "course", {"name", "institution", "term", "timezone"}
    )
    where = top / "course"
    tz_name = _text(course, "timezone", where)
    try:
        timezone = zoneinfo.ZoneInfo(tz_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise (where / "timezone").error(
            f"'{tz_name}' is not an IANA time zone name such as Europe/Berlin or UTC"
        ) from None
    defaults = _mapping(
        raw.get("defaults") or {}, top / "defaults", {"timeout", "memory_limit_mb", "python"}
    )
    tiers_raw = raw.get("tiers")
    if not isinstance(tiers_raw, list) or not tiers_raw:
        raise (top / "tiers").error(f"must be a non-empty list of tiers, got {tiers_raw!r}")
    tiers = tuple(_tier(t, top / "tiers" / i, timezone) for i, t in enumerate(tiers_raw))
    _check_tiers(tiers, top / "tiers")
    config = CourseConfig(
        path=Path(path),
        name=_text(course, "name", where),
        institution=_text(course, "institution", where),
        term=_text(course, "term", where),
        timezone=tz_name,
        timeout=_whole(
            defaults.get("timeout", DEFAULT_TIMEOUT), top / "defaults" / "timeout", "timeout"
        ),
        memory_limit_mb=_whole(
            defaults.get("memory_limit_mb", DEFAULT_MEMORY_MB),
            top / "defaults" / "memory_limit_mb",
            "memory limit (MB)",
        ),
        python=_text(defaults, "python", top / "defaults", DEFAULT_PYTHON),
        tiers=tiers,
        points=_points(raw.get("points"), top / "points"),
        timeouts=_timeouts(raw.get("timeouts"), top / "timeouts"),
        milestones=_milestone_rules(raw.get("milestones"), top / "milestones"),
        datasets=_dataset_choices(raw.get("datasets"), top / "datasets"),
    )
    configured = {m for t in tiers for m in t.milestones}
    for number in [*config.milestones, *config.datasets]:
        if number not in configured:
            section = "milestones" if number in config.milestones else "datasets"
            raise (top / section / str(number)).error(f"milestone {number} is in no tier")
    return config


def _check_tiers(tiers: tuple[Tier, ...], where: _Where) -> None:
    seen_slugs: set[str] = set()
    module_tier: dict[int, str] = {}
    milestone_tier: dict[int, str] = {}
    for i, tier in enumerate(tiers):
        if tier.slug in seen_slugs:
            raise (where / i / "slug").error(f"tier slug '{tier.slug}' is used twice")
        seen_slugs.add(tier.slug)
        for number in tier.modules:
            if number in module_tier:
                raise (where / i / "modules").error(
                    f"module {number:02d} is already in tier '{module_tier[number]}'"
                )
            module_tier[number] = tier.slug
        for number in tier.milestones:
            if number in milestone_tier:
                raise (where / i / "milestones").error(
                    f"milestone {number} is already in tier '{milestone_tier[number]}'"
                )
            milestone_tier[number] = tier.slug
        if i and min(tier.modules) < max(tiers[i - 1].modules):
            raise (where / i / "modules").error(
                f"tiers go in course order: tier '{tier.slug}' starts at module "
                f"{min(tier.modules):02d}, before the end of tier '{tiers[i - 1].slug}' "
                f"(module {max(tiers[i - 1].modules):02d})"
            )


def load_course_config(path: Path) -> CourseConfig:
    """Read and validate a course.yaml file. Raises CourseConfigError naming file and key."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise CourseConfigError(f"{path}: cannot read the course configuration: {error}") from None
    except yaml.YAMLError as error:
        raise CourseConfigError(f"{path}: is not valid YAML: {error}") from None
    return parse_course_config(raw, path)


def find_course_config(root: Path) -> Path | None:
    """The configuration that applies under `root`: a tier repository's `.tinytorch/course.yaml`,
    else the course repository's `template/course.yaml`, else None."""
    for relative in (TEMPLATE_CONFIG, COURSE_CONFIG):
        if (root / relative).is_file():
            return root / relative
    return None


def dump_course_config(config: CourseConfig, path: Path, header: str = "") -> Path:
    """Write `config` as YAML that `load_course_config` reads back to an equal configuration."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True)
    path.write_text(header + text, encoding="utf-8")
    return path
