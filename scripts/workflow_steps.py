"""The steps of a tier's Classroom workflow, one builder per concern.

Trust: every step that decides points runs the grader taken from the template's first
commit (`git archive` of the root commit into a folder outside the checkout, installed from
there with `python -I`), never the student's working tree, so editing `grading/`,
`modules/tinytorch/`, tests, `pyproject.toml` or adding `setup.py`, `conftest.py` or a
`.pth` file changes nothing. Student code runs only inside the grader's sandbox, as the
throwaway user `tinytorch-student` where the runner can create one (Linux, passwordless
sudo). A student can still edit this workflow in plain-GitHub mode: `tiny grade-batch`
re-grades with the course's own copy and flags every edit outside the student files.

Totals: each module step always leaves a valid Classroom result with its full max_score —
the grader's, or a fallback written by the step itself (base64 fixed at build time, so it
works when nothing was installed) — so no module can drop out of the recorded total.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import shlex

import datasets.cifar10 as cifar10
from grading.commands.milestone import available_milestones
from grading.course_config import CourseConfig
from grading.schemas import validate
from scripts.points_table import ModulePoints

CHECKOUT = "actions/checkout@v5"
SETUP_PYTHON = "actions/setup-python@v6"
UPLOAD = "actions/upload-artifact@v6"  # v4/v5 run on node20, removed from runners
CACHE_RESTORE = "actions/cache/restore@v5"
CACHE_SAVE = "actions/cache/save@v5"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"

# Every step after the set-up runs even when an earlier one failed (a failing module must
# not hide the points of the next), but not when the run was cancelled.
UNLESS_CANCELLED = "${{ !cancelled() }}"
GRADER_ENV = "TINYTORCH_GRADER"  # the pristine grader's folder (set by the first step)
RESULTS_ENV = "TINYTORCH_RESULTS"  # where every grading step writes its results
RUN_AS_ENV = "TINYTORCH_RUN_AS"  # the unprivileged user, when one could be created
STUDENT_USER = "tinytorch-student"
RESULTS_ARTIFACT_PATH = "${{ runner.temp }}/tinytorch-results"
DATA_DIR = "/tmp/tinytorch-data"  # $TINYTORCH_DATA: CIFAR-10, fetched by the grader, read by all
PIP_CACHE = "~/.cache/pip"
# Milestones with a quick and a full mode run quick on every push and full when an
# instructor or student starts the workflow by hand (workflow_dispatch).
DISPATCH_MODE = "${{ github.event_name == 'workflow_dispatch' && '--full' || '--quick' }}"


def step_id(number: int) -> str:
    """Letters and digits only: the reporter's own check of its `runners` input."""
    return f"module{number:02d}"


def pristine_grader_step() -> dict:
    """Extract the template's first commit outside the checkout, under /tmp so that the
    unprivileged user can read it (a runner's home folder is not readable by others); name
    the folders for later steps. Several root commits (rewritten history) leave no grader:
    every module step then reports 0 with its fallback, and the log says why."""
    script = f"""\
roots=$(git rev-list --max-parents=0 HEAD)
if [ "$(printf '%s\\n' "$roots" | wc -l)" -ne 1 ]; then
  echo "::error::several first commits ($roots): which holds the template? Ask course staff."
  exit 1
fi
grader=$(mktemp -d /tmp/tinytorch-grader.XXXXXX)
git archive --format=tar "$roots" | tar -x -C "$grader"
chmod -R a+rX "$grader"
echo "{GRADER_ENV}=$grader" >> "$GITHUB_ENV"
echo "{RESULTS_ENV}=$RUNNER_TEMP/tinytorch-results" >> "$GITHUB_ENV"
echo "grader and tests taken from the first commit $roots"
"""
    return {
        "name": "Take the grader and the tests from the template's first commit",
        "run": script,
    }


def pip_cache_key(config: CourseConfig, pyproject: bytes) -> str:
    """Cache key: the runner's OS, the course's Python and the template's dependencies."""
    digest = hashlib.sha256(pyproject).hexdigest()[:16]
    return f"pip-${{{{ runner.os }}}}-py{config.python}-{digest}"


