"""A first `pulumi up` from nothing: where the deploy runs from, and what a first run may declare.

Each plan-level test names the deploy failure it guards against.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.policy.offline import check_plan
from infra.policy.rules import types as T
from tests.support import DELETE, STACKS, config_problems, first_deploy_plan_of, plan_of, stack_raw, with_changes

RUNNER_RULE = "deploy-runner-allowed-before-ip-lists-enforced"
ORDER_RULE = "first-deploy-creates-only-what-can-exist"
PUBLIC_FRONT_ENDS = ("dev", "test")


@pytest.fixture(scope="module")
def first_deploy_plans() -> dict[str, Any]:
    return {s: first_deploy_plan_of(s) for s in STACKS}


def findings(doc: dict[str, Any], rule: str) -> list[str]:
    return [v.message for v in check_plan(doc).verdicts if v.rule == rule]


def of_type(doc: dict[str, Any], typ: str) -> list[dict[str, Any]]:
    return [r for r in doc["resources"] if r["type"] == typ]


# --- the deploy runner and IP access lists ------------------------------------------------------------

@pytest.mark.parametrize("stack", PUBLIC_FRONT_ENDS)
def test_the_deploy_runner_has_its_own_allow_list_before_lists_are_enforced(stack: str) -> None:
    """Finding: the IP access list held only documentation ranges and CI ran elsewhere, so once the list
    existed every later call of the run, and every refresh, drift check and `up`, got 403."""
    doc = plan_of(stack).as_json()
    lists = {r["inputs"]["label"]: r for r in of_type(doc, T.IP_ACCESS_LIST)}
    runner = lists["deploy-runner"]
    assert runner["inputs"]["listType"] == "ALLOW" and runner["inputs"]["enabled"] is True
    assert runner["inputs"]["ipAddresses"] == stack_raw(stack)["mlops-platform:deploy"]["runner"]["egressCidrs"]
    (conf,) = [c for c in of_type(doc, T.WORKSPACE_CONF) if c["name"] == "front-end-access-enable"]
    assert conf["inputs"]["customConfig"] == {"enableIpAccessLists": "true"}
    assert {r["urn"] for r in lists.values()} <= set(conf["dependencies"])
    assert findings(doc, RUNNER_RULE) == []


def test_runner_rule_fires_without_a_runner_list() -> None:
    doc = plan_of("dev").as_json()
    doc["resources"] = [r for r in doc["resources"] if r["inputs"].get("label") != "deploy-runner"]
    assert findings(doc, RUNNER_RULE) == [
        "WorkspaceConf front-end-access-enable switches on IP access lists, but no enabled ALLOW list labeled "
        "'deploy-runner' holds the deploy runner's egress (deploy.runner.egressCidrs): every later call of the "
        "deploy, refresh and drift check is refused (403)"]


@pytest.mark.parametrize(("field", "value"), [("enabled", False), ("listType", "BLOCK"), ("ipAddresses", []),
                                              ("label", "office")])
def test_runner_rule_fires_when_the_runner_list_does_not_let_the_runner_in(field: str, value: Any) -> None:
    doc = plan_of("test").as_json()
    runner = next(r for r in doc["resources"] if r["inputs"].get("label") == "deploy-runner")
    runner["inputs"][field] = value
    assert len(findings(doc, RUNNER_RULE)) == 1


def test_runner_rule_fires_when_enforcement_does_not_wait_for_a_list() -> None:
    doc = plan_of("dev").as_json()
    conf = of_type(doc, T.WORKSPACE_CONF)[0]
    users = next(r for r in doc["resources"] if r["inputs"].get("label") == "allowed-egress")
    conf["dependencies"].remove(users["urn"])
    assert findings(doc, RUNNER_RULE) == [
        "WorkspaceConf front-end-access-enable switches on IP access lists without waiting for IpAccessList "
        "front-end-access-allow: make it depend on every list, so none is created under enforcement"]


def test_runner_rule_ignores_a_conf_that_does_not_enforce_lists() -> None:
    doc = plan_of("dev").as_json()
    doc["resources"] = [r for r in doc["resources"] if r["type"] != T.IP_ACCESS_LIST]
    of_type(doc, T.WORKSPACE_CONF)[0]["inputs"]["customConfig"] = {"enableIpAccessLists": "false"}
    assert findings(doc, RUNNER_RULE) == []


def test_prod_keeps_a_list_as_second_gate_and_its_runner_needs_none() -> None:
    """Prod's front end is private: the runner comes over Private Link, which IP access lists never filter, so
    enforcing prod's list (a second gate, SAT NS-5) needs no deploy-runner list."""
    doc = plan_of("prod").as_json()
    assert [r["inputs"]["label"] for r in of_type(doc, T.IP_ACCESS_LIST)] == ["allowed-egress"]
    assert findings(doc, RUNNER_RULE) == []
    (ws,) = of_type(doc, T.WORKSPACE)
    ws["inputs"]["publicNetworkAccess"] = "Enabled"  # opened: the runner is filtered like everyone else
    assert findings(doc, RUNNER_RULE) == [
        "WorkspaceConf front-end-access-enable switches on IP access lists, but no enabled ALLOW list labeled "
        "'deploy-runner' holds the deploy runner's egress (deploy.runner.egressCidrs): every later call of the "
        "deploy, refresh and drift check is refused (403)"]


