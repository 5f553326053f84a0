"""`make mutate`: mutation testing (cosmic-ray) of the modules that guard production.

Each module is mutated against the tests of its area only (AREAS below), in throw-away copies of the work
tree, so a module takes minutes and the developer's files are never touched. Prints the score per module and
per group, and every surviving mutant (file:line, operator, the changed line). docs/testing.md explains how
to read it and lists the accepted survivors.

    python scripts/mutate.py                       every module of every group
    python scripts/mutate.py --changed [BASE]      modules touched (or whose tests are touched) since BASE (main)
    python scripts/mutate.py --files "a.py b.py"   just these modules (or the modules these test files cover)
    python scripts/mutate.py --group "grant table" one group
    python scripts/mutate.py --list                what would run, with mutant counts, without running
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import hashlib
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THRESHOLD = 90.0  # percent killed per group
SHARD_SIZE = 40  # mutants per unit of work handed to a worker (balances the workers)


@dataclass(frozen=True)
class Area:
    """The tests that guard a set of modules. `deselect`: slow tests that add nothing for these modules.
    `conftest`: the tests use tests/conftest.py's fixtures (plans of the stacks, `mlopsctl`)."""

    tests: tuple[str, ...]
    deselect: tuple[str, ...] = ()
    conftest: bool = False

    def pytest_args(self) -> list[str]:
        return [*self.tests, *(arg for test in self.deselect for arg in ("--deselect", test))]


RULES = Area(("tests/test_policy_rules.py", "tests/test_rules_edges.py", "tests/test_stack_rules_edges.py"),
             deselect=("tests/test_policy_rules.py::test_taggable_reads_the_same_answer_as_the_sdk_signature",))
# The deploy-readiness rules: hand-made plans first (seconds), then the real plans' broken copies (a minute).
# The SAT rules: their own file (mutated plans of the real stacks and hand-made resources).
SAT = Area(("tests/test_security_posture.py", "tests/test_classic_egress.py"), conftest=True)
EGRESS = Area(("tests/test_classic_egress.py", "tests/test_policy_rules.py"), conftest=True)
DEPLOY = Area(("tests/test_deploy_rules_edges.py", "tests/test_deploy_readiness_azure.py",
               "tests/test_deploy_readiness_uc.py", "tests/test_first_deploy.py", "tests/test_model_lifecycle.py",
               "tests/test_hub_dns_zone.py"),
              deselect=("tests/test_first_deploy.py::test_mlopsctl_plan_first_deploy_writes_a_plan_that_passes",),
              conftest=True)
LIMITS = "tests/test_config_limits.py"
CONFIG = Area(("tests/test_config_errors.py", "tests/test_config_edges.py", LIMITS,
               "tests/test_stack_file_mistakes.py"))
SECURITY = Area(("tests/test_security_config.py", "tests/test_config_edges_security.py", LIMITS))
UNITY_CATALOG = Area(("tests/test_config_edges_uc.py", LIMITS))
COMPUTE = Area(("tests/test_compute_config_errors.py", "tests/test_config_edges_compute.py", LIMITS))
SERVING = Area(("tests/test_serving_config.py", "tests/test_config_edges_serving.py", LIMITS))
GRANTS = Area(("tests/test_grant_table.py",), conftest=True)

