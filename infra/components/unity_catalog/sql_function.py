"""SqlFunction: a Unity Catalog SQL function created from a file in the repo, during `pulumi up`.

The Databricks provider has no resource that creates a function (only the `databricks_functions` data source),
so this is a Pulumi dynamic resource: its provider runs in the deploy (never by hand) and executes the file's
`CREATE OR REPLACE FUNCTION` through the Statement Execution API on the environment's SQL warehouse
(databricks-sdk `statement_execution.execute_statement`, then `get_statement` until a terminal state).

- create / update: run the statement (CREATE OR REPLACE, so a re-run converges);
- diff: a change of the statement's SHA-256 updates, a change of the function's full name replaces;
- delete: `DROP FUNCTION IF EXISTS`.

It authenticates like the Databricks providers of the program: the workspace URL and Azure resource id, and the
auth type of `databricks.authType` (unset: whatever the runner's environment offers, the Azure CLI locally, the
ARM_* / OIDC variables in the deploy jobs). Nothing secret is stored in its state.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from string import Template
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

# How long a statement may take, warehouse start included (a stopped serverless or pro warehouse starts in
# seconds to minutes), and how often it is polled.
TIMEOUT_S = 20 * 60
POLL_S = 5.0
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELED", "CLOSED")

ClientFactory = Callable[[str, str | None, str | None], Any]


def render(path: Path, full_name: str) -> str:
    """The SQL file with its `${function_name}` placeholder filled: the statement the deploy runs."""
    text = path.read_text(encoding="utf-8")
    if "${function_name}" not in text:
        raise ValueError(f"{path.name}: has no ${{function_name}} placeholder for the function's full name")
    return Template(text).substitute(function_name=full_name).strip()


def sha256(statement: str) -> str:
    return hashlib.sha256(statement.encode("utf-8")).hexdigest()


def workspace_client(host: str, resource_id: str | None, auth_type: str | None) -> Any:
    """A databricks-sdk client for the workspace, authenticated from the environment (as the providers are)."""
    from databricks.sdk import WorkspaceClient  # imported when the deploy runs, not when the program is planned

    return WorkspaceClient(host=host, azure_workspace_resource_id=resource_id or None, auth_type=auth_type or None)


def state_of(response: Any) -> str:
    status = getattr(response, "status", None)
    state = getattr(status, "state", None)
    return str(getattr(state, "value", state) or "")


def run_statement(client: Any, warehouse_id: str, statement: str, *, timeout_s: float = TIMEOUT_S,
                  poll_s: float = POLL_S, sleep: Callable[[float], None] = time.sleep,
                  clock: Callable[[], float] = time.monotonic) -> None:
    """Run one statement on the warehouse and wait for it; raise with the warehouse's error when it fails."""
    from databricks.sdk.service.sql import ExecuteStatementRequestOnWaitTimeout

    deadline = clock() + timeout_s
    response = client.statement_execution.execute_statement(
        statement=statement, warehouse_id=warehouse_id, wait_timeout="30s",
        on_wait_timeout=ExecuteStatementRequestOnWaitTimeout.CONTINUE)
    while state_of(response) not in TERMINAL:
        if clock() >= deadline:
            client.statement_execution.cancel_execution(response.statement_id)
            raise TimeoutError(f"statement {response.statement_id} on warehouse {warehouse_id} still "
                               f"{state_of(response) or 'pending'} after {int(timeout_s)} s; cancelled")
        sleep(poll_s)
        response = client.statement_execution.get_statement(response.statement_id)
    if state_of(response) != "SUCCEEDED":
        error = getattr(response.status, "error", None)
        message = getattr(error, "message", None) or "no error message"
        raise RuntimeError(f"statement {response.statement_id} on warehouse {warehouse_id} "
                           f"{state_of(response)}: {message}")


class SqlFunctionProvider(ResourceProvider):
    """Creates, replaces and drops a Unity Catalog SQL function with statements on a SQL warehouse."""

    # Inputs hold no secret (the client authenticates from the environment), so the pickled provider is not one.
    serialize_as_secret_always = False

    def __init__(self, client_factory: ClientFactory | None = None, sleep: Callable[[float], None] | None = None):
        super().__init__()
        self.client_factory = client_factory
        self.sleep = sleep

    def _run(self, props: dict[str, Any], statement: str) -> None:
        factory = self.client_factory or workspace_client
        client = factory(props["host"], props.get("azureWorkspaceResourceId"), props.get("authType"))
        run_statement(client, props["warehouseId"], statement, sleep=self.sleep or time.sleep)

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._run(props, props["statement"])
        return CreateResult(id_=props["fullName"], outs=dict(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("fullName",) if olds.get(k) != news.get(k)]
        changes = replaces + [k for k in ("sqlSha256",) if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changes), replaces=replaces, stables=[], delete_before_replace=True)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._run(news, news["statement"])
        return UpdateResult(outs=dict(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        self._run(props, f"DROP FUNCTION IF EXISTS {props['fullName']}")


class SqlFunction(pulumi.dynamic.Resource, module="databricks", name="SqlFunction"):
    """pulumi-python:dynamic/databricks:SqlFunction: one function, from one SQL file."""

    def __init__(self, name: str, *, sql_file: Path, full_name: str, warehouse_id: pulumi.Input[str],
                 host: pulumi.Input[str], azure_workspace_resource_id: pulumi.Input[str] | None = None,
                 auth_type: str | None = None, provider: SqlFunctionProvider | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        statement = render(sql_file, full_name)
        props: dict[str, Any] = {
            "fullName": full_name, "sqlFile": sql_file.name, "statement": statement, "sqlSha256": sha256(statement),
            "warehouseId": warehouse_id, "host": host, "azureWorkspaceResourceId": azure_workspace_resource_id,
            "authType": auth_type}
        super().__init__(provider or SqlFunctionProvider(), name, props, opts)
