"""Realistic mocked ids and outputs, so references resolve to the referenced resource's id.

Everything is derived from the resource's URN and inputs, so the same program gives the same plan
(stable diffs between a base and a head plan).
"""

from __future__ import annotations

import re
from typing import Any

import pulumi

from mlopsctl.plan.ids import stable_digits, stable_hex, stable_uuid
from mlopsctl.plan.stack_refs import stack_reference_state
from mlopsctl.plan.types import ARM_PATHS

SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
TENANT_ID = "11111111-1111-1111-1111-111111111111"
CLIENT_OBJECT_ID = "22222222-2222-2222-2222-222222222222"
ACCOUNT_ID = "33333333-3333-3333-3333-333333333333"



def _autoname(logical: str, seed: str) -> str:
    return f"{logical}{stable_hex(seed, 7)}"


def arm_id(typ: str, name: str, inputs: dict[str, Any], seed: str) -> str:
    """The ARM id Azure would give this resource (azure-native autonaming when no name input)."""
    template = ARM_PATHS.get(typ)
    rg = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{inputs.get('resourceGroupName', 'unknown-rg')}"
    if template is None:
        # Generic fallback: Microsoft.<Module>/<type>s/<name input or autoname>.
        module, _, kind = typ.split(":")[1:] if typ.count(":") == 2 else ("resources", "", typ)
        own = next((v for k, v in inputs.items() if k.endswith("Name") and k != "resourceGroupName"
                    and isinstance(v, str)), None)
        kind_path = kind[:1].lower() + kind[1:] + "s"
        return f"{rg}/providers/Microsoft.{module.capitalize()}/{kind_path}/{own or _autoname(name, seed)}"

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "sub":
            return SUBSCRIPTION_ID
        if key == "rg":
            return rg
        value = inputs.get(key)
        if key == "roleAssignmentName" and not value:
            return stable_uuid(seed)
        return str(value) if value else _autoname(name, seed)

    return re.sub(r"\{(\w+)\}", fill, template)


def azure_outputs(typ: str, name: str, inputs: dict[str, Any], id_: str, seed: str) -> dict[str, Any]:
    """Outputs Azure computes that the program or the checks read (URLs, identities, ...)."""
    leaf = id_.rsplit("/", 1)[-1]
    out: dict[str, Any] = {"id": id_, "name": leaf, "azureApiVersion": "2024-05-01"}
    if typ == "azure-native:databricks:Workspace":
        numeric = stable_digits(seed, 16)
        out.update({
            "workspaceId": numeric,
            "workspaceUrl": f"adb-{numeric}.{int(stable_digits(seed + 'r', 2)) % 20}.azuredatabricks.net",
            "provisioningState": "Succeeded",
            "storageAccountIdentity": {"principalId": stable_uuid(seed + "sa"), "tenantId": TENANT_ID,
                                       "type": "SystemAssigned"},
            "managedDiskIdentity": {"principalId": stable_uuid(seed + "disk"), "tenantId": TENANT_ID,
                                    "type": "SystemAssigned"},
        })
    elif typ == "azure-native:databricks:AccessConnector":
        out["identity"] = {**(inputs.get("identity") or {}), "principalId": stable_uuid(seed + "mi"),
                           "tenantId": TENANT_ID}
    elif typ == "azure-native:storage:StorageAccount":
        out["primaryEndpoints"] = {k: f"https://{leaf}.{k}.core.windows.net/" for k in ("blob", "dfs", "queue")}
    elif typ == "azure-native:keyvault:Vault":
        props = dict(inputs.get("properties") or {})
        props["vaultUri"] = f"https://{leaf}.vault.azure.net/"
        out["properties"] = props
    elif typ == "azure-native:keyvault:Key":
        vault = id_.split("/vaults/")[1].split("/")[0]
        version = stable_hex(seed, 32)
        out.update({"keyUri": f"https://{vault}.vault.azure.net/keys/{leaf}",
                    "keyUriWithVersion": f"https://{vault}.vault.azure.net/keys/{leaf}/{version}"})
    elif typ == "azure-native:operationalinsights:Workspace":
        out["customerId"] = stable_uuid(seed + "law")
    elif typ == "azure-native:network:PrivateEndpoint":
        out["customDnsConfigs"] = [{"fqdn": f"{leaf}.privatelink", "ipAddresses": ["10.255.0.4"]}]
    elif typ == "azure-native:network:PublicIPAddress":
        out["ipAddress"] = "20.0.0." + str(int(stable_digits(seed, 3)) % 250 + 1)
    return out


