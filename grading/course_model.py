"""The course configuration as values: tiers, deadlines, overrides, and the questions asked of them.

grading/course_config.py reads and validates `course.yaml` into these values (its docstring
is the schema) and writes them back; everything else asks them questions: which tier holds a
module, what a module is worth, which modules come before a tier, when a tier's solutions
may be published.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from grading.course_modules import DEFAULT_TIMEOUT, ModuleMeta

SCHEMA = "tinytorch-course/v1"
COURSE_CONFIG = Path("template") / "course.yaml"  # in the course repository
TEMPLATE_CONFIG = Path(".tinytorch") / "course.yaml"  # in a built tier repository
CARRY_FORWARD = ("reference", "student")
DEFAULT_MEMORY_MB = 2048
DEFAULT_PYTHON = "3.11"
DEFAULT_PLATFORMS = ("ubuntu-latest",)
SLUG = re.compile(r"^[a-z][a-z0-9-]*$")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
TOP_KEYS = {"schema", "course", "defaults", "tiers", "points", "timeouts", "milestones", "datasets"}
TIER_KEYS = {
    "slug",
    "title",
    "modules",
    "milestones",
    "deadline",
    "carry_forward",
    "platforms",
    "datasets",
    "late_days",
}


class CourseConfigError(ValueError):
    """A course.yaml that does not follow the schema; the message names file and key."""


@dataclass(frozen=True)
class MilestoneRule:
    threshold: float
    metric: str = ""


@dataclass(frozen=True)
class Tier:
    slug: str
    title: str
    modules: tuple[int, ...]
    milestones: tuple[int, ...]
    deadline: dt.datetime
    carry_forward: str
    platforms: tuple[str, ...]
    datasets: tuple[str, ...] = ()
    late_days: int = 0

    @property
    def closes(self) -> dt.datetime:
        """When the last late submission of this tier is in: deadline + late_days. Before it,
        publishing this tier's reference solutions (in a later tier's template) leaks them."""
        return self.deadline + dt.timedelta(days=self.late_days)


@dataclass(frozen=True)
class CourseConfig:
    path: Path
    name: str
    institution: str
    term: str
    timezone: str
    timeout: int
    memory_limit_mb: int
    python: str
    tiers: tuple[Tier, ...]
    points: dict[str, int] = field(default_factory=dict)
    timeouts: dict[int, int] = field(default_factory=dict)
    milestones: dict[int, MilestoneRule] = field(default_factory=dict)
    datasets: dict[int, str] = field(default_factory=dict)

    # ---- questions the build, the grader and the staff tools ask -----------------------
    @property
    def modules(self) -> tuple[int, ...]:
        """Every configured module number, in course order."""
        return tuple(number for tier in self.tiers for number in tier.modules)

    def tier(self, slug: str) -> Tier:
        for tier in self.tiers:
            if tier.slug == slug:
                return tier
        known = ", ".join(t.slug for t in self.tiers)
        raise CourseConfigError(f"{self.path}: no tier '{slug}' (tiers: {known})")

    def tier_of_module(self, number: int) -> Tier | None:
        return next((tier for tier in self.tiers if number in tier.modules), None)

    def earlier_modules(self, tier: Tier) -> tuple[int, ...]:
        """Modules of the tiers before `tier`: what carry_forward is about."""
        index = self.tiers.index(tier)
        return tuple(number for before in self.tiers[:index] for number in before.modules)

    def tier_datasets(self, tier: Tier) -> tuple[str, ...]:
        """Datasets a tier ships: those of its milestones, then its own extras, no repeats."""
        names = [self.datasets[m] for m in tier.milestones if m in self.datasets]
        return tuple(dict.fromkeys([*names, *tier.datasets]))

    def exercise_points(self, meta: ModuleMeta) -> dict[str, int]:
        """Exercise id -> points for one module: module.yaml, with this file's overrides."""
        return {e.id: self.points.get(e.id, e.points) for e in meta.exercises}

    def module_points(self, meta: ModuleMeta) -> int:
        return sum(self.exercise_points(meta).values())

    def module_timeout(self, meta: ModuleMeta) -> int:
        """Seconds per test: this file's override, else module.yaml's, else defaults.timeout."""
        if meta.number in self.timeouts:
            return self.timeouts[meta.number]
        return meta.timeout if declares_timeout(meta) else self.timeout

    def missing_modules(self, modules_root: Path) -> list[int]:
        """Configured module numbers with no `modules_root/NN_*/module.yaml` yet."""
        return [n for n in self.modules if not list(modules_root.glob(f"{n:02d}_*/module.yaml"))]

    def check_modules(self, modules: list[ModuleMeta], require_all: bool = False) -> None:
        """Check overrides against the modules that exist; with `require_all`, that every
        configured module exists. Raises CourseConfigError listing every problem."""
        by_number = {meta.number: meta for meta in modules}
        problems = []
        if require_all:
            missing = [f"{n:02d}" for n in self.modules if n not in by_number]
            if missing:
                problems.append(
                    f"tiers: modules {', '.join(missing)} are configured but have no "
                    f"modules/NN_name/module.yaml"
                )
        for exercise_id in self.points:
            meta = by_number.get(int(exercise_id[:2]))
            if meta is None:
                if int(exercise_id[:2]) not in self.modules:
                    problems.append(f"points.{exercise_id}: module {exercise_id[:2]} is in no tier")
                continue
            if exercise_id not in {e.id for e in meta.exercises}:
                known = ", ".join(e.id for e in meta.exercises)
                problems.append(
                    f"points.{exercise_id}: {meta.key}/module.yaml has no such exercise "
                    f"(known: {known})"
                )
        for number in self.timeouts:
            if number not in self.modules:
                problems.append(f"timeouts.{number:02d}: module {number:02d} is in no tier")
        if problems:
            raise CourseConfigError(f"{self.path}: " + f"\n{self.path}: ".join(problems))

    def restricted(
        self,
        slug: str,
        modules: tuple[int, ...] | None = None,
        milestones: tuple[int, ...] | None = None,
    ) -> CourseConfig:
        """This configuration cut down to one tier (optionally to some of its modules and
        milestones): what a tier repository ships as `.tinytorch/course.yaml`."""
        tier = self.tier(slug)
        if modules is not None:
            tier = replace(tier, modules=tuple(n for n in tier.modules if n in modules))
        if milestones is not None:
            tier = replace(tier, milestones=tuple(n for n in tier.milestones if n in milestones))
        keep = set(tier.modules)
        return replace(
            self,
            tiers=(tier,),
            points={k: v for k, v in self.points.items() if int(k[:2]) in keep},
            timeouts={k: v for k, v in self.timeouts.items() if k in keep},
            milestones={k: v for k, v in self.milestones.items() if k in tier.milestones},
            datasets={k: v for k, v in self.datasets.items() if k in tier.milestones},
        )

    def to_dict(self) -> dict:
        """The YAML mapping that `parse_course_config` reads back to an equal configuration."""
        return {
            "schema": SCHEMA,
            "course": {
                "name": self.name,
                "institution": self.institution,
                "term": self.term,
                "timezone": self.timezone,
            },
            "defaults": {
                "timeout": self.timeout,
                "memory_limit_mb": self.memory_limit_mb,
                "python": self.python,
            },
            "tiers": [
                {
                    "slug": t.slug,
                    "title": t.title,
                    "modules": list(t.modules),
                    "milestones": list(t.milestones),
                    "deadline": t.deadline.isoformat(),
                    "carry_forward": t.carry_forward,
                    "platforms": list(t.platforms),
                    "datasets": list(t.datasets),
                    "late_days": t.late_days,
                }
                for t in self.tiers
            ],
            "points": dict(self.points),
            "timeouts": dict(self.timeouts),
            "milestones": {
                n: {"threshold": r.threshold, "metric": r.metric}
                for n, r in self.milestones.items()
            },
            "datasets": dict(self.datasets),
        }


def declares_timeout(meta: ModuleMeta) -> bool:
    """Whether module.yaml names its own timeout (else the course default applies)."""
    try:
        raw = yaml.safe_load((meta.folder / "module.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return meta.timeout != DEFAULT_TIMEOUT
    return isinstance(raw, dict) and "timeout" in raw
