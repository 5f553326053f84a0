"""Where and how `pulumi up` runs: the deploy runner's network and egress, and the first-deploy switch.

Workspace-level Databricks calls (cluster policies, grants, settings, ...) go to the workspace's front end
from the machine that runs `pulumi up`. A private front end is reachable only from a network that has a
private endpoint to it and resolves its private DNS zone; a public front end with an IP access list only from
the listed ranges. So the program has to know where the deploy runs (docs/first-deploy.md).
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from infra.config import security
from infra.config.base import StrictModel

if TYPE_CHECKING:
    from infra.config.model import StackConfig

_VNET_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]{1,90}/providers/Microsoft\.Network/"
    r"virtualNetworks/[-\w._]{2,64}$")


# An existing privatelink.azuredatabricks.net zone (deploy.runner.hubDnsZone); ARM ids are case-insensitive.
_DNS_ZONE_ID = re.compile(
    r"^/subscriptions/[0-9a-f-]{36}/resourceGroups/[-\w._()]{1,90}/providers/Microsoft\.Network/"
    r"privateDnsZones/(?P<zone>[^/]+)$", re.IGNORECASE)
HUB_ZONE_NAME = "privatelink.azuredatabricks.net"
HUB_ZONE_LINK = "link"


# Ranges that never appear as a source address on the internet (RFC 1918, loopback, link-local, CGNAT).
_NOT_EGRESS = tuple(ipaddress.IPv4Network(r) for r in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10"))


class DeployRunnerConfig(StrictModel):
    """The runner (self-hosted agent or managed DevOps pool) that runs `pulumi preview/up` for this stack."""

    # ARM id of the hub VNet the runner sits in. The stack peers its VNet with it and links the private DNS
    # zone of the workspace front end to it, so a private front end is reachable from the runner.
    hub_vnet_id: str | None = None
    """ARM id of the hub VNet the deploy runner sits in; the stack peers its VNet with it and links the workspace's
    private DNS zone to it, so a private front end is reachable. Required when workspace.publicNetworkAccess is
    `Disabled`."""
    # The runner's public egress (e.g. the hub's NAT gateway address), one CIDR each. A public front end
    # with IP access lists must allow it, or every call after the list exists is refused (403).
    egress_cidrs: list[str] = Field(default_factory=list)
    """The runner's public egress ranges (e.g. the hub NAT gateway's address); added to the workspace IP access list so
    the deploy's own calls are not refused. Required with workspaceSecurity.ipAccessList."""

    # Azure links a VNet to at most one private DNS zone of a given name, and an enterprise hub usually links its
    # own privatelink.azuredatabricks.net already: then this stack must not link a second one to it, but put the
    # workspace's records into the hub's zone (components/private_link.py).
    hub_dns_zone: str = HUB_ZONE_LINK
    """How the hub resolves the workspace's private front end: `link` (default) links this stack's
    privatelink.azuredatabricks.net zone to the hub VNet; the ARM id of the hub's existing
    privatelink.azuredatabricks.net zone (a hub VNet can be linked to only one zone of that name) instead registers
    the workspace's private endpoints in that zone and links it to this stack's VNet, and this stack creates no zone
    of that name and no hub link. Only with hubVnetId."""

    @field_validator("hub_dns_zone")
    @classmethod
    def _hub_zone(cls, v: str) -> str:
        if v == HUB_ZONE_LINK:
            return v
        found = _DNS_ZONE_ID.match(v)
        if found is None:
            raise ValueError(f"must be {HUB_ZONE_LINK!r} or the ARM id of the hub's existing {HUB_ZONE_NAME} zone: "
                             "/subscriptions/<uuid>/resourceGroups/<rg>/providers/Microsoft.Network/privateDnsZones/"
                             f"{HUB_ZONE_NAME}")
        if found["zone"].lower() != HUB_ZONE_NAME:
            raise ValueError(f"names zone {found['zone']!r}; the workspace's front end resolves in {HUB_ZONE_NAME}, "
                             "so the hub zone must be that one")
        return v

    @field_validator("hub_vnet_id")
    @classmethod
    def _vnet_id(cls, v: str | None) -> str | None:
        if v is not None and not _VNET_ID.match(v):
            raise ValueError("must be a virtual network's ARM id: /subscriptions/<uuid>/resourceGroups/<rg>/"
                             "providers/Microsoft.Network/virtualNetworks/<name>")
        return v

    @field_validator("egress_cidrs")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        for cidr in v:
            try:
                net = ipaddress.ip_network(cidr, strict=True)
            except ValueError:
                raise ValueError(f"has {cidr!r}, which is not an IPv4 CIDR such as '203.0.113.10/32'") from None
            if net.version != 4 or any(net.subnet_of(r) for r in _NOT_EGRESS):
                raise ValueError(f"has {cidr!r}; a runner's egress is a public IPv4 range (private ranges "
                                 "never reach a public front end)")
        return v

    @field_validator("egress_cidrs")
    @classmethod
    def _access_list_entries(cls, v: list[str]) -> list[str]:
        # These entries join the workspace's IP access list, which takes IPv4 addresses and CIDR ranges only.
        for cidr in v:
            problem = security.access_list_entry_problem(cidr)
            if problem:
                raise ValueError(f"has {cidr!r}, which {problem}")
        return v

    @property
    def hub_resource_group(self) -> str | None:
        return self.hub_vnet_id.split("/")[4] if self.hub_vnet_id else None

    @property
    def hub_vnet_name(self) -> str | None:
        return self.hub_vnet_id.rsplit("/", 1)[-1] if self.hub_vnet_id else None

    @property
    def hub_zone_id(self) -> str | None:
        """The hub's existing privatelink.azuredatabricks.net zone the workspace's records go into, if any."""
        return self.hub_dns_zone if self.hub_vnet_id and self.hub_dns_zone != HUB_ZONE_LINK else None

    @property
    def links_hub_zone(self) -> bool:
        """This stack links its own privatelink.azuredatabricks.net zone to the hub VNet."""
        return self.hub_vnet_id is not None and self.hub_dns_zone == HUB_ZONE_LINK


