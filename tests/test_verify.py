"""`mlopsctl verify` against a local HTTP server that answers like a Databricks workspace.

Every response body is built from databricks-sdk's own dataclasses (`.as_dict()`), so the shapes are the
SDK's. The fake answers "as declared" by default (from the stack outputs); each test breaks one thing.
"""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.catalog import (
    CatalogInfo,
    CatalogIsolationMode,
    GetPermissionsResponse,
    GetWorkspaceBindingsResponse,
    ListSystemSchemasResponse,
    MetastoreAssignment,
    MonitorInfo,
    MonitorInfoStatus,
    MonitorRefreshInfo,
    MonitorRefreshInfoState,
    MonitorRefreshInfoTrigger,
    MonitorRefreshListResponse,
    Privilege,
    PrivilegeAssignment,
    SchemaInfo,
    SystemSchemaInfo,
    WorkspaceBinding,
    WorkspaceBindingBindingType,
)
from databricks.sdk.service.serving import (
    AiGatewayConfig,
    AiGatewayInferenceTableConfig,
    EndpointCoreConfigOutput,
    EndpointState,
    EndpointStateConfigUpdate,
    EndpointStateReady,
    ServedEntityOutput,
    ServingEndpointDetailed,
)
from pytest_httpserver import HTTPServer
from rich.console import Console
from werkzeug import Request, Response

from mlopsctl.commands.verify import client_for, report, verify
from mlopsctl.verify.checks import DRIFT, FAIL, OK, CheckResult
from tests.support import plan_of

UC = "/api/2.1/unity-catalog"

# Synthetic outputs in the shared contract's shape (the program's outputs are the real ones; see the last test).
OUTPUTS: dict[str, Any] = {
    "environment": "test",
    "workspaceHost": "https://adb-1234567890123456.7.azuredatabricks.net",
    "workspaceNumericId": "1234567890123456",
    "metastoreId": "6f1e2d3c-4b5a-4c6d-8e7f-0a1b2c3d4e5f",
    "defaultCatalog": "ml_test_catalog",
    "catalogs": [{"name": "ml_test_catalog", "schemas": ["raw", "feature_store"], "isolationMode": "ISOLATED",
                  "bindings": [{"workspaceId": "1234567890123456", "bindingType": "BINDING_TYPE_READ_WRITE"}]}],
    "grants": [
        {"securableType": "catalog", "securable": "ml_test_catalog", "principal": "mlops-ml-engineers",
         "privileges": ["USE_CATALOG", "USE_SCHEMA"]},
        {"securableType": "catalog", "securable": "ml_test_catalog", "principal": "mlops-data-scientists",
         "privileges": ["BROWSE", "USE_CATALOG"]},
        {"securableType": "schema", "securable": "ml_test_catalog.raw", "principal": "mlops-ml-engineers",
         "privileges": ["SELECT"]},
    ],
    "systemSchemas": ["access", "billing"],
    "servingEndpoints": [{"name": "ml-model-model-serving-test",
                          "entities": [{"name": "champion", "entityName": "ml_test_catalog.models.churn",
                                        "entityVersion": "3"}],
                          "inferenceTable": {"catalog": "ml_test_catalog", "schema": "model_inference_logs",
                                             "tablePrefix": "inference_logs_"}}],
    "monitors": [{"tableName": "ml_test_catalog.model_inference_logs.inference_logs_processed",
                  "outputSchema": "ml_test_catalog.monitoring", "endpoint": "ml-model-model-serving-test"}],
}


