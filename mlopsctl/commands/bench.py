"""`make bench`: how fast the offline plan and the policy check are, against the floor, and how they scale.

Every number is a median of several runs of a fresh process (wall time from spawn to exit, peak RSS from
the kernel's rusage of that child), so imports and interpreter start are included, as a user sees them.

The floor: in one fresh process, import the provider SDK modules that the plan's resource types need and
register the same resources (types, names, parents, providers, inputs) through Pulumi's generic resource
classes under the same mocks, with no program logic. plan/floor is what our code adds on top.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.config import PROJECT_DIR, read_stack_file, stack_order

STACKS = tuple(stack_order())  # every checked-in stack, in promotion order
TARGET_PLAN_OVER_FLOOR = 1.5
TARGET_SCALING = 1.2
TARGET_RSS_BYTES = 1024**3
TARGET_TEST_SECONDS = 120.0


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    rss: int     # bytes


def run_measured(argv: list[str], cwd: Path = PROJECT_DIR, env: dict[str, str] | None = None) -> Sample:
    """Run a command to completion; its wall time and its own peak RSS (not the parent's)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 1):  # check exits 1 on mandatory violations; that is still a measurement
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {stderr.strip()[-500:]}")
    return Sample(wall=wall, rss=usage.ru_maxrss * 1024)


def median(samples: list[Sample]) -> Sample:
    return Sample(wall=statistics.median(s.wall for s in samples), rss=int(statistics.median(s.rss for s in samples)))


def repeat(fn: Callable[[], Sample], runs: int) -> Sample:
    return median([fn() for _ in range(runs)])


# ---- the floor (runs in its own process: `python -m mlopsctl.commands.bench floor PLAN_JSON`) ----

def _sdk_modules(types: set[str]) -> list[str]:
    modules = set()
    for typ in types:
        package, _, rest = typ.partition(":")
        if package == "azure-native":
            modules.add("pulumi_azure_native." + rest.split(":")[0])
        elif package == "databricks" or typ == "pulumi:providers:databricks":
            modules.add("pulumi_databricks")
    return sorted(modules)


def register_generic(plan_doc: dict[str, Any]) -> None:
    """Register the plan's resources with Pulumi's generic classes: no config, no components' logic."""
    import pulumi

    resources = plan_doc["resources"]
    made: dict[str, pulumi.Resource] = {}
    pending = list(resources)
    while pending:  # parents and providers before their users
        progress = []
        for res in pending:
            provider_urn = (res["provider"] or "").rsplit("::", 1)[0] or None
            needs = [u for u in (res["parent"], provider_urn) if u and u in {r["urn"] for r in resources}]
            if any(u not in made for u in needs):
                continue
            opts = pulumi.ResourceOptions(
                parent=made.get(res["parent"]) if res["parent"] else None,
                provider=made.get(provider_urn) if provider_urn else None,  # type: ignore[arg-type]
                protect=res["protect"], retain_on_delete=res["retainOnDelete"])
            typ = res["type"]
            obj: pulumi.Resource
            if typ.startswith("pulumi:providers:"):
                obj = pulumi.ProviderResource(typ.split(":")[-1], res["name"], res["inputs"], opts)
            elif res["custom"]:
                obj = pulumi.CustomResource(typ, res["name"], res["inputs"], opts)
            else:
                obj = pulumi.ComponentResource(typ, res["name"], None, opts)
            made[res["urn"]] = obj
            progress.append(res)
        if not progress:
            raise RuntimeError("plan has a parent/provider cycle")
        pending = [r for r in pending if r not in progress]


def floor_main(plan_path: str) -> None:
    doc = json.loads(Path(plan_path).read_text())
    for module in _sdk_modules({r["type"] for r in doc["resources"]}):
        importlib.import_module(module)
    from mlopsctl.plan.engine import run_program

    replay = run_program(doc["stack"], {}, program=lambda: register_generic(doc))
    if len(replay.resources) != len(doc["resources"]):
        raise SystemExit(f"floor registered {len(replay.resources)} of {len(doc['resources'])} resources")


# ---- scaling: generated configs with N served models per stack ----

def scaled_raw_config(stack: str, n: int) -> dict[str, Any]:
    """The stack's config with N served models (each endpoint with its monitor, alert and permissions)."""
    from mlopsctl.plan.scaling import with_served_models

    return with_served_models(copy.deepcopy(read_stack_file(stack)), stack, n)


def write_project(root: Path, configs: dict[str, dict[str, Any]]) -> Path:
    for stack, raw in configs.items():
        (root / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": raw}, sort_keys=False))
    return root


# ---- the report ----

def _py() -> str:
    return sys.executable


def _mlopsctl(*args: str) -> list[str]:
    return [_py(), "-m", "mlopsctl.commands.main", *args]


def sdk_alias_count(plan_doc: dict[str, Any]) -> int:
    """How many version aliases the typed SDK classes of this plan's resources carry (read from the SDK source).

    Each alias becomes an Output chain at construction (pulumi.Resource collapses it to a URN); the generic
    classes of the floor carry none. This is most of the gap between plan and floor.
    """
    import importlib.util
    import re as _re

    spec = importlib.util.find_spec("pulumi_azure_native")
    if spec is None or not spec.submodule_search_locations:
        return 0
    root = Path(next(iter(spec.submodule_search_locations)))
    counts: dict[str, int] = {}
    total = 0
    for res in plan_doc["resources"]:
        typ = res["type"]
        if not typ.startswith("azure-native:"):
            continue
        if typ not in counts:
            _, module, cls = typ.split(":")
            snake = _re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", cls).lower()
            source = root / module / f"{snake}.py"
            counts[typ] = source.read_text().count("pulumi.Alias(") if source.is_file() else 0
        total += counts[typ]
    return total


def bench_stack(stack: str, runs: int, tmp: Path, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    plan_json = tmp / f"{project_dir.name}-{stack}.json"
    subprocess.run(_mlopsctl("plan", "--stack", stack, "--quiet", "--project-dir", str(project_dir),
                             "--json", str(plan_json)), check=True, capture_output=True, cwd=PROJECT_DIR)
    doc = json.loads(plan_json.read_text())
    count = sum(1 for r in doc["resources"] if r["custom"])
    plan = repeat(lambda: run_measured(_mlopsctl("plan", "--stack", stack, "--project-dir", str(project_dir))),
                  runs)
    check = repeat(lambda: run_measured(_mlopsctl("check", str(plan_json), "--stack", stack)), runs)
    floor = repeat(lambda: run_measured([_py(), "-m", "mlopsctl.commands.bench", "floor", str(plan_json)]), runs)
    return {"stack": stack, "resources": count, "plan": plan, "check": check, "floor": floor,
            "ratio": plan.wall / floor.wall, "aliases": sdk_alias_count(doc)}


def cold_start() -> list[tuple[str, Sample]]:
    """A newcomer's first commands in a fresh clone of HEAD: pip downloads what its cache lacks (the
    machine's cache is kept, as a second clone on the same machine would find it)."""
    with tempfile.TemporaryDirectory(prefix="mlops-cold-") as tmpdir:
        clone = Path(tmpdir) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(PROJECT_DIR), str(clone)], check=True)
        env = {"VIRTUAL_ENV": "", "CI": "true"}  # no progress bars in the measurement
        return [
            ("fresh clone: make plan (creates .venv, installs, plans dev)", run_measured(["make", "plan"], clone, env)),
            ("fresh clone: first make test (empty mypy and plan caches)", run_measured(["make", "test"], clone, env)),
            ("fresh clone: second make test (warm)", run_measured(["make", "test"], clone, env)),
        ]


def _fmt(sample: Sample) -> str:
    return f"{sample.wall:6.2f} s {sample.rss / 2**20:6.0f} MiB"


def _verdict(ok: bool) -> str:
    return "[green]met[/]" if ok else "[red]NOT met[/]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median reported)")
    parser.add_argument("--sizes", default="10,100,500", help="served models per stack for the scaling run")
    parser.add_argument("--skip-test-timing", action="store_true", help="do not time `make test` (warm)")
    parser.add_argument("--cold", action="store_true",
                        help="also time a newcomer's first run: a fresh clone's `make plan` (creates .venv, "
                             "installs) and its first and second `make test`")
    args = parser.parse_args(argv)

    from rich.console import Console
    from rich.table import Table

    console = Console(width=140)  # the table is wide; CI logs are not terminals
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="mlops-bench-") as tmpdir:
        tmp = Path(tmpdir)
        table = Table(title=f"offline plan and check (median of {args.runs} fresh processes)")
        for col in ("stack", "resources", "mlopsctl plan", "mlopsctl check", "floor", "plan/floor", "target",
                    "SDK aliases"):
            table.add_column(col, justify="right" if col != "stack" else "left")
        rows = [bench_stack(stack, args.runs, tmp) for stack in STACKS]
        for row in rows:
            table.add_row(row["stack"], str(row["resources"]), _fmt(row["plan"]), _fmt(row["check"]),
                          _fmt(row["floor"]), f"{row['ratio']:.2f}x",
                          _verdict(row["ratio"] <= TARGET_PLAN_OVER_FLOOR), str(row["aliases"]))
        all_plan = repeat(lambda: run_measured(_mlopsctl("plan", "--stack", "all", "--quiet")), args.runs)
        table.add_row("all (parallel)", str(sum(r["resources"] for r in rows)), _fmt(all_plan), "", "", "", "", "")
        console.print(table)
        console.print("SDK aliases: version aliases the typed azure-native classes of the plan carry; each is an "
                      "Output chain at construction that the generic classes of the floor do not pay (most of "
                      "plan - floor, see docs/operations.md 'Performance').")

        scale = Table(title="scaling: N served models per stack (each with monitor, alert, permissions); dev stack")
        for col in ("N", "resources", "plan wall", "peak RSS", "ms/resource", "marginal ms/resource", "target"):
            scale.add_column(col, justify="right")
        points: list[tuple[int, int, Sample]] = []
        for n in sizes:
            project = tmp / f"n{n}"
            project.mkdir()
            write_project(project, {s: scaled_raw_config(s, n) for s in STACKS})
            row = bench_stack("dev", args.runs, tmp, project)
            points.append((n, row["resources"], row["plan"]))
        marginal: list[float] = []
        for i, (n, count, sample) in enumerate(points):
            # Marginal cost between consecutive sizes: fixed costs (imports, start-up) cancel out, so this is
            # what each extra resource really costs; linear growth keeps it flat.
            if i:
                _, prev_count, prev = points[i - 1]
                marginal.append((sample.wall - prev.wall) / max(1, count - prev_count) * 1000)
            last = i == len(points) - 1
            scale.add_row(str(n), str(count), f"{sample.wall:.2f} s", f"{sample.rss / 2**20:.0f} MiB",
                          f"{sample.wall / count * 1000:.2f}", f"{marginal[-1]:.2f}" if i else "",
                          ("RSS " + _verdict(sample.rss <= TARGET_RSS_BYTES)) if last else "")
        console.print(scale)
        if len(points) >= 2:
            lo_n, lo_count, lo = points[0]
            hi_n, hi_count, hi = points[-1]
            per_lo, per_hi = lo.wall / lo_count, hi.wall / hi_count
            console.print(f"time per resource, N={hi_n} vs N={lo_n}: {per_hi / per_lo:.2f}x "
                          f"(target <= {TARGET_SCALING}x): {_verdict(per_hi / per_lo <= TARGET_SCALING)}")
        if len(marginal) >= 2:
            growth = marginal[-1] / marginal[0]
            console.print(f"marginal time per resource, last step vs first step: {growth:.2f}x "
                          f"(linear growth: <= {TARGET_SCALING}x): {_verdict(growth <= TARGET_SCALING)}")

    if args.cold:
        for label, sample in cold_start():
            console.print(f"{label}: {sample.wall:.1f} s")
    if not args.skip_test_timing:
        subprocess.run(["make", "test"], cwd=PROJECT_DIR, check=True, capture_output=True)  # warm the caches
        test = run_measured(["make", "test"])
        console.print(f"make test (warm): {test.wall:.1f} s (target <= {TARGET_TEST_SECONDS:.0f} s): "
                      f"{_verdict(test.wall <= TARGET_TEST_SECONDS)}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "floor":
        floor_main(sys.argv[2])
    else:
        sys.exit(main(sys.argv[1:]))
