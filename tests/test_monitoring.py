"""Lakehouse monitors, drift alerts and the drift -> retrain job per environment, from the offline plan."""

from __future__ import annotations

import json

import pytest

from mlopsctl.plan.model import Plan, Resource
from tests.support import STACKS, dig, governance_resource, operations_resource, plan_of, stack_raw

MONITOR = "databricks:index/qualityMonitor:QualityMonitor"
ALERT = "databricks:index/alertV2:AlertV2"
DESTINATION = "databricks:index/notificationDestination:NotificationDestination"
JOB = "databricks:index/job:Job"
PERMISSIONS = "databricks:index/permissions:Permissions"
SERVING = "databricks:index/modelServing:ModelServing"
WAREHOUSE = "databricks:index/sqlEndpoint:SqlEndpoint"

# stack -> recipients (monitor failures, alerts, job failures), drift threshold, retrain schedule pause status
EXPECTED = {
    "dev": (["mlops-dev-alerts@example.com"], 0.1, "PAUSED"),
    "test": (["mlops-test-alerts@example.com"], 0.1, "UNPAUSED"),
    "prod": (["ml-ops@example.com", "data-science-lead@example.com"], 0.05, "UNPAUSED"),
}


# The endpoint's monitor, drift alert and retrain job (governance adds monitors, alerts and a job of its own).
def ep_monitor(stack: str) -> str:
    return f"ml-model-model-serving-{stack}-monitor"


def ep_alert(stack: str) -> str:
    return f"ml-model-model-serving-{stack}-prediction_drift"


def ep_job(stack: str) -> str:
    return f"ml-model-model-serving-{stack}-drift-retrain"


def table(stack: str) -> str:
    return f"ml_{stack}_catalog.model_inference_logs.inference_logs_processed"


def drift_table(stack: str) -> str:
    return f"ml_{stack}_catalog.monitoring.inference_logs_processed_drift_metrics"


def names_of(plan: Plan, res: Resource) -> set[str]:
    urns = {r.urn: r.name for r in plan.resources}
    return {urns[d] for d in res.dependencies if d in urns}


@pytest.mark.parametrize("stack", STACKS)
def test_monitor_profiles_the_inference_log(stack: str) -> None:
    mon = plan_of(stack).one(MONITOR, ep_monitor(stack))
    assert mon.inputs["tableName"] == table(stack)
    assert mon.inputs["inferenceLog"] == {
        "problemType": "PROBLEM_TYPE_CLASSIFICATION", "predictionCol": "prediction", "labelCol": "churn",
        "timestampCol": "inference_timestamp", "modelIdCol": "model_version", "granularities": ["1 day"]}
    assert mon.inputs["baselineTableName"] == f"ml_{stack}_catalog.model_inference_logs.mlops_churn_baseline"
    assert mon.inputs["slicingExprs"] == ["senior_citizen='Yes'", "contract"]
    assert mon.inputs["outputSchemaName"] == f"ml_{stack}_catalog.monitoring"
    assert mon.inputs["assetsDir"] == ("/Workspace/Shared/lakehouse_monitoring/"
                                       f"ml_{stack}_catalog_model_inference_logs_inference_logs_processed")


@pytest.mark.parametrize("stack", STACKS)
def test_monitor_schedule_is_quartz_and_failures_are_mailed(stack: str) -> None:
    mon = plan_of(stack).one(MONITOR, ep_monitor(stack))
    assert mon.inputs["schedule"] == {"quartzCronExpression": "0 0 0 * * ?", "timezoneId": "UTC"}  # seed 0 0 * * *
    assert mon.inputs["notifications"] == {"onFailure": {"emailAddresses": EXPECTED[stack][0]}}


@pytest.mark.parametrize("stack", STACKS)
def test_monitor_computes_the_expected_loss_business_metric(stack: str) -> None:
    (metric,) = plan_of(stack).one(MONITOR, ep_monitor(stack)).inputs["customMetrics"]
    assert metric["name"] == "expected_loss"
    assert metric["type"] == "CUSTOM_METRIC_TYPE_AGGREGATE"
    assert metric["inputColumns"] == [":table"]
    assert json.loads(metric["outputDataType"]) == {"name": "output", "type": "double", "nullable": True,
                                                    "metadata": {}}
    assert metric["definition"] == ("avg(CASE WHEN {{prediction_col}} != {{label_col}} AND {{label_col}} = 'Yes' "
                                    "THEN -monthly_charges ELSE 0 END)")


@pytest.mark.parametrize("stack", STACKS)
def test_monitor_waits_for_endpoint_and_schemas_and_uses_the_warehouse(stack: str) -> None:
    plan = plan_of(stack)
    mon = plan.one(MONITOR, ep_monitor(stack))
    assert {plan.one(SERVING).name, f"ml_{stack}_catalog.model_inference_logs",
            f"ml_{stack}_catalog.monitoring"} <= names_of(plan, mon)
    assert mon.inputs["warehouseId"] == plan.one(WAREHOUSE).id