# group -> module -> the tests of its area
AREAS: dict[str, dict[str, Area]] = {
    "policy rules": {
        "infra/policy/rules/__init__.py": RULES,
        "infra/policy/rules/types.py": RULES,
        "infra/policy/rules/base.py": RULES,
        "infra/policy/rules/azure.py": RULES,
        "infra/policy/rules/databricks.py": RULES,
        "infra/policy/rules/conventions.py": RULES,
        "infra/policy/rules/stack.py": RULES,
        "infra/policy/rules/resilience.py": Area(("tests/test_resilience.py", "tests/test_policy_rules.py"),
                                                 conftest=True),
        "infra/policy/rules/sat.py": SAT,
        "infra/policy/rules/network_encryption.py": EGRESS,
        "infra/policy/rules/deploy/__init__.py": DEPLOY,
        "infra/policy/rules/deploy/reachability.py": DEPLOY,
        "infra/policy/rules/deploy/azure.py": DEPLOY,
        "infra/policy/rules/deploy/abac.py": Area(("tests/test_deploy_readiness_abac.py",)),
        "infra/policy/rules/deploy/unity_catalog.py": DEPLOY,
        "infra/policy/rules/deploy/egress.py": Area(("tests/test_deploy_readiness_egress.py",), conftest=True),
    },
    "config validation": {
        "infra/config/__init__.py": CONFIG,
        "infra/config/base.py": CONFIG,
        "infra/config/core.py": CONFIG,
        "infra/config/model.py": CONFIG,
        "infra/config/identity.py": CONFIG,
        "infra/config/deploy.py": CONFIG,
        "infra/config/security.py": SECURITY,
        "infra/config/unity_catalog.py": UNITY_CATALOG,
        "infra/config/compute.py": COMPUTE,
        "infra/config/cost.py": COMPUTE,
        "infra/config/serving.py": SERVING,
        "infra/config/lifecycle.py": Area(("tests/test_model_lifecycle.py", "tests/test_serving_config.py"),
                                          conftest=True),
        "infra/config/posture.py": SAT,
        "infra/config/egress.py": Area(("tests/test_classic_egress.py", "tests/test_config_edges.py"), conftest=True),
        "infra/config/resilience.py": Area(("tests/test_resilience.py",), conftest=True),
        "infra/config/governance.py": Area(("tests/test_governance_config.py", "tests/test_governance.py"),
                                           conftest=True),
        "infra/config/abac.py": Area(("tests/test_abac_config.py",)),
        "infra/config/operations.py": Area(("tests/test_operations.py",), conftest=True),
        "infra/config/samples.py": Area(("tests/test_sample_values.py",), conftest=True),
    },
    "grant table": {
        "infra/components/unity_catalog/grant_table.py": GRANTS,
    },
}

