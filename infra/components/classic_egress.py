"""Controlled classic egress: the Databricks subnets leave through the hub's existing Azure Firewall.

The hub (its VNet, firewall and firewall policy) belongs to the hub team; this stack only adds what is its own,
as the SRA does for a bring-your-own hub (databricks/terraform-databricks-sra azure/tf/spoke.tf,
`create_spoke_firewall_rules` with `existing_firewall_policy_id`):

* a rule collection group on the hub's firewall policy, with the stack's Databricks subnets as sources:
  - network rules to the service tags Azure Databricks needs (Microsoft Learn, "User-defined route settings for
    Azure Databricks": AzureDatabricks, Sql, Storage, EventHub), on the ports the SRA opens
    (azure/tf/modules/hub/firewall.tf: Storage 443, Sql 3306, EventHub 9093) plus AzureDatabricks 443;
  - an application rule to the DNS names of securityPosture.egressAllowlist (HTTPS), the list the serverless
    network policy allows too;
* a route table for the host and container subnets: 0.0.0.0/0 to the firewall's private IP (VirtualAppliance, the
  SRA's only spoke route, `to-firewall`). No route to `Internet`: the subnets have default outbound access off and
  no NAT gateway, so such a route would drop what it matches; the back end is reached over private link (the UDR
  page: with Private Link the AzureDatabricks tag is not required), anything else through the firewall.

The peerings keep allowForwardedTraffic off, as the SRA's spoke peering does (azure/tf/modules/virtual_network/
peering.tf, provider defaults): the nodes send to the firewall's own address. The private-endpoint subnet gets no
route table, so the deploy runner's path to the private endpoints does not change.

Writing to the policy needs rights in the hub's resource group (Network Contributor on the policy, or
Microsoft.Network/firewallPolicies/ruleCollectionGroups/write); the policy's subscription comes from its id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native
from pulumi_azure_native import network

from infra.config.egress import parse_policy_id

HTTPS = 443
# (rule name, service tag, its region-scoped form?, protocol, ports): the SRA's network rules plus the control plane
# and Entra ID (the UDR page's AzureActiveDirectory tag: sign-ins from code on the nodes).
SERVICE_TAG_RULES: tuple[tuple[str, str, bool, str, tuple[str, ...]], ...] = (
    ("adb-control-plane", "AzureDatabricks", False, "TCP", ("443",)),
    ("entra-id", "AzureActiveDirectory", False, "TCP", ("443",)),
    ("adb-storage", "Storage", True, "TCP", ("443",)),
    ("adb-sql", "Sql", True, "TCP", ("3306",)),
    ("adb-eventhub", "EventHub", True, "TCP", ("9093",)),
)


def service_tag(tag: str, region: str | None) -> str:
    """`Storage.Eastus2`: a regional service tag in the SRA's form (azure/tf/modules/hub/locals.tf, title(location))."""
    return f"{tag}.{region.title()}" if region else tag


@dataclass(frozen=True)
class HubFirewallEgressArgs:
    stack_prefix: str                       # <prefix>-<stack>: names the route table and the rule collection group
    region: str
    firewall_private_ip: str
    firewall_policy_id: str
    priority: int                           # the rule collection group's priority in the hub's policy
    source_cidrs: Sequence[str]             # the Databricks host and container subnets
    allowed_domains: Sequence[str]          # securityPosture.egressAllowlist
    resource_group_name: pulumi.Input[str]  # this stack's: the route table lives here
    tags: dict[str, str]


class HubFirewallEgress(pulumi.ComponentResource):
    """mlops:platform:HubFirewallEgress: this stack's rules on the hub firewall and its Databricks route table."""

    route_table_id: pulumi.Output[str]
    rule_collection_group: network.FirewallPolicyRuleCollectionGroup

    def __init__(self, name: str, args: HubFirewallEgressArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:HubFirewallEgress", name, None, opts)
        policy_sub, policy_rg, policy_name = parse_policy_id(args.firewall_policy_id)
        hub = azure_native.Provider(f"{name}-policy-subscription", subscription_id=policy_sub,
                                    opts=pulumi.ResourceOptions(parent=self))
        sources = list(args.source_cidrs)
        network_rules = [
            network.NetworkRuleArgs(
                rule_type="NetworkRule", name=rule, source_addresses=sources,
                destination_addresses=[service_tag(tag, args.region if regional else None)],
                ip_protocols=[protocol], destination_ports=list(ports))
            for rule, tag, regional, protocol, ports in SERVICE_TAG_RULES]
        collections: list[network.FirewallPolicyFilterRuleCollectionArgs] = [
            network.FirewallPolicyFilterRuleCollectionArgs(
                rule_collection_type="FirewallPolicyFilterRuleCollection", name="databricks-service-tags",
                priority=100, action=network.FirewallPolicyFilterRuleCollectionActionArgs(type="Allow"),
                rules=network_rules)]
        if args.allowed_domains:
            collections.append(network.FirewallPolicyFilterRuleCollectionArgs(
                rule_collection_type="FirewallPolicyFilterRuleCollection", name="egress-allowlist",
                priority=200, action=network.FirewallPolicyFilterRuleCollectionActionArgs(type="Allow"),
                rules=[network.ApplicationRuleArgs(
                    rule_type="ApplicationRule", name="egress-allowlist", source_addresses=sources,
                    target_fqdns=list(args.allowed_domains),
                    protocols=[network.FirewallPolicyRuleApplicationProtocolArgs(protocol_type="Https",
                                                                                 port=HTTPS)])]))
        self.rule_collection_group = network.FirewallPolicyRuleCollectionGroup(
            f"{name}-rules", rule_collection_group_name=f"{args.stack_prefix}-databricks",
            firewall_policy_name=policy_name, resource_group_name=policy_rg, priority=args.priority,
            rule_collections=collections, opts=pulumi.ResourceOptions(parent=self, provider=hub))

        # Routes go live once the firewall allows what they send it.
        route_table = network.RouteTable(
            f"{name}-routes", route_table_name=f"{args.stack_prefix}-databricks-rt",
            resource_group_name=args.resource_group_name, location=args.region, tags=args.tags,
            # routes learned over BGP (a gateway in the hub) must not take the nodes around the firewall
            disable_bgp_route_propagation=True,
            routes=[
                network.RouteArgs(name="to-firewall", address_prefix="0.0.0.0/0",
                                  next_hop_type="VirtualAppliance", next_hop_ip_address=args.firewall_private_ip),
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.rule_collection_group]))
        self.route_table_id = route_table.id
        self.register_outputs({"routeTableId": route_table.id, "ruleCollectionGroupId": self.rule_collection_group.id})
