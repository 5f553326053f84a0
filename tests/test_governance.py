"""Governance resources per environment, from the cached offline plans: classification, governed tags and their
assignments, the registry retention job and its grants, the feature-table monitor and its alerts."""

from __future__ import annotations

import pytest

from infra.components import job_code
from infra.components.feature_monitoring import accuracy_drop_query, feature_drift_query, key_metric_query
from mlopsctl.plan.model import Plan, Resource
from tests.support import STACKS, first_deploy_plan_of, plan_of

DBX = "databricks:index/"
CLASSIFICATION = DBX + "dataClassificationCatalogConfig:DataClassificationCatalogConfig"
TAG_POLICY = DBX + "tagPolicy:TagPolicy"
TAG = DBX + "entityTagAssignment:EntityTagAssignment"
JOB = DBX + "job:Job"
FILE = DBX + "workspaceFile:WorkspaceFile"
MONITOR = DBX + "qualityMonitor:QualityMonitor"
ALERT = DBX + "alertV2:AlertV2"
DESTINATION = DBX + "notificationDestination:NotificationDestination"
GRANTS = DBX + "grants:Grants"

CICD = {"dev": "5a1c2e3d-4b5f-4a6b-8c7d-9e0f1a2b3c4d", "test": "6b2d3f4e-5c6a-4b7c-9d8e-0f1a2b3c4d5e",
        "prod": "7c3e4a5f-6d7b-4c8d-ae9f-1a2b3c4d5e6f"}
CLASSIFIED = {"dev": [], "test": ["catalogs/ml_test_catalog"],
              "prod": ["catalogs/ml_models_catalog", "catalogs/ml_prod_catalog"]}
TAGS = {
    "dev": {("catalogs", "ml_dev_catalog", "classification"): "internal",
            ("catalogs", "ml_dev_catalog", "owner"): "mlops-platform-team",
            ("schemas", "ml_dev_catalog.raw", "classification"): "confidential"},
    "test": {("catalogs", "ml_test_catalog", "classification"): "confidential",
             ("catalogs", "ml_test_catalog", "owner"): "mlops-platform-team",
             ("schemas", "ml_test_catalog.raw", "classification"): "pii",
             ("schemas", "ml_test_catalog.feature_store", "classification"): "pii"},
    "prod": {("catalogs", "ml_prod_catalog", "classification"): "confidential",
             ("catalogs", "ml_prod_catalog", "owner"): "mlops-platform-team",
             ("schemas", "ml_prod_catalog.raw", "classification"): "pii",
             ("schemas", "ml_prod_catalog.feature_store", "classification"): "pii",
             ("catalogs", "ml_models_catalog", "classification"): "internal",
             ("catalogs", "ml_models_catalog", "owner"): "mlops-platform-team"},
}
# stack -> (--schemas, --apply, --archive-schema or None)
RETENTION = {
    "dev": ("ml_dev_catalog.models", "false", None),
    "test": ("ml_test_catalog.models", "false", None),
    "prod": ("ml_models_catalog.dev_models,ml_models_catalog.candidate_models,ml_models_catalog.production_models,"
             "ml_models_catalog.archived_models", "true", "ml_models_catalog.archived_models"),
}
# The versions the stack file pins; entities that serve an alias (dev's and test's churn model, prod's candidate)
# pin none: the job protects whatever an alias points to when it runs.
PROTECTED = {"dev": "ml_dev_catalog.models.mlops_churn_advanced:1",
             "test": None,
             "prod": "ml_prod_catalog.models.mlops_churn:2"}
FEATURES = "ml_prod_catalog.feature_store.customer_features"


def deps(plan: Plan, res: Resource) -> set[str]:
    names = {r.urn: r.name for r in plan.resources}
    return {names[d] for d in res.dependencies if d in names}


def retention_job(plan: Plan, stack: str) -> Resource:
    return plan.one(JOB, f"{stack}-registry-retention")


