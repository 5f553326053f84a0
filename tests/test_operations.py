"""Day-2 operations: the platform admins' destination, system-table grants, audit alerts, the cost dashboard and
the daily cost alert, per stack; their config errors; the run-as rule on system tables."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.components.audit import audit_query
from infra.components.cost_dashboard import DASHBOARD_FILE, cost_alert_query
from infra.config import read_stack_file, validate
from infra.config.operations import FAILED_LOGINS, CostAlertConfig
from infra.policy.offline import check_plan
from mlopsctl.plan.model import Plan
from tests.support import DELETE, STACKS, config_problems, first_deploy_plan_of, plan_of, with_changes

ALERT = "databricks:index/alertV2:AlertV2"
GRANT = "databricks:index/grant:Grant"
DASHBOARD = "databricks:index/dashboard:Dashboard"
DESTINATION = "databricks:index/notificationDestination:NotificationDestination"
# each stack's CI/CD principal (the alerts' run-as identity), from its stack file
CICD = {s: validate(s, read_stack_file(s)).identity.cicd_service_principal.application_id for s in STACKS}

# stack -> (audit alerts, daily cost alert's display name, system-table grants as (principal, securable)); the
# admins' billing read is the metastore's, granted by the stack that owns the system schemas (prod)
EXPECTED: dict[str, tuple[set[str], str, set[tuple[str, str]]]] = {
    "dev": (set(), "[dev] daily cost over 150 or over 3x the 7-day mean",
            {("cicd", "system"), ("cicd", "system.billing")}),
    "test": (set(), "[test] daily cost over 200 or over 3x the 7-day mean",
             {("cicd", "system"), ("cicd", "system.billing")}),
    "prod": ({"audit-permission-changes", "audit-registry-writes", "audit-failed-logins"},
             "[prod] daily cost over 800 or over 2x the 7-day mean",
             {("cicd", "system"), ("cicd", "system.access"), ("cicd", "system.billing"), ("admins", "system"),
              ("admins", "system.billing")}),
}


def _operations(plan: Plan) -> list[Any]:
    """The custom resources under the Operations component (at any depth)."""
    root = plan.one("mlops:platform:Operations").urn
    parents = {r.urn: r.parent for r in plan.resources}

    def under(urn: str | None) -> bool:
        while urn is not None:
            if urn == root:
                return True
            urn = parents.get(urn)
        return False

    return [r for r in plan.resources if r.custom and under(r.parent)]


def _grants(plan: Plan, stack: str) -> set[tuple[str, str]]:
    who = {CICD[stack]: "cicd", "mlops-platform-admins": "admins"}
    return {(who[r.inputs["principal"]], r.inputs.get("catalog") or r.inputs["schema"])
            for r in _operations(plan) if r.type == GRANT}


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_declares_its_operations(stack: str) -> None:
    audit, cost_alert, grants = EXPECTED[stack]
    plan = plan_of(stack)
    alerts = {r.name: r for r in _operations(plan) if r.type == ALERT}
    assert {n for n in alerts if n.startswith("audit-")} == audit
    assert alerts[f"mlops-{stack}-daily-cost"].inputs["displayName"] == cost_alert
    assert _grants(plan, stack) == grants
    destination = next(r for r in _operations(plan) if r.type == DESTINATION)
    assert destination.inputs["config"]["email"]["addresses"] == ["mlops-platform-admins@example.com"]
    warehouse = plan.one("databricks:index/sqlEndpoint:SqlEndpoint").id
    for alert in alerts.values():
        assert alert.inputs["warehouseId"] == warehouse
        assert alert.inputs["runAs"] == {"servicePrincipalName": CICD[stack]}
        subs = alert.inputs["evaluation"]["notification"]["subscriptions"]
        assert subs == [{"destinationId": destination.id}]
        assert destination.urn in alert.dependencies
    dashboard = plan.one(DASHBOARD)
    assert dashboard.inputs["warehouseId"] == warehouse and dashboard.inputs["embedCredentials"] is False
    assert dashboard.inputs["parentPath"] == "/Shared/mlops-platform"


@pytest.mark.parametrize("stack", STACKS)
def test_a_first_deploy_declares_the_destination_and_grants_but_nothing_on_the_warehouse(stack: str) -> None:
    plan = first_deploy_plan_of(stack)
    types = {r.type for r in _operations(plan)}
    assert types == {DESTINATION, GRANT}
    assert _grants(plan, stack) == EXPECTED[stack][2]


def test_grants_wait_for_the_access_schema_and_alerts_for_their_grants() -> None:
    plan = plan_of("prod")
    access_schema = plan.one("databricks:index/systemSchema:SystemSchema", "system-schema-access")
    grant = next(r for r in _operations(plan) if r.type == GRANT and r.inputs.get("schema") == "system.access")
    assert access_schema.urn in grant.dependencies
    alert = next(r for r in _operations(plan) if r.name == "audit-failed-logins")
    assert grant.urn in alert.dependencies
    assert all(r.provider and "workspace" in r.provider for r in _operations(plan))


def test_the_audit_queries_are_filled_in_for_the_stack() -> None:
    alerts = {r.name: r.inputs["queryText"] for r in _operations(plan_of("prod")) if r.type == ALERT}
    assert "IN ('ml_prod_catalog', 'ml_models_catalog')" in alerts["audit-permission-changes"]
    assert f"'{CICD['prod']}'" in alerts["audit-registry-writes"]
    assert "{" not in "".join(alerts.values())
    assert audit_query(FAILED_LOGINS, ["a"], "x", 42).count("workspace_id = 42") == 1
    assert "IN ('')" in audit_query("SELECT 1 AS value WHERE c IN ({catalogs})", [], "x", 1)


@pytest.mark.parametrize(("amount", "multiple", "limit"), [
    (500.0, None, "CAST(500.0 AS DOUBLE), "),
    (None, 2.5, "2.5 * AVG("),
    (500.0, 2.0, "LEAST(CAST(500.0 AS DOUBLE), 2.0 * AVG("),
])
def test_the_cost_alert_compares_yesterday_with_the_configured_limit(amount: float | None, multiple: float | None,
                                                                    limit: str) -> None:
    query = cost_alert_query("123", CostAlertConfig(daily_amount=amount, trailing_mean_multiple=multiple))
    assert "AS daily_spend" in query and "AS spend_limit" in query
    assert f"COALESCE({limit}" in query
    assert "u.workspace_id = '123'" in query and "system.billing.list_prices" in query


def test_the_cost_alert_fires_on_its_limit_column() -> None:
    alert = next(r for r in _operations(plan_of("dev")) if r.name == "mlops-dev-daily-cost")
    evaluation = alert.inputs["evaluation"]
    assert evaluation["source"] == {"name": "daily_spend"}
    assert evaluation["threshold"] == {"column": {"name": "spend_limit"}}
    assert evaluation["comparisonOperator"] == "GREATER_THAN"
    assert alert.inputs["schedule"]["quartzCronSchedule"] == "0 0 7 * * ?"


def test_the_dashboard_is_the_repository_file_as_is() -> None:
    dashboard = plan_of("test").one(DASHBOARD)
    assert dashboard.inputs["serializedDashboard"] == DASHBOARD_FILE.read_text()
    doc = json.loads(DASHBOARD_FILE.read_text())
    sql = "".join(doc["datasets"][0]["queryLines"])
    for needed in ("system.billing.usage", "system.billing.list_prices", "custom_tags['costCenter']",
                   "custom_tags['project']", "custom_tags['environment']", "usage_metadata.job_id", "workspace_id",
                   "sku_name"):
        assert needed in sql
    datasets = {d["name"] for d in doc["datasets"]}
    widgets = [item["widget"] for page in doc["pages"] for item in page["layout"]]
    used = {q["query"]["datasetName"] for w in widgets for q in w.get("queries", [])}
    assert used == datasets
    titles = {w["spec"]["frame"]["title"] for w in widgets if "spec" in w}
    assert {"Cost by workspace", "Cost by SKU", "Cost by job"} <= titles


@pytest.mark.parametrize(("changes", "message"), [
    ([("operations.adminEmails", [])], "dev: operations.adminEmails: [] "),
    ([("operations.audit", {"alerts": {"failedLogins": {"query": "SELECT 1 AS n"}}})],
     "operations.audit.alerts.failedLogins.query: 'SELECT 1 AS n' has no column named value; allowed: SQL that "
     "returns a numeric column `... AS value`"),
    ([("operations.audit", {"alerts": {"registryWrites": {"query": "SELECT 1 AS value WHERE x = {catalog}"}}})],
     "has unknown placeholder(s) {catalog}; allowed: {catalogs}, {cicdPrincipal}, {workspaceId}"),
    ([("operations.audit", {"alerts": {"registryWrites": {"query": "SELECT 1 AS value WHERE x = {catalogs"}}})],
     "has an unbalanced { or }; allowed: the placeholders {catalogs}, {cicdPrincipal}, {workspaceId}"),
    ([("operations.audit", {"alerts": {"failedLogins": {"threshold": -1}}})],
     "operations.audit.alerts.failedLogins.threshold: -1"),
    ([("operations.costReporting.alert", {})],
     "operations.costReporting.alert.dailyAmount: null and trailingMeanMultiple are both unset; allowed: set "
     "either or both (an alert needs a limit)"),
    ([("operations.costReporting.alert", {"trailingMeanMultiple": 1})],
     "operations.costReporting.alert.trailingMeanMultiple: 1"),
    ([("operations.costReporting.alert", {"dailyAmount": 0})], "operations.costReporting.alert.dailyAmount: 0"),
    ([("operations.costReporting.dashboardFolder", "Shared/x/")],
     "operations.costReporting.dashboardFolder: 'Shared/x/' is not an absolute workspace folder; allowed: a path "
     "like '/Shared/mlops-platform' (leading slash, no trailing slash)"),
    ([("operations.costReporting.alert.schedule.cron", "every day")], "operations.costReporting.alert.schedule.cron"),
])
def test_operations_config_errors_say_what_is_allowed(changes: list[tuple[str, Any]], message: str) -> None:
    problems = config_problems("dev", with_changes("dev", changes))
    assert any(message in p for p in problems), problems


@pytest.mark.parametrize(("stack", "changes", "message"), [
    ("prod", [("operations.audit", DELETE)], "prod: operations.audit: null is required in prod: audit alerts over "
     "system.access.audit (set `audit: {}` for the defaults)"),
    ("prod", [("operations", DELETE)], "prod: operations: null is required in prod: the platform admins' "
     "destination and the audit alerts (operations.adminEmails, operations.audit)"),
])
def test_prod_cannot_leave_out_its_audit_alerts(stack: str, changes: list[tuple[str, Any]], message: str) -> None:
    assert message in config_problems(stack, with_changes(stack, changes))


@pytest.mark.parametrize("stack", ["dev", "test"])
def test_other_stacks_may_leave_out_audit_and_operations(stack: str) -> None:
    for changes in ([("operations.audit", DELETE)], [("operations", DELETE)]):
        assert validate(stack, with_changes(stack, changes)).stack == stack


def test_every_error_of_the_section_is_reported_at_once() -> None:
    problems = config_problems("dev", with_changes("dev", [
        ("operations.adminEmails", []), ("operations.costReporting.dashboardFolder", "x")]))
    assert len([p for p in problems if "operations." in p]) == 2


def _without_grant(schema: str) -> dict[str, Any]:
    doc = plan_of("prod").as_json()
    doc["resources"] = [r for r in doc["resources"] if not (r["type"] == GRANT and r["inputs"].get("schema") == schema)]
    return doc


@pytest.mark.parametrize(("doc", "findings"), [
    (lambda: plan_of("prod").as_json(), 0),  # every system schema the alerts read is granted
    (lambda: _without_grant("system.access"), 3),  # the three audit alerts lose SELECT on system.access.audit
    (lambda: _without_grant("system.billing"), 2),  # the cost alert loses billing.usage and billing.list_prices
])
def test_run_as_rule_checks_system_table_grants(doc: Any, findings: int) -> None:
    verdicts = [v for v in check_plan(doc(), "prod").verdicts if v.rule == "run-as-identity-privileges"]
    assert len(verdicts) == findings
    assert all(v.enforcement == "mandatory" and "USE_SCHEMA on system." in v.message for v in verdicts)


@pytest.mark.parametrize(("stack", "declared"), [("dev", False), ("test", False), ("prod", True)])
def test_the_admins_billing_grant_lives_in_the_stack_that_owns_the_system_schemas(stack: str, declared: bool) -> None:
    """Finding: dev, test and prod each declared the same per-principal Grant (the admins group on the metastore's
    `system` catalog); destroying dev would revoke prod's (a databricks_grant delete removes all of that principal's
    privileges on the securable: terraform-provider-databricks catalog/resource_grant.go)."""
    names = {r.name for r in plan_of(stack).by_type("databricks:index/grant:Grant")}
    assert ({"admins-billing-system", "admins-billing-system-billing"} <= names) is declared


def test_audit_alerts_left_to_their_defaults() -> None:
    """Any permission change, any registry write by another principal, more than 5 failed logins an hour."""
    from infra.config.operations import AuditAlertsConfig

    assert [(a.name, a.threshold) for a in AuditAlertsConfig().resolved()] == [
        ("permission-changes", 0), ("registry-writes", 0), ("failed-logins", 5)]


@pytest.mark.parametrize(("multiple", "ok"), [(100, True), (100.5, False), (1, False), (1.01, True)])
def test_the_trailing_mean_multiple_is_above_1_and_at_most_100(multiple: float, ok: bool) -> None:
    from pydantic import ValidationError

    from infra.config.operations import CostAlertConfig

    if ok:
        assert CostAlertConfig(trailingMeanMultiple=multiple).trailing_mean_multiple == multiple
    else:
        with pytest.raises(ValidationError):
            CostAlertConfig(trailingMeanMultiple=multiple)


@pytest.mark.parametrize(("threshold", "ok"), [(0, True), (-0.5, False)])
def test_an_audit_alert_threshold_may_be_zero_not_negative(threshold: float, ok: bool) -> None:
    from pydantic import ValidationError

    from infra.config.operations import AuditAlert

    if ok:
        assert AuditAlert(threshold=threshold).threshold == threshold
    else:
        with pytest.raises(ValidationError):
            AuditAlert(threshold=threshold)
