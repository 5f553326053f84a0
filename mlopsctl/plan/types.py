"""What the tools know about each resource type, in one table keyed by Pulumi type token.

- `arm_path`: azure-native only, the ARM id under its scope ({x} = input x). The mock engine builds ids from it;
  the diff treats its parameters (the resource's names) as immutable.
- `settings`: the inputs worth showing for a resource (plan tree, created/deleted rows of the diff);
  dotted paths, `[]` = every list element.
- `label`: the kind drawn in diagrams; a type without one is left out of the picture.
- `replaces`: inputs whose change replaces the resource, each with its source (the provider's schema).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TypeFacts:
    arm_path: str | None = None
    settings: tuple[str, ...] = ()
    label: str | None = None
    replaces: tuple[tuple[str, str], ...] = ()


TYPES: dict[str, TypeFacts] = {
    "azure-native:authorization:ManagementLockAtResourceGroupLevel": TypeFacts(
        arm_path="{rg}/providers/Microsoft.Authorization/locks/{lockName}",
        settings=("level",),
    ),
    "azure-native:authorization:RoleAssignment": TypeFacts(
        arm_path="{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}",
        settings=("roleDefinitionId", "scope"),
    ),
    "azure-native:consumption:Budget": TypeFacts(
        arm_path="{scope}/providers/Microsoft.Consumption/budgets/{budgetName}",
        settings=("budgetName", "amount", "timeGrain", "timePeriod.startDate"),
        label="Budget",
    ),
    "azure-native:databricks:AccessConnector": TypeFacts(
        arm_path="{rg}/providers/Microsoft.Databricks/accessConnectors/{connectorName}",
        settings=("connectorName", "identity.type"),
        label="Access connector",
    ),
    "azure-native:databricks:Workspace": TypeFacts(
        arm_path="{rg}/providers/Microsoft.Databricks/workspaces/{workspaceName}",
        settings=(
            "workspaceName", "sku.name", "publicNetworkAccess", "requiredNsgRules",
            "parameters.enableNoPublicIp.value",
        ),
        label="Databricks workspace",
        replaces=(
            ("managedResourceGroupId", "Azure Databricks: the managed resource group is fixed at creation"),
            ("parameters.customVirtualNetworkId", "Azure Databricks VNet injection: the VNet is fixed at creation"),
            ("parameters.customPublicSubnetName", "Azure Databricks VNet injection: host subnet fixed at creation"),
            ("parameters.customPrivateSubnetName",
             "Azure Databricks VNet injection: container subnet fixed at creation"),
            ("parameters.requireInfrastructureEncryption",
             "Azure Databricks: infrastructure (double) encryption can only be chosen at creation"),
        ),
    ),
    "azure-native:keyvault:Key": TypeFacts(
        arm_path="{rg}/providers/Microsoft.KeyVault/vaults/{vaultName}/keys/{keyName}",
        settings=("keyName", "properties.kty", "properties.keySize"),
        label="Key",
    ),
    "azure-native:keyvault:Vault": TypeFacts(
        arm_path="{rg}/providers/Microsoft.KeyVault/vaults/{vaultName}",
        settings=(
            "vaultName", "properties.sku.name", "properties.publicNetworkAccess", "properties.enablePurgeProtection",
        ),
        label="Key Vault",
    ),
    "azure-native:monitor:DiagnosticSetting": TypeFacts(
        arm_path="{resourceUri}/providers/Microsoft.Insights/diagnosticSettings/{name}",
        settings=("resourceUri", "logs[].categoryGroup"),
    ),
    "azure-native:network:FirewallPolicyRuleCollectionGroup": TypeFacts(
        arm_path="{rg}/providers/Microsoft.Network/firewallPolicies/{firewallPolicyName}/ruleCollectionGroups/{ruleCollectionGroupName}",
        settings=("ruleCollectionGroupName", "priority", "ruleCollections[].name"),
        label="Hub firewall rules",
    ),
    "azure-native:network:NatGateway": TypeFacts(
        arm_path="{rg}/providers/Microsoft.Network/natGateways/{natGatewayName}",
        settings=("natGatewayName", "sku.name"),
        label="NAT gateway",
    ),
    "azure-native:network:NetworkSecurityGroup": TypeFacts(
        arm_path="{rg}/providers/Microsoft.Network/networkSecurityGroups/{networkSecurityGroupName}",
        settings=("networkSecurityGroupName",),
    ),
    "azure-native:network:PrivateDnsZoneGroup": TypeFacts(
        arm_path="{rg}/providers/Microsoft.Network/privateEndpoints/{privateEndpointName}/privateDnsZoneGroups/{privateDnsZoneGroupName}",
        settings=("privateEndpointName", "privateDnsZoneConfigs[].name"),
    ),
    "azure-native:network:PrivateEndpoint": TypeFacts(
        arm_path="{rg}/providers/Microsoft.Network/privateEndpoints/{privateEndpointName}",
        settings=("privateEndpointName", "privateLinkServiceConnections[].groupIds"),
        label="Private endpoint",
        replaces=(
            ("subnet.id", "Azure Private Link: a private endpoint cannot move to another subnet"),
            ("privateLinkServiceConnections", "Azure Private Link: the target and group ids are fixed at creation"),
        ),
    ),
    "azure-native:network:PublicIPAddress": TypeFacts(
        arm_path="{rg}/providers/Microsoft.Network/publicIPAddresses/{publicIpAddressName}",
        settings=("publicIpAddressName", "sku.name"),
    ),
    "azure-native:network:RouteTable": TypeFacts(
        arm_path="{rg}/providers/Microsoft.Network/routeTables/{routeTableName}",
        settings=("routeTableName", "routes[].addressPrefix", "routes[].nextHopType"),
        label="Route table",
    ),
    "azure-native:network:SecurityRule": TypeFacts(
        arm_path="{rg}/providers/Microsoft.Network/networkSecurityGroups/{networkSecurityGroupName}/securityRules/{securityRuleName}",
    ),
    "azure-native:network:Subnet": TypeFacts(
        arm_path="{rg}/providers/Microsoft.Network/virtualNetworks/{virtualNetworkName}/subnets/{subnetName}",
        settings=(
            "subnetName", "addressPrefix", "delegations[].serviceName", "defaultOutboundAccess",
            "networkSecurityGroup.id",
        ),
        replaces=(
            ("virtualNetworkName", "ARM path parameter: the parent VNet"),
        ),
    ),
    "azure-native:network:VirtualNetwork": TypeFacts(
        arm_path="{rg}/providers/Microsoft.Network/virtualNetworks/{virtualNetworkName}",
        settings=("virtualNetworkName", "addressSpace.addressPrefixes"),
        label="VNet",
    ),
    "azure-native:network:VirtualNetworkPeering": TypeFacts(
        arm_path="{rg}/providers/Microsoft.Network/virtualNetworks/{virtualNetworkName}/virtualNetworkPeerings/{virtualNetworkPeeringName}",
    ),
    "azure-native:operationalinsights:Workspace": TypeFacts(
        arm_path="{rg}/providers/Microsoft.OperationalInsights/workspaces/{workspaceName}",
        settings=("workspaceName", "retentionInDays", "features.disableLocalAuth"),
        label="Log Analytics",
    ),
    "azure-native:privatedns:PrivateZone": TypeFacts(
        arm_path="{rg}/providers/Microsoft.Network/privateDnsZones/{privateZoneName}",
        settings=("privateZoneName",),
        label="Private DNS zone",
    ),
    "azure-native:privatedns:VirtualNetworkLink": TypeFacts(
        arm_path="{rg}/providers/Microsoft.Network/privateDnsZones/{privateZoneName}/virtualNetworkLinks/{virtualNetworkLinkName}",
        settings=("privateZoneName", "virtualNetwork.id"),
    ),
    "azure-native:resources:ResourceGroup": TypeFacts(
        arm_path="/subscriptions/{sub}/resourceGroups/{resourceGroupName}",
        settings=("resourceGroupName", "location"),
        label="Resource group",
    ),
    "azure-native:storage:BlobContainer": TypeFacts(
        arm_path="{rg}/providers/Microsoft.Storage/storageAccounts/{accountName}/blobServices/default/containers/{containerName}",
        settings=("containerName", "publicAccess"),
    ),
    "azure-native:storage:BlobServiceProperties": TypeFacts(
        arm_path="{rg}/providers/Microsoft.Storage/storageAccounts/{accountName}/blobServices/default",
        settings=("deleteRetentionPolicy.days", "containerDeleteRetentionPolicy.days"),
    ),
    "azure-native:storage:StorageAccount": TypeFacts(
        arm_path="{rg}/providers/Microsoft.Storage/storageAccounts/{accountName}",
        settings=("accountName", "sku.name", "publicNetworkAccess", "isHnsEnabled", "networkRuleSet.defaultAction"),
        label="Storage account",
        replaces=(
            ("isHnsEnabled", "Azure Storage: the hierarchical namespace is set at creation (ARM cannot toggle it)"),
            ("kind", "Azure Storage: the account kind cannot be changed in place by ARM"),
        ),
    ),
    "databricks:index/alertV2:AlertV2": TypeFacts(
        settings=("displayName", "schedule.quartzCronSchedule"),
    ),
    "databricks:index/budgetPolicy:BudgetPolicy": TypeFacts(
        settings=("policyName",),
    ),
    "databricks:index/catalog:Catalog": TypeFacts(
        settings=("name", "isolationMode", "owner", "storageRoot"),
        label="Catalog",
        replaces=(
            ("storageRoot", "pulumi-databricks Catalog.storage_root: change forces creation of a new resource"),
            ("connectionName", "pulumi-databricks Catalog.connection_name: change forces creation of a new resource"),
            ("providerName", "pulumi-databricks Catalog.provider_name: change forces creation of a new resource"),
            ("shareName", "pulumi-databricks Catalog.share_name: change forces creation of a new resource"),
        ),
    ),
    "databricks:index/clusterPolicy:ClusterPolicy": TypeFacts(
        settings=("name", "maxClustersPerUser"),
        label="Cluster policy",
    ),
    "databricks:index/externalLocation:ExternalLocation": TypeFacts(
        settings=("name", "url", "readOnly"),
        label="External location",
        replaces=(
            ("name", "pulumi-databricks ExternalLocation.name: change forces creation of a new resource"),
        ),
    ),
    "databricks:index/grants:Grants": TypeFacts(
        settings=("catalog", "schema", "externalLocation", "storageCredential", "grants[].principal"),
    ),
    "databricks:index/instancePool:InstancePool": TypeFacts(
        settings=("instancePoolName", "nodeTypeId", "idleInstanceAutoterminationMinutes", "maxCapacity"),
        label="Instance pool",
    ),
    "databricks:index/ipAccessList:IpAccessList": TypeFacts(
        settings=("label", "listType", "ipAddresses"),
    ),
    "databricks:index/job:Job": TypeFacts(
        settings=("name", "schedule.quartzCronExpression", "schedule.pauseStatus"),
        label="Job",
    ),
    "databricks:index/metastore:Metastore": TypeFacts(
        label="Metastore",
        replaces=(
            ("storageRoot", "pulumi-databricks Metastore.storage_root: change forces creation of a new resource"),
        ),
    ),
    "databricks:index/metastoreAssignment:MetastoreAssignment": TypeFacts(
        settings=("metastoreId", "workspaceId"),
        label="Metastore assignment",
    ),
    "databricks:index/modelServing:ModelServing": TypeFacts(
        settings=(
            "name", "config.servedEntities[].entityName", "config.servedEntities[].workloadSize",
            "aiGateway.inferenceTableConfig.schemaName",
        ),
        label="Serving endpoint",
        replaces=(
            ("name", "pulumi-databricks ModelServing.name: a new name deletes the endpoint and creates a new one"),
        ),
    ),
    "databricks:index/mwsPermissionAssignment:MwsPermissionAssignment": TypeFacts(
        settings=("workspaceId", "permissions"),
    ),
    "databricks:index/notificationDestination:NotificationDestination": TypeFacts(
        settings=("displayName",),
    ),
    "databricks:index/qualityMonitor:QualityMonitor": TypeFacts(
        settings=("tableName", "outputSchemaName", "schedule.quartzCronExpression"),
        label="Quality monitor",
        replaces=(
            ("tableName", "a quality monitor belongs to one table: another table is another monitor"),
        ),
    ),
    "databricks:index/registeredModel:RegisteredModel": TypeFacts(
        replaces=(
            ("catalogName", "pulumi-databricks RegisteredModel.catalog_name: forces recreation"),
            ("schemaName", "pulumi-databricks RegisteredModel.schema_name: forces recreation"),
            ("name", "pulumi-databricks RegisteredModel.name: forces recreation"),
            ("storageLocation", "pulumi-databricks RegisteredModel.storage_location: forces recreation"),
        ),
    ),
    "databricks:index/schema:Schema": TypeFacts(
        settings=("catalogName", "name", "owner"),
        replaces=(
            ("catalogName", "pulumi-databricks Schema.catalog_name: change forces creation of a new resource"),
            ("name", "pulumi-databricks Schema.name: change forces creation of a new resource"),
            ("storageRoot", "pulumi-databricks Schema.storage_root: change forces creation of a new resource"),
        ),
    ),
    "databricks:index/sqlEndpoint:SqlEndpoint": TypeFacts(
        settings=("name", "clusterSize", "autoStopMins", "enableServerlessCompute"),
        label="SQL warehouse",
    ),
    "databricks:index/storageCredential:StorageCredential": TypeFacts(
        label="Storage credential",
        replaces=(
            ("name", "pulumi-databricks StorageCredential.name: change forces creation of a new resource"),
        ),
    ),
    "databricks:index/volume:Volume": TypeFacts(
        replaces=(
            ("catalogName", "pulumi-databricks Volume.catalog_name: change forces creation of a new resource"),
            ("schemaName", "pulumi-databricks Volume.schema_name: change forces creation of a new resource"),
            ("volumeType", "pulumi-databricks Volume.volume_type: change forces creation of a new resource"),
            ("storageLocation", "pulumi-databricks Volume.storage_location: change forces creation of a new resource"),
        ),
    ),
    "databricks:index/workspaceFile:WorkspaceFile": TypeFacts(
        settings=("path", "md5"),
    ),
    "databricks:index/workspaceBinding:WorkspaceBinding": TypeFacts(
        settings=("securableName", "workspaceId", "bindingType"),
    ),
}


def facts(typ: str) -> TypeFacts:
    """What is known about `typ` (nothing, for a type no tool has a use for)."""
    return TYPES.get(typ, TypeFacts())


# Views of the table for the tools that read one column.
ARM_PATHS: dict[str, str] = {t: f.arm_path for t, f in TYPES.items() if f.arm_path}
KEY_SETTINGS: dict[str, list[str]] = {t: list(f.settings) for t, f in TYPES.items() if f.settings}
KEY_TYPES: dict[str, str] = {t: f.label for t, f in TYPES.items() if f.label}
REPLACE_ON_CHANGE: dict[str, list[tuple[str, str]]] = {t: list(f.replaces) for t, f in TYPES.items() if f.replaces}
