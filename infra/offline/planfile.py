"""Reading a plan JSON file (README 'The plan JSON') for every tool that takes one: check, diff, diagram."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class PlanFileError(ValueError):
    """A plan file that is missing or not a plan JSON."""


def load_plan(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise PlanFileError(f"{path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise PlanFileError(f"{path}: not JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("resources"), list):
        raise PlanFileError(f"{path}: not a plan JSON (expected an object with 'resources'; "
                            "write one with `mlopsctl plan --json FILE`)")
    return doc