def databricks_outputs(typ: str, name: str, inputs: dict[str, Any], seed: str) -> tuple[str, dict[str, Any]]:
    """Ids and computed outputs of pulumi-databricks resources, shaped like the Databricks API's."""
    kind = typ.split(":")[-1]
    out: dict[str, Any] = {}
    if kind in ("Catalog", "Metastore", "ExternalLocation", "StorageCredential", "SecretScope",
                "ModelServing", "Schema", "Directory", "Grants"):
        ident = inputs.get("name") or inputs.get("path") or name
        if kind == "Schema":
            ident = f"{inputs.get('catalogName')}.{inputs.get('name')}"
        if kind == "Metastore":
            ident = stable_uuid(seed)
            out["metastoreId"] = ident
        if kind == "ModelServing":
            out["servingEndpointId"] = stable_hex(seed, 32)
        if kind == "StorageCredential":
            out["storageCredentialId"] = stable_uuid(seed)
        if kind == "Directory":
            out["objectId"] = int(stable_digits(seed, 15))
        return str(ident), out
    if kind in ("Group", "ServicePrincipal", "User", "Job", "MwsPermissionAssignment"):
        ident = stable_digits(seed, 16)
        if kind == "ServicePrincipal":
            out["applicationId"] = inputs.get("applicationId") or stable_uuid(seed)
        return ident, out
    if kind == "RegisteredModel":  # its id is its full name (catalog/resource_registered_model.go)
        full = f"{inputs.get('catalogName')}.{inputs.get('schemaName')}.{inputs.get('name')}"
        return full, {"fullName": full}
    if kind == "MetastoreAssignment":
        return f"{inputs.get('workspaceId')}|{inputs.get('metastoreId')}", out
    if kind == "QualityMonitor":
        table = inputs.get("tableName", name)
        out.update({"monitorVersion": 1, "status": "MONITOR_STATUS_ACTIVE",
                    "driftMetricsTableName": f"{inputs.get('outputSchemaName')}."
                                             f"{str(table).rsplit('.', 1)[-1]}_drift_metrics",
                    "profileMetricsTableName": f"{inputs.get('outputSchemaName')}."
                                               f"{str(table).rsplit('.', 1)[-1]}_profile_metrics",
                    "dashboardId": stable_hex(seed, 32)})
        return str(table), out
    if kind == "BudgetPolicy":  # the id is the account-wide policy id (a UUID)
        ident = stable_uuid(seed)
        out["policyId"] = ident
        return ident, out
    if kind == "AccessControlRuleSet":  # its id is its name (accounts/<id>/.../ruleSets/default)
        return str(inputs.get("name") or name), {"etag": stable_hex(seed, 12)}
    if kind == "SqlEndpoint":
        ident = stable_hex(seed, 16)
        out.update({"dataSourceId": stable_uuid(seed), "jdbcUrl": f"jdbc:databricks://warehouse/{ident}"})
        return ident, out
    if kind == "MwsNetworkConnectivityConfig":  # the API's id is <account id>/<ncc id>
        ncc = stable_uuid(seed)
        out.update({"networkConnectivityConfigId": ncc, "accountId": ACCOUNT_ID,
                    "egressConfig": {"defaultRules": {"azureServiceEndpointRule": {
                        "targetRegion": inputs.get("region"), "targetServices": ["AZURE_BLOB_STORAGE"]}}}})
        return f"{ACCOUNT_ID}/{ncc}", out
    if kind == "MwsNccPrivateEndpointRule":  # created PENDING; the storage account's owner approves it
        rule = stable_uuid(seed)
        out.update({"ruleId": rule, "accountId": ACCOUNT_ID, "connectionState": "PENDING", "deactivated": False,
                    "endpointName": f"databricks-{stable_uuid(seed + 'pe')}-pe-{stable_hex(seed, 8)}"})
        return f"{inputs.get('networkConnectivityConfigId')}/{rule}", out
    if kind == "MwsNccBinding":
        return f"{inputs.get('workspaceId')}/{inputs.get('networkConnectivityConfigId')}", out
    if kind in ("NotificationDestination", "AlertV2"):  # both are identified by UUIDs
        if kind == "NotificationDestination":
            kinds = {"email": "EMAIL", "microsoftTeams": "MICROSOFT_TEAMS", "slack": "SLACK",
                     "genericWebhook": "WEBHOOK", "pagerduty": "PAGERDUTY"}
            out["destinationType"] = next((v for k, v in kinds.items() if k in (inputs.get("config") or {})), None)
        return stable_uuid(seed), out
    return stable_hex(seed, 16), out


# The Databricks-managed subscription where NCC private endpoints live (their ids end with the rule's endpoint name).
DATABRICKS_NCC_SUBSCRIPTION = "55555555-5555-5555-5555-555555555555"


def account_group_id(display_name: str) -> str:
    """An account group's SCIM id: one group account-wide, so the same id in every stack."""
    return stable_digits(f"account-group::{display_name}", 16)


def alias_versions(full_name: str) -> dict[str, int]:
    """What the registry answers offline: Champion on a version from 2 to 9 (stable per model), Challenger on
    the next one (the retrain job's aliases; docs/model-lifecycle.md)."""
    champion = 2 + int(stable_digits(f"model::{full_name}", 2)) % 8
    return {"Champion": champion, "Challenger": champion + 1}


