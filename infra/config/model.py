"""The whole stack config: one model per area, composed here. Cross-field rules live with their area."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr, model_validator

from infra.config import deploy as deploy_config
from infra.config import security
from infra.config import unity_catalog as uc_config
from infra.config.base import StrictModel, field_problems
from infra.config.compute import ComputeConfig
from infra.config.core import (
    Environment,
    NamingConfig,
    NetworkConfig,
    Region,
    TagsConfig,
    WorkspaceConfig,
)
from infra.config.cost import CostConfig
from infra.config.databricks import DatabricksConfig
from infra.config.identity import IdentityConfig
from infra.config.serving import ServingConfig, serving_stack_problems
from infra.naming import check_name
from infra.tags import platform_tags


class StackConfig(StrictModel):
    """Everything `mlops-platform:*` in Pulumi.<stack>.yaml."""

    environment: Environment
    location: Region = "eastus2"
    tags: TagsConfig
    naming: NamingConfig = NamingConfig()
    network: NetworkConfig
    workspace: WorkspaceConfig = WorkspaceConfig()
    databricks: DatabricksConfig
    identity: IdentityConfig
    # --- security landing ---
    lake: security.LakeConfig
    key_vault: security.KeyVaultConfig = security.KeyVaultConfig()
    encryption: security.EncryptionConfig  # per environment: prod needs the tenant's AzureDatabricks object id
    workspace_security: security.WorkspaceSecurityConfig = security.WorkspaceSecurityConfig()
    private_link: security.PrivateLinkConfig = security.PrivateLinkConfig()
    observability: security.ObservabilityConfig = security.ObservabilityConfig()
    protection: security.ProtectionConfig = security.ProtectionConfig()

    deploy: deploy_config.DeployConfig = deploy_config.DeployConfig()

    @model_validator(mode="after")
    def _security_landing(self) -> StackConfig:
        problems = security.stack_problems(self) + deploy_config.stack_problems(self)
        if problems:
            raise field_problems(problems)
        return self

    # --- unity catalog and access ---
    unity_catalog: uc_config.UnityCatalogConfig
    workspace_settings: uc_config.WorkspaceSettingsConfig = uc_config.WorkspaceSettingsConfig()

    @model_validator(mode="after")
    def _unity_catalog(self) -> StackConfig:
        problems = uc_config.stack_problems(self)
        if problems:
            raise field_problems(problems)
        return self

    # --- compute and cost ---
    compute: ComputeConfig
    cost: CostConfig
    # --- serving and monitoring ---
    serving: ServingConfig | None = None
    # Secret (pulumi config set --secret alertWebhookUrl <url>): the Teams/Slack webhook for drift alerts.
    alert_webhook_url: SecretStr | None = None

    @model_validator(mode="after")
    def _serving(self) -> StackConfig:
        problems = serving_stack_problems(self)
        if problems:
            raise field_problems(problems)
        return self

    @model_validator(mode="after")
    def _names(self) -> StackConfig:
        names = self.names
        problems: list[tuple[str, Any, str]] = []
        for kind, key in (("resourceGroup", "resourceGroup"), ("resourceGroup", "managedResourceGroup"),
                          ("workspace", "workspace"), ("virtualNetwork", "virtualNetwork"),
                          ("storageAccount", "storageAccount"), ("keyVault", "keyVault")):
            problem = check_name(kind, names[key])
            if problem:
                problems.append((f"naming.{key}", names[key], problem))
        if names["resourceGroup"] == names["managedResourceGroup"]:
            problems.append(("naming.managedResourceGroup", names["managedResourceGroup"],
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
        if self.serving is not None:
            endpoints = [ep.model_copy(update={
                "model_registered": False,
                "monitor": ep.monitor.model_copy(update={"table_exists": False}) if ep.monitor else None})
                for ep in self.serving.endpoints]
            update["serving"] = self.serving.model_copy(update={"endpoints": endpoints})
        return self.model_copy(update=update)

    @property
    def names(self) -> dict[str, str]:
        return self.naming.resolved(self.environment)

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"

    @property
    def resource_tags(self) -> dict[str, str]:
        return platform_tags(self.environment, self.tags.project, self.tags.owner, self.tags.cost_center,
                             self.tags.extra)
