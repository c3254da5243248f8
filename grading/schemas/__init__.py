"""Every JSON format the grader reads or writes: one schema file each, validated at the boundary.

    results            results.v1.schema.json           tinytorch/results/v1
    classroom_result   classroom_result.v1.schema.json  tinytorch/classroom-result/v1
    protected          protected.v1.schema.json         tinytorch/protected/v1
    test_events        test_events.v1.schema.json       tinytorch/test-events/v1
    classroom50_result   classroom50_result.v1.schema.json   classroom50/result/v1
    classroom50_scores   classroom50_scores.v1.schema.json   classroom50/scores/v1
    gradescope_results   gradescope_results.v1.schema.json   tinytorch/gradescope-results/v1

Written by grading/results.py, grading/render.py, grading/protected.py and
grading/sandbox/plugin.py respectively; the platform formats by grading/classroom50.py and
grading/gradescope.py (Classroom 50's scores.json is read by grading/grade_imports.py).

A breaking change gets a new file (`*.v2.schema.json`) and a new id; readers check the id.

Validation uses `jsonschema` (in the `dev` extra). A student template installs only the
runtime dependencies, so there `validate` checks nothing and returns False; the grader
says so once on stderr. The builders in grading/results.py and grading/render.py produce
these objects from typed code paths, and the course's own test suite validates them.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent
SCHEMAS = {
    "results": "results.v1.schema.json",
    "classroom_result": "classroom_result.v1.schema.json",
    "protected": "protected.v1.schema.json",
    "test_events": "test_events.v1.schema.json",
    "classroom50_result": "classroom50_result.v1.schema.json",
    "classroom50_scores": "classroom50_scores.v1.schema.json",
    "gradescope_results": "gradescope_results.v1.schema.json",
}


class SchemaError(ValueError):
    """A document that does not follow its schema; the message names the field."""


@cache
def load_schema(name: str) -> dict:
    """The parsed JSON schema called `name` (a key of SCHEMAS)."""
    if name not in SCHEMAS:
        raise KeyError(f"no schema '{name}'; known: {', '.join(SCHEMAS)}")
    return json.loads((SCHEMA_DIR / SCHEMAS[name]).read_text(encoding="utf-8"))


def can_validate() -> bool:
    """True when jsonschema is importable (course repository, dev extra)."""
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        return False
    return True


@cache
def _validator(name: str):
    import jsonschema

    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate(name: str, document, where: str = "") -> bool:
    """Check `document` against schema `name`. Raises SchemaError naming the first bad field
    (and `where` it came from). Returns False without checking if jsonschema is missing."""
    if not can_validate():
        return False
    errors = sorted(_validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        field = "/".join(str(part) for part in first.absolute_path) or "(top level)"
        origin = f"{where}: " if where else ""
        raise SchemaError(
            f"{origin}{SCHEMAS[name]}: field {field}: {first.message}"
            + (f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else "")
        )
    return True
