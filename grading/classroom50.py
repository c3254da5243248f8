"""Classroom 50 adapter: the results object → `./result.json` and `./release-body.md`.

Classroom 50 (foundation50/classroom50) grades a submission in the student's own repository:
its runner downloads the assignment's bundle (the instructor's `<classroom>/autograders/
<slug>/` folder, published as a tarball), runs `python autograder.py` with the student's
checkout as the working directory, then reads `./result.json` and, if present,
`./release-body.md`, and publishes both as a GitHub Release of the submission.
`tiny build` writes one such bundle per tier (scripts/platform_bundles.py); its
`autograder.py` calls `main()` here.

Contract (result schema grading/schemas/classroom50_result.v1.schema.json). Confirmed in
foundation50/classroom50 `schemas/result-v1.schema.json` (the published schema) and
`cli/gh-teacher/skeleton/dotgithub/scripts/runner.py` (`run_entrypoint`, `finalize_result`,
`validate_result`):
- the runner sets CLASSROOM, ASSIGNMENT, SUBMISSION_TAG (`submit/...`) and hands the
  autograder USERNAME and OWNER (the repository owner), ASSIGNMENT_TYPE, COMMIT_URL,
  RELEASE_URL and REVIEW_URL (empty when there is no baseline: then `review` is
  COMMIT_URL) plus CLASSROOM50_BUNDLE_DIR;
- `result.json` must carry `classroom` and `assignment` equal to the runner's,
  `assignment_type` ("individual" or "group"), `owner`, a `submission` starting with
  `submit/`, non-empty `commit`/`release`/`review`, `datetime` as YYYY-MM-DDTHH:MM:SSZ,
  integer `score` <= `max-score`, and `tests` of {`test-name`, `passed`, `score`,
  `max-score`}; no other top-level field (there is no `usernames`: the published schema
  refuses it). Before validating, the runner overwrites `owner`, `assignment_type`,
  `datetime` (the graded commit's time), `graded_at` and `submitted_by` with its own;
- a non-zero exit of the autograder, a missing or invalid result.json makes the runner
  publish its own 0/0 "error" result: so we exit 0 whenever grading ran (pass or fail is in
  result.json) and non-zero only when we could not grade (missing identity, grader error),
  and write each file atomically, so a crash never leaves a half-written one.

We keep our own outputs (`results.json`, `summary.md`) in
`.tinytorch/results/classroom50/` of the checkout: an instructor can list
`.tinytorch/results/classroom50/results.json` in the assignment's release assets to attach
the full results object (`tinytorch/results/v1`) to every submission's Release.

Test names are '<exercise id> <pytest test name>', unique and at most 100 UTF-8 bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from grading.platform_run import grade_checkout
from grading.render import markdown_summary, points_table
from grading.schemas import validate

SCHEMA_ID = "classroom50/result/v1"
RESULT_FILE = "result.json"
BODY_FILE = "release-body.md"
RESULTS_DIR = Path(".tinytorch") / "results" / "classroom50"
TEST_NAME_BYTES = 100
ASSIGNMENT_TYPES = ("individual", "group")  # the published schema's enum
REQUIRED_ENV = (
    "CLASSROOM",
    "ASSIGNMENT",
    "USERNAME",
    "SUBMISSION_TAG",
    "COMMIT_URL",
    "RELEASE_URL",
)
EXIT_GRADED, EXIT_INFRASTRUCTURE = 0, 2


class IdentityError(ValueError):
    """The runner's environment lacks what result.json needs; the message names it."""


class ResultError(ValueError):
    """A result.json that breaks the contract (a bug in this adapter, never the student's)."""


@dataclass(frozen=True)
class Identity:
    """Who and what was submitted, from the Classroom 50 runner's environment."""

    classroom: str
    assignment: str
    username: str  # the repository owner: $OWNER, else $USERNAME
    assignment_type: str
    submission: str
    commit: str
    release: str
    review: str


