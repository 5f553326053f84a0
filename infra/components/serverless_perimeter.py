"""The serverless perimeter: an account network policy bound to the workspace.

Serverless compute runs in Databricks' network; without a policy of its own a workspace uses the account's
`default-policy`, which allows any destination. This policy (as the SRA's azure/tf/modules/hub/serverless.tf
`restrictive_network_policy`) restricts egress to the allowlist (the same DNS names the classic firewall
allows, as the SRA's azure/tf/spoke.tf derives its policy from `allowed_fqdns`) and the stack's storage
accounts, and restricts public ingress (context-based ingress) to the ranges the IP access lists allow. The
network connectivity config (infra/components/serverless_network.py) stays its base: private endpoints to the
storage are how serverless reaches them.

Rolled out dry-run first: DRY_RUN only logs what ENFORCED would block (egress `policy_enforcement`;
ingress as `ingress_dry_run` instead of `ingress`). Fields, each from terraform-provider-databricks
internal/providers/pluginfw/products/account_network_policy/resource_account_network_policy.go (the schema
docs/resources/account_network_policy.md documents): egress.network_access.restriction_mode FULL_ACCESS |
RESTRICTED_ACCESS; allowed_internet_destinations[].internet_destination_type DNS_NAME (the only type);
allowed_storage_destinations[] azure_storage_account + azure_storage_service + storage_destination_type
AZURE_STORAGE; policy_enforcement.enforcement_mode DRY_RUN | ENFORCED; ingress.public_access.restriction_mode
FULL_ACCESS | RESTRICTED_ACCESS with allow_rules[].origin.included_ip_ranges (no private ranges) and
destination.all_destinations. The binding is workspace_network_option (network_policy_id + workspace_id); its
Delete is a no-op (resource_workspace_network_option.go), so a destroyed stack leaves its workspace bound until
the workspace goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_databricks as dbx

STORAGE_SERVICES = ("dfs", "blob")


@dataclass(frozen=True)
class ServerlessPerimeterArgs:
    policy_id: str                          # the network policy's id (account-wide unique)
    workspace_numeric_id: pulumi.Input[str]
    allowed_domains: Sequence[str]          # DNS names serverless may reach (securityPosture.egressAllowlist)
    storage_accounts: Sequence[str]         # storage account names reached over dfs and blob
    enforce: bool                           # False: DRY_RUN (logs, never blocks)
    restrict_ingress: bool                  # context-based ingress on the public front end
    ingress_ranges: Sequence[str]           # public ranges allowed in (the IP access lists' ranges)
    account_provider: dbx.Provider
    # What serverless needs before the policy narrows it: the NCC binding and its private endpoint rules.
    depends_on: Sequence[pulumi.Resource] = ()


def _ingress(ranges: Sequence[str]) -> dbx.AccountNetworkPolicyIngressArgs:
    """Public access restricted to `ranges` (none: no public access at all), every destination."""
    rules = [dbx.AccountNetworkPolicyIngressPublicAccessAllowRuleArgs(
        label="ip-access-list",
        origin=dbx.AccountNetworkPolicyIngressPublicAccessAllowRuleOriginArgs(
            included_ip_ranges=dbx.AccountNetworkPolicyIngressPublicAccessAllowRuleOriginIncludedIpRangesArgs(
                ip_ranges=list(ranges))),
        destination=dbx.AccountNetworkPolicyIngressPublicAccessAllowRuleDestinationArgs(all_destinations=True))
    ] if ranges else []
    return dbx.AccountNetworkPolicyIngressArgs(public_access=dbx.AccountNetworkPolicyIngressPublicAccessArgs(
        restriction_mode="RESTRICTED_ACCESS", allow_rules=rules))


def _ingress_dry_run(ranges: Sequence[str]) -> dbx.AccountNetworkPolicyIngressDryRunArgs:
    """The same policy, evaluated and logged only (the dry-run field has its own types)."""
    rules = [dbx.AccountNetworkPolicyIngressDryRunPublicAccessAllowRuleArgs(
        label="ip-access-list",
        origin=dbx.AccountNetworkPolicyIngressDryRunPublicAccessAllowRuleOriginArgs(
            included_ip_ranges=dbx.AccountNetworkPolicyIngressDryRunPublicAccessAllowRuleOriginIncludedIpRangesArgs(
                ip_ranges=list(ranges))),
        destination=dbx.AccountNetworkPolicyIngressDryRunPublicAccessAllowRuleDestinationArgs(all_destinations=True))
    ] if ranges else []
    return dbx.AccountNetworkPolicyIngressDryRunArgs(
        public_access=dbx.AccountNetworkPolicyIngressDryRunPublicAccessArgs(
            restriction_mode="RESTRICTED_ACCESS", allow_rules=rules))


class ServerlessPerimeter(pulumi.ComponentResource):
    """mlops:platform:ServerlessPerimeter: the restricted network policy and the workspace's binding to it."""

    policy: dbx.AccountNetworkPolicy
    binding: dbx.WorkspaceNetworkOption

    def __init__(self, name: str, args: ServerlessPerimeterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:ServerlessPerimeter", name, None, opts)
        account = pulumi.ResourceOptions(parent=self, provider=args.account_provider, depends_on=list(args.depends_on))
        egress = dbx.AccountNetworkPolicyEgressArgs(
            network_access=dbx.AccountNetworkPolicyEgressNetworkAccessArgs(
                restriction_mode="RESTRICTED_ACCESS",
                allowed_internet_destinations=[
                    dbx.AccountNetworkPolicyEgressNetworkAccessAllowedInternetDestinationArgs(
                        destination=d, internet_destination_type="DNS_NAME") for d in args.allowed_domains],
                allowed_storage_destinations=[
                    dbx.AccountNetworkPolicyEgressNetworkAccessAllowedStorageDestinationArgs(
                        azure_storage_account=account_name, azure_storage_service=service,
                        storage_destination_type="AZURE_STORAGE")
                    for account_name in args.storage_accounts for service in STORAGE_SERVICES],
                policy_enforcement=dbx.AccountNetworkPolicyEgressNetworkAccessPolicyEnforcementArgs(
                    enforcement_mode="ENFORCED" if args.enforce else "DRY_RUN")))
        restrict, enforce = args.restrict_ingress, args.enforce
        self.policy = dbx.AccountNetworkPolicy(
            f"{name}-policy", network_policy_id=args.policy_id, egress=egress,
            ingress=_ingress(args.ingress_ranges) if restrict and enforce else None,
            ingress_dry_run=_ingress_dry_run(args.ingress_ranges) if restrict and not enforce else None,
            opts=account)
        self.binding = dbx.WorkspaceNetworkOption(
            f"{name}-binding", network_policy_id=self.policy.network_policy_id,
            workspace_id=args.workspace_numeric_id, opts=account)
        self.register_outputs({"networkPolicyId": args.policy_id, "enforced": args.enforce})
