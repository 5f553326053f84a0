"""Azure resource rules: the built-in Azure Policy definitions (reference/azure-policy/*.json) and the
Checkov / Databricks SRA conditions for the workspace, storage, Key Vault, network and monitoring.

Unset counts as missing (Azure Policy's `notEquals` matches a missing field): set the secure value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from infra.policy.rules import types as T
from infra.policy.rules.base import (
    Finding,
    ResourceView,
    eq,
    get,
    is_unknown,
    items,
    resource_rule,
    shown,
    unknown,
)

Result = Iterator[Finding | str]


def _require(res: ResourceView, path: str, expected: Any, why: str) -> Result:
    """One finding when props[path] is not `expected` (strings case-insensitive); unknown -> advisory."""
    value = res.get(path)
    if is_unknown(value):
        yield unknown(path)
    elif not (eq(value, expected) if isinstance(expected, str) else value is expected):
        yield f"{path} is {shown(value)}; must be {shown(expected)} ({why})"


# --- Databricks workspace -------------------------------------------------------------------------

@resource_rule("databricks-workspace-public-network-disabled", "high",
               "Azure Databricks workspaces should disable public network access (front-end private link).",
               [T.WORKSPACE], source="AzP Databricks_AuditPublicNetworkAccess; CKV_AZURE_158")
def workspace_public_network(res: ResourceView, _: Mapping[str, Any]) -> Result:
    yield from _require(res, "publicNetworkAccess", "Disabled", "reachable only through private endpoints")


@resource_rule("databricks-workspace-no-public-ip", "high",
               "Azure Databricks clusters should disable public IP (secure cluster connectivity).",
               [T.WORKSPACE], source="AzP Databricks_DisablePublicIP_Audit; SAT NS-6")
def workspace_no_public_ip(res: ResourceView, _: Mapping[str, Any]) -> Result:
    yield from _require(res, "parameters.enableNoPublicIp.value", True, "secure cluster connectivity")


@resource_rule("databricks-workspace-vnet-injected", "high",
               "Azure Databricks workspaces should be in a virtual network (VNet injection).",
               [T.WORKSPACE], source="AzP Databricks_VNETEnabled_Audit")
def workspace_vnet(res: ResourceView, _: Mapping[str, Any]) -> Result:
    for key in ("customVirtualNetworkId", "customPublicSubnetName", "customPrivateSubnetName"):
        path = f"parameters.{key}.value"
        value = res.get(path)
        if is_unknown(value):
            continue  # an id of a VNet/subnet created in the same run: set, just not known yet
        if not value:
            yield f"{path} is missing; VNet injection needs the VNet id and both subnet names"


@resource_rule("databricks-workspace-premium-sku", "medium",
               "Azure Databricks workspaces should be Premium SKU (private link, CMK, Unity Catalog).",
               [T.WORKSPACE], source="AzP AllowedDatabricksSkus_Audit")
def workspace_premium(res: ResourceView, _: Mapping[str, Any]) -> Result:
    yield from _require(res, "sku.name", "premium", "private link, CMK and Unity Catalog need Premium")


@resource_rule("databricks-workspace-backend-private-link", "high",
               "A workspace without public access must not need Databricks-managed NSG rules "
               "(requiredNsgRules NoAzureDatabricksRules: back-end private link).",
               [T.WORKSPACE], source="Azure Databricks private link docs")
def workspace_backend_private_link(res: ResourceView, _: Mapping[str, Any]) -> Result:
    access = res.get("publicNetworkAccess")
    if is_unknown(access):
        yield unknown("publicNetworkAccess")
    elif eq(access, "Disabled"):
        yield from _require(res, "requiredNsgRules", "NoAzureDatabricksRules",
                            "public access is Disabled, so the data plane reaches the control plane privately")


@resource_rule("databricks-workspace-cmk-managed-services", "medium",
               "Workspace managed services (notebooks, secrets, queries) are encrypted with a customer-managed key.",
               [T.WORKSPACE], source="SAT DP-3; Azure Verified Module encryption.entities")
def workspace_cmk_managed_services(res: ResourceView, _: Mapping[str, Any]) -> Result:
    path = "encryption.entities.managedServices"
    yield from _require(res, f"{path}.keySource", "Microsoft.Keyvault", "customer-managed key")
    key_name = res.get(f"{path}.keyVaultProperties.keyName")
    if eq(res.get(f"{path}.keySource"), "Microsoft.Keyvault") and not key_name and not is_unknown(key_name):
        yield f"{path}.keyVaultProperties.keyName is missing; name the Key Vault key"


@resource_rule("databricks-workspace-cmk-dbfs-root", "medium",
               "The workspace's DBFS root storage is prepared for customer-managed key encryption.",
               [T.WORKSPACE], source="CKV2_AZURE_48")
def workspace_cmk_dbfs(res: ResourceView, _: Mapping[str, Any]) -> Result:
    yield from _require(res, "parameters.prepareEncryption.value", True, "DBFS root CMK needs a managed identity")


@resource_rule("databricks-workspace-storage-firewall", "high",
               "The workspace's default storage firewall is enabled with an access connector.",
               [T.WORKSPACE], source="ARM schema defaultStorageFirewall; Unity Catalog best practice")
def workspace_storage_firewall(res: ResourceView, _: Mapping[str, Any]) -> Result:
    yield from _require(res, "defaultStorageFirewall", "Enabled", "workspace storage only via trusted access")
    connector = res.get("accessConnector.id")
    if eq(res.get("defaultStorageFirewall"), "Enabled") and not connector and not is_unknown(connector):
        yield "accessConnector.id is missing; the storage firewall needs an access connector identity"


# --- Storage --------------------------------------------------------------------------------------

@resource_rule("storage-https-only", "high", "Secure transfer to storage accounts should be enabled.",
               [T.STORAGE_ACCOUNT], source="AzP Storage_AuditForHTTPSEnabled_Audit; CKV_AZURE_3")
def storage_https(res: ResourceView, _: Mapping[str, Any]) -> Result:
    value = res.get("enableHttpsTrafficOnly")
    if is_unknown(value):
        yield unknown("enableHttpsTrafficOnly")
    elif value is False:
        yield "enableHttpsTrafficOnly is false; must not be false (HTTPS only)"


@resource_rule("storage-min-tls-1-2", "high", "Storage accounts should require TLS 1.2 or newer.",
               [T.STORAGE_ACCOUNT], source="AzP StorageAccountMinimumTLSVersion_Audit; CKV_AZURE_44")
def storage_tls(res: ResourceView, _: Mapping[str, Any]) -> Result:
    yield from _require(res, "minimumTlsVersion", "TLS1_2", "older TLS versions are refused")


@resource_rule("storage-no-public-blob-access", "high", "Storage account public (anonymous) blob access should be "
               "disallowed.", [T.STORAGE_ACCOUNT], source="AzP ASC_Storage_DisallowPublicBlobAccess_Audit; "
               "CKV_AZURE_190")
def storage_public_blob(res: ResourceView, _: Mapping[str, Any]) -> Result:
    yield from _require(res, "allowBlobPublicAccess", False, "no anonymous reads")


@resource_rule("storage-no-shared-key-access", "medium", "Storage accounts should prevent shared key access "
               "(Entra ID only).", [T.STORAGE_ACCOUNT], source="AzP StorageAccountAllowSharedKeyAccess_Audit; "
               "CKV2_AZURE_40")
def storage_shared_key(res: ResourceView, _: Mapping[str, Any]) -> Result:
    yield from _require(res, "allowSharedKeyAccess", False, "account keys bypass Entra ID and RBAC")


@resource_rule("storage-public-network-disabled", "high", "Storage accounts should disable public network access.",
               [T.STORAGE_ACCOUNT], source="AzP StoragePublicNetworkAccess_AuditDeny; CKV_AZURE_59")
def storage_public_network(res: ResourceView, _: Mapping[str, Any]) -> Result:
    yield from _require(res, "publicNetworkAccess", "Disabled", "reachable only through private endpoints")


@resource_rule("storage-default-deny", "high", "Storage accounts should restrict network access "
               "(networkRuleSet.defaultAction Deny, no IP rules).", [T.STORAGE_ACCOUNT],
               source="AzP Storage_NetworkAcls_Audit; CKV_AZURE_35")
def storage_default_deny(res: ResourceView, _: Mapping[str, Any]) -> Result:
    yield from _require(res, "networkRuleSet.defaultAction", "Deny", "deny unless a rule allows")
    ip_rules = res.get("networkRuleSet.ipRules")
    if is_unknown(ip_rules):
        yield unknown("networkRuleSet.ipRules")
    elif ip_rules:
        yield f"networkRuleSet.ipRules has {len(ip_rules)} rule(s); public IP allow-lists are not allowed"


@resource_rule("storage-no-cross-tenant-replication", "medium",
               "Storage accounts should prevent cross tenant object replication.", [T.STORAGE_ACCOUNT],
               source="AzP StorageAccountAllowCrossTenantReplication_Audit")
def storage_cross_tenant(res: ResourceView, _: Mapping[str, Any]) -> Result:
    yield from _require(res, "allowCrossTenantReplication", False, "data must not replicate to other tenants")


@resource_rule("storage-infrastructure-encryption", "medium",
               "Storage accounts should have infrastructure (double) encryption.", [T.STORAGE_ACCOUNT],
               source="AzP StorageAccountInfrastructureEncryptionEnabled_Audit")
def storage_infra_encryption(res: ResourceView, _: Mapping[str, Any]) -> Result:
    yield from _require(res, "encryption.requireInfrastructureEncryption", True, "double encryption at rest")


@resource_rule("storage-hns-enabled", "medium", "Lake storage accounts are ADLS Gen2 (hierarchical namespace), "
               "as Unity Catalog external locations require.", [T.STORAGE_ACCOUNT],
               source="ADLS Gen2 / Unity Catalog requirement")
def storage_hns(res: ResourceView, _: Mapping[str, Any]) -> Result:
    yield from _require(res, "isHnsEnabled", True, "abfss:// paths and directory ACLs need ADLS Gen2")


@resource_rule("storage-blob-soft-delete", "medium", "Blob and container soft delete are enabled.",
               [T.BLOB_SERVICE], source="CKV2_AZURE_38")
def blob_soft_delete(res: ResourceView, _: Mapping[str, Any]) -> Result:
    for path in ("deleteRetentionPolicy.enabled", "containerDeleteRetentionPolicy.enabled"):
        yield from _require(res, path, True, "deleted data stays recoverable")


# --- Key Vault ------------------------------------------------------------------------------------

def _recovering(res: ResourceView) -> bool:
    return eq(res.get("properties.createMode"), "recover")  # the built-ins exempt recover-mode requests


@resource_rule("key-vault-recoverable", "high", "Key vaults should have soft delete and purge protection enabled.",
               [T.VAULT], source="AzP Key-Vault Recoverable_Audit + SoftDeleteMustBeEnabled; CKV_AZURE_42/110")
def vault_recoverable(res: ResourceView, _: Mapping[str, Any]) -> Result:
    if _recovering(res):
        return
    soft = res.get("properties.enableSoftDelete")
    if is_unknown(soft):
        yield unknown("properties.enableSoftDelete")
    elif soft is False:
        yield "properties.enableSoftDelete is false; must not be false (deleted keys stay recoverable)"
    yield from _require(res, "properties.enablePurgeProtection", True, "keys cannot be purged before retention")


@resource_rule("key-vault-rbac", "medium", "Azure Key Vault should use the RBAC permission model.", [T.VAULT],
               source="AzP Key-Vault Should_Use_RBAC")
def vault_rbac(res: ResourceView, _: Mapping[str, Any]) -> Result:
    if not _recovering(res):
        yield from _require(res, "properties.enableRbacAuthorization", True, "no vault access policies")


@resource_rule("key-vault-network", "high", "Azure Key Vault should disable public network access, else have its "
               "firewall default to Deny.", [T.VAULT],
               source="AzP Key-Vault PublicNetworkAccess_Audit + FirewallEnabled_Audit; CKV_AZURE_189/109")
def vault_network(res: ResourceView, _: Mapping[str, Any]) -> Result:
    if _recovering(res):
        return
    access = res.get("properties.publicNetworkAccess")
    if is_unknown(access):
        yield unknown("properties.publicNetworkAccess")
    elif not eq(access, "Disabled"):
        action = res.get("properties.networkAcls.defaultAction")
        if is_unknown(action):
            yield unknown("properties.networkAcls.defaultAction")
        elif not eq(action, "Deny"):
            yield (f"properties.publicNetworkAccess is {shown(access)} and properties.networkAcls.defaultAction is "
                   f"{shown(action)}; disable public access or default the firewall to 'Deny'")


@resource_rule("key-vault-keys-hardened", "medium", "Key Vault keys are HSM-backed or RSA >= 2048 bits and have an "
               "expiry or a rotation policy.", [T.KEY], source="AzP Key Vault keys; CKV_AZURE_112/40")
def key_hardened(res: ResourceView, _: Mapping[str, Any]) -> Result:
    kty, size = res.get("properties.kty"), res.get("properties.keySize")
    if is_unknown(kty) or is_unknown(size):
        yield unknown("properties.kty")
    elif not (eq(kty, "RSA-HSM") or eq(kty, "EC-HSM") or (eq(kty, "RSA") and isinstance(size, int)
                                                            and size >= 2048)):
        yield (f"properties.kty is {shown(kty)} with keySize {shown(size)}; must be RSA-HSM, EC-HSM "
               "or RSA with keySize >= 2048")
    expires = res.get("properties.attributes.expires")
    rotation = res.get("properties.rotationPolicy.lifetimeActions")
    if is_unknown(expires) or is_unknown(rotation):
        yield unknown("properties.rotationPolicy")
    elif not expires and not rotation:
        yield "properties.attributes.expires and properties.rotationPolicy.lifetimeActions are missing; " \
              "keys need an expiry or automatic rotation"


# --- Network --------------------------------------------------------------------------------------

ADMIN_PORTS = (22, 3389)
_ANY_SOURCE = {"*", "internet", "any", "0.0.0.0/0", "0.0.0.0", "::/0"}


def _port_hits(spec: Any) -> list[int]:
    """Admin ports covered by a port spec ('22', '20-25', '*')."""
    if not isinstance(spec, str):
        return []
    if spec.strip() == "*":
        return list(ADMIN_PORTS)
    try:
        lo, _, hi = spec.strip().partition("-")
        lo_i, hi_i = int(lo), int(hi or lo)
    except ValueError:
        return []
    return [p for p in ADMIN_PORTS if lo_i <= p <= hi_i]


def _open_admin_ports(rule: Mapping[str, Any]) -> list[int]:
    if not (eq(rule.get("access"), "Allow") and eq(rule.get("direction"), "Inbound")):
        return []
    sources = [rule.get("sourceAddressPrefix"), *items(rule.get("sourceAddressPrefixes"))]
    if not any(isinstance(s, str) and s.lower() in _ANY_SOURCE for s in sources):
        return []
    ports = [rule.get("destinationPortRange"), *items(rule.get("destinationPortRanges"))]
    return sorted({p for spec in ports for p in _port_hits(spec)})


@resource_rule("nsg-no-internet-admin-ports", "critical", "Network security groups must not allow SSH/RDP "
               "(22, 3389) inbound from the internet.", [T.NSG, T.SECURITY_RULE],
               source="CKV_AZURE_9/10/160")
def nsg_admin_ports(res: ResourceView, _: Mapping[str, Any]) -> Result:
    rules = [res.props] if res.type == T.SECURITY_RULE else [r.get("properties", r) if isinstance(r, Mapping) else r
                                                              for r in items(res.get("securityRules"))]
    for rule in rules:
        if is_unknown(rule) or not isinstance(rule, Mapping):
            continue
        ports = _open_admin_ports(rule)
        if ports:
            label = rule.get("name") or rule.get("securityRuleName") or res.name
            yield f"security rule {label!s} allows inbound port(s) {', '.join(map(str, ports))} from the internet"


_NSG_EXEMPT = {"gatewaysubnet", "azurefirewallsubnet", "azurebastionsubnet", "azurefirewallmanagementsubnet",
               "routeserversubnet"}


def _subnet_name(res: ResourceView, sub: Mapping[str, Any]) -> Any:
    return sub.get("subnetName") or sub.get("name") or res.name


@resource_rule("subnet-has-nsg", "high", "Subnets should be associated with a network security group.",
               [T.SUBNET, T.VNET], source="AzP Subnets should be associated with an NSG; CKV2_AZURE_31")
def subnet_nsg(res: ResourceView, _: Mapping[str, Any]) -> Result:
    subnets = [res.props] if res.type == T.SUBNET else [s for s in items(res.get("subnets")) if isinstance(s, Mapping)]
    for sub in subnets:
        name = _subnet_name(res, sub)
        if isinstance(name, str) and name.lower() in _NSG_EXEMPT:
            continue
        nsg = get(sub, "networkSecurityGroup.id")
        if is_unknown(nsg):
            continue  # the id of an NSG created in the same run: set, not known yet
        if not nsg:
            yield f"subnet {name} has no networkSecurityGroup.id"


@resource_rule("subnet-private", "medium", "Subnets should be private (defaultOutboundAccess false, explicit egress).",
               [T.SUBNET, T.VNET], source="AzP Network PrivateSubnetOnly_Audit")
def subnet_private(res: ResourceView, _: Mapping[str, Any]) -> Result:
    subnets = [res.props] if res.type == T.SUBNET else [s for s in items(res.get("subnets")) if isinstance(s, Mapping)]
    for sub in subnets:
        value = get(sub, "defaultOutboundAccess")
        if is_unknown(value):
            yield unknown("defaultOutboundAccess")
        elif value is not False:
            yield f"subnet {_subnet_name(res, sub)} defaultOutboundAccess is {shown(value)}; must be false"


# --- Monitoring -----------------------------------------------------------------------------------

@resource_rule("log-analytics-entra-only", "medium", "Log Analytics workspaces should block non-Entra ID "
               "(shared key) ingestion.", [T.LOG_ANALYTICS],
               source="AzP Monitoring LogAnalyticsWorkspaces_DisableLocalAuth_Deny")
def log_analytics_local_auth(res: ResourceView, _: Mapping[str, Any]) -> Result:
    yield from _require(res, "features.disableLocalAuth", True, "ingestion with Entra ID tokens only")
