"""Config models of the first slice: environment, tags, names, network, workspace."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from infra import naming
from infra.config.base import StrictModel, field_problems

Environment = Literal["dev", "test", "prod"]

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
    owner: str = Field(min_length=1, max_length=256)
    cost_center: str = Field(min_length=1, max_length=256)
    extra: dict[str, str] = {}

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
    resource_group: str | None = None
    managed_resource_group: str | None = None
    workspace: str | None = None
    virtual_network: str | None = None
    storage_account: str | None = None
    key_vault: str | None = None
    # The workspace's DBFS root storage account (workspace parameter storageAccountName; set at creation only).
    # An existing workspace keeps the name Databricks gave it: set this to it (`dbstorage...`).
    dbfs_storage_account: str | None = None

    @field_validator("dbfs_storage_account")
    @classmethod
    def _dbfs_name(cls, v: str | None) -> str | None:
        problem = naming.check_name("storageAccount", v) if v is not None else None
        if problem:
            raise ValueError(problem)
        return v

    def resolved(self, env: str) -> dict[str, str]:
        names = naming.default_names(self.prefix, env)
        for key in ("resourceGroup", "managedResourceGroup", "workspace", "virtualNetwork",
                    "storageAccount", "keyVault", "dbfsStorageAccount"):
            override = getattr(self, re.sub(r"([A-Z])", r"_\1", key).lower())
            if override:
                names[key] = override
        return names


def global_name_problems(stack: str, names: dict[str, str], other_name: str, other: dict[str, str]) -> list[str]:
    """Globally unique names (storage accounts incl. the DBFS root, key vaults) differ from every other stack's."""
    problems = []
    for what, keys in naming.GLOBAL_NAMESPACES.items():
        for key in keys:
            clash = next((k for k in keys if other[k] == names[key]), None)
            if clash is not None:
                problems.append(f"{stack}: naming.{key}: {names[key]!r} is also stack {other_name}'s {clash}; "
                                f"a {what} name is globally unique in Azure")
    return problems


def _network(value: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError("is not a valid CIDR (e.g. '10.10.0.0/16')") from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise ValueError("is not an IPv4 CIDR; Azure Databricks VNet injection needs IPv4")
    if str(net) != value:
        raise ValueError(f"has host bits set; did you mean {str(net)!r}?")
    return net


class NetworkConfig(StrictModel):
    """One VNet per environment: Databricks host (public) and container (private) subnets, a PE subnet."""

    vnet_cidr: str
    host_subnet_cidr: str
    container_subnet_cidr: str
    private_endpoint_subnet_cidr: str
    host_subnet_name: str = "public-subnet"
    container_subnet_name: str = "private-subnet"
    private_endpoint_subnet_name: str = "pe-subnet"
    egress: Literal["natGateway"] = "natGateway"

    @field_validator("vnet_cidr", "host_subnet_cidr", "container_subnet_cidr", "private_endpoint_subnet_cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        _network(v)
        return v

    @field_validator("vnet_cidr")
    @classmethod
    def _vnet_size(cls, v: str) -> str:
        if not 8 <= _network(v).prefixlen <= 24:
            raise ValueError("must be between /8 and /24 (room for two Databricks subnets and a PE subnet)")
        return v

    @field_validator("host_subnet_cidr", "container_subnet_cidr")
    @classmethod
    def _databricks_subnet_size(cls, v: str) -> str:
        # Azure Databricks: subnets from /17 to /26 (smaller leaves no room for nodes).
        if not 17 <= _network(v).prefixlen <= 26:
            raise ValueError("must be between /17 and /26 (Azure Databricks subnet sizes)")
        return v

    @field_validator("private_endpoint_subnet_cidr")
    @classmethod
    def _pe_subnet_size(cls, v: str) -> str:
        if _network(v).prefixlen > 28:
            raise ValueError("must be /28 or larger (private endpoints need addresses)")
        return v

    @field_validator("host_subnet_name", "container_subnet_name", "private_endpoint_subnet_name")
    @classmethod
    def _subnet_name(cls, v: str) -> str:
        problem = naming.check_name("subnet", v)
        if problem:
            raise ValueError(problem)
        return v

    @model_validator(mode="after")
    def _layout(self) -> NetworkConfig:
        vnet = _network(self.vnet_cidr)
        subnets = {
            "hostSubnetCidr": _network(self.host_subnet_cidr),
            "containerSubnetCidr": _network(self.container_subnet_cidr),
            "privateEndpointSubnetCidr": _network(self.private_endpoint_subnet_cidr),
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
    enable_no_public_ip: bool = True
    public_network_access: Literal["Enabled", "Disabled"] = "Disabled"
    required_nsg_rules: Literal["AllRules", "NoAzureDatabricksRules"] = "NoAzureDatabricksRules"

    @model_validator(mode="after")
    def _front_end(self) -> WorkspaceConfig:
        if self.public_network_access == "Disabled" and self.required_nsg_rules != "NoAzureDatabricksRules":
            raise field_problems([(
                "requiredNsgRules", self.required_nsg_rules,
                "is not allowed with publicNetworkAccess 'Disabled'; allowed: 'NoAzureDatabricksRules' "
                "(a private front end needs back-end private link)")])
        return self
