"""Compliant baselines per resource type and a compliant stack, as plain dicts (policy tests build on them)."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

from infra.policy.rules import ResourceView
from infra.policy.rules import types as T

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/mlops-prod-rg/providers"
TAGS = {"environment": "prod", "project": "mlops-platform", "owner": "mlops-platform-team", "costCenter": "cc-ml-prod"}
DBX_PROVIDER = "urn:pulumi:prod::mlops-platform::pulumi:providers:databricks::workspace-provider"
JOB = "databricks:index/job:Job"
class _Delete:
    """Marks an input to remove; its repr is stable so parametrized test ids are the same in every process."""

    def __repr__(self) -> str:
        return "<absent>"


DELETE = _Delete()

POLICY_DEFINITION = {
    "cluster_type": {"type": "fixed", "value": "all-purpose"},
    "autotermination_minutes": {"type": "range", "minValue": 10, "maxValue": 60, "defaultValue": 30},
    "data_security_mode": {"type": "fixed", "value": "SINGLE_USER"},
    "dbus_per_hour": {"type": "range", "maxValue": 10},
    "spark_version": {"type": "allowlist", "values": ["17.3.x-cpu-ml-scala2.13"]},
    "custom_tags.costCenter": {"type": "fixed", "value": "cc-ml-prod"},
    "enable_local_disk_encryption": {"type": "fixed", "value": True},
}
CLUSTER = {"clusterName": "ml", "dataSecurityMode": "SINGLE_USER", "policyId": "ABC123",
           "sparkVersion": "17.3.x-cpu-ml-scala2.13",
           "initScripts": [{"workspace": {"destination": "/Shared/init.sh"}}]}

# type -> compliant inputs (a prod resource, protected, explicit Databricks provider)
BASELINES: dict[str, dict[str, Any]] = {
    T.RESOURCE_GROUP: {"resourceGroupName": "mlops-prod-rg", "location": "eastus2", "tags": TAGS},
    T.WORKSPACE: {
        "workspaceName": "mlops-prod-workspace", "location": "eastus2", "sku": {"name": "premium"},
        "publicNetworkAccess": "Disabled", "requiredNsgRules": "NoAzureDatabricksRules",
        "defaultStorageFirewall": "Enabled",
        "managedResourceGroupId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/mlops-prod-mrg",
        "accessConnector": {"id": f"{SUB}/Microsoft.Databricks/accessConnectors/ac", "identityType": "SystemAssigned"},
        "parameters": {"customVirtualNetworkId": {"value": f"{SUB}/Microsoft.Network/virtualNetworks/mlops-prod-vnet"},
                       "customPublicSubnetName": {"value": "public-subnet"},
                       "customPrivateSubnetName": {"value": "private-subnet"},
                       "enableNoPublicIp": {"value": True}, "prepareEncryption": {"value": True},
                       "storageAccountName": {"value": "mlopsproddbfsabc123"}},
        "encryption": {"entities": {"managedServices": {"keySource": "Microsoft.Keyvault", "keyVaultProperties": {
            "keyName": "dbx-managed-services", "keyVaultUri": "https://kv.vault.azure.net/", "keyVersion": "1"}}}},
        "enhancedSecurityCompliance": {"complianceSecurityProfile": {"value": "Enabled"},
                                       "enhancedSecurityMonitoring": {"value": "Enabled"},
                                       "automaticClusterUpdate": {"value": "Enabled"}},
        "tags": TAGS},
    T.ACCESS_CONNECTOR: {"connectorName": "mlops-prod-access-connector", "identity": {"type": "SystemAssigned"},
                         "tags": TAGS},
    T.STORAGE_ACCOUNT: {
        "accountName": "mlopsprodlakeabc123", "kind": "StorageV2", "enableHttpsTrafficOnly": True,
        "minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False, "allowSharedKeyAccess": False,
        "publicNetworkAccess": "Disabled", "networkRuleSet": {"defaultAction": "Deny", "ipRules": []},
        "allowCrossTenantReplication": False, "encryption": {"requireInfrastructureEncryption": True},
        "isHnsEnabled": True, "sku": {"name": "Standard_RAGZRS"}, "tags": TAGS},
    T.BLOB_SERVICE: {"accountName": "mlopsprodlakeabc123", "deleteRetentionPolicy": {"enabled": True, "days": 30},
                     "containerDeleteRetentionPolicy": {"enabled": True, "days": 30}},
    T.BLOB_CONTAINER: {"accountName": "mlopsprodlakeabc123", "containerName": "ml-prod-catalog"},
    T.VAULT: {"vaultName": "mlops-prod-kv-abc123", "tags": TAGS, "properties": {
        "tenantId": "t", "sku": {"name": "premium", "family": "A"}, "enableSoftDelete": True,
        "enablePurgeProtection": True, "enableRbacAuthorization": True, "publicNetworkAccess": "Disabled",
        "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"}}},
    T.KEY: {"keyName": "dbx-managed-services", "vaultName": "mlops-prod-kv-abc123", "tags": TAGS, "properties": {
        "kty": "RSA-HSM", "keySize": 2048, "rotationPolicy": {"lifetimeActions": [
            {"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "P330D"}}]}}},
    T.VNET: {"virtualNetworkName": "mlops-prod-vnet", "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
             "encryption": {"enabled": True, "enforcement": "AllowUnencrypted"}, "tags": TAGS},
    T.SUBNET: {"subnetName": "pe-subnet", "virtualNetworkName": "mlops-prod-vnet", "defaultOutboundAccess": False,
               "networkSecurityGroup": {"id": f"{SUB}/Microsoft.Network/networkSecurityGroups/mlops-prod-pe-nsg"}},
    T.NSG: {"networkSecurityGroupName": "mlops-prod-pe-nsg", "tags": TAGS, "securityRules": [
        {"name": "allow-vnet-https", "access": "Allow", "direction": "Inbound", "protocol": "Tcp",
         "sourceAddressPrefix": "VirtualNetwork", "destinationPortRange": "443", "priority": 100}]},
    T.SECURITY_RULE: {"securityRuleName": "deny-ssh", "networkSecurityGroupName": "mlops-prod-pe-nsg",
                      "access": "Deny", "direction": "Inbound", "sourceAddressPrefix": "*",
                      "destinationPortRange": "22", "protocol": "Tcp", "priority": 200},
    T.LOG_ANALYTICS: {"workspaceName": "mlops-prod-logs", "features": {"disableLocalAuth": True}, "tags": TAGS},
    T.GRANTS: {"catalog": "ml_prod_catalog", "grants": [
        {"principal": "mlops-ml-engineers", "privileges": ["USE_CATALOG", "USE_SCHEMA", "SELECT"]},
        {"principal": "mlops-platform-admins", "privileges": ["ALL_PRIVILEGES", "MANAGE"]},
        {"principal": "7c3e4a5f-6d7b-4c8d-ae9f-1a2b3c4d5e6f", "privileges": ["USE_CATALOG"]}]},
    T.GRANT: {"schema": "ml_prod_catalog.models", "principal": "mlops-data-scientists", "privileges": ["SELECT"]},
    # No owner: the deploying principal keeps ownership (an owner group would take the next creates' rights).
    T.CATALOG: {"name": "ml_prod_catalog", "isolationMode": "ISOLATED"},
    T.SCHEMA: {"catalogName": "ml_prod_catalog", "name": "models"},
    T.MODEL_SERVING: {
        "name": "churn-prod",
        "config": {"servedEntities": [{"entityName": "ml_prod_catalog.models.churn", "entityVersion": "3",
                                       "workloadSize": "Small", "scaleToZeroEnabled": False}]},
        "aiGateway": {"inferenceTableConfig": {"enabled": True, "catalogName": "ml_prod_catalog",
                                               "schemaName": "model_inference_logs", "tableNamePrefix": "churn"},
                      "usageTrackingConfig": {"enabled": True},
                      "rateLimits": [{"calls": 1000, "renewalPeriod": "minute", "key": "endpoint"}]}},
    T.CLUSTER_POLICY: {"name": "interactive", "definition": json.dumps(POLICY_DEFINITION)},
    T.CLUSTER: CLUSTER,
    JOB: {"name": "retrain", "jobClusters": [{"jobClusterKey": "main", "newCluster": CLUSTER}],
          "tasks": [{"taskKey": "train", "jobClusterKey": "main"}],
          "runAs": {"servicePrincipalName": "7c3e4a5f-6d7b-4c8d-ae9f-1a2b3c4d5e6f"}},
}

# Stateful types are protected in the baseline (prod); everything Databricks has an explicit provider.
PROTECTED = {T.RESOURCE_GROUP, T.WORKSPACE, T.STORAGE_ACCOUNT, T.BLOB_CONTAINER, T.VAULT, T.KEY, T.LOG_ANALYTICS,
             T.CATALOG, T.SCHEMA}


def view(typ: str, props: dict[str, Any] | None = None, name: str | None = None, stack: str = "prod",
         protect: bool | None = None, provider: str | None = "", deps: Sequence[str] = (),
         id: str | None = None) -> ResourceView:
    name = name or typ.rsplit(":", 1)[-1].lower()
    if provider == "":
        provider = DBX_PROVIDER.replace(":prod:", f":{stack}:") if typ.startswith("databricks:") else \
            f"urn:pulumi:{stack}::mlops-platform::pulumi:providers:azure-native::default_3_29_0"
    return ResourceView(
        type=typ, name=name, urn=f"urn:pulumi:{stack}::mlops-platform::{typ}::{name}",
        props=copy.deepcopy(BASELINES[typ]) if props is None else props,
        protect=typ in PROTECTED if protect is None else protect, provider=provider,
        dependencies=tuple(deps), id=id)


def mutate(props: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of props with path ('a.b.0.c') set to value (DELETE removes it)."""
    out = copy.deepcopy(props)
    node: Any = out
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    elif value is DELETE:
        node.pop(last, None)
    else:
        node[last] = value
    return out