class FakeWorkspace:
    """Registers one handler per API path the checks call; `bodies` can be changed before the run."""

    def __init__(self, server: HTTPServer, outputs: dict[str, Any]) -> None:
        self.server = server
        self.outputs = outputs
        self.bodies: dict[str, Any] = {}
        self.status: dict[str, int] = {}
        self.stall: dict[str, float] = {}
        self.calls: list[str] = []
        self._declare()

    def _declare(self) -> None:
        o = self.outputs
        self.bodies[f"{UC}/current-metastore-assignment"] = MetastoreAssignment(
            metastore_id=o["metastoreId"], workspace_id=int(o["workspaceNumericId"]),
            default_catalog_name=o["defaultCatalog"]).as_dict()
        for cat in o.get("catalogs") or []:
            self.bodies[f"{UC}/catalogs/{cat['name']}"] = CatalogInfo(
                name=cat["name"], isolation_mode=CatalogIsolationMode(cat["isolationMode"])).as_dict()
            for schema in cat["schemas"]:
                self.bodies[f"{UC}/schemas/{cat['name']}.{schema}"] = SchemaInfo(
                    name=schema, catalog_name=cat["name"], full_name=f"{cat['name']}.{schema}",
                    owner="mlops-platform-admins").as_dict()
            self.bodies[f"{UC}/bindings/catalog/{cat['name']}"] = GetWorkspaceBindingsResponse(bindings=[
                WorkspaceBinding(workspace_id=int(b["workspaceId"]),
                                 binding_type=WorkspaceBindingBindingType(b["bindingType"]))
                for b in cat.get("bindings") or []]).as_dict()
        by_securable: dict[tuple[str, str], list[PrivilegeAssignment]] = {}
        for g in o.get("grants") or []:
            by_securable.setdefault((g["securableType"], g["securable"]), []).append(
                PrivilegeAssignment(principal=g["principal"], privileges=[Privilege(p) for p in g["privileges"]]))
        for (kind, name), assignments in by_securable.items():
            self.bodies[f"{UC}/permissions/{kind}/{name}"] = GetPermissionsResponse(
                privilege_assignments=assignments).as_dict()
        for ep in o.get("servingEndpoints") or []:
            table = ep["inferenceTable"]
            self.bodies[f"/api/2.0/serving-endpoints/{ep['name']}"] = ServingEndpointDetailed(
                name=ep["name"],
                state=EndpointState(ready=EndpointStateReady.READY,
                                    config_update=EndpointStateConfigUpdate.NOT_UPDATING),
                ai_gateway=AiGatewayConfig(inference_table_config=AiGatewayInferenceTableConfig(
                    catalog_name=table["catalog"], schema_name=table["schema"],
                    table_name_prefix=table["tablePrefix"], enabled=True)),
                config=EndpointCoreConfigOutput(served_entities=[
                    ServedEntityOutput(name=e["name"], entity_name=e["entityName"], entity_version=e["entityVersion"])
                    for e in ep["entities"]])).as_dict()
        for mon in o.get("monitors") or []:
            table = mon["tableName"]
            short = table.rsplit(".", 1)[-1]
            self.bodies[f"{UC}/tables/{table}/monitor"] = MonitorInfo(
                table_name=table, output_schema_name=mon["outputSchema"],
                status=MonitorInfoStatus.MONITOR_STATUS_ACTIVE, monitor_version=1,
                profile_metrics_table_name=f"{mon['outputSchema']}.{short}_profile_metrics",
                drift_metrics_table_name=f"{mon['outputSchema']}.{short}_drift_metrics").as_dict()
            self.bodies[f"{UC}/tables/{table}/monitor/refreshes"] = MonitorRefreshListResponse(refreshes=[
                MonitorRefreshInfo(refresh_id=1, state=MonitorRefreshInfoState.FAILED, start_time_ms=1_000,
                                   trigger=MonitorRefreshInfoTrigger.SCHEDULE, message="table missing"),
                MonitorRefreshInfo(refresh_id=2, state=MonitorRefreshInfoState.SUCCESS, start_time_ms=2_000,
                                   trigger=MonitorRefreshInfoTrigger.MANUAL)]).as_dict()
        if o.get("workspaceConf"):  # GET /api/2.0/workspace-conf?keys=...: the declared values
            self.bodies["/api/2.0/workspace-conf"] = dict(o["workspaceConf"])
        if o.get("systemSchemas"):
            self.bodies[f"{UC}/metastores/{o['metastoreId']}/systemschemas"] = ListSystemSchemasResponse(
                schemas=[SystemSchemaInfo(schema=s, state="ENABLE_COMPLETED") for s in o["systemSchemas"]]
                + [SystemSchemaInfo(schema="not-declared-here", state="AVAILABLE")]).as_dict()

    def handle(self, request: Request) -> Response:
        path = request.path
        self.calls.append(path)
        if path in self.stall:
            time.sleep(self.stall[path])
        if path not in self.bodies:
            body = {"error_code": "NOT_FOUND", "message": f"{path} does not exist"}
            return Response(json.dumps(body), status=404, content_type="application/json")
        status = self.status.get(path, 200)
        if status != 200:
            body = {"error_code": "PERMISSION_DENIED", "message": "User does not have USE CATALOG on Catalog"}
            return Response(json.dumps(body), status=status, content_type="application/json")
        return Response(json.dumps(self.bodies[path]), status=200, content_type="application/json")

    def serve(self) -> None:
        self.server.expect_request(re.compile(".*"), method="GET").respond_with_handler(self.handle)


