"""`mlopsctl`: the offline plan and the tools around it (check, diff, diagram, verify, bundle-targets, ...).

Each subcommand is a module here (`plan` -> mlopsctl/commands/plan.py) with add_arguments(parser) and
run(args) -> exit code. User errors are one line each on stderr with exit 2, never a traceback (`--debug`
shows one): a `ToolError`, or every problem of a bad stack config at once.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import sys
from collections.abc import Callable, Sequence

from infra.config import ConfigError
from mlopsctl.errors import ToolError

# subcommand -> help; the module is mlopsctl.commands.<subcommand with - as _>
COMMANDS: dict[str, str] = {
    "plan": "offline plan of a stack: tree, summary, policy verdicts",
    "config-reference": "every stack-config key with type, default and allowed values",
    "check": "run the policy rules over a plan JSON (or --list them); exit 1 on mandatory",
    "diff": "what a change does to a stack: compare two plan JSON files",
    "diagram": "Mermaid flowchart of a stack (components, private link, bindings)",
    "verify": "post-deploy checks of the live workspace (databricks-sdk)",
    "bundle-targets": "Databricks Asset Bundles targets: section from the stack outputs",
    "cost-table": "what each environment allows and costs at most, from the stack config",
    "recovery": "recovery posture of a stack from its plan: redundancy, soft delete, locks, standby, drill",
    "compliance": "each control of a stack (rules, Azure built-ins, grants) with status and evidence",
}


def _handlers(name: str) -> tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]:
    module = importlib.import_module(f"mlopsctl.commands.{name.replace('-', '_')}")
    return module.add_arguments, module.run


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, just that subcommand's module is imported (start-up time: the others pull
    in databricks-sdk and friends)."""
    parser = argparse.ArgumentParser(prog="mlopsctl", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in COMMANDS.items():
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
    except (ToolError, FileNotFoundError, PermissionError) as exc:
        if args.debug:
            raise
        for line in str(exc).splitlines():
            print(f"mlopsctl {args.command}: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