ZONES = f"{SUB}/Microsoft.Network/privateDnsZones"
WS_ID = f"{SUB}/Microsoft.Databricks/workspaces/mlops-prod-workspace"
SA_ID = f"{SUB}/Microsoft.Storage/storageAccounts/mlopsprodlakeabc123"
KV_ID = f"{SUB}/Microsoft.KeyVault/vaults/mlops-prod-kv-abc123"
LAW_ID = f"{SUB}/Microsoft.OperationalInsights/workspaces/mlops-prod-logs"
# The workspace's DBFS root account, in its managed resource group (behind the workspace storage firewall).
DBFS_ID = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/mlops-prod-mrg/providers/"
           "Microsoft.Storage/storageAccounts/mlopsproddbfsabc123")


def _raw(typ: str, name: str, props: dict[str, Any], id: str | None = None, deps: Sequence[str] = (),
         stack: str = "prod") -> ResourceView:
    return view(typ, props, name=name, stack=stack, id=id or f"{SUB}/x/{name}", deps=deps)


def urn(typ: str, name: str, stack: str = "prod") -> str:
    return f"urn:pulumi:{stack}::mlops-platform::{typ}::{name}"


def _pe(name: str, target: str, group: str, zone: str) -> list[ResourceView]:
    pe = _raw(T.PRIVATE_ENDPOINT, name, {
        "privateEndpointName": name, "location": "eastus2", "tags": TAGS,
        "privateLinkServiceConnections": [{"name": name, "privateLinkServiceId": target, "groupIds": [group]}]})
    zg = _raw(T.DNS_ZONE_GROUP, f"{name}-dns", {
        "privateEndpointName": name, "privateDnsZoneGroupName": "default",
        "privateDnsZoneConfigs": [{"name": zone, "privateDnsZoneId": f"{ZONES}/{zone}"}]}, deps=[pe.urn])
    return [pe, zg]


