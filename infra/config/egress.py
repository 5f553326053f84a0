"""Config of classic compute's egress (NAT gateway or the hub's Azure Firewall) and of VNet encryption.

The hub VNet is an existing one (deploy.runner.hubVnetId), and so is its firewall: the stack references the hub's
firewall by its private IP and its firewall policy, and declares only what is its own (a rule collection group on
that policy, and the route table of its Databricks subnets). docs/security-posture.md says why.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from infra.config.base import StrictModel
from infra.config.types import ipv4_network

if TYPE_CHECKING:
    from infra.config.model import StackConfig

Egress = Literal["natGateway", "firewall"]

# ARM ids are case-insensitive; a firewall policy is Microsoft.Network/firewallPolicies/<name>.
_POLICY_ID = re.compile(
    r"^/subscriptions/(?P<sub>[0-9a-fA-F-]{36})/resourceGroups/(?P<rg>[-\w._()]{1,90})/providers/"
    r"Microsoft\.Network/firewallPolicies/(?P<name>[-\w._]{1,80})$", re.IGNORECASE)

# The address ranges a firewall's private IP can come from (RFC 1918).
_PRIVATE = tuple(ipaddress.IPv4Network(r) for r in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))

# Rule collection group priorities Azure accepts (terraform-provider-azurerm
# internal/services/firewall/firewall_policy_rule_collection_group_resource.go: IntBetween(100, 65000)).
MIN_PRIORITY, MAX_PRIORITY = 100, 65000


def parse_policy_id(policy_id: str) -> tuple[str, str, str]:
    """A firewall policy's ARM id -> (subscription, resource group, name); validated in config."""
    found = _POLICY_ID.match(policy_id)
    assert found is not None, policy_id
    return found["sub"], found["rg"], found["name"]


class HubFirewallConfig(StrictModel):
    """The hub's existing Azure Firewall that classic compute leaves through (network.egress `firewall`)."""

    private_ip: str
    """Private IPv4 address of the hub's Azure Firewall (its ipConfigurations' privateIPAddress): the next hop of the
    Databricks subnets' default route."""
    policy_id: str
    """ARM id of the hub firewall's policy; this stack adds its own rule collection group to it (needs write access to
    the policy's rule collection groups)."""
    priority: int = Field(default=300, ge=MIN_PRIORITY, le=MAX_PRIORITY)
    """Priority of this stack's rule collection group in the hub's policy (100-65000, lower is evaluated first); each
    stack sharing the policy needs its own; ask the hub team which is free."""

    @field_validator("private_ip")
    @classmethod
    def _private_ip(cls, v: str) -> str:
        try:
            address = ipaddress.IPv4Address(v)
        except ValueError:
            raise ValueError("is not an IPv4 address; allowed: the firewall's private IP, e.g. '10.100.0.4'") from None
        if not any(address in net for net in _PRIVATE):
            raise ValueError("is not a private address; allowed: the firewall's private IP in the hub VNet "
                             "(10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)")
        return v

    @field_validator("policy_id")
    @classmethod
    def _policy(cls, v: str) -> str:
        if not _POLICY_ID.match(v):
            raise ValueError("is not the ARM id of a firewall policy; allowed: /subscriptions/<uuid>/resourceGroups/"
                             "<rg>/providers/Microsoft.Network/firewallPolicies/<name>")
        return v


def classic_egress(config: StackConfig) -> Egress:
    """How classic compute leaves: as declared, else the hub firewall in prod when a hub is configured."""
    declared = config.network.egress
    if declared is not None:
        return declared
    return "firewall" if config.is_prod and config.deploy.runner.hub_vnet_id else "natGateway"


def vnet_encrypted(config: StackConfig) -> bool:
    """VNet encryption: as declared, else on in prod."""
    declared = config.network.encryption
    return config.is_prod if declared is None else declared


def stack_problems(config: StackConfig) -> list[tuple[str, Any, str]]:
    """Rules across network, deploy and the stack: the firewall needs the hub; prod controls its egress."""
    net, hub = config.network, config.deploy.runner.hub_vnet_id
    egress = classic_egress(config)
    problems: list[tuple[str, Any, str]] = []
    if egress == "firewall":
        if hub is None:
            problems.append(("network.egress", "firewall",
                             "needs deploy.runner.hubVnetId: the firewall is the hub's, reached over the peering; "
                             "allowed without a hub: 'natGateway'"))
        if net.firewall is None:
            problems.append(("network.firewall", None,
                             "is required with network.egress 'firewall': set privateIp and policyId of the hub's "
                             "Azure Firewall"))
        elif ipaddress.IPv4Address(net.firewall.private_ip) in ipv4_network(net.vnet_cidr):
            problems.append(("network.firewall.privateIp", net.firewall.private_ip,
                             f"is inside this stack's vnetCidr {net.vnet_cidr!r}; allowed: the firewall's address in "
                             "the hub VNet"))
    elif net.firewall is not None:
        problems.append(("network.firewall", "set",
                         "is only used with network.egress 'firewall'; remove it, or set network.egress 'firewall'"))
    if config.is_prod and hub is not None and egress != "firewall":
        problems.append(("network.egress", egress,
                         "is not allowed in prod with a hub: allowed: 'firewall' (classic compute leaves through the "
                         "hub's firewall, SAT NS-14)"))
    if config.is_prod and net.encryption is False:
        problems.append(("network.encryption", False,
                         "is not allowed in prod: allowed: true (AllowUnencrypted never drops a node's traffic)"))
    return problems
