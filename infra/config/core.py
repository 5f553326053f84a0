"""Config models of the first slice: environment, tags, names, network, workspace."""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from infra import naming
from infra.config.base import StrictModel, field_problems
from infra.config.egress import Egress, HubFirewallConfig
from infra.config.types import Environment as Environment  # defined in types.py; still importable from here
from infra.config.types import Ipv4Cidr, StorageAccountName, SubnetName, ipv4_network

# Azure regions where Azure Databricks is offered (the workspace's region; the metastore is regional).
Region = Literal[
    "eastus", "eastus2", "centralus", "northcentralus", "southcentralus", "westus", "westus2", "westus3",
    "westcentralus", "canadacentral", "canadaeast", "brazilsouth", "mexicocentral", "northeurope",
    "westeurope", "uksouth", "ukwest", "francecentral", "germanywestcentral", "switzerlandnorth",
    "swedencentral", "norwayeast", "polandcentral", "italynorth", "spaincentral", "uaenorth", "qatarcentral",
    "southafricanorth", "centralindia", "southindia", "westindia", "eastasia", "southeastasia", "japaneast",
    "japanwest", "koreacentral", "australiaeast", "australiasoutheast", "australiacentral",
]

_TAG_KEY_FORBIDDEN = re.compile(r"[<>%&\\?/]")


class TagsConfig(StrictModel):
    """Tags on every taggable resource. environment is added from the stack; these are the rest."""

    project: str = "mlops-platform"
    """Value of the `project` tag on every resource and in the cost tags of clusters, pools, the SQL warehouse and
    serverless usage."""
    owner: str = Field(min_length=1, max_length=256)
    """Value of the `owner` tag on every resource: who to ask about it (a team or mailbox)."""
    cost_center: str = Field(min_length=1, max_length=256)
    """Value of the `costCenter` tag on every resource and in the compute cost tags, for cost attribution."""
    extra: dict[str, str] = {}
    """More tags (name -> value) added to every taggable resource, e.g. `dataClassification: internal`."""

    @field_validator("extra")
    @classmethod
    def _keys(cls, v: dict[str, str]) -> dict[str, str]:
        for key, value in v.items():
            if len(key) > 512 or _TAG_KEY_FORBIDDEN.search(key):
                raise ValueError(f"tag key {key!r} is not allowed (max 512 chars, none of < > % & \\ ? /)")
            if len(value) > 256:
                raise ValueError(f"tag {key!r} value is longer than 256 characters")
        return v


class NamingConfig(StrictModel):
    """Names default to the seed's scheme (`<prefix>-<env>-rg`, ...); any of them can be overridden."""

    prefix: str = Field(default="mlops", pattern=r"^[a-z][a-z0-9-]{1,14}$")
    """Start of every default name (`<prefix>-<stack>-rg`, ...); change it to run a second platform in the same
    subscription."""
    resource_group: str | None = None
    """Name of the environment's resource group; default `<prefix>-<stack>-rg`."""
    managed_resource_group: str | None = None
    """Name of the resource group Databricks creates and owns for the workspace; default
    `<prefix>-<stack>-workspace-managed-rg`, and it must differ from resourceGroup."""
    workspace: str | None = None
    """Name of the Azure Databricks workspace; default `<prefix>-<stack>-workspace`."""
    virtual_network: str | None = None
    """Name of the environment's virtual network; default `<prefix>-<stack>-vnet`."""
    storage_account: str | None = None
    """Name of the lake's storage account; default `<prefix><stack>lake<hash>`. Globally unique in Azure, so it must
    differ from every other stack's."""
    key_vault: str | None = None
    """Name of the environment's Key Vault; default `<prefix>-<stack>-kv-<hash>`. Globally unique in Azure (and kept
    while soft-deleted with purge protection)."""
    # The workspace's DBFS root storage account (workspace parameter storageAccountName; set at creation only).
    # An existing workspace keeps the name Databricks gave it: set this to it (`dbstorage...`).
    dbfs_storage_account: StorageAccountName | None = None
    """Name of the workspace's DBFS root storage account, set at workspace creation only (default
    `<prefix><stack>dbfs<hash>`); an existing workspace keeps the name Databricks gave it (`dbstorage...`), so set it
    to that."""

    def resolved(self, stack: str) -> naming.Names:
        overrides = {key: value for key in ("resource_group", "managed_resource_group", "workspace", "virtual_network",
                                            "storage_account", "key_vault", "dbfs_storage_account")
                     if (value := getattr(self, key))}
        return dataclasses.replace(naming.default_names(self.prefix, stack), **overrides)


def global_name_problems(stack: str, names: naming.Names, other_name: str, other: naming.Names) -> list[str]:
    """Globally unique names (storage accounts incl. the DBFS root, key vaults) differ from every other stack's."""
    problems = []
    for what, keys in naming.GLOBAL_NAMESPACES.items():
        for key in keys:
            mine = getattr(names, key)
            clash = next((k for k in keys if getattr(other, k) == mine), None)
            if clash is not None:
                problems.append(f"{stack}: naming.{to_camel(key)}: {mine!r} is also stack {other_name}'s "
                                f"{to_camel(clash)}; a {what} name is globally unique in Azure")
    return problems


