"""The policy report: verdicts grouped by severity, the verdict line, the rule list."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding

from infra.policy.enforcement import load_config
from infra.policy.offline import Report
from infra.policy.rules import RULES
from infra.policy.rules.base import SEVERITIES

_COLOR = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


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
