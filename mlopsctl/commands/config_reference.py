"""`mlopsctl config-reference`: arguments and orchestration; the work is in mlopsctl.reports.config_reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlopsctl.errors import UsageError
from mlopsctl.reports.config_reference import block_in, markdown, replace_in


def add_arguments(parser: Any) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", type=Path, metavar="FILE", help="rewrite the generated block in this file")
    group.add_argument("--check", type=Path, metavar="FILE", help="exit 1 if the block in this file is stale")


def run(args: Any) -> int:
    if args.write:
        try:
            changed = replace_in(args.write)
        except LookupError as exc:
            raise UsageError(str(exc)) from None
        print(f"{args.write}: configuration reference {'updated' if changed else 'already up to date'}")
        return 0
    if args.check:
        if block_in(args.check) != markdown():
            print(f"{args.check}: configuration reference is stale; run mlopsctl config-reference --write "
                  f"{args.check}")
            return 1
        return 0
    print(markdown())
    return 0