# Operators left out, with why (docs/testing.md repeats this):
EXCLUDED_OPERATORS = (
    # `is` <-> `==` (and their negations): equivalent on None/True/False, and on strings it depends on
    # CPython's interning, not on the code.
    r"core/ReplaceComparisonOperator_(Eq_Is|Is_Eq|NotEq_IsNot|IsNot_NotEq)$",
    # Exotic arithmetic targets: `+` -> `**`, `<<`, `>>`, `^`, `%`, `//`, `@` fail exactly like the kept
    # `+` -> `-`, `*`, `/`, `|`, `&` (a TypeError or a wrong number): run time without information.
    r"core/ReplaceBinaryOperator_\w+_(Pow|LShift|RShift|BitXor|Mod|FloorDiv|MatMul)$",
)
_EXCLUDED = re.compile("|".join(f"(?:{e})" for e in EXCLUDED_OPERATORS))
_PRAGMA = re.compile(r"#.*pragma:.*no mutate")


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions (line 1-based, column 0-based) of every type annotation in `source`.

    Annotations are not run (`from __future__ import annotations`; pydantic reads them as types, which
    mypy checks in `make test`): a mutant there is equivalent or breaks the import, so none is generated.
    """
    spans = []
    for node in ast.walk(ast.parse(source)):
        annotations: list[ast.expr | None] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            annotations += [a.annotation for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
            annotations += [a.annotation for a in (args.vararg, args.kwarg) if a is not None]
            annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        for a in annotations:
            if a is not None and a.end_lineno is not None and a.end_col_offset is not None:
                spans.append(((a.lineno, a.col_offset), (a.end_lineno, a.end_col_offset)))
    return spans


def _inside(pos: tuple[int, int], spans: Iterable[tuple[tuple[int, int], tuple[int, int]]]) -> bool:
    return any(start <= pos < end for start, end in spans)


def skip_reason(operator: str, start: tuple[int, int], end: tuple[int, int], lines: Sequence[str],
                spans: Sequence[tuple[tuple[int, int], tuple[int, int]]]) -> str | None:
    """Why a mutant is not run (None: it is run)."""
    if _EXCLUDED.match(operator):
        return "operator excluded"
    if _inside(tuple(start), spans):  # type: ignore[arg-type]
        return "type annotation"
    last = end[0] - 1 if end[1] else end[0] - 2  # a zone ending at column 0 ends on the line before
    if 0 <= last < len(lines) and _PRAGMA.search(lines[last]):
        return "pragma: no mutate"
    if operator == "core/RemoveDecorator" and _implied_classmethod(lines, start[0] - 1):
        return "implied @classmethod"
    return None


def _implied_classmethod(lines: Sequence[str], index: int) -> bool:
    """`@classmethod` under a pydantic `@field_validator`/`@model_validator`: pydantic makes the function a
    class method itself, so removing the decorator changes nothing (an equivalent mutant)."""
    if not (0 < index < len(lines)) or lines[index].strip() != "@classmethod":
        return False
    return lines[index - 1].strip().startswith(("@field_validator(", "@model_validator("))


# --- which modules -----------------------------------------------------------------------------------

def all_modules() -> dict[str, tuple[str, Area]]:
    return {module: (group, area) for group, modules in AREAS.items() for module, area in modules.items()}


def modules_for(paths: Iterable[str]) -> list[str]:
    """Modules a set of changed paths touches: the modules themselves, and the modules a changed test guards."""
    known = all_modules()
    out: list[str] = []
    for path in paths:
        path = os.path.relpath(os.path.abspath(path), ROOT) if os.path.isabs(path) else path
        hits = [path] if path in known else [m for m, (_, area) in known.items() if path in area.tests]
        out += [m for m in hits if m not in out]
    return out


def changed_files(base: str) -> list[str]:
    """Files changed since the merge base with `base`, plus uncommitted and untracked ones."""
    def git(*args: str) -> list[str]:
        return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()

    return sorted({*git("diff", "--name-only", f"{base}...HEAD"), *git("diff", "--name-only", "HEAD"),
                   *git("ls-files", "--others", "--exclude-standard")})


# --- running -----------------------------------------------------------------------------------------

def copy_tree(dest: Path) -> None:
    """The work tree as it is now (tracked and untracked files, uncommitted changes included)."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True).stdout.split(b"\0")
    for name in filter(None, files):
        src = ROOT / os.fsdecode(name)
        if src.is_file():
            target = dest / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)


def test_command(area: Area) -> str:
    # -x: a mutant is killed by its first failing test. --noconftest unless the area needs its fixtures:
    # tests/conftest.py imports the offline engine (40 % of a run of the rule tests).
    # mutate_order: the fastest tests first (scripts/mutate_order.py), so a killed mutant fails early.
    return shlex.join([sys.executable, "-m", "pytest", "-x", "-q", "--no-header", "-p", "mutate_order",
                       *([] if area.conftest else ["--noconftest"]),
                       "-p", "no:cacheprovider", "-p", "no:doctest", "-p", "no:junitxml", "-p", "no:pastebin",
                       *area.pytest_args()])


