"""Serverless network access: the workspace's serverless compute reaches the storage Unity Catalog reads.

Serverless compute (the SQL warehouse behind alerts and dashboards, model serving, monitor refreshes,
serverless jobs) runs in Databricks' network, not in this stack's VNet. A storage account whose public access
is disabled (prod) or whose firewall denies by default (every lake here) is reachable from it only through a
network connectivity config (NCC) bound to the workspace, with a private-endpoint rule per storage account and
sub-resource (dfs for abfss://, blob for the blob API), each approved on the storage account
(docs/resources/mws_ncc_private_endpoint_rule.md: "rules are effective only if the connection state is
ESTABLISHED ... you must approve new endpoints on your resources"). Without it model serving cannot load its
model: the provider waits up to 45 minutes for the endpoint, then deletes it (serving/resource_model_serving.go).

Approval. The SRA (azure/tf/modules/self-approving-pe) reads the storage account's privateEndpointConnections
after creating the rule, picks the one whose private endpoint id ends with the rule's `endpoint_name`, and PUTs
it as Approved with azapi_update_resource. azure-native has no update-only resource: its Create first GETs the
connection and refuses one that exists ("cannot create already existing resource", pulumi-azure-native
provider.go defaultCreate -> CanCreate), and the connection always exists because Databricks created it. So the
approval is one documented command per connection (README "Serverless access to the lakes"; the stack output
`serverlessPrivateEndpoints` lists them), and what needs it is gated: `ready()` reads the storage account's
connections at `up` (the SRA's lookup) and stops the run with that command when one is not Approved, before any
serving endpoint, monitor, alert or serverless job is created.

Targets are a sequence of (label, storage account ARM id): the lake today; the workspace's own (DBFS) storage
account is one more entry.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import pulumi
import pulumi_databricks as dbx
from pulumi_azure_native import storage

SUB_RESOURCES = ("dfs", "blob")
APPROVED = "Approved"


class StorageTarget(NamedTuple):
    label: str                      # short, unique: names the rules ("lake", "dbfs")
    account_id: pulumi.Input[str]   # the storage account's ARM id


@dataclass(frozen=True)
class ServerlessNetworkArgs:
    name: str                                   # NCC name, 3-30 characters (mws_network_connectivity_config)
    region: str                                 # the workspace's region: an NCC binds only in its region
    workspace_numeric_id: pulumi.Input[str]
    account_provider: dbx.Provider              # NCC, rules and binding are account-level
    targets: Sequence[StorageTarget | tuple[str, pulumi.Input[str]]]


def account_parts(account_id: str) -> tuple[str, str]:
    """/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/name -> (rg, name)."""
    parts = account_id.split("/")
    lower = [p.lower() for p in parts]
    try:
        return parts[lower.index("resourcegroups") + 1], parts[lower.index("storageaccounts") + 1]
    except (ValueError, IndexError):
        raise ValueError(f"{account_id!r} is not a storage account's ARM id") from None


def approval_command(connection_id: str, ncc_name: str) -> str:
    return (f"az network private-endpoint-connection approve --id {connection_id} "
            f"--description 'Databricks serverless (NCC {ncc_name})'")


def check_approved(label: str, group: str, account_name: str, endpoint_name: str, ncc_name: str,
                   connections: Sequence[Any]) -> str:
    """The approved connection's id; raises with the exact next step when there is none yet."""
    mine = [c for c in connections
            if str(_get(_get(c, "private_endpoint"), "id") or "").lower().endswith("/" + endpoint_name.lower())]
    where = f"serverless private endpoint {label}/{group} (NCC {ncc_name}, endpoint {endpoint_name})"
    if not mine:
        raise RuntimeError(f"{where} has no private endpoint connection on storage account {account_name} yet "
                           "(Databricks creates it asynchronously); run `pulumi up` again in a few minutes")
    conn = mine[0]
    status = _get(_get(conn, "private_link_service_connection_state"), "status")
    if status != APPROVED:
        raise RuntimeError(f"{where} is {status or 'unknown'} on storage account {account_name}; approve it, then run "
                           f"`pulumi up` again: {approval_command(str(_get(conn, 'id')), ncc_name)}")
    return str(_get(conn, "id"))


