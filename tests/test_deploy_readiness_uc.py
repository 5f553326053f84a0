"""Deploy readiness of Unity Catalog, serverless access and identity: the fixes on the offline plans, and the
rules that guard them (infra/policy/rules/deploy/unity_catalog.py), each seen to pass on the real plans of
dev, test and prod (steady state and first deploy) and to fire on a mutated copy that violates it."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_databricks as dbx
import pytest

from infra.components.serverless_network import ServerlessNetwork, ServerlessNetworkArgs, check_approved
from infra.policy.offline import check_plan, view_from_plan
from infra.policy.rules import RULES_BY_NAME, ResourceView
from infra.policy.rules.deploy.unity_catalog import three_part_names
from mlopsctl.plan.engine import run_program
from mlopsctl.plan.model import Plan
from tests.support import STACKS, config_problems, first_deploy_plan_of, plan_of, set_path, stack_raw

UC_RULES = ("uc-deployer-keeps-ownership", "serverless-storage-reachable", "serverless-consumers-wait-for-ncc",
            "run-as-identity-privileges", "account-objects-survive-stack-destroy",
            "uc-bound-workspace-reaches-storage")

DBX = "databricks:index/"
CICD = {"dev": "5a1c2e3d-4b5f-4a6b-8c7d-9e0f1a2b3c4d", "test": "6b2d3f4e-5c6a-4b7c-9d8e-0f1a2b3c4d5e",
        "prod": "7c3e4a5f-6d7b-4c8d-ae9f-1a2b3c4d5e6f"}
Mutation = Callable[[list[dict[str, Any]]], None]


def views(plan: Plan, mutate: Mutation | None = None) -> list[ResourceView]:
    """The plan's resources as the offline check sees them, after `mutate` edits a copy of the plan JSON."""
    resources = plan.as_json()["resources"]
    if mutate is not None:
        mutate(resources)
    return [view_from_plan(r) for r in resources]


def messages(rule: str, vs: list[ResourceView], settings: dict[str, Any] | None = None) -> list[str]:
    r = RULES_BY_NAME[rule]
    if r.kind == "stack":
        return [f.message for f in r.run_stack(vs, settings)]
    return [f.message for v in vs for f in r.run_resource(v, settings)]


def find(resources: list[dict[str, Any]], typ: str, name: str) -> dict[str, Any]:
    return next(r for r in resources if r["type"] == DBX + typ and r["name"] == name)



def first_deploy_plan(stack: str) -> Plan:
    return first_deploy_plan_of(stack)


# --- every rule passes on the real plans ------------------------------------------------------------

@pytest.mark.parametrize("first_deploy", [False, True], ids=["steady", "first-deploy"])
@pytest.mark.parametrize("stack", STACKS)
def test_deploy_readiness_rules_pass_on_the_real_plans(stack: str, first_deploy: bool) -> None:
    plan = first_deploy_plan(stack) if first_deploy else plan_of(stack)
    report = check_plan(plan.as_json(), stack)
    assert [(v.rule, v.message) for v in report.verdicts if v.rule in UC_RULES] == []
    assert report.mandatory == []


def test_a_first_deploy_declares_no_serverless_consumer_so_pending_approvals_cannot_stop_it() -> None:
    """Serverless private endpoints are approved between the first `up` and the second: the first declares
    the NCC, its rules and binding, and nothing that waits for the approval check."""
    for stack in STACKS:
        plan = first_deploy_plan(stack)
        assert len(plan.by_type(DBX + "mwsNccPrivateEndpointRule:MwsNccPrivateEndpointRule")) == 4  # lake, DBFS
        consumers = [r for t in ("modelServing:ModelServing", "qualityMonitor:QualityMonitor", "alertV2:AlertV2",
                                 "job:Job") for r in plan.by_type(DBX + t)]
        assert consumers == [], stack


# --- ownership (the deploying principal) ------------------------------------------------------------

OWNER_PREFIX = ("Catalog ml_dev_catalog hands ownership to group 'mlops-platform-admins' in the call that creates "
                "it, but ")
OWNER_SUFFIX = ("later create(s) need privileges on it (first: WorkspaceBinding binding-catalog-ml_dev_catalog-dev) "
                "and the deploying principal is not 'mlops-platform-admins' nor a member of it; leave owner unset "
                "(the deployer keeps it) and grant MANAGE through Grants")


def _owner_to_admins(resources: list[dict[str, Any]]) -> None:
    find(resources, "catalog:Catalog", "ml_dev_catalog")["inputs"]["owner"] = "mlops-platform-admins"