@pytest.mark.parametrize("stack", STACKS)
def test_data_classification_on_the_test_and_prod_catalogs(stack: str) -> None:
    plan = plan_of(stack)
    configs = sorted(plan.by_type(CLASSIFICATION), key=lambda r: r.inputs["parent"])
    assert [c.inputs["parent"] for c in configs] == CLASSIFIED[stack]
    for c in configs:  # waits for its catalog; workspace-level provider only
        assert c.inputs["parent"].split("/")[1] in deps(plan, c)
        assert c.provider and "::databricks-workspace::" in c.provider


@pytest.mark.parametrize("stack", STACKS)
def test_governed_tags_are_declared_once_for_the_account_by_prod(stack: str) -> None:
    policies = {p.inputs["tagKey"]: p for p in plan_of(stack).by_type(TAG_POLICY)}
    if stack != "prod":
        assert policies == {}
        return
    assert sorted(policies) == ["classification", "owner"]
    assert [v["name"] for v in policies["classification"].inputs["values"]] == [
        "public", "internal", "confidential", "pii", "phi"]
    for p in policies.values():  # account-wide: a destroy of the stack must not remove them
        assert p.protect and p.retainOnDelete
        # the provider manages tag policies through the workspace client
        assert p.provider and "::databricks-workspace::" in p.provider


@pytest.mark.parametrize("stack", STACKS)
def test_tags_are_assigned_to_the_seed_catalogs_and_schemas(stack: str) -> None:
    plan = plan_of(stack)
    got = {(t.inputs["entityType"], t.inputs["entityName"], t.inputs["tagKey"]): t.inputs["tagValue"]
           for t in plan.by_type(TAG)}
    assert got == TAGS[stack]
    policies = {p.name for p in plan.by_type(TAG_POLICY)}
    for t in plan.by_type(TAG):  # waits for the tagged securable and, where declared here, the tag policy
        d = deps(plan, t)
        assert t.inputs["entityName"] in d
        assert (f"tag-policy-{t.inputs['tagKey']}" in d) == bool(policies)


@pytest.mark.parametrize("stack", STACKS)
def test_the_retention_job_runs_the_repo_code_as_the_cicd_principal(stack: str) -> None:
    plan = plan_of(stack)
    job = retention_job(plan, stack)
    (task,) = job.inputs["tasks"]
    assert task["sparkPythonTask"]["pythonFile"] == job_code.workspace_path("retention")
    assert task["environmentKey"] == job.inputs["environments"][0]["environmentKey"]
    # serverless environment 5: databricks-sdk and MLflow preinstalled, nothing installed on top
    assert job.inputs["environments"][0]["spec"] == {"environmentVersion": "5"}
    assert job.inputs["runAs"] == {"servicePrincipalName": CICD[stack]}
    assert job.inputs["schedule"]["quartzCronExpression"] == "0 0 3 * * ?"
    assert job.inputs["maxConcurrentRuns"] == 1
    code = plan.one(FILE, "job-code-retention")
    assert code.inputs["md5"] == job_code.md5_of(job_code.source_of("retention"))
    # the code, the schemas (their retention_days), the principal's grants and the serverless network
    schema = RETENTION[stack][0].split(",")[0]
    assert {"job-code-retention", schema, f"grants-schema-{schema}", "cicd-service-principal",
            "serverless-network-binding"} <= deps(plan, job)


@pytest.mark.parametrize("stack", STACKS)
def test_the_retention_job_is_a_dry_run_outside_prod_and_protects_pinned_versions(stack: str) -> None:
    params = retention_job(plan_of(stack), stack).inputs["tasks"][0]["sparkPythonTask"]["parameters"]
    given = dict(zip(params[::2], params[1::2], strict=True))
    schemas, apply, archive = RETENTION[stack]
    assert given["--schemas"] == schemas
    assert given["--apply"] == apply
    assert given.get("--archive-schema") == archive
    assert given.get("--protect") == PROTECTED[stack]  # the versions the stack's endpoints pin


