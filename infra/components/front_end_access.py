"""The workspace front end accepts public traffic only from the configured source ranges (a private one keeps the
list as a second gate)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_databricks as dbx

# The label of the list that lets the deploy runner in: the deploy-readiness rules look for it.
DEPLOY_RUNNER_LABEL = "deploy-runner"


@dataclass(frozen=True)
class FrontEndAccessArgs:
    ip_ranges: tuple[str, ...]            # users' egress (workspaceSecurity.ipAccessList)
    deploy_runner_ranges: tuple[str, ...]  # where `pulumi up` runs from (deploy.runner.egressCidrs)
    provider: dbx.Provider  # the workspace-level provider


class FrontEndAccess(pulumi.ComponentResource):
    """mlops:platform:FrontEndAccess: one ALLOW list for users, one for the deploy runner, then enforcement.

    Once lists are enforced, every call from outside them is refused (403), the deploy's own later calls,
    refreshes and drift checks included, so the runner has its own list. Lists have no effect until the
    feature is switched on, and creating one that would block the caller fails (INVALID_STATE): both lists
    exist before `enableIpAccessLists` is set (Databricks CLI reference, ip-access-lists create).
    """

    def __init__(self, name: str, args: FrontEndAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:FrontEndAccess", name, None, opts)
        on = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.allow_list = dbx.IpAccessList(
            f"{name}-allow", label="allowed-egress", list_type="ALLOW", ip_addresses=list(args.ip_ranges),
            enabled=True, opts=on)
        # A runner behind a private front end comes over Private Link, which lists never filter (Microsoft
        # Learn, "Manage IP access lists"): it needs no list of its own there.
        self.runner_list = dbx.IpAccessList(
            f"{name}-deploy-runner", label=DEPLOY_RUNNER_LABEL, list_type="ALLOW",
            ip_addresses=list(args.deploy_runner_ranges), enabled=True, opts=on) if args.deploy_runner_ranges else None
        lists = [self.allow_list, *([self.runner_list] if self.runner_list else [])]
        self.enforcement = dbx.WorkspaceConf(
            f"{name}-enable", custom_config={"enableIpAccessLists": "true"},
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=lists))
        self.register_outputs({"allowListId": self.allow_list.id,
                               "deployRunnerListId": self.runner_list.id if self.runner_list else None})
