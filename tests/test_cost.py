"""Cost guardrails per environment: Azure budget, Databricks budget policy, and the generated cost table."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from infra.components.cost import budget_start
from infra.config import PROJECT_DIR, validate
from infra.config import cost as config_cost
from mlopsctl.commands import main as cli
from mlopsctl.plan.engine import run_program
from mlopsctl.reports.cost_table import BEGIN, END, embedded, load_all, render
from tests.support import STACKS, plan_of, set_path, stack_raw

BUDGET = "azure-native:consumption:Budget"
BUDGET_POLICY = "databricks:index/budgetPolicy:BudgetPolicy"
RULE_SET = "databricks:index/accessControlRuleSet:AccessControlRuleSet"

# stack -> (monthly amount, recipients, budget-policy users)
EXPECTED = {
    "dev": (2000, ["mlops-platform-team@example.com"],
            ["mlops-data-scientists", "mlops-devops-engineers", "mlops-ml-engineers"]),
    "test": (3000, ["mlops-platform-team@example.com"],
             ["mlops-data-scientists", "mlops-devops-engineers", "mlops-ml-engineers"]),
    "prod": (10000, ["mlops-platform-team@example.com", "finops@example.com"],
             ["mlops-devops-engineers", "mlops-ml-engineers", "mlops-model-consumers"]),
}
# (notification key, threshold %, type): the same in every environment
THRESHOLDS = [("actual_GreaterThan_80_Percent", 80, "Actual"), ("actual_GreaterThan_100_Percent", 100, "Actual"),
              ("forecasted_GreaterThan_110_Percent", 110, "Forecasted")]
CICD = {"dev": "5a1c2e3d-4b5f-4a6b-8c7d-9e0f1a2b3c4d", "test": "6b2d3f4e-5c6a-4b7c-9d8e-0f1a2b3c4d5e",
        "prod": "7c3e4a5f-6d7b-4c8d-ae9f-1a2b3c4d5e6f"}


@pytest.mark.parametrize("stack", STACKS)
def test_monthly_budget_on_the_resource_group(stack: str) -> None:
    plan = plan_of(stack)
    amount, emails, _ = EXPECTED[stack]
    rg = plan.one("azure-native:resources:ResourceGroup")
    budget = plan.one(BUDGET)
    assert budget.inputs["budgetName"] == f"mlops-{stack}-monthly"
    assert budget.inputs["scope"] == rg.id
    assert rg.urn in budget.dependencies
    assert budget.id == f"{rg.id}/providers/Microsoft.Consumption/budgets/mlops-{stack}-monthly"
    assert (budget.inputs["amount"], budget.inputs["category"], budget.inputs["timeGrain"]) == (
        amount, "Cost", "Monthly")
    start = budget.inputs["timePeriod"]["startDate"]
    assert re.fullmatch(r"\d{4}-\d{2}-01T00:00:00Z", start)
    assert budget.inputs["notifications"] == {
        key: {"enabled": True, "operator": "GreaterThan", "threshold": pct, "thresholdType": kind,
              "contactEmails": emails, "locale": "en-us"} for key, pct, kind in THRESHOLDS}


def test_budget_start_is_the_configured_month_or_the_current_one() -> None:
    assert budget_start(dt.date(2025, 7, 1)) == "2025-07-01T00:00:00Z"
    assert budget_start(None, today=dt.date(2026, 2, 17)) == "2026-02-01T00:00:00Z"


def test_a_configured_start_month_reaches_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config_cost, "today", lambda: dt.date(2026, 1, 15))  # a start in the current month
    raw = set_path(stack_raw("test"), "cost.budget.startDate", "2026-01-01")
    budget = run_program("test", raw).one(BUDGET)
    assert budget.inputs["timePeriod"] == {"startDate": "2026-01-01T00:00:00Z"}


@pytest.mark.parametrize("stack", STACKS)
def test_budget_policy_tags_serverless_usage_of_this_workspace(stack: str) -> None:
    plan = plan_of(stack)
    policy = plan.one(BUDGET_POLICY)
    workspace = plan.one("azure-native:databricks:Workspace")
    assert policy.inputs["policyName"] == f"mlops-{stack}-serverless"
    assert {t["key"]: t["value"] for t in policy.inputs["customTags"]} == {
        "costCenter": f"cc-ml-{stack}", "environment": stack, "project": "mlops-platform"}
    assert policy.inputs["bindingWorkspaceIds"] == [int(plan.outputs["workspaceNumericId"])]
    assert workspace.urn in policy.dependencies
    assert policy.provider and "::databricks-account::" in policy.provider

    rules = plan.one(RULE_SET, "cost-budget-policy-access")
    assert rules.inputs["name"] == (f"accounts/0b7d6c3e-1f2a-4c5d-9e8f-7a6b5c4d3e2f/budgetPolicies/{policy.id}"
                                    "/ruleSets/default")
    assert policy.urn in rules.dependencies
    assert rules.provider and "::databricks-account::" in rules.provider
    by_role = {r["role"]: r["principals"] for r in rules.inputs["grantRules"]}
    assert by_role == {
        "roles/budgetPolicy.manager": ["groups/mlops-platform-admins"],
        "roles/budgetPolicy.user": [f"groups/{g}" for g in EXPECTED[stack][2]]
        + [f"servicePrincipals/{CICD[stack]}"]}


# --- the table in docs/compute-and-cost.md is generated from config ---


def test_the_compute_page_carries_the_generated_cost_table() -> None:
    page = (PROJECT_DIR / "docs" / "compute-and-cost.md").read_text()
    assert page.startswith("# Compute and cost\n")
    assert embedded(page) == render(load_all()), "run: mlopsctl cost-table --write docs/compute-and-cost.md"


def test_cost_table_values_follow_the_config() -> None:
    table = render(load_all())
    assert "| DBU/h bound per cluster (policy) | 4 | 14 | 110 |" in table
    assert "| Workers (autoscale) | 1-4 | 2-8 | 4-16 |" in table
    # DBU bound x all-purpose price; the budget divided by that is the hours it covers.
    assert "| Interactive cluster, per hour | 4 DBU x $0.55 = $2.20 | 14 DBU x $0.55 = $7.70 | " \
           "110 DBU x $0.55 = $60.50 |" in table
    assert "| Budget covers | 909 hours of one largest interactive cluster | 390 hours" in table
    configs = load_all()
    raw = set_path(stack_raw("dev"), "compute.maxDbusPerHour", 6)
    configs["dev"] = validate("dev", raw)
    assert "| DBU/h bound per cluster (policy) | 6 | 14 | 110 |" in render(configs)


def test_cost_table_command_checks_and_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["cost-table"]) == 0
    assert capsys.readouterr().out.strip() == render(load_all())
    assert cli.main(["cost-table", "--check", str(PROJECT_DIR / "docs" / "compute-and-cost.md")]) == 0

    stale = tmp_path / "compute-and-cost.md"
    stale.write_text(f"# x\n\n{BEGIN}\nold\n{END}\n\nafter\n")
    assert cli.main(["cost-table", "--check", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert cli.main(["cost-table", "--write", str(stale)]) == 0
    text = stale.read_text()
    assert embedded(text) == render(load_all())
    assert text.startswith("# x\n\n") and text.endswith("\n\nafter\n")

    stale.write_text("no markers\n")
    assert cli.main(["cost-table", "--check", str(stale)]) == 2
    assert "no cost-table markers" in capsys.readouterr().err
