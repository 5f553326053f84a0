"""`mlopsctl check PLAN_JSON [--stack S]` and `mlopsctl check --list`: the offline policy check.

`--sat` adds the Security Analysis Tool coverage (docs/security-posture.md): of the plan given, or with `--list`
of the stack's own offline plan."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from infra.config import known_stacks, load_stack, standby_stacks
from infra.config.base import ConfigError
from infra.policy.enforcement import PolicyConfig, PolicyConfigError, load_config
from infra.policy.offline import check_plan
from mlopsctl.errors import UsageError
from mlopsctl.plan import engine
from mlopsctl.plan.model import load_plan
from mlopsctl.reports.policy_report import list_rules, print_report
from mlopsctl.reports.sat_coverage import coverage, render


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan_json", nargs="?", type=Path, metavar="PLAN_JSON",
                        help="plan JSON written by `mlopsctl plan --json FILE`")
    parser.add_argument("--stack", help="enforcement of this stack (infra/policy/config/<stack>.json); "
                                        "default: the plan's stack (with --list: dev)")
    parser.add_argument("--config", type=Path, metavar="FILE", help="another policy config file")
    parser.add_argument("--list", action="store_true", help="list the rules: name, severity, enforcement")
    parser.add_argument("--sat", action="store_true",
                        help="SAT coverage per check (met, relaxed, elsewhere, not met, runtime); with --list it "
                             "plans the stack offline")


def run(args: argparse.Namespace) -> int:
    try:
        if args.list:
            stack = args.stack or "dev"
            print(list_rules(stack, args.config))
            if args.sat:
                print(_sat(engine.plan_stack(stack).as_json(), stack, load_config(stack, args.config)))
            return 0
        if args.plan_json is None:
            raise UsageError("give a PLAN_JSON file (from `mlopsctl plan --json FILE`) or --list")
        doc = load_plan(args.plan_json)
        stack = args.stack or doc.get("stack")
        report = check_plan(doc, stack, load_config(stack, args.config))
    except PolicyConfigError as exc:  # the pack's own error (infra/ cannot know the tools' errors)
        raise UsageError(str(exc)) from None
    except ConfigError as exc:
        raise UsageError("\n".join(exc.problems)) from None
    print_report(report, Console())
    if args.sat:
        print(_sat(doc, str(stack), report.config))
    return report.exit_code


def _sat(doc: dict[str, Any], stack: str, config: PolicyConfig) -> str:
    """The coverage table; relaxation reasons from the stack's securityPosture when its file is here."""
    relaxed = load_stack(stack).security_posture.relaxed if stack in known_stacks() + standby_stacks() else {}
    return render(stack, coverage(doc, config, relaxed))