def identity_from_env(environ) -> Identity:
    """Read the identity variables; raise IdentityError naming every missing one."""
    values = {name: (environ.get(name) or "").strip() for name in REQUIRED_ENV}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise IdentityError(
            f"missing environment variable{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}: the Classroom 50 runner sets them for autograder.py "
            f"(running by hand? set them, e.g. SUBMISSION_TAG=submit/test)"
        )
    # Newer runners also know a "team" mode, which the published schema does not list yet:
    # any group work is written as "group" (the runner stamps its own value over ours).
    kind = (environ.get("ASSIGNMENT_TYPE") or "").strip() or "individual"
    kind = kind if kind in ASSIGNMENT_TYPES else "group"
    if not values["SUBMISSION_TAG"].startswith("submit/"):
        raise IdentityError(
            f"SUBMISSION_TAG must start with 'submit/' (the runner's submission tags do), "
            f"got {values['SUBMISSION_TAG']!r}"
        )
    return Identity(
        classroom=values["CLASSROOM"],
        assignment=values["ASSIGNMENT"],
        username=(environ.get("OWNER") or "").strip() or values["USERNAME"],
        assignment_type=kind,
        submission=values["SUBMISSION_TAG"],
        commit=values["COMMIT_URL"],
        release=values["RELEASE_URL"],
        review=(environ.get("REVIEW_URL") or "").strip() or values["COMMIT_URL"],
    )


def utc_stamp(moment: dt.datetime) -> str:
    """'2027-03-01T17:00:00Z': the only datetime form Classroom 50 writes."""
    if moment.tzinfo is None:
        raise ValueError("utc_stamp needs a timezone-aware datetime")
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- test names --------------------------------------------------------------------------


