"""Every policy rule: compliant baselines pass, and each rule is seen to fire (table-driven, exact messages)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from infra.policy.rules import RULES, RULES_BY_NAME, Finding, ResourceView
from infra.policy.rules import types as T
from infra.policy.rules.base import UNKNOWN
from tests.policy_fixtures import (
    BASELINES,
    CLUSTER,
    DELETE,
    JOB,
    KV_ID,
    LAW_ID,
    POLICY_DEFINITION,
    SA_ID,
    WS_ID,
    compliant_stack,
    mutate,
    urn,
    view,
)
from tests.test_security_posture import exercised_sat_rules


def run(rule: str, res: ResourceView, config: dict[str, Any] | None = None) -> list[str]:
    return [f.message for f in RULES_BY_NAME[rule].run_resource(res, config)]


def run_all(res: ResourceView) -> list[tuple[str, str]]:
    return [(r.name, f.message) for r in RULES for f in r.run_resource(res)]


def test_there_are_at_least_40_rules_with_metadata() -> None:
    assert len(RULES) >= 40
    for rule in RULES:
        assert rule.severity in ("critical", "high", "medium", "low")
        assert rule.description.endswith(".") and len(rule.description) > 30, rule.name
        assert rule.source, rule.name
        assert rule.kind == "stack" or rule.types or rule.applies, rule.name
    assert len({r.name for r in RULES}) == len(RULES)


@pytest.mark.parametrize("typ", sorted(BASELINES))
def test_compliant_baseline_has_no_violations(typ: str) -> None:
    assert run_all(view(typ)) == []


def test_compliant_stack_has_no_violations() -> None:
    views = compliant_stack()
    assert [(r.name, f.message) for r in RULES if r.kind == "stack" for f in r.run_stack(views, None)] == []
    assert [(v.name, m) for v in views for m in run_all(v)] == []


def _cpd(**changes: Any) -> dict[str, Any]:
    """A cluster policy whose definition has `changes` (None removes an element)."""
    definition = {**POLICY_DEFINITION, **changes}
    return {"name": "p", "definition": json.dumps({k: v for k, v in definition.items() if v is not None})}


W, S, KV = T.WORKSPACE, T.STORAGE_ACCOUNT, T.VAULT
# (rule, type, path, value, expected message): the baseline with one property changed.
CASES: list[tuple[str, str, str, Any, str]] = [
    ("databricks-workspace-public-network-disabled", W, "publicNetworkAccess", "Enabled",
     "publicNetworkAccess is 'Enabled'; must be 'Disabled' (reachable only through private endpoints)"),
    ("databricks-workspace-public-network-disabled", W, "publicNetworkAccess", DELETE,
     "publicNetworkAccess is missing; must be 'Disabled' (reachable only through private endpoints)"),
    ("databricks-workspace-no-public-ip", W, "parameters.enableNoPublicIp.value", False,
     "parameters.enableNoPublicIp.value is false; must be true (secure cluster connectivity)"),
    ("databricks-workspace-vnet-injected", W, "parameters.customPrivateSubnetName", DELETE,
     "parameters.customPrivateSubnetName.value is missing; VNet injection needs the VNet id and both subnet names"),
    ("databricks-workspace-premium-sku", W, "sku.name", "standard",
     "sku.name is 'standard'; must be 'premium' (private link, CMK and Unity Catalog need Premium)"),
    ("databricks-workspace-backend-private-link", W, "requiredNsgRules", "AllRules",
     "requiredNsgRules is 'AllRules'; must be 'NoAzureDatabricksRules' (public access is Disabled, so the data "
     "plane reaches the control plane privately)"),
    ("databricks-workspace-cmk-managed-services", W, "encryption", DELETE,
     "encryption.entities.managedServices.keySource is missing; must be 'Microsoft.Keyvault' (customer-managed key)"),
    ("databricks-workspace-cmk-managed-services", W, "encryption.entities.managedServices.keyVaultProperties",
     DELETE, "encryption.entities.managedServices.keyVaultProperties.keyName is missing; name the Key Vault key"),
    ("databricks-workspace-cmk-dbfs-root", W, "parameters.prepareEncryption.value", False,
     "parameters.prepareEncryption.value is false; must be true (DBFS root CMK needs a managed identity)"),
    ("databricks-workspace-storage-firewall", W, "defaultStorageFirewall", "Disabled",
     "defaultStorageFirewall is 'Disabled'; must be 'Enabled' (workspace storage only via trusted access)"),
    ("databricks-workspace-storage-firewall", W, "accessConnector", DELETE,
     "accessConnector.id is missing; the storage firewall needs an access connector identity"),
    ("storage-https-only", S, "enableHttpsTrafficOnly", False,
     "enableHttpsTrafficOnly is false; must not be false (HTTPS only)"),
    ("storage-min-tls-1-2", S, "minimumTlsVersion", "TLS1_0",
     "minimumTlsVersion is 'TLS1_0'; must be 'TLS1_2' (older TLS versions are refused)"),
    ("storage-min-tls-1-2", S, "minimumTlsVersion", DELETE,
     "minimumTlsVersion is missing; must be 'TLS1_2' (older TLS versions are refused)"),
    ("storage-no-public-blob-access", S, "allowBlobPublicAccess", DELETE,
     "allowBlobPublicAccess is missing; must be false (no anonymous reads)"),
    ("storage-no-shared-key-access", S, "allowSharedKeyAccess", True,
     "allowSharedKeyAccess is true; must be false (account keys bypass Entra ID and RBAC)"),
    ("storage-public-network-disabled", S, "publicNetworkAccess", "Enabled",
     "publicNetworkAccess is 'Enabled'; must be 'Disabled' (reachable only through private endpoints)"),
    ("storage-default-deny", S, "networkRuleSet", DELETE,
     "networkRuleSet.defaultAction is missing; must be 'Deny' (deny unless a rule allows)"),
    ("storage-default-deny", S, "networkRuleSet.ipRules", [{"iPAddressOrRange": "1.2.3.4"}],
     "networkRuleSet.ipRules has 1 rule(s); public IP allow-lists are not allowed"),
    ("storage-no-cross-tenant-replication", S, "allowCrossTenantReplication", DELETE,
     "allowCrossTenantReplication is missing; must be false (data must not replicate to other tenants)"),
    ("storage-infrastructure-encryption", S, "encryption.requireInfrastructureEncryption", False,
     "encryption.requireInfrastructureEncryption is false; must be true (double encryption at rest)"),
    ("storage-hns-enabled", S, "isHnsEnabled", DELETE,
     "isHnsEnabled is missing; must be true (abfss:// paths and directory ACLs need ADLS Gen2)"),
    ("lake-geo-redundant-read-access", S, "sku.name", "Standard_ZRS",
     "sku.name is 'Standard_ZRS'; must be one of Standard_RAGZRS, Standard_RAGRS (a regional outage must not lose "
     "the data, and the paired region must be readable)"),
    ("lake-soft-delete-retention", T.BLOB_SERVICE, "deleteRetentionPolicy.days", 29,
     "deleteRetentionPolicy keeps deleted data 29 days; must be enabled with at least 30 days"),
    ("storage-blob-soft-delete", T.BLOB_SERVICE, "containerDeleteRetentionPolicy.enabled", False,
     "containerDeleteRetentionPolicy.enabled is false; must be true (deleted data stays recoverable)"),
    ("key-vault-recoverable", KV, "properties.enablePurgeProtection", DELETE,
     "properties.enablePurgeProtection is missing; must be true (keys cannot be purged before retention)"),
    ("key-vault-recoverable", KV, "properties.enableSoftDelete", False,
     "properties.enableSoftDelete is false; must not be false (deleted keys stay recoverable)"),
    ("key-vault-rbac", KV, "properties.enableRbacAuthorization", DELETE,
     "properties.enableRbacAuthorization is missing; must be true (no vault access policies)"),
    ("key-vault-network", KV, "properties", {
        "publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow"}, "enableSoftDelete": True,
        "enablePurgeProtection": True, "enableRbacAuthorization": True},
     "properties.publicNetworkAccess is 'Enabled' and properties.networkAcls.defaultAction is 'Allow'; "
     "disable public access or default the firewall to 'Deny'"),
    ("key-vault-keys-hardened", T.KEY, "properties", {"kty": "RSA", "keySize": 1024, "attributes": {"expires": 1}},
     "properties.kty is 'RSA' with keySize 1024; must be RSA-HSM, EC-HSM or RSA with keySize >= 2048"),
    ("key-vault-keys-hardened", T.KEY, "properties.kty", "oct",
     "properties.kty is 'oct' with keySize 2048; must be RSA-HSM, EC-HSM or RSA with keySize >= 2048"),
    ("key-vault-keys-hardened", T.KEY, "properties.rotationPolicy", DELETE,
     "properties.attributes.expires and properties.rotationPolicy.lifetimeActions are missing; keys need an "
     "expiry or automatic rotation"),
    ("nsg-no-internet-admin-ports", T.NSG, "securityRules.0", {
        "name": "ssh-rdp", "access": "Allow", "direction": "Inbound", "sourceAddressPrefix": "Internet",
        "destinationPortRanges": ["20-23", "3389"]},
     "security rule ssh-rdp allows inbound port(s) 22, 3389 from the internet"),
    ("nsg-no-internet-admin-ports", T.SECURITY_RULE, "access", "Allow",
     "security rule deny-ssh allows inbound port(s) 22 from the internet"),
    ("subnet-has-nsg", T.SUBNET, "networkSecurityGroup", DELETE, "subnet pe-subnet has no networkSecurityGroup.id"),
    ("subnet-has-nsg", T.VNET, "subnets", [{"name": "inline", "defaultOutboundAccess": False}],
     "subnet inline has no networkSecurityGroup.id"),
    ("subnet-private", T.SUBNET, "defaultOutboundAccess", DELETE,
     "subnet pe-subnet defaultOutboundAccess is missing; must be false"),
    ("vnet-encryption-enabled", T.VNET, "encryption", DELETE,
     "encryption.enabled is missing: traffic between its VMs is not encrypted (network.encryption)"),
    ("vnet-encryption-enabled", T.VNET, "encryption.enabled", False,
     "encryption.enabled is false: traffic between its VMs is not encrypted (network.encryption)"),
    ("vnet-encryption-allows-unencrypted", T.VNET, "encryption.enforcement", "DropUnencrypted",
     "encryption.enforcement is 'DropUnencrypted'; only 'AllowUnencrypted' keeps the traffic of nodes on VM sizes "
     "without encryption support"),
    ("log-analytics-entra-only", T.LOG_ANALYTICS, "features.disableLocalAuth", False,
     "features.disableLocalAuth is false; must be true (ingestion with Entra ID tokens only)"),
    ("uc-no-broad-privileges-to-non-admins", T.GRANTS, "grants.0.privileges", ["ALL_PRIVILEGES"],
     "'mlops-ml-engineers' is granted ALL_PRIVILEGES on catalog.ml_prod_catalog; only admin groups "
     "(mlops-platform-admins) may hold it"),
    ("uc-no-broad-privileges-to-non-admins", T.GRANT, "privileges", ["SELECT", "MANAGE"],
     "'mlops-data-scientists' is granted MANAGE on schema.ml_prod_catalog.models; only admin groups "
     "(mlops-platform-admins) may hold it"),
    ("uc-grantees-are-groups", T.GRANTS, "grants.0.principal", "jane@example.com",
     "principal 'jane@example.com' is a user; grant to an account group or a service principal"),
    ("uc-catalog-isolated", T.CATALOG, "isolationMode", "OPEN",
     "isolationMode is 'OPEN'; must be 'ISOLATED' so only bound workspaces see the catalog"),
    ("uc-owners-are-groups", T.CATALOG, "owner", "jane@example.com",
     "owner 'jane@example.com' is a user; must be a group or a service principal"),
    ("uc-owners-are-groups", T.SCHEMA, "owner", "jane@example.com",
     "owner 'jane@example.com' is a user; must be a group or a service principal"),
    ("serving-inference-tables", T.MODEL_SERVING, "aiGateway.inferenceTableConfig.enabled", False,
     "aiGateway.inferenceTableConfig.enabled is false; must be true (payload logging for monitoring and audit)"),
    ("serving-inference-tables", T.MODEL_SERVING, "aiGateway.inferenceTableConfig.schemaName", DELETE,
     "aiGateway.inferenceTableConfig.schemaName is missing; the inference table lives in a Unity Catalog schema"),
    ("serving-no-legacy-auto-capture", T.MODEL_SERVING, "config.autoCaptureConfig",
     {"catalogName": "c", "schemaName": "s", "enabled": True},
     "config.autoCaptureConfig is set; legacy inference tables are retired, use aiGateway.inferenceTableConfig"),
    ("serving-gateway-controls", T.MODEL_SERVING, "aiGateway.usageTrackingConfig", DELETE,
     "aiGateway.usageTrackingConfig.enabled is missing; must be true"),
    ("serving-gateway-controls", T.MODEL_SERVING, "aiGateway.rateLimits", DELETE,
     "aiGateway.rateLimits is missing; set at least one rate limit"),
    ("serving-gateway-controls", T.MODEL_SERVING, "aiGateway.rateLimits.0.calls", 0,
     "aiGateway.rateLimits[0] has no positive calls or tokens limit"),
    ("serving-uc-models", T.MODEL_SERVING, "config.servedEntities.0.entityName", "churn",
     "config.servedEntities[0].entityName is 'churn'; must be a UC model catalog.schema.model"),
    ("serving-uc-models", T.MODEL_SERVING, "config.servedModels", [{"modelName": "churn", "modelVersion": "1"}],
     "config.servedModels is the legacy workspace model registry; use config.servedEntities with UC models"),
    ("cluster-uc-access-mode", T.CLUSTER, "dataSecurityMode", "NONE",
     "dataSecurityMode is 'NONE'; must be one of SINGLE_USER, USER_ISOLATION, DATA_SECURITY_MODE_DEDICATED, "
     "DATA_SECURITY_MODE_STANDARD, DATA_SECURITY_MODE_AUTO"),
    ("cluster-uc-access-mode", JOB, "jobClusters.0.newCluster.dataSecurityMode", "LEGACY_PASSTHROUGH",
     "jobClusters[0].newCluster.dataSecurityMode is 'LEGACY_PASSTHROUGH'; must be one of SINGLE_USER, "
     "USER_ISOLATION, DATA_SECURITY_MODE_DEDICATED, DATA_SECURITY_MODE_STANDARD, DATA_SECURITY_MODE_AUTO"),
    ("cluster-under-policy", T.CLUSTER, "policyId", DELETE, "policyId is missing; clusters must use a cluster policy"),
    ("cluster-under-policy", JOB, "tasks.0.newCluster", {**CLUSTER, "policyId": None},
     "tasks[0].newCluster.policyId is missing; clusters must use a cluster policy"),
    ("cluster-no-dbfs-init-scripts", T.CLUSTER, "initScripts.0", {"dbfs": {"destination": "dbfs:/init.sh"}},
     "initScripts[0].dbfs is set; DBFS init scripts are deprecated and writable by users"),
    ("required-tags", W, "tags", {"environment": "prod", "project": "mlops-platform"},
     "tags owner, costCenter missing; required: environment, project, owner, costCenter"),
    ("required-tags", T.KEY, "tags.environment", "dev", "tags.environment is 'dev' in stack 'prod'"),
    ("azure-resource-naming", S, "accountName", "MLOps-Prod-Lake",
     "accountName 'MLOps-Prod-Lake' has characters Azure does not allow; allowed: lowercase letters and digits only"),
    ("azure-resource-naming", KV, "vaultName", "mlops-dev-kv",
     "vaultName 'mlops-dev-kv' does not contain the environment 'prod'"),
    ("azure-resource-naming", T.RESOURCE_GROUP, "resourceGroupName", DELETE,
     "resourceGroupName is missing; names are set explicitly from infra/naming.py (autonaming adds random suffixes)"),
]

POLICY_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("cluster-policy-auto-termination", _cpd(autotermination_minutes=None),
     "definition has no autotermination_minutes element; clusters could run forever"),
    ("cluster-policy-auto-termination", _cpd(autotermination_minutes={"type": "fixed", "value": 0}),
     "autotermination_minutes fixed [0]; values must be 1..240 minutes"),
    ("cluster-policy-auto-termination", _cpd(autotermination_minutes={"type": "range", "minValue": 0,
                                                                       "maxValue": 600}),
     "autotermination_minutes range 0..600; must be within 1..240 minutes"),
    ("cluster-policy-auto-termination", _cpd(autotermination_minutes={"type": "unlimited"}),
     "autotermination_minutes is 'unlimited'; must be fixed, allowlist or range within 1..240"),
    ("cluster-policy-auto-termination", {"name": "p", "definition": "{not json"},
     "definition is not valid JSON (Expecting property name enclosed in double quotes)"),
    ("cluster-policy-guardrails", _cpd(data_security_mode={"type": "fixed", "value": "NONE"}),
     "data_security_mode is ['NONE']; must be fixed (or allow-listed) to Unity Catalog modes SINGLE_USER, "
     "USER_ISOLATION, DATA_SECURITY_MODE_DEDICATED, DATA_SECURITY_MODE_STANDARD, DATA_SECURITY_MODE_AUTO"),
    ("cluster-policy-guardrails", _cpd(dbus_per_hour=None),
     "dbus_per_hour has no range maxValue; bound the hourly DBU spend"),
    ("cluster-policy-guardrails", _cpd(spark_version={"type": "unlimited"}),
     "spark_version is not fixed, allow-listed or pattern-restricted"),
    ("cluster-policy-guardrails", _cpd(**{"custom_tags.costCenter": None}),
     "custom_tags.costCenter is not fixed; every cluster must carry the cost tag"),
]


@pytest.mark.parametrize(("rule", "typ", "path", "value", "message"), CASES,
                         ids=[f"{c[0]}:{c[2]}" for c in CASES])
def test_rule_fires_with_message(rule: str, typ: str, path: str, value: Any, message: str) -> None:
    res = view(typ, mutate(BASELINES[typ], path, value))
    assert run(rule, res) == [message]
    # only that rule (or a rule on the same property) objects to a one-property change
    assert {name for name, _ in run_all(res)} <= {rule, *RELATED.get(rule, ())}


RELATED = {  # one change can break two rules on purpose
    "storage-blob-soft-delete": ("lake-soft-delete-retention",),  # disabled is also below the minimum days
    "databricks-workspace-public-network-disabled": ("databricks-workspace-backend-private-link",),
    "databricks-workspace-storage-firewall": (),
    "storage-default-deny": (),
}


@pytest.mark.parametrize(("rule", "props", "message"), POLICY_CASES, ids=[c[2][:40] for c in POLICY_CASES])
def test_cluster_policy_rules_parse_the_definition(rule: str, props: dict[str, Any], message: str) -> None:
    assert run(rule, view(T.CLUSTER_POLICY, props)) == [message]


def test_job_only_cluster_policies_need_no_auto_termination() -> None:
    props = _cpd(cluster_type={"type": "fixed", "value": "job"}, autotermination_minutes=None)
    assert run("cluster-policy-auto-termination", view(T.CLUSTER_POLICY, props)) == []


def test_resource_rules_with_options_fire() -> None:
    assert run("prod-stateful-resources-protected", view(T.STORAGE_ACCOUNT, protect=False)) == [
        "is not protected in stack 'prod'; set protect=True (a destroy or replace would lose data)"]
    dev_lake = view(T.STORAGE_ACCOUNT, mutate(BASELINES[T.STORAGE_ACCOUNT], "accountName", "mlopsdevlakeabc123"),
                    stack="dev", protect=False)
    assert run("prod-stateful-resources-protected", dev_lake) == []
    assert run("prod-stateful-resources-protected", dev_lake, {"protectedStacks": ["dev"]}) != []
    default = "urn:pulumi:prod::mlops-platform::pulumi:providers:databricks::default_1_118_0"
    assert run("databricks-explicit-provider", view(T.CATALOG, provider=default)) == [
        "uses the default provider 'default_1_118_0'; pass an explicit provider"]
    assert run("databricks-explicit-provider", view(T.CATALOG, provider=None)) == [
        "has no provider; pass the account or workspace provider explicitly"]
    preview = view(W, name="ws")
    preview = dataclasses.replace(preview, type="azure-native:databricks/v20250801preview:Workspace")
    assert run("no-preview-api-versions", preview) == [
        "type azure-native:databricks/v20250801preview:Workspace uses a preview API version; use the default "
        "(stable) module"]


def test_admin_groups_come_from_the_policy_config() -> None:
    grants = view(T.GRANTS)
    assert run("uc-no-broad-privileges-to-non-admins", grants) == []
    msgs = run("uc-no-broad-privileges-to-non-admins", grants, {"adminGroups": ["other-admins"]})
    assert msgs == ["'mlops-platform-admins' is granted ALL_PRIVILEGES, MANAGE on catalog.ml_prod_catalog; only "
                    "admin groups (other-admins) may hold it"]


def test_taggability_is_read_from_the_sdk() -> None:
    untagged = {"accountName": "a", "deleteRetentionPolicy": {"enabled": True},
                "containerDeleteRetentionPolicy": {"enabled": True}}
    assert run("required-tags", view(T.BLOB_SERVICE, untagged)) == []  # BlobServiceProperties has no tags
    assert run("required-tags", view(T.PRIVATE_ENDPOINT, {"privateEndpointName": "pe"})) == [
        "tags environment, project, owner, costCenter missing; required: environment, project, owner, costCenter"]


# --- unknown values at preview ---------------------------------------------------------------------

SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@pytest.mark.parametrize("unknown_value", [UNKNOWN, SENTINEL])
def test_unknown_values_give_an_advisory_finding_not_a_crash(unknown_value: Any) -> None:
    res = view(W, mutate(BASELINES[W], "publicNetworkAccess", unknown_value))
    findings = RULES_BY_NAME["databricks-workspace-public-network-disabled"].run_resource(res)
    assert findings == [Finding("publicNetworkAccess is unknown at preview; the rule is checked again when the "
                                "value is known", res.urn, unknown=True)]


def test_every_rule_tolerates_unknown_and_missing_values() -> None:
    """Each property of each baseline replaced by UNKNOWN, None, or a whole unknown object: no rule crashes."""
    for typ, props in BASELINES.items():
        for key in props:
            for value in (UNKNOWN, None, SENTINEL):
                res = view(typ, mutate(props, key, value))
                for rule in RULES:
                    rule.run_resource(res)
        for rule in RULES:
            rule.run_resource(view(typ, {}))
    unknown_views = [dataclasses.replace(v, props={k: UNKNOWN for k in v.props}, id=None) for v in compliant_stack()]
    for rule in RULES:
        rule.run_stack(unknown_views)


# --- stack rules ----------------------------------------------------------------------------------

def without(views: list[ResourceView], *names: str) -> list[ResourceView]:
    return [v for v in views if v.name not in names]


def changed(views: list[ResourceView], name: str, path: str, value: Any) -> list[ResourceView]:
    return [dataclasses.replace(v, props=mutate(dict(v.props), path, value)) if v.name == name else v for v in views]


def stack_messages(rule: str, views: list[ResourceView], config: dict[str, Any] | None = None) -> list[str]:
    return [f.message for f in RULES_BY_NAME[rule].run_stack(views, config)]


def _stack_cases() -> list[tuple[str, list[ResourceView], list[str]]]:
    base = compliant_stack()
    return [
        ("databricks-workspace-private-endpoint", without(base, "ui-pe", "ui-pe-dns"),
         ["Workspace workspace has no private endpoint with groupIds ['databricks_ui_api']"]),
        ("databricks-workspace-private-endpoint", without(base, "auth-pe", "auth-pe-dns"),
         ["Workspace workspace has public access Disabled but region eastus2 has no browser_authentication private "
          "endpoint (SSO callbacks fail)"]),
        ("databricks-workspace-private-endpoint",
         changed(base, "ui-pe", "privateLinkServiceConnections.0.groupIds", ["browser_authentication"]),
         ["Workspace workspace has no private endpoint with groupIds ['databricks_ui_api']",
          "2 browser_authentication private endpoints in region eastus2; one per region serves every workspace "
          "there"]),
        ("databricks-workspace-private-dns", without(base, "ui-pe-dns"),
         ["private endpoint ui-pe (databricks_ui_api) has no DNS zone group in privatelink.azuredatabricks.net"]),
        ("databricks-workspace-private-dns",
         changed(base, "auth-pe-dns", "privateDnsZoneConfigs.0.privateDnsZoneId", "/x/privateDnsZones/wrong.net"),
         ["private endpoint auth-pe (browser_authentication) has no DNS zone group in "
          "privatelink.azuredatabricks.net"]),
        ("storage-private-endpoints", without(base, "dfs-pe", "dfs-pe-dns"),
         ["StorageAccount lake has no private endpoint with groupIds ['dfs']"]),
        ("storage-private-endpoints", without(base, "blob-pe-dns"),
         ["private endpoint blob-pe (blob) has no DNS zone group in privatelink.blob.core.windows.net"]),
        ("key-vault-private-endpoint", changed(base, "kv-pe", "privateLinkServiceConnections.0.privateLinkServiceId",
                                               SA_ID),
         ["Vault vault has no private endpoint with groupIds ['vault']"]),
        ("key-vault-private-endpoint", without(base, "kv-pe-dns"),
         ["private endpoint kv-pe (vault) has no DNS zone group in privatelink.vaultcore.azure.net"]),
        ("databricks-workspace-diagnostic-logs", changed(base, "ws-diag", "logs.0.categoryGroup", "audit"),
         ["Workspace workspace has no diagnostic setting sending resource logs (alllogs) to Log Analytics "
          "(found 1 setting(s))"]),
        ("databricks-workspace-diagnostic-logs", changed(base, "ws-diag", "workspaceId", None),
         ["Workspace workspace has no diagnostic setting sending resource logs (alllogs) to Log Analytics "
          "(found 1 setting(s))"]),
        ("key-vault-diagnostic-logs", changed(base, "kv-diag", "resourceUri", LAW_ID),
         ["Vault vault has no diagnostic setting sending audit logs (audit or alllogs) to Log Analytics "
          "(found 0 setting(s))"]),
        ("storage-diagnostic-logs", changed(base, "blob-diag", "logs.0.enabled", False),
         ["StorageAccount lake has no diagnostic setting sending blob service logs (audit or alllogs) to Log "
          "Analytics (found 1 setting(s))"]),
        ("databricks-subnets-delegated", changed(base, "container", "delegations", []),
         ["subnet private-subnet (customPrivateSubnetName) is not delegated to Microsoft.Databricks/workspaces"]),
        ("prod-resource-group-locked", without(base, "rg-lock"),
         ["resource group 'mlops-prod-rg' has no CanNotDelete lock in stack 'prod'"]),
        ("prod-resource-group-locked", changed(base, "rg-lock", "level", "NotSpecified"),
         ["resource group 'mlops-prod-rg' has no CanNotDelete lock in stack 'prod'"]),
        ("uc-catalog-bound", without(base, "binding"),
         ["catalog 'ml_prod_catalog' has no workspace binding; an ISOLATED catalog without one is unreachable, "
          "and without isolation it is visible everywhere"]),
        ("uc-grants-single-owner", [*base, view(T.GRANT, {"catalog": "ml_prod_catalog", "principal": "g",
                                                          "privileges": ["USE_CATALOG"]}, name="extra")],
         ["catalog ml_prod_catalog is managed by 2 grant resources (catalog-grants, extra); Grants is "
          "authoritative and would revoke the others' privileges"]),
        ("uc-objects-after-metastore-assignment",
         [dataclasses.replace(v, dependencies=()) if v.name == "catalog-grants" else v for v in base],
         ["Grants catalog-grants does not depend on the metastore assignment"]),
        ("serving-endpoints-monitored", without(base, "churn-monitor"),
         ["serving endpoint 'churn-prod' has no quality monitor on its inference table"]),
        ("serving-monitoring-pending", changed(without(base, "churn-monitor"), "churn", "tags",
                                               [{"key": "monitoring", "value": "pending"}]),
         ["serving endpoint 'churn-prod' is unmonitored until its inference table exists (monitoring=pending); "
          "set monitor.tableExists once it does"]),
        # phase 1 of the rollout is not a missing monitor (the reminder above is advisory instead)
        ("serving-endpoints-monitored", changed(without(base, "churn-monitor"), "churn", "tags",
                                                [{"key": "monitoring", "value": "pending"}]), []),
        ("serving-endpoints-monitored", changed(base, "churn-monitor", "notifications", DELETE),
         ["monitor churn-monitor has no notifications.onFailure.emailAddresses"]),
        ("serving-endpoints-monitored", changed(changed(base, "churn-monitor", "inferenceLog", DELETE),
                                                "churn-monitor", "schedule", DELETE),
         ["monitor churn-monitor has no inferenceLog profile",
          "monitor churn-monitor has no schedule.quartzCronExpression"]),
    ]


STACK_CASES = _stack_cases()


@pytest.mark.parametrize(("rule", "views", "messages"), STACK_CASES, ids=[c[0] for c in STACK_CASES])
def test_stack_rule_fires_with_message(rule: str, views: list[ResourceView], messages: list[str]) -> None:
    assert stack_messages(rule, views) == messages


def deploy_readiness_cases() -> set[str]:
    """Deploy-readiness rules are seen to fire on mutated real plans, in their own test files."""
    text = "".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py")
                   if p.name.startswith(("test_first_deploy", "test_deploy_readiness")))
    return {name for name in RULES_BY_NAME if f'"{name}"' in text}


def test_every_rule_has_a_case_that_sees_it_fire() -> None:
    seen = {c[0] for c in CASES} | {c[0] for c in POLICY_CASES} | {c[0] for c in STACK_CASES} | {
        "prod-stateful-resources-protected", "databricks-explicit-provider", "no-preview-api-versions",
    } | deploy_readiness_cases() | exercised_sat_rules()
    assert seen == set(RULES_BY_NAME)


def test_stack_rules_follow_dependencies_when_ids_are_unknown() -> None:
    """CrossGuard previews: ids of new resources are unknown; references resolve through the dependency graph."""
    views = [dataclasses.replace(v, id=None) for v in compliant_stack()]
    views = changed(views, "ui-pe", "privateLinkServiceConnections.0.privateLinkServiceId", UNKNOWN)
    ws = next(v for v in views if v.name == "workspace")
    views = [dataclasses.replace(v, dependencies=(*v.dependencies, ws.urn)) if v.name in ("ui-pe", "auth-pe")
             else v for v in views]
    assert stack_messages("databricks-workspace-private-endpoint", views) == []
    unlinked = [dataclasses.replace(v, dependencies=()) if v.name == "ui-pe" else v for v in views]
    assert stack_messages("databricks-workspace-private-endpoint", unlinked) == [
        "Workspace workspace has no private endpoint with groupIds ['databricks_ui_api']"]


def test_stack_rules_report_the_offending_resource() -> None:
    findings = RULES_BY_NAME["storage-private-endpoints"].run_stack(without(compliant_stack(), "blob-pe-dns"))
    assert [f.urn for f in findings] == [urn(T.PRIVATE_ENDPOINT, "blob-pe")]
    assert WS_ID and KV_ID  # the fixtures' ids are ARM ids, as in plan JSONs


def test_taggable_reads_the_same_answer_as_the_sdk_signature() -> None:
    """`taggable` reads the SDK's source instead of importing it (speed); it must agree with the import."""
    import importlib
    import inspect

    from infra.policy.rules.conventions import taggable
    from tests.support import STACKS, plan_of

    types = {r.type for s in STACKS for r in plan_of(s).resources if r.type.startswith("azure-native:")}
    for typ in sorted(types):
        _, module, cls = typ.split(":")
        sdk = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), cls)
        assert taggable(typ) is ("tags" in inspect.signature(sdk._internal_init).parameters), typ
    assert taggable("azure-native:network:NatGateway") and not taggable("azure-native:network:Subnet")