@pytest.mark.parametrize("stack", STACKS)
def test_the_retention_principal_holds_its_privileges_in_the_plan(stack: str) -> None:
    plan = plan_of(stack)
    granted: dict[str, set[str]] = {}
    for res in plan.by_type(GRANTS):
        key = res.inputs.get("catalog") or res.inputs.get("schema")
        for g in res.inputs["grants"]:
            if g["principal"] == CICD[stack]:
                granted[key] = set(g["privileges"])
    schemas, _, archive = RETENTION[stack]
    for schema in schemas.split(","):
        assert {"USE_SCHEMA", "EXECUTE"} <= granted[schema]
        assert "USE_CATALOG" in granted[schema.split(".")[0]]
        assert "MANAGE" not in granted[schema]  # deleting needs ownership, never a broad grant
    if archive:
        assert "CREATE_MODEL" in granted[archive]


def test_the_feature_monitor_is_prod_only_and_profiles_the_seed_table() -> None:
    for stack in ("dev", "test"):
        assert FEATURES not in {m.inputs["tableName"] for m in plan_of(stack).by_type(MONITOR)}
    plan = plan_of("prod")
    mon = plan.one(MONITOR, "customer-features-monitor")
    assert mon.inputs["tableName"] == FEATURES
    assert mon.inputs["timeSeries"] == {"granularities": ["1 day", "1 week"], "timestampCol": "feature_timestamp"}
    assert mon.inputs["slicingExprs"] == ["senior_citizen='Yes'", "contract"]
    assert mon.inputs["schedule"]["quartzCronExpression"] == "0 0 0 * * ?"  # daily
    metrics = {m["name"]: m for m in mon.inputs["customMetrics"]}
    assert sorted(metrics) == ["user_id_completeness", "user_id_uniqueness"]
    assert all(m["inputColumns"] == ["user_id"] for m in metrics.values())
    assert "ml_prod_catalog.feature_store" in deps(plan, mon) and "ml_prod_catalog.monitoring" in deps(plan, mon)


def test_the_feature_alerts_have_the_seed_thresholds_and_go_to_the_alert_destinations() -> None:
    plan = plan_of("prod")
    alerts = {a.name: a for a in plan.by_type(ALERT) if a.name.startswith("customer-features-")}
    got = {name: (a.inputs["evaluation"]["comparisonOperator"],
                  a.inputs["evaluation"]["threshold"]["value"]["doubleValue"]) for name, a in alerts.items()}
    assert got == {"customer-features-completeness": ("LESS_THAN", 0.99),
                   "customer-features-uniqueness": ("LESS_THAN", 1.0),
                   "customer-features-drift": ("GREATER_THAN", 0.3),
                   "customer-features-accuracy-drop": ("GREATER_THAN", 0.05)}
    drift_destinations = {d.id for d in plan.by_type(DESTINATION)}
    for a in alerts.values():
        subs = {s["destinationId"] for s in a.inputs["evaluation"]["notification"]["subscriptions"]}
        assert subs and subs <= drift_destinations
        assert a.inputs["runAs"] == {"servicePrincipalName": CICD["prod"]}
    assert "ml-model-model-serving-prod-monitor" in deps(plan, alerts["customer-features-accuracy-drop"])
    assert "customer-features-monitor" in deps(plan, alerts["customer-features-drift"])


def test_a_first_deploy_leaves_the_feature_monitor_out() -> None:
    plan = first_deploy_plan_of("prod")
    assert FEATURES not in {m.inputs["tableName"] for m in plan.by_type(MONITOR)}
    assert not [a for a in plan.by_type(ALERT) if a.name.startswith("customer-features-")]


def test_the_queries_read_the_right_rows() -> None:
    q = key_metric_query("c.m.t_profile_metrics", "user_id_completeness", "user_id", "1 day")
    assert "column_name = 'user_id'" in q and "slice_key IS NULL" in q and "granularity = '1 day'" in q
    d = feature_drift_query("c.m.t_drift_metrics", "js_distance", "1 week")
    # every feature, whole table and every slice (bias), consecutive weekly windows; never the :table row
    assert "slice_key" not in d and "column_name NOT LIKE ':%'" in d and "drift_type = 'CONSECUTIVE'" in d
    a = accuracy_drop_query("c.m.p_profile_metrics", "1 day")
    assert "n = 2" in a and "n = 1" in a and "slice_key IS NULL" in a and "column_name = ':table'" in a
