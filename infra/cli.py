"""`mlopsctl`: the offline plan and the tools around it (check, diff, diagram, verify, bundle-targets).

User errors are one line each on stderr with a non-zero exit, never a traceback (`--debug` shows one).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

from infra.config import PROJECT_DIR, ConfigError

# subcommand -> (module, help). Each module has add_arguments(parser) and run(args) -> exit code.
COMMANDS: dict[str, tuple[str, str]] = {
    "plan": ("infra.cli", "offline plan of a stack: tree, summary, policy verdicts"),
    "config-reference": ("infra.config.reference", "every stack-config key with type, default and allowed values"),
    # --- policy check ---
    "check": ("infra.policy.command", "run the policy rules over a plan JSON (or --list them); exit 1 on mandatory"),
    # --- diff, diagram, verify, bundle-targets ---
    "diff": ("infra.offline.diff", "what a change does to a stack: compare two plan JSON files"),
    "diagram": ("infra.offline.diagram", "Mermaid flowchart of a stack (components, private link, bindings)"),
    "verify": ("infra.verify.command", "post-deploy checks of the live workspace (databricks-sdk)"),
    "bundle-targets": ("infra.offline.bundle", "Databricks Asset Bundles targets: section from the stack outputs"),
    # --- cost table ---
    "cost-table": ("infra.cost_table", "what each environment allows and costs at most, from the stack config"),
}


class UsageError(Exception):
    """A user mistake outside the stack config (a missing file, a bad argument)."""


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
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


def run_plan(args: argparse.Namespace) -> int:
    if args.stack != "all":
        return _plan_one(args.stack, args.project_dir, args.quiet, args.json, Console(), args.first_deploy)
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from infra.config import known_stacks

    stacks = known_stacks(args.project_dir)
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
    from infra.offline.engine import plan_stack
    from infra.offline.tree import counts_line, print_plan

    with console.status(f"planning {stack} offline ...") if console.is_terminal else contextlib.nullcontext():
        plan = plan_stack(stack, project_dir, first_deploy)
    # Policy verdicts: same rules and per-stack enforcement as `pulumi preview --policy-pack`.
    # A mandatory violation fails the plan (exit 1, the JSON is still written), as it would fail the preview.
    from infra.policy.command import print_report
    from infra.policy.offline import check_plan

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


def _handlers(name: str) -> tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]:
    if name == "plan":
        return add_plan_arguments, run_plan
    module = importlib.import_module(COMMANDS[name][0])
    return module.add_arguments, module.run


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, just that subcommand's module is imported (start-up time: the others pull
    in databricks-sdk and friends)."""
    parser = argparse.ArgumentParser(prog="mlopsctl", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        subparser = sub.add_parser(name, help=help_text, description=help_text)
        if only is None or name == only:
            add_arguments, _run = _handlers(name)
            add_arguments(subparser)
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version("mlops-platform")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # `mlopsctl check --list | head`: the reader left; say nothing more (and let Python's final flush of
        # stdout go to /dev/null instead of raising again).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(chosen if chosen in COMMANDS else None)
    args = parser.parse_args(argv)
    _, run = _handlers(args.command)
    try:
        return run(args)
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) in the stack configuration; nothing was declared.",
              file=sys.stderr)
        return 2
    except (UsageError, FileNotFoundError, PermissionError) as exc:
        if args.debug:
            raise
        print(f"mlopsctl {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    # `python -m infra.cli` runs this file as __main__, a second copy beside `infra.cli`; dispatch through
    # the imported module so exceptions raised by subcommands (infra.cli.UsageError) are the ones caught.
    from infra.cli import main as _main

    sys.exit(_main())
