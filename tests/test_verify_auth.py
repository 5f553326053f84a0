"""`mlopsctl verify` authenticates with databricks-sdk's own credential chain and says which one it used.

One test per way a person or CI reaches a workspace: a token, a `~/.databrickscfg` profile, the Azure CLI, and
GitHub Actions OIDC (`github-oidc-azure`). The workspace, the Azure CLI, GitHub's token endpoint and Entra ID are
local fakes; the SDK code that chooses and uses the credentials is the real one.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from databricks.sdk.environments import (
    ARM_DATABRICKS_RESOURCE_ID,
    AzureEnvironment,
    Cloud,
    DatabricksEnvironment,
)
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.test_verify import OUTPUTS, FakeWorkspace

RESOURCE_ID = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-mlops-test/providers/"
               "Microsoft.Databricks/workspaces/dbw-mlops-test")
# Every stack exports workspaceId: the resource id is what made a token and Azure AD collide.
OUTPUTS_WITH_ID: dict[str, Any] = {**OUTPUTS, "workspaceId": RESOURCE_ID}
AUTH_ENV = ("DATABRICKS_TOKEN", "DATABRICKS_HOST", "DATABRICKS_AUTH_TYPE", "DATABRICKS_CONFIG_PROFILE",
            "DATABRICKS_CONFIG_FILE", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET", "ARM_CLIENT_ID",
            "ARM_CLIENT_SECRET", "ARM_TENANT_ID", "ARM_USE_MSI", "ACTIONS_ID_TOKEN_REQUEST_URL",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "DATABRICKS_AZURE_RESOURCE_ID", "AZURE_CONFIG_DIR")


class RecordingWorkspace(FakeWorkspace):
    """The fake workspace of test_verify, remembering the auth headers of every API call."""

    def __init__(self, server: HTTPServer, outputs: dict[str, Any]) -> None:
        super().__init__(server, outputs)
        self.headers: list[dict[str, str]] = []

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/api/"):
            self.headers.append({k: v for k, v in request.headers.items()
                                 if k in ("Authorization", "X-Databricks-Azure-Workspace-Resource-Id")})
        return super().handle(request)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No credentials from the machine running the tests: empty HOME, no auth variables."""
    for name in AUTH_ENV:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def _verify(httpserver: HTTPServer, tmp_path: Path, *extra: str) -> int:
    from infra.cli import main

    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(OUTPUTS_WITH_ID))
    return main(["verify", "--stack", "test", "--outputs", str(outputs), "--host", httpserver.url_for("/").rstrip("/"),
                 "--retry-timeout", "5", *extra])


def _azure_environment(monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer) -> None:
    """The local server stands in for an Azure Databricks host and for Entra ID (login.microsoftonline.com)."""
    local = httpserver.url_for("/")
    env = DatabricksEnvironment(Cloud.AZURE, ".localhost", azure_application_id=ARM_DATABRICKS_RESOURCE_ID,
                                azure_environment=AzureEnvironment(
                                    name="LOCAL", service_management_endpoint="https://management.core.windows.net/",
                                    resource_manager_endpoint=local, active_directory_endpoint=local + "aad/"))
    monkeypatch.setattr("databricks.sdk.config.get_environment_for_hostname", lambda _host: env)


