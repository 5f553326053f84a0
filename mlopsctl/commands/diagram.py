"""`mlopsctl diagram`: arguments and orchestration; the work is in mlopsctl.reports.diagram."""

from __future__ import annotations

import argparse
from pathlib import Path

from infra.config import PROJECT_DIR, stack_order
from mlopsctl.errors import UsageError
from mlopsctl.reports.diagram import DIAGRAMS_PAGE, fenced, render, update_readme


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", default="dev", help="stack to draw from its offline plan (default dev)")
    parser.add_argument("--plan", type=Path, metavar="FILE", help="draw this plan JSON instead")
    parser.add_argument("--fence", action="store_true", help="wrap in a ```mermaid fence (Markdown)")
    parser.add_argument("--update-readme", action="store_true",
                        help="regenerate the diagrams embedded in docs/environments.md for every stack")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from mlopsctl.plan.engine import plan_stack

    if args.update_readme:
        plans = {s: plan_stack(s, args.project_dir).as_json() for s in stack_order(args.project_dir)}
        try:
            changed = update_readme(args.project_dir / DIAGRAMS_PAGE, plans)
        except LookupError as exc:
            raise UsageError(str(exc)) from None
        print(f"{DIAGRAMS_PAGE} diagrams updated: {', '.join(changed) or 'none (already current)'}")
        return 0
    if args.plan:
        from mlopsctl.plan.model import load_plan

        doc = load_plan(args.plan)
    else:
        doc = plan_stack(args.stack, args.project_dir).as_json()
    print(fenced(doc) if args.fence else render(doc), end="")
    return 0