def setup_steps(config: CourseConfig, pyproject: bytes) -> list[dict]:
    """Python, the pip cache (restored, then saved right after the install whatever the later
    steps do: a failing grade must not cost the next push its cache), the install."""
    key = pip_cache_key(config, pyproject)
    return [
        {
            "name": "Set up Python",
            "uses": SETUP_PYTHON,
            "with": {"python-version": config.python},
        },
        {
            "name": "Restore the pip cache",
            "id": "pip-cache",
            "uses": CACHE_RESTORE,
            "with": {"path": PIP_CACHE, "key": key},
        },
        {
            "name": "Install the grader (from the first commit, not the working tree)",
            "run": f'python -I -m pip install -e "${GRADER_ENV}"',
        },
        {
            "name": "Save the pip cache",
            "if": "${{ !cancelled() && steps.pip-cache.outputs.cache-hit != 'true' }}",
            "uses": CACHE_SAVE,
            "with": {"path": PIP_CACHE, "key": key},
        },
    ]


def student_user_step() -> dict:
    """A throwaway user without a home or a shell, to run student code (Linux runners)."""
    script = f"""\
if [ "$(uname -s)" = Linux ]; then
  sudo -n useradd --system --no-create-home --shell /usr/sbin/nologin {STUDENT_USER} || true
fi
if id -u {STUDENT_USER} >/dev/null 2>&1; then
  echo "{RUN_AS_ENV}={STUDENT_USER}" >> "$GITHUB_ENV"
  echo "student code runs as {STUDENT_USER}"
else
  echo "no unprivileged user could be created: student code runs as $(id -un), still sandboxed"
fi
"""
    return {"name": "Create an unprivileged user for student code", "run": script}


def lint_step() -> dict:
    return {
        "name": "Forward-dependency lint and module-file policy",
        "if": UNLESS_CANCELLED,
        "run": 'tiny lint --root "$GITHUB_WORKSPACE"',
    }


def fallback_result(row: ModulePoints) -> dict:
    """The Classroom result a module step reports when the grader left none: score 0 of the
    module's full max_score, with one test entry that says what happened."""
    number = row.meta.number
    payload = {
        "version": 1,
        "status": "error",
        "max_score": row.total,
        "tests": [
            {
                "name": f"Module {number:02d} {row.meta.title}: not graded (0/{row.total} pts)",
                "status": "error",
                "score": 0,
                "message": "The grader left no result for this module (the install or an "
                "earlier set-up step failed, or the grader crashed): open this step's log "
                "and the first failed step of the run. Push again once it is fixed.",
                "test_code": f"tiny grade --modules {number:02d}",
                "filename": f"modules/{row.meta.key}/{row.meta.tests}",
                "line_no": 0,
                "execution_time": "0ms",
            }
        ],
    }
    validate("classroom_result", payload, f"fallback result of module {number:02d}")
    return payload


def encoded(payload: dict) -> str:
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def grade_step(config: CourseConfig, row: ModulePoints) -> dict:
    """One module's grader step: the pristine grader on the student's file, its results in
    the results folder, its Classroom result in the step output `result` — or the fallback."""
    number = row.meta.number
    command = (
        f'tiny grade --modules {number:02d} --root "$GITHUB_WORKSPACE" '
        f'--pristine "${GRADER_ENV}" --memory-limit {config.memory_limit_mb}M '
        f'--out "${RESULTS_ENV}/{number:02d}" --classroom-output '
        f'${{{RUN_AS_ENV}:+--run-as "${RUN_AS_ENV}"}}'
    )
    script = f"""\
status=0
{command} || status=$?
if ! grep -q '^result=.' "$GITHUB_OUTPUT"; then
  echo "::error::Module {number:02d}: the grader left no result; reporting 0 of {row.total} points"
  echo "result={encoded(fallback_result(row))}" >> "$GITHUB_OUTPUT"
fi
exit "$status"
"""
    return {
        "name": f"Module {number:02d} {row.meta.title} ({row.total} points)",
        "id": step_id(number),
        "if": UNLESS_CANCELLED,
        "run": script,
    }


def _dataset(config: CourseConfig, number: int, module) -> str | None:
    """The dataset milestone `number` trains on: the course's choice, else its first."""
    choices = getattr(module, "DATASETS", ())
    return config.datasets.get(number) or (choices[0] if choices else None)


def milestone_output(number: int) -> str:
    """Where a milestone step keeps what the milestone wrote under its out/ folder."""
    return f"{RESULTS_ENV}/milestone-{number}-out"


