"""Config of the security landing: lake, key vault, CMK, private link, observability, protection.

Secure values are the defaults; an environment relaxes one only by setting its key in Pulumi.<env>.yaml,
and prod refuses every relaxation (`prod_problems`), saying why.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import StrictModel, field_problems, repeated
from infra.config.types import OptionalUuid

if TYPE_CHECKING:
    from infra.config.model import StackConfig

PublicAccess = Literal["Enabled", "Disabled"]

# Azure blob container names: 3-63, lowercase letters/digits/hyphens, alphanumeric at both ends, no '--'.
_CONTAINER = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")


class LakeConfig(StrictModel):
    """ADLS Gen2 account per environment: Unity Catalog managed storage and MLflow artifacts."""

    containers: list[str]  # catalog storage roots, mlflow-artifacts-<env> (docs/security-landing.md "Lake containers")
    """Blob containers on the lake: catalog storage roots and `mlflow-artifacts-<env>`; catalogs and external locations
    refer to them by name."""
    sku: Literal["Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_GZRS", "Standard_RAGRS",
                 "Standard_RAGZRS"] = "Standard_RAGZRS"
    """Replication of the lake's storage account (locally, zone or geo redundant). Prod needs geo-redundant with read
    access to the paired region: `Standard_RAGZRS`, or `Standard_RAGRS` in a region without zone-redundant storage."""
    # Enabled still means default-deny with no IP rules: only trusted resource instances (the access
    # connector) and private endpoints get in.
    public_network_access: PublicAccess = "Disabled"
    """Whether the lake's public endpoint is on; even `Enabled` is default-deny with no IP rules (only the access
    connector and private endpoints get in). Prod needs `Disabled`."""
    soft_delete_days: int = Field(default=30, ge=1, le=365)  # blob and container soft delete
    """Days deleted blobs and containers are kept and can be restored; prod needs at least 30."""

    @field_validator("containers")
    @classmethod
    def _containers(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("must list at least one container (catalog roots, mlflow-artifacts-<env>)")
        for name in v:
            if not _CONTAINER.match(name):
                raise ValueError(f"container {name!r} is not a valid name; allowed: 3-63 lowercase letters, "
                                 "digits and single hyphens, starting and ending with a letter or digit")
        dupes = repeated(v)
        if dupes:
            raise ValueError(f"lists {', '.join(map(repr, dupes))} more than once; container names must be unique")
        return v


class KeyVaultConfig(StrictModel):
    """Key Vault per environment: RBAC, soft delete (+ purge protection), private endpoint."""

    sku: Literal["standard", "premium"] = "premium"  # premium: HSM-backed keys (RSA-HSM)
    """Key Vault tier; `premium` holds HSM-backed keys (RSA-HSM), which encryption.keyType `RSA-HSM` needs."""
    public_network_access: PublicAccess = "Disabled"
    """Whether the vault's public endpoint is on; prod needs `Disabled` (private endpoint only)."""
    soft_delete_retention_days: int = Field(default=90, ge=7, le=90)  # set at creation only
    """Days a deleted vault and its objects are kept recoverable; set at creation only."""
    # Purge protection keeps a deleted vault's name taken for the whole retention: with a deterministic name a
    # `pulumi destroy` then `up` fails until it expires. Required with CMK (keys guard data) and in prod;
    # a disposable stack without keys turns it off and purges after destroy (docs/security-landing.md
    # "Tearing down dev/test").
    purge_protection: bool = True
    """Keep deleted vaults unpurgeable for the retention; required with CMK and in prod. A disposable stack without
    keys turns it off so its name can be reused after destroy."""
    # The kind of identity that runs `pulumi up` here. With CMK it is granted Key Vault Crypto Officer to create
    # the keys, and Azure refuses a role assignment whose principalType does not match the principal
    # (UnmatchedPrincipalType): the CI runner's service principal or managed identity, or a person ('User').
    deployer_principal_type: Literal["ServicePrincipal", "User"] = "ServicePrincipal"
    """Kind of identity that runs `pulumi up` (granted Key Vault Crypto Officer with CMK); Azure refuses a role
    assignment whose type does not match, so use `User` when a person deploys."""