# The served models are owned by the run-as principal and give the deployer EXECUTE: the rule accepts that only
# knowing who the deployer is (infra/policy/config/<stack>.json), as the checked-in stacks configure it.
DEV_SETTINGS = {"deployerPrincipals": ["8d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a"]}


def test_ownership_rule_sees_a_transfer_to_a_group_the_deployer_is_not_in() -> None:
    """Ownership handed to the admins group in the create call, then schemas, grants and bindings created in
    the catalog: the rule names the transfer and the first create it breaks."""
    assert messages("uc-deployer-keeps-ownership", views(plan_of("dev")), DEV_SETTINGS) == []
    [message] = messages("uc-deployer-keeps-ownership", views(plan_of("dev"), _owner_to_admins), DEV_SETTINGS)
    assert message.startswith(OWNER_PREFIX) and message.endswith(OWNER_SUFFIX)


def test_ownership_rule_accepts_the_deployer_or_a_group_it_is_a_member_of() -> None:
    def with_membership(resources: list[dict[str, Any]]) -> None:
        _owner_to_admins(resources)
        acct = next(r["provider"] for r in resources if r["type"] == DBX + "servicePrincipal:ServicePrincipal")
        urn = "urn:pulumi:dev::mlops-platform::databricks:index/{}::{}"
        resources.append({"urn": urn.format("group:Group", "admins"), "type": DBX + "group:Group", "name": "admins",
                          "id": "77", "provider": acct, "inputs": {"displayName": "mlops-platform-admins"},
                          "dependencies": []})
        resources.append({"urn": urn.format("servicePrincipal:ServicePrincipal", "deployer"), "id": "88",
                          "type": DBX + "servicePrincipal:ServicePrincipal", "name": "deployer", "provider": acct,
                          "inputs": {"applicationId": DEPLOYER}, "dependencies": []})
        resources.append({"urn": urn.format("groupMember:GroupMember", "deployer-in-admins"), "id": "77|88",
                          "type": DBX + "groupMember:GroupMember", "name": "deployer-in-admins", "provider": acct,
                          "inputs": {"groupId": "77", "memberId": "88"}, "dependencies": []})

    settings = {"deployerPrincipals": [DEPLOYER]}
    assert messages("uc-deployer-keeps-ownership", views(plan_of("dev"), with_membership), settings) == []
    assert messages("uc-deployer-keeps-ownership", views(plan_of("dev"), _owner_to_admins),
                    {"deployerPrincipals": ["mlops-platform-admins", *DEV_SETTINGS["deployerPrincipals"]]}) == []


DEPLOYER = "8d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a"  # dev's identity.deployer.applicationId


def test_the_deployer_may_not_be_the_cicd_principal() -> None:
    """The deploying identity registered again as the stack's CI/CD principal: the create fails (it already
    exists; scim/resource_service_principal.go), and adopting it with `force` would make a destroy deactivate
    the identity running it. The config refuses it."""
    raw = stack_raw("dev")
    set_path(raw, "identity.deployer", {"applicationId": CICD["dev"]})
    assert config_problems("dev", raw) == [
        f"dev: identity.cicdServicePrincipal.applicationId: {CICD['dev']!r} is the deploying principal (identity."
        "deployer.applicationId); the CI/CD principal that runs jobs and alerts must be a separate, least-privilege "
        "service principal"]


def test_cicd_principals_are_unique_per_stack() -> None:
    raw = stack_raw("test")
    set_path(raw, "identity.cicdServicePrincipal.applicationId", CICD["dev"])
    assert config_problems("test", raw) == [
        f"test: identity.cicdServicePrincipal.applicationId: {CICD['dev']!r} is also stack dev's CI/CD principal; "
        "each stack registers its own (a second registration fails: it already exists, and a destroy of one stack "
        "deactivates it for both)"]


