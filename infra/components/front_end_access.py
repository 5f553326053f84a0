"""A public workspace front end (dev/test only) accepts only the configured source ranges."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_databricks as dbx


@dataclass(frozen=True)
class FrontEndAccessArgs:
    ip_ranges: tuple[str, ...]
    provider: dbx.Provider  # the workspace-level provider


class FrontEndAccess(pulumi.ComponentResource):
    """mlops:platform:FrontEndAccess: IP access lists switched on, with one ALLOW list.

    The deployer's own egress must be in the list too, or later API calls to the workspace are refused.
    """

    def __init__(self, name: str, args: FrontEndAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:FrontEndAccess", name, None, opts)
        on = pulumi.ResourceOptions(parent=self, provider=args.provider)
        conf = dbx.WorkspaceConf(f"{name}-enable", custom_config={"enableIpAccessLists": "true"}, opts=on)
        self.allow_list = dbx.IpAccessList(
            f"{name}-allow", label="allowed-egress", list_type="ALLOW", ip_addresses=list(args.ip_ranges),
            enabled=True, opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[conf]))
        self.register_outputs({"allowListId": self.allow_list.id})
