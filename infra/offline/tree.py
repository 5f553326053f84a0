"""Readable rendering of a plan: components -> resources with their key settings, and a summary."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from infra.offline.engine import Plan, Resource

# type token -> input paths worth showing in the tree (dotted; [] = first list element).
KEY_SETTINGS: dict[str, list[str]] = {
    "azure-native:resources:ResourceGroup": ["resourceGroupName", "location"],
    "azure-native:authorization:ManagementLockAtResourceGroupLevel": ["level"],
    "azure-native:network:VirtualNetwork": ["virtualNetworkName", "addressSpace.addressPrefixes"],
    "azure-native:network:Subnet": ["subnetName", "addressPrefix", "delegations[].serviceName",
                                    "defaultOutboundAccess", "networkSecurityGroup.id"],
    "azure-native:network:NetworkSecurityGroup": ["networkSecurityGroupName"],
    "azure-native:network:NatGateway": ["natGatewayName", "sku.name"],
    "azure-native:network:PublicIPAddress": ["publicIpAddressName", "sku.name"],
    "azure-native:databricks:Workspace": ["workspaceName", "sku.name", "publicNetworkAccess",
                                          "requiredNsgRules", "parameters.enableNoPublicIp.value"],
    # security landing
    "azure-native:storage:StorageAccount": ["accountName", "sku.name", "publicNetworkAccess", "isHnsEnabled",
                                            "networkRuleSet.defaultAction"],
    "azure-native:storage:BlobContainer": ["containerName", "publicAccess"],
    "azure-native:storage:BlobServiceProperties": ["deleteRetentionPolicy.days", "containerDeleteRetentionPolicy.days"],
    "azure-native:databricks:AccessConnector": ["connectorName", "identity.type"],
    "azure-native:keyvault:Vault": ["vaultName", "properties.sku.name", "properties.publicNetworkAccess",
                                    "properties.enablePurgeProtection"],
    "azure-native:keyvault:Key": ["keyName", "properties.kty", "properties.keySize"],
    "azure-native:authorization:RoleAssignment": ["roleDefinitionId", "scope"],
    "azure-native:network:PrivateEndpoint": ["privateEndpointName",
                                             "privateLinkServiceConnections[].groupIds"],
    "azure-native:network:PrivateDnsZoneGroup": ["privateEndpointName", "privateDnsZoneConfigs[].name"],
    "azure-native:privatedns:PrivateZone": ["privateZoneName"],
    "azure-native:privatedns:VirtualNetworkLink": ["privateZoneName", "virtualNetwork.id"],
    "azure-native:operationalinsights:Workspace": ["workspaceName", "retentionInDays", "features.disableLocalAuth"],
    "azure-native:monitor:DiagnosticSetting": ["resourceUri", "logs[].categoryGroup"],
    "databricks:index/ipAccessList:IpAccessList": ["label", "listType", "ipAddresses"],
    # unity catalog and access
    "databricks:index/metastoreAssignment:MetastoreAssignment": ["metastoreId", "workspaceId"],
    "databricks:index/catalog:Catalog": ["name", "isolationMode", "owner", "storageRoot"],
    "databricks:index/schema:Schema": ["catalogName", "name", "owner"],
    "databricks:index/workspaceBinding:WorkspaceBinding": ["securableName", "workspaceId", "bindingType"],
    "databricks:index/grants:Grants": ["catalog", "schema", "externalLocation", "storageCredential",
                                       "grants[].principal"],
    "databricks:index/externalLocation:ExternalLocation": ["name", "url", "readOnly"],
    "databricks:index/mwsPermissionAssignment:MwsPermissionAssignment": ["workspaceId", "permissions"],
    # compute and cost
    "databricks:index/clusterPolicy:ClusterPolicy": ["name", "maxClustersPerUser"],
    "databricks:index/instancePool:InstancePool": ["instancePoolName", "nodeTypeId",
                                                   "idleInstanceAutoterminationMinutes", "maxCapacity"],
    "databricks:index/sqlEndpoint:SqlEndpoint": ["name", "clusterSize", "autoStopMins", "enableServerlessCompute"],
    "databricks:index/budgetPolicy:BudgetPolicy": ["policyName"],
    "azure-native:consumption:Budget": ["budgetName", "amount", "timeGrain", "timePeriod.startDate"],
    # serving and monitoring
    "databricks:index/modelServing:ModelServing": ["name", "config.servedEntities[].entityName",
                                                   "config.servedEntities[].workloadSize",
                                                   "aiGateway.inferenceTableConfig.schemaName"],
    "databricks:index/qualityMonitor:QualityMonitor": ["tableName", "outputSchemaName",
                                                       "schedule.quartzCronExpression"],
    "databricks:index/alertV2:AlertV2": ["displayName", "schedule.quartzCronSchedule"],
    "databricks:index/notificationDestination:NotificationDestination": ["displayName"],
    "databricks:index/job:Job": ["name", "schedule.quartzCronExpression", "schedule.pauseStatus"],
}

_SKIP = {"tags", "location", "resourceGroupName"}


def _get(value: Any, path: str) -> Any:
    for part in path.split("."):
        if part.endswith("[]"):
            value = value.get(part[:-2]) if isinstance(value, dict) else None
            value = value[0] if isinstance(value, list) and value else None
        else:
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            return None
    return value


def _short(value: Any) -> str:
    text = str(value)
    if text.startswith("/subscriptions/"):
        text = "…/" + "/".join(text.split("/")[-2:])
    return text if len(text) <= 60 else text[:57] + "…"


def key_settings(resource: Resource) -> str:
    return settings_summary(resource.type, resource.inputs)


def settings_summary(typ: str, inputs: dict[str, Any]) -> str:
    """The few inputs that say what a resource of this type is (`label=value` pairs)."""
    paths = KEY_SETTINGS.get(typ)
    if paths is None:  # generic: the first few scalar inputs
        paths = [k for k, v in inputs.items()
                 if k not in _SKIP and isinstance(v, (str, int, float, bool))][:3]
    shown = []
    for path in paths:
        value = _get(inputs, path)
        if value is not None:
            label = path.replace("[]", "").removesuffix(".value").removesuffix(".id")
            shown.append(f"{label}={_short(value)}")
    return "  ".join(shown)


def render_tree(plan: Plan) -> Tree:
    root = Tree(f"[bold]{plan.project}[/] / stack [bold cyan]{plan.stack}[/]")
    nodes: dict[str | None, Tree] = {None: root}
    for res in plan.resources:  # registration order: parents come before their children
        parent = nodes.get(res.parent, root)
        flags = (" [red]protect[/]" if res.protect else "") + (" [yellow]retain[/]" if res.retainOnDelete else "")
        # Names and settings are text, not markup: an alert named '[dev] ml-model' keeps its '[dev]'.
        if res.custom:
            label = f"[green]{res.type}[/] [bold]{escape(res.name)}[/]{flags}  [dim]{escape(key_settings(res))}[/]"
        else:
            label = f"[magenta]{res.type}[/] [bold]{escape(res.name)}[/]"
        nodes[res.urn] = parent.add(label)
    return root


def counts_line(plan: Plan) -> str:
    """'dev: 130 resources (21 components)': resources are what the engine creates (providers and stack
    references included), components only group them; `check` counts the same way."""
    custom = sum(1 for r in plan.resources if r.custom)
    return f"{plan.stack}: {custom} resources ({len(plan.resources) - custom} components)"


def summary_table(plan: Plan) -> Table:
    counts = Counter(r.type for r in plan.resources if r.custom)
    table = Table(title=counts_line(plan))
    table.add_column("type")
    table.add_column("count", justify="right")
    for typ, n in sorted(counts.items()):
        table.add_row(typ, str(n))
    return table


def print_plan(plan: Plan, console: Console) -> None:
    console.print(render_tree(plan))
    console.print(summary_table(plan))
