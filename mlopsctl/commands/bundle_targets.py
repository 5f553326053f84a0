"""`mlopsctl bundle-targets`: arguments and orchestration; the work is in mlopsctl.reports.bundle_targets."""

from __future__ import annotations

import argparse
from pathlib import Path

from infra.config import PROJECT_DIR, stack_order
from mlopsctl.errors import UsageError
from mlopsctl.plan.outputs import from_file, from_offline_plan, from_pulumi
from mlopsctl.reports.bundle_targets import render


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--stack", help="one stack (Pulumi.<stack>.yaml)")
    which.add_argument("--all", action="store_true", help="every stack, in promotion order")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--outputs", type=Path, metavar="FILE",
                        help="stack outputs JSON (`pulumi stack output --json`); only with --stack")
    source.add_argument("--deployed", action="store_true",
                        help="read the deployed stacks' outputs with the Pulumi CLI (default: the offline plan)")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    known = stack_order(args.project_dir)
    if args.stack and args.stack not in known:
        raise UsageError(f"--stack {args.stack}: no Pulumi.{args.stack}.yaml; known stacks: {', '.join(known)}")
    stacks = known if args.all else [args.stack]
    if args.outputs and len(stacks) > 1:
        raise UsageError("--outputs FILE holds one stack's outputs; use it with --stack")
    outputs = {}
    for stack in stacks:
        if args.outputs:
            outputs[stack] = from_file(args.outputs)
        elif args.deployed:
            outputs[stack] = from_pulumi(stack, args.project_dir)
        else:
            outputs[stack] = from_offline_plan(stack, args.project_dir)
    print(render(outputs), end="")
    return 0