def fit_bytes(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes, ending in '…' when it was cut."""
    if len(text.encode("utf-8")) <= limit:
        return text
    room = limit - len("…".encode())
    cut = text.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return cut + "…"


def unique_test_names(names: list[str], limit: int = TEST_NAME_BYTES) -> list[str]:
    """The names, each at most `limit` UTF-8 bytes and all different: a cut or repeated
    name gets ' (2)', ' (3)', ... so no two tests of one result share a row."""
    chosen: list[str] = []
    seen: set[str] = set()
    for name in names:
        clean = " ".join(name.split()) or "test"
        candidate, copy = fit_bytes(clean, limit), 2
        while candidate in seen:
            suffix = f" ({copy})"
            candidate = fit_bytes(clean, limit - len(suffix.encode("utf-8"))) + suffix
            copy += 1
        seen.add(candidate)
        chosen.append(candidate)
    return chosen


def _raw_name(test: dict) -> str:
    if test["nodeid"] is None:  # placeholder: its name already starts with the label
        return test["name"]
    return f"{test['exercise']} {test['name']}"


# ---- the result -----------------------------------------------------------------------------


def check_result(payload: dict) -> list[str]:
    """The rules JSON Schema cannot state: points add up and stay within their maximum,
    test names are unique and short enough. An empty list means the result is sound."""
    problems = []
    tests = payload["tests"]
    if not 0 <= payload["score"] <= payload["max-score"]:
        problems.append(f"score {payload['score']} is not within 0..{payload['max-score']}")
    if payload["score"] != sum(t["score"] for t in tests):
        problems.append("score is not the sum of the tests' scores")
    if payload["max-score"] != sum(t["max-score"] for t in tests):
        problems.append("max-score is not the sum of the tests' max-scores")
    for test in tests:
        if test["score"] > test["max-score"]:
            problems.append(f"{test['test-name']}: score above its max-score")
        if len(test["test-name"].encode("utf-8")) > TEST_NAME_BYTES:
            problems.append(f"{test['test-name']}: longer than {TEST_NAME_BYTES} bytes")
    names = [t["test-name"] for t in tests]
    if len(set(names)) != len(names):
        problems.append("test names repeat")
    return problems


def classroom50_result(results: dict, identity: Identity, now: dt.datetime) -> dict:
    """Pure: the result.json of one grading. One test per graded test of every module
    (points earned of points possible); score and max-score are the results' totals.
    Raises ResultError (or SchemaError) if the payload would break the contract."""
    graded = [t for module in results["modules"] for t in module["tests"] if t["graded"]]
    names = unique_test_names([_raw_name(t) for t in graded])
    tests = [
        {
            "test-name": name,
            "passed": test["status"] == "passed",
            "score": int(test["points"]["earned"]),
            "max-score": int(test["points"]["possible"]),
        }
        for name, test in zip(names, graded, strict=True)
    ]
    payload = {
        "schema": SCHEMA_ID,
        "classroom": identity.classroom,
        "assignment": identity.assignment,
        "assignment_type": identity.assignment_type,
        "owner": identity.username,
        "submission": identity.submission,
        "commit": identity.commit,
        "release": identity.release,
        "review": identity.review,
        "datetime": utc_stamp(now),
        "graded_at": utc_stamp(now),
        "score": int(results["points"]["earned"]),
        "max-score": int(results["points"]["possible"]),
        "tests": tests,
    }
    validate("classroom50_result", payload, RESULT_FILE)
    problems = check_result(payload)
    if problems:
        raise ResultError(f"{RESULT_FILE} would break the contract: {'; '.join(problems)}")
    return payload


def release_body(results: dict) -> str:
    """The student-visible Release text: our Markdown summary (points per module, every
    failure with its exercise id and message, milestone status)."""
    return markdown_summary(results)


# ---- the command shell --------------------------------------------------------------------


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it into place: readers
    see the old file or the whole new one, never half of it."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder.py",
        description="Classroom 50 autograder of a TinyTorch tier: grade the checkout in the "
        "working directory, write result.json and release-body.md there.",
    )
    parser.add_argument("--checkout", type=Path, default=None, help="default: current folder")
    parser.add_argument("--bundle", type=Path, default=None, help="the bundle's pristine/ tree")
    parser.add_argument("--no-milestones", action="store_true", help="skip the milestones")
    parser.add_argument("--run-as", metavar="USER", help="run student code as this user")
    return parser


def main(argv: list[str] | None = None, *, pristine: Path | None = None, environ=None) -> int:
    """Grade, write result.json + release-body.md; 0 when grading ran, 2 when it could not."""
    environ = os.environ if environ is None else environ
    args = build_parser().parse_args(argv)
    pristine = args.bundle or pristine
    checkout = (args.checkout or Path.cwd()).resolve()
    try:
        identity = identity_from_env(environ)
    except IdentityError as error:
        print(f"autograder: {error}", file=sys.stderr)
        return EXIT_INFRASTRUCTURE
    if pristine is None or not (pristine / "modules").is_dir():
        print(f"autograder: no pristine tier tree at {pristine} (--bundle)", file=sys.stderr)
        return EXIT_INFRASTRUCTURE
    for name in (RESULT_FILE, BODY_FILE):  # as the runner does: never publish a stale file
        (checkout / name).unlink(missing_ok=True)
    try:
        run = grade_checkout(
            checkout,
            pristine,
            checkout / RESULTS_DIR,
            milestones=False if args.no_milestones else None,
            environ=environ,
            run_as=args.run_as,
        )
    except Exception as error:  # the grader itself failed: the runner reports an error
        traceback.print_exc()
        print(f"autograder: could not grade: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_INFRASTRUCTURE
    results = run.results
    print(points_table(results), end="")
    if results["status"] == "error":
        print("autograder: the grader could not grade this submission:", file=sys.stderr)
        for problem in results["errors"] + [
            m["run"]["message"] for m in results["modules"] if m["status"] == "error"
        ]:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_INFRASTRUCTURE
    try:
        payload = classroom50_result(results, identity, dt.datetime.now(dt.timezone.utc))
        write_atomic(checkout / BODY_FILE, release_body(results))
        write_atomic(checkout / RESULT_FILE, json.dumps(payload, indent=2) + "\n")
    except Exception as error:  # a contract bug or an unwritable checkout
        traceback.print_exc()
        print(f"autograder: could not write {RESULT_FILE}: {error}", file=sys.stderr)
        (checkout / RESULT_FILE).unlink(missing_ok=True)
        return EXIT_INFRASTRUCTURE
    print(
        f"{RESULT_FILE}: {payload['score']}/{payload['max-score']} points over "
        f"{len(payload['tests'])} tests ({run.seconds:.1f} s)"
    )
    return EXIT_GRADED
