"""What fills a standby stack's catalogs, by its `standby.replication.managedFailover` switch:

- true: Databricks Managed Disaster Recovery, an account-level failover group of the primary's and this
  workspace, replicating the catalogs and the workspace assets (pulumi-databricks DisasterRecoveryFailoverGroup;
  the Databricks API requires every workspace in the set to be in the Mission Critical tier);
- false: the copy job. A catalog in this metastore mounts the primary's share (Delta Sharing across metastores
  and regions), and `jobs/replicate.py` copies each shared schema's tables into the standby's schema of the same
  name and each model's versions and aliases into the standby's registry. The copy lands on the standby's own
  lake, so it survives the primary's region; its schedule is the tables' recovery point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_databricks as dbx

from infra.components.job_code import JobCode, JobCodeArgs
from infra.components.resilience.serverless import environments, job_params, python_task, scheduled, task_opts
from infra.config.resilience import Replication

MODULE = "replicate"
TASK = "copy_from_primary"
# What the copy job's principal needs on the catalog that mounts the primary's share (read-only by nature).
SHARED_CATALOG_PRIVILEGES = ("EXECUTE", "SELECT", "USE_CATALOG", "USE_SCHEMA")


@dataclass(frozen=True)
class StandbyReplicationArgs:
    config: Replication
    stack: str
    primary_stack: str
    primary_region: str
    region: str
    catalogs: Sequence[str]                 # this stack's catalogs (the primary's, by name)
    account_id: str
    workspace_numeric_id: pulumi.Input[str]
    primary_workspace_numeric_id: pulumi.Input[str] | None  # managed failover only (a StackReference output)
    account_provider: dbx.Provider
    workspace_provider: dbx.Provider
    run_as_application_id: str
    admins_group: str
    failure_recipients: Sequence[str] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    depends_on: Sequence[pulumi.Input[pulumi.Resource]] = ()  # target schemas, grants, serverless network


def shared_catalog_name(primary_stack: str) -> str:
    """The standby's catalog that mounts the primary's share."""
    return f"{primary_stack.replace('-', '_')}_standby_share"


class StandbyReplication(pulumi.ComponentResource):
    """mlops:platform:StandbyReplication: the failover group, or the shared catalog and the copy job."""

    failover_group: dbx.DisasterRecoveryFailoverGroup | None = None
    job: dbx.Job | None = None

    def __init__(self, name: str, args: StandbyReplicationArgs, opts: pulumi.ResourceOptions | None = None,
                 ) -> None:
        super().__init__("mlops:platform:StandbyReplication", name, None, opts)
        cfg = args.config
        if cfg.managed_failover:
            assert args.primary_workspace_numeric_id is not None
            workspace_set = f"{args.primary_stack}-workspaces"
            self.failover_group = dbx.DisasterRecoveryFailoverGroup(
                f"{name}-failover-group", parent=f"accounts/{args.account_id}",
                failover_group_id=f"{args.primary_stack}-to-{args.stack}",
                initial_primary_region=args.primary_region, regions=[args.primary_region, args.region],
                workspace_sets=[dbx.DisasterRecoveryFailoverGroupWorkspaceSetArgs(
                    name=workspace_set, replicate_workspace_assets=True,
                    workspace_ids=[pulumi.Output.from_input(args.primary_workspace_numeric_id).apply(str),
                                   pulumi.Output.from_input(args.workspace_numeric_id).apply(str)])],
                unity_catalog_assets=dbx.DisasterRecoveryFailoverGroupUnityCatalogAssetsArgs(
                    catalogs=[dbx.DisasterRecoveryFailoverGroupUnityCatalogAssetsCatalogArgs(name=c)
                              for c in args.catalogs],
                    data_replication_workspace_set=workspace_set),
                opts=task_opts(self, args.account_provider, args.depends_on))
            self.register_outputs({"managedFailover": True})
            return

        shared = shared_catalog_name(args.primary_stack)
        # Isolated and bound to this workspace like every catalog here; protected and retained like them
        # (recreating it is harmless, but the stack's rule holds every catalog to it).
        self.shared_catalog = dbx.Catalog(
            f"{name}-shared-catalog", name=shared, provider_name=cfg.provider_name, share_name=cfg.share_name,
            isolation_mode="ISOLATED",
            comment=f"Read-only: stack {args.primary_stack}'s share, the source of the standby copy",
            opts=pulumi.ResourceOptions(parent=self, provider=args.workspace_provider, protect=True,
                                        retain_on_delete=True, depends_on=list(args.depends_on)))
        self.shared_binding = dbx.WorkspaceBinding(
            f"{name}-shared-catalog-binding", securable_type="catalog", securable_name=self.shared_catalog.name,
            workspace_id=pulumi.Output.from_input(args.workspace_numeric_id).apply(str),
            binding_type="BINDING_TYPE_READ_ONLY",
            opts=pulumi.ResourceOptions(parent=self, provider=args.workspace_provider))
        self.shared_grants = dbx.Grants(
            f"{name}-shared-grants", catalog=self.shared_catalog.name,
            grants=[dbx.GrantsGrantArgs(principal=args.run_as_application_id,
                                        privileges=list(SHARED_CATALOG_PRIVILEGES))],
            opts=pulumi.ResourceOptions(parent=self, provider=args.workspace_provider))
        code = JobCode(f"{name}-code", JobCodeArgs(modules=[MODULE], provider=args.workspace_provider,
                                                   depends_on=list(args.depends_on)),
                       opts=pulumi.ResourceOptions(parent=self))
        params = {"source_catalog": shared, "schemas": ",".join(cfg.schemas), "models": ",".join(cfg.models)}
        self.job = dbx.Job(
            f"{name}-job", name=f"{args.stack}-copy-from-{args.primary_stack}",
            description=f"Copies stack {args.primary_stack}'s shared schemas and models into this standby.",
            tasks=[python_task(TASK, code.paths[MODULE], [f"--{k}={{{{job.parameters.{k}}}}}" for k in params])],
            environments=environments(), parameters=job_params(params),
            **scheduled(cfg.schedule, cfg.paused, args.run_as_application_id, args.failure_recipients),
            tags=dict(args.tags),
            opts=task_opts(self, args.workspace_provider,
                           [code, self.shared_grants, self.shared_binding, *args.depends_on]))
        self.permissions = dbx.Permissions(
            f"{name}-permissions", job_id=self.job.id,
            access_controls=[dbx.PermissionsAccessControlArgs(group_name=args.admins_group,
                                                              permission_level="CAN_MANAGE_RUN")],
            opts=pulumi.ResourceOptions(parent=self, provider=args.workspace_provider))
        self.register_outputs({"managedFailover": False, "job": self.job.name})