@pytest.mark.parametrize("stack", STACKS)
def test_drift_alert_threshold_query_and_warehouse(stack: str) -> None:
    plan = plan_of(stack)
    alert = plan.one(ALERT, ep_alert(stack))
    _, threshold, _ = EXPECTED[stack]
    assert dig(alert.inputs, "evaluation.comparisonOperator") == "GREATER_THAN"
    assert dig(alert.inputs, "evaluation.source.name") == "prediction_drift"
    assert dig(alert.inputs, "evaluation.threshold.value.doubleValue") == threshold
    assert dig(alert.inputs, "evaluation.emptyResultState") == "OK"
    assert alert.inputs["warehouseId"] == plan.one(WAREHOUSE).id
    query = alert.inputs["queryText"]
    assert query.startswith("SELECT MAX(js_distance) AS prediction_drift\n")
    assert f"FROM {drift_table(stack)}\n" in query  # the monitor's drift metrics table (its output)
    assert "column_name = 'prediction'" in query and "drift_type = 'CONSECUTIVE'" in query
    assert plan.one(MONITOR, ep_monitor(stack)).urn in alert.dependencies
    assert alert.inputs["schedule"] == {"quartzCronSchedule": "0 0 1 * * ?", "timezoneId": "UTC",
                                        "pauseStatus": "UNPAUSED"}
    cicd = stack_raw(stack)["mlops-platform:identity"]["cicdServicePrincipal"]["applicationId"]
    assert alert.inputs["runAs"] == {"servicePrincipalName": cicd}


@pytest.mark.parametrize("stack", STACKS)
def test_drift_alerts_go_to_the_email_destination(stack: str) -> None:
    plan = plan_of(stack)
    dest = plan.one(DESTINATION, f"mlops-{stack}-drift-email")
    assert dest.inputs["config"] == {"email": {"addresses": EXPECTED[stack][0]}}
    subscriptions = dig(plan.one(ALERT, ep_alert(stack)).inputs, "evaluation.notification.subscriptions")
    assert subscriptions == [{"destinationId": dest.id}]


@pytest.mark.parametrize("stack", STACKS)
def test_retrain_job_task_graph(stack: str) -> None:
    job = plan_of(stack).one(JOB, ep_job(stack))
    tasks = {t["taskKey"]: t for t in job.inputs["tasks"]}
    # then validate_challenger -> promote_champion (tests/test_model_lifecycle.py)
    assert list(tasks) == ["drift_detection", "check_violations", "model_training", "validate_challenger",
                           "promote_champion"]
    assert tasks["drift_detection"]["notebookTask"]["notebookPath"] == \
        "/Workspace/Shared/mlops/notebooks/08_drift_detection"
    assert "dependsOns" not in tasks["drift_detection"]
    assert tasks["check_violations"]["dependsOns"] == [{"taskKey": "drift_detection"}]
    assert tasks["check_violations"]["conditionTask"] == {
        "op": "GREATER_THAN", "left": "{{tasks.drift_detection.values.all_violations_count}}", "right": "0"}
    assert tasks["model_training"]["dependsOns"] == [{"taskKey": "check_violations", "outcome": "true"}]
    assert tasks["model_training"]["notebookTask"]["notebookPath"] == \
        "/Workspace/Shared/mlops/notebooks/02_automl_champion"


@pytest.mark.parametrize("stack", STACKS)
def test_retrain_job_parameters_schedule_and_identity(stack: str) -> None:
    plan = plan_of(stack)
    job = plan.one(JOB, ep_job(stack))
    recipients, threshold, pause = EXPECTED[stack]
    drift = job.inputs["tasks"][0]["notebookTask"]["baseParameters"]
    assert drift == {"endpoint_name": f"ml-model-model-serving-{stack}", "monitored_table": table(stack),
                     "drift_metrics_table": drift_table(stack),
                     "profile_metrics_table": f"ml_{stack}_catalog.monitoring.inference_logs_processed_profile_metrics",
                     "prediction_drift_threshold": str(threshold)}
    assert job.inputs["tasks"][2]["notebookTask"]["baseParameters"] == {
        "model_name": f"ml_{stack}_catalog.models.mlops_churn", "endpoint_name": f"ml-model-model-serving-{stack}",
        "challenger_alias": "Challenger"}
    assert job.inputs["schedule"] == {"quartzCronExpression": "0 0 2 * * ?", "timezoneId": "UTC", "pauseStatus": pause}
    cicd = stack_raw(stack)["mlops-platform:identity"]["cicdServicePrincipal"]["applicationId"]
    assert job.inputs["runAs"] == {"servicePrincipalName": cicd}
    assert job.inputs["emailNotifications"] == {"onFailures": recipients}
    assert job.inputs["maxConcurrentRuns"] == 1
    assert plan.one(MONITOR, ep_monitor(stack)).urn in job.dependencies


@pytest.mark.parametrize("stack", STACKS)
def test_retrain_job_permissions(stack: str) -> None:
    plan = plan_of(stack)
    job = plan.one(JOB, ep_job(stack))
    perms = plan.one(PERMISSIONS, f"ml-model-model-serving-{stack}-drift-retrain-permissions")
    assert perms.inputs["jobId"] == job.id
    assert perms.inputs["accessControls"] == [
        {"groupName": "mlops-ml-engineers", "permissionLevel": "CAN_MANAGE_RUN"},
        {"groupName": "mlops-data-scientists", "permissionLevel": "CAN_VIEW"}]


@pytest.mark.parametrize("stack", STACKS)
def test_every_endpoint_has_its_monitor_alert_and_job(stack: str) -> None:
    plan = plan_of(stack)
    endpoints = [r.inputs["name"] for r in plan.by_type(SERVING)]
    def serving(typ: str) -> list[str]:  # governance declares monitors, alerts and a job of its own
        return [r.name for r in plan.by_type(typ) if not governance_resource(r) and not operations_resource(r)]

    assert serving(MONITOR) == [f"{e}-monitor" for e in endpoints]
    assert serving(ALERT) == [f"{e}-prediction_drift" for e in endpoints]
    assert serving(JOB) == [f"{e}-drift-retrain" for e in endpoints]