def sat_settings() -> list[ResourceView]:
    """The SAT settings a prod stack declares (infra/sat.py), compliant, as the real plan has them."""
    from infra.sat import GIT_ALLOWLIST_KEYS, WORKSPACE_CONF_FLAGS, conf_value
    conf = {key: conf_value(wanted) for _, key, wanted in WORKSPACE_CONF_FLAGS}
    conf |= {"maxTokenLifetimeDays": "90", GIT_ALLOWLIST_KEYS[0]: "true", GIT_ALLOWLIST_KEYS[1]: "https://github.com/o/"}
    ip_list = _raw(T.IP_ACCESS_LIST, "ip-list", {"label": "allowed-egress", "listType": "ALLOW", "enabled": True,
                                                 "ipAddresses": ["203.0.113.0/24"]})
    policy = _raw("databricks:index/accountNetworkPolicy:AccountNetworkPolicy", "np", {
        "networkPolicyId": "np", "egress": {"networkAccess": {
            "restrictionMode": "RESTRICTED_ACCESS", "policyEnforcement": {"enforcementMode": "ENFORCED"}}},
        "ingress": {"publicAccess": {"restrictionMode": "RESTRICTED_ACCESS"}}})
    return [
        _raw(T.WORKSPACE_CONF, "hardening", {"customConfig": conf}),
        ip_list,
        _raw(T.WORKSPACE_CONF, "ip-lists", {"customConfig": {"enableIpAccessLists": "true"}}, deps=[ip_list.urn]),
        _raw(T.SECRET_SCOPE, "scope", {"name": "s", "backendType": "AZURE_KEYVAULT"}),
        _raw("databricks:index/disableLegacyDbfsSetting:DisableLegacyDbfsSetting", "dbfs",
             {"disableLegacyDbfs": {"value": True}}),
        _raw("databricks:index/workspaceSettingV2:WorkspaceSettingV2", "sql-download",
             {"name": "sql_results_download", "booleanVal": {"value": False}}),
        _raw("databricks:index/restrictWorkspaceAdminsSetting:RestrictWorkspaceAdminsSetting", "restrict",
             {"restrictWorkspaceAdmins": {"status": "RESTRICT_TOKENS_AND_JOB_RUN_AS"}}),
        _raw("databricks:index/permissions:Permissions", "tokens", {
            "authorization": "tokens",
            "accessControls": [{"groupName": "mlops-platform-admins", "permissionLevel": "CAN_USE"}]}),
        policy,
        _raw("databricks:index/workspaceNetworkOption:WorkspaceNetworkOption", "np-binding",
             {"networkPolicyId": "np", "workspaceId": "123"}, deps=[policy.urn]),
    ]