def test_env(tree: Path, area: Area, record: bool = False) -> dict[str, str]:
    """Tests import the copy's `infra` (not the editable install's) and load no plugins they do not use; the
    area's test durations are recorded by its baseline and order the tests of each mutant's run."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), str(ROOT / "scripts")]),
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "MUTATE_DURATIONS": str(durations_file(tree, area)),
            "MUTATE_RECORD": "1" if record else "0"}


def durations_file(tree: Path, area: Area) -> Path:
    """One per area, beside the workers' trees (every worker reads the baseline's)."""
    return tree.parent / f"durations-{hashlib.sha1(repr(area).encode()).hexdigest()[:12]}.json"


def write_config(path: Path, module: str, area: Area, timeout: float) -> None:
    path.write_text(
        "[cosmic-ray]\n"
        f"module-path = {module!r}\n"
        f"timeout = {timeout:.1f}\n"
        "excluded-modules = []\n"
        f"test-command = {test_command(area)!r}\n"
        "[cosmic-ray.distributor]\n"
        'name = "local"\n')


@dataclass
class Unit:
    module: str
    area: Area
    session: Path  # the shard's own session file
    config: Path
    jobs: list[str] = field(default_factory=list)


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction above 0 and at most 1")
    return value


def in_sample(module: str, operator: str, line: str, column: int, occurrence: int, fraction: float) -> bool:
    """Whether a mutant is in a sample of `fraction` of them. Decided by a hash of what the mutant is (not of its
    position in the session), so the same mutants are sampled run after run while the lines around them change."""
    if fraction >= 1.0:
        return True
    key = f"{module}\0{operator}\0{line.strip()}\0{column}\0{occurrence}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") < fraction * 2**64


def plan_module(module: str, area: Area, work: Path, sample: float = 1.0) -> tuple[Path, Counter[str]]:
    """cosmic-ray init for one module (in the pristine copy), then the skip filter and the sample. Returns the
    session file."""
    from cosmic_ray.work_db import use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    slug = module.replace("/", "_").removesuffix(".py")
    session, config = work / f"{slug}.sqlite", work / f"{slug}.toml"
    write_config(config, module, area, 60)
    subprocess.run([str(Path(sys.executable).parent / "cosmic-ray"), "init", str(config), str(session)],
                   cwd=work / "pristine", check=True)
    source = (work / "pristine" / module).read_text()
    lines, spans = source.splitlines(), annotation_spans(source)
    skipped: Counter[str] = Counter()
    seen: Counter[tuple[str, str, int]] = Counter()
    with use_db(str(session)) as db:
        for item in db.pending_work_items:
            m = item.mutations[0]
            reason = skip_reason(m.operator_name, tuple(m.start_pos), tuple(m.end_pos), lines, spans)
            line, column = lines[m.start_pos[0] - 1], m.start_pos[1]
            seen[(m.operator_name, line, column)] += 1
            occurrence = seen[(m.operator_name, line, column)]
            if not reason and not in_sample(module, m.operator_name, line, column, occurrence, sample):
                reason = "not in the sample"
            if reason:
                skipped[reason] += 1
                db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output=reason))
    return session, skipped


def shard(module: str, area: Area, session: Path, work: Path, jobs: int) -> list[Unit]:
    from cosmic_ray.work_db import use_db

    with use_db(str(session)) as db:
        pending = sorted(db.pending_work_items, key=lambda i: i.job_id)
    count = max(1, min(jobs * 4, math.ceil(len(pending) / SHARD_SIZE))) if pending else 0
    units = []
    for k in range(count):
        part = pending[k::count]
        unit = Unit(module, area, session.with_suffix(f".{k}.sqlite"), session.with_suffix(f".{k}.toml"),
                    [i.job_id for i in part])
        with use_db(str(unit.session)) as db:
            db.add_work_items(part)
        units.append(unit)
    return units


def baseline(tree: Path, area: Area) -> float:
    """Seconds the area's tests take on unmutated code (they must pass, or no mutant can be judged)."""
    start = time.monotonic()
    proc = subprocess.run(shlex.split(test_command(area)), cwd=tree, env=test_env(tree, area, record=True),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"mutate: the tests of {' '.join(area.tests)} fail without any mutation:\n{proc.stdout[-3000:]}")
    return time.monotonic() - start


