"""The trust boundary: everything that runs a student's code, or runs inside that process.

Code in this package either launches the child process that imports student module files
(`run.py`) or is loaded inside that child (`plugin.py`). Nothing here decides points: the
parent reads what the child observed and grading/results.py turns it into points, from the
course's own module.yaml and course configuration.
"""

from grading.sandbox.run import (
    GRADER_INI,
    IMPORT_MODE,
    build_pristine_tree,
    child_environment,
    grader_paths,
    memory_limit_supported,
    run_module,
)

__all__ = [
    "GRADER_INI",
    "IMPORT_MODE",
    "build_pristine_tree",
    "child_environment",
    "grader_paths",
    "memory_limit_supported",
    "run_module",
]