# --- config: where the deploy runs --------------------------------------------------------------------

def test_a_public_front_end_with_ip_lists_needs_the_runner_egress() -> None:
    raw = with_changes("dev", [("deploy.runner.egressCidrs", [])])
    assert config_problems("dev", raw) == [
        "dev: deploy.runner.egressCidrs: [] is required with workspaceSecurity.ipAccessList: list the deploy "
        "runner's public egress, or the workspace refuses the deploy's own calls once the list exists"]


def test_a_private_front_end_needs_the_runner_hub() -> None:
    raw = with_changes("prod", [("deploy.runner.hubVnetId", DELETE)])
    assert config_problems("prod", raw) == [
        "prod: deploy.runner.hubVnetId: null is required when workspace.publicNetworkAccess is 'Disabled': a "
        "private front end is reachable only from a network peered with this VNet (the deploy runner's hub VNet)",
        "prod: network.egress: 'firewall' needs deploy.runner.hubVnetId: the firewall is the hub's, reached over the "
        "peering; allowed without a hub: 'natGateway'"]


@pytest.mark.parametrize(("cidr", "why"), [
    ("10.0.0.4/32", "private"), ("172.16.0.0/12", "private"), ("192.168.1.1/32", "private"),
    ("100.64.0.1/32", "private"), ("2001:db8::1/128", "private"), ("not-an-ip", None), ("203.0.113.10/24", None)])
def test_runner_egress_must_be_a_public_ipv4_cidr(cidr: str, why: str | None) -> None:
    (problem,) = config_problems("dev", with_changes("dev", [("deploy.runner.egressCidrs", [cidr])]))
    assert problem.startswith(f"dev: deploy.runner.egressCidrs: ['{cidr}'] ")
    if why == "private":
        assert "a runner's egress is a public IPv4 range" in problem
    else:
        assert problem.endswith(f"has {cidr!r}, which is not an IPv4 CIDR such as '203.0.113.10/32'")


@pytest.mark.parametrize("cidr", ["203.0.113.10/32", "203.0.113.10", "198.51.100.0/24", "8.8.8.8/32", "11.0.0.0/8"])
def test_runner_egress_accepts_public_ranges(cidr: str) -> None:
    from infra.config import validate
    from tests.support import siblings

    config = validate("dev", with_changes("dev", [("deploy.runner.egressCidrs", [cidr])]), siblings("dev"))
    assert config.deploy.runner.egress_cidrs == [cidr]