class EncryptionConfig(StrictModel):
    """Customer-managed keys for the workspace (managed services, managed disks, DBFS root)."""

    customer_managed_keys: bool = True
    """Encrypt the workspace's managed services and managed disks with keys from this stack's Key Vault; prod needs
    it."""
    # DBFS root CMK needs the workspace's storage identity, which exists only after creation:
    # 'prepare' creates it (prepareEncryption) and grants it the key; 'enabled' then switches the key on.
    # A brand-new workspace goes 'prepare' -> 'enabled' in two deployments (docs/security-landing.md
    # "First deployment of a prod workspace with DBFS root CMK").
    dbfs_root: Literal["off", "prepare", "enabled"] = "enabled"
    """DBFS root CMK stage: a new workspace goes `prepare` (creates and grants the storage identity) then `enabled` on
    the next deploy; `off` without CMK."""
    key_type: Literal["RSA-HSM", "RSA"] = "RSA-HSM"
    """Type of the CMK keys; `RSA-HSM` needs keyVault.sku `premium`."""
    key_size: Literal[2048, 3072, 4096] = 2048
    """Size in bits of the CMK keys."""
    rotation_days: int = Field(default=365, ge=30, le=730)  # rotate this long after creation
    """Days after each key version's creation until Key Vault makes the next one (automatic rotation); each version
    expires 90 days after that, so a missed rotation is noticed."""
    # Object id of the AzureDatabricks first-party app (app id 2ff814a6-3304-4ab8-85cb-cd0e6f879c1d) in this
    # tenant: it reads the Key Vault-backed secret scope (Key Vault Secrets User on the vault) and, with CMK,
    # wraps the managed-services key. Tenant-specific; not discoverable offline.
    databricks_service_object_id: OptionalUuid = None
    """Object id of the AzureDatabricks first-party app in your tenant (`az ad sp show --id
    2ff814a6-3304-4ab8-85cb-cd0e6f879c1d --query id -o tsv`); it reads the Key Vault-backed secret scope and wraps the
    managed-services key. Required."""
    infrastructure_encryption: bool = True  # DBFS root double encryption; set at creation only
    """Double encryption of the DBFS root at the infrastructure layer; set at creation only, and prod needs it."""

    @model_validator(mode="after")
    def _needs(self) -> EncryptionConfig:
        problems: list[tuple[str, Any, str]] = []
        # Every stack has a Key Vault-backed secret scope (workspaceSettings.secretScope) on its RBAC vault:
        # Databricks reads it as the AzureDatabricks app, which needs Key Vault Secrets User there.
        if not self.databricks_service_object_id:
            problems.append(("databricksServiceObjectId", None,
                             "is required (the secret scope and customerManagedKeys need it); get it with: "
                             "az ad sp show --id 2ff814a6-3304-4ab8-85cb-cd0e6f879c1d --query id -o tsv"))
        if not self.customer_managed_keys and self.dbfs_root != "off":
            problems.append(("dbfsRoot", self.dbfs_root,
                             "needs customerManagedKeys true; allowed with CMK off: 'off'"))
        if problems:
            raise field_problems(problems)
        return self


