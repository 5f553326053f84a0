"""The environment's Key Vault and, with customer-managed keys, the workspace's encryption keys."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumiverse_time as time
from pulumi_azure_native import authorization, keyvault

from infra.components.roles import grant
from infra.config.security import EncryptionConfig, KeyVaultConfig

# One key per purpose, so each can be rotated or revoked on its own.
KEY_PURPOSES = ("managed-services", "managed-disk", "dbfs-root")

# Azure RBAC is eventually consistent: a Key Vault data-plane check right after a new role assignment fails
# with ForbiddenByRbac ("If role assignments ... were changed recently, please observe propagation time").
# The Azure Verified Module for Key Vault waits after its role assignments before any key or secret operation
# (time_sleep wait_for_rbac_before_key_operations, 30s by default; its CMK examples use 60s). Same here.
RBAC_PROPAGATION = "60s"


@dataclass(frozen=True)
class KeyVaultArgs:
    config: KeyVaultConfig
    encryption: EncryptionConfig
    name: str
    resource_group_name: pulumi.Input[str]
    location: str
    tags: dict[str, str]
    tenant_id: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    # The identity that runs `pulumi up` (authorization.get_client_config().object_id); looked up when None.
    deployer_object_id: pulumi.Input[str] | None = None
    protect: bool = False
    retain_on_delete: bool = False


class WorkspaceKey:
    """What the workspace's encryption settings need from one key."""

    def __init__(self, key: keyvault.Key, vault_uri: pulumi.Output[str]) -> None:
        self.resource = key
        self.id = key.id
        self.name = key.name
        self.vault_uri = vault_uri
        # https://<vault>.vault.azure.net/keys/<name>/<version> -> <version>
        self.version = key.key_uri_with_version.apply(lambda uri: uri.rstrip("/").rsplit("/", 1)[-1])


