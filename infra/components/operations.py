"""Day-2 operations of one environment, built from parts: the platform admins' destination, read access to the
system tables for the identity the alerts run as (and billing for the admins, who view the cost dashboard),
audit alerts and cost reporting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_databricks as dbx

from infra.components.admin_destination import AdminDestination, AdminDestinationArgs
from infra.components.audit import AuditAlerts, AuditAlertsArgs
from infra.components.cost_dashboard import CostReporting, CostReportingArgs
from infra.components.system_tables import SystemTableReader, SystemTableReaderArgs
from infra.config.operations import OperationsConfig


@dataclass(frozen=True)
class OperationsArgs:
    config: OperationsConfig
    stack: str
    catalogs: Sequence[str]
    cicd_application_id: str  # alerts run as it
    admins_group: str  # views the cost dashboard with its own credentials
    workspace_numeric_id: pulumi.Input[str]
    warehouse_id: pulumi.Input[str]
    provider: dbx.Provider
    system_schemas: Mapping[str, dbx.SystemSchema]  # the ones this stack enables (the audit needs `access`)
    # the principals must be in the workspace before grants name them
    depends_on: Sequence[pulumi.Input[pulumi.Resource]] = ()
    # what the serverless SQL warehouse's queries wait for (ServerlessNetwork.ready(): NCC binding and rules)
    serverless_ready: Sequence[pulumi.Input[pulumi.Resource]] = ()
    # A first `up` from nothing: the serverless private endpoints still await approval, so nothing that runs on
    # the warehouse is declared yet (as for serving); the destination and the grants are.
    first_deploy: bool = False


class Operations(pulumi.ComponentResource):
    """mlops:platform:Operations: admins' destination, system-table access, audit alerts, cost reporting."""

    audit: AuditAlerts | None
    cost: CostReporting | None

    def __init__(self, name: str, args: OperationsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:Operations", name, None, opts)
        cfg, child = args.config, pulumi.ResourceOptions(parent=self)
        self.destination = AdminDestination("admin-destination", AdminDestinationArgs(
            stack=args.stack, emails=tuple(cfg.admin_emails), provider=args.provider), opts=child)
        cost = cfg.cost_reporting
        schemas = (["access"] if cfg.audit else []) + (["billing"] if cost.alert else [])
        enabled = [s for name_, s in args.system_schemas.items() if name_ in schemas]
        readers: list[pulumi.Resource] = []
        if schemas:
            readers.append(SystemTableReader("alerts-system-tables", SystemTableReaderArgs(
                principal=args.cicd_application_id, schemas=tuple(schemas), provider=args.provider,
                depends_on=[*args.depends_on, *enabled]), opts=child))
        viewers: list[pulumi.Resource] = []
        if cost.dashboard:
            viewers.append(SystemTableReader("admins-billing", SystemTableReaderArgs(
                principal=args.admins_group, schemas=("billing",), provider=args.provider,
                depends_on=list(args.depends_on)), opts=child))
        self.audit, self.cost = None, None
        if args.first_deploy:
            self.register_outputs({})
            return
        if cfg.audit is not None:
            self.audit = AuditAlerts("audit-alerts", AuditAlertsArgs(
                stack=args.stack, alerts=tuple(cfg.audit.alerts.resolved()), catalogs=tuple(args.catalogs),
                cicd_application_id=args.cicd_application_id, workspace_numeric_id=args.workspace_numeric_id,
                destination=self.destination.destination, warehouse_id=args.warehouse_id, provider=args.provider,
                depends_on=[*readers, *args.serverless_ready]), opts=child)
        self.cost = CostReporting("cost-reporting", CostReportingArgs(
            stack=args.stack, dashboard=cost.dashboard, dashboard_folder=cost.dashboard_folder, alert=cost.alert,
            warehouse_id=args.warehouse_id, workspace_numeric_id=args.workspace_numeric_id,
            run_as_application_id=args.cicd_application_id, destination=self.destination.destination,
            provider=args.provider, depends_on=[*readers, *viewers, *args.serverless_ready]), opts=child)
        self.register_outputs({})