# --- serverless access to the lakes -----------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_serverless_reaches_the_lake_through_an_ncc_bound_to_the_workspace(stack: str) -> None:
    """Serverless compute cannot reach the lakes: no NCC with dfs and blob private-endpoint rules, bound to the
    workspace. Each stack now has one (account provider, its region), with a rule per sub-resource to the lake,
    and exports the connections to approve."""
    plan = plan_of(stack)
    ncc = plan.one(DBX + "mwsNetworkConnectivityConfig:MwsNetworkConnectivityConfig")
    assert ncc.inputs == {"name": f"mlops-{stack}-ncc", "region": "eastus2"}
    lake = plan.one("azure-native:storage:StorageAccount")
    # the workspace's DBFS root, closed by the default storage firewall, as the classic endpoints see it
    dbfs = plan.one("azure-native:network:PrivateEndpoint", "private-link-dbfs-dfs").inputs[
        "privateLinkServiceConnections"][0]["privateLinkServiceId"]
    rules = plan.by_type(DBX + "mwsNccPrivateEndpointRule:MwsNccPrivateEndpointRule")
    ncc_id = ncc.id.split("/")[1]
    assert {(r.inputs["groupId"], r.inputs["resourceId"], r.inputs["networkConnectivityConfigId"]) for r in rules} == {
        ("dfs", lake.id, ncc_id), ("blob", lake.id, ncc_id), ("dfs", dbfs, ncc_id), ("blob", dbfs, ncc_id)}
    binding = plan.one(DBX + "mwsNccBinding:MwsNccBinding")
    assert binding.inputs == {"workspaceId": plan.outputs["workspaceNumericId"], "networkConnectivityConfigId": ncc_id}
    for res in (ncc, binding, *rules):
        assert res.provider.split("::")[-2] == "databricks-account"
    exported = plan.outputs["serverlessPrivateEndpoints"]
    assert [(e["label"], e["groupId"], e["storageAccountId"]) for e in exported] == [
        ("lake", "dfs", lake.id), ("lake", "blob", lake.id), ("dbfs", "dfs", dbfs), ("dbfs", "blob", dbfs)]
    assert all(e["endpointName"].startswith("databricks-") for e in exported)


@pytest.mark.parametrize("stack", STACKS)
def test_every_serverless_consumer_waits_for_the_binding_and_the_rules(stack: str) -> None:
    """Model serving created before serverless can reach the lake waits 45 minutes, then deletes the endpoint:
    endpoints, monitors, alerts and the serverless retrain job depend on the binding and every rule."""
    plan = plan_of(stack)
    network = {r.urn for r in plan.by_type(DBX + "mwsNccPrivateEndpointRule:MwsNccPrivateEndpointRule")}
    network.add(plan.one(DBX + "mwsNccBinding:MwsNccBinding").urn)
    consumers = [r for t in ("modelServing:ModelServing", "qualityMonitor:QualityMonitor", "alertV2:AlertV2",
                             "job:Job", "dashboard:Dashboard") for r in plan.by_type(DBX + t)]
    # serving's endpoint, monitor, drift alert and retrain job; the cost alert and dashboard; the retention job;
    # prod: the 3 audit alerts, the feature monitor and its 4 alerts, the restore drill job
    assert len(consumers) == {"dev": 7, "test": 7, "prod": 16}[stack]
    for res in consumers:
        assert network <= set(res.dependencies), res.name


def test_a_second_storage_target_is_one_more_entry() -> None:
    """The workspace's DBFS storage account joins the lake as one more (label, account id)."""
    sub = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups"
    lake, dbfs = (f"{sub}/mlops-dev-rg/providers/Microsoft.Storage/storageAccounts/mlopsdevlake",
                  f"{sub}/mlops-dev-workspace-managed-rg/providers/Microsoft.Storage/storageAccounts/dbstorageabc")

    def program() -> None:
        account = dbx.Provider("databricks-account", host="https://accounts.azuredatabricks.net",
                               account_id="0b7d6c3e-1f2a-4c5d-9e8f-7a6b5c4d3e2f")
        ServerlessNetwork("serverless-network", ServerlessNetworkArgs(
            name="mlops-dev-ncc", region="eastus2", workspace_numeric_id="123", account_provider=account,
            targets=[("lake", lake), ("dbfs", dbfs)]))
        pulumi.export("ok", True)

    plan = run_program("dev", stack_raw("dev"), program=program)
    rules = plan.by_type(DBX + "mwsNccPrivateEndpointRule:MwsNccPrivateEndpointRule")
    assert sorted((r.name, r.inputs["resourceId"]) for r in rules) == [
        ("serverless-network-dbfs-blob", dbfs), ("serverless-network-dbfs-dfs", dbfs),
        ("serverless-network-lake-blob", lake), ("serverless-network-lake-dfs", lake)]


ENDPOINT = "databricks-1111-pe-abcd"
PE = f"/subscriptions/5/resourceGroups/x/providers/Microsoft.Network/privateEndpoints/{ENDPOINT}"
CONN = ("/subscriptions/0/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/lake/"
        "privateEndpointConnections/c1")


