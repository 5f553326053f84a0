"""`mlopsctl recovery`: the recovery posture of a stack from its plan; the work is in mlopsctl.reports.recovery."""

from __future__ import annotations

import argparse
from pathlib import Path

from infra.config import PROJECT_DIR
from mlopsctl.reports.recovery import posture, render


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", default="prod", help="stack name (Pulumi.<stack>.yaml); default prod")
    parser.add_argument("--plan-json", type=Path, metavar="FILE",
                        help="read this plan JSON (`mlopsctl plan --json`) instead of planning the stack")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR,
                        help="folder with Pulumi.<stack>.yaml files (default: this repository)")


def run(args: argparse.Namespace) -> int:
    if args.plan_json is not None:
        from mlopsctl.plan.model import load_plan

        doc = load_plan(args.plan_json)
        stack = str(doc.get("stack", args.stack))
    else:
        from mlopsctl.plan.engine import plan_stack

        doc, stack = plan_stack(args.stack, args.project_dir).as_json(), args.stack
    print(render(stack, posture(doc)))
    return 0
