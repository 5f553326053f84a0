"""Stack outputs for verify and bundle-targets: from a JSON file, the Pulumi CLI, or the offline plan.

The keys are the shared contract of infra/composition.py (environment, workspaceHost, metastoreId,
defaultCatalog, catalogs, grants, systemSchemas, servingEndpoints, monitors, ...).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from infra.config import PROJECT_DIR
from infra.outputs import StackOutputs
from mlopsctl.errors import ToolError


class OutputsError(ToolError):
    """Stack outputs that cannot be read or lack a key a command needs."""


def from_file(path: Path) -> StackOutputs:
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise OutputsError(f"{path}: not JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(doc, dict):
        raise OutputsError(f"{path}: expected a JSON object of stack outputs (`pulumi stack output --json`)")
    return cast(StackOutputs, doc)


def from_pulumi(stack: str, cwd: Path = PROJECT_DIR) -> StackOutputs:
    """`pulumi stack output --json` of a deployed stack; secrets stay hidden (--show-secrets=false)."""
    if shutil.which("pulumi") is None:
        raise OutputsError("the Pulumi CLI is not on PATH; pass --outputs FILE "
                           "(written by `pulumi stack output --json --stack S > FILE`)")
    result = subprocess.run(["pulumi", "stack", "output", "--json", "--show-secrets=false", "--stack", stack],
                            capture_output=True, text=True, cwd=cwd, timeout=300, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise OutputsError(f"pulumi stack output --stack {stack} failed (exit {result.returncode}): {last}")
    doc = json.loads(result.stdout or "{}")
    if not isinstance(doc, dict):
        raise OutputsError(f"pulumi stack output --stack {stack}: expected a JSON object")
    return cast(StackOutputs, doc)


def from_offline_plan(stack: str, project_dir: Path = PROJECT_DIR) -> StackOutputs:
    from mlopsctl.plan.engine import plan_stack

    return cast(StackOutputs, plan_stack(stack, project_dir).outputs)


def require(outputs: StackOutputs, key: str, stack: str) -> Any:
    value = cast(Mapping[str, Any], outputs).get(key)
    if value is None or value == "":
        raise OutputsError(f"{stack}: stack output {key!r} is missing (keys present: "
                           f"{', '.join(sorted(outputs)) or 'none'})")
    return value
