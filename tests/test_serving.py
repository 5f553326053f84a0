"""Serving endpoints per environment, from the offline plan: entities, sizes, routes, AI Gateway, permissions."""

from __future__ import annotations

from typing import Any

import pytest

from mlopsctl.plan.engine import run_program
from mlopsctl.plan.mocks import alias_versions
from mlopsctl.plan.model import Plan, Resource
from tests.support import STACKS, dig, governance_resource, operations_resource, plan_of, set_path, stack_raw

SERVING = "databricks:index/modelServing:ModelServing"
PERMISSIONS = "databricks:index/permissions:Permissions"
SCHEMA = "databricks:index/schema:Schema"
MONITOR = "databricks:index/qualityMonitor:QualityMonitor"
ALERT = "databricks:index/alertV2:AlertV2"
DESTINATION = "databricks:index/notificationDestination:NotificationDestination"
JOB = "databricks:index/job:Job"


def alias(model: str, name: str) -> str:
    """The version an alias-served entity gets in the plan: what the offline registry answers for the alias."""
    return str(alias_versions(model)[name])


# stack -> endpoint name, [(served entity, UC model, version)], size, scale-to-zero, routes, rate limits
ENDPOINTS: dict[str, dict[str, Any]] = {
    "dev": {
        "name": "ml-model-model-serving-dev",
        "entities": [("champion", "ml_dev_catalog.models.mlops_churn",
                      alias("ml_dev_catalog.models.mlops_churn", "Champion")),
                     ("challenger", "ml_dev_catalog.models.mlops_churn",
                      alias("ml_dev_catalog.models.mlops_churn", "Challenger"))],
        "size": "Small", "scale_to_zero": True,
        "routes": {"champion": 90, "challenger": 10},          # A/B test
        "rate_limits": [{"calls": 100, "key": "endpoint", "renewalPeriod": "minute"}],
    },
    "test": {
        "name": "ml-model-model-serving-test",
        "entities": [("champion", "ml_test_catalog.models.mlops_churn",
                      alias("ml_test_catalog.models.mlops_churn", "Champion"))],
        "size": "Small", "scale_to_zero": False,
        "routes": {"champion": 100},
        "rate_limits": [{"calls": 200, "key": "endpoint", "renewalPeriod": "minute"}],
    },
    "prod": {
        "name": "ml-model-model-serving-prod",
        "entities": [("blue", "ml_prod_catalog.models.mlops_churn", "2"),
                     ("green", "ml_prod_catalog.models.mlops_churn",
                      alias("ml_prod_catalog.models.mlops_churn", "Champion"))],
        "size": "Medium", "scale_to_zero": False,
        "routes": {"blue": 100, "green": 0},                   # blue/green
        "rate_limits": [{"calls": 1000, "key": "endpoint", "renewalPeriod": "minute"},
                        {"calls": 100, "key": "user", "renewalPeriod": "minute"}],
    },
}


def endpoint(plan: Plan) -> Resource:
    return plan.one(SERVING)


def by_urn(plan: Plan) -> dict[str, Resource]:
    return {r.urn: r for r in plan.resources}


@pytest.mark.parametrize("stack", STACKS)
def test_one_endpoint_per_environment_with_the_seed_name(stack: str) -> None:
    assert [r.inputs["name"] for r in plan_of(stack).by_type(SERVING)] == [ENDPOINTS[stack]["name"]]


@pytest.mark.parametrize("stack", STACKS)
def test_served_entities_sizes_and_scale_to_zero(stack: str) -> None:
    want = ENDPOINTS[stack]
    entities = dig(endpoint(plan_of(stack)).inputs, "config.servedEntities")
    assert [(e["name"], e["entityName"], e["entityVersion"]) for e in entities] == want["entities"]
    for e in entities:
        assert e["workloadSize"] == want["size"]
        assert e["scaleToZeroEnabled"] is want["scale_to_zero"]
        assert e["workloadType"] == "CPU"


@pytest.mark.parametrize("stack", STACKS)
def test_traffic_routes_cover_every_entity_and_add_up_to_100(stack: str) -> None:
    inputs = endpoint(plan_of(stack)).inputs
    routes = {r["servedEntityName"]: r["trafficPercentage"] for r in dig(inputs, "config.trafficConfig.routes")}
    assert routes == ENDPOINTS[stack]["routes"]
    assert sum(routes.values()) == 100
    assert set(routes) == {e["name"] for e in dig(inputs, "config.servedEntities")}


def test_environments_demonstrate_an_ab_split_and_blue_green() -> None:
    splits = {s: sorted(ENDPOINTS[s]["routes"].values()) for s in STACKS}
    assert [10, 90] in splits.values()
    assert [0, 100] in splits.values()


