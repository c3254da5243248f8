"""A fork of the course, end to end: template/examples/half-semester.yaml (Modules 01-09 in
two tiers, another institution, time zone, points, timeouts, memory limit and milestone
threshold) is built with its solutions into tmp, and each tier's reference is graded by the
tier's OWN grader (its grading/ and import layer, as CI runs them) — both tiers at once.
The totals must equal what the fork's configuration says. Also: every key the course
configuration accepts is documented in template/COURSE_CONFIG.md.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from grading import course_config
from grading.course_config import TEMPLATE_CONFIG, load_course_config
from grading.course_modules import load_module_meta
from grading.repo import REPO_ROOT
from scripts.build_templates import build

FORK = REPO_ROOT / "template" / "examples" / "half-semester.yaml"
CONFIG_DOC = REPO_ROOT / "template" / "COURSE_CONFIG.md"


def tier_env(root: Path) -> dict[str, str]:
    """Import the tier's own grading/ and tinytorch, like `pip install -e .` in its CI."""
    return {
        **os.environ,
        "PYTHONPATH": f"{root / 'modules'}{os.pathsep}{root}",
        "TINYTORCH_MODULES": str(root / "modules"),
    }


def expected_points(config) -> dict[str, dict[str, int]]:
    """Tier slug -> module key -> points, computed from the fork's configuration."""
    expected = {}
    for tier in config.tiers:
        expected[tier.slug] = {}
        for number in tier.modules:
            (folder,) = sorted((REPO_ROOT / "modules").glob(f"{number:02d}_*/module.yaml"))
            meta = load_module_meta(folder.parent)
            expected[tier.slug][meta.key] = config.module_points(meta)
    return expected


@pytest.fixture(scope="module")
def graded_fork(tmp_path_factory) -> dict:
    config = load_course_config(FORK)
    out = tmp_path_factory.mktemp("fork")
    started = time.perf_counter()
    built = {b.tier.slug: b for b in build(FORK, out, with_solutions=True, log=lambda _: None)}
    running = {}
    for slug, tier_build in built.items():
        root = tier_build.root
        command = [sys.executable, "-m", "grading.cli", "grade", "--pristine-git"]
        command += ["--out", str(out / f"grade-{slug}")]
        running[slug] = subprocess.Popen(
            command, cwd=root, env=tier_env(root), stdout=subprocess.PIPE, text=True
        )
    exits = {
        slug: (process.wait(timeout=120), process.stdout.read())
        for slug, process in running.items()
    }
    results = {
        slug: json.loads((out / f"grade-{slug}" / "results.json").read_text()) for slug in built
    }
    print(f"fork built and graded in {time.perf_counter() - started:.1f} s")
    return {"config": config, "built": built, "exits": exits, "results": results}


def test_every_tier_of_the_fork_is_built(graded_fork):
    config, built = graded_fork["config"], graded_fork["built"]
    assert list(built) == ["part-one", "part-two"]
    for tier in config.tiers:
        root = built[tier.slug].root
        shipped = load_course_config(root / TEMPLATE_CONFIG)
        assert shipped.institution == "Example Technical University"
        assert shipped.tiers[0].modules == tier.modules
        assert shipped.tiers[0].deadline.utcoffset().total_seconds() == 3600  # Berlin, winter
        graded = sorted(p.parent.name for p in (root / "modules").glob("*/module.yaml"))
        assert [int(name[:2]) for name in graded] == sorted(
            config.earlier_modules(tier) + tier.modules
        )
    part_two = load_course_config(built["part-two"].root / TEMPLATE_CONFIG)
    assert part_two.milestones[3].threshold == 0.9 and part_two.datasets == {3: "tinydigits"}
    assert (built["part-two"].root / "datasets" / "tinydigits.py").is_file()
    assert not (built["part-one"].root / "datasets" / "tinydigits.py").exists()
    readme = (built["part-one"].root / "README.md").read_text()
    assert "Machine Learning Systems (half semester)" in readme
    workflow = next((built["part-two"].root / ".github" / "workflows").glob("*.yml")).read_text()
    assert "python-version: '3.12'" in workflow and "--memory-limit 1536M" in workflow


def test_each_tier_grader_gives_the_reference_the_configured_points(graded_fork):
    config = graded_fork["config"]
    expected = expected_points(config)
    assert expected["part-one"]["01_tensor"] == 60 - 10 + 14, "points override of 01.3"
    assert expected["part-two"]["09_spatial"] == 100 - 15 + 20, "points override of 09.2"
    for slug, results in graded_fork["results"].items():
        code, stdout = graded_fork["exits"][slug]
        earned = {m["key"]: m["points"]["earned"] for m in results["modules"]}
        possible = {m["key"]: m["points"]["possible"] for m in results["modules"]}
        assert possible == expected[slug], f"tier {slug}: points table differs from the config"
        assert earned == expected[slug], f"tier {slug}: the reference lost points:\n{stdout}"
        total = sum(expected[slug].values())
        assert results["points"] == {"earned": total, "possible": total}
        assert code == 0 and re.search(rf"Total\s+{total}/{total}\s+passed", stdout)
        assert results["tamper"]["findings"] == []


def test_the_fork_limits_reach_the_grading_runs(graded_fork):
    limits = {
        m["key"]: m["run"]["limits"]
        for results in graded_fork["results"].values()
        for m in results["modules"]
    }
    assert limits["09_spatial"]["test_timeout"] == 120  # timeouts: {9: 120}
    assert limits["01_tensor"]["test_timeout"] == 30  # module.yaml's own timeout
    assert {limit["memory_bytes"] for limit in limits.values()} == {1536 << 20}


def test_the_tier_grader_ran_from_the_tier_not_the_course(graded_fork):
    root = graded_fork["built"]["part-two"].root
    where = subprocess.run(
        [sys.executable, "-c", "import grading, tinytorch; print(grading.__file__)"],
        cwd=root,
        env=tier_env(root),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).resolve().is_relative_to(root.resolve())


# ---- the configuration reference ---------------------------------------------------------------


def documented_keys() -> set[str]:
    return set(re.findall(r"`([a-z_]+)`", CONFIG_DOC.read_text(encoding="utf-8")))


def test_every_course_configuration_key_is_documented():
    accepted = course_config.TOP_KEYS | course_config.TIER_KEYS
    accepted |= {"name", "institution", "term", "timezone"}  # course:
    accepted |= {"timeout", "memory_limit_mb", "python"}  # defaults:
    accepted |= {"threshold", "metric"}  # milestones: N:
    missing = sorted(accepted - documented_keys())
    assert not missing, f"template/COURSE_CONFIG.md does not document: {', '.join(missing)}"


def test_the_documented_example_and_the_fork_are_valid_configurations():
    config = load_course_config(FORK)
    assert [t.slug for t in config.tiers] == ["part-one", "part-two"]
    assert config.modules == tuple(range(1, 10))
    text = CONFIG_DOC.read_text(encoding="utf-8")
    (example,) = re.findall(r"```yaml\n(.*?)```", text, re.S)
    path = Path("COURSE_CONFIG.md")
    parsed = course_config.parse_course_config(yaml.safe_load(example), path)
    assert parsed.tiers and parsed.points