def _approval_entry(label: str, group: str, values: Sequence[Any]) -> dict[str, Any]:
    """One `serverlessPrivateEndpoints` entry: which connection on which storage account to approve."""
    account_id, endpoint_name, rule_id = values
    return {"label": label, "groupId": group, "storageAccountId": account_id, "endpointName": endpoint_name,
            "ruleId": rule_id}


def _get(obj: Any, key: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        camel = key.split("_")[0] + "".join(w.title() for w in key.split("_")[1:])
        return obj.get(key, obj.get(camel))
    return getattr(obj, key, None)


class ServerlessNetwork(pulumi.ComponentResource):
    """mlops:platform:ServerlessNetwork: NCC, dfs + blob private-endpoint rules per storage target, binding."""

    ncc: dbx.MwsNetworkConnectivityConfig
    rules: dict[tuple[str, str], dbx.MwsNccPrivateEndpointRule]
    binding: dbx.MwsNccBinding
    outputs: list[pulumi.Output[dict[str, Any]]]

    def __init__(self, name: str, args: ServerlessNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:ServerlessNetwork", name, None, opts)
        if not 3 <= len(args.name) <= 30:
            raise ValueError(f"NCC name {args.name!r} must have 3 to 30 characters")
        self._args = args
        self._ready: list[pulumi.Input[pulumi.Resource]] | None = None
        account = pulumi.ResourceOptions(parent=self, provider=args.account_provider)
        self.ncc = dbx.MwsNetworkConnectivityConfig(f"{name}-ncc", name=args.name, region=args.region, opts=account)
        self.targets = [StorageTarget(*t) for t in args.targets]
        labels = [t.label for t in self.targets]
        if len(set(labels)) != len(labels):
            raise ValueError(f"storage target labels must be unique: {labels}")
        self.rules = {}
        for target in self.targets:
            for group in SUB_RESOURCES:
                self.rules[(target.label, group)] = dbx.MwsNccPrivateEndpointRule(
                    f"{name}-{target.label}-{group}",
                    network_connectivity_config_id=self.ncc.network_connectivity_config_id,
                    resource_id=target.account_id, group_id=group, opts=account)
        self.binding = dbx.MwsNccBinding(
            f"{name}-binding", network_connectivity_config_id=self.ncc.network_connectivity_config_id,
            workspace_id=args.workspace_numeric_id, opts=account)
        self.outputs = [
            pulumi.Output.all(target.account_id, rule.endpoint_name, rule.rule_id).apply(
                functools.partial(_approval_entry, target.label, group))
            for target in self.targets for group in SUB_RESOURCES
            for rule in [self.rules[(target.label, group)]]]
        self.register_outputs({"nccName": args.name, "rules": sorted(f"{t}/{g}" for t, g in self.rules)})

    def ready(self) -> list[pulumi.Input[pulumi.Resource]]:
        """What a serverless consumer depends on: the binding, every rule, and each rule's approval check.

        Built on first use, so a stack without consumers (a first deploy) never reads the connections and
        is not stopped by pending approvals.
        """
        if self._ready is None:
            checks: list[pulumi.Input[pulumi.Resource]] = []
            for target in self.targets:
                for group in SUB_RESOURCES:
                    checks.append(self._approval(target, group, self.rules[(target.label, group)]))
            self._ready = [self.binding, *self.rules.values(), *checks]
        return self._ready

    def _approval(self, target: StorageTarget, group: str,
                  rule: dbx.MwsNccPrivateEndpointRule) -> pulumi.Output[pulumi.Resource]:
        # The read waits for the rule (its endpoint_name), as the SRA's data source depends_on the rule.
        located = pulumi.Output.all(target.account_id, rule.endpoint_name).apply(
            lambda v: (*account_parts(str(v[0])), str(v[1])))
        account = storage.get_storage_account_output(
            resource_group_name=located.apply(lambda v: v[0]), account_name=located.apply(lambda v: v[1]),
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[rule]))
        ncc_name = self._args.name

        def check(v: list[Any]) -> pulumi.Resource:
            (_, account_name, endpoint_name), connections = v
            check_approved(target.label, group, account_name, endpoint_name, ncc_name, connections or [])
            return rule

        return pulumi.Output.all(located, account.private_endpoint_connections).apply(check)
