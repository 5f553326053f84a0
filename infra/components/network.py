"""The environment's network: VNet, Databricks host/container subnets, private-endpoint subnet, egress."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native
from pulumi_azure_native import network

from infra.config.core import NetworkConfig
from infra.naming import Names

DATABRICKS_DELEGATION = "Microsoft.Databricks/workspaces"


@dataclass(frozen=True)
class NetworkArgs:
    config: NetworkConfig
    resource_group_name: pulumi.Input[str]
    location: str
    names: Names
    tags: dict[str, str]
    # ARM id of the deploy runner's hub VNet (deploy.runner.hubVnetId): peered with this VNet both ways.
    hub_vnet_id: str | None = None
    # Egress through the hub firewall (network.egress firewall): the Databricks subnets' route table, and what must
    # exist before the subnets route to it (the firewall's rules). None: a NAT gateway.
    route_table_id: pulumi.Input[str] | None = None
    egress_ready: Sequence[pulumi.Resource] = ()
    # Virtual network encryption (network.encryption).
    encryption: bool = False


def parse_vnet_id(vnet_id: str) -> tuple[str, str, str]:
    """/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<name>
    -> (sub, rg, name). The format is validated in config (deploy.runner.hubVnetId)."""
    parts = vnet_id.strip("/").split("/")
    return parts[1], parts[3], parts[7]


class Network(pulumi.ComponentResource):
    """mlops:platform:Network: a VNet with delegated Databricks subnets behind NSGs and a NAT gateway or a route table.

    Subnets have default outbound access off; clusters without public IPs leave through the NAT gateway, or, with
    a route table (infra/components/classic_egress.py), through the hub's firewall, and then there is no NAT gateway.

    VNet encryption is declared with enforcement AllowUnencrypted: a VM size that does not support it still talks,
    unencrypted (Microsoft Learn, "What is Azure Virtual Network encryption?": DropUnencrypted would drop its
    traffic, and Databricks nodes may run on such sizes); the SRA sets the same (azure/tf/modules/virtual_network).

    With a hub VNet (where the deploy runner sits), the VNet is peered with it in both directions: a peering
    is only connected once both VNets have one (Azure "Create, change, or delete a virtual network peering").
    The hub side lives in the hub's resource group and subscription (parsed from its id), written through an
    explicit azure-native provider for that subscription, which takes its credentials from the environment
    like the default one (ARM_* variables, the Azure CLI). So the deploying identity needs, besides its rights
    in this stack's subscription, Network Contributor (or Microsoft.Network/virtualNetworks/
    virtualNetworkPeerings/write and .../peer/action) on the hub VNet, and the hub's address space must not
    overlap this VNet's. The private DNS link of the workspace's zone to the hub is in PrivateLink.
    """

    vnet_id: pulumi.Output[str]
    hub_peerings: list[network.VirtualNetworkPeering]
    host_subnet_id: pulumi.Output[str]
    host_subnet_name: pulumi.Output[str]
    container_subnet_id: pulumi.Output[str]
    container_subnet_name: pulumi.Output[str]
    private_endpoint_subnet_id: pulumi.Output[str]
    nat_gateway_id: pulumi.Output[str] | None

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:Network", name, None, opts)
        cfg, names = args.config, args.names
        child = pulumi.ResourceOptions(parent=self)
        rg, loc, tags = args.resource_group_name, args.location, args.tags

        vnet = network.VirtualNetwork(
            f"{name}-vnet", virtual_network_name=names.virtual_network,
            address_space=network.AddressSpaceArgs(address_prefixes=[cfg.vnet_cidr]),
            encryption=network.VirtualNetworkEncryptionArgs(enabled=True, enforcement="AllowUnencrypted")
            if args.encryption else None,
            resource_group_name=rg, location=loc, tags=tags, opts=child)

        # No inline security rules: Azure Databricks adds and owns its network-intent rules on these NSGs.
        host_nsg = network.NetworkSecurityGroup(
            f"{name}-host-nsg", network_security_group_name=names.host_nsg,
            resource_group_name=rg, location=loc, tags=tags, opts=child)
        container_nsg = network.NetworkSecurityGroup(
            f"{name}-container-nsg", network_security_group_name=names.container_nsg,
            resource_group_name=rg, location=loc, tags=tags, opts=child)
        pe_nsg = network.NetworkSecurityGroup(
            f"{name}-pe-nsg", network_security_group_name=names.private_endpoint_nsg,
            resource_group_name=rg, location=loc, tags=tags, opts=child)

        self.nat_gateway_id = None
        nat_ref: network.SubResourceArgs | None = None
        route_ref: network.RouteTableArgs | None = None
        if args.route_table_id is None:
            nat_ip = network.PublicIPAddress(
                f"{name}-nat-pip", public_ip_address_name=names.nat_public_ip,
                sku=network.PublicIPAddressSkuArgs(name=network.PublicIPAddressSkuName.STANDARD),
                public_ip_allocation_method=network.IPAllocationMethod.STATIC,
                public_ip_address_version=network.IPVersion.I_PV4,
                resource_group_name=rg, location=loc, tags=tags, opts=child)
            nat = network.NatGateway(
                f"{name}-nat", nat_gateway_name=names.nat_gateway,
                sku=network.NatGatewaySkuArgs(name=network.NatGatewaySkuName.STANDARD),
                public_ip_addresses=[network.SubResourceArgs(id=nat_ip.id)],
                idle_timeout_in_minutes=10,
                resource_group_name=rg, location=loc, tags=tags, opts=child)
            nat_ref = network.SubResourceArgs(id=nat.id)
            self.nat_gateway_id = nat.id
        else:
            route_ref = network.RouteTableArgs(id=args.route_table_id)

        delegation = [network.DelegationArgs(name="databricks", service_name=DATABRICKS_DELEGATION)]
        # Subnets of one VNet are created one after another: Azure refuses parallel subnet writes
        # (AnotherOperationInProgress), so each waits for the previous one.
        host = network.Subnet(
            f"{name}-host-subnet", subnet_name=cfg.host_subnet_name, virtual_network_name=vnet.name,
            resource_group_name=args.resource_group_name, address_prefix=cfg.host_subnet_cidr,
            delegations=delegation,
            network_security_group=network.NetworkSecurityGroupArgs(id=host_nsg.id),
            nat_gateway=nat_ref, route_table=route_ref,
            default_outbound_access=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.egress_ready)))
        container = network.Subnet(
            f"{name}-container-subnet", subnet_name=cfg.container_subnet_name, virtual_network_name=vnet.name,
            resource_group_name=args.resource_group_name, address_prefix=cfg.container_subnet_cidr,
            delegations=delegation,
            network_security_group=network.NetworkSecurityGroupArgs(id=container_nsg.id),
            nat_gateway=nat_ref, route_table=route_ref,
            default_outbound_access=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[host]))
        pe = network.Subnet(
            f"{name}-pe-subnet", subnet_name=cfg.private_endpoint_subnet_name, virtual_network_name=vnet.name,
            resource_group_name=args.resource_group_name, address_prefix=cfg.private_endpoint_subnet_cidr,
            network_security_group=network.NetworkSecurityGroupArgs(id=pe_nsg.id),
            private_endpoint_network_policies=network.VirtualNetworkPrivateEndpointNetworkPolicies.DISABLED,
            default_outbound_access=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[container]))

        self.hub_peerings = []
        if args.hub_vnet_id is not None:
            hub_sub, hub_rg, hub_name = parse_vnet_id(args.hub_vnet_id)

            def peer(logical: str, peering_name: str, vnet_name: pulumi.Input[str], group: pulumi.Input[str],
                     remote: pulumi.Input[str], provider: pulumi.ProviderResource | None,
                     ) -> network.VirtualNetworkPeering:
                # After the last subnet: a peering write on a VNet while a subnet is written fails
                # (AnotherOperationInProgress), as the subnets themselves do.
                return network.VirtualNetworkPeering(
                    logical, virtual_network_peering_name=peering_name, virtual_network_name=vnet_name,
                    resource_group_name=group, remote_virtual_network=network.SubResourceArgs(id=remote),
                    allow_virtual_network_access=True, allow_forwarded_traffic=False, allow_gateway_transit=False,
                    use_remote_gateways=False,
                    opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[pe]))

            hub = azure_native.Provider(f"{name}-hub-subscription", subscription_id=hub_sub,
                                        opts=pulumi.ResourceOptions(parent=self))
            self.hub_peerings = [
                peer(f"{name}-to-hub", f"{names.virtual_network}-to-{hub_name}", vnet.name, rg,
                     args.hub_vnet_id, None),
                peer(f"{name}-hub-to-spoke", f"{hub_name}-to-{names.virtual_network}", hub_name, hub_rg,
                     vnet.id, hub),
            ]

        self.vnet_id = vnet.id
        self.vnet_name = vnet.name
        self.host_subnet_id = host.id
        self.host_subnet_name = host.name.apply(lambda n: n or cfg.host_subnet_name)
        self.container_subnet_id = container.id
        self.container_subnet_name = container.name.apply(lambda n: n or cfg.container_subnet_name)
        self.private_endpoint_subnet_id = pe.id
        self.register_outputs({
            "vnetId": self.vnet_id, "hostSubnetId": self.host_subnet_id,
            "containerSubnetId": self.container_subnet_id, "privateEndpointSubnetId": pe.id,
        })
