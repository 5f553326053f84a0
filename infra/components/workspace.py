"""The Azure Databricks workspace: premium, VNet-injected, secure cluster connectivity (no public IP),
hardened per environment: storage firewall + access connector, CMK, infrastructure encryption, compliance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import authorization, databricks

from infra.components.key_vault import WorkspaceKey
from infra.components.roles import grant
from infra.config.core import WorkspaceConfig
from infra.config.security import EncryptionConfig, WorkspaceSecurityConfig

KEYVAULT = databricks.EncryptionKeySource.MICROSOFT_KEYVAULT


@dataclass(frozen=True)
class WorkspaceArgs:
    config: WorkspaceConfig
    name: str
    managed_resource_group_id: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    location: str
    vnet_id: pulumi.Input[str]
    host_subnet_name: pulumi.Input[str]
    container_subnet_name: pulumi.Input[str]
    tags: dict[str, str]
    protect: bool = False
    retain_on_delete: bool = False
    # Hardening. Without `security`/`encryption` the workspace keeps Azure's defaults.
    security: WorkspaceSecurityConfig | None = None
    encryption: EncryptionConfig | None = None
    access_connector_id: pulumi.Input[str] | None = None
    keys: dict[str, WorkspaceKey] = field(default_factory=dict)  # purpose -> key (see key_vault.KEY_PURPOSES)
    subscription_id: pulumi.Input[str] | None = None
    # The DBFS root storage account's name (parameters.storageAccountName; set at creation only). Named, so the
    # storage firewall's private endpoints can target it in the same run. None: Databricks picks one.
    dbfs_storage_account_name: str | None = None
    # Created before the workspace resource itself (a component's depends_on does not reach its children).
    depends_on: Sequence[pulumi.Resource] = ()
    # Their own settings (SAT GOV-36, INFO-40), not tied to the compliance profile; None: follow it. The profile
    # needs both on (Microsoft Learn, "Compliance security profile": enabling it enables both).
    automatic_cluster_update: bool | None = None
    enhanced_security_monitoring: bool | None = None


def _flag(value: bool) -> databricks.WorkspaceCustomBooleanParameterArgs:
    return databricks.WorkspaceCustomBooleanParameterArgs(value=value)


def _compliance(sec: WorkspaceSecurityConfig, automatic_cluster_update: bool | None = None,
                enhanced_security_monitoring: bool | None = None
                ) -> databricks.EnhancedSecurityComplianceDefinitionArgs:
    """The compliance security profile, enhanced security monitoring and automatic cluster update: each its own
    value; the profile needs the other two on (config validation refuses relaxing them under it)."""
    on = sec.enhanced_security_compliance
    monitoring = on if enhanced_security_monitoring is None else (enhanced_security_monitoring or on)
    update = on if automatic_cluster_update is None else (automatic_cluster_update or on)
    return databricks.EnhancedSecurityComplianceDefinitionArgs(
        compliance_security_profile=databricks.ComplianceSecurityProfileDefinitionArgs(
            value="Enabled" if on else "Disabled",
            compliance_standards=list(sec.compliance_standards) or None if on else None),
        enhanced_security_monitoring=databricks.EnhancedSecurityMonitoringDefinitionArgs(
            value="Enabled" if monitoring else "Disabled"),
        automatic_cluster_update=databricks.AutomaticClusterUpdateDefinitionArgs(
            value="Enabled" if update else "Disabled"),
    )


class Workspace(pulumi.ComponentResource):
    """mlops:platform:Workspace: one Azure Databricks workspace per environment."""

    id: pulumi.Output[str]
    url: pulumi.Output[str]
    workspace_id: pulumi.Output[str]
    key_grants: list[authorization.RoleAssignment]
    # ARM id of the workspace's DBFS root storage account (in the managed resource group), known once the
    # workspace exists: targets for its private endpoints and for serverless (network connectivity) rules.
    dbfs_storage_account_id: pulumi.Output[str]

    def __init__(self, name: str, args: WorkspaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:Workspace", name, None, opts)
        cfg, sec, enc, keys = args.config, args.security, args.encryption, args.keys
        cmk = bool(enc and enc.customer_managed_keys)
        dbfs_stage = enc.dbfs_root if enc else "off"

        dbfs_encryption = None
        if dbfs_stage == "enabled":
            dbfs_key = keys["dbfs-root"]
            dbfs_encryption = databricks.WorkspaceEncryptionParameterArgs(value=databricks.EncryptionArgs(
                key_source=databricks.KeySource.MICROSOFT_KEYVAULT, key_name=dbfs_key.name,
                key_vault_uri=dbfs_key.vault_uri, key_version=dbfs_key.version))

        entities = None
        if cmk:
            services, disk = keys["managed-services"], keys["managed-disk"]
            entities = databricks.WorkspacePropertiesEncryptionArgs(
                entities=databricks.EncryptionEntitiesDefinitionArgs(
                    managed_services=databricks.EncryptionV2Args(
                        key_source=KEYVAULT,
                        key_vault_properties=databricks.EncryptionV2KeyVaultPropertiesArgs(
                            key_name=services.name, key_vault_uri=services.vault_uri, key_version=services.version)),
                    managed_disk=databricks.ManagedDiskEncryptionArgs(
                        key_source=KEYVAULT,
                        key_vault_properties=databricks.ManagedDiskEncryptionKeyVaultPropertiesArgs(
                            key_name=disk.name, key_vault_uri=disk.vault_uri, key_version=disk.version),
                        rotation_to_latest_key_version_enabled=True)))

        firewall = bool(sec and sec.default_storage_firewall and args.access_connector_id is not None)
        ws = databricks.Workspace(
            name,
            workspace_name=args.name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku=databricks.SkuArgs(name=cfg.sku),
            managed_resource_group_id=args.managed_resource_group_id,
            public_network_access=cfg.public_network_access,
            required_nsg_rules=cfg.required_nsg_rules,
            parameters=databricks.WorkspaceCustomParametersArgs(
                custom_virtual_network_id=databricks.WorkspaceCustomStringParameterArgs(value=args.vnet_id),
                custom_public_subnet_name=databricks.WorkspaceCustomStringParameterArgs(
                    value=args.host_subnet_name),
                custom_private_subnet_name=databricks.WorkspaceCustomStringParameterArgs(
                    value=args.container_subnet_name),
                enable_no_public_ip=databricks.WorkspaceNoPublicIPBooleanParameterArgs(
                    value=cfg.enable_no_public_ip),
                storage_account_name=databricks.WorkspaceCustomStringParameterArgs(
                    value=args.dbfs_storage_account_name) if args.dbfs_storage_account_name else None,
                # Both only take effect at creation: set explicitly so a later change shows up as a replace.
                require_infrastructure_encryption=_flag(enc.infrastructure_encryption) if enc else None,
                prepare_encryption=_flag(dbfs_stage != "off") if enc else None,
                encryption=dbfs_encryption,
            ),
            encryption=entities,
            default_storage_firewall=("Enabled" if firewall else "Disabled") if sec else None,
            access_connector=databricks.WorkspacePropertiesAccessConnectorArgs(
                id=args.access_connector_id, identity_type=databricks.IdentityType.SYSTEM_ASSIGNED,
            ) if firewall and args.access_connector_id is not None else None,
            enhanced_security_compliance=_compliance(sec, args.automatic_cluster_update,
                                                     args.enhanced_security_monitoring) if sec else None,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.retain_on_delete,
                                        depends_on=list(args.depends_on)))

        # The chicken-and-egg of disk and DBFS CMK (as the Azure Verified Module and the SRA model it): the
        # disk encryption set's identity and the DBFS storage identity exist only once the workspace does, so
        # they are granted the key afterwards. Disks: Azure waits for the grant before encrypting new disks.
        # DBFS root: stage 'prepare' creates the identity (prepareEncryption) and this grant; stage 'enabled'
        # then sets the key, which Azure validates against the grant.
        self.key_grants = []
        if cmk and args.subscription_id is not None:
            self.key_grants.append(grant(
                f"{name}-disk-identity-key", role="Key Vault Crypto Service Encryption User",
                scope=keys["managed-disk"].id, subscription_id=args.subscription_id, parent=self,
                principal_id=ws.managed_disk_identity.apply(lambda i: i.principal_id if i else "")))
            if dbfs_stage != "off":
                self.key_grants.append(grant(
                    f"{name}-storage-identity-key", role="Key Vault Crypto Service Encryption User",
                    scope=keys["dbfs-root"].id, subscription_id=args.subscription_id, parent=self,
                    principal_id=ws.storage_account_identity.apply(lambda i: i.principal_id if i else "")))

        self.resource = ws
        # Derived from the workspace's own output, so whatever uses it waits for the workspace (which creates
        # the account). Without a configured name the account is Databricks' and unknown here.
        dbfs_name = args.dbfs_storage_account_name or ""
        self.dbfs_storage_account_id = ws.managed_resource_group_id.apply(
            lambda rg: f"{rg}/providers/Microsoft.Storage/storageAccounts/{dbfs_name}" if dbfs_name else "")
        self.id = ws.id
        self.url = ws.workspace_url
        self.workspace_id = ws.workspace_id
        self.register_outputs({"id": ws.id, "url": ws.workspace_url, "workspaceId": ws.workspace_id})
