"""Grade one module, from the refusal of unsafe code to its points: the trusted side.

    ModuleGrader(modules_root, metas, refused_files, logs, run_as).grade(meta, limits, env)

In order, for one module of the graded tree (grading/sandbox/run.py `build_pristine_tree`):
1. refused files: its source file or a prerequisite's was a link, not a regular file or
   missing -> 0 points, the reason named, nothing runs;
2. static policy (grading/policy.py) of its source and of every prerequisite's source
   (they run in the same process) -> 0 points, one line per violation, nothing runs;
3. import probe (`probe`, once for all selected modules): the module files of the selected
   modules and their prerequisites are executed, in course order, in one short sandboxed
   child (`PROBE_SECONDS`); a file whose import does not finish costs its own module and
   blocks its dependants at once ("blocked by module 01: ..."), instead of each waiting out
   its own wall-clock limit; the others are probed again without it;
4. the graded tests in the sandbox (grading/sandbox/), whose observations are checked
   against the pristine test file (grading/observations.py), with points from module.yaml
   and the course configuration only (grading/points.py).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from grading.course_modules import ModuleMeta
from grading.observations import check_observations
from grading.points import UnreadableTestFile, expected_tests
from grading.policy import check_source, import_advice, module_namespaces
from grading.results import ModuleRun, RunLimits, build_module
from grading.sandbox.run import probe_imports, run_module

PROBE_SECONDS = 30.0  # importing every module file of the course takes about a second


class ModuleGrader:
    def __init__(
        self,
        modules_root: Path,
        metas: list[ModuleMeta],
        refused_files: dict[str, str],
        logs: Path,
        run_as: str | None = None,
        echo: bool = False,
    ) -> None:
        self.modules_root = modules_root
        self.metas = {meta.number: meta for meta in metas}
        self.refused_files = refused_files
        self.logs = logs
        self.run_as = run_as
        self.echo = echo
        self.problems: dict[int, str] = {}  # module number -> why its code may not run
        self.checked: set[int] = set()

    def chain(self, meta: ModuleMeta) -> list[int]:
        """Its prerequisites, transitively, in course order, then the module itself."""
        seen, stack = set(), list(meta.prerequisites)
        while stack:
            number = stack.pop()
            if number not in seen and number in self.metas:
                seen.add(number)
                stack.extend(self.metas[number].prerequisites)
        return [*sorted(seen), meta.number]

    def static_problem(self, number: int) -> str | None:
        """Why module `number`'s own file may not run (refused file or policy), or None."""
        if number not in self.checked:
            self.checked.add(number)
            meta = self.metas[number]
            shown = f"modules/{meta.key}/{meta.source}"
            if meta.key in self.refused_files:
                self.problems[number] = self.refused_files[meta.key]
            elif meta.source_path.is_file():
                namespaces = module_namespaces(number, self.metas.values())
                violations = check_source(meta.source_path.read_bytes(), number, shown, namespaces)
                if violations:
                    lines = [f"{shown} {v.message} (line {v.line})" for v in violations]
                    if any("imports `" in v.message for v in violations):
                        lines.append(import_advice(number, namespaces).capitalize())
                    self.problems[number] = "; ".join(lines)
        return self.problems.get(number)

    def _blocked_number(self, number: int) -> int | None:
        """The first module of `number`'s chain whose code may not run, if any."""
        for member in self.chain(self.metas[number]):
            if self.static_problem(member) or member in self.problems:
                return member
        return None

    def blocked(self, meta: ModuleMeta) -> str | None:
        """Why this module's tests may not run: its own problem, or a prerequisite's."""
        number = self._blocked_number(meta.number)
        if number is None:
            return None
        if number == meta.number:
            return self.problems[number]
        return f"blocked by module {number:02d}: {self.problems[number]}"

    def probe(self, selected: list[ModuleMeta], memory_bytes: int | None) -> None:
        """Find every module file among `selected` and their prerequisites whose import does
        not finish within PROBE_SECONDS and record it in `problems`. Cost: one child, plus
        one more per hanging file found."""
        pending = sorted({n for meta in selected for n in self.chain(meta)})
        while pending:
            runnable = [n for n in pending if self._blocked_number(n) is None]
            if not runnable:
                return
            result = probe_imports(
                runnable, self.modules_root, self.logs, PROBE_SECONDS, memory_bytes, self.run_as
            )
            if result.stuck is None:
                return
            stuck = self.metas[result.stuck]
            self.problems[result.stuck] = (
                f"importing modules/{stuck.key}/{stuck.source} did not finish in "
                f"{PROBE_SECONDS:g} s: is there a loop (or a long computation) at the top "
                f"level of the file, outside any function?"
            )
            pending = [n for n in runnable if n not in result.finished and n != result.stuck]

    def grade(self, meta: ModuleMeta, limits: RunLimits, extra_env: dict[str, str] | None) -> dict:
        files = {
            "source": f"modules/{meta.key}/{meta.source}",
            "tests": f"modules/{meta.key}/{meta.tests}",
        }
        aliases = ((str(self.modules_root), "modules"),)
        if not meta.tests_path.is_file():
            run = ModuleRun(
                limits=limits,
                precheck=f"the graded test file {files['tests']} is missing, so no test of "
                f"this module could run: restore it from the template (git checkout "
                f"<first commit> -- {files['tests']})",
            )
            return build_module(meta, run, files, aliases)
        try:
            expected = expected_tests(meta.tests_path, files["tests"])
        except UnreadableTestFile as error:
            return build_module(meta, ModuleRun(limits=limits, grader_error=str(error)), files)
        refusal = self.blocked(meta)
        if refusal:
            return build_module(meta, ModuleRun(limits=limits, refusal=refusal), files, aliases)
        run = run_module(
            meta.tests_path,
            self.modules_root,
            self.logs / meta.key,
            limits,
            echo=self.echo,
            extra_env=extra_env,
            run_as=self.run_as,
        )
        observed = check_observations(run, expected, meta)
        run = dataclasses.replace(
            run, collected=observed.collected, findings=tuple(observed.findings)
        )
        return build_module(meta, run, files, aliases)