def milestone_steps(config: CourseConfig, milestones: tuple[int, ...]) -> list[dict]:
    """CIFAR-10 restored from the cache and fetched by the grader (sha256-checked) if a
    milestone trains on it, one step per milestone (run in the sandbox on the student's
    files, its verdict recorded for the job summary), then the CIFAR-10 cache saved whatever
    the verdicts. A milestone module may declare MODES = {dataset: ("quick", "full")}; its
    step then gets --quick on push and --full on workflow_dispatch."""
    shipped = available_milestones()
    modules = {n: importlib.import_module(shipped[n]) for n in milestones if n in shipped}
    cifar = any(_dataset(config, n, modules.get(n)) == "cifar10" for n in milestones)
    cache = {"path": DATA_DIR, "key": f"cifar10-python-{cifar10.SHA256[:16]}"}
    steps = []
    if cifar:
        steps += [
            {
                "name": "Restore the CIFAR-10 archive",
                "id": "cifar10-cache",
                "if": UNLESS_CANCELLED,
                "uses": CACHE_RESTORE,
                "with": cache,
            },
            {
                "name": "Fetch CIFAR-10 (once; sha256-checked, read by the milestone)",
                "if": UNLESS_CANCELLED,
                "run": 'python -I -c "from datasets.cifar10 import fetch_archive; '
                'print(fetch_archive())"',
            },
        ]
    for number in milestones:
        module = modules.get(number)
        command = (
            f'tiny milestone --root "$GITHUB_WORKSPACE" --pristine "${GRADER_ENV}" '
            f'--record "${RESULTS_ENV}/milestone-{number}.json" '
            f'--keep-output "${milestone_output(number)}" '
            f'${{{RUN_AS_ENV}:+--run-as "${RUN_AS_ENV}"}} {number}'
        )
        if getattr(module, "MODES", {}).get(_dataset(config, number, module)):
            command += f" {DISPATCH_MODE}"
        steps.append({"name": f"Milestone {number}", "if": UNLESS_CANCELLED, "run": command})
    if cifar:
        steps.append(
            {
                "name": "Save the CIFAR-10 archive",
                "if": "${{ !cancelled() && steps.cifar10-cache.outputs.cache-hit != 'true' }}",
                "uses": CACHE_SAVE,
                "with": cache,
            }
        )
    return steps


def expected_points(rows: list[ModulePoints]) -> str:
    """`01=60,02=50`: each module's full points, as the job summary must count them."""
    return ",".join(f"{row.meta.number:02d}={row.total}" for row in rows)


def fallback_summary(rows: list[ModulePoints]) -> str:
    total = sum(row.total for row in rows)
    return (
        f"## TinyTorch grade: 0 / {total} points\n\n"
        "The grader could not run, so no module was graded: open the first failed step "
        "of this run (usually the install) and push again once it is fixed.\n"
    )


def summary_step(rows: list[ModulePoints]) -> dict:
    """One job summary for the push: the tier total first (the reporter's number), modules,
    milestones, failures by exercise id, tamper findings (grading/tier_summary.py)."""
    fallback = shlex.quote(fallback_summary(rows))
    script = f"""\
{{
  tiny summary "${RESULTS_ENV}" --expect {expected_points(rows)} || printf '%s' {fallback}
}} >> "$GITHUB_STEP_SUMMARY"
"""
    return {"name": "Job summary", "if": UNLESS_CANCELLED, "run": script}


def reporter_step(rows: list[ModulePoints]) -> dict:
    """The reporter turns every module step's `result` into the Classroom grade."""
    ids = [step_id(row.meta.number) for row in rows]
    return {
        "name": "Report the points to GitHub Classroom",
        "if": UNLESS_CANCELLED,
        "uses": REPORTER,
        "env": {f"{i.upper()}_RESULTS": f"${{{{ steps.{i}.outputs.result }}}}" for i in ids},
        "with": {"runners": ",".join(ids)},
    }


def upload_step(name: str, path: str) -> dict:
    return {
        "name": f"Upload the {name.replace('-', ' ')}",
        "if": UNLESS_CANCELLED,
        "uses": UPLOAD,
        "with": {"name": name, "path": path, "if-no-files-found": "warn"},
    }