def _connection(status: str) -> dict[str, Any]:
    return {"id": CONN, "privateEndpoint": {"id": PE}, "privateLinkServiceConnectionState": {"status": status}}


def test_the_approval_check_passes_an_approved_connection_and_stops_on_a_pending_one() -> None:
    assert check_approved("lake", "dfs", "lake", ENDPOINT, "mlops-dev-ncc", [_connection("Approved")]) == CONN
    with pytest.raises(RuntimeError) as pending:
        check_approved("lake", "dfs", "lake", ENDPOINT, "mlops-dev-ncc", [_connection("Pending")])
    assert str(pending.value) == (
        f"serverless private endpoint lake/dfs (NCC mlops-dev-ncc, endpoint {ENDPOINT}) is Pending on storage "
        f"account lake; approve it, then run `pulumi up` again: az network private-endpoint-connection approve "
        f"--id {CONN} --description 'Databricks serverless (NCC mlops-dev-ncc)'")
    with pytest.raises(RuntimeError, match="has no private endpoint connection on storage account lake yet"):
        check_approved("lake", "blob", "lake", ENDPOINT, "mlops-dev-ncc", [])


def _drop(*names: str) -> Mutation:
    def mutate(resources: list[dict[str, Any]]) -> None:
        resources[:] = [r for r in resources if r["name"] not in names]
    return mutate


@pytest.mark.parametrize("stack", STACKS)
def test_serverless_reachability_rule_sees_a_missing_rule_or_binding(stack: str) -> None:
    plan = plan_of(stack)
    account = plan.one("azure-native:storage:StorageAccount").inputs["accountName"]
    posture = "public access disabled" if stack == "prod" else "network default Deny"
    [blob] = messages("serverless-storage-reachable", views(plan, _drop("serverless-network-lake-blob")))
    assert blob.startswith(f"storage account {account} ({posture}; read by Catalog ")
    assert f"Catalog ml_{stack}_catalog" in blob
    assert blob.endswith("is unreachable from serverless compute: no private-endpoint rule with groupId 'blob' to "
                         "it in the bound NCC")
    [unbound] = messages("serverless-storage-reachable", views(plan, _drop("serverless-network-binding")))
    assert unbound.endswith("no NCC bound to this stack's workspace (MwsNccBinding)")


def test_serverless_reachability_rule_ignores_storage_open_to_the_internet() -> None:
    def open_lake(resources: list[dict[str, Any]]) -> None:
        _drop("serverless-network-lake-blob", "serverless-network-lake-dfs")(resources)
        lake = next(r for r in resources if r["type"] == "azure-native:storage:StorageAccount")
        lake["inputs"]["networkRuleSet"]["defaultAction"] = "Allow"
    assert messages("serverless-storage-reachable", views(plan_of("test"), open_lake)) == []


def test_consumers_rule_sees_an_endpoint_that_does_not_wait_for_the_network() -> None:
    def detach(resources: list[dict[str, Any]]) -> None:
        ep = find(resources, "modelServing:ModelServing", "ml-model-model-serving-test")
        ep["dependencies"] = [d for d in ep["dependencies"] if "serverless-network" not in d]
    assert messages("serverless-consumers-wait-for-ncc", views(plan_of("test"), detach)) == [
        "ModelServing ml-model-model-serving-test does not depend on the NCC binding (serverless-network-binding); "
        "serverless compute may start before it can reach the lakes",
        "ModelServing ml-model-model-serving-test does not depend on the private-endpoint rule(s) "
        "serverless-network-dbfs-blob, serverless-network-dbfs-dfs, serverless-network-lake-blob, "
        "serverless-network-lake-dfs"]
    found = messages("serverless-consumers-wait-for-ncc", views(plan_of("prod"), _drop("serverless-network-binding")))
    unbound = "runs on serverless compute, but no NCC is bound to this stack's workspace"
    assert sorted(found) == sorted([f"{k} {unbound}" for k in (
            "AlertV2 audit-failed-logins", "AlertV2 audit-permission-changes", "AlertV2 audit-registry-writes",
            "AlertV2 mlops-prod-daily-cost",
            *(f"AlertV2 customer-features-{a}" for a in ("accuracy-drop", "completeness", "drift", "uniqueness")),
            "QualityMonitor customer-features-monitor",
            "ModelServing ml-model-model-serving-prod", "AlertV2 ml-model-model-serving-prod-prediction_drift",
            "QualityMonitor ml-model-model-serving-prod-monitor", "Job prod-registry-retention",
            "Job restore-drill-job", "Job ml-model-model-serving-prod-drift-retrain")])