def _client(server: HTTPServer, http_timeout: float = 5, retry_timeout: int = 5) -> WorkspaceClient:
    return client_for({}, "test", http_timeout, retry_timeout, host=server.url_for("/").rstrip("/"),
                      token="dapi-test-token")


def _run(fake: FakeWorkspace, client: WorkspaceClient, deadline: float = 60) -> list[CheckResult]:
    fake.serve()
    return verify(client, fake.outputs, fake.outputs["environment"], deadline)


def _by_status(results: list[CheckResult]) -> dict[str, list[tuple[str, str, str]]]:
    out: dict[str, list[tuple[str, str, str]]] = {}
    for r in results:
        out.setdefault(r.status, []).append((r.area, r.target, r.detail))
    return out


@pytest.fixture
def fake(httpserver: HTTPServer) -> FakeWorkspace:
    return FakeWorkspace(httpserver, OUTPUTS)


def test_everything_as_declared_passes_and_exits_zero(fake: FakeWorkspace, httpserver: HTTPServer) -> None:
    results = _run(fake, _client(httpserver))
    assert [r for r in results if r.status != OK] == []
    areas = [(r.area, r.target) for r in results]
    assert areas == [
        ("metastore", OUTPUTS["metastoreId"]),
        ("catalog", "ml_test_catalog"),
        ("schema", "ml_test_catalog.raw"),
        ("schema", "ml_test_catalog.feature_store"),
        ("binding", "ml_test_catalog"),
        ("grant", "catalog ml_test_catalog"),
        ("grant", "schema ml_test_catalog.raw"),
        ("serving", "ml-model-model-serving-test"),
        ("monitor", "ml_test_catalog.model_inference_logs.inference_logs_processed"),
        ("system schema", "access"),
        ("system schema", "billing"),
    ]
    # The last finished refresh counts (2 succeeded after 1 failed).
    assert results[8].detail == "ACTIVE, last refresh 2 SUCCESS"
    console = Console(record=True, width=200)
    assert report(results, "test", console) == 0
    assert "verify test: 11/11 checks passed" in console.export_text()
    # It read what it needed from the outputs and asked the workspace each time.
    assert f"{UC}/permissions/catalog/ml_test_catalog" in fake.calls


def test_endpoint_not_ready_fails(fake: FakeWorkspace, httpserver: HTTPServer) -> None:
    path = "/api/2.0/serving-endpoints/ml-model-model-serving-test"
    fake.bodies[path]["state"] = EndpointState(
        ready=EndpointStateReady.NOT_READY, config_update=EndpointStateConfigUpdate.IN_PROGRESS).as_dict()
    results = _run(fake, _client(httpserver))
    assert _by_status(results) == {
        OK: [(r.area, r.target, r.detail) for r in results if r.area != "serving"],
        FAIL: [("serving", "ml-model-model-serving-test", "state NOT_READY (config update IN_PROGRESS)")],
    }
    assert report(results, "test", Console(file=io.StringIO())) == 1


