"""The deploy runner's hub and the workspace's private DNS (deploy.runner.hubDnsZone).

Azure links a VNet to at most one private DNS zone of a given name ("A virtual network cannot be linked to multiple
zones with overlapping namespaces"), and an enterprise hub usually links its own privatelink.azuredatabricks.net
already. So a stack either links its own zone to the hub (`link`, the default and today's plan) or puts the
workspace's records into the hub's existing zone, which it names by ARM id, and links nothing to the hub.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from typing import Any

import pytest
from pulumi.runtime.stack import Stack, get_root_resource

from infra.components.private_link import PrivateLink, PrivateLinkArgs
from infra.config import validate
from infra.config.security import PrivateLinkConfig
from infra.policy.offline import check_plan, view_from_plan
from infra.policy.rules import RULES_BY_NAME
from mlopsctl.plan.engine import run_program
from mlopsctl.plan.model import Plan
from tests.support import config_problems, plan_of, siblings, stack_raw, with_changes

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
HUB = f"{SUB}/resourceGroups/mlops-hub-rg/providers/Microsoft.Network/virtualNetworks/mlops-hub-vnet"  # prod's
DNS_SUB = "11111111-2222-3333-4444-555555555555"
ZONE = (f"/subscriptions/{DNS_SUB}/resourceGroups/rg-hub-dns/providers/Microsoft.Network/privateDnsZones/"
        "privatelink.azuredatabricks.net")
ZONE_NAME = "privatelink.azuredatabricks.net"
FORMAT = ("must be 'link' or the ARM id of the hub's existing privatelink.azuredatabricks.net zone: /subscriptions/"
          "<uuid>/resourceGroups/<rg>/providers/Microsoft.Network/privateDnsZones/privatelink.azuredatabricks.net")

PE = "azure-native:network:PrivateEndpoint"
ZG = "azure-native:network:PrivateDnsZoneGroup"
PZ = "azure-native:privatedns:PrivateZone"
LINK = "azure-native:privatedns:VirtualNetworkLink"
AZ_PROVIDER = "pulumi:providers:azure-native"
REACHABLE = "deploy-private-workspace-reachable"


# --- config: one line per problem, by message -------------------------------------------------------------------

ERRORS: list[tuple[str, str, list[tuple[str, Any]], list[str]]] = [
    ("a-typo", "prod", [("deploy.runner.hubDnsZone", "links")],
     [f"prod: deploy.runner.hubDnsZone: 'links' {FORMAT}"]),
    ("a-vnet-id", "prod", [("deploy.runner.hubDnsZone", HUB)],
     [f"prod: deploy.runner.hubDnsZone: {HUB!r} {FORMAT}"]),
    ("a-zone-name-only", "prod", [("deploy.runner.hubDnsZone", ZONE_NAME)],
     [f"prod: deploy.runner.hubDnsZone: {ZONE_NAME!r} {FORMAT}"]),
    ("a-zone-of-another-name", "prod", [("deploy.runner.hubDnsZone", ZONE.replace("azuredatabricks.net",
                                                                                     "blob.core.windows.net"))],
     [f"prod: deploy.runner.hubDnsZone: {ZONE.replace('azuredatabricks.net', 'blob.core.windows.net')!r} names zone "
      "'privatelink.blob.core.windows.net'; the workspace's front end resolves in privatelink.azuredatabricks.net, so "
      "the hub zone must be that one"]),
    ("a-zone-without-a-hub", "dev", [("deploy.runner.hubDnsZone", ZONE)],
     [f"dev: deploy.runner.hubDnsZone: {ZONE!r} names a hub zone, but deploy.runner.hubVnetId is not set: the hub's "
      "zone serves a runner in a hub VNet this stack is peered with; set hubVnetId or remove hubDnsZone"]),
    ("a-zone-with-policy-managed-zone-groups", "prod",
     [("deploy.runner.hubDnsZone", ZONE), ("privateLink.manageDnsZoneGroups", False)],
     [f"prod: deploy.runner.hubDnsZone: {ZONE!r} needs privateLink.manageDnsZoneGroups true: the workspace's "
      "endpoints are registered in the hub's zone through their DNS zone groups, which Pulumi then does not create"]),
]


@pytest.mark.parametrize(("stack", "changes", "expected"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_a_wrong_hub_zone_is_refused_with_what_is_allowed(stack: str, changes: list[tuple[str, Any]],
                                                          expected: list[str]) -> None:
    assert config_problems(stack, with_changes(stack, changes)) == expected


# (stack, changes, hub zone used, own zone linked to the hub): per stack, the default is today's behaviour
CHOICES: list[tuple[str, list[tuple[str, Any]], str | None, bool]] = [
    ("dev", [], None, False),
    ("test", [], None, False),
    ("prod", [], None, True),
    ("prod", [("deploy.runner.hubDnsZone", "link")], None, True),
    ("prod", [("deploy.runner.hubDnsZone", ZONE)], ZONE, False),
    ("prod", [("deploy.runner.hubDnsZone", ZONE.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/"))],
     ZONE.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/"), False),  # ARM ids are case-insensitive
]


@pytest.mark.parametrize(("stack", "changes", "hub_zone", "links"), CHOICES)
def test_each_stack_links_its_zone_or_uses_the_hubs(stack: str, changes: list[tuple[str, Any]],
                                                     hub_zone: str | None, links: bool) -> None:
    runner = validate(stack, with_changes(stack, changes), siblings(stack)).deploy.runner
    assert (runner.hub_zone_id, runner.links_hub_zone) == (hub_zone, links)


PROD_OWN_ZONE = f"{SUB}/resourceGroups/mlops-prod-rg/providers/Microsoft.Network/privateDnsZones/{ZONE_NAME}"
LINKS_TWICE = (f"test: deploy.runner.hubVnetId: {HUB!r} is also stack prod's; a VNet links at most one "
               "privatelink.azuredatabricks.net zone, so only one stack may link its workspace zone to a hub")

# (test's hubDnsZone, prod's hubDnsZone, test's problems) with both stacks on prod's hub VNet
SHARED_HUB: list[tuple[str, str, list[str]]] = [
    ("link", "link", [LINKS_TWICE]),
    ("link", ZONE, [f"test: deploy.runner.hubDnsZone: 'link' would link a second privatelink.azuredatabricks.net "
                    f"zone to hub {HUB!r}, which resolves through {ZONE!r} (stack prod's hubDnsZone); set "
                    "hubDnsZone to that zone's id"]),
    (ZONE, "link", [f"test: deploy.runner.hubDnsZone: {ZONE!r} is not the zone stack prod links to the same hub "
                    "VNet (its hubDnsZone is 'link'); a VNet links at most one privatelink.azuredatabricks.net zone, "
                    "so name that stack's zone or let it use the hub's"]),
    (PROD_OWN_ZONE, "link", []),  # test uses the zone prod links: one zone on the hub
    (ZONE, ZONE, []),
    (ZONE, ZONE.lower(), []),
    (ZONE.replace("rg-hub-dns", "rg-other-dns"), ZONE,
     [f"test: deploy.runner.hubDnsZone: {ZONE.replace('rg-hub-dns', 'rg-other-dns')!r} differs from stack prod's "
      f"{ZONE!r} for the same hub VNet; a VNet links at most one privatelink.azuredatabricks.net zone, so both name "
      "the one the hub has"]),
]


@pytest.mark.parametrize(("mine", "theirs", "expected"), SHARED_HUB)
def test_stacks_sharing_a_hub_agree_on_its_one_zone(mine: str, theirs: str, expected: list[str]) -> None:
    raw = with_changes("test", [("deploy.runner.hubVnetId", HUB), ("deploy.runner.hubDnsZone", mine)])
    prod = with_changes("prod", [("deploy.runner.hubDnsZone", theirs)])
    if expected:
        assert config_problems("test", raw, {"prod": prod}) == expected
    else:
        validate("test", raw, {"prod": prod})


# --- the component, both ways ---------------------------------------------------------------------------------

def _private_link_program(hub_vnet_id: str | None, hub_zone_id: str | None) -> Callable[[], None]:
    def program() -> None:
        PrivateLink("private-link", PrivateLinkArgs(
            config=PrivateLinkConfig(browser_authentication=True), prefix="mlops-prod", resource_group_name="rg",
            location="eastus2", tags={}, vnet_id=f"{SUB}/resourceGroups/rg/providers/Microsoft.Network/"
                                                  "virtualNetworks/spoke",
            subnet_id="subnet", workspace_id="ws", lake_id="lake", key_vault_id="kv", front_end_private=True,
            hub_vnet_id=hub_vnet_id, hub_zone_id=hub_zone_id))
        root: Any = get_root_resource()
        if isinstance(root, Stack):
            root._outputs_registered = False
            root._finish()
    return program


@functools.cache
def _component_plan(hub_vnet_id: str | None, hub_zone_id: str | None) -> Plan:
    return run_program("prod", stack_raw("prod"), program=_private_link_program(hub_vnet_id, hub_zone_id))


SPOKE = f"{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/spoke"
ZONES = {"databricks": ZONE_NAME, "dfs": "privatelink.dfs.core.windows.net",
         "blob": "privatelink.blob.core.windows.net", "vault": "privatelink.vaultcore.azure.net"}
STORAGE_LINKS = {("rg", ZONES[z], SPOKE) for z in ("dfs", "blob", "vault")}
# (id, hub VNet, hub zone, zones this stack makes, VNet links as (zone's resource group, zone name, linked VNet),
#  the zone the workspace's endpoints register in: 'own' or the hub's id)
COMPONENT: list[tuple[str, str | None, str | None, list[str], set[tuple[str, str, str]], str]] = [
    ("no-hub", None, None, ["databricks", "dfs", "blob", "vault"], STORAGE_LINKS | {("rg", ZONE_NAME, SPOKE)}, "own"),
    ("link", HUB, None, ["databricks", "dfs", "blob", "vault"],
     STORAGE_LINKS | {("rg", ZONE_NAME, SPOKE), ("rg", ZONE_NAME, HUB)}, "own"),
    ("existing", HUB, ZONE, ["dfs", "blob", "vault"], STORAGE_LINKS | {("rg-hub-dns", ZONE_NAME, SPOKE)}, ZONE),
]


@pytest.mark.parametrize(("hub", "hub_zone", "zones", "links", "workspace_zone"), [c[1:] for c in COMPONENT],
                         ids=[c[0] for c in COMPONENT])
def test_private_link_links_its_zone_to_the_hub_or_registers_in_the_hubs(
        hub: str | None, hub_zone: str | None, zones: list[str], links: set[tuple[str, str, str]],
        workspace_zone: str) -> None:
    plan = _component_plan(hub, hub_zone)
    own = {z.name.removeprefix("private-link-zone-"): z for z in plan.by_type(PZ)}
    assert sorted(own) == sorted(zones)
    assert {key: z.inputs["privateZoneName"] for key, z in own.items()} == {k: ZONES[k] for k in zones}
    assert {(lk.inputs["resourceGroupName"], lk.inputs["privateZoneName"], lk.inputs["virtualNetwork"]["id"])
            for lk in plan.by_type(LINK)} == links
    expected = own["databricks"].id if workspace_zone == "own" else workspace_zone
    for pe in ("backend", "browser-auth"):
        (group,) = [g for g in plan.by_type(ZG) if g.name == f"private-link-{pe}-dns"]
        assert group.inputs["privateDnsZoneConfigs"] == [{"name": "privatelink-azuredatabricks-net",
                                                          "privateDnsZoneId": expected}]
    hub_dns = [p for p in plan.by_type(AZ_PROVIDER) if p.name == "private-link-hub-dns-subscription"]
    if hub_zone is None:
        assert hub_dns == []
    else:  # the link in the hub's zone is written in that zone's subscription
        (provider,) = hub_dns
        assert provider.inputs["subscriptionId"] == DNS_SUB
        (link,) = [lk for lk in plan.by_type(LINK) if lk.inputs["resourceGroupName"] == "rg-hub-dns"]
        assert link.provider and link.provider.startswith(provider.urn + "::")
        assert link.inputs["registrationEnabled"] is False and "resolutionPolicy" not in link.inputs


# --- the whole prod stack with the hub's zone, and the reachability rule both ways ---------------------------

@functools.cache
def _prod_with_hub_zone() -> str:
    plan = run_program("prod", with_changes("prod", [("deploy.runner.hubDnsZone", ZONE)]))
    return json.dumps(plan.as_json())


def _doc(link: bool) -> dict[str, Any]:
    return copy.deepcopy(plan_of("prod").as_json()) if link else json.loads(_prod_with_hub_zone())


def _res(doc: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [r for r in doc["resources"] if r["name"] == name and r["custom"]]
    return found


def test_prod_with_the_hubs_zone_waits_for_its_record_there_and_passes_the_pack() -> None:
    doc = _doc(link=False)
    provider = _res(doc, "databricks-workspace")
    group = _res(doc, "private-link-backend-dns")
    assert group["inputs"]["privateDnsZoneConfigs"][0]["privateDnsZoneId"] == ZONE
    peerings = [r["urn"] for r in doc["resources"] if r["type"] == "azure-native:network:VirtualNetworkPeering"]
    assert {_res(doc, "private-link-backend")["urn"], group["urn"], *peerings} <= set(provider["dependencies"])
    assert [r for r in doc["resources"] if r["type"] == LINK and r["inputs"]["virtualNetwork"]["id"] == HUB] == []
    assert sorted(r["inputs"]["privateZoneName"] for r in doc["resources"] if r["type"] == PZ) == \
        ["privatelink.blob.core.windows.net", "privatelink.dfs.core.windows.net", "privatelink.vaultcore.azure.net"]
    report = check_plan(doc, "prod")
    assert report.verdicts == []


def _findings(doc: dict[str, Any]) -> list[str]:
    return [f.message for f in RULES_BY_NAME[REACHABLE].run_stack([view_from_plan(r) for r in doc["resources"]],
                                                                   None)]


def _undepend(doc: dict[str, Any], name: str, other: str) -> None:
    res, gone = _res(doc, name), _res(doc, other)["urn"]
    res["dependencies"] = [d for d in res["dependencies"] if d != gone]


def _declare_the_hub_zone(doc: dict[str, Any]) -> None:
    """The zone the endpoint registers in is one this stack declares, not the hub's (and nothing links it)."""
    zone = copy.deepcopy(_res(doc, "private-link-zone-dfs"))
    zone.update(name="private-link-zone-databricks", id=ZONE,
                urn=zone["urn"].replace("private-link-zone-dfs", "private-link-zone-databricks"))
    zone["inputs"]["privateZoneName"] = ZONE_NAME
    doc["resources"].append(zone)