# --- the run-as identity of alerts and jobs ---------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_the_cicd_principal_holds_what_its_alerts_and_retrain_job_need(stack: str) -> None:
    """The CI/CD principal runs the drift alerts and the retrain job with only USE_CATALOG and CREATE_SCHEMA
    on the catalog (plus its own schema): now it holds USE_SCHEMA + SELECT on the monitor output and inference
    schemas and USE_SCHEMA on the models schema (it owns the served models, which is what registering versions
    and moving aliases need), and the job declares its reads."""
    plan = plan_of(stack)
    app, catalog = CICD[stack], f"ml_{stack}_catalog"
    granted = {}
    for res in plan.by_type(DBX + "grants:Grants"):
        key = res.inputs.get("catalog") or res.inputs.get("schema")
        for g in res.inputs["grants"]:
            if g["principal"] == app:
                granted[key] = set(g["privileges"])
    assert granted[catalog] == {"USE_CATALOG", "CREATE_SCHEMA"}
    assert granted[f"{catalog}.monitoring"] == {"USE_SCHEMA", "SELECT"}
    assert granted[f"{catalog}.model_inference_logs"] == {"USE_SCHEMA", "SELECT"}
    assert granted[f"{catalog}.models"] == {"USE_SCHEMA", "EXECUTE"}  # EXECUTE: the retention job
    models = {m.inputs["name"]: m.inputs["owner"] for m in plan.by_type(DBX + "registeredModel:RegisteredModel")}
    assert models["mlops_churn"] == app
    job = plan.one(DBX + "job:Job", f"ml-model-model-serving-{stack}-drift-retrain")
    params = {p["name"]: p["default"].split(",") for p in job.inputs["parameters"]}
    logs, mon = f"{catalog}.model_inference_logs", f"{catalog}.monitoring"
    assert params == {
        "uc_reads": [f"{logs}.inference_logs_processed", f"{logs}.mlops_churn_baseline",
                     f"{mon}.inference_logs_processed_drift_metrics",
                     f"{mon}.inference_logs_processed_profile_metrics"],
        "uc_registers_models": [f"{catalog}.models.mlops_churn"]}
    assert job.inputs["runAs"] == {"servicePrincipalName": app}
    alert = plan.one(DBX + "alertV2:AlertV2", f"ml-model-model-serving-{stack}-prediction_drift")
    assert three_part_names(alert.inputs["queryText"]) == [f"{mon}.inference_logs_processed_drift_metrics"]


def test_run_as_rule_sees_missing_privileges_of_the_alert_and_the_job() -> None:
    def revoke(resources: list[dict[str, Any]]) -> None:
        mon = find(resources, "grants:Grants", "grants-schema-ml_prod_catalog.monitoring")
        mon["inputs"]["grants"] = [g for g in mon["inputs"]["grants"] if g["principal"] != CICD["prod"]]
        # the model handed to someone else: registering versions then needs CREATE_MODEL, which it lacks
        find(resources, "registeredModel:RegisteredModel",
             "model-ml_prod_catalog-models-mlops_churn")["inputs"]["owner"] = "mlops-platform-admins"

    mon, app = "ml_prod_catalog.monitoring", CICD["prod"]
    lacks = "in this stack's Grants (INSUFFICIENT_PERMISSIONS at run time)"
    feature = [f"AlertV2 customer-features-{alert} runs as {app}, which queries {mon}.{table} but holds no USE_SCHEMA "
               f"on {mon}, SELECT on {mon}.{table} {lacks}" for alert, table in (
                   ("accuracy-drop", "inference_logs_processed_profile_metrics"),
                   ("completeness", "customer_features_profile_metrics"),
                   ("drift", "customer_features_drift_metrics"),
                   ("uniqueness", "customer_features_profile_metrics"))]
    assert messages("run-as-identity-privileges", views(plan_of("prod"), revoke)) == [*feature,
        f"AlertV2 ml-model-model-serving-prod-prediction_drift runs as {app}, which queries "
        f"{mon}.inference_logs_processed_drift_metrics but holds no USE_SCHEMA on {mon}, SELECT on "
        f"{mon}.inference_logs_processed_drift_metrics {lacks}",
        f"Job ml-model-model-serving-prod-drift-retrain runs as {app}, which queries "
        f"{mon}.inference_logs_processed_drift_metrics but holds no USE_SCHEMA on {mon}, SELECT on "
        f"{mon}.inference_logs_processed_drift_metrics {lacks}",
        f"Job ml-model-model-serving-prod-drift-retrain runs as {app}, which queries "
        f"{mon}.inference_logs_processed_profile_metrics but holds no USE_SCHEMA on {mon}, SELECT on "
        f"{mon}.inference_logs_processed_profile_metrics {lacks}",
        f"Job ml-model-model-serving-prod-drift-retrain runs as {app}, which registers models in "
        f"ml_prod_catalog.models.mlops_churn but holds no CREATE_MODEL on ml_prod_catalog.models {lacks}"]