def _jwt(claims: dict[str, str]) -> str:
    def part(d: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")
    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


def test_a_token_in_the_environment_is_used_even_though_the_outputs_name_the_azure_workspace(
        httpserver: HTTPServer, tmp_path: Path, clean_env: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Finding: verify refused DATABRICKS_TOKEN ("more than one authorization method configured: azure and pat")."""
    fake = RecordingWorkspace(httpserver, OUTPUTS_WITH_ID)
    fake.serve()
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-from-env")
    code = _verify(httpserver, tmp_path)
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "credentials: pat (DATABRICKS_TOKEN)" in out.out
    assert fake.headers and {h["Authorization"] for h in fake.headers} == {"Bearer dapi-from-env"}


def test_a_databrickscfg_profile_is_used_and_named(
        httpserver: HTTPServer, tmp_path: Path, clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Finding: verify refused a ~/.databrickscfg profile's token for the same reason, and had no --profile."""
    fake = RecordingWorkspace(httpserver, OUTPUTS_WITH_ID)
    fake.serve()
    (clean_env / ".databrickscfg").write_text(
        "[DEFAULT]\nhost = https://adb-1.1.azuredatabricks.net\ntoken = dapi-default\n\n"
        "[mlops-test]\nhost = https://adb-2.2.azuredatabricks.net\ntoken = dapi-profile\n")
    code = _verify(httpserver, tmp_path, "--profile", "mlops-test")
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "credentials: pat (profile mlops-test in ~/.databrickscfg)" in out.out
    assert {h["Authorization"] for h in fake.headers} == {"Bearer dapi-profile"}


def test_the_azure_cli_is_used_with_the_workspace_resource_id(
        httpserver: HTTPServer, tmp_path: Path, clean_env: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Finding: with Azure CLI credentials verify must still send the workspace resource id (the SDK's header)."""
    _azure_environment(monkeypatch, httpserver)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "az-calls"
    token = _jwt({"appid": "deploy-sp", "tid": "tenant"})
    az = bin_dir / "az"
    az.write_text("#!/usr/bin/env bash\n"
                  f'echo "$*" >> "{calls}"\n'
                  'case "$*" in\n'
                  '  "account get-access-token"*) printf \'{"accessToken": "%s", '
                  '"expiresOn": "2099-01-01 00:00:00.000000", "tokenType": "Bearer"}\\n\' "' + token + '" ;;\n'
                  '  *) echo "unexpected az $*" >&2; exit 1 ;;\n'
                  "esac\n")
    az.chmod(az.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    fake = RecordingWorkspace(httpserver, OUTPUTS_WITH_ID)
    fake.serve()
    code = _verify(httpserver, tmp_path)
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "credentials: azure-cli (the Azure CLI's signed-in account (az login))" in out.out
    assert {h["Authorization"] for h in fake.headers} == {f"Bearer {token}"}
    assert {h.get("X-Databricks-Azure-Workspace-Resource-Id") for h in fake.headers} == {RESOURCE_ID}
    assert f"--resource {ARM_DATABRICKS_RESOURCE_ID}" in calls.read_text()


def test_github_actions_oidc_is_exchanged_for_an_entra_token_without_the_azure_cli(
        httpserver: HTTPServer, tmp_path: Path, clean_env: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Finding: CI verified through the Azure CLI, whose GitHub token expired during a long `up` (AADSTS700024).

    With `github-oidc-azure` the SDK asks GitHub for a fresh ID token when verify starts and exchanges it with
    Entra ID itself; no `az` is on PATH here.
    """
    _azure_environment(monkeypatch, httpserver)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", httpserver.url_for("/gh-token") + "?api-version=2.0")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runner-request-token")
    monkeypatch.setenv("ARM_CLIENT_ID", "11111111-2222-3333-4444-555555555555")
    monkeypatch.setenv("ARM_TENANT_ID", "tenant-0")
    monkeypatch.setenv("DATABRICKS_AUTH_TYPE", "github-oidc-azure")
    seen: dict[str, Any] = {}

    def github(request: Request) -> Response:
        seen["github"] = (request.headers.get("Authorization"), request.args.get("audience"))
        return Response(json.dumps({"value": "github-id-token"}), content_type="application/json")

    def entra(request: Request) -> Response:
        seen["entra"] = dict(request.form)
        return Response(json.dumps({"access_token": "entra-access-token", "token_type": "Bearer",
                                    "expires_in": 3600}), content_type="application/json")

    httpserver.expect_request("/gh-token", method="GET").respond_with_handler(github)
    httpserver.expect_request("/aad/tenant-0/oauth2/token", method="POST").respond_with_handler(entra)
    fake = RecordingWorkspace(httpserver, OUTPUTS_WITH_ID)
    fake.serve()
    code = _verify(httpserver, tmp_path)
    out = capsys.readouterr()
    assert code == 0, out.err
    assert ("credentials: github-oidc-azure (a GitHub Actions OIDC token exchanged with Entra ID for client "
            "11111111-2222-3333-4444-555555555555)") in out.out
    assert seen["github"] == ("Bearer runner-request-token", "api://AzureADTokenExchange")
    assert seen["entra"]["client_assertion"] == "github-id-token"
    assert seen["entra"]["client_id"] == "11111111-2222-3333-4444-555555555555"
    assert {h["Authorization"] for h in fake.headers} == {"Bearer entra-access-token"}


def test_no_credentials_at_all_is_a_one_line_usage_error(
        httpserver: HTTPServer, tmp_path: Path, clean_env: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert _verify(httpserver, tmp_path) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlopsctl verify: cannot authenticate to the test workspace: ") and err.count("\n") == 1
