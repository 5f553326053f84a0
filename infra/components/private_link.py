"""Private endpoints and private DNS: the workspace (UI/API, browser auth), its DBFS root, the lake, the vault."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native
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
    # The workspace's own (DBFS root) storage account, behind the default storage firewall: classic clusters
    # reach it only through dfs and blob endpoints. None: no storage firewall, no endpoints.
    dbfs_storage_account_id: pulumi.Input[str] | None = None
    # The deploy runner's hub VNet (deploy.runner.hubVnetId): the workspace's DNS zone is linked to it too.
    hub_vnet_id: str | None = None
    # The hub's existing privatelink.azuredatabricks.net zone (deploy.runner.hubDnsZone): used instead of a zone of
    # this stack, so nothing is linked to the hub. None: this stack's own zone, linked to the hub if there is one.
    hub_zone_id: str | None = None


def parse_zone_id(zone_id: str) -> tuple[str, str, str]:
    """/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Network/privateDnsZones/<name> -> (sub, rg, name).
    The format is validated in config (deploy.runner.hubDnsZone)."""
    parts = zone_id.strip("/").split("/")
    return parts[1], parts[3], parts[7]


class PrivateLink(pulumi.ComponentResource):
    """mlops:platform:PrivateLink: one private DNS zone per service linked to the VNet, an endpoint per
    target, and a DNS zone group per endpoint (unless Azure Policy manages zone groups).

    With a hub VNet (the deploy runner's), the workspace's zone privatelink.azuredatabricks.net is linked to the
    hub as well, so the runner resolves the workspace to its private endpoint. The hub link falls back to public
    resolution for names the zone does not hold (resolutionPolicy NxDomainRedirect, Microsoft Learn "Fallback to
    internet for Azure Private DNS zones", API 2024-06-01): without it every other workspace whose name CNAMEs
    through privatelink.azuredatabricks.net (dev and test, whose back-end endpoints make it so) answers NXDOMAIN
    in the hub, and the same runner could no longer deploy them.

    An enterprise hub usually links its own privatelink.azuredatabricks.net zone already, and Azure refuses a second
    zone of that name on the hub ("A virtual network cannot be linked to multiple zones with overlapping
    namespaces"; Microsoft Learn private link FAQ: multiple zones with the same name for one virtual network are not
    supported). With the hub's zone given (hub_zone_id), this stack makes no zone of that name and no hub link: the
    workspace's endpoints register in the hub's zone through their DNS zone groups, and that zone is linked to this
    stack's VNet so clusters resolve the back end there too (one zone group cannot hold two zones of one name). The
    link is written in the zone's subscription (parsed from its id) through an explicit provider; the deploying
    identity needs Private DNS Zone Contributor on that zone.
    """

    endpoints: dict[str, network.PrivateEndpoint]
    zone_groups: dict[str, network.PrivateDnsZoneGroup]
    zones: dict[str, privatedns.PrivateZone]
    # What a call to the workspace's front end needs: the endpoint serving it, its DNS record, the hub link.
    front_end: list[pulumi.Resource]

    def __init__(self, name: str, args: PrivateLinkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:PrivateLink", name, None, opts)
        rg, tags = args.resource_group_name, args.tags
        self.zones = {}
        zone_ids: dict[str, pulumi.Input[str]] = {}
        for key, zone_name in ZONES.items():
            if key == "databricks" and args.hub_zone_id is not None:
                continue  # the hub's zone of this name serves this VNet too (below)
            zone = privatedns.PrivateZone(
                f"{name}-zone-{key}", private_zone_name=zone_name, resource_group_name=rg, location="global",
                tags=tags, opts=pulumi.ResourceOptions(parent=self))
            privatedns.VirtualNetworkLink(
                f"{name}-zone-{key}-link", private_zone_name=zone.name, resource_group_name=rg, location="global",
                virtual_network_link_name=f"{args.prefix}-vnet-link", registration_enabled=False,
                virtual_network=privatedns.SubResourceArgs(id=args.vnet_id), tags=tags,
                opts=pulumi.ResourceOptions(parent=self))
            self.zones[key] = zone
            zone_ids[key] = zone.id
        hub_link = None
        if args.hub_zone_id is not None:
            zone_sub, zone_rg, zone_name = parse_zone_id(args.hub_zone_id)
            hub_dns = azure_native.Provider(f"{name}-hub-dns-subscription", subscription_id=zone_sub,
                                            opts=pulumi.ResourceOptions(parent=self))
            privatedns.VirtualNetworkLink(
                f"{name}-hub-zone-databricks-link", private_zone_name=zone_name, resource_group_name=zone_rg,
                location="global", virtual_network_link_name=f"{args.prefix}-vnet-link", registration_enabled=False,
                virtual_network=privatedns.SubResourceArgs(id=args.vnet_id), tags=tags,
                opts=pulumi.ResourceOptions(parent=self, provider=hub_dns))
            zone_ids["databricks"] = args.hub_zone_id
        elif args.hub_vnet_id is not None:
            hub_link = privatedns.VirtualNetworkLink(
                f"{name}-zone-databricks-hub-link", private_zone_name=self.zones["databricks"].name,
                resource_group_name=rg, location="global", virtual_network_link_name=f"{args.prefix}-hub-link",
                registration_enabled=False, virtual_network=privatedns.SubResourceArgs(id=args.hub_vnet_id),
                resolution_policy=privatedns.ResolutionPolicy.NX_DOMAIN_REDIRECT, tags=tags,
                opts=pulumi.ResourceOptions(parent=self))

        self.endpoints = {}
        self.zone_groups = {}

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
                self.zone_groups[purpose] = network.PrivateDnsZoneGroup(
                    f"{name}-{purpose}-dns", private_endpoint_name=pe.name, resource_group_name=rg,
                    private_dns_zone_group_name="default",
                    private_dns_zone_configs=[network.PrivateDnsZoneConfigArgs(
                        name=ZONES[zone].replace(".", "-"), private_dns_zone_id=zone_ids[zone])],
                    opts=pulumi.ResourceOptions(parent=self))
            self.endpoints[purpose] = pe
            return pe

        # Endpoints on one workspace are created one after another: Azure refuses concurrent private
        # endpoint operations on a workspace (ConcurrentUpdateError). One databricks_ui_api endpoint serves both
        # the back end (clusters -> control plane) and, with a private front end, the users: in a single VNet
        # "only a single private endpoint is used for both front-end and back-end connectivity"
        # (terraform-provider-databricks guide azure-private-link-workspace-simplified); a second one in the
        # same VNet and zone would fight over the workspace's one A record. (Purpose 'backend' for history.)
        ui_api = endpoint("backend", args.workspace_id, "databricks_ui_api", "databricks")
        ws_chain: list[pulumi.Resource] = [ui_api]
        if args.config.browser_authentication:
            ws_chain.append(endpoint("browser-auth", args.workspace_id, "browser_authentication", "databricks",
                                     after=[ws_chain[-1]]))
        endpoint("lake-dfs", args.lake_id, "dfs", "dfs")
        endpoint("lake-blob", args.lake_id, "blob", "blob")
        endpoint("vault", args.key_vault_id, "vault", "vault")
        if args.dbfs_storage_account_id is not None:
            # With the default storage firewall the DBFS root takes no public traffic: classic clusters and
            # jobs reach it through these (Databricks SRA azure/tf/modules/workspace/dbfs_privatelink.tf;
            # Microsoft Learn "Enable firewall support for your workspace storage account").
            endpoint("dbfs-dfs", args.dbfs_storage_account_id, "dfs", "dfs")
            endpoint("dbfs-blob", args.dbfs_storage_account_id, "blob", "blob")

        self.front_end = [ui_api]
        if "backend" in self.zone_groups:
            self.front_end.append(self.zone_groups["backend"])
        if hub_link is not None:
            self.front_end.append(hub_link)
        self.register_outputs({p: e.id for p, e in self.endpoints.items()})
