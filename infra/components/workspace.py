"""The Azure Databricks workspace: premium, VNet-injected, secure cluster connectivity (no public IP)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import databricks

from infra.config.core import WorkspaceConfig


@dataclass(frozen=True)
class WorkspaceArgs:
    config: WorkspaceConfig
    name: str
    managed_resource_group_id: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    location: str
    vnet_id: pulumi.Input[str]
    host_subnet_name: pulumi.Input[str]
    container_subnet_name: pulumi.Input[str]
    tags: dict[str, str]
    protect: bool = False


class Workspace(pulumi.ComponentResource):
    """mlops:platform:Workspace: one Azure Databricks workspace per environment."""

    id: pulumi.Output[str]
    url: pulumi.Output[str]
    workspace_id: pulumi.Output[str]

    def __init__(self, name: str, args: WorkspaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:Workspace", name, None, opts)
        cfg = args.config
        ws = databricks.Workspace(
            name,
            workspace_name=args.name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku=databricks.SkuArgs(name=cfg.sku),
            managed_resource_group_id=args.managed_resource_group_id,
            public_network_access=cfg.public_network_access,
            required_nsg_rules=cfg.required_nsg_rules,
            parameters=databricks.WorkspaceCustomParametersArgs(
                custom_virtual_network_id=databricks.WorkspaceCustomStringParameterArgs(value=args.vnet_id),
                custom_public_subnet_name=databricks.WorkspaceCustomStringParameterArgs(
                    value=args.host_subnet_name),
                custom_private_subnet_name=databricks.WorkspaceCustomStringParameterArgs(
                    value=args.container_subnet_name),
                enable_no_public_ip=databricks.WorkspaceNoPublicIPBooleanParameterArgs(
                    value=cfg.enable_no_public_ip),
            ),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect))
        self.resource = ws
        self.id = ws.id
        self.url = ws.workspace_url
        self.workspace_id = ws.workspace_id
        self.register_outputs({"id": ws.id, "url": ws.workspace_url, "workspaceId": ws.workspace_id})