def test_endpoint_without_inference_table_fails(fake: FakeWorkspace, httpserver: HTTPServer) -> None:
    path = "/api/2.0/serving-endpoints/ml-model-model-serving-test"
    fake.bodies[path]["ai_gateway"]["inference_table_config"]["enabled"] = False
    results = _run(fake, _client(httpserver))
    assert _by_status(results)[FAIL] == [("serving", "ml-model-model-serving-test", "inference table is off")]


def test_missing_grant_fails(fake: FakeWorkspace, httpserver: HTTPServer) -> None:
    path = f"{UC}/permissions/catalog/ml_test_catalog"
    engineers = fake.bodies[path]["privilege_assignments"][0]
    engineers["privileges"] = ["USE_CATALOG"]  # USE_SCHEMA revoked by hand
    results = _run(fake, _client(httpserver))
    assert _by_status(results)[FAIL] == [("grant", "catalog ml_test_catalog", "mlops-ml-engineers: missing USE_SCHEMA")]
    assert DRIFT not in _by_status(results)


def test_extra_grant_is_reported_as_drift(fake: FakeWorkspace, httpserver: HTTPServer) -> None:
    path = f"{UC}/permissions/schema/ml_test_catalog.raw"
    fake.bodies[path]["privilege_assignments"].append(
        PrivilegeAssignment(principal="someone@example.com", privileges=[Privilege.MODIFY, Privilege.SELECT]).as_dict())
    fake.bodies[path]["privilege_assignments"][0]["privileges"].append("MODIFY")
    results = _run(fake, _client(httpserver))
    assert _by_status(results)[DRIFT] == [
        ("grant", "schema ml_test_catalog.raw", "mlops-ml-engineers: not declared (added by hand?) MODIFY"),
        ("grant", "schema ml_test_catalog.raw", "someone@example.com: not declared (added by hand?) MODIFY, SELECT"),
    ]
    assert FAIL not in _by_status(results)
    assert report(results, "test", Console(file=io.StringIO())) == 1


def test_privileges_newer_than_the_sdk_enum_are_still_compared(fake: FakeWorkspace, httpserver: HTTPServer) -> None:
    # The SDK's GrantsAPI would drop an unknown privilege; verify reads the raw JSON.
    path = f"{UC}/permissions/catalog/ml_test_catalog"
    fake.bodies[path]["privilege_assignments"][0]["privileges"].append("SOME_FUTURE_PRIVILEGE")
    results = _run(fake, _client(httpserver))
    assert _by_status(results)[DRIFT] == [
        ("grant", "catalog ml_test_catalog", "mlops-ml-engineers: not declared (added by hand?) SOME_FUTURE_PRIVILEGE")]


def test_http_403_is_a_failed_check_and_the_others_still_run(fake: FakeWorkspace, httpserver: HTTPServer) -> None:
    fake.status[f"{UC}/permissions/catalog/ml_test_catalog"] = 403
    results = _run(fake, _client(httpserver))
    failed = _by_status(results)[FAIL]
    assert len(failed) == 1
    area, target, detail = failed[0]
    assert (area, target) == ("grant", "ml_test_catalog")
    assert detail.startswith("HTTP 403 permission denied: User does not have USE CATALOG on Catalog")
    assert len(results) == 11  # nothing else was skipped


def test_bindings_and_monitor_and_system_schema_problems(fake: FakeWorkspace, httpserver: HTTPServer) -> None:
    fake.bodies[f"{UC}/bindings/catalog/ml_test_catalog"]["bindings"].append(
        WorkspaceBinding(workspace_id=999, binding_type=WorkspaceBindingBindingType.BINDING_TYPE_READ_ONLY).as_dict())
    table = OUTPUTS["monitors"][0]["tableName"]
    fake.bodies[f"{UC}/tables/{table}/monitor/refreshes"]["refreshes"][1]["state"] = "FAILED"
    fake.bodies[f"{UC}/tables/{table}/monitor/refreshes"]["refreshes"][1]["message"] = "quota exceeded"
    fake.bodies[f"{UC}/metastores/{OUTPUTS['metastoreId']}/systemschemas"]["schemas"][1]["state"] = "AVAILABLE"
    results = _by_status(_run(fake, _client(httpserver)))
    assert results[DRIFT] == [("binding", "ml_test_catalog", "not declared: 999 (READ_ONLY)")]
    assert results[FAIL] == [("monitor", table, "last refresh 2 FAILED: quota exceeded"),
                             ("system schema", "billing", "state AVAILABLE (enable it)")]


