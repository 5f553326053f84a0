"""`mlopsctl verify --stack S`: post-deploy checks of the live workspace, as a report and an exit code.

Hosts and names come from the stack outputs (`pulumi stack output --json --show-secrets=false`, or a file).
Credentials come from the environment, as for the providers: databricks-sdk's default chain (Azure CLI
after `az login`, GitHub OIDC / Azure workload identity in CI, DATABRICKS_TOKEN for a quick local run).
Exit 0 when every check passes, 1 on any failure or drift, 2 on a usage error.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from rich.console import Console
from rich.table import Table

from infra.config import PROJECT_DIR
from infra.verify.checks import FAIL, OK, CheckResult, Verifier
from infra.verify.outputs import OutputsError, from_file, from_pulumi, require

_STYLE = {OK: "green", FAIL: "bold red", "drift": "bold yellow", "skipped": "dim"}


def client_for(outputs: dict[str, Any], stack: str, http_timeout: float, retry_timeout: int,
               host: str | None = None, token: str | None = None) -> WorkspaceClient:
    """A WorkspaceClient for the stack's workspace; the SDK retries transient errors within retry_timeout."""
    kwargs: dict[str, Any] = {"host": host or str(require(outputs, "workspaceHost", stack)),
                              "http_timeout_seconds": http_timeout, "retry_timeout_seconds": retry_timeout}
    if token:
        kwargs.update(token=token, auth_type="pat")
    elif outputs.get("workspaceId"):
        kwargs["azure_workspace_resource_id"] = str(outputs["workspaceId"])
    return WorkspaceClient(config=Config(**kwargs))


def verify(client: WorkspaceClient, outputs: dict[str, Any], stack: str,
           deadline_seconds: float = 600.0) -> list[CheckResult]:
    return Verifier(client, outputs, stack, deadline_seconds).run()


def report(results: list[CheckResult], stack: str, console: Console) -> int:
    table = Table(title=f"verify {stack}: {sum(r.passed for r in results)}/{len(results)} checks passed")
    for col in ("area", "target", "status", "detail"):
        table.add_column(col, overflow="fold")
    for r in results:
        table.add_row(r.area, r.target, f"[{_STYLE.get(r.status, '')}]{r.status.upper()}[/]", r.detail)
    console.print(table)
    failed = [r for r in results if not r.passed]
    if not results:
        console.print("[bold red]nothing was checked: the stack outputs declare no catalogs, grants, "
                      "endpoints, monitors or system schemas[/]")
        return 1
    if failed:
        console.print(f"[bold red]{len(failed)} check(s) failed or drifted[/]")
        return 1
    console.print("[green]the workspace matches the stack[/]")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="the deployed stack (dev, test, prod)")
    parser.add_argument("--outputs", type=Path, metavar="FILE",
                        help="stack outputs JSON (default: `pulumi stack output --json --show-secrets=false`)")
    parser.add_argument("--host", help="workspace URL (default: the workspaceHost output)")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="overall time budget in seconds (default 600); later checks are skipped after it")
    parser.add_argument("--http-timeout", type=float, default=30.0, help="seconds per HTTP request (default 30)")
    parser.add_argument("--retry-timeout", type=int, default=120,
                        help="seconds the SDK keeps retrying a transient error with backoff (default 120)")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from infra.cli import UsageError

    try:
        outputs = from_file(args.outputs) if args.outputs else from_pulumi(args.stack, args.project_dir)
        client = client_for(outputs, args.stack, args.http_timeout, args.retry_timeout, host=args.host)
    except OutputsError as exc:
        raise UsageError(str(exc)) from None
    except ValueError as exc:  # the SDK found no credentials for the host
        raise UsageError(f"cannot authenticate to the {args.stack} workspace: {exc}") from None
    results = verify(client, outputs, args.stack, args.timeout)
    return report(results, args.stack, Console(width=160))
