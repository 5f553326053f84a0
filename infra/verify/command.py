"""`mlopsctl verify --stack S`: post-deploy checks of the live workspace, as a report and an exit code.

Hosts and names come from the stack outputs (`pulumi stack output --json --show-secrets=false`, or a file).
Credentials come from databricks-sdk's own default chain, exactly as the SDK resolves them (databricks-sdk
`credentials_provider.py`, `DefaultCredentials`): a token (DATABRICKS_TOKEN), a `~/.databrickscfg` profile
(`--profile` / DATABRICKS_CONFIG_PROFILE), the Azure CLI after `az login`, GitHub Actions OIDC
(`github-oidc-azure`: ARM_CLIENT_ID + ARM_TENANT_ID + the job's ACTIONS_ID_TOKEN_REQUEST_*), and the rest;
DATABRICKS_AUTH_TYPE pins one. The report says which one was used.
Exit 0 when every check passes, 1 on any failure or drift, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import os
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


# The auth types for which databricks-sdk sends X-Databricks-Azure-Workspace-Resource-Id when
# azure_workspace_resource_id is set (credentials_provider.py: azure_service_principal, azure_cli), which lets a
# service principal with a role on the workspace resource in before it is a workspace user.
_WORKSPACE_ID_HEADER_AUTH = {"azure-client-secret", "azure-cli"}


def config_for(host: str, http_timeout: float, retry_timeout: int, workspace_resource_id: str | None = None,
               token: str | None = None, profile: str | None = None) -> Config:
    """The SDK's own credential chain for `host`; the workspace resource id only where that chain chose Azure AD.

    Passing `azure_workspace_resource_id` up front would count as a second ("azure") authorization method
    next to a token or a profile's token, which the SDK refuses ("more than one authorization method
    configured: azure and pat", config.py `_validate`) unless an auth type is pinned. So: resolve first, then
    pin the chosen type and add the id.
    """
    base: dict[str, Any] = {"host": host, "http_timeout_seconds": http_timeout,
                            "retry_timeout_seconds": retry_timeout}
    if token:
        base.update(token=token, auth_type="pat")
    if profile:
        base["profile"] = profile
    cfg = Config(**base)
    if workspace_resource_id and cfg.auth_type in _WORKSPACE_ID_HEADER_AUTH:
        cfg = Config(**{**base, "auth_type": cfg.auth_type, "azure_workspace_resource_id": workspace_resource_id})
    return cfg


def describe_credentials(cfg: Config) -> str:
    """Which credentials the SDK chose, and where they came from (never the secret itself)."""
    kind = cfg.auth_type or "unknown"
    if cfg.profile:
        where = f"profile {cfg.profile} in {cfg.config_file or '~/.databrickscfg'}"
    elif kind == "pat":
        where = "DATABRICKS_TOKEN" if os.environ.get("DATABRICKS_TOKEN") else "a token"
    elif kind == "azure-cli":
        where = "the Azure CLI's signed-in account (az login)"
    elif kind == "github-oidc-azure":
        where = f"a GitHub Actions OIDC token exchanged with Entra ID for client {cfg.azure_client_id}"
    elif kind == "github-oidc":
        where = f"a GitHub Actions OIDC token exchanged with Databricks for client {cfg.client_id}"
    else:
        where = "the environment"
    return f"credentials: {kind} ({where})"


def client_for(outputs: dict[str, Any], stack: str, http_timeout: float, retry_timeout: int,
               host: str | None = None, token: str | None = None, profile: str | None = None) -> WorkspaceClient:
    """A WorkspaceClient for the stack's workspace; the SDK retries transient errors within retry_timeout."""
    cfg = config_for(host or str(require(outputs, "workspaceHost", stack)), http_timeout, retry_timeout,
                     workspace_resource_id=str(outputs["workspaceId"]) if outputs.get("workspaceId") else None,
                     token=token, profile=profile)
    return WorkspaceClient(config=cfg)


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
    parser.add_argument("--profile", help="a ~/.databrickscfg profile (default: DATABRICKS_CONFIG_PROFILE, else "
                                          "the SDK's chain: token, Azure CLI, GitHub OIDC, ...)")
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
        client = client_for(outputs, args.stack, args.http_timeout, args.retry_timeout, host=args.host,
                            profile=args.profile)
    except OutputsError as exc:
        raise UsageError(str(exc)) from None
    except ValueError as exc:  # the SDK found no credentials for the host, or conflicting ones
        raise UsageError(f"cannot authenticate to the {args.stack} workspace: {exc}") from None
    console = Console(width=160)
    console.print(describe_credentials(client.config), markup=False, highlight=False)
    results = verify(client, outputs, args.stack, args.timeout)
    return report(results, args.stack, console)