class WorkspaceSecurityConfig(StrictModel):
    """Workspace hardening beyond the network shape: front-end access list, storage firewall, compliance."""

    # Public front end only (publicNetworkAccess Enabled): the only source ranges the UI/API accept.
    ip_access_list: list[str] = []
    """The only public source ranges the workspace UI/API accepts; list your organisation's egress ranges. Required with
    a public front end; with a private one a second gate (lists never filter Private Link traffic)."""
    default_storage_firewall: bool = True  # DBFS root reachable only through the access connector
    """Put the DBFS root behind the storage firewall, reachable only through the access connector; prod needs it."""
    enhanced_security_compliance: bool = True  # compliance security profile + monitoring + auto update
    """Turn on the compliance security profile, enhanced security monitoring and automatic cluster update; prod needs
    it."""
    compliance_standards: list[Literal["HIPAA", "PCI_DSS", "CYBER_ESSENTIAL_PLUS", "FEDRAMP_HIGH",
                                       "FEDRAMP_MODERATE", "HITRUST", "IRAP_PROTECTED", "ISMAP", "K_FSI",
                                       "CANADA_PROTECTED_B", "UK_CYBER_ESSENTIALS_PLUS", "NONE"]] = []
    """Compliance standards the compliance security profile applies (e.g. HIPAA, PCI_DSS)."""

    @field_validator("ip_access_list")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        for cidr in v:
            try:
                net = ipaddress.ip_network(cidr, strict=True)
            except ValueError:
                raise ValueError(f"entry {cidr!r} is not a CIDR without host bits (e.g. '203.0.113.0/24')") from None
            if net.prefixlen == 0:
                raise ValueError(f"entry {cidr!r} allows the whole internet; list your egress ranges")
        return v

    @field_validator("ip_access_list")
    @classmethod
    def _ipv4_prefix_only(cls, v: list[str]) -> list[str]:
        for entry in v:
            problem = access_list_entry_problem(entry)
            if problem:
                raise ValueError(f"entry {entry!r} {problem}")
        return v


def access_list_entry_problem(entry: str) -> str | None:
    """Why an IP access list entry is refused, or None. Databricks docs, "Configure IP access lists for
    workspaces": IP access lists support IPv4 addresses only (single addresses and CIDR ranges)."""
    address, _, prefix = entry.partition("/")
    if ":" in address:
        return "is IPv6; Databricks IP access lists take IPv4 addresses and CIDR ranges only"
    if prefix and not prefix.isdigit():
        return "uses a netmask; write a prefix length instead, e.g. '10.0.0.0/24' (CIDR ranges only)"
    return None


class PrivateLinkConfig(StrictModel):
    """Private endpoints and private DNS for the workspace, lake and key vault."""

    # One browser_authentication endpoint per region serves SSO for every private workspace there;
    # exactly one stack per region owns it (checked across stacks).
    browser_authentication: bool = False
    """Create the region's browser_authentication private endpoint, which serves SSO for every private workspace there;
    exactly one stack per region sets it."""
    # False when Azure Policy (DeployIfNotExists) manages the endpoints' DNS zone groups centrally:
    # Pulumi then leaves them alone instead of fighting the policy.
    manage_dns_zone_groups: bool = True
    """Let Pulumi manage the private endpoints' DNS zone groups; set false when Azure Policy (DeployIfNotExists)
    manages them centrally."""


class ObservabilityConfig(StrictModel):
    """Log Analytics per environment, fed by diagnostic settings (all logs)."""

    retention_days: int = Field(default=90, ge=30, le=730)
    """Days Log Analytics keeps the diagnostic logs."""
    daily_quota_gb: float = Field(default=-1, ge=-1)  # -1 = no cap
    """Daily ingestion cap of the Log Analytics workspace in GB; -1 means no cap."""


class ProtectionConfig(StrictModel):
    """Guards against deleting data by mistake. Prod refuses any of them off."""

    protect: bool = True  # pulumi protect on workspace, lake, key vault, Log Analytics
    """Pulumi `protect` on the workspace, lake, key vault and Log Analytics, so a destroy cannot delete them; prod
    needs it."""
    retain_on_delete: bool = True  # removing them from the program leaves them in Azure
    """Removing these resources from the program leaves them in Azure instead of deleting them; prod needs it."""
    resource_group_lock: bool = True  # CanNotDelete lock on the resource group
    """A CanNotDelete lock on the environment's resource group; prod needs it."""