def registered_model(full_name: str) -> dict[str, Any]:
    """A read of a Unity Catalog registered model with its aliases (getRegisteredModel, include_aliases)."""
    catalog, schema, name = [*full_name.split("."), "", "", ""][:3]
    aliases = [{"aliasName": alias, "versionNum": version, "catalogName": catalog, "schemaName": schema,
                "modelName": name} for alias, version in alias_versions(full_name).items()]
    return {"id": full_name, "fullName": full_name, "includeAliases": True,
            "modelInfos": [{"aliases": aliases, "browseOnly": False, "catalogName": catalog, "schemaName": schema,
                            "name": name, "fullName": full_name}]}


class PlatformMocks(pulumi.runtime.Mocks):
    """Mock engine: realistic ids/outputs for new resources; invokes limited to safe, known ones."""

    def __init__(self) -> None:
        super().__init__()
        # NCC private endpoint rules created so far: storage account id (lower) -> [(group id, endpoint name)].
        # Reads of the storage account answer with their connections, approved (the documented approval
        # step between a first deploy and the steady state has run).
        self.ncc_rules: dict[str, list[tuple[str, str]]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        seed = f"{pulumi.get_stack()}::{args.typ}::{args.name}"  # distinct per stack, stable per run
        inputs = dict(args.inputs)
        if args.typ == "pulumi:pulumi:StackReference":  # the other stack's outputs, planned offline
            return stack_reference_state(str(inputs.get("name") or args.resource_id))
        if not args.custom:
            return "", {}
        if args.typ.startswith("pulumi:providers:"):
            return stable_uuid(seed), inputs
        if args.typ.startswith("azure-native:"):
            id_ = arm_id(args.typ, args.name, inputs, seed)
            return id_, {**inputs, **azure_outputs(args.typ, args.name, inputs, id_, seed)}
        if args.typ.startswith("databricks:"):
            id_, extra = databricks_outputs(args.typ, args.name, inputs, seed)
            if args.typ.endswith(":MwsNccPrivateEndpointRule"):
                self.ncc_rules.setdefault(str(inputs.get("resourceId", "")).lower(), []).append(
                    (str(inputs.get("groupId")), extra["endpointName"]))
            return id_, {**inputs, **extra, "id": id_}
        return stable_hex(seed), inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token in ("azure-native:authorization:getClientConfig",):
            return {"subscriptionId": SUBSCRIPTION_ID, "tenantId": TENANT_ID,
                    "clientId": "44444444-4444-4444-4444-444444444444", "objectId": CLIENT_OBJECT_ID}, []
        if args.token == "databricks:index/getGroup:getGroup":
            # Account-level read by display name (scim/data_group.go): the group synced from Entra ID.
            name = str(args.args.get("displayName"))
            ident = account_group_id(name)
            return {"id": ident, "displayName": name, "aclPrincipalId": f"groups/{name}",
                    "externalId": stable_uuid(f"entra-group::{name}"), "recursive": True, "members": [],
                    "users": [], "servicePrincipals": [], "childGroups": [], "groups": [], "roles": [],
                    "instanceProfiles": []}, []
        if args.token == "databricks:index/getRegisteredModel:getRegisteredModel":
            return registered_model(str(args.args.get("fullName"))), []
        if args.token == "azure-native:storage:getStorageAccount":
            return self._storage_account(dict(args.args)), []
        # Anything else would need a live cloud (and an invoke against a workspace this run creates
        # has no provider at preview). Fail loudly instead of inventing an answer.
        raise NotImplementedError(f"invoke {args.token} is not available offline; pass the value in config")

    def _storage_account(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """GET of a storage account: what a read after the NCC rules sees (their connections, approved)."""
        name, rg = str(inputs.get("accountName")), str(inputs.get("resourceGroupName"))
        id_ = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}"
        connections = []
        for group, endpoint in self.ncc_rules.get(id_.lower(), []):
            conn = f"{name}.{stable_uuid(endpoint)}"
            connections.append({
                "id": f"{id_}/privateEndpointConnections/{conn}", "name": conn,
                "type": "Microsoft.Storage/storageAccounts/privateEndpointConnections",
                "privateEndpoint": {"id": f"/subscriptions/{DATABRICKS_NCC_SUBSCRIPTION}/resourceGroups/"
                                          f"databricks-ncc-{group}/providers/Microsoft.Network/privateEndpoints/"
                                          f"{endpoint}"},
                "privateLinkServiceConnectionState": {"status": "Approved", "description": "Databricks serverless",
                                                      "actionRequired": "None"},
                "provisioningState": "Succeeded"})
        return {"id": id_, "name": name, "type": "Microsoft.Storage/storageAccounts",
                "privateEndpointConnections": connections}
