"""`mlopsctl plan`: the offline plan of a stack (or of every stack in parallel): tree, summary, policy verdicts."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from rich.console import Console

from infra.config import PROJECT_DIR, ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", default="dev",
                        help="stack name (Pulumi.<stack>.yaml), or 'all' for every stack in parallel; default dev")
    parser.add_argument("--json", type=Path, metavar="FILE",
                        help="also write the plan JSON here (with --stack all: a folder, one <stack>.json each)")
    parser.add_argument("--quiet", action="store_true",
                        help="one line per stack: resources, components and the policy verdict")
    parser.add_argument("--first-deploy", action="store_true",
                        help="plan the first `pulumi up` from nothing (deploy.firstDeploy): what cannot exist yet "
                             "is left out, two-step encryption at its first step")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR,
                        help="folder with Pulumi.<stack>.yaml files (default: this repository)")


def run(args: argparse.Namespace) -> int:
    if args.stack != "all":
        return _plan_one(args.stack, args.project_dir, args.quiet, args.json, Console(), args.first_deploy)
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from infra.config import stack_order

    stacks = stack_order(args.project_dir)  # promotion order: dev, test, prod
    out = Console()
    # One process per stack: the plans are independent and each pays its own imports, so they overlap.
    # Forked before Pulumi or gRPC are imported here (no threads yet).
    with ProcessPoolExecutor(max_workers=len(stacks), mp_context=get_context("fork")) as pool:
        futures = [pool.submit(_plan_captured, stack, args.project_dir, args.quiet,
                               args.json / f"{stack}.json" if args.json else None,
                               out.width, out.is_terminal, args.first_deploy) for stack in stacks]
        codes = []
        for future in futures:
            text, code = future.result()
            sys.stdout.write(text)
            codes.append(code)
    return max(codes, default=0)


def _plan_captured(stack: str, project_dir: Path, quiet: bool, json_path: Path | None, width: int,
                   terminal: bool, first_deploy: bool = False) -> tuple[str, int]:
    import io

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=terminal)
    try:
        code = _plan_one(stack, project_dir, quiet, json_path, console, first_deploy)
    except ConfigError as exc:  # reported like the single-stack case, not as a worker traceback
        console.print("\n".join(exc.problems), markup=False, highlight=False)
        code = 2
    return buffer.getvalue(), code


def _plan_one(stack: str, project_dir: Path, quiet: bool, json_path: Path | None, console: Console,
              first_deploy: bool = False) -> int:
    from mlopsctl.plan.engine import plan_stack
    from mlopsctl.reports.tree import counts_line, print_plan

    with console.status(f"planning {stack} offline ...") if console.is_terminal else contextlib.nullcontext():
        plan = plan_stack(stack, project_dir, first_deploy)
    # Policy verdicts: same rules and per-stack enforcement as `pulumi preview --policy-pack`.
    # A mandatory violation fails the plan (exit 1, the JSON is still written), as it would fail the preview.
    from infra.policy.offline import check_plan
    from mlopsctl.reports.policy_report import print_report

    report = check_plan(plan.as_json(), stack)
    if json_path:
        plan.write(json_path)
    if quiet:
        verdict = "FAIL" if report.mandatory else "PASS"
        phase = ", first deploy" if plan.first_deploy else ""
        console.print(f"{counts_line(plan)}{phase}; policy {verdict}: {len(report.mandatory)} mandatory, "
                      f"{len(report.advisory)} advisory" + (f"; plan JSON: {json_path}" if json_path else ""),
                      markup=False, highlight=False, soft_wrap=True)
        return report.exit_code
    if plan.first_deploy:
        console.print(f"{stack}: the first `pulumi up` from nothing (deploy.firstDeploy); the next `up` without "
                      "it converges to the steady state", markup=False, highlight=False)
    print_plan(plan, console)
    if json_path:
        console.print(f"plan JSON written to {json_path}", markup=False, highlight=False)
    print_report(report, console)
    return report.exit_code
