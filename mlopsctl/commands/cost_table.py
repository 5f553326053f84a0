"""`mlopsctl cost-table`: arguments and orchestration; the work is in mlopsctl.reports.cost_table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.config import PROJECT_DIR
from mlopsctl.errors import UsageError
from mlopsctl.reports import blocks
from mlopsctl.reports.cost_table import BEGIN, END, embedded, load_all, render


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR,
                        help="folder with Pulumi.<stack>.yaml files (default: this repository)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", type=Path, metavar="FILE", help="replace the table between the markers in FILE")
    group.add_argument("--check", type=Path, metavar="FILE", help="exit 1 if FILE's table differs from the config")


def run(args: argparse.Namespace) -> int:
    block = render(load_all(args.project_dir))
    target: Path | None = args.write or args.check
    if target is None:
        print(block)
        return 0
    text = target.read_text()
    current = embedded(text)
    if current is None:
        raise UsageError(f"{target}: no cost-table markers ({BEGIN!r} ... {END!r})")
    if args.check:
        if current != block:
            print(f"{target}: the cost table is out of date; run `mlopsctl cost-table --write {target}`",
                  file=sys.stderr)
            return 1
        return 0
    blocks.rewrite(target, BEGIN, END, block)
    print(f"cost table written to {target}")
    return 0
