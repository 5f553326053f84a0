"""`mlopsctl check PLAN_JSON [--stack S]` and `mlopsctl check --list`: the offline policy check."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding

from infra.offline.planfile import PlanFileError, load_plan
from infra.policy.enforcement import PolicyConfigError, load_config
from infra.policy.offline import Report, check_plan
from infra.policy.rules import RULES
from infra.policy.rules.base import SEVERITIES

_COLOR = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


class CheckUsageError(Exception):
    """A missing or unreadable plan/config file (reported on one line, exit 2)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan_json", nargs="?", type=Path, metavar="PLAN_JSON",
                        help="plan JSON written by `mlopsctl plan --json FILE`")
    parser.add_argument("--stack", help="enforcement of this stack (infra/policy/config/<stack>.json); "
                                        "default: the plan's stack (with --list: dev)")
    parser.add_argument("--config", type=Path, metavar="FILE", help="another policy config file")
    parser.add_argument("--list", action="store_true", help="list the rules: name, severity, enforcement")


def print_report(report: Report, console: Console) -> None:
    """Violations grouped by severity, mandatory first; then one summary line."""
    for severity in SEVERITIES:
        rows = [v for v in report.verdicts if v.severity == severity]
        if not rows:
            continue
        # One block per verdict (not a table): rule names are long and must not wrap mid-word at 80 columns.
        console.print(f"[{_COLOR[severity]}]{severity}[/] ({len(rows)})")
        for v in rows:
            level = "[bold red]mandatory[/]" if v.enforcement == "mandatory" else "[yellow]advisory[/] "
            console.print(f"  {level}  [bold]{escape(v.rule)}[/]  {escape(v.resource)}")
            console.print(Padding(escape(v.message), (0, 0, 0, 13)))
    console.print(verdict_line(report))


def verdict_line(report: Report) -> str:
    verdict = "[bold red]FAIL[/]" if report.mandatory else "[bold green]PASS[/]"
    return (f"policy {verdict}: stack {report.stack}, {len(report.rules)} rules over {report.resources} "
            f"resources: {len(report.mandatory)} mandatory, {len(report.advisory)} advisory violation(s) "
            f"[dim](enforcement: {escape(str(report.config.source))})[/]")


def list_rules(stack: str, config_file: Path | None) -> str:
    config = load_config(stack, config_file)
    width = max(len(r.name) for r in RULES)
    return "\n".join(f"{r.name:<{width}}  {r.severity:<8}  {config.level(r.name):<9}  {r.kind}" for r in RULES)


def run(args: argparse.Namespace) -> int:
    console = Console()
    try:
        if args.list:
            print(list_rules(args.stack or "dev", args.config))
            return 0
        if args.plan_json is None:
            raise CheckUsageError("give a PLAN_JSON file (from `mlopsctl plan --json FILE`) or --list")
        try:
            doc = load_plan(args.plan_json)
        except PlanFileError as exc:
            raise CheckUsageError(str(exc)) from None
        stack = args.stack or doc.get("stack")
        config = load_config(stack, args.config)
        report = check_plan(doc, stack, config)
    except (CheckUsageError, PolicyConfigError) as exc:
        for line in str(exc).splitlines():
            print(f"mlopsctl check: {line}", file=sys.stderr)
        return 2
    print_report(report, console)
    return report.exit_code
