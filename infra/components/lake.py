"""The environment's lake: ADLS Gen2 for Unity Catalog managed storage and MLflow artifacts."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumiverse_time as time
from pulumi_azure_native import authorization, storage

from infra.components.roles import RBAC_PROPAGATION, grant
from infra.config.security import LakeConfig

# What Unity Catalog needs on the lake through the access connector (storage credential): data access, and
# queue + event subscriptions for file events / file arrival triggers.
CONNECTOR_ROLES = ("Storage Blob Data Contributor", "Storage Queue Data Contributor",
                   "EventGrid EventSubscription Contributor")


@dataclass(frozen=True)
class LakeArgs:
    config: LakeConfig
    name: str
    resource_group_name: pulumi.Input[str]
    location: str
    tags: dict[str, str]
    tenant_id: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    access_connector_id: pulumi.Input[str]
    access_connector_principal_id: pulumi.Input[str]
    protect: bool = False
    retain_on_delete: bool = False


class Lake(pulumi.ComponentResource):
    """mlops:platform:Lake: a locked-down ADLS Gen2 account, its containers, soft delete, and the access
    connector's roles on it. Every secure property is set explicitly (Azure Policy treats unset as missing)."""

    account_name: pulumi.Output[str]
    account_id: pulumi.Output[str]
    containers: dict[str, storage.BlobContainer]
    blob_service_id: pulumi.Output[str]
    connector_role_assignments: list[authorization.RoleAssignment]

    def __init__(self, name: str, args: LakeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:Lake", name, None, opts)
        cfg = args.config
        keep = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.retain_on_delete)
        account = storage.StorageAccount(
            name, account_name=args.name, resource_group_name=args.resource_group_name, location=args.location,
            kind=storage.Kind.STORAGE_V2, sku=storage.SkuArgs(name=cfg.sku),
            access_tier=storage.AccessTier.HOT,
            is_hns_enabled=True,  # ADLS Gen2: Unity Catalog needs a hierarchical namespace
            enable_https_traffic_only=True,
            minimum_tls_version=storage.MinimumTlsVersion.TLS1_2,
            allow_blob_public_access=False,
            allow_shared_key_access=False,  # Entra ID only; the access connector's identity
            default_to_o_auth_authentication=True,
            allow_cross_tenant_replication=False,
            is_local_user_enabled=False,
            is_sftp_enabled=False,
            public_network_access=cfg.public_network_access,
            network_rule_set=storage.NetworkRuleSetArgs(
                default_action=storage.DefaultAction.DENY,
                bypass=storage.Bypass.AZURE_SERVICES,
                ip_rules=[],
                virtual_network_rules=[],
                # The access connector reaches the lake as a trusted resource instance.
                resource_access_rules=[storage.ResourceAccessRuleArgs(
                    resource_id=args.access_connector_id, tenant_id=args.tenant_id)],
            ),
            encryption=storage.EncryptionArgs(
                key_source=storage.KeySource.MICROSOFT_STORAGE,
                require_infrastructure_encryption=True,
                services=storage.EncryptionServicesArgs(
                    blob=storage.EncryptionServiceArgs(enabled=True, key_type=storage.KeyType.ACCOUNT),
                    file=storage.EncryptionServiceArgs(enabled=True, key_type=storage.KeyType.ACCOUNT),
                    queue=storage.EncryptionServiceArgs(enabled=True, key_type=storage.KeyType.ACCOUNT),
                    table=storage.EncryptionServiceArgs(enabled=True, key_type=storage.KeyType.ACCOUNT),
                ),
            ),
            tags=args.tags, opts=keep)

        blob_service = storage.BlobServiceProperties(
            f"{name}-blob-service", account_name=account.name, resource_group_name=args.resource_group_name,
            blob_services_name="default",
            delete_retention_policy=storage.DeleteRetentionPolicyArgs(enabled=True, days=cfg.soft_delete_days),
            container_delete_retention_policy=storage.DeleteRetentionPolicyArgs(
                enabled=True, days=cfg.soft_delete_days),
            opts=pulumi.ResourceOptions(parent=self))

        # Containers hold the data: they share the account's protection.
        self.containers = {
            container: storage.BlobContainer(
                f"{name}-{container}", container_name=container, account_name=account.name,
                resource_group_name=args.resource_group_name, public_access=storage.PublicAccess.NONE,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect,
                                            retain_on_delete=args.retain_on_delete, depends_on=[blob_service]))
            for container in cfg.containers
        }

        self.connector_role_assignments = [
            grant(f"{name}-connector-{role.lower().replace(' ', '-')}", role=role, scope=account.id,
                  principal_id=args.access_connector_principal_id, subscription_id=args.subscription_id,
                  parent=self)
            for role in CONNECTOR_ROLES
        ]
        # Unity Catalog checks the connector's access when it creates the storage credential and the external
        # locations (their skip_validation is off): they wait for the grants to propagate, as a child of this
        # component, which they depend on.
        self.connector_roles_ready = time.Sleep(
            f"{name}-connector-roles-propagation", create_duration=RBAC_PROPAGATION,
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.connector_role_assignments))

        self.resource = account
        self.account_name = account.name
        self.account_id = account.id
        self.blob_service_id = blob_service.id
        self.register_outputs({"accountName": self.account_name, "accountId": self.account_id,
                               "containers": sorted(self.containers)})

    def abfss_url(self, container: str) -> pulumi.Output[str]:
        """abfss://<container>@<account>.dfs.core.windows.net/ for a container of this lake."""
        if container not in self.containers:
            raise KeyError(f"lake has no container {container!r}; configured: {', '.join(sorted(self.containers))}")
        return pulumi.Output.concat("abfss://", container, "@", self.account_name, ".dfs.core.windows.net/")