_WHY = {
    "protection.protect": "prod's stateful resources must be protected so a mistaken destroy cannot delete them",
    "protection.retainOnDelete": "prod's data must survive a resource being removed from the program",
    "protection.resourceGroupLock": "prod's resource group needs a CanNotDelete lock",
    "workspace.publicNetworkAccess": "prod's workspace front end must be private (Azure Policy 'Azure "
                                     "Databricks Workspaces should disable public network access')",
    "lake.publicNetworkAccess": "prod's lake must be reachable through private endpoints only (Azure Policy "
                                "'Storage accounts should disable public network access')",
    "keyVault.publicNetworkAccess": "prod's key vault must use its private endpoint only (Azure Policy "
                                    "'Azure Key Vault should disable public network access')",
    "encryption.customerManagedKeys": "prod encrypts managed services, disks and DBFS root with its own keys",
    "workspaceSecurity.enhancedSecurityCompliance": "prod runs with the compliance security profile, enhanced "
                                                    "security monitoring and automatic cluster update",
    "workspaceSecurity.defaultStorageFirewall": "prod's DBFS root must sit behind the storage firewall",
    "encryption.infrastructureEncryption": "prod's DBFS root needs infrastructure (double) encryption",
    "keyVault.purgeProtection": "the vault holds the workspace's keys; a purged key loses its data (Azure "
                                "Policy 'Key vaults should have deletion protection enabled')",
}


def stack_problems(config: StackConfig) -> list[tuple[str, Any, str]]:
    """Rules that span the security sections and the workspace section, for every environment."""
    problems: list[tuple[str, Any, str]] = []
    ws, sec = config.workspace, config.workspace_security
    if ws.public_network_access == "Enabled" and not sec.ip_access_list:
        problems.append(("workspaceSecurity.ipAccessList", [],
                         "must list the allowed source ranges when workspace.publicNetworkAccess is 'Enabled' "
                         "(a public front end without an IP access list is open to the internet)"))
    # With a private front end a list is a second gate should the public one ever be opened: IP access lists
    # apply only to public traffic, never to Private Link (Microsoft Learn, "Manage IP access lists").
    enc = config.encryption
    if enc.customer_managed_keys and config.identity.deployer.object_id is None:
        problems.append(("identity.deployer.objectId", None,
                         "is required with encryption.customerManagedKeys: the deployer's Key Vault grant names it "
                         "(the preview and drift identities are others); az ad sp show --id <applicationId> "
                         "--query id -o tsv"))
    if enc.customer_managed_keys and not config.key_vault.purge_protection:
        problems.append(("keyVault.purgeProtection", False,
                         "is not allowed with encryption.customerManagedKeys true (Azure Databricks CMK needs "
                         "purge protection on the key's vault); allowed: true"))
    names = config.names
    if names.dbfs_storage_account == names.storage_account:
        problems.append(("naming.dbfsStorageAccount", names.dbfs_storage_account,
                         "must differ from the lake's naming.storageAccount (each is its own storage account)"))
    if enc.customer_managed_keys and enc.key_type == "RSA-HSM" and config.key_vault.sku != "premium":
        problems.append(("keyVault.sku", config.key_vault.sku,
                         "cannot hold encryption.keyType 'RSA-HSM' keys; allowed: 'premium' (or keyType 'RSA')"))
    if config.is_prod:
        problems.extend(prod_problems(config))
    return problems


def prod_problems(config: StackConfig) -> list[tuple[str, Any, str]]:
    """Prod accepts no relaxation: each line names the key, its value and why prod needs it."""
    checks: list[tuple[str, Any, bool]] = [
        ("protection.protect", config.protection.protect, config.protection.protect),
        ("protection.retainOnDelete", config.protection.retain_on_delete, config.protection.retain_on_delete),
        ("protection.resourceGroupLock", config.protection.resource_group_lock,
         config.protection.resource_group_lock),
        ("workspace.publicNetworkAccess", config.workspace.public_network_access,
         config.workspace.public_network_access == "Disabled"),
        ("lake.publicNetworkAccess", config.lake.public_network_access,
         config.lake.public_network_access == "Disabled"),
        ("keyVault.publicNetworkAccess", config.key_vault.public_network_access,
         config.key_vault.public_network_access == "Disabled"),
        ("keyVault.purgeProtection", config.key_vault.purge_protection, config.key_vault.purge_protection),
        ("encryption.customerManagedKeys", config.encryption.customer_managed_keys,
         config.encryption.customer_managed_keys),
        ("encryption.infrastructureEncryption", config.encryption.infrastructure_encryption,
         config.encryption.infrastructure_encryption),
        ("workspaceSecurity.enhancedSecurityCompliance", config.workspace_security.enhanced_security_compliance,
         config.workspace_security.enhanced_security_compliance),
        ("workspaceSecurity.defaultStorageFirewall", config.workspace_security.default_storage_firewall,
         config.workspace_security.default_storage_firewall),
    ]
    return [(key, value, f"is not allowed in prod: {_WHY[key]}") for key, value, ok in checks if not ok]


