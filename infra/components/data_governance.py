"""Data governance of one environment, composed from parts with one job each:

- unity_catalog/classification.py: data classification, governed tags, tag assignments;
- retention.py: the registry retention job;
- feature_monitoring.py: monitors and alerts on feature tables;
- unity_catalog/abac.py: row filters and column masks (ABAC policies) and the SQL functions they call.

A feature monitor whose table does not exist yet (`tableExists: false`, or a first deploy) is not declared;
it is listed in `pending` and logged, as the serving endpoints' monitors are. The retention job (serverless) is
left out of a first deploy too: serverless compute reaches the lakes only once the NCC's private endpoints
are approved, between the first run and the next (docs/first-deploy.md). The ABAC policies wait for the next run
as well: their functions run on the SQL warehouse this run creates, and outside prod they match governed tags that
prod's first run declares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_databricks as dbx

from infra.components.feature_monitoring import FeatureMonitoring, FeatureMonitoringArgs
from infra.components.retention import Retention, RetentionArgs
from infra.components.serverless_network import ServerlessNetwork
from infra.components.unity_catalog.abac import AbacPolicies, AbacPoliciesArgs
from infra.components.unity_catalog.classification import Classification, ClassificationArgs
from infra.config.governance import GovernanceConfig


@dataclass(frozen=True)
class DataGovernanceArgs:
    config: GovernanceConfig
    stack: str
    provider: dbx.Provider                             # the environment's workspace provider
    cicd_application_id: str                           # runs the retention job and the alerts
    ml_engineers_group: str                            # may start the retention job by hand
    warehouse_id: pulumi.Input[str]
    securables: Mapping[str, pulumi.Resource]          # "catalog" / "catalog.schema" -> UC resource
    retention_schemas: Sequence[str] = ()              # empty: no retention job
    retention_apply: bool = False
    protected_versions: Sequence[str] = ()             # catalog.schema.model:version pinned by endpoints
    first_deploy: bool = False
    destination_ids: Sequence[pulumi.Input[str]] = ()  # the environment's alert destinations
    endpoint_monitors: Mapping[str, dbx.QualityMonitor] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    # Principals and grants (the Unity Catalog component).
    depends_on: Sequence[pulumi.Input[pulumi.Resource]] = ()
    # The NCC through which the serverless job, monitors and alerts reach the lakes: asked for ready() only once
    # one is declared (a first deploy declares none, so pending private-endpoint approvals cannot stop it).
    serverless_network: ServerlessNetwork | None = None
    # The ABAC functions' statements: the workspace they run in, how they authenticate, the warehouse resource.
    workspace_host: pulumi.Input[str] = ""
    workspace_resource_id: pulumi.Input[str] = ""
    auth_type: str | None = None
    warehouse: pulumi.Resource | None = None


class DataGovernance(pulumi.ComponentResource):
    """mlops:platform:DataGovernance: classification and tags, retention, feature-table monitoring."""

    classification: Classification
    retention: Retention | None
    feature_monitoring: FeatureMonitoring | None
    abac: AbacPolicies | None
    pending: list[dict[str, str]]

    def __init__(self, name: str, args: DataGovernanceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:DataGovernance", name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        self.classification = Classification("classification", ClassificationArgs(
            catalogs=cfg.classification.catalogs, governed_tags=cfg.governed_tags, assignments=cfg.tag_assignments,
            securables=args.securables, provider=args.provider), opts=child)

        def serverless() -> list[pulumi.Input[pulumi.Resource]]:
            return args.serverless_network.ready() if args.serverless_network else []

        self.pending = []
        self.retention = None
        if args.retention_schemas and args.first_deploy:
            reason = "first deploy: serverless jobs wait for the approved private endpoints (next run)"
            self.pending.append({"name": "registry-retention", "reason": reason})
            pulumi.log.warn(f"registry retention job skipped: {reason}", resource=self)
        elif args.retention_schemas:
            r = cfg.retention
            self.retention = Retention("retention", RetentionArgs(
                stack=args.stack, schemas=args.retention_schemas, apply=args.retention_apply, schedule=r.schedule,
                run_as_application_id=args.cicd_application_id, provider=args.provider,
                archive_schema=r.archive_schema, protected_versions=args.protected_versions,
                failure_recipients=r.failure_recipients, ml_engineers_group=args.ml_engineers_group, tags=args.tags,
                depends_on=[*args.depends_on, *serverless()]), opts=child)

        ready = []
        for mon in cfg.feature_monitors:
            if mon.table_exists and not args.first_deploy:
                ready.append(mon)
                continue
            reason = ("first deploy: the table is created by the platform's pipelines afterwards" if mon.table_exists
                      else "tableExists is false: set it to true once the table exists")
            self.pending.append({"name": mon.table_name, "reason": reason})
            pulumi.log.warn(f"feature monitor on {mon.table_name} skipped: {reason}", resource=self)
        self.feature_monitoring = None
        destinations = list(args.destination_ids)
        if ready and not destinations:  # no drift alerts here: the monitors' own recipients get the alerts
            recipients = sorted({a for mon in ready for a in mon.failure_recipients})
            email = dbx.NotificationDestination(
                f"mlops-{args.stack}-feature-alerts-email", display_name=f"mlops-{args.stack} feature alerts (e-mail)",
                config=dbx.NotificationDestinationConfigArgs(
                    email=dbx.NotificationDestinationConfigEmailArgs(addresses=recipients)),
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider))
            destinations = [email.id]
        if ready:
            self.feature_monitoring = FeatureMonitoring("feature-monitoring", FeatureMonitoringArgs(
                stack=args.stack, monitors=ready, provider=args.provider, warehouse_id=args.warehouse_id,
                run_as_application_id=args.cicd_application_id, destination_ids=destinations,
                endpoint_monitors=args.endpoint_monitors, schemas=args.securables,
                depends_on=[*args.depends_on, *serverless()]), opts=child)
        self.abac = self._abac(args, child)
        self.register_outputs({"pending": self.pending})

    def _abac(self, args: DataGovernanceArgs, child: pulumi.ResourceOptions) -> AbacPolicies | None:
        abac = args.config.abac
        if abac is None:
            return None
        if args.first_deploy:
            reason = ("first deploy: the functions run on the SQL warehouse this run creates, and the governed tags "
                      "are declared by prod's first run (next run)")
            self.pending.append({"name": "abac-policies", "reason": reason})
            pulumi.log.warn(f"ABAC policies skipped: {reason}", resource=self)
            return None
        key = abac.tag_key
        return AbacPolicies("abac", AbacPoliciesArgs(
            config=abac, stack=args.stack, securables=args.securables, warehouse_id=args.warehouse_id,
            workspace_host=args.workspace_host, workspace_resource_id=args.workspace_resource_id,
            auth_type=args.auth_type, provider=args.provider,
            # the platform's pipelines run as the CI/CD principal: they read real values
            except_principals=[*abac.unmasked_groups, args.cicd_application_id],
            tag_policy=self.classification.tag_policies.get(key),
            depends_on=[*args.depends_on, *([args.warehouse] if args.warehouse else [])]), opts=child)