@pytest.mark.parametrize("stack", STACKS)
def test_inference_table_is_the_ai_gateway_one_not_auto_capture(stack: str) -> None:
    inputs = endpoint(plan_of(stack)).inputs
    assert dig(inputs, "aiGateway.inferenceTableConfig") == {
        "enabled": True, "catalogName": f"ml_{stack}_catalog", "schemaName": "model_inference_logs",
        "tableNamePrefix": "inference_logs_"}
    assert "autoCaptureConfig" not in inputs["config"]
    assert dig(inputs, "aiGateway.usageTrackingConfig.enabled") is True


@pytest.mark.parametrize("stack", STACKS)
def test_rate_limits(stack: str) -> None:
    assert dig(endpoint(plan_of(stack)).inputs, "aiGateway.rateLimits") == ENDPOINTS[stack]["rate_limits"]
    assert "rateLimits" not in endpoint(plan_of(stack)).inputs  # the endpoint-level field is for external models


@pytest.mark.parametrize("stack", STACKS)
def test_tags_carry_environment_and_git_sha(stack: str) -> None:
    tags = {t["key"]: t["value"] for t in endpoint(plan_of(stack)).inputs["tags"]}
    assert tags["environment"] == stack
    assert tags["gitSha"] == "unknown"  # CI sets serving.gitSha per build
    assert "monitoring" not in tags  # only while the monitor waits for its table
    assert {"project", "owner", "costCenter"} <= set(tags)


@pytest.mark.parametrize("stack", STACKS)
def test_consumers_can_query_and_cicd_can_manage(stack: str) -> None:
    plan = plan_of(stack)
    ep = endpoint(plan)
    perms = plan.one(PERMISSIONS, f"{ENDPOINTS[stack]['name']}-permissions")
    cicd = stack_raw(stack)["mlops-platform:identity"]["cicdServicePrincipal"]["applicationId"]
    assert perms.inputs["accessControls"] == [
        {"groupName": "mlops-model-consumers", "permissionLevel": "CAN_QUERY"},
        {"servicePrincipalName": cicd, "permissionLevel": "CAN_MANAGE"},
    ]
    assert ep.urn in perms.dependencies  # by the endpoint's servingEndpointId output
    assert perms.inputs["servingEndpointId"]


@pytest.mark.parametrize("stack", STACKS)
def test_serving_resources_use_the_workspace_provider(stack: str) -> None:
    plan = plan_of(stack)
    ours = [r for r in plan.resources if r.type in (SERVING, MONITOR, ALERT, DESTINATION, JOB)
            and not governance_resource(r) and not operations_resource(r)]
    ours += [r for r in plan.by_type(PERMISSIONS) if "servingEndpointId" in r.inputs
             or ("jobId" in r.inputs and not governance_resource(r))]
    assert len(ours) == 7
    for res in ours:
        assert res.provider and "::databricks-workspace::" in res.provider, res.name


@pytest.mark.parametrize("stack", STACKS)
def test_endpoint_waits_for_its_schemas_and_principals(stack: str) -> None:
    plan = plan_of(stack)
    deps = {by_urn(plan)[d].name for d in endpoint(plan).dependencies}
    assert {f"ml_{stack}_catalog.model_inference_logs", f"ml_{stack}_catalog.models"} <= deps
    assert "cicd-service-principal" in deps and "metastore-assignment" in deps
    schemas = {r.name: r for r in plan.by_type(SCHEMA)}
    assert schemas[f"ml_{stack}_catalog.model_inference_logs"].urn in endpoint(plan).dependencies


@pytest.mark.parametrize("stack", STACKS)
def test_stack_outputs_follow_the_shared_contract(stack: str) -> None:
    want = ENDPOINTS[stack]
    outputs = plan_of(stack).outputs
    assert outputs["servingEndpoints"] == [{
        "name": want["name"],
        "entities": [{"name": n, "entityName": m, "entityVersion": v} for n, m, v in want["entities"]],
        "inferenceTable": {"catalog": f"ml_{stack}_catalog", "schema": "model_inference_logs",
                           "tablePrefix": "inference_logs_"},
    }]
    assert outputs["monitors"] == [{
        "tableName": f"ml_{stack}_catalog.model_inference_logs.inference_logs_processed",
        "outputSchema": f"ml_{stack}_catalog.monitoring", "endpoint": want["name"]}]


