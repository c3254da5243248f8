"""Entry point of the process that runs student code; trusted, run by the sandbox as

    python -s bootstrap.py IMPORT_ROOT pytest ARGS...    # run pytest.main(ARGS)
    python -s bootstrap.py IMPORT_ROOT probe N1 N2 ...   # import those modules' files in order
    python -s bootstrap.py IMPORT_ROOT milestone N ARGS  # `tiny milestone N ARGS`, verdict
                                                         # written to ./verdict.json at the end

The parent gives this process an environment built from an allow-list (no PYTHONPATH, no
PYTHONSTARTUP, no GITHUB_* or runner variables), so with `-s` (no user site) nothing of the
graded repository runs at start-up: no sitecustomize.py, usercustomize.py or *.pth of the
repository is on the path. This file then puts IMPORT_ROOT first on sys.path: a folder that
holds only the grader's `grading` and `tinytorch` packages, so a student's `numpy.py` or
`pytest.py` can shadow nothing. The script's own folder is removed from sys.path.

Probe mode prints `imported NN` after each module file has executed, or `failed NN` when it
raised (the test run reports the error in full), flushed, so the parent can tell which import
did not finish within its time limit.
"""

import sys


def main(argv: list[str]) -> int:
    import_root, mode, *rest = argv
    del sys.path[0]  # this script's folder
    sys.path.insert(0, import_root)
    if mode == "pytest":
        import pytest

        return int(pytest.main(rest))
    if mode == "milestone":
        from grading.cli import main as tiny

        number, *options = rest
        return tiny(["milestone", "--record", "verdict.json", number, *options])
    from tinytorch._loader import discover_modules, load_module_file

    wanted = [int(number) for number in rest]
    by_number = {module.number: module for module in discover_modules()}
    for number in wanted:
        try:
            load_module_file(by_number[number])
        except BaseException:  # SystemExit too: the module's own test run reports it
            print(f"failed {number:02d}", flush=True)
            continue
        print(f"imported {number:02d}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