def run_unit(unit: Unit, tree: Path, timeout: float, attempts: int = 5) -> None:
    """cosmic-ray exec on one shard; a worker that dies (a signal from outside) resumes where it stopped."""
    write_config(unit.config, unit.module, unit.area, timeout)
    for attempt in range(1, attempts + 1):
        proc = subprocess.run([str(Path(sys.executable).parent / "cosmic-ray"), "exec", str(unit.config),
                               str(unit.session)], cwd=tree, env=test_env(tree, unit.area), capture_output=True,
                              text=True)
        if proc.returncode == 0:
            return
        print(f"mutate: cosmic-ray exec on {unit.session.name} ended with {proc.returncode} (attempt {attempt}); "
              f"{'resuming' if attempt < attempts else 'giving up'}\n{proc.stderr[-2000:]}", flush=True)
    raise RuntimeError(f"cosmic-ray exec on {unit.session} failed {attempts} times")


@dataclass
class ModuleResult:
    group: str
    module: str
    killed: int = 0
    survived: int = 0
    incompetent: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    survivors: list[tuple[int, str, str]] = field(default_factory=list)  # (line, operator, diff)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.killed + self.survived

    @property
    def score(self) -> float:
        return 100.0 * self.killed / self.total if self.total else 100.0


def collect(result: ModuleResult, units: list[Unit]) -> None:
    from cosmic_ray.work_db import use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    for unit in units:
        with use_db(str(unit.session)) as db:
            for item, res in db.completed_work_items:
                m = item.mutations[0]
                if res.worker_outcome != WorkerOutcome.NORMAL:
                    result.incompetent += 1  # the mutant could not be applied or the worker failed
                elif res.test_outcome == TestOutcome.SURVIVED:
                    result.survived += 1
                    result.survivors.append((m.start_pos[0], m.operator_name.removeprefix("core/"),
                                             _changed_lines(res.diff or "")))
                elif res.test_outcome == TestOutcome.KILLED:
                    result.killed += 1
                else:
                    result.incompetent += 1
            # items the worker never reached (it crashed): count them, do not hide them
            result.incompetent += len(set(unit.jobs) - {i.job_id for i, _ in db.completed_work_items})
    result.survivors.sort()


def _changed_lines(diff: str) -> str:
    return " | ".join(line.strip() for line in diff.splitlines()
                      if line[:1] in "-+" and not line.startswith(("---", "+++")))