@pytest.mark.parametrize("vnet_id", [
    "mlops-hub-vnet",
    "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/hub",
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/subnets/s"])
def test_hub_vnet_id_must_be_a_vnet_arm_id(vnet_id: str) -> None:
    (problem,) = config_problems("prod", with_changes("prod", [("deploy.runner.hubVnetId", vnet_id)]))
    assert problem == (f"prod: deploy.runner.hubVnetId: {vnet_id!r} must be a virtual network's ARM id: "
                       "/subscriptions/<uuid>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<name>")


# --- the first deploy ---------------------------------------------------------------------------------

# stack -> (endpoints, monitors) in the steady state; a first deploy has none of either.
STEADY_SERVING = {"dev": (1, 1), "test": (1, 1), "prod": (1, 2)}  # (endpoints, monitors): prod also the feature table


@pytest.mark.parametrize("stack", STACKS)
def test_first_deploy_leaves_out_what_cannot_exist_yet(stack: str, first_deploy_plans: dict[str, Any]) -> None:
    """Finding: the checked-in stack files are the second phase of the rollouts (models registered, tables
    written, DBFS root key enabled); on a first `up` from nothing those creates fail."""
    steady, first = plan_of(stack).as_json(), first_deploy_plans[stack].as_json()
    endpoints, monitors = STEADY_SERVING[stack]
    assert (len(of_type(steady, T.MODEL_SERVING)), len(of_type(steady, T.QUALITY_MONITOR))) == (endpoints, monitors)
    assert of_type(first, T.MODEL_SERVING) == [] and of_type(first, T.QUALITY_MONITOR) == []
    assert first["firstDeploy"] is True and "firstDeploy" not in steady
    assert findings(first, ORDER_RULE) == [] and check_plan(first).exit_code == 0
    # everything else is the same: the second `up` only adds what the first left out
    left_out = {r["urn"] for r in steady["resources"]} - {r["urn"] for r in first["resources"]}
    assert {u.split("::")[-2].rsplit("$", 1)[-1] for u in left_out} <= {
        T.MODEL_SERVING, T.QUALITY_MONITOR, "databricks:index/permissions:Permissions",
        "databricks:index/alertV2:AlertV2", "mlops:platform:Monitoring", "mlops:platform:DriftAlerts",
        "databricks:index/grants:Grants",
        # the drift -> retrain job and its destination hang off the monitor's drift metrics
        "mlops:platform:Retraining", "databricks:index/job:Job",
        "databricks:index/notificationDestination:NotificationDestination",
        # and the promotion code its validate/promote tasks run, uploaded with the job
        "mlops:platform:JobCode", "databricks:index/workspaceFile:WorkspaceFile",
        # audit and cost alerts and the cost dashboard run on the serverless warehouse (docs/audit-and-cost.md)
        "mlops:platform:AuditAlerts", "mlops:platform:CostReporting", "databricks:index/dashboard:Dashboard",
        # governance: the feature-table monitor and the serverless retention job with its code
        "mlops:platform:FeatureMonitoring", "mlops:platform:Retention",
        # the restore drill is a serverless job too: its code and job come with the second `up`
        "mlops:platform:RestoreDrill",
        # ABAC: the functions run on the SQL warehouse, the policies call them (docs/governance.md)
        "mlops:platform:AbacPolicies", "pulumi-python:dynamic/databricks:SqlFunction",
        "databricks:index/policyInfo:PolicyInfo"}


@pytest.mark.parametrize(("stack", "steady_key", "first_key"), [
    ("prod", "Microsoft.Keyvault", None), ("dev", None, None), ("test", None, None)])
def test_first_deploy_runs_the_first_step_of_dbfs_root_cmk(stack: str, steady_key: str | None,
                                                           first_key: str | None,
                                                           first_deploy_plans: dict[str, Any]) -> None:
    def dbfs(doc: dict[str, Any]) -> tuple[Any, Any]:
        params = of_type(doc, T.WORKSPACE)[0]["inputs"]["parameters"]
        return (params.get("encryption", {}).get("value", {}).get("keySource"),
                params.get("prepareEncryption", {}).get("value"))

    assert dbfs(plan_of(stack).as_json())[0] == steady_key
    key, prepare = dbfs(first_deploy_plans[stack].as_json())
    assert key == first_key
    assert prepare is (stack == "prod")


def test_order_rule_fires_on_the_steady_plan_taken_as_a_first_deploy() -> None:
    doc = copy.deepcopy(plan_of("prod").as_json())
    assert findings(doc, ORDER_RULE) == []  # steady state: the previous run registered and wrote them
    doc["firstDeploy"] = True
    assert sorted(findings(doc, ORDER_RULE)) == [
        "ModelServing ml-model-model-serving-prod serves ml_prod_catalog.models.mlops_churn version 2, but its "
        "catalog is created in this run: the version cannot be registered yet (leave the endpoint out of the "
        "first deploy: modelRegistered false)",
        "ModelServing ml-model-model-serving-prod serves ml_prod_catalog.models.mlops_churn version 3, but its "
        "catalog is created in this run: the version cannot be registered yet (leave the endpoint out of the "
        "first deploy: modelRegistered false)",
        "QualityMonitor customer-features-monitor monitors ml_prod_catalog.feature_store.customer_features, but its "
        "catalog is created in this run: the table cannot exist yet (leave the monitor out of the first deploy: "
        "tableExists false)",
        "QualityMonitor ml-model-model-serving-prod-monitor monitors "
        "ml_prod_catalog.model_inference_logs.inference_logs_processed, but its catalog is created in this run: "
        "the table cannot exist yet (leave the monitor out of the first deploy: tableExists false)",
        "Workspace workspace sets the DBFS root key on a first deploy: the workspace's storage identity must hold "
        "the key first (encryption.dbfsRoot 'prepare', then 'enabled')"]


def test_order_rule_allows_models_from_catalogs_that_already_exist() -> None:
    doc = copy.deepcopy(plan_of("dev").as_json())
    doc["firstDeploy"] = True
    for res in of_type(doc, T.CATALOG):
        res["inputs"]["name"] = "created_elsewhere"
    assert findings(doc, ORDER_RULE) == []


def test_first_deploy_on_in_the_stack_file_is_the_same_plan(first_deploy_plans: dict[str, Any]) -> None:
    from mlopsctl.plan.engine import first_deploy_config, run_program

    plan = run_program("test", first_deploy_config(stack_raw("test")))
    assert [r.urn for r in plan.resources] == [r.urn for r in first_deploy_plans["test"].resources]


def test_the_pack_reads_the_deploy_phase_from_the_stack_file() -> None:
    from infra.policy import pack

    assert pack.first_deploy("dev") is False
    assert pack.first_deploy("no-such-stack") is False


def test_mlopsctl_plan_first_deploy_writes_a_plan_that_passes(tmp_path: Path) -> None:
    out = tmp_path / "dev.json"
    proc = subprocess.run([sys.executable, "-m", "mlopsctl", "plan", "--stack", "dev", "--first-deploy", "--quiet",
                           "--json", str(out)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("dev: ") and ", first deploy; policy PASS: 0 mandatory" in proc.stdout
    assert json.loads(out.read_text())["firstDeploy"] is True


@pytest.mark.parametrize("stack", STACKS)
def test_the_secret_scope_waits_for_the_databricks_apps_secrets_user_grant(stack: str) -> None:
    """A Key Vault-backed scope on an RBAC vault reads nothing until the AzureDatabricks app holds Key Vault
    Secrets User there: the scope is created after that grant."""
    doc = plan_of(stack).as_json()
    (scope,) = of_type(doc, "databricks:index/secretScope:SecretScope")
    grants = [r for r in of_type(doc, "azure-native:authorization:RoleAssignment")
              if r["inputs"]["roleDefinitionId"].endswith("/4633458b-17de-408a-b874-0445c86b69e6")]
    assert len(grants) == 1 and grants[0]["urn"] in scope["dependencies"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_cicd_principal_survives_destroy_then_up(stack: str) -> None:
    """A destroy only deactivates the CI/CD service principal; the next `up` must adopt it (`force`) instead of
    failing with "Service principal with application ID ... already exists"."""
    (sp,) = of_type(plan_of(stack).as_json(), "databricks:index/servicePrincipal:ServicePrincipal")
    assert sp["inputs"]["disableAsUserDeletion"] is True and sp["inputs"]["force"] is True


UC_STORAGE = ("databricks:index/storageCredential:StorageCredential",
              "databricks:index/externalLocation:ExternalLocation")


@pytest.mark.parametrize("stack", STACKS)
def test_unity_catalog_storage_waits_for_the_connector_grants_to_propagate(stack: str) -> None:
    """Creating the storage credential and the external locations validates the connector's access to the
    lake: right after the role assignments Azure RBAC may still refuse it, so they wait for a sleep that
    follows every connector grant on the lake."""
    doc = first_deploy_plan_of(stack).as_json()
    by_urn = {r["urn"]: r for r in doc["resources"]}
    (sleep,) = [r for r in doc["resources"]
                if r["type"] == "time:index/sleep:Sleep" and r["name"] == "lake-connector-roles-propagation"]
    grants = {r["urn"] for r in of_type(doc, "azure-native:authorization:RoleAssignment")
              if r["name"].startswith("lake-connector-")}
    assert len(grants) == 3 and grants <= set(sleep["dependencies"])
    assert sleep["inputs"]["createDuration"] == "60s"
    for typ in UC_STORAGE:
        for res in of_type(doc, typ):
            assert sleep["urn"] in res["dependencies"], (by_urn[res["urn"]]["name"], "does not wait")
