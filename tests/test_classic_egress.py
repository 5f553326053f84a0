"""Controlled classic egress (the hub's Azure Firewall) and VNet encryption.

Protects: each stack's Databricks subnets leave the way its config says (prod: the route table to the hub firewall,
no NAT gateway; dev/test: the NAT gateway); the firewall rules carry the Databricks service tags and the same
allowlist the serverless network policy allows; VNet encryption is on in prod with AllowUnencrypted; every new
config refusal by its message; rule SAT NS-14 and the VNet encryption rules both ways, with their alternatives.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.config.egress import classic_egress, vnet_encrypted
from infra.policy.offline import view_from_plan
from infra.policy.rules import RULES_BY_NAME
from infra.policy.rules.base import UNKNOWN
from tests.support import DELETE, STACKS, config_problems, plan_of, with_changes

RT = "azure-native:network:RouteTable"
RCG = "azure-native:network:FirewallPolicyRuleCollectionGroup"
NAT = "azure-native:network:NatGateway"
SUBNET = "azure-native:network:Subnet"
VNET = "azure-native:network:VirtualNetwork"
POLICY = "databricks:index/accountNetworkPolicy:AccountNetworkPolicy"
NS14 = "sat-ns-14-classic-egress-controlled"
HUB_POLICY = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/mlops-hub-rg/providers/"
              "Microsoft.Network/firewallPolicies/mlops-hub-fw-policy")


def _of(doc: dict[str, Any], typ: str) -> list[dict[str, Any]]:
    return [r for r in doc["resources"] if r["type"] == typ]


def _databricks_subnets(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _of(doc, SUBNET) if s["inputs"].get("delegations")]


# --- each stack's plan ------------------------------------------------------------------------------------

# stack -> (classic egress, VNet encrypted)
EXPECTED = {"dev": ("natGateway", False), "test": ("natGateway", False), "prod": ("firewall", True)}


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_leaves_and_encrypts_as_configured(stack: str) -> None:
    from infra.config import load_stack
    egress, encrypted = EXPECTED[stack]
    config = load_stack(stack)
    assert (classic_egress(config), vnet_encrypted(config)) == EXPECTED[stack]
    doc = plan_of(stack).as_json()
    tables, nats = _of(doc, RT), _of(doc, NAT)
    assert (len(tables), len(nats)) == ((1, 0) if egress == "firewall" else (0, 1))
    for subnet in _databricks_subnets(doc):
        attached = subnet["inputs"].get("routeTable", subnet["inputs"].get("natGateway"))
        assert attached == {"id": (tables or nats)[0]["id"]}, subnet["name"]
        assert not ("routeTable" in subnet["inputs"] and "natGateway" in subnet["inputs"])
    (vnet,) = _of(doc, VNET)
    assert vnet["inputs"].get("encryption") == (
        {"enabled": True, "enforcement": "AllowUnencrypted"} if encrypted else None)


def test_prod_routes_everything_to_the_hub_firewall() -> None:
    """No route may send the nodes to `Internet`: their subnets have default outbound access off and no NAT
    gateway, so such a route has no way out and drops the traffic (Microsoft Learn, "Default outbound access in
    Azure"); with the back end over private link the AzureDatabricks tag needs no route of its own ("User-defined
    route settings for Azure Databricks"). The SRA's spoke has only its `to-firewall` route."""
    (table,) = _of(plan_of("prod").as_json(), RT)
    assert table["inputs"]["routeTableName"] == "mlops-prod-databricks-rt"
    assert table["inputs"]["disableBgpRoutePropagation"] is True
    assert table["inputs"]["routes"] == [
        {"name": "to-firewall", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance",
         "nextHopIpAddress": "10.100.0.4"}]


def test_prod_adds_its_rules_to_the_hubs_policy_with_the_shared_allowlist() -> None:
    doc = plan_of("prod").as_json()
    (group,) = _of(doc, RCG)
    inputs = group["inputs"]
    assert (inputs["ruleCollectionGroupName"], inputs["firewallPolicyName"], inputs["resourceGroupName"],
            inputs["priority"]) == ("mlops-prod-databricks", "mlops-hub-fw-policy", "mlops-hub-rg", 300)
    assert "hub-firewall-egress-policy-subscription" in group["provider"]  # the hub's subscription, explicitly
    tags, fqdns = {}, []
    for collection in inputs["ruleCollections"]:
        assert collection["action"] == {"type": "Allow"}
        for rule in collection["rules"]:
            assert rule["sourceAddresses"] == ["10.0.1.0/24", "10.0.2.0/24"]  # the host and container subnets
            if rule["ruleType"] == "NetworkRule":
                (tag,) = rule["destinationAddresses"]
                tags[tag] = rule["destinationPorts"]
            else:
                assert rule["protocols"] == [{"protocolType": "Https", "port": 443}]
                fqdns += rule["targetFqdns"]
    # Entra ID: code on the nodes that signs in (the UDR page adds the AzureActiveDirectory tag)
    assert tags == {"AzureDatabricks": ["443"], "AzureActiveDirectory": ["443"], "Storage.Eastus2": ["443"],
                    "Sql.Eastus2": ["3306"], "EventHub.Eastus2": ["9093"]}
    (policy,) = _of(doc, POLICY)
    serverless = [d["destination"] for d in policy["inputs"]["egress"]["networkAccess"]["allowedInternetDestinations"]]
    # Maven Central: prod's artifact allowlist lets clusters install Maven coordinates, which download from it
    assert fqdns == serverless == ["pypi.org", "files.pythonhosted.org", "repo1.maven.org"]


def test_the_hub_peering_keeps_forwarded_traffic_off() -> None:
    # As the SRA's spoke peering (azure/tf/modules/virtual_network/peering.tf, provider defaults).
    peerings = _of(plan_of("prod").as_json(), "azure-native:network:VirtualNetworkPeering")
    assert [p["inputs"]["allowForwardedTraffic"] for p in peerings] == [False, False]


# --- config ---------------------------------------------------------------------------------------------------

FIREWALL = {"privateIp": "10.100.0.4", "policyId": HUB_POLICY}
NO_HUB = ("network.egress: 'firewall' needs deploy.runner.hubVnetId: the firewall is the hub's, reached over the "
          "peering; allowed without a hub: 'natGateway'")

CONFIG_CASES: list[tuple[str, str, list[tuple[str, Any]], list[str]]] = [
    ("firewall-without-hub", "dev", [("network.egress", "firewall"), ("network.firewall", FIREWALL)],
     [f"dev: {NO_HUB}"]),
    ("firewall-without-settings", "prod", [("network.firewall", DELETE)],
     ["prod: network.firewall: null is required with network.egress 'firewall': set privateIp and policyId of the "
      "hub's Azure Firewall"]),
    ("settings-without-firewall", "test", [("network.firewall", FIREWALL)],
     ["test: network.firewall: 'set' is only used with network.egress 'firewall'; remove it, or set network.egress "
      "'firewall'"]),
    ("prod-nat-with-a-hub", "prod", [("network.egress", "natGateway"), ("network.firewall", DELETE)],
     ["prod: network.egress: 'natGateway' is not allowed in prod with a hub: allowed: 'firewall' (classic compute "
      "leaves through the hub's firewall, SAT NS-14)"]),
    ("prod-defaults-to-the-firewall", "prod", [("network.egress", DELETE)], []),
    ("prod-default-needs-the-settings", "prod", [("network.egress", DELETE), ("network.firewall", DELETE)],
     ["prod: network.firewall: null is required with network.egress 'firewall': set privateIp and policyId of the "
      "hub's Azure Firewall"]),
    ("ip-not-an-address", "prod", [("network.firewall.privateIp", "10.100.0.0/24")],
     ["prod: network.firewall.privateIp: '10.100.0.0/24' is not an IPv4 address; allowed: the firewall's private IP, "
      "e.g. '10.100.0.4'"]),
    ("ip-public", "prod", [("network.firewall.privateIp", "20.1.2.3")],
     ["prod: network.firewall.privateIp: '20.1.2.3' is not a private address; allowed: the firewall's private IP in "
      "the hub VNet (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)"]),
    ("ip-in-this-vnet", "prod", [("network.firewall.privateIp", "10.0.200.4")],
     ["prod: network.firewall.privateIp: '10.0.200.4' is inside this stack's vnetCidr '10.0.0.0/16'; allowed: the "
      "firewall's address in the hub VNet"]),
    ("ip-other-private-range", "prod", [("network.firewall.privateIp", "192.168.10.4")], []),
    ("policy-not-a-policy", "prod", [("network.firewall.policyId", HUB_POLICY.replace("firewallPolicies",
                                                                                     "azureFirewalls"))],
     ["prod: network.firewall.policyId: '" + HUB_POLICY.replace("firewallPolicies", "azureFirewalls") + "' is not "
      "the ARM id of a firewall policy; allowed: /subscriptions/<uuid>/resourceGroups/<rg>/providers/"
      "Microsoft.Network/firewallPolicies/<name>"]),
    ("priority-below", "prod", [("network.firewall.priority", 99)],
     ["prod: network.firewall.priority: 99 is out of range (input should be greater than or equal to 100)"]),
    ("priority-low-edge", "prod", [("network.firewall.priority", 100)], []),
    ("priority-high-edge", "prod", [("network.firewall.priority", 65000)], []),
    ("priority-above", "prod", [("network.firewall.priority", 65001)],
     ["prod: network.firewall.priority: 65001 is out of range (input should be less than or equal to 65000)"]),
    ("prod-encryption-off", "prod", [("network.encryption", False)],
     ["prod: network.encryption: false is not allowed in prod: allowed: true (AllowUnencrypted never drops a "
      "node's traffic)"]),
    ("prod-encryption-default", "prod", [("network.encryption", DELETE)], []),
    ("dev-encryption-on", "dev", [("network.encryption", True)], []),
]


@pytest.mark.parametrize(("stack", "changes", "expected"), [c[1:] for c in CONFIG_CASES],
                         ids=[c[0] for c in CONFIG_CASES])
def test_egress_config(stack: str, changes: list[tuple[str, Any]], expected: list[str]) -> None:
    raw = with_changes(stack, changes)
    if expected:
        assert config_problems(stack, raw) == expected
    else:
        from infra.config import validate
        from tests.support import siblings
        validate(stack, raw, siblings(stack))


def test_the_defaults_resolve_per_stack() -> None:
    from infra.config import validate
    from tests.support import siblings
    prod = validate("prod", with_changes("prod", [("network.egress", DELETE), ("network.encryption", DELETE)]),
                    siblings("prod"))
    assert (classic_egress(prod), vnet_encrypted(prod)) == ("firewall", True)
    dev = validate("dev", with_changes("dev", [("network.encryption", True)]), siblings("dev"))
    assert (classic_egress(dev), vnet_encrypted(dev)) == ("natGateway", True)


# --- SAT NS-14, both ways -------------------------------------------------------------------------------------

def _ns14(doc: dict[str, Any]) -> list[str]:
    views = [view_from_plan(r) for r in doc["resources"] if r.get("custom", True)]
    return [f.message for f in RULES_BY_NAME[NS14].run_stack(views)]


def _prod() -> dict[str, Any]:
    return copy.deepcopy(plan_of("prod").as_json())


def _named(doc: dict[str, Any], name: str) -> dict[str, Any]:
    (res,) = [r for r in doc["resources"] if r["name"] == name]
    return res


HOST, CONTAINER, TABLE, GROUP = ("network-host-subnet", "network-container-subnet", "hub-firewall-egress-routes",
                                 "hub-firewall-egress-rules")


def test_ns14_passes_prod_and_is_not_met_without_a_route_table() -> None:
    assert _ns14(_prod()) == []
    # dev: no route table, so the rule has nothing to check; the coverage says why (infra/sat.py needs).
    assert _ns14(copy.deepcopy(plan_of("dev").as_json())) == []


def test_ns14_refuses_a_default_route_to_the_internet() -> None:
    doc = _prod()
    _named(doc, TABLE)["inputs"]["routes"][0]["nextHopType"] = "Internet"
    assert _ns14(doc) == [f"RouteTable {TABLE} of Subnet {s} sends 0.0.0.0/0 to 'Internet'; SAT NS-14 needs it "
                          "through a firewall (VirtualAppliance or VirtualNetworkGateway)" for s in (CONTAINER, HOST)]


def test_ns14_refuses_a_table_without_a_default_route() -> None:
    doc = _prod()
    del _named(doc, TABLE)["inputs"]["routes"][0]
    assert _ns14(doc)[0] == (f"RouteTable {TABLE} of Subnet {CONTAINER} sends 0.0.0.0/0 to missing; SAT NS-14 needs "
                             "it through a firewall (VirtualAppliance or VirtualNetworkGateway)")


def test_ns14_accepts_forced_tunnelling_to_the_gateway() -> None:
    doc = _prod()
    route = _named(doc, TABLE)["inputs"]["routes"][0]
    route["nextHopType"] = "VirtualNetworkGateway"
    del route["nextHopIpAddress"]
    assert _ns14(doc) == []


def test_ns14_reads_routes_declared_as_their_own_resources() -> None:
    doc = _prod()
    table = _named(doc, TABLE)
    inline = table["inputs"].pop("routes")
    route = {"urn": table["urn"].replace("RouteTable::", "Route::") + "-default", "type": "azure-native:network:Route",
             "name": "default", "custom": True, "id": "r", "dependencies": [table["urn"]],
             "inputs": {**inline[0], "routeTableName": table["inputs"]["routeTableName"]}}
    doc["resources"].append(route)
    assert _ns14(doc) == []
    route["inputs"]["nextHopType"] = "Internet"
    assert len(_ns14(doc)) == 2


def test_ns14_refuses_a_nat_gateway_beside_the_route() -> None:
    doc = _prod()
    _named(doc, HOST)["inputs"]["natGateway"] = {"id": "/subscriptions/x/natGateways/n"}
    assert _ns14(doc) == [f"Subnet {HOST} keeps a NAT gateway: a way out beside the firewall (SAT NS-14)"]


def test_ns14_refuses_a_databricks_subnet_without_the_table() -> None:
    doc = _prod()
    del _named(doc, CONTAINER)["inputs"]["routeTable"]
    assert _ns14(doc) == [f"Subnet {CONTAINER} uses no route table this stack declares: its nodes leave through the "
                          "default route to the internet (SAT NS-14)"]


def test_ns14_follows_the_dependency_when_the_table_id_is_unknown() -> None:
    doc = _prod()
    host = _named(doc, HOST)
    host["inputs"]["routeTable"]["id"] = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # unknown at preview
    assert _ns14(doc) == []
    host["dependencies"] = [d for d in host["dependencies"] if d != _named(doc, TABLE)["urn"]]
    assert _ns14(doc) == [f"Subnet {HOST} uses no route table this stack declares: its nodes leave through the "
                          "default route to the internet (SAT NS-14)"]


@pytest.mark.parametrize(("collection", "field", "value"), [
    (1, "targetFqdns", ["*"]), (0, "destinationAddresses", ["0.0.0.0/0"]), (0, "destinationAddresses", ["Internet"])])
def test_ns14_refuses_a_firewall_rule_to_anywhere(collection: int, field: str, value: list[str]) -> None:
    doc = _prod()
    rules = _named(doc, GROUP)["inputs"]["ruleCollections"][collection]
    rules["rules"][0][field] = value
    assert _ns14(doc) == [f"FirewallPolicyRuleCollectionGroup {GROUP} rule {rules['name']}/{rules['rules'][0]['name']} "
                          "allows any destination: the firewall no longer controls egress (SAT NS-14)"]
    rules["action"]["type"] = "Deny"  # denying everything is control, not a hole
    assert _ns14(doc) == []


def test_ns14_unknown_next_hop_is_checked_again_later() -> None:
    doc = _prod()
    _named(doc, TABLE)["inputs"]["routes"][0]["nextHopType"] = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    views = [view_from_plan(r) for r in doc["resources"] if r.get("custom", True)]
    found = RULES_BY_NAME[NS14].run_stack(views)
    assert found and all(f.unknown for f in found)


# --- VNet encryption rules, both ways, per stack -------------------------------------------------------------

# stack -> what each encryption rule says of the stack's VNet
ENCRYPTION = {
    "dev": (["encryption.enabled is missing: traffic between its VMs is not encrypted (network.encryption)"], []),
    "test": (["encryption.enabled is missing: traffic between its VMs is not encrypted (network.encryption)"], []),
    "prod": ([], []),
}


def _vnet_findings(vnet: dict[str, Any]) -> tuple[list[str], list[str]]:
    view = view_from_plan(vnet)
    return tuple(  # type: ignore[return-value]
        [f.message for f in RULES_BY_NAME[r].run_resource(view)]
        for r in ("vnet-encryption-enabled", "vnet-encryption-allows-unencrypted"))


@pytest.mark.parametrize("stack", STACKS)
def test_vnet_encryption_rules_per_stack(stack: str) -> None:
    (vnet,) = _of(plan_of(stack).as_json(), VNET)
    assert _vnet_findings(vnet) == ENCRYPTION[stack]


@pytest.mark.parametrize(("encryption", "expected"), [
    ({"enabled": True, "enforcement": "AllowUnencrypted"}, ([], [])),
    ({"enabled": True, "enforcement": "allowunencrypted"}, ([], [])),  # ARM compares enums case-insensitively
    ({"enabled": True, "enforcement": "DropUnencrypted"},
     ([], ["encryption.enforcement is 'DropUnencrypted'; only 'AllowUnencrypted' keeps the traffic of nodes on VM "
           "sizes without encryption support"])),
    ({"enabled": True}, ([], ["encryption.enforcement is missing; only 'AllowUnencrypted' keeps the traffic of nodes "
                              "on VM sizes without encryption support"])),
    ({"enabled": False, "enforcement": "DropUnencrypted"},
     (["encryption.enabled is false: traffic between its VMs is not encrypted (network.encryption)"], [])),
    ({"enabled": UNKNOWN}, (["encryption.enabled is unknown at preview; the rule is checked again when the value is "
                             "known"], [])),
])
def test_vnet_encryption_rules_both_ways(encryption: dict[str, Any], expected: tuple[list[str], list[str]]) -> None:
    (vnet,) = _of(plan_of("prod").as_json(), VNET)
    vnet = {**vnet, "inputs": {**vnet["inputs"], "encryption": encryption}}
    assert _vnet_findings(vnet) == expected


def _view(typ: str, name: str, props: dict[str, Any], deps: tuple[str, ...] = ()) -> Any:
    from infra.policy.rules import ResourceView

    return ResourceView(type=typ, name=name, urn=f"urn:pulumi:prod::p::{typ}::{name}", props=props,
                        dependencies=deps)


def test_a_separate_route_belongs_to_the_table_it_names_only() -> None:
    from infra.policy.rules.sat import ROUTE, ROUTE_TABLE, routes

    table = _view(ROUTE_TABLE, "rt", {"routeTableName": "m-rt", "routes": []})
    mine = _view(ROUTE, "mine", {"routeTableName": "m-rt", "addressPrefix": "0.0.0.0/0"})
    others = [_view(ROUTE, f"other-{n}", {"routeTableName": n, "addressPrefix": "10.0.0.0/8"})
              for n in ("a-rt", "z-rt")]
    assert routes(table, [table, mine, *others]) == [mine.props]


def test_every_allowing_rule_is_read_past_deny_collections_and_odd_entries() -> None:
    from infra.policy.rules.sat import _open_rules

    group = _view("azure-native:network:FirewallPolicyRuleCollectionGroup", "rcg", {"ruleCollections": [
        {"name": "blocked", "action": {"type": "Deny"}, "rules": [{"name": "any", "destinationAddresses": ["*"]}]},
        "not-a-collection",
        {"name": "open", "action": {"type": "Allow"}, "rules": [
            "not-a-rule", {"name": "fine", "targetFqdns": ["pypi.org"]},
            {"name": "everything", "destinationAddresses": ["0.0.0.0/0"]}]}]})
    assert list(_open_rules(group)) == ["open/everything"]
