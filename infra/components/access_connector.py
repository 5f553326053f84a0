"""The Databricks access connector: the managed identity Unity Catalog and the workspace use for storage."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import databricks


@dataclass(frozen=True)
class AccessConnectorArgs:
    name: str
    resource_group_name: pulumi.Input[str]
    location: str
    tags: dict[str, str]


class AccessConnector(pulumi.ComponentResource):
    """mlops:platform:AccessConnector: a system-assigned identity; its roles are granted where it needs them
    (the lake grants it data access; the workspace uses it for the DBFS root behind the storage firewall)."""

    id: pulumi.Output[str]
    principal_id: pulumi.Output[str]

    def __init__(self, name: str, args: AccessConnectorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:AccessConnector", name, None, opts)
        connector = databricks.AccessConnector(
            name, connector_name=args.name, resource_group_name=args.resource_group_name, location=args.location,
            identity=databricks.ManagedServiceIdentityArgs(type=databricks.ManagedServiceIdentityType.SYSTEM_ASSIGNED),
            tags=args.tags, opts=pulumi.ResourceOptions(parent=self))
        self.resource = connector
        self.id = connector.id
        self.principal_id = connector.identity.apply(lambda i: i.principal_id if i else "")
        self.register_outputs({"id": self.id, "principalId": self.principal_id})
