"""Virtual network encryption: on where the stack turns it on, and never dropping a node's traffic.

Azure Virtual Network encryption encrypts traffic between VMs of supported sizes (D/E v4 and later, ...) with
Accelerated Networking; enforcement AllowUnencrypted lets VMs without support keep talking, DropUnencrypted drops
their traffic (Microsoft Learn, "What is Azure Virtual Network encryption?"). Azure Databricks nodes run on the
size a cluster picks, often one without support, so only AllowUnencrypted is safe; it is also the only value
supported at general availability (azure-mgmt-network VirtualNetworkEncryptionEnforcement). SAT has no check for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from infra.policy.rules import types as T
from infra.policy.rules.base import Finding, ResourceView, eq, is_unknown, resource_rule, shown, unknown

_DOCS = "Microsoft Learn, \"What is Azure Virtual Network encryption?\""
_SRA = "databricks/terraform-databricks-sra azure/tf/modules/virtual_network/main.tf (enforcement AllowUnencrypted)"
ALLOW = "AllowUnencrypted"
_REASON = {"reason": {"type": "string"}}  # why a stack runs without it (documentation, not read by the rule)


@resource_rule("vnet-encryption-enabled", "medium",
               "Virtual networks encrypt traffic between VMs (encryption.enabled true).", [T.VNET],
               source=f"{_DOCS}; {_SRA}", config_schema=_REASON)
def vnet_encrypted(res: ResourceView, _: Mapping[str, Any]) -> Iterator[Finding | str]:
    enabled = res.get("encryption.enabled")
    if is_unknown(enabled):
        yield unknown("encryption.enabled")
    elif enabled is not True:
        yield f"encryption.enabled is {shown(enabled)}: traffic between its VMs is not encrypted (network.encryption)"


@resource_rule("vnet-encryption-allows-unencrypted", "high",
               f"An encrypted virtual network sets enforcement {ALLOW}: VMs without encryption support (Databricks "
               "nodes may run on such sizes) keep their traffic.", [T.VNET], source=f"{_DOCS}; {_SRA}")
def vnet_encryption_never_drops(res: ResourceView, _: Mapping[str, Any]) -> Iterator[Finding | str]:
    if res.get("encryption.enabled") is not True:
        return
    enforcement = res.get("encryption.enforcement")
    if is_unknown(enforcement):
        yield unknown("encryption.enforcement")
    elif not eq(enforcement, ALLOW):
        yield (f"encryption.enforcement is {shown(enforcement)}; only {ALLOW!r} keeps the traffic of nodes on VM sizes "
               "without encryption support")