class NetworkConfig(StrictModel):
    """One VNet per environment: Databricks host (public) and container (private) subnets, a PE subnet."""

    vnet_cidr: Ipv4Cidr
    """Address space of the environment's VNet (/8 to /24); must hold the three subnets and not overlap networks it is
    peered with."""
    host_subnet_cidr: Ipv4Cidr
    """The Databricks host (public) subnet, inside vnetCidr (/17 to /26); its size limits how many cluster nodes can
    run."""
    container_subnet_cidr: Ipv4Cidr
    """The Databricks container (private) subnet that cluster containers use, inside vnetCidr (/17 to /26)."""
    private_endpoint_subnet_cidr: Ipv4Cidr
    """The subnet of the private endpoints (workspace, lake, key vault), inside vnetCidr."""
    host_subnet_name: SubnetName = "public-subnet"
    """Name of the host (public) subnet; override to match an existing network."""
    container_subnet_name: SubnetName = "private-subnet"
    """Name of the container (private) subnet; override to match an existing network."""
    private_endpoint_subnet_name: SubnetName = "pe-subnet"
    """Name of the private-endpoint subnet; override to match an existing network."""
    egress: Egress | None = None
    """How classic cluster nodes reach the internet: `natGateway` (a NAT gateway on both Databricks subnets) or
    `firewall` (a route table sends them through the hub's Azure Firewall, network.firewall); default `firewall` in
    prod when deploy.runner.hubVnetId is set, else `natGateway`."""
    firewall: HubFirewallConfig | None = None
    """The hub's existing Azure Firewall (private IP, firewall policy, this stack's rule collection priority); required
    with egress `firewall`."""
    encryption: bool | None = None
    """Azure Virtual Network encryption with enforcement AllowUnencrypted (nodes on VM sizes without support keep
    talking, unencrypted); default on in prod, off elsewhere."""

    @field_validator("vnet_cidr")
    @classmethod
    def _vnet_size(cls, v: str) -> str:
        if not 8 <= ipv4_network(v).prefixlen <= 24:
            raise ValueError("must be between /8 and /24 (room for two Databricks subnets and a PE subnet)")
        return v

    @field_validator("host_subnet_cidr", "container_subnet_cidr")
    @classmethod
    def _databricks_subnet_size(cls, v: str) -> str:
        # Azure Databricks: subnets from /17 to /26 (smaller leaves no room for nodes).
        if not 17 <= ipv4_network(v).prefixlen <= 26:
            raise ValueError("must be between /17 and /26 (Azure Databricks subnet sizes)")
        return v

    @field_validator("private_endpoint_subnet_cidr")
    @classmethod
    def _pe_subnet_size(cls, v: str) -> str:
        if ipv4_network(v).prefixlen > 28:
            raise ValueError("must be /28 or larger (private endpoints need addresses)")
        return v

    @model_validator(mode="after")
    def _layout(self) -> NetworkConfig:
        vnet = ipv4_network(self.vnet_cidr)
        subnets = {
            "hostSubnetCidr": ipv4_network(self.host_subnet_cidr),
            "containerSubnetCidr": ipv4_network(self.container_subnet_cidr),
            "privateEndpointSubnetCidr": ipv4_network(self.private_endpoint_subnet_cidr),
        }
        problems: list[tuple[str, Any, str]] = []
        for key, net in subnets.items():
            if not net.subnet_of(vnet):
                problems.append((key, str(net), f"is not inside vnetCidr {self.vnet_cidr!r}"))
        keys = list(subnets)
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                if subnets[a].overlaps(subnets[b]):
                    problems.append((b, str(subnets[b]), f"overlaps {a} {str(subnets[a])!r}"))
        names = [self.host_subnet_name, self.container_subnet_name, self.private_endpoint_subnet_name]
        if len(set(names)) != len(names):
            problems.append(("containerSubnetName", self.container_subnet_name, "subnet names must all differ"))
        if problems:
            raise field_problems(problems)
        return self


class WorkspaceConfig(StrictModel):
    """The Azure Databricks workspace (VNet-injected, secure cluster connectivity)."""

    sku: Literal["premium"] = "premium"  # Unity Catalog, private link and CMK need premium
    """Workspace pricing tier; premium because Unity Catalog, private link and customer-managed keys need it."""
    enable_no_public_ip: bool = True
    """Secure cluster connectivity: cluster nodes get no public IP addresses."""
    public_network_access: Literal["Enabled", "Disabled"] = "Disabled"
    """Whether the workspace UI/API is reachable from the internet (`Enabled`, optionally behind
    workspaceSecurity.ipAccessList) or over private link only (`Disabled`, which needs deploy.runner.hubVnetId)."""
    required_nsg_rules: Literal["AllRules", "NoAzureDatabricksRules"] = "NoAzureDatabricksRules"
    """Which NSG rules Databricks requires; a private front end (publicNetworkAccess `Disabled`) needs
    `NoAzureDatabricksRules` (back-end private link)."""

    @model_validator(mode="after")
    def _front_end(self) -> WorkspaceConfig:
        if self.public_network_access == "Disabled" and self.required_nsg_rules != "NoAzureDatabricksRules":
            raise field_problems([(
                "requiredNsgRules", self.required_nsg_rules,
                "is not allowed with publicNetworkAccess 'Disabled'; allowed: 'NoAzureDatabricksRules' "
                "(a private front end needs back-end private link)")])
        return self
