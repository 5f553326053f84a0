"""Private endpoints and private DNS: the workspace (front end, back end, browser auth), the lake, the vault."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network, privatedns

from infra.config.security import PrivateLinkConfig

ZONES = {
    "databricks": "privatelink.azuredatabricks.net",
    "dfs": "privatelink.dfs.core.windows.net",
    "blob": "privatelink.blob.core.windows.net",
    "vault": "privatelink.vaultcore.azure.net",
}


@dataclass(frozen=True)
class PrivateLinkArgs:
    config: PrivateLinkConfig
    prefix: str  # e.g. 'mlops-dev': endpoint names are <prefix>-<purpose>-pe
    resource_group_name: pulumi.Input[str]
    location: str
    tags: dict[str, str]
    vnet_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    workspace_id: pulumi.Input[str]
    lake_id: pulumi.Input[str]
    key_vault_id: pulumi.Input[str]
    front_end_private: bool  # workspace publicNetworkAccess Disabled: users come in over private link too


class PrivateLink(pulumi.ComponentResource):
    """mlops:platform:PrivateLink: one private DNS zone per service linked to the VNet, an endpoint per
    target, and a DNS zone group per endpoint (unless Azure Policy manages zone groups)."""

    endpoints: dict[str, network.PrivateEndpoint]
    zones: dict[str, privatedns.PrivateZone]

    def __init__(self, name: str, args: PrivateLinkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:PrivateLink", name, None, opts)
        rg, tags = args.resource_group_name, args.tags
        self.zones = {}
        for key, zone_name in ZONES.items():
            zone = privatedns.PrivateZone(
                f"{name}-zone-{key}", private_zone_name=zone_name, resource_group_name=rg, location="global",
                tags=tags, opts=pulumi.ResourceOptions(parent=self))
            privatedns.VirtualNetworkLink(
                f"{name}-zone-{key}-link", private_zone_name=zone.name, resource_group_name=rg, location="global",
                virtual_network_link_name=f"{args.prefix}-vnet-link", registration_enabled=False,
                virtual_network=privatedns.SubResourceArgs(id=args.vnet_id), tags=tags,
                opts=pulumi.ResourceOptions(parent=self))
            self.zones[key] = zone

        self.endpoints = {}

        def endpoint(purpose: str, target: pulumi.Input[str], group: str, zone: str,
                     after: list[pulumi.Resource] | None = None) -> network.PrivateEndpoint:
            pe_name = f"{args.prefix}-{purpose}-pe"
            pe = network.PrivateEndpoint(
                f"{name}-{purpose}", private_endpoint_name=pe_name, resource_group_name=rg, location=args.location,
                subnet=network.SubnetArgs(id=args.subnet_id),
                private_link_service_connections=[network.PrivateLinkServiceConnectionArgs(
                    name=pe_name, private_link_service_id=target, group_ids=[group])],
                tags=tags, opts=pulumi.ResourceOptions(parent=self, depends_on=after or []))
            if args.config.manage_dns_zone_groups:
                network.PrivateDnsZoneGroup(
                    f"{name}-{purpose}-dns", private_endpoint_name=pe.name, resource_group_name=rg,
                    private_dns_zone_group_name="default",
                    private_dns_zone_configs=[network.PrivateDnsZoneConfigArgs(
                        name=ZONES[zone].replace(".", "-"), private_dns_zone_id=self.zones[zone].id)],
                    opts=pulumi.ResourceOptions(parent=self))
            self.endpoints[purpose] = pe
            return pe

        # Endpoints on one workspace are created one after another: Azure refuses concurrent private
        # endpoint operations on a workspace (ConcurrentUpdateError). Back end first (clusters -> control
        # plane), then the front end (users), then browser authentication (SSO callback, one per region).
        ws_chain: list[pulumi.Resource] = [endpoint("backend", args.workspace_id, "databricks_ui_api", "databricks")]
        if args.front_end_private:
            ws_chain.append(endpoint("frontend", args.workspace_id, "databricks_ui_api", "databricks",
                                     after=[ws_chain[-1]]))
        if args.config.browser_authentication:
            ws_chain.append(endpoint("browser-auth", args.workspace_id, "browser_authentication", "databricks",
                                     after=[ws_chain[-1]]))
        endpoint("lake-dfs", args.lake_id, "dfs", "dfs")
        endpoint("lake-blob", args.lake_id, "blob", "blob")
        endpoint("vault", args.key_vault_id, "vault", "vault")
        self.register_outputs({p: e.id for p, e in self.endpoints.items()})
