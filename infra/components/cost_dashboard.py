"""Cost reporting: the AI/BI cost dashboard and a daily cost alert, both on the environment's SQL warehouse.

The dashboard's definition is dashboards/cost.lvdash.json, deployed as is (`serialized_dashboard`; the provider
publishes a managed dashboard: terraform-provider-databricks docs/resources/dashboard.md). It runs with the
viewer's own credentials (`embed_credentials` false), so a viewer needs read access to system.billing.
Prices: system.billing.usage joined to system.billing.list_prices on SKU, cloud, unit and the price's validity
window, cost = usage_quantity x pricing.effective_list.default (Databricks docs, "Billable usage system table
reference" and "Pricing system table reference").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_databricks as dbx

from infra.components.serving.alerts import sql_alert, subscriptions_of
from infra.config.operations import CostAlertConfig

DASHBOARD_FILE = Path(__file__).resolve().parents[2] / "dashboards" / "cost.lvdash.json"

_USAGE_AT_LIST_PRICE = """SELECT u.usage_date, u.usage_quantity * lp.pricing.effective_list.default AS cost
  FROM system.billing.usage u
  JOIN system.billing.list_prices lp
    ON u.sku_name = lp.sku_name AND u.cloud = lp.cloud AND u.usage_unit = lp.usage_unit
    AND u.usage_end_time >= lp.price_start_time
    AND (lp.price_end_time IS NULL OR u.usage_end_time < lp.price_end_time)
  WHERE u.workspace_id = '{workspace_id}'
    AND u.usage_date BETWEEN date_sub(current_date(), 8) AND date_sub(current_date(), 1)"""


_YESTERDAY = "MAX(CASE WHEN usage_date = date_sub(current_date(), 1) THEN cost END)"


def cost_alert_query(workspace_id: object, alert: CostAlertConfig) -> str:
    """One row: yesterday's spend of the workspace and the limit it is compared with (the lower of the amount and
    the multiple of the 7 days before; no history and no amount: the spend itself, which never fires)."""
    limits = []
    if alert.daily_amount is not None:
        limits.append(f"CAST({alert.daily_amount!r} AS DOUBLE)")
    if alert.trailing_mean_multiple is not None:
        limits.append(f"{alert.trailing_mean_multiple!r} * "
                      "AVG(CASE WHEN usage_date < date_sub(current_date(), 1) THEN cost END)")
    limit = limits[0] if len(limits) == 1 else f"LEAST({', '.join(limits)})"
    return (f"WITH daily AS (\n  SELECT usage_date, SUM(cost) AS cost FROM (\n  "
            f"{_USAGE_AT_LIST_PRICE.format(workspace_id=workspace_id)}\n  ) GROUP BY usage_date\n)\n"
            f"SELECT COALESCE({_YESTERDAY}, 0) AS daily_spend,\n"
            f"  COALESCE({limit}, {_YESTERDAY}, 0) AS spend_limit\n"
            "FROM daily")


def dashboard_definition(path: Path = DASHBOARD_FILE) -> str:
    """The dashboard file's text, unchanged."""
    return path.read_text()


@dataclass(frozen=True)
class CostReportingArgs:
    stack: str
    dashboard: bool
    dashboard_folder: str
    alert: CostAlertConfig | None
    warehouse_id: pulumi.Input[str]
    workspace_numeric_id: pulumi.Input[str]
    run_as_application_id: str  # the alert runs as it; needs read on system.billing
    destination: dbx.NotificationDestination
    provider: dbx.Provider
    # the run-as principal's and viewers' grants on system.billing
    depends_on: Sequence[pulumi.Input[pulumi.Resource]] = ()


class CostReporting(pulumi.ComponentResource):
    """mlops:platform:CostReporting: the cost dashboard and the daily cost alert of one workspace."""

    dashboard: dbx.Dashboard | None
    alert: dbx.AlertV2 | None

    def __init__(self, name: str, args: CostReportingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:CostReporting", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=list(args.depends_on))
        self.dashboard = dbx.Dashboard(
            f"mlops-{args.stack}-cost-dashboard", display_name=f"mlops-{args.stack} cost",
            parent_path=args.dashboard_folder, warehouse_id=args.warehouse_id,
            serialized_dashboard=dashboard_definition(), embed_credentials=False,
            opts=child) if args.dashboard else None
        self.alert = None
        if args.alert is not None:
            alert = args.alert
            parts = ([f"over {alert.daily_amount:g}"] if alert.daily_amount is not None else []) + (
                [f"over {alert.trailing_mean_multiple:g}x the 7-day mean"]
                if alert.trailing_mean_multiple is not None else [])
            query = pulumi.Output.from_input(args.workspace_numeric_id).apply(
                lambda ws: cost_alert_query(ws, alert))
            self.alert = sql_alert(
                f"mlops-{args.stack}-daily-cost", display_name=f"[{args.stack}] daily cost {' or '.join(parts)}",
                query=query, source="daily_spend", threshold_column="spend_limit", schedule=alert.schedule,
                warehouse_id=args.warehouse_id, run_as_application_id=args.run_as_application_id,
                subscriptions=subscriptions_of([args.destination]), opts=child)
        self.register_outputs({"dashboard": bool(self.dashboard), "alert": bool(self.alert)})
