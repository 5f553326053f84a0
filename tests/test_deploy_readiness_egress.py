"""Deploy readiness of classic egress through the hub firewall: the Databricks subnets switch their default route to
the firewall only once this stack's rules are on its policy, and the workspace waits for the subnets.

Protects: the order holds in every stack's steady and first-deploy plans; rule `deploy-firewall-rules-before-routes`
fires on a copy of prod's plan with either wait removed, and has nothing to check without a route to a firewall.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.policy.offline import view_from_plan
from infra.policy.rules import RULES_BY_NAME
from tests.support import STACKS, first_deploy_plan_of, plan_of

RULE = "deploy-firewall-rules-before-routes"
HOST, CONTAINER = "network-host-subnet", "network-container-subnet"
GROUP, TABLE = "hub-firewall-egress-rules", "hub-firewall-egress-routes"


def _findings(doc: dict[str, Any]) -> list[str]:
    views = [view_from_plan(r) for r in doc["resources"] if r.get("custom", True)]
    return [f.message for f in RULES_BY_NAME[RULE].run_stack(views)]


def _named(doc: dict[str, Any], name: str) -> dict[str, Any]:
    (res,) = [r for r in doc["resources"] if r["name"] == name and r.get("custom", True)]
    return res


@pytest.mark.parametrize("first_deploy", [False, True], ids=["steady", "first-deploy"])
@pytest.mark.parametrize("stack", STACKS)
def test_routes_wait_for_the_firewall_rules_in_every_plan(stack: str, first_deploy: bool) -> None:
    plan = first_deploy_plan_of(stack) if first_deploy else plan_of(stack)
    assert _findings(plan.as_json()) == []


def test_prod_subnets_wait_for_the_rules_and_the_workspace_for_the_subnets() -> None:
    plan = plan_of("prod")
    rules, table = plan.one("azure-native:network:FirewallPolicyRuleCollectionGroup"), \
        plan.one("azure-native:network:RouteTable")
    assert rules.urn in table.dependencies
    host = next(s for s in plan.by_type("azure-native:network:Subnet") if s.name == HOST)
    assert {rules.urn, table.urn} <= set(host.dependencies)
    assert host.urn in plan.one("azure-native:databricks:Workspace").dependencies


def _without_wait(doc: dict[str, Any], name: str, on: str) -> None:
    res = _named(doc, name)
    res["dependencies"] = [d for d in res["dependencies"] if d != _named(doc, on)["urn"]]


def test_rule_fires_when_the_routes_do_not_wait_for_the_rules() -> None:
    doc = copy.deepcopy(plan_of("prod").as_json())
    _without_wait(doc, HOST, GROUP)
    assert _findings(doc) == []  # still waits through the route table
    _without_wait(doc, TABLE, GROUP)
    assert _findings(doc) == [
        f"Subnet {subnet} routes to the firewall without waiting for FirewallPolicyRuleCollectionGroup {GROUP}: until "
        "the rules exist the firewall denies the nodes' traffic (depends_on)" for subnet in (CONTAINER, HOST)]


def test_rule_fires_when_the_workspace_does_not_wait_for_the_routed_subnets() -> None:
    doc = copy.deepcopy(plan_of("prod").as_json())
    _without_wait(doc, "workspace", HOST)
    assert _findings(doc) == []  # still waits through the container subnet, which waits for the host subnet
    _without_wait(doc, "workspace", CONTAINER)
    assert _findings(doc) == [
        f"Workspace workspace does not wait for Subnet {subnet}: its first clusters could start before their egress "
        "is routed (depends_on)" for subnet in (CONTAINER, HOST)]


def test_rule_has_nothing_to_check_without_a_route_to_an_appliance() -> None:
    doc = copy.deepcopy(plan_of("prod").as_json())
    _without_wait(doc, TABLE, GROUP)
    _without_wait(doc, HOST, GROUP)
    _named(doc, TABLE)["inputs"]["routes"][0]["nextHopType"] = "VirtualNetworkGateway"  # no firewall to wait for
    assert _findings(doc) == []


def test_only_the_default_route_to_an_appliance_needs_the_rules_first() -> None:
    """A narrower route to the appliance (a spoke-to-spoke range) is not the nodes' egress."""
    doc = copy.deepcopy(plan_of("prod").as_json())
    _without_wait(doc, TABLE, GROUP)
    _without_wait(doc, HOST, GROUP)
    _named(doc, TABLE)["inputs"]["routes"][0]["addressPrefix"] = "10.200.0.0/16"
    assert _findings(doc) == []
