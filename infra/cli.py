"""`mlopsctl`: the offline plan and the tools around it (check, diff, diagram, verify, bundle-targets).

User errors are one line each on stderr with a non-zero exit, never a traceback (`--debug` shows one).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

from infra.config import PROJECT_DIR, ConfigError

# subcommand -> (module, help). Each module has add_arguments(parser) and run(args) -> exit code.
COMMANDS: dict[str, tuple[str, str]] = {
    "plan": ("infra.cli", "offline plan of a stack: tree, summary, policy verdicts"),
    # --- policy check (issue 7) ---
    "check": ("infra.policy.command", "run the policy rules over a plan JSON (or --list them); exit 1 on mandatory"),
    # --- diff, diagram, verify, bundle-targets (issue 8) ---
    "diff": ("infra.offline.diff", "what a change does to a stack: compare two plan JSON files"),
    "diagram": ("infra.offline.diagram", "Mermaid flowchart of a stack (components, private link, bindings)"),
    "verify": ("infra.verify.command", "post-deploy checks of the live workspace (databricks-sdk)"),
    "bundle-targets": ("infra.offline.bundle", "Databricks Asset Bundles targets: section from the stack outputs"),
    # --- cost table (issue 5) ---
    "cost-table": ("infra.cost_table", "what each environment allows and costs at most, from the stack config"),
}


class UsageError(Exception):
    """A user mistake outside the stack config (a missing file, a bad argument)."""


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", default="dev", help="stack name (Pulumi.<stack>.yaml); default dev")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the plan JSON here")
    parser.add_argument("--quiet", action="store_true", help="summary only, no tree")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR,
                        help="folder with Pulumi.<stack>.yaml files (default: this repository)")


def run_plan(args: argparse.Namespace) -> int:
    from infra.offline.engine import plan_stack
    from infra.offline.tree import print_plan, summary_table

    console = Console()
    plan = plan_stack(args.stack, args.project_dir)
    if args.quiet:
        console.print(summary_table(plan))
    else:
        print_plan(plan, console)
    if args.json:
        plan.write(args.json)
        console.print(f"plan JSON written to {args.json}")
    # Policy verdicts (issue 7): same rules and per-stack enforcement as `pulumi preview --policy-pack`.
    # A mandatory violation fails the plan (exit 1, the JSON is still written), as it would fail the preview.
    from infra.policy.command import print_report
    from infra.policy.offline import check_plan

    report = check_plan(plan.as_json(), args.stack)
    print_report(report, console)
    return report.exit_code


def _handlers(name: str) -> tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]:
    if name == "plan":
        return add_plan_arguments, run_plan
    module = importlib.import_module(COMMANDS[name][0])
    return module.add_arguments, module.run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlopsctl", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        add_arguments, _run = _handlers(name)
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
    sys.exit(main())
