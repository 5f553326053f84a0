"""`mlopsctl check PLAN_JSON [--stack S]` and `mlopsctl check --list`: the offline policy check."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from infra.policy.enforcement import PolicyConfigError, load_config
from infra.policy.offline import check_plan
from mlopsctl.errors import UsageError
from mlopsctl.plan.model import load_plan
from mlopsctl.reports.policy_report import list_rules, print_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan_json", nargs="?", type=Path, metavar="PLAN_JSON",
                        help="plan JSON written by `mlopsctl plan --json FILE`")
    parser.add_argument("--stack", help="enforcement of this stack (infra/policy/config/<stack>.json); "
                                        "default: the plan's stack (with --list: dev)")
    parser.add_argument("--config", type=Path, metavar="FILE", help="another policy config file")
    parser.add_argument("--list", action="store_true", help="list the rules: name, severity, enforcement")


def run(args: argparse.Namespace) -> int:
    try:
        if args.list:
            print(list_rules(args.stack or "dev", args.config))
            return 0
        if args.plan_json is None:
            raise UsageError("give a PLAN_JSON file (from `mlopsctl plan --json FILE`) or --list")
        doc = load_plan(args.plan_json)
        stack = args.stack or doc.get("stack")
        report = check_plan(doc, stack, load_config(stack, args.config))
    except PolicyConfigError as exc:  # the pack's own error (infra/ cannot know the tools' errors)
        raise UsageError(str(exc)) from None
    print_report(report, Console())
    return report.exit_code
