"""Does a whole tier grade inside Gradescope's limit? Run its autograder as Gradescope does.

    python scripts/benchmark_gradescope.py                      # the Architecture tier
    python scripts/benchmark_gradescope.py --tier foundation --keep /tmp/gs

Builds the tier with the reference solutions (so every module and milestone runs to the
end, the slow case), unzips its Gradescope autograder into a temporary `/autograder`
layout, submits the reference repository and times `run_autograder` from start to
results.json, then prints that time beside the configured limit (gradescope.RUN_LIMIT,
600 s) and their ratio, the points, and each milestone's verdict.

CIFAR-10 cannot be downloaded everywhere, so the tier is built from a copy of the course in
which datasets/cifar10.py expects an archive of random images in CIFAR-10's exact layout
(5 × 10,000 training and 10,000 test images of 3×32×32 bytes, the same pickled batches):
training time does not depend on the pixel values, so the timing is CIFAR-10's; the
accuracy is chance, so Milestone 4 FAILs its threshold. The archive is put where setup.sh
puts the real one ($TINYTORCH_DATA), as in the Gradescope image.

This is a benchmark, not a test: it prints figures and asserts nothing. Pin BLAS threads
on a busy machine (OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1) for steadier figures.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from grading import gradescope  # noqa: E402
from scripts.build_templates import build  # noqa: E402

COURSE_PARTS = ("grading", "modules", "milestones", "datasets", "template", "pyproject.toml")
BATCH, SIDE = 10_000, 32


def cifar_shaped_archive(path: Path, seed: int = 0) -> str:
    """Write a tar.gz in cifar-10-python.tar.gz's layout with random images; its sha256."""
    rng = np.random.default_rng(seed)
    members = {f"data_batch_{i}": BATCH for i in range(1, 6)} | {"test_batch": BATCH}
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, count in members.items():
            batch = {
                b"data": rng.integers(0, 256, (count, 3 * SIDE * SIDE), dtype=np.uint8),
                b"labels": rng.integers(0, 10, count).tolist(),
            }
            _add(tar, f"cifar-10-batches-py/{name}", pickle.dumps(batch, protocol=2))
        meta = {b"label_names": [f"class{i}".encode() for i in range(10)]}
        _add(tar, "cifar-10-batches-py/batches.meta", pickle.dumps(meta, protocol=2))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def course_copy(dest: Path, sha256: str, size: int) -> Path:
    """The course repository with datasets/cifar10.py expecting the stand-in archive."""
    for part in COURSE_PARTS:
        source = REPO_ROOT / part
        if source.is_dir():
            shutil.copytree(source, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, dest / part)
    loader = dest / "datasets" / "cifar10.py"
    text = re.sub(r'SHA256 = "[0-9a-f]+"', f'SHA256 = "{sha256}"', loader.read_text())
    loader.write_text(re.sub(r"ARCHIVE_BYTES = [0-9_]+", f"ARCHIVE_BYTES = {size}", text))
    return dest


def run_autograder(bundle: Path, submission: Path, root: Path, data: Path) -> tuple[float, dict]:
    """Gradescope's layout under `root`, the submission in it; (seconds, results.json)."""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    for name in ("run_autograder", "setup.sh", "autograder.py"):
        (root / "source" / name).chmod(0o755)
    shutil.copytree(submission, root / "submission" / "repo", symlinks=True)
    env = {**os.environ, "GRADESCOPE_ROOT": str(root), "TINYTORCH_PYTHON": sys.executable,
           "TINYTORCH_DATA": str(data)}  # fmt: skip
    started = time.perf_counter()
    subprocess.run([str(root / "source" / "run_autograder")], env=env, check=False)
    seconds = time.perf_counter() - started
    return seconds, json.loads((root / "results" / "results.json").read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tier", default="architecture")
    parser.add_argument("--keep", type=Path, help="work here and keep it (default: a temp dir)")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="tiny-gs-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data"
    data.mkdir(exist_ok=True)
    archive = data / "cifar-10-python.tar.gz"
    started = time.perf_counter()
    sha256 = cifar_shaped_archive(archive)
    course = course_copy(work / "course", sha256, archive.stat().st_size)
    (built,) = build(course / "template" / "course.yaml", work / "out", [args.tier],
                     with_solutions=True, course_root=course, log=lambda _: None)  # fmt: skip
    print(f"prepared in {time.perf_counter() - started:.0f} s: {built.root}")
    bundle = work / "out" / f"{args.tier}-gradescope.zip"
    seconds, results = run_autograder(bundle, built.root, work / "autograder", data)
    limit = gradescope.RUN_LIMIT
    budget = gradescope.budget_for(limit)
    print(f"cores: {os.cpu_count()}; tier {args.tier}: {len(built.plan.graded)} modules, "
          f"milestones {', '.join(map(str, built.plan.milestones)) or 'none'}")  # fmt: skip
    print(
        f"run_autograder: {seconds:.0f} s of the {limit:.0f} s limit "
        f"({seconds / limit:.2f} of it; the budget plans to finish by {budget.grading:.0f} s)"
    )
    print(f"score: {results['score']} (execution_time {results.get('execution_time', 0):.0f} s)")
    for test in results["tests"]:
        if "milestone" in test.get("name", "").lower():
            print(f"  {test['name']}: {test.get('status')} — {test.get('output', '')[:160]}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