class KeyVault(pulumi.ComponentResource):
    """mlops:platform:KeyVault: RBAC-only vault with soft delete (+ purge protection where configured) and a
    deny-by-default network; reachable through its private endpoint (see PrivateLink).

    Keys are created through ARM, which keeps the vault private network-wise, but ARM writes them through the
    data plane *as the caller*: on an RBAC vault the deploying identity needs a data role (Owner/Contributor
    have no data actions; pulumi-azure-native issue "Creating Key in Vault - ForbiddenByRbac"). So the
    deployer is granted Key Vault Crypto Officer on the vault first, and the keys wait for it (as the Azure
    Verified Module's Databricks `customer-managed-key` example does).
    """

    id: pulumi.Output[str]
    name: pulumi.Output[str]
    uri: pulumi.Output[str]
    keys: dict[str, WorkspaceKey]
    deployer_grants: list[authorization.RoleAssignment]
    databricks_service_grants: list[authorization.RoleAssignment]
    # The workspace waits for these: the managed-services key grant and its propagation wait.
    workspace_prerequisites: list[pulumi.Resource]
    # Key Vault Secrets User for the AzureDatabricks app: the Key Vault-backed secret scope reads through it.
    secret_reader_grants: list[authorization.RoleAssignment]

    def __init__(self, name: str, args: KeyVaultArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:KeyVault", name, None, opts)
        cfg, enc = args.config, args.encryption
        vault = keyvault.Vault(
            name, vault_name=args.name, resource_group_name=args.resource_group_name, location=args.location,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=args.tenant_id,
                sku=keyvault.SkuArgs(family=keyvault.SkuFamily.A, name=keyvault.SkuName(cfg.sku)),
                create_mode=keyvault.CreateMode.DEFAULT,
                enable_rbac_authorization=True,  # no access policies: roles, audited like everything else
                enable_soft_delete=True,
                soft_delete_retention_in_days=cfg.soft_delete_retention_days,
                # Cannot be turned off again, and the API refuses `false`: off means unset. CMK requires it;
                # without it a destroyed vault can be purged at once, so its name is free for the next `up`
                # (azure-native deletes vaults without purging them).
                enable_purge_protection=True if cfg.purge_protection else None,
                enabled_for_deployment=False,
                enabled_for_disk_encryption=False,
                enabled_for_template_deployment=False,
                public_network_access=cfg.public_network_access,
                network_acls=keyvault.NetworkRuleSetArgs(
                    default_action=keyvault.NetworkRuleAction.DENY,
                    bypass=keyvault.NetworkRuleBypassOptions.AZURE_SERVICES,
                    ip_rules=[], virtual_network_rules=[]),
            ),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.retain_on_delete))
        uri = vault.properties.apply(lambda p: p.vault_uri or "")

        assert enc.databricks_service_object_id  # validated in config (required in every stack)
        databricks_app = enc.databricks_service_object_id
        # Databricks reads a Key Vault-backed secret scope as the AzureDatabricks app; on an RBAC vault that
        # app needs Key Vault Secrets User, or every secret read fails (Databricks docs, secret scopes; TF
        # provider docs, databricks_secret_scope). The scope does not read at creation, so no wait here.
        self.secret_reader_grants = [grant(
            f"{name}-databricks-service-secrets-user", role="Key Vault Secrets User", scope=vault.id,
            principal_id=databricks_app, subscription_id=args.subscription_id, parent=self)]

        self.keys = {}
        self.deployer_grants = []
        self.databricks_service_grants = []
        self.workspace_prerequisites = []
        if enc.customer_managed_keys:
            deployer = args.deployer_object_id
            if deployer is None:
                deployer = authorization.get_client_config_output().object_id
            # principalType must match the principal (azure-native would otherwise send its default, 'User').
            officer = grant(
                f"{name}-deployer-crypto-officer", role="Key Vault Crypto Officer", scope=vault.id,
                principal_id=deployer, subscription_id=args.subscription_id, parent=self,
                principal_type=authorization.PrincipalType(cfg.deployer_principal_type))
            self.deployer_grants.append(officer)
            officer_ready = time.Sleep(
                f"{name}-deployer-crypto-officer-propagation", create_duration=RBAC_PROPAGATION,
                triggers={"roleAssignment": officer.id}, opts=pulumi.ResourceOptions(parent=self))
            for purpose in KEY_PURPOSES:
                key = keyvault.Key(
                    f"{name}-{purpose}", key_name=f"{purpose}-cmk", vault_name=vault.name,
                    resource_group_name=args.resource_group_name,
                    properties=keyvault.KeyPropertiesArgs(
                        kty=keyvault.JsonWebKeyType(enc.key_type), key_size=enc.key_size,
                        key_ops=[keyvault.JsonWebKeyOperation.WRAP_KEY, keyvault.JsonWebKeyOperation.UNWRAP_KEY],
                        attributes=keyvault.KeyAttributesArgs(enabled=True, exportable=False),
                        rotation_policy=keyvault.RotationPolicyArgs(
                            # A new version is made rotationDays after each one; every version expires 90
                            # days later, so a missed rotation is noticed, not silently extended.
                            attributes=keyvault.KeyRotationPolicyAttributesArgs(
                                expiry_time=f"P{enc.rotation_days + 90}D"),
                            lifetime_actions=[
                                keyvault.LifetimeActionArgs(
                                    action=keyvault.ActionArgs(type=keyvault.KeyRotationPolicyActionType.ROTATE),
                                    trigger=keyvault.TriggerArgs(time_after_create=f"P{enc.rotation_days}D")),
                                keyvault.LifetimeActionArgs(
                                    action=keyvault.ActionArgs(type=keyvault.KeyRotationPolicyActionType.NOTIFY),
                                    trigger=keyvault.TriggerArgs(time_before_expiry="P30D")),
                            ]),
                    ),
                    tags=args.tags,
                    opts=pulumi.ResourceOptions(parent=self, protect=args.protect,
                                                retain_on_delete=args.retain_on_delete,
                                                depends_on=[officer, officer_ready]))
                self.keys[purpose] = WorkspaceKey(key, uri)
            # Managed services CMK: the AzureDatabricks first-party app wraps/unwraps with the key. It exists
            # before the workspace, so it is granted here; the workspace waits for the grant and for its
            # propagation (Databricks checks the key as that app when the workspace is created).
            service_grant = grant(
                f"{name}-databricks-service-managed-services", role="Key Vault Crypto Service Encryption User",
                scope=self.keys["managed-services"].id, principal_id=databricks_app,
                subscription_id=args.subscription_id, parent=self)
            self.databricks_service_grants.append(service_grant)
            service_ready = time.Sleep(
                f"{name}-databricks-service-managed-services-propagation", create_duration=RBAC_PROPAGATION,
                triggers={"roleAssignment": service_grant.id}, opts=pulumi.ResourceOptions(parent=self))
            self.workspace_prerequisites = [service_grant, service_ready]

        self.resource = vault
        self.id = vault.id
        self.name = vault.name
        self.uri = uri
        self.register_outputs({"id": self.id, "name": self.name, "uri": self.uri,
                               "keys": {p: k.id for p, k in self.keys.items()}})