def browser_auth_problems(stack: str, config: StackConfig, other_name: str, other: StackConfig) -> list[str]:
    """CROSS_STACK_CHECKS rule: one browser_authentication endpoint per region, owned by one stack."""
    if (config.private_link.browser_authentication and other.private_link.browser_authentication
            and config.location == other.location):
        return [f"{stack}: privateLink.browserAuthentication: true is also set by stack {other_name} in region "
                f"{config.location!r}; exactly one stack per region owns the browser_authentication endpoint"]
    return []


def _in_group(resource_id: str, group: str) -> bool:
    return f"/resourcegroups/{group.lower()}/" in resource_id.lower()


def hub_link_problems(stack: str, config: StackConfig, other_name: str, other: StackConfig) -> list[str]:
    """CROSS_STACK_CHECKS rule: a stack with deploy.runner.hubVnetId links its own privatelink.azuredatabricks.net
    zone to that hub (hubDnsZone 'link') or uses the hub's existing one, and Azure links a VNet to at most one zone
    of a given name (BadRequest "A virtual network cannot be linked to multiple zones with overlapping
    namespaces"): one stack may link per hub, and none once another uses the hub's own zone."""
    hub, mine, theirs = config.deploy.runner.hub_vnet_id, config.deploy.runner, other.deploy.runner
    if not (hub and theirs.hub_vnet_id and hub.lower() == theirs.hub_vnet_id.lower()):
        return []
    if mine.links_hub_zone and theirs.links_hub_zone:
        return [f"{stack}: deploy.runner.hubVnetId: {hub!r} is also stack {other_name}'s; a VNet links at most one "
                "privatelink.azuredatabricks.net zone, so only one stack may link its workspace zone to a hub"]
    # One stack links its own zone, the other names the hub's: consistent only if that is the linking stack's zone.
    if mine.links_hub_zone and theirs.hub_zone_id and not _in_group(theirs.hub_zone_id, config.names.resource_group):
        return [f"{stack}: deploy.runner.hubDnsZone: 'link' would link a second privatelink.azuredatabricks.net zone "
                f"to hub {hub!r}, which resolves through {theirs.hub_dns_zone!r} (stack {other_name}'s "
                "hubDnsZone); set hubDnsZone to that zone's id"]
    if mine.hub_zone_id and theirs.links_hub_zone and not _in_group(mine.hub_zone_id, other.names.resource_group):
        return [f"{stack}: deploy.runner.hubDnsZone: {mine.hub_dns_zone!r} is not the zone stack {other_name} links "
                f"to the same hub VNet (its hubDnsZone is 'link'); a VNet links at most one "
                "privatelink.azuredatabricks.net zone, so name that stack's zone or let it use the hub's"]
    if theirs.hub_zone_id and mine.hub_zone_id and mine.hub_zone_id.lower() != theirs.hub_zone_id.lower():
        return [f"{stack}: deploy.runner.hubDnsZone: {mine.hub_dns_zone!r} differs from stack {other_name}'s "
                f"{theirs.hub_dns_zone!r} for the same hub VNet; a VNet links at most one "
                "privatelink.azuredatabricks.net zone, so both name the one the hub has"]
    return []