class DeployConfig(StrictModel):
    """How this stack is deployed."""

    runner: DeployRunnerConfig = DeployRunnerConfig()
    """The runner (self-hosted agent or managed DevOps pool) that runs `pulumi preview/up` for this stack."""
    # The first `pulumi up` of a stack from nothing: what cannot exist yet is left out (serving endpoints and
    # monitors, whose model versions and tables come later) and two-step encryption runs its first step.
    # Remove it for the second `up`. `mlopsctl plan --first-deploy` plans it offline.
    first_deploy: bool = False
    """Set for the first `pulumi up` of a stack from nothing: leaves out serving endpoints and monitors and runs the
    first step of DBFS root encryption; remove it for the second `up`."""


def stack_problems(config: StackConfig) -> list[tuple[str, Any, str]]:
    """The runner must be able to reach the workspace it deploys to."""
    problems: list[tuple[str, Any, str]] = []
    runner = config.deploy.runner
    if config.workspace.public_network_access == "Disabled" and runner.hub_vnet_id is None:
        problems.append(("deploy.runner.hubVnetId", None,
                         "is required when workspace.publicNetworkAccess is 'Disabled': a private front end is "
                         "reachable only from a network peered with this VNet (the deploy runner's hub VNet)"))
    if runner.hub_dns_zone != HUB_ZONE_LINK and runner.hub_vnet_id is None:
        problems.append(("deploy.runner.hubDnsZone", runner.hub_dns_zone,
                         "names a hub zone, but deploy.runner.hubVnetId is not set: the hub's zone serves a runner "
                         "in a hub VNet this stack is peered with; set hubVnetId or remove hubDnsZone"))
    if runner.hub_dns_zone != HUB_ZONE_LINK and not config.private_link.manage_dns_zone_groups:
        problems.append(("deploy.runner.hubDnsZone", runner.hub_dns_zone,
                         "needs privateLink.manageDnsZoneGroups true: the workspace's endpoints are registered in "
                         "the hub's zone through their DNS zone groups, which Pulumi then does not create"))
    if config.workspace.public_network_access == "Enabled" and config.workspace_security.ip_access_list \
            and not runner.egress_cidrs:
        problems.append(("deploy.runner.egressCidrs", [],
                         "is required with workspaceSecurity.ipAccessList: list the deploy runner's public "
                         "egress, or the workspace refuses the deploy's own calls once the list exists"))
    return problems
