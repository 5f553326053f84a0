"""Cost guardrails: a monthly Azure budget on the environment's resource group and a Databricks budget policy.

The Azure budget warns at 80 % and 100 % of actual cost and at 110 % of forecast. Azure bills DBUs on the
workspace resource (in this resource group); cluster VMs and disks land in the workspace's managed resource
group, which Databricks locks, so their cost is attributed by the policies' fixed cost tags instead.
The budget policy tags serverless usage (SQL warehouse, serving, serverless jobs) of this workspace.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_databricks as dbx
from pulumi_azure_native import consumption

from infra.config.cost import CostConfig


def budget_start(start: dt.date | None, today: dt.date | None = None) -> str:
    """ARM start date: the configured month, else the current month (Azure's rule for past start dates)."""
    day = start or (today or dt.datetime.now(dt.timezone.utc).date()).replace(day=1)
    return f"{day.isoformat()}T00:00:00Z"


def notification_key(kind: str, percent: float) -> str:
    return f"{kind.lower()}_GreaterThan_{percent:g}_Percent"


@dataclass(frozen=True)
class CostArgs:
    environment: str
    config: CostConfig
    resource_group_name: pulumi.Input[str]
    resource_group_id: pulumi.Input[str]
    workspace_numeric_id: pulumi.Input[str]
    account_id: str
    cost_tags: dict[str, str]
    budget_policy_users: Sequence[str]     # account group names allowed to use the budget policy
    budget_policy_managers: Sequence[str]  # account group names that manage it
    cicd_application_id: str
    account_provider: dbx.Provider
    principals_ready: Sequence[pulumi.Resource] = ()  # the groups and the CI/CD principal exist


class Cost(pulumi.ComponentResource):
    """mlops:platform:Cost: the Azure consumption budget and the Databricks serverless budget policy."""

    budget: consumption.Budget
    budget_policy: dbx.BudgetPolicy

    def __init__(self, name: str, args: CostArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:Cost", name, None, opts)
        budget = args.config.budget
        notifications = {
            notification_key(t.kind, t.percent): consumption.NotificationArgs(
                enabled=True, operator=consumption.OperatorType.GREATER_THAN, threshold=t.percent,
                threshold_type=t.kind, contact_emails=list(budget.contact_emails), locale="en-us")
            for t in budget.thresholds}
        self.budget = consumption.Budget(
            f"{name}-budget",
            budget_name=f"mlops-{args.environment}-monthly",
            scope=args.resource_group_id,
            amount=budget.monthly_amount,
            category=consumption.CategoryType.COST,
            time_grain=consumption.TimeGrainType.MONTHLY,
            time_period=consumption.BudgetTimePeriodArgs(start_date=budget_start(budget.start_date)),
            notifications=notifications,
            # A computed start month must not move on later runs (Azure rejects past months for updates too).
            opts=pulumi.ResourceOptions(parent=self,
                                        ignore_changes=["timePeriod"] if budget.start_date is None else None))

        account = pulumi.ResourceOptions(parent=self, provider=args.account_provider)
        self.budget_policy = dbx.BudgetPolicy(
            f"{name}-budget-policy",
            policy_name=f"mlops-{args.environment}-serverless",
            custom_tags=[dbx.BudgetPolicyCustomTagArgs(key=k, value=v) for k, v in sorted(args.cost_tags.items())],
            binding_workspace_ids=[pulumi.Output.from_input(args.workspace_numeric_id).apply(int)],
            opts=account)
        # Users assigned to the policy get its tags on their serverless usage.
        principals = [f"groups/{g}" for g in args.budget_policy_users] + [
            f"servicePrincipals/{args.cicd_application_id}"]
        dbx.AccessControlRuleSet(
            f"{name}-budget-policy-access",
            name=pulumi.Output.concat("accounts/", args.account_id, "/budgetPolicies/",
                                      self.budget_policy.policy_id, "/ruleSets/default"),
            grant_rules=[
                dbx.AccessControlRuleSetGrantRuleArgs(
                    role="roles/budgetPolicy.manager",
                    principals=[f"groups/{g}" for g in args.budget_policy_managers]),
                dbx.AccessControlRuleSetGrantRuleArgs(role="roles/budgetPolicy.user", principals=principals),
            ],
            opts=pulumi.ResourceOptions(parent=self, provider=args.account_provider,
                                        depends_on=list(args.principals_ready)))
        self.register_outputs({"budgetId": self.budget.id, "budgetPolicyId": self.budget_policy.policy_id})