def compliant_stack() -> list[ResourceView]:
    """A prod stack fragment that satisfies every stack rule (ids known, as in a plan JSON)."""
    assignment = _raw(T.METASTORE_ASSIGNMENT, "assignment", {"workspaceId": 123, "metastoreId": "m"})
    catalog = view(T.CATALOG, name="catalog", id="ml_prod_catalog", deps=[assignment.urn])
    # Serverless compute reaches the lake through an NCC bound to the workspace (dfs + blob rules).
    ncc = _raw(T.NCC, "ncc", {"name": "mlops-prod-ncc", "region": "eastus2"}, id="acct/ncc-1")
    rules = [_raw(T.NCC_RULE, f"ncc-{g}", {"networkConnectivityConfigId": "ncc-1", "resourceId": SA_ID, "groupId": g},
                  id=f"ncc-1/rule-{g}") for g in ("dfs", "blob")]
    binding = _raw(T.NCC_BINDING, "ncc-binding", {"networkConnectivityConfigId": "ncc-1", "workspaceId": "123"},
                   id="123/ncc-1")
    network = [binding.urn, *(r.urn for r in rules)]
    endpoint = view(T.MODEL_SERVING, name="churn", id="churn-prod", deps=network)
    return [
        ncc, *rules, binding, *sat_settings(),
        view(T.RESOURCE_GROUP, name="rg", id=f"{SUB}/rg"),
        _raw(T.RG_LOCK, "rg-lock", {"resourceGroupName": "mlops-prod-rg", "level": "CanNotDelete",
                                    "lockName": "do-not-delete"}),
        view(T.WORKSPACE, name="workspace", id=WS_ID),
        _raw(T.SUBNET, "host", {**BASELINES[T.SUBNET], "subnetName": "public-subnet",
                                "delegations": [{"name": "dbx", "serviceName": "Microsoft.Databricks/workspaces"}]}),
        _raw(T.SUBNET, "container", {**BASELINES[T.SUBNET], "subnetName": "private-subnet", "delegations": [
            {"name": "dbx", "serviceName": "Microsoft.Databricks/workspaces"}]}),
        *_pe("ui-pe", WS_ID, "databricks_ui_api", "privatelink.azuredatabricks.net"),
        *_pe("auth-pe", WS_ID, "browser_authentication", "privatelink.azuredatabricks.net"),
        *_pe("dbfs-dfs-pe", DBFS_ID, "dfs", "privatelink.dfs.core.windows.net"),
        *_pe("dbfs-blob-pe", DBFS_ID, "blob", "privatelink.blob.core.windows.net"),
        view(T.STORAGE_ACCOUNT, name="lake", id=SA_ID),
        *_pe("dfs-pe", SA_ID, "dfs", "privatelink.dfs.core.windows.net"),
        *_pe("blob-pe", SA_ID, "blob", "privatelink.blob.core.windows.net"),
        view(T.VAULT, name="vault", id=KV_ID),
        *_pe("kv-pe", KV_ID, "vault", "privatelink.vaultcore.azure.net"),
        view(T.LOG_ANALYTICS, name="logs", id=LAW_ID),
        _raw(T.DIAGNOSTIC_SETTING, "ws-diag", {"resourceUri": WS_ID, "workspaceId": LAW_ID,
                                               "logs": [{"categoryGroup": "allLogs", "enabled": True}]}),
        _raw(T.DIAGNOSTIC_SETTING, "kv-diag", {"resourceUri": KV_ID, "workspaceId": LAW_ID,
                                               "logs": [{"categoryGroup": "audit", "enabled": True}]}),
        _raw(T.DIAGNOSTIC_SETTING, "blob-diag", {"resourceUri": f"{SA_ID}/blobServices/default", "workspaceId": LAW_ID,
                                                 "logs": [{"categoryGroup": "allLogs", "enabled": True}]}),
        assignment,
        catalog,
        view(T.SCHEMA, name="schema", deps=[catalog.urn]),
        view(T.GRANTS, name="catalog-grants", deps=[assignment.urn, catalog.urn]),
        view(T.GRANT, name="schema-grant", deps=[catalog.urn]),
        _raw(T.WORKSPACE_BINDING, "binding", {"securableName": "ml_prod_catalog", "securableType": "catalog",
                                              "workspaceId": 123, "bindingType": "BINDING_TYPE_READ_WRITE"},
             deps=[assignment.urn, catalog.urn]),
        endpoint,
        _raw(T.QUALITY_MONITOR, "churn-monitor", {
            "tableName": "ml_prod_catalog.model_inference_logs.churn_payload", "outputSchemaName":
            "ml_prod_catalog.monitoring", "inferenceLog": {"granularities": ["1 day"], "modelIdCol": "model_id",
                                                           "predictionCol": "prediction", "problemType":
                                                           "PROBLEM_TYPE_CLASSIFICATION", "timestampCol": "ts"},
            "schedule": {"quartzCronExpression": "0 0 6 * * ?", "timezoneId": "UTC"},
            "notifications": {"onFailure": {"emailAddresses": ["mlops@example.com"]}}}, deps=[endpoint.urn, *network]),
    ]