def test_dev_endpoint_with_an_unregistered_model_is_skipped_with_a_note() -> None:
    plan = plan_of("dev")
    assert "mlops-churn-advanced-dev" not in {r.name for r in plan.resources}
    assert plan.outputs["servingPending"] == [{
        "name": "mlops-churn-advanced-dev",
        "reason": "modelRegistered is false: register ml_dev_catalog.models.mlops_churn_advanced version 1 "
                  "first, then set it to true"}]
    assert plan_of("prod").outputs["servingPending"] == []


def _plan_with(stack: str, *changes: tuple[str, Any]) -> Plan:
    raw = stack_raw(stack)
    for path, value in changes:
        if path.startswith("mlops-platform:"):
            raw[path] = value
        else:
            set_path(raw, path, value)
    return run_program(stack, raw)


def of_serving(plan: Plan, typ: str) -> list[Resource]:
    """The resources of a type that the serving component declares (governance declares monitors, alerts and a
    job of its own)."""
    return [r for r in plan.by_type(typ) if not governance_resource(r) and not operations_resource(r)]


def test_phase_one_declares_the_endpoint_but_no_monitor() -> None:
    """Two-phase rollout, phase 1: the model is registered, the monitored table does not exist yet."""
    plan = _plan_with("test", ("serving.endpoints.0.monitor.tableExists", False))
    assert [r.name for r in plan.by_type(SERVING)] == ["ml-model-model-serving-test"]
    assert of_serving(plan, MONITOR) == [] and of_serving(plan, ALERT) == [] and of_serving(plan, JOB) == []
    assert plan.outputs["monitors"] == []
    tags = {t["key"]: t["value"] for t in plan.one(SERVING).inputs["tags"]}
    assert tags["monitoring"] == "pending"  # visible to people and policy checks until phase 2
    assert [p["name"] for p in plan.outputs["servingPending"]] == ["ml-model-model-serving-test"]
    assert plan.outputs["servingPending"][0]["reason"].startswith(
        "monitor.tableExists is false: ml_test_catalog.model_inference_logs.inference_logs_processed must exist")


def test_before_registration_nothing_of_the_endpoint_is_declared() -> None:
    plan = _plan_with("prod", ("serving.endpoints.0.modelRegistered", False),
                      ("serving.endpoints.0.monitor.tableExists", False))
    for typ in (SERVING, MONITOR, ALERT, JOB, DESTINATION):
        assert of_serving(plan, typ) == [], typ
    # the feature-table monitor stays; without the endpoint's monitor there is no accuracy alert, and without
    # drift alerts its alerts go to an e-mail destination of their own
    assert sorted(a.name for a in plan.by_type(ALERT) if governance_resource(a)) == [
        "customer-features-completeness", "customer-features-drift", "customer-features-uniqueness"]
    assert [d.name for d in plan.by_type(DESTINATION) if not operations_resource(d)] == [
        "mlops-prod-feature-alerts-email"]
    assert plan.outputs["servingEndpoints"] == []
    assert plan.outputs["servingPending"][0]["reason"].startswith("modelRegistered is false: register "
                                                                 "ml_prod_catalog.models.mlops_churn version 2, alias "
                                                                 "Champion")


def test_ci_git_sha_reaches_endpoint_and_job_tags() -> None:
    plan = _plan_with("dev", ("serving.gitSha", "0123abc"))
    tags = {t["key"]: t["value"] for t in plan.one(SERVING).inputs["tags"]}
    assert tags["gitSha"] == "0123abc"
    assert plan.one(JOB, "ml-model-model-serving-dev-drift-retrain").inputs["tags"]["gitSha"] == "0123abc"


def test_webhook_url_is_a_secret_in_the_plan() -> None:
    notifications = {"emails": ["ml-ops@example.com", "data-science-lead@example.com"], "webhook": "microsoftTeams"}
    plan = _plan_with("prod", ("serving.notifications", notifications),
                      ("mlops-platform:alertWebhookUrl", {"secure": "v1:AAAAEncryptedByThePulumiSecretsProvider"}))
    teams = plan.one(DESTINATION, "mlops-prod-drift-microsoftTeams")
    assert teams.inputs["config"] == {"microsoftTeams": {"url": "[secret]"}}
    email = plan.one(DESTINATION, "mlops-prod-drift-email")
    alerts = [a for a in plan.by_type(ALERT) if not operations_resource(a)]  # the admins' alerts go to the admins
    for alert in alerts:  # the drift alert and the feature-table alerts: e-mail and Teams
        subscribed = [s["destinationId"] for s in dig(alert.inputs, "evaluation.notification.subscriptions")]
        assert subscribed == [email.id, teams.id], alert.name
    assert len(alerts) == 5
