"""The whole stack config: one model per area, composed here. Cross-field rules live with their area."""

from __future__ import annotations

from typing import Any

from pydantic import PrivateAttr, SecretStr, ValidationInfo, model_validator
from pydantic.alias_generators import to_camel

from infra.config import deploy as deploy_config
from infra.config import egress, posture, resilience, security
from infra.config import governance as governance_config
from infra.config import operations as operations_config
from infra.config import unity_catalog as uc_config
from infra.config.base import StrictModel, field_problems
from infra.config.compute import ComputeConfig
from infra.config.core import NamingConfig, NetworkConfig, Region, TagsConfig, WorkspaceConfig
from infra.config.cost import CostConfig
from infra.config.databricks import DatabricksConfig
from infra.config.identity import IdentityConfig
from infra.config.operations import OperationsConfig
from infra.config.serving import ServingConfig, serving_stack_problems
from infra.config.types import Environment
from infra.naming import Names, check_name
from infra.tags import platform_tags

MAX_AZURE_TAGS = 50


class StackConfig(StrictModel):
    """Everything `mlops-platform:*` in Pulumi.<stack>.yaml."""

    environment: Environment
    """The tier of this stack: what it may relax (dev, test) or must refuse (prod); not its name. Prod turns every
    security relaxation into an error."""
    # The stack's name, from the validation context (validate() passes it): names derive from it, so two
    # stacks of one environment (test and staging) differ. Not a config key.
    _stack: str | None = PrivateAttr(default=None)
    location: Region = "eastus2"
    """Azure region of the resource group, VNet, workspace and lake; the Unity Catalog metastore is regional, so stacks
    in one region share it."""
    tags: TagsConfig
    """Tags put on every taggable Azure resource (the stack name is added as `environment`)."""
    naming: NamingConfig = NamingConfig()
    """Names of the Azure resources; each defaults to `<prefix>-<stack>-...` and can be overridden, e.g. to adopt
    existing resources."""
    network: NetworkConfig
    """The environment's VNet and its Databricks host, container and private-endpoint subnets."""
    workspace: WorkspaceConfig = WorkspaceConfig()
    """The Azure Databricks workspace: SKU, secure cluster connectivity and whether its front end is public."""
    databricks: DatabricksConfig
    """The Databricks account (for account-level resources) and how the providers authenticate."""
    identity: IdentityConfig
    """The account groups of the access-control matrix's roles, the CI/CD service principal and the deploying
    principal."""
    # --- security landing ---
    lake: security.LakeConfig
    """The environment's ADLS Gen2 storage account: Unity Catalog managed storage and MLflow artifacts."""
    key_vault: security.KeyVaultConfig = security.KeyVaultConfig()
    """The environment's Key Vault (RBAC, soft delete, private endpoint): CMK keys and the secret scope's secrets."""
    encryption: security.EncryptionConfig  # per environment: prod needs the tenant's AzureDatabricks object id
    """Customer-managed keys for the workspace's managed services, managed disks and DBFS root; prod needs the tenant's
    AzureDatabricks object id."""
    workspace_security: security.WorkspaceSecurityConfig = security.WorkspaceSecurityConfig()
    """Workspace hardening beyond the network: front-end IP access list, DBFS root storage firewall, compliance
    security profile."""
    private_link: security.PrivateLinkConfig = security.PrivateLinkConfig()
    """Private endpoints and private DNS for the workspace, lake and key vault."""
    observability: security.ObservabilityConfig = security.ObservabilityConfig()
    """The Log Analytics workspace that diagnostic settings of every resource send their logs to."""
    protection: security.ProtectionConfig = security.ProtectionConfig()
    """Guards against deleting data by mistake (Pulumi protect, retain on delete, resource group lock); prod refuses
    any of them off."""

    deploy: deploy_config.DeployConfig = deploy_config.DeployConfig()
    """Where and how `pulumi up` runs for this stack: the deploy runner's network and the first-deploy switch."""

    @model_validator(mode="after")
    def _stack_name(self, info: ValidationInfo) -> StackConfig:
        # First of the model validators: the ones below name things.
        self._stack = (info.context or {}).get("stack")
        return self

    @model_validator(mode="after")
    def _security_landing(self) -> StackConfig:
        problems = security.stack_problems(self) + deploy_config.stack_problems(self) + egress.stack_problems(self)
        if problems:
            raise field_problems(problems)
        return self

    # --- unity catalog and access ---
    unity_catalog: uc_config.UnityCatalogConfig
    """Unity Catalog: the metastore, catalogs and schemas, external locations, the access-control matrix and grants."""
    workspace_settings: uc_config.WorkspaceSettingsConfig = uc_config.WorkspaceSettingsConfig()
    """Platform settings of this stack's workspace: system schemas, legacy access, the secret scope and the experiment
    folder."""

    @model_validator(mode="after")
    def _unity_catalog(self) -> StackConfig:
        problems = uc_config.stack_problems(self)
        if problems:
            raise field_problems(problems)
        return self

    # --- compute and cost ---
    compute: ComputeConfig
    """What a cluster in this environment may be: cluster policies (interactive and jobs), instance pool and the
    serverless SQL warehouse."""
    cost: CostConfig
    """The Azure consumption budget on the environment's resource group and the DBU prices the cost table uses."""
    # --- serving and monitoring ---
    serving: ServingConfig | None = None
    """Model serving endpoints, their Lakehouse monitors, drift alerts and the drift -> retrain job; leave out for a
    stack without serving."""
    # Secret (pulumi config set --secret alertWebhookUrl <url>): the Teams/Slack webhook for drift alerts.
    alert_webhook_url: SecretStr | None = None
    """Secret: the Teams/Slack/generic webhook URL drift alerts are sent to; set it with `pulumi config set --secret
    alertWebhookUrl <url>` when serving.notifications.webhook is set."""

    # --- security posture ---
    security_posture: posture.SecurityPostureConfig = posture.SecurityPostureConfig()
    """The Security Analysis Tool's deploy-time checks: which this stack relaxes (with the reason) and the values the
    settings need (token lifetime, Git and artifact allowlists, the egress allowlist)."""

    @model_validator(mode="after")
    def _security_posture(self) -> StackConfig:
        problems = posture.stack_problems(self)
        if problems:
            raise field_problems(problems)
        return self

    # --- day-2 operations ---
    operations: OperationsConfig | None = None
    """Audit alerts, the cost dashboard and the daily cost alert, sent to the platform admins; required in prod (with
    audit), elsewhere leave out for none."""

    @model_validator(mode="after")
    def _operations(self) -> StackConfig:
        problems = operations_config.stack_problems(self)
        if problems:
            raise field_problems(problems)
        return self

    @model_validator(mode="after")
    def _serving(self) -> StackConfig:
        problems = serving_stack_problems(self)
        if problems:
            raise field_problems(problems)
        return self

    # --- resilience ---
    standby: resilience.StandbyConfig | None = None
    """Set in a disaster-recovery stack only: the stack it stands in for and how it is kept filled
    (docs/recovery.md)."""
    dr_share: resilience.DrShareConfig | None = None
    """The primary's Delta Sharing share of its schemas to its standby's metastore, which the standby's copy job
    reads; leave out without a standby."""
    drill: resilience.DrillConfig | None = None
    """The restore drill: a scheduled job that restores a sample of feature tables from history into a scratch
    schema and checks that the registry's aliases resolve; leave out for none."""

    @model_validator(mode="after")
    def _resilience(self) -> StackConfig:
        problems = resilience.stack_problems(self)
        if problems:
            raise field_problems(problems)
        return self

    # --- governance ---
    governance: governance_config.GovernanceConfig = governance_config.GovernanceConfig()
    """Data classification, governed tags and their assignments, the registry retention job and feature-table
    monitors (docs/governance.md)."""

    @model_validator(mode="after")
    def _governance(self) -> StackConfig:
        problems = governance_config.stack_problems(self)
        if problems:
            raise field_problems(problems)
        return self

    @model_validator(mode="after")
    def _tag_count(self) -> StackConfig:
        # Azure: at most 50 tag name/value pairs per resource (Microsoft Learn, "Use tags to organize your
        # Azure resources", Limitations; Tags - Create Or Update At Scope: "a maximum of 50 tags").
        total = len(self.resource_tags)
        if total > MAX_AZURE_TAGS:
            added = [k for k in platform_tags(self.stack, "", "", "") if k not in self.tags.extra]
            raise field_problems([("tags.extra", len(self.tags.extra),
                                   f"tags and the {len(added)} the platform adds ({', '.join(added)}) make {total} "
                                   f"tags per resource; Azure allows at most {MAX_AZURE_TAGS}")])
        return self

    @model_validator(mode="after")
    def _names(self) -> StackConfig:
        names = self.names
        problems: list[tuple[str, Any, str]] = []
        for kind, key in (("resourceGroup", "resource_group"), ("resourceGroup", "managed_resource_group"),
                          ("workspace", "workspace"), ("virtualNetwork", "virtual_network"),
                          ("storageAccount", "storage_account"), ("keyVault", "key_vault")):
            name = getattr(names, key)
            problem = check_name(kind, name)
            if problem:
                problems.append((f"naming.{to_camel(key)}", name, problem))
        if names.resource_group == names.managed_resource_group:
            problems.append(("naming.managedResourceGroup", names.managed_resource_group,
                             "must differ from naming.resourceGroup (Databricks owns the managed group)"))
        if problems:
            raise field_problems(problems)
        return self

    def as_deployed(self) -> StackConfig:
        """The config this run deploys: with deploy.firstDeploy, what a first `up` from nothing can create.

        Serving endpoints need their model versions and monitors their tables, which only exist once the
        platform runs; DBFS root CMK needs the workspace's storage identity granted the key first (stage
        'prepare', then 'enabled' on the next `up`).
        """
        if not self.deploy.first_deploy:
            return self
        update: dict[str, Any] = {}
        if self.encryption.dbfs_root == "enabled":
            update["encryption"] = self.encryption.model_copy(update={"dbfs_root": "prepare"})
        # Serverless jobs wait for the private endpoints approved after the first run: the drill and the
        # standby's copy job come with the second (docs/recovery.md).
        if self.drill is not None:
            update["drill"] = None
        if self.standby is not None and not self.standby.replication.managed_failover:
            update["standby"] = None
        if self.serving is not None:
            endpoints = [ep.model_copy(update={
                "model_registered": False,
                "monitor": ep.monitor.model_copy(update={"table_exists": False}) if ep.monitor else None})
                for ep in self.serving.endpoints]
            update["serving"] = self.serving.model_copy(update={"endpoints": endpoints})
        return self.model_copy(update=update)

    @property
    def stack(self) -> str:
        """The stack's name; the environment's when validated without one (it is for the checked-in stacks)."""
        return self._stack if self._stack is not None else self.environment

    @property
    def names(self) -> Names:
        return self.naming.resolved(self.stack)

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"

    @property
    def resource_tags(self) -> dict[str, str]:
        return platform_tags(self.stack, self.tags.project, self.tags.owner, self.tags.cost_center,
                             self.tags.extra)

    # --- values the components take, derived here so the composition only wires ---
    @property
    def front_end_private(self) -> bool:
        """Users reach the workspace over private link only (no public front end, no IP access lists)."""
        return self.workspace.public_network_access == "Disabled"

    @property
    def cost_tags(self) -> dict[str, str]:
        """Fixed custom tags on clusters, pools, the SQL warehouse and serverless usage (cost attribution)."""
        return {"costCenter": self.tags.cost_center, "environment": self.stack, "project": self.tags.project}

    @property
    def compute_user_groups(self) -> list[str]:
        """The groups of every role that may use compute here (clusters, jobs or the SQL warehouse), sorted."""
        roles = {*self.compute.users, *self.compute.jobs.users, *self.compute.sql_warehouse.users}
        by_role = self.identity.groups.by_role()
        return sorted(by_role[r] for r in roles)

    @property
    def run_as_grants(self) -> dict[str, tuple[str, ...]]:
        """catalog.schema -> what the run-as principal of the drift alerts, retrain, drill and standby copy jobs,
        the retention job and the feature-table alerts needs there."""
        needs: dict[str, set[str]] = {}
        for grants in (self.serving.run_as_grants() if self.serving else {}, resilience.run_as_grants(self),
                       governance_config.retention_grants(self), governance_config.feature_monitor_grants(self)):
            for schema, privileges in grants.items():
                needs.setdefault(schema, set()).update(privileges)
        return {schema: tuple(sorted(p)) for schema, p in sorted(needs.items())}