def test_three_part_names_ignore_string_literals_and_struct_fields() -> None:
    sql = ("SELECT MAX(js_distance) FROM `c`.s.t WHERE window.start = (SELECT MAX(window.start) FROM c.s.t2) "
           "AND column_name = 'a.b.c'")
    assert three_part_names(sql) == ["c.s.t", "c.s.t2"]


# --- teardown and bindings ----------------------------------------------------------------------------

def test_teardown_rule_sees_an_account_wide_object_a_destroy_would_remove() -> None:
    """dev teardown deleting the account groups and disabling the system schemas: such objects need protect and
    retainOnDelete wherever a stack declares them."""
    def unretain(resources: list[dict[str, Any]]) -> None:
        find(resources, "systemSchema:SystemSchema", "system-schema-access")["retainOnDelete"] = False
    assert messages("account-objects-survive-stack-destroy", views(plan_of("prod"))) == []
    assert messages("account-objects-survive-stack-destroy", views(plan_of("prod"), unretain)) == [
        "retainOnDelete not set: a destroy of stack 'prod' would disable this account-wide object for every stack"]
    raw = set_path(stack_raw("prod"), "identity.accountGroups", {"manage": True})
    groups = run_program("prod", raw)

    def unprotect(resources: list[dict[str, Any]]) -> None:
        for r in resources:
            if r["type"] == DBX + "group:Group":
                r["protect"] = r["retainOnDelete"] = False
    assert messages("account-objects-survive-stack-destroy", views(groups)) == []
    assert messages("account-objects-survive-stack-destroy", views(groups, unprotect)) == [
        "protect and retainOnDelete not set: a destroy of stack 'prod' would delete this account-wide object for "
        "every stack"] * 5


def test_teardown_rule_checks_protect_where_crossguard_cannot_see_retain_on_delete() -> None:
    schema = next(v for v in views(plan_of("prod")) if v.type == DBX + "systemSchema:SystemSchema")
    rule = RULES_BY_NAME["account-objects-survive-stack-destroy"]
    assert rule.run_resource(dataclasses.replace(schema, retain_on_delete=None)) == []
    assert [f.message for f in rule.run_resource(dataclasses.replace(schema, retain_on_delete=None, protect=False))] \
        == ["protect not set: a destroy of stack 'prod' would disable this account-wide object for every stack"]


def test_binding_rule_sees_a_catalog_bound_to_a_workspace_that_cannot_reach_its_storage() -> None:
    """Model registry on prod's private lake bound to dev and test: the rule refuses a binding whose workspace
    (another stack's) has no path to the catalog's storage."""
    dev_workspace = plan_of("dev").outputs["workspaceNumericId"]

    def bind_dev(resources: list[dict[str, Any]]) -> None:
        own = find(resources, "workspaceBinding:WorkspaceBinding", "binding-catalog-ml_models_catalog-prod")
        other = copy.deepcopy(own)
        other["name"], other["urn"] = other["name"][:-4] + "dev", other["urn"][:-4] + "dev"
        other["inputs"]["workspaceId"] = dev_workspace
        resources.append(other)

    prod = plan_of("prod")
    account = prod.one("azure-native:storage:StorageAccount").inputs["accountName"]
    assert messages("uc-bound-workspace-reaches-storage", views(prod)) == []
    assert messages("uc-bound-workspace-reaches-storage", views(prod, bind_dev)) == [
        f"Catalog ml_models_catalog is bound to workspace {dev_workspace!r} of another stack, which cannot reach its "
        f"storage account {account} (public access disabled): no private endpoint, DNS record or NCC rule to it "
        "exists there"]
    [own] = messages("uc-bound-workspace-reaches-storage", views(prod, _drop("serverless-network-binding")))[:1]
    assert own.startswith("Catalog ml_models_catalog is bound to this stack's workspace, which cannot reach")
