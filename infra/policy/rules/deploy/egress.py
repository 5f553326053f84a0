"""Deploy-readiness rules (egress): classic compute's route to the hub firewall goes live only once the firewall
lets its traffic through, and before the workspace starts its first cluster.

A subnet whose 0.0.0.0/0 points at the firewall sends every node's traffic there from the moment the route table is
associated; until this stack's rule collection group is on the firewall policy, the firewall denies it (an Azure
Firewall denies what no rule allows: Microsoft Learn, "Azure Firewall rule processing logic"), and clusters that
start in between fail to reach the control plane's dependencies. The workspace, in turn, must wait for its subnets.
Matched by ids when known and by the dependency graph otherwise, as the other deploy rules.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from infra.policy.rules import types as T
from infra.policy.rules.base import Finding, ResourceView, get, stack_rule
from infra.policy.rules.sat import ROUTE_TABLE, RULE_COLLECTION_GROUP, databricks_subnets, route_table, routes
from infra.policy.rules.stack import closure, label, of_type

Views = Sequence[ResourceView]


@stack_rule("deploy-firewall-rules-before-routes", "high",
            "A Databricks subnet that routes 0.0.0.0/0 to a firewall waits for this stack's firewall rule collection "
            "groups, and the workspace waits for the subnet.",
            source="Microsoft Learn, \"Azure Firewall rule processing logic\" (deny unless a rule allows); "
                   "\"User-defined route settings for Azure Databricks\"")
def firewall_rules_before_routes(views: Views, _: Mapping[str, Any]) -> Iterator[Finding]:
    tables, groups = of_type(views, ROUTE_TABLE), of_type(views, RULE_COLLECTION_GROUP)
    if not tables:
        return
    by_urn = {v.urn: v for v in views}
    routed = []
    for subnet in databricks_subnets(views):
        table = route_table(subnet, tables)
        if table is None or not any(r.get("addressPrefix") == "0.0.0.0/0" and get(r, "nextHopType") ==
                                    "VirtualAppliance" for r in routes(table, views)):
            continue
        routed.append(subnet)
        waits = closure(subnet, by_urn)
        for group in groups:
            if group.urn not in waits:
                yield Finding(f"{label(subnet)} routes to the firewall without waiting for {label(group)}: until the "
                              "rules exist the firewall denies the nodes' traffic (depends_on)", subnet.urn)
    for ws in of_type(views, T.WORKSPACE):
        waits = closure(ws, by_urn)
        for subnet in routed:
            if subnet.urn not in waits:
                yield Finding(f"{label(ws)} does not wait for {label(subnet)}: its first clusters could start before "
                              "their egress is routed (depends_on)", ws.urn)