ROUTE = ("a route from the deploy runner (peerings both ways with a hub VNet, and a link of "
         "privatelink.azuredatabricks.net to that hub or the endpoint's record in the hub's existing zone): "
         "workspace-level resources would call a front end the deploy runner cannot reach yet (403)")
UNREACHABLE = ("workspace provider databricks-workspace of Workspace workspace (publicNetworkAccess Disabled) does "
               "not wait for ")

# (id, hub zone choice, mutation, findings): each choice passes as planned and fails when its route is broken
REACHABILITY: list[tuple[str, bool, Callable[[dict[str, Any]], None] | None, list[str]]] = [
    ("link-as-planned", True, None, []),
    ("existing-as-planned", False, None, []),
    ("link-without-the-hub-link", True,
     lambda d: _undepend(d, "databricks-workspace", "private-link-zone-databricks-hub-link"), [UNREACHABLE + ROUTE]),
    ("existing-before-the-record", False,
     lambda d: _undepend(d, "databricks-workspace", "private-link-backend-dns"),
     [UNREACHABLE + "that endpoint's DNS zone group in privatelink.azuredatabricks.net; " + ROUTE]),
    ("existing-without-the-return-peering", False,
     lambda d: _undepend(d, "databricks-workspace", "network-hub-to-spoke"), [UNREACHABLE + ROUTE]),
    ("existing-zone-declared-by-the-stack", False, _declare_the_hub_zone, [UNREACHABLE + ROUTE]),
    ("existing-zone-of-another-name", False,
     lambda d: _res(d, "private-link-backend-dns")["inputs"]["privateDnsZoneConfigs"][0].update(
         privateDnsZoneId=ZONE.replace("azuredatabricks.net", "azuredatabricks.com")),
     [UNREACHABLE + "that endpoint's DNS zone group in privatelink.azuredatabricks.net; " + ROUTE]),
]


@pytest.mark.parametrize(("link", "mutate", "expected"), [r[1:] for r in REACHABILITY],
                         ids=[r[0] for r in REACHABILITY])
def test_the_runner_reaches_the_front_end_through_either_zone(
        link: bool, mutate: Callable[[dict[str, Any]], None] | None, expected: list[str]) -> None:
    doc = _doc(link)
    if mutate is not None:
        mutate(doc)
    assert _findings(doc) == expected

