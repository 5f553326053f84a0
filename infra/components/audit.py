"""Audit alerts: SQL alerts over system.access.audit on the environment's SQL warehouse, to the platform admins.

The queries and thresholds come from config (infra/config/operations.py); placeholders are filled in here.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_databricks as dbx

from infra.components.serving.alerts import sql_alert, subscriptions_of
from infra.config.operations import ResolvedAuditAlert


@dataclass(frozen=True)
class AuditAlertsArgs:
    stack: str
    alerts: Sequence[ResolvedAuditAlert]
    catalogs: Sequence[str]  # this stack's catalogs, for {catalogs}
    cicd_application_id: str  # {cicdPrincipal}; the alerts also run as it
    workspace_numeric_id: pulumi.Input[str]  # {workspaceId}
    destination: dbx.NotificationDestination
    warehouse_id: pulumi.Input[str]
    provider: dbx.Provider
    # the run-as principal's grants on system.access, and the warehouse's serverless network
    depends_on: Sequence[pulumi.Input[pulumi.Resource]] = ()


def audit_query(template: str, catalogs: Sequence[str], cicd_application_id: str, workspace_id: object) -> str:
    """The alert's SQL with its placeholders filled in (catalogs quoted; names are validated identifiers)."""
    quoted = ", ".join(f"'{c}'" for c in catalogs) or "''"
    return template.format(catalogs=quoted, cicdPrincipal=cicd_application_id, workspaceId=workspace_id)


class AuditAlerts(pulumi.ComponentResource):
    """mlops:platform:AuditAlerts: one v2 SQL alert per configured audit check."""

    alerts: dict[str, dbx.AlertV2]

    def __init__(self, name: str, args: AuditAlertsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:AuditAlerts", name, None, opts)
        self.alerts = {}
        subscriptions = subscriptions_of([args.destination])
        for alert in args.alerts:
            query = pulumi.Output.from_input(args.workspace_numeric_id).apply(functools.partial(
                audit_query, alert.query, args.catalogs, args.cicd_application_id))
            self.alerts[alert.name] = sql_alert(
                f"audit-{alert.name}", display_name=f"[{args.stack}] audit: {alert.name.replace('-', ' ')} > "
                f"{alert.threshold:g}", query=query, source="value", threshold=alert.threshold,
                schedule=alert.schedule, warehouse_id=args.warehouse_id,
                run_as_application_id=args.cicd_application_id, subscriptions=subscriptions,
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=list(args.depends_on)))
        self.register_outputs({"alerts": sorted(self.alerts)})
