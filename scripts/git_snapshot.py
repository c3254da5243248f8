"""Make a folder a git repository with exactly one commit, ready to push as a template.

Author and committer are "TinyTorch Classroom"; the user's git configuration, hooks and
signing are ignored, so the result is the same on every machine. The commit date is
$SOURCE_DATE_EPOCH when set (reproducible builds), else now.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

AUTHOR_NAME = "TinyTorch Classroom"
AUTHOR_EMAIL = "classroom@tinytorch.invalid"


def _git(root: Path, *args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        ["git", "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"git {' '.join(args)} failed in {root}: {result.stderr.strip()}")
    return result.stdout.strip()


def commit_snapshot(root: Path, message: str) -> str:
    """`git init` + add everything + one commit in `root`; return the commit id."""
    stamp = os.environ.get("SOURCE_DATE_EPOCH") or str(int(time.time()))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(root)),
        "GIT_CONFIG_GLOBAL": os.devnull,  # no user ~/.gitconfig
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": AUTHOR_NAME,
        "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
        "GIT_COMMITTER_NAME": AUTHOR_NAME,
        "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
        "GIT_AUTHOR_DATE": f"@{stamp} +0000",
        "GIT_COMMITTER_DATE": f"@{stamp} +0000",
    }
    _git(root, "init", "-q", "-b", "main", env=env)
    _git(root, "add", "-A", env=env)
    _git(root, "commit", "-q", "-m", message, env=env)
    return _git(root, "rev-parse", "HEAD", env=env)
