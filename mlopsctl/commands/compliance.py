"""`mlopsctl compliance`: arguments and orchestration; the work is in mlopsctl.reports.compliance."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.config import PROJECT_DIR
from infra.policy.enforcement import PolicyConfigError, load_config
from infra.policy.offline import check_plan
from mlopsctl.errors import UsageError
from mlopsctl.reports.compliance import build, markdown, render_html


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", help="stack to report on (its offline plan and enforcement file); with --plan, "
                                        "default: the plan's stack")
    parser.add_argument("--plan", type=Path, metavar="FILE",
                        help="report on this plan JSON (from `mlopsctl plan --json FILE`) instead of planning")
    parser.add_argument("--first-deploy", action="store_true",
                        help="report on the plan of the first `pulumi up` from nothing (without --plan)")
    parser.add_argument("--config", type=Path, metavar="FILE", help="another policy enforcement file")
    parser.add_argument("--html", type=Path, metavar="FILE", help="write the self-contained HTML page here")
    parser.add_argument("--markdown", type=Path, metavar="FILE",
                        help="write the Markdown here (without --html or --markdown: Markdown on stdout)")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    if args.plan:
        from mlopsctl.plan.model import load_plan

        doc = load_plan(args.plan)
    elif args.stack:
        from mlopsctl.plan.engine import plan_stack

        doc = plan_stack(args.stack, args.project_dir, args.first_deploy).as_json()
    else:
        raise UsageError("give --stack S (planned offline) or --plan FILE (a plan JSON)")
    stack = args.stack or str(doc.get("stack") or "")
    try:
        results = check_plan(doc, stack, load_config(stack, args.config))
    except PolicyConfigError as exc:
        raise UsageError(str(exc)) from None
    report = build(doc, results)
    if args.html is None and args.markdown is None:
        sys.stdout.write(markdown(report) + "\n")
    for path, text in ((args.html, render_html([report])), (args.markdown, markdown(report) + "\n")):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"compliance report written to {path}", file=sys.stderr)
    summary = ", ".join(f"{report.count(s)} {s}" for s in ("fail", "warn", "pass", "n/a", "disabled"))
    print(f"compliance {report.verdict}: stack {report.stack}, {len(report.controls)} controls: {summary}",
          file=sys.stderr)
    return report.exit_code
