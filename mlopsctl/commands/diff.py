"""`mlopsctl diff`: arguments and orchestration; the work is in mlopsctl.reports.diff."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

from mlopsctl.errors import UsageError
from mlopsctl.plan.model import load_plan
from mlopsctl.reports.diff import MARKDOWN_LIMIT, diff_plans, print_text, to_markdown


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base", type=Path, help="plan JSON of the base (e.g. main)")
    parser.add_argument("head", type=Path, help="plan JSON of the change (e.g. the PR)")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                        help="text (terminal, default), markdown (PR comments) or json")
    parser.add_argument("--title", help="heading of the Markdown section (default: the stack)")
    parser.add_argument("--output", type=Path, metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument("--exit-code", action="store_true", help="exit 1 when there are changes")
    parser.add_argument("--limit", type=int, default=MARKDOWN_LIMIT, metavar="CHARS",
                        help=f"Markdown: past CHARS, keep only the risky rows (default {MARKDOWN_LIMIT}; 0: no limit)")
    parser.add_argument("--full-text", metavar="URL", help="Markdown: where the whole diff is, linked when cut")


def run(args: argparse.Namespace) -> int:
    base, head = load_plan(args.base), load_plan(args.head)
    if base.get("stack") and head.get("stack") and base["stack"] != head["stack"]:
        raise UsageError(f"plans of different stacks: {args.base} is {base['stack']!r}, "
                         f"{args.head} is {head['stack']!r}")
    result = diff_plans(base, head)
    if args.format == "text" and args.output is None:
        print_text(result, Console())
    else:
        limit = args.limit if args.limit > 0 else 10**12
        text = (to_markdown(result, args.title, limit, args.full_text) if args.format in ("markdown", "text")
                else json.dumps(result.as_json(), indent=2) + "\n")
        if args.output:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(text)
        else:
            print(text, end="")
    return 1 if args.exit_code and result.has_changes else 0
