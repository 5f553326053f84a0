"""The environment's Key Vault and, with customer-managed keys, the workspace's encryption keys."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, keyvault

from infra.components.roles import grant
from infra.config.security import EncryptionConfig, KeyVaultConfig

# One key per purpose, so each can be rotated or revoked on its own.
KEY_PURPOSES = ("managed-services", "managed-disk", "dbfs-root")


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
    """mlops:platform:KeyVault: RBAC-only vault with soft delete + purge protection and a deny-by-default
    network; reachable through its private endpoint (see PrivateLink)."""

    id: pulumi.Output[str]
    name: pulumi.Output[str]
    uri: pulumi.Output[str]
    keys: dict[str, WorkspaceKey]
    databricks_service_grants: list[authorization.RoleAssignment]

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
                enable_purge_protection=True,  # cannot be turned off again; CMK requires it
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

        self.keys = {}
        self.databricks_service_grants = []
        if enc.customer_managed_keys:
            # Keys go through ARM (management plane): the deployer needs no data-plane access to the vault,
            # so the vault's public network access can stay disabled.
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
                                                retain_on_delete=args.retain_on_delete))
                self.keys[purpose] = WorkspaceKey(key, uri)
            # Managed services CMK: the AzureDatabricks first-party app wraps/unwraps with the key. It exists
            # before the workspace, so it is granted here; the workspace depends on this grant.
            assert enc.databricks_service_object_id  # validated in config
            self.databricks_service_grants.append(grant(
                f"{name}-databricks-service-managed-services", role="Key Vault Crypto Service Encryption User",
                scope=self.keys["managed-services"].id, principal_id=enc.databricks_service_object_id,
                subscription_id=args.subscription_id, parent=self))

        self.resource = vault
        self.id = vault.id
        self.name = vault.name
        self.uri = uri
        self.register_outputs({"id": self.id, "name": self.name, "uri": self.uri,
                               "keys": {p: k.id for p, k in self.keys.items()}})