def report(results: list[ModuleResult], out: Path) -> bool:
    """Print (and write to `out`) the scores and survivors. True when every group reaches THRESHOLD."""
    lines = [f"{'module':44} {'killed/total':>13} {'score':>7}  skipped (why)"]
    ok = True
    for group in AREAS:
        mine = [r for r in results if r.group == group]
        if not mine:
            continue
        lines.append(f"-- {group}")
        for r in mine:
            why = ", ".join(f"{n} {k}" for k, n in sorted(r.skipped.items()))
            extra = f"  {r.incompetent} incompetent" if r.incompetent else ""
            lines.append(f"{r.module:44} {f'{r.killed}/{r.total}':>13} {r.score:6.1f}%  {why}{extra}")
        killed, total = sum(r.killed for r in mine), sum(r.total for r in mine)
        score = 100.0 * killed / total if total else 100.0
        verdict = "ok" if score >= THRESHOLD else f"BELOW {THRESHOLD:.0f}%"
        ok = ok and score >= THRESHOLD
        lines.append(f"{'  ' + group + ' (all)':44} {f'{killed}/{total}':>13} {score:6.1f}%  {verdict}")
    survivors = [(r.module, *s) for r in results for s in r.survivors]
    lines.append("")
    lines.append(f"survivors ({len(survivors)}); accepted ones are listed in docs/testing.md:")
    lines += [f"{module}:{line}: {op}: {diff}" for module, line, op, diff in survivors]
    text = "\n".join(lines)
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", default="", help="space-separated modules or test files")
    parser.add_argument("--changed", nargs="?", const="main", default=None, metavar="BASE",
                        help="the modules touched since the merge base with BASE (default main)")
    parser.add_argument("--group", choices=list(AREAS), help="one group only")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--list", action="store_true", help="show what would run, do not run it")
    parser.add_argument("--sample", type=_fraction, default=1.0, metavar="FRACTION",
                        help="run this fraction of each module's mutants (0 < FRACTION <= 1; the same ones every "
                             "run), e.g. 0.25 for a quick score")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (sessions, copies)")
    parser.add_argument("--tests", default="", help="space-separated test files to use instead of each area's")
    parser.add_argument("--out", default=str(ROOT / "out" / "mutate" / "report.txt"))
    args = parser.parse_args(argv)

    known = all_modules()
    if args.tests:
        known = {m: (g, Area(tuple(args.tests.split()))) for m, (g, _) in known.items()}
    if args.files or args.changed is not None:
        paths = args.files.split() if args.files else changed_files(args.changed)
        modules = modules_for(paths)
        if not modules:
            print(f"mutate: no guarded module or its tests among: {' '.join(paths) or '(no changes)'}")
            return 0
    else:
        modules = [m for m, (g, _) in known.items() if args.group in (None, g)]

    # Under out/ (ignored by git), not /tmp: sessions survive a cleanup of /tmp, and a failed run is kept.
    (ROOT / "out" / "mutate").mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="run-", dir=ROOT / "out" / "mutate"))
    failed = True
    try:
        copy_tree(work / "pristine")
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            plans = {m: pool.submit(plan_module, m, known[m][1], work, args.sample) for m in modules}
            planned = {m: plans[m].result() for m in modules}
        units = {m: shard(m, known[m][1], planned[m][0], work, args.jobs) for m in modules}
        if args.list:
            for m in modules:
                n = sum(len(u.jobs) for u in units[m])
                print(f"{known[m][0]:18} {m:44} {n:4} mutants to run, skipped: {dict(planned[m][1])}")
            failed = False
            return 0
        code = _run(modules, known, planned, units, work, args)
        failed = False
        return code
    finally:
        if args.keep or failed:
            print(f"mutate: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _run(modules: list[str], known: dict[str, tuple[str, Area]], planned: dict[str, tuple[Path, Counter[str]]],
         units: dict[str, list[Unit]], work: Path, args: argparse.Namespace) -> int:
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(f"{args.out}.partial").unlink(missing_ok=True)
    trees = []
    for k in range(args.jobs):
        tree = work / f"worker-{k}"
        shutil.copytree(work / "pristine", tree)
        trees.append(tree)
    timeouts = {}
    for area in {known[m][1] for m in modules}:
        timeouts[area] = max(30.0, 5 * baseline(trees[0], area))
    queue = sorted((u for m in modules for u in units[m]), key=lambda u: -len(u.jobs))
    free = list(trees)
    started = {m: time.monotonic() for m in modules}
    left = {m: len(units[m]) for m in modules}
    results = {m: ModuleResult(known[m][0], m, skipped=planned[m][1]) for m in modules}
    print(f"mutate: {sum(len(u.jobs) for u in queue)} mutants in {len(modules)} module(s), {args.jobs} worker(s)")
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        running: dict[concurrent.futures.Future[None], tuple[Unit, Path]] = {}
        while queue or running:
            while queue and free:
                unit, tree = queue.pop(0), free.pop()
                running[pool.submit(run_unit, unit, tree, timeouts[unit.area])] = (unit, tree)
            done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                unit, tree = running.pop(future)
                future.result()
                free.append(tree)
                left[unit.module] -= 1
                if left[unit.module] == 0:
                    r = results[unit.module]
                    collect(r, units[unit.module])
                    r.seconds = time.monotonic() - started[unit.module]
                    print(f"mutate: {unit.module}: {r.killed}/{r.total} killed ({r.score:.1f}%) "
                          f"in {r.seconds:.0f}s", flush=True)
                    with open(f"{args.out}.partial", "a") as partial:  # what is done survives a crash
                        partial.write(f"{r.group}\t{r.module}\t{r.killed}/{r.total}\n" + "".join(
                            f"  {r.module}:{line}: {op}: {diff}\n" for line, op, diff in r.survivors))
    ok = report([results[m] for m in modules], Path(args.out))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