def test_metastore_not_assigned_and_missing_schema(fake: FakeWorkspace, httpserver: HTTPServer) -> None:
    fake.bodies[f"{UC}/current-metastore-assignment"]["metastore_id"] = "another-metastore"
    del fake.bodies[f"{UC}/schemas/ml_test_catalog.feature_store"]
    failed = _by_status(_run(fake, _client(httpserver)))[FAIL]
    assert failed[0] == ("metastore", OUTPUTS["metastoreId"], "workspace is assigned metastore another-metastore")
    assert failed[1][:2] == ("schema", "ml_test_catalog.feature_store")
    assert failed[1][2].startswith("not found: ")


def test_a_stalled_server_times_out_after_retries_and_later_checks_are_skipped(
        fake: FakeWorkspace, httpserver: HTTPServer) -> None:
    fake.stall[f"{UC}/current-metastore-assignment"] = 2.0
    started = time.monotonic()
    # 0.3 s per request, the SDK retries with backoff for 1 s, and the whole run may take 1.5 s.
    results = _run(fake, _client(httpserver, http_timeout=0.3, retry_timeout=1), deadline=1.5)
    elapsed = time.monotonic() - started
    assert elapsed < 10
    assert results[0].area == "metastore" and results[0].status == FAIL
    assert results[0].detail.startswith("timed out after retries (ReadTimeout")
    skipped = [r for r in results if r.status == "skipped"]
    assert skipped and all(r.detail == "skipped: the overall verify timeout has passed" for r in skipped)
    assert report(results, "test", Console(file=io.StringIO())) == 1


def test_cli_reads_outputs_file_and_exits_non_zero_on_failure(
        fake: FakeWorkspace, httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from mlopsctl.commands.main import main

    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(OUTPUTS))
    fake.bodies["/api/2.0/serving-endpoints/ml-model-model-serving-test"]["state"]["ready"] = "NOT_READY"
    fake.serve()
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-test-token")
    code = main(["verify", "--stack", "test", "--outputs", str(outputs), "--host", httpserver.url_for("/").rstrip("/"),
                 "--retry-timeout", "5"])
    out = capsys.readouterr().out
    assert code == 1
    assert "verify test: 10/11 checks passed" in out and "NOT_READY" in out


def test_cli_usage_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mlopsctl.commands.main import main

    bad = tmp_path / "outputs.json"
    bad.write_text("{not json")
    assert main(["verify", "--stack", "dev", "--outputs", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(f"mlopsctl verify: {bad}: not JSON (line 1")
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    assert main(["verify", "--stack", "dev", "--outputs", str(empty)]) == 2
    assert "dev: stack output 'workspaceHost' is missing (keys present: none)" in capsys.readouterr().err


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_the_real_stacks_outputs_verify_against_a_workspace_built_as_declared(
        stack: str, httpserver: HTTPServer) -> None:
    """The offline plan's outputs drive verify end to end: a workspace exactly as declared."""
    outputs = plan_of(stack).outputs
    for key in ("metastoreId", "catalogs", "grants", "servingEndpoints", "monitors"):
        assert key in outputs, f"{stack}: stack output {key} missing"
    fake = FakeWorkspace(httpserver, outputs)
    results = _run(fake, _client(httpserver))
    assert [r for r in results if r.status != OK] == []
    expected_grant_checks = {(g["securableType"], g["securable"]) for g in outputs["grants"]}
    assert len([r for r in results if r.area == "grant"]) == len(expected_grant_checks)
    assert len([r for r in results if r.area == "serving"]) == len(outputs["servingEndpoints"])
    assert len([r for r in results if r.area == "schema"]) == sum(len(c["schemas"]) for c in outputs["catalogs"])

