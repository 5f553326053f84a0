"""The SqlFunction dynamic provider against a fake workspace client: what each of create, update, diff and delete
runs on the warehouse, how it waits for a statement, and what it reports when the warehouse refuses one."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from infra.components.unity_catalog.sql_function import SqlFunctionProvider, render, run_statement, sha256
from infra.config.abac import MASKS_DIR

FULL = "ml_prod_catalog.governance.mask_string"
STATEMENT = render(MASKS_DIR / "mask_string.sql", FULL)
PROPS = {"fullName": FULL, "sqlFile": "mask_string.sql", "statement": STATEMENT, "sqlSha256": sha256(STATEMENT),
         "warehouseId": "wh1", "host": "https://adb-1.1.azuredatabricks.net",
         "azureWorkspaceResourceId": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Databricks/workspaces/w",
         "authType": "azure-cli"}


def response(state: str, ident: str = "st-1", error: str | None = None) -> Any:
    return SimpleNamespace(statement_id=ident, status=SimpleNamespace(
        state=SimpleNamespace(value=state), error=SimpleNamespace(message=error) if error else None))


@dataclass
class FakeStatements:
    """statement_execution: answers each statement with the next states of `script` (the first from execute)."""

    script: list[str] = field(default_factory=lambda: ["SUCCEEDED"])
    error: str | None = None
    executed: list[tuple[str, str]] = field(default_factory=list)
    polled: int = 0
    cancelled: list[str] = field(default_factory=list)

    def execute_statement(self, *, statement: str, warehouse_id: str, wait_timeout: str, on_wait_timeout: Any) -> Any:
        assert (wait_timeout, on_wait_timeout.value) == ("30s", "CONTINUE")
        self.executed.append((warehouse_id, statement))
        return self._next()

    def get_statement(self, statement_id: str) -> Any:
        self.polled += 1
        return self._next()

    def cancel_execution(self, statement_id: str) -> None:
        self.cancelled.append(statement_id)

    def _next(self) -> Any:
        state = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        return response(state, error=self.error if state == "FAILED" else None)


def provider(statements: FakeStatements, clients: list[tuple[Any, ...]]) -> SqlFunctionProvider:
    def factory(host: str, resource_id: str | None, auth_type: str | None) -> Any:
        clients.append((host, resource_id, auth_type))
        return SimpleNamespace(statement_execution=statements)
    return SqlFunctionProvider(client_factory=factory, sleep=lambda _: None)


def test_create_runs_the_sql_file_on_the_warehouse_and_is_named_by_the_function() -> None:
    statements, clients = FakeStatements(), []
    result = provider(statements, clients).create(dict(PROPS))
    assert statements.executed == [("wh1", STATEMENT)]
    assert clients == [(PROPS["host"], PROPS["azureWorkspaceResourceId"], "azure-cli")]  # auth as the providers
    assert result.id == FULL and result.outs == PROPS


def test_create_waits_for_a_starting_warehouse() -> None:
    statements = FakeStatements(script=["PENDING", "RUNNING", "RUNNING", "SUCCEEDED"])
    provider(statements, []).create(dict(PROPS))
    assert statements.polled == 3


def test_a_refused_statement_fails_the_deploy_with_the_warehouse_message() -> None:
    statements = FakeStatements(script=["RUNNING", "FAILED"], error="[SCHEMA_NOT_FOUND] governance")
    with pytest.raises(RuntimeError, match=r"^statement st-1 on warehouse wh1 FAILED: \[SCHEMA_NOT_FOUND\] "
                                           r"governance$"):
        provider(statements, []).create(dict(PROPS))


def test_a_statement_that_never_ends_is_cancelled_at_the_deadline() -> None:
    statements, now = FakeStatements(script=["PENDING"]), [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(TimeoutError, match=r"^statement st-1 on warehouse wh1 still PENDING after 60 s; cancelled$"):
        run_statement(SimpleNamespace(statement_execution=statements), "wh1", "SELECT 1", timeout_s=60, poll_s=5,
                      sleep=sleep, clock=lambda: now[0])
    assert statements.cancelled == ["st-1"] and statements.polled == 12  # polled until exactly the deadline


@pytest.mark.parametrize(("change", "changes", "replaces"), [
    ({}, False, []),
    ({"statement": STATEMENT + " ", "sqlSha256": sha256(STATEMENT + " ")}, True, []),  # new SQL: re-created
    ({"fullName": "ml_prod_catalog.governance.mask_v2"}, True, ["fullName"]),             # renamed: replaced
    ({"warehouseId": "wh2", "host": "https://adb-2.2.azuredatabricks.net"}, False, []),    # same function
])
def test_diff_follows_the_sql_hash_and_the_name(change: dict[str, str], changes: bool, replaces: list[str]) -> None:
    diff = provider(FakeStatements(), []).diff(FULL, dict(PROPS), {**PROPS, **change})
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (changes, replaces, True)


def test_update_runs_the_new_statement() -> None:
    statements = FakeStatements()
    new = {**PROPS, "statement": STATEMENT.replace("***MASKED***", "[hidden]")}
    assert provider(statements, []).update(FULL, dict(PROPS), new).outs == new
    assert statements.executed == [("wh1", new["statement"])]


def test_delete_drops_the_function() -> None:
    statements = FakeStatements()
    provider(statements, []).delete(FULL, dict(PROPS))
    assert statements.executed == [("wh1", f"DROP FUNCTION IF EXISTS {FULL}")]


def test_a_sql_file_without_the_name_placeholder_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "fixed.sql"
    bad.write_text("CREATE OR REPLACE FUNCTION main.x.f() RETURNS INT RETURN 1")
    with pytest.raises(ValueError, match=r"^fixed.sql: has no \$\{function_name\} placeholder for the function's "
                                         r"full name$"):
        render(bad, FULL)


def test_every_shipped_sql_file_defines_the_function_it_is_named_after() -> None:
    for path in [*MASKS_DIR.glob("*.sql"), *MASKS_DIR.parent.glob("row_filters/*.sql")]:
        assert f"CREATE OR REPLACE FUNCTION {FULL}(" in render(path, FULL)


def test_the_provider_is_stored_by_reference_not_by_value() -> None:
    """The state holds the provider's import path: the deploy's virtualenv (the project installed) runs it."""
    import base64

    from pulumi.dynamic.dynamic import serialize_provider

    pickled = base64.b64decode(serialize_provider(SqlFunctionProvider()))
    assert b"infra.components.unity_catalog.sql_function" in pickled and len(pickled) < 200


def test_the_dynamic_providers_virtualenv_is_found_from_the_program_folder() -> None:
    """Pulumi starts a Python dynamic provider in the program's folder (`main`) and its launch script resolves the
    project's `virtualenv` from there (pulumi/pulumi sdk/python/dist/pulumi-resource-pulumi-python; the engine sets
    the plugin's working directory in pkg/engine/project.go): with `main: infra/` it needs infra/.venv, which
    `make venv` links to the project's .venv. Without the link every run that creates a function fails."""
    import yaml

    from infra.config import PROJECT_DIR

    project = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
    venv = project["runtime"]["options"]["virtualenv"]
    from_program = PROJECT_DIR / project["main"] / venv
    assert from_program.is_dir() and from_program.resolve() == (PROJECT_DIR / venv).resolve()
    assert (from_program / "bin" / "python").exists()
