"""Deploy-readiness rules at their edges, on hand-made plans (no program runs, so each case takes milliseconds).

Each rule gets a small plan that passes it, then one change at a time: every alternative that satisfies the
rule, every exemption, how references are matched (ids when known, the dependency graph otherwise), and the
exact message of each finding. The real plans and their broken copies are in test_deploy_readiness_*.py and
test_first_deploy.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest

from infra.policy.rules import RULES_BY_NAME, ResourceView
from infra.policy.rules import types as T
from infra.policy.rules.base import UNKNOWN, Finding

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
RG = f"{SUB}/resourceGroups/mlops-dev-rg"


def urn(typ: str, name: str, stack: str = "dev") -> str:
    return f"urn:pulumi:{stack}::mlops-platform::{typ}::{name}"


def res(typ: str, name: str, props: dict[str, Any] | None = None, deps: Sequence[str | ResourceView] = (),
        id: str | None = None, protect: bool = False, retain: bool | None = False, provider: str | None = None,
        stack: str = "dev") -> ResourceView:
    """A resource as a rule sees it; `deps` may name resources or their URNs."""
    return ResourceView(type=typ, name=name, urn=urn(typ, name, stack), props=props or {}, protect=protect,
                        provider=provider, dependencies=tuple(d.urn if isinstance(d, ResourceView) else d
                                                              for d in deps), id=id, retain_on_delete=retain)


def findings(rule: str, views: Sequence[ResourceView], config: dict[str, Any] | None = None) -> list[Finding]:
    r = RULES_BY_NAME[rule]
    if r.kind == "resource":
        return [f for v in views for f in r.run_resource(v, config)]
    return r.run_stack(views, config)


def messages(rule: str, views: Sequence[ResourceView], config: dict[str, Any] | None = None) -> list[str]:
    return [f.message for f in findings(rule, views, config)]


def swap(views: Sequence[ResourceView], *new: ResourceView) -> list[ResourceView]:
    """`views` with each resource of `new` replacing the one of the same name (or added)."""
    names = {n.name for n in new}
    return [*(v for v in views if v.name not in names), *new]


def edit(view: ResourceView, **changes: Any) -> ResourceView:
    """A copy with top-level props changed (None removes a key); `_deps`, `_id`... change the view's fields."""
    fields = {k[1:]: v for k, v in changes.items() if k.startswith("_")}
    if "deps" in fields:
        fields["dependencies"] = tuple(d.urn if isinstance(d, ResourceView) else d for d in fields.pop("deps"))
    props = {**view.props, **{k: v for k, v in changes.items() if not k.startswith("_")}}
    return dataclasses.replace(view, props={k: v for k, v in props.items() if v is not None}, **fields)


SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # one of pulumi_policy's unknown markers


def unknown(path: str) -> str:
    return f"{path} is unknown at preview; the rule is checked again when the value is known"


# === reachability: the deploy runner's ALLOW list before IP access lists are enforced ==================

RUNNER = "deploy-runner-allowed-before-ip-lists-enforced"
WS_PROVIDER = urn("pulumi:providers:databricks", "databricks-workspace")
OTHER_PROVIDER = urn("pulumi:providers:databricks", "databricks-other")


def _ip_list(name: str, **props: Any) -> ResourceView:
    base = {"label": "deploy-runner", "listType": "ALLOW", "ipAddresses": ["203.0.113.10/32"], "enabled": True}
    return res(T.IP_ACCESS_LIST, name, {k: v for k, v in {**base, **props}.items() if v is not None},
               provider=WS_PROVIDER)


def _runner_plan(**conf_props: Any) -> list[ResourceView]:
    runner, office = _ip_list("runner"), _ip_list("office", label="office")
    conf = res(T.WORKSPACE_CONF, "ws-conf", {"customConfig": {"enableIpAccessLists": "true", **conf_props}},
               deps=[runner, office], provider=WS_PROVIDER)
    return [runner, office, conf]


NO_RUNNER = ("WorkspaceConf ws-conf switches on IP access lists, but no enabled ALLOW list labeled 'deploy-runner' "
             "holds the deploy runner's egress (deploy.runner.egressCidrs): every later call of the deploy, refresh "
             "and drift check is refused (403)")


def test_runner_list_created_before_enforcement_passes() -> None:
    assert messages(RUNNER, _runner_plan()) == []


@pytest.mark.parametrize(("value", "enforced"), [
    (True, True), ("true", True), ("TRUE", True), (False, False), ("false", False), (None, False), (1, False),
    ("yes", False)])
def test_only_a_true_enable_ip_access_lists_enforces(value: Any, enforced: bool) -> None:
    conf = res(T.WORKSPACE_CONF, "ws-conf", {"customConfig": {"enableIpAccessLists": value}}, provider=WS_PROVIDER)
    assert messages(RUNNER, [conf]) == ([NO_RUNNER] if enforced else [])


@pytest.mark.parametrize(("change", "is_runner"), [
    ({"label": "office"}, False), ({"label": None}, False),
    ({"listType": "BLOCK"}, False), ({"listType": "allow"}, True), ({"listType": None}, False),
    ({"enabled": False}, False), ({"enabled": None}, True),
    ({"ipAddresses": []}, False), ({"ipAddresses": None}, False), ({"ipAddresses": UNKNOWN}, True),
])
def test_what_counts_as_the_runner_list(change: dict[str, Any], is_runner: bool) -> None:
    runner = _ip_list("runner", **change)
    conf = res(T.WORKSPACE_CONF, "ws-conf", {"customConfig": {"enableIpAccessLists": True}}, deps=[runner],
               provider=WS_PROVIDER)
    assert messages(RUNNER, [runner, conf]) == ([] if is_runner else [NO_RUNNER])


def test_enforcement_waits_for_every_list_of_its_workspace() -> None:
    runner, office, conf = _runner_plan()
    early = edit(conf, _deps=[office])
    assert findings(RUNNER, [runner, office, early]) == [Finding(
        "WorkspaceConf ws-conf switches on IP access lists without waiting for IpAccessList runner: make it depend "
        "on every list, so none is created under enforcement", early.urn)]
    assert messages(RUNNER, [runner, office, edit(conf, _deps=[])]) == [
        f"WorkspaceConf ws-conf switches on IP access lists without waiting for IpAccessList {n}: make it depend on "
        "every list, so none is created under enforcement" for n in ("runner", "office")]


def test_lists_of_another_workspace_neither_satisfy_nor_block() -> None:
    runner, office, conf = _runner_plan()
    elsewhere = dataclasses.replace(runner, provider=OTHER_PROVIDER)
    assert findings(RUNNER, [elsewhere, conf]) == [Finding(NO_RUNNER, conf.urn)]
    # a list of another workspace the conf does not wait for is none of its business
    assert messages(RUNNER, [runner, dataclasses.replace(office, provider=OTHER_PROVIDER),
                             edit(conf, _deps=[runner])]) == []


def test_each_enforcing_conf_is_checked() -> None:
    """A conf that does not enforce, or one without a runner list, does not stop the check of the next one."""
    runner, office, conf = _runner_plan()
    idle = res(T.WORKSPACE_CONF, "a-conf", {"customConfig": {"enableIpAccessLists": False}}, provider=OTHER_PROVIDER)
    assert messages(RUNNER, [idle, runner, office, edit(conf, _deps=[runner])]) == [
        "WorkspaceConf ws-conf switches on IP access lists without waiting for IpAccessList office: make it depend "
        "on every list, so none is created under enforcement"]
    bare = res(T.WORKSPACE_CONF, "bare-conf", {"customConfig": {"enableIpAccessLists": True}},
               provider=OTHER_PROVIDER)
    late = edit(conf, _deps=[runner])
    assert messages(RUNNER, [bare, runner, office, late]) == [
        NO_RUNNER.replace("ws-conf", "bare-conf"),
        "WorkspaceConf ws-conf switches on IP access lists without waiting for IpAccessList office: make it depend "
        "on every list, so none is created under enforcement"]


# === reachability: a first deploy creates only what can exist ==========================================

ORDER = "first-deploy-creates-only-what-can-exist"
FIRST = {"firstDeploy": True}


def _first_deploy_plan(entity: Any = "ml_dev_catalog.models.churn", table: Any = "ml_dev_catalog.logs.payload",
                       key_source: Any = "Microsoft.Storage") -> list[ResourceView]:
    return [
        res(T.CATALOG, "catalog", {"name": "ml_dev_catalog"}),
        res(T.CATALOG, "other", {"name": "ml_other"}),
        res(T.MODEL_SERVING, "churn", {"config": {"servedEntities": [
            {"entityName": "ml_shared.models.base", "entityVersion": "1"},
            {"entityName": entity, "entityVersion": "3"}]}}),
        res(T.QUALITY_MONITOR, "monitor", {"tableName": table}),
        res(T.WORKSPACE, "workspace", {"parameters": {"encryption": {"value": {"keySource": key_source}}}}),
    ]


SERVES = ("ModelServing churn serves ml_dev_catalog.models.churn version 3, but its catalog is created in this run: "
          "the version cannot be registered yet (leave the endpoint out of the first deploy: modelRegistered false)")
MONITORS = ("QualityMonitor monitor monitors ml_dev_catalog.logs.payload, but its catalog is created in this run: "
            "the table cannot exist yet (leave the monitor out of the first deploy: tableExists false)")
DBFS_KEY = ("Workspace workspace sets the DBFS root key on a first deploy: the workspace's storage identity must hold "
            "the key first (encryption.dbfsRoot 'prepare', then 'enabled')")


def test_a_first_deploy_finds_each_object_that_cannot_exist_yet() -> None:
    plan = _first_deploy_plan(key_source="microsoft.keyvault")
    assert [(f.message, f.urn) for f in findings(ORDER, plan, FIRST)] == [
        (SERVES, plan[2].urn), (MONITORS, plan[3].urn), (DBFS_KEY, plan[4].urn)]
    # the steady state (an update) may do all of it
    assert messages(ORDER, plan) == messages(ORDER, plan, {"firstDeploy": False}) == []


@pytest.mark.parametrize(("name", "found"), [
    ("ml_dev_catalog.models.churn", True), ("ml_other.models.churn", True), ("ml_shared.models.churn", False),
    ("ml_dev_catalog.models", False), ("ml_dev_catalog.models.churn.v2", False), (UNKNOWN, False), (None, False)])
def test_only_three_part_names_in_a_created_catalog_count(name: Any, found: bool) -> None:
    plan = _first_deploy_plan(entity=name, table=name)
    got = messages(ORDER, plan, FIRST)
    assert len(got) == (2 if found else 0)
    if found:
        assert got[0].startswith(f"ModelServing churn serves {name} version 3, but its catalog")
        assert got[1].startswith(f"QualityMonitor monitor monitors {name}, but its catalog")


def test_no_catalog_no_first_deploy_finding() -> None:
    plan = [v for v in _first_deploy_plan() if v.type != T.CATALOG]
    assert messages(ORDER, plan, FIRST) == []


# === azure: a Key Vault data role before ARM writes keys and secrets ===================================

DATA_ROLE = "deploy-key-vault-data-role-before-write"
ROLES = f"{SUB}/providers/Microsoft.Authorization/roleDefinitions"
ADMINISTRATOR = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
CRYPTO_OFFICER = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"
SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
KV_ID = f"{RG}/providers/Microsoft.KeyVault/vaults/mlops-dev-kv"
NO_KEY_ROLE = ("Key key is written through ARM as the caller on RBAC vault 'mlops-dev-kv' but waits for no role "
               "assignment of Key Vault Crypto Officer or Key Vault Administrator on it (ForbiddenByRbac: Owner and "
               "Contributor carry no data actions)")


def _vault(rbac: Any = True, **props: Any) -> ResourceView:
    return res(T.VAULT, "vault", {"vaultName": "mlops-dev-kv", "properties": {"enableRbacAuthorization": rbac},
                                  **props}, id=KV_ID)


def _assignment(name: str, role: Any, scope: Any = KV_ID, deps: Sequence[ResourceView] = ()) -> ResourceView:
    return res(T.ROLE_ASSIGNMENT, name, {"roleDefinitionId": role, "scope": scope}, deps=deps)


def _key_plan(role: Any = f"{ROLES}/{CRYPTO_OFFICER}", scope: Any = KV_ID) -> list[ResourceView]:
    vault = _vault()
    officer = _assignment("officer", role, scope)
    wait = res("time:index/sleep:Sleep", "wait", deps=[officer])  # propagation: the key waits through it
    return [vault, officer, wait, res(T.KEY, "key", {"vaultName": "mlops-dev-kv"}, deps=[vault, wait])]


def test_a_key_waiting_for_its_crypto_officer_passes() -> None:
    assert messages(DATA_ROLE, _key_plan()) == []


@pytest.mark.parametrize(("role", "ok"), [
    (f"{ROLES}/{CRYPTO_OFFICER}", True), (f"{ROLES}/{ADMINISTRATOR}", True), (CRYPTO_OFFICER.upper(), True),
    (f"{ROLES}/{CRYPTO_OFFICER}/", True), (f"{ROLES}/{SECRETS_OFFICER}", False), (f"{ROLES}/{SECRETS_USER}", False),
    (UNKNOWN, False), (None, False), ("", False), (14, False)])  # an id that is not a string is unknown
def test_the_role_that_may_write_keys(role: Any, ok: bool) -> None:
    plan = _key_plan(role=role)
    assert findings(DATA_ROLE, plan) == ([] if ok else [Finding(NO_KEY_ROLE, plan[-1].urn)])


@pytest.mark.parametrize(("scope", "ok"), [
    (KV_ID, True), (KV_ID.upper(), True), (KV_ID + "/", True), (RG, True), (SUB, True),
    (KV_ID + "2", False), (f"{RG}/providers/Microsoft.KeyVault/vaults/other", False), (UNKNOWN, False)])
def test_the_scope_that_covers_the_vault(scope: Any, ok: bool) -> None:
    assert messages(DATA_ROLE, _key_plan(scope=scope)) == ([] if ok else [NO_KEY_ROLE])


def test_without_ids_the_scope_is_matched_through_the_graph() -> None:
    vault, officer, wait, key = _key_plan(scope=UNKNOWN)
    preview_vault = dataclasses.replace(vault, id=None)
    on_vault = edit(officer, _deps=[vault])
    assert messages(DATA_ROLE, [preview_vault, on_vault, wait, key]) == []
    assert messages(DATA_ROLE, [vault, on_vault, wait, key]) == []
    assert messages(DATA_ROLE, [preview_vault, edit(officer, scope=KV_ID), wait, key]) == [NO_KEY_ROLE]


def test_an_unknown_sentinel_from_raw_preview_data_is_no_scope() -> None:
    """CrossGuard's raw data marks unknowns with fixed strings: such a scope is matched through the graph."""
    vault, officer, wait, key = _key_plan(scope=SENTINEL)
    assert messages(DATA_ROLE, [vault, edit(officer, _deps=[vault]), wait, key]) == []
    assert messages(DATA_ROLE, [vault, officer, wait, key]) == [NO_KEY_ROLE]


def test_the_role_must_be_waited_for() -> None:
    vault, officer, wait, key = _key_plan()
    assert messages(DATA_ROLE, [vault, officer, wait, edit(key, _deps=[vault])]) == [NO_KEY_ROLE]
    assert messages(DATA_ROLE, [vault, officer, wait, edit(key, _deps=[vault, officer])]) == []


def test_a_secret_needs_a_secrets_role() -> None:
    vault, officer, wait, _ = _key_plan()
    secret = res(T.SECRET, "secret", {"vaultName": "mlops-dev-kv"}, deps=[vault, wait])
    assert findings(DATA_ROLE, [vault, officer, wait, secret]) == [Finding(
        "Secret secret is written through ARM as the caller on RBAC vault 'mlops-dev-kv' but waits for no role "
        "assignment of Key Vault Secrets Officer or Key Vault Administrator on it (ForbiddenByRbac: Owner and "
        "Contributor carry no data actions)", secret.urn)]
    writer = edit(officer, roleDefinitionId=f"{ROLES}/{SECRETS_OFFICER}")
    assert messages(DATA_ROLE, [vault, writer, wait, secret]) == []


@pytest.mark.parametrize(("rbac", "expected"), [
    (False, []), (None, []), ("true", []), (UNKNOWN, [unknown("properties.enableRbacAuthorization")])])
def test_only_an_rbac_vault_needs_the_data_role(rbac: Any, expected: list[str]) -> None:
    vault, _, wait, key = _key_plan()
    got = findings(DATA_ROLE, [_vault(rbac=rbac), wait, key])
    assert [f.message for f in got] == expected
    assert all(f.urn == vault.urn and f.unknown for f in got)


@pytest.mark.parametrize("rbac", [UNKNOWN, False])
def test_a_key_on_a_vault_that_is_not_checked_does_not_end_the_check(rbac: Any) -> None:
    vault, _, wait, key = _key_plan()
    other = dataclasses.replace(_vault(rbac=rbac, vaultName="a-kv"), name="a-vault", urn=urn(T.VAULT, "a-vault"))
    first = res(T.KEY, "a-key", {"vaultName": "a-kv"})
    got = messages(DATA_ROLE, [other, first, vault, wait, key])
    assert got == ([unknown("properties.enableRbacAuthorization")] if rbac is UNKNOWN else []) + [NO_KEY_ROLE]


def test_the_vault_is_found_by_name_or_through_the_graph() -> None:
    vault, _, _, key = _key_plan()
    by_graph = edit(key, vaultName=UNKNOWN, _deps=[vault])
    assert messages(DATA_ROLE, [vault, by_graph]) == [NO_KEY_ROLE]
    # another vault's key, or an unknown name without a dependency: a vault outside the plan, nothing to check
    assert messages(DATA_ROLE, [vault, edit(key, vaultName="other-kv")]) == []
    assert messages(DATA_ROLE, [vault, edit(key, vaultName="a-kv")]) == []
    assert messages(DATA_ROLE, [vault, edit(key, vaultName=UNKNOWN, _deps=[])]) == []
    assert messages(DATA_ROLE, [vault, edit(key, vaultName="", _deps=[vault])]) == [NO_KEY_ROLE]  # empty: no name
    # a vault outside the plan does not stop the check of the next key
    outside = res(T.KEY, "a-key", {"vaultName": "other-kv"})
    assert messages(DATA_ROLE, [outside, vault, edit(key, _deps=[vault])]) == [NO_KEY_ROLE]
    # the vault's own name shown as it is (missing when the vault has none)
    nameless = edit(vault, vaultName=None)
    assert messages(DATA_ROLE, [nameless, edit(key, vaultName=None, _deps=[nameless])]) == [
        NO_KEY_ROLE.replace("'mlops-dev-kv'", "missing")]


# === azure: a private front end reachable from the deploy runner =======================================

REACHABLE = "deploy-private-workspace-reachable"
DBX_ZONE = "privatelink.azuredatabricks.net"
WS_ID = f"{RG}/providers/Microsoft.Databricks/workspaces/mlops-dev-workspace"
VNET_ID = f"{RG}/providers/Microsoft.Network/virtualNetworks/mlops-dev-vnet"
HUB_ID = f"{SUB}/resourceGroups/hub-rg/providers/Microsoft.Network/virtualNetworks/hub-vnet"
ZONE_ID = f"{RG}/providers/Microsoft.Network/privateDnsZones/{DBX_ZONE}"
NO_PE = "a databricks_ui_api private endpoint to it"
NO_ZONE_GROUP = f"that endpoint's DNS zone group in {DBX_ZONE}"
NO_ROUTE = (f"a route from the deploy runner (peerings both ways with a hub VNet, and a link of {DBX_ZONE} to that hub "
            "or the endpoint's record in the hub's existing zone)")


def unreachable(*missing: str) -> str:
    return (f"workspace provider databricks-workspace of Workspace workspace (publicNetworkAccess Disabled) does not "
            f"wait for {'; '.join(missing)}: workspace-level resources would call a front end the deploy runner "
            "cannot reach yet (403)")


def _pe(name: str, target: Any, group: str, **props: Any) -> ResourceView:
    return res(T.PRIVATE_ENDPOINT, name, {"privateEndpointName": name, "privateLinkServiceConnections": [
        {"privateLinkServiceId": target, "groupIds": [group]}], **props})


def _reach_plan() -> dict[str, ResourceView]:
    ws = res(T.WORKSPACE, "workspace", {"publicNetworkAccess": "Disabled",
                                        "parameters": {"customVirtualNetworkId": {"value": VNET_ID}}}, id=WS_ID)
    vnet = res(T.VNET, "vnet", {"virtualNetworkName": "mlops-dev-vnet"}, id=VNET_ID)
    pe = _pe("ui-pe", WS_ID, "databricks_ui_api")
    zg = res(T.DNS_ZONE_GROUP, "ui-pe-dns", {"privateEndpointName": "ui-pe", "privateDnsZoneConfigs": [
        {"privateDnsZoneId": f"{RG}/providers/Microsoft.Network/privateDnsZones/privatelink.blob.core.windows.net"},
        {"privateDnsZoneId": ZONE_ID}]}, deps=[pe])
    zone = res(T.PRIVATE_ZONE, "zone", {"privateZoneName": DBX_ZONE}, id=ZONE_ID)
    out = res(T.VNET_PEERING, "to-hub", {"virtualNetworkName": "mlops-dev-vnet",
                                         "remoteVirtualNetwork": {"id": HUB_ID}}, deps=[vnet])
    back = res(T.VNET_PEERING, "from-hub", {"virtualNetworkName": "hub-vnet", "remoteVirtualNetwork": {"id": VNET_ID}})
    link = res(T.VNET_LINK, "hub-link", {"privateZoneName": DBX_ZONE, "virtualNetwork": {"id": HUB_ID}}, deps=[zone])
    provider = res(T.DATABRICKS_PROVIDER, "databricks-workspace", {"azureWorkspaceResourceId": WS_ID},
                   deps=[pe, zg, out, back, link])
    return {v.name: v for v in (ws, vnet, pe, zg, zone, out, back, link, provider)}


def reach(**changes: ResourceView) -> list[str]:
    plan = {**_reach_plan(), **changes}
    return messages(REACHABLE, list(plan.values()))


def test_a_provider_waiting_for_endpoint_dns_and_route_passes() -> None:
    plan = _reach_plan()
    assert reach() == []
    assert findings(REACHABLE, swap(list(plan.values()), edit(plan["databricks-workspace"], _deps=[]))) == [
        Finding(unreachable(NO_PE, NO_ROUTE), plan["databricks-workspace"].urn)]


@pytest.mark.parametrize(("access", "checked"), [("Disabled", True), ("disabled", True), ("Enabled", False),
                                                 (None, False), (UNKNOWN, False)])
def test_only_a_private_front_end_needs_the_route(access: Any, checked: bool) -> None:
    plan = _reach_plan()
    got = reach(**{"workspace": edit(plan["workspace"], publicNetworkAccess=access),
                   "databricks-workspace": edit(plan["databricks-workspace"], _deps=[])})
    assert got == ([unreachable(NO_PE, NO_ROUTE)] if checked else [])


def test_what_the_provider_waits_for() -> None:
    plan = _reach_plan()
    provider, zg, pe = plan["databricks-workspace"], plan["ui-pe-dns"], plan["ui-pe"]
    out, back, link = plan["to-hub"], plan["from-hub"], plan["hub-link"]
    assert reach(**{provider.name: edit(provider, _deps=[pe, out, back, link])}) == [unreachable(NO_ZONE_GROUP)]
    assert reach(**{provider.name: edit(provider, _deps=[out, back, link])}) == [unreachable(NO_PE)]
    assert reach(**{provider.name: edit(provider, _deps=[zg])}) == [unreachable(NO_ROUTE)]
    for missing in (out, back, link):
        deps = [d for d in (pe, zg, out, back, link) if d is not missing]
        assert reach(**{provider.name: edit(provider, _deps=deps)}) == [unreachable(NO_ROUTE)], missing.name


def test_providers_of_other_workspaces_are_not_checked() -> None:
    plan = _reach_plan()
    other = edit(plan["databricks-workspace"], azureWorkspaceResourceId=WS_ID + "-2", _deps=[])
    assert reach(**{"databricks-workspace": other}) == []
    # an unknown workspace id: the provider's dependency on the workspace decides
    preview = edit(plan["databricks-workspace"], azureWorkspaceResourceId=UNKNOWN, _deps=[plan["workspace"]])
    assert reach(**{"databricks-workspace": preview}) == [unreachable(NO_PE, NO_ROUTE)]


def test_only_a_databricks_ui_api_endpoint_to_this_workspace_counts() -> None:
    for pe in (_pe("ui-pe", WS_ID, "browser_authentication"), _pe("ui-pe", WS_ID + "-2", "databricks_ui_api")):
        assert reach(**{"ui-pe": pe}) == [unreachable(NO_PE)]
    assert reach(**{"ui-pe": _pe("ui-pe", WS_ID.lower(), "DATABRICKS_UI_API")}) == []


@pytest.mark.parametrize(("change", "ok"), [
    ({"privateEndpointName": "ui-pe"}, True),
    ({"privateEndpointName": "other-pe"}, False),  # names known on both sides decide, not the graph
    ({"privateEndpointName": "zz-pe"}, False),
    ({"privateEndpointName": UNKNOWN}, True),  # unknown: the group's dependency on the endpoint decides
    ({"privateEndpointName": UNKNOWN, "_deps": []}, False),
    ({"privateDnsZoneConfigs": [{"privateDnsZoneId": ZONE_ID.upper()}]}, True),
    ({"privateDnsZoneConfigs": [{"privateDnsZoneId": ZONE_ID.replace("azuredatabricks", "blob.core.windows")}]},
     False),
    ({"privateDnsZoneConfigs": [{"privateDnsZoneId": UNKNOWN}], "_deps": ["PE", "ZONE"]}, True),
    ({"privateDnsZoneConfigs": [{"privateDnsZoneId": UNKNOWN}]}, False),
    # a known id that names no zone: the zone resource of that id, whatever the graph says
    ({"privateDnsZoneConfigs": [{"privateDnsZoneId": "zone-1"}], "_deps": ["PE", "ZONE"]}, False),
    ({"privateDnsZoneConfigs": [UNKNOWN]}, False),
    ({"privateDnsZoneConfigs": [{"privateDnsZoneId": ZONE_ID.replace("azuredatabricks", "aaa")}]}, False),
    ({"privateDnsZoneConfigs": None}, False),
], ids=lambda c: str(c) if not isinstance(c, bool) else ("ok" if c else "missing"))
def test_how_the_zone_group_is_matched(change: dict[str, Any], ok: bool) -> None:
    plan = _reach_plan()
    deps = [{"PE": plan["ui-pe"].urn, "ZONE": plan["zone"].urn}[d] for d in change.pop("_deps", ["PE"])]
    zg = edit(plan["ui-pe-dns"], _deps=deps, **change)
    assert reach(**{"ui-pe-dns": zg}) == ([] if ok else [unreachable(NO_ZONE_GROUP)])


def test_the_endpoint_name_unknown_falls_back_to_the_graph() -> None:
    plan = _reach_plan()
    pe = edit(plan["ui-pe"], privateEndpointName=UNKNOWN)
    assert reach(**{"ui-pe": pe}) == []
    assert reach(**{"ui-pe": pe, "ui-pe-dns": edit(plan["ui-pe-dns"], _deps=[])}) == [unreachable(NO_ZONE_GROUP)]


def test_a_zone_id_without_the_zone_type_is_matched_to_the_zone_resource() -> None:
    plan = _reach_plan()
    zone = dataclasses.replace(plan["zone"], id="zone-1")
    zg = edit(plan["ui-pe-dns"], privateDnsZoneConfigs=[{"privateDnsZoneId": "zone-1"}])
    assert reach(zone=zone, **{"ui-pe-dns": zg}) == []
    for other in ("privatelink.blob.core.windows.net", "privatelink.aaa.net"):  # after and before its name
        assert reach(zone=edit(zone, privateZoneName=other), **{"ui-pe-dns": zg}) == [unreachable(NO_ZONE_GROUP)]


def test_a_zone_of_another_name_is_not_the_workspace_zone() -> None:
    plan = _reach_plan()
    blob_zone = edit(plan["zone"], privateZoneName="privatelink.blob.core.windows.net")
    by_graph = edit(plan["ui-pe-dns"], privateDnsZoneConfigs=[{"privateDnsZoneId": UNKNOWN}],
                    _deps=[plan["ui-pe"], plan["zone"]])
    assert reach(**{"zone": blob_zone, "ui-pe-dns": by_graph}) == [unreachable(NO_ZONE_GROUP)]
    assert reach(**{"zone": edit(plan["zone"], privateZoneName=DBX_ZONE.upper()), "ui-pe-dns": by_graph}) == []


@pytest.mark.parametrize(("name", "change"), [
    ("from-hub", {"virtualNetworkName": "other-vnet"}),  # the way back is written on the hub
    ("from-hub", {"remoteVirtualNetwork": {"id": VNET_ID + "-2"}}),  # ... and points at the workspace's VNet
    ("from-hub", {"remoteVirtualNetwork": {"id": UNKNOWN}}),
    ("to-hub", {"virtualNetworkName": "other-vnet"}),  # the way out is written on the workspace's VNet
    ("to-hub", {"remoteVirtualNetwork": {"id": UNKNOWN}}),
    ("to-hub", {"remoteVirtualNetwork": {"id": VNET_ID}}),  # a peering to itself is no hub
    ("hub-link", {"virtualNetwork": {"id": HUB_ID + "-2"}}),  # the zone is linked to another VNet
    ("hub-link", {"privateZoneName": "privatelink.blob.core.windows.net"}),
    ("hub-link", {"privateZoneName": "privatelink.aaa.net"}),
    ("from-hub", {"virtualNetworkName": "a-vnet"}),  # VNet names sorting before the right ones
    ("to-hub", {"virtualNetworkName": "a-vnet"}),
])
def test_each_part_of_the_route(name: str, change: dict[str, Any]) -> None:
    plan = _reach_plan()
    assert reach(**{name: edit(plan[name], **change)}) == [unreachable(NO_ROUTE)]


def test_a_peering_that_leads_nowhere_does_not_hide_the_next_one() -> None:
    plan = _reach_plan()
    nowhere = res(T.VNET_PEERING, "a-peering", {"virtualNetworkName": "mlops-dev-vnet",
                                                "remoteVirtualNetwork": {"id": UNKNOWN}})
    provider = edit(plan["databricks-workspace"], _deps=[nowhere, *plan["databricks-workspace"].dependencies])
    assert messages(REACHABLE, [nowhere, *swap(list(plan.values()), provider)]) == []


def test_a_hub_whose_id_sorts_after_the_workspace_vnet() -> None:
    hub = f"{SUB}/resourceGroups/zz-hub-rg/providers/Microsoft.Network/virtualNetworks/hub-vnet"
    plan = _reach_plan()
    assert reach(**{"to-hub": edit(plan["to-hub"], remoteVirtualNetwork={"id": hub}),
                    "hub-link": edit(plan["hub-link"], virtualNetwork={"id": hub})}) == []


def test_the_route_matched_through_the_graph() -> None:
    plan = _reach_plan()
    vnet = plan["vnet"]
    # the way out names its VNet only through the graph; the link its zone only through the graph
    out = edit(plan["to-hub"], virtualNetworkName=UNKNOWN)
    link = edit(plan["hub-link"], privateZoneName=UNKNOWN)
    assert reach(**{"to-hub": out, "hub-link": link}) == []
    assert reach(**{"to-hub": edit(out, _deps=[])}) == [unreachable(NO_ROUTE)]
    assert reach(**{"hub-link": edit(link, _deps=[])}) == [unreachable(NO_ROUTE)]
    for other in ("privatelink.blob.core.windows.net", "privatelink.aaa.net"):  # a link to a zone of another name
        assert reach(**{"hub-link": link, "zone": edit(plan["zone"], privateZoneName=other)}) == [
            unreachable(NO_ROUTE)]
    # the hub peers back to the VNet by id, or (unknown at preview) through the graph
    back = edit(plan["from-hub"], remoteVirtualNetwork={"id": UNKNOWN}, _deps=[vnet])
    assert reach(**{"from-hub": back}) == []
    assert reach(**{"from-hub": edit(plan["from-hub"], remoteVirtualNetwork={"id": VNET_ID.upper()})}) == []


def test_the_workspace_vnet_by_id_or_through_the_graph() -> None:
    plan = _reach_plan()
    ws, vnet = plan["workspace"], plan["vnet"]
    preview = edit(ws, parameters={"customVirtualNetworkId": {"value": UNKNOWN}}, _deps=[vnet])
    assert reach(workspace=preview) == []
    # no VNet resource in the plan: the id alone decides both peerings
    no_vnet = {k: v for k, v in plan.items() if k != "vnet"}
    assert messages(REACHABLE, list(no_vnet.values())) == []
    wrong_back = {**no_vnet, "from-hub": edit(plan["from-hub"], remoteVirtualNetwork={"id": VNET_ID + "-2"})}
    assert messages(REACHABLE, list(wrong_back.values())) == [unreachable(NO_ROUTE)]
    # neither an id nor a VNet: no peering can be told to be the workspace's
    unknown_vnet = {**no_vnet, "workspace": edit(ws, parameters={"customVirtualNetworkId": {"value": UNKNOWN}})}
    assert messages(REACHABLE, list(unknown_vnet.values())) == [unreachable(NO_ROUTE)]
    # a VNet known only through the graph: the way back is matched through the graph too
    graph_only = {**plan, "workspace": preview, "vnet": dataclasses.replace(vnet, id=None),
                  "from-hub": edit(plan["from-hub"], _deps=[vnet])}
    assert messages(REACHABLE, list(graph_only.values())) == []


# === azure: one databricks_ui_api endpoint per VNet ====================================================

ONE_UI = "deploy-one-ui-api-endpoint-per-vnet"
SUBNET_ID = f"{VNET_ID}/subnets/pe-subnet"


def _ui(name: str, subnet: Any = SUBNET_ID, deps: Sequence[ResourceView] = ()) -> ResourceView:
    pe = _pe(name, WS_ID, "databricks_ui_api", subnet={"id": subnet})
    return edit(pe, _deps=deps)


def _ws() -> ResourceView:
    return res(T.WORKSPACE, "workspace", {}, id=WS_ID)


def test_two_ui_api_endpoints_in_one_vnet() -> None:
    b, a, c = _ui("pe-b"), _ui("pe-a", SUBNET_ID.upper().replace("/SUBNETS/", "/subnets/")), _ui("pe-c")
    assert findings(ONE_UI, [_ws(), b, a]) == [Finding(
        "2 databricks_ui_api private endpoints to Workspace workspace in VNet mlops-dev-vnet (pe-a, pe-b): one serves "
        "both front end and back end, two overwrite each other's DNS record", a.urn)]
    assert messages(ONE_UI, [_ws(), b, a, c])[0].startswith("3 databricks_ui_api private endpoints to Workspace "
                                                           "workspace in VNet mlops-dev-vnet (pe-a, pe-b, pe-c)")
    assert messages(ONE_UI, [_ws(), _ui("pe-a")]) == []


def test_endpoints_in_different_vnets_are_fine() -> None:
    other = f"{RG}/providers/Microsoft.Network/virtualNetworks/hub-vnet/subnets/pe-subnet"
    assert messages(ONE_UI, [_ws(), _ui("pe-a"), _ui("pe-b", other)]) == []
    # each VNet with two, reported in VNet order
    got = messages(ONE_UI, [_ws(), _ui("pe-d", other), _ui("pe-a"), _ui("pe-b"), _ui("pe-c", other)])
    assert [m.split(" (")[0] for m in got] == [
        "2 databricks_ui_api private endpoints to Workspace workspace in VNet hub-vnet",
        "2 databricks_ui_api private endpoints to Workspace workspace in VNet mlops-dev-vnet"]


def test_the_endpoint_vnet_through_its_subnet_resource() -> None:
    subnet = res(T.SUBNET, "pe-subnet", {"resourceGroupName": "mlops-dev-rg", "virtualNetworkName": "Mlops-Dev-Vnet"})
    nameless = edit(subnet, virtualNetworkName=UNKNOWN)
    a, b = _ui("pe-a", UNKNOWN, [subnet]), _ui("pe-b", "not-a-subnet-id", [subnet])
    assert messages(ONE_UI, [_ws(), subnet, a, b]) == [
        "2 databricks_ui_api private endpoints to Workspace workspace in VNet mlops-dev-vnet (pe-a, pe-b): one serves "
        "both front end and back end, two overwrite each other's DNS record"]
    # nothing tells the VNet: never grouped with another endpoint
    assert messages(ONE_UI, [_ws(), nameless, _ui("pe-a", UNKNOWN, [nameless]), _ui("pe-b", UNKNOWN, [nameless])]) \
        == []
    assert messages(ONE_UI, [_ws(), subnet, _ui("pe-a", UNKNOWN), _ui("pe-b", UNKNOWN)]) == []


# === azure: the DBFS root's private endpoints ==========================================================

DBFS = "deploy-dbfs-root-private-endpoints"
MRG = f"{SUB}/resourceGroups/mlops-dev-mrg"
DBFS_ID = f"{MRG}/providers/Microsoft.Storage/storageAccounts/mlopsdevdbfs"


def _dbfs_ws(**props: Any) -> ResourceView:
    base = {"defaultStorageFirewall": "Enabled", "managedResourceGroupId": MRG,
            "parameters": {"storageAccountName": {"value": "mlopsdevdbfs"}}}
    return res(T.WORKSPACE, "workspace", {k: v for k, v in {**base, **props}.items() if v is not None}, id=WS_ID)


def no_dbfs_pe(service: str) -> str:
    return (f"Workspace workspace has defaultStorageFirewall Enabled but no {service} private endpoint to its DBFS "
            "root storage account mlopsdevdbfs: classic clusters and jobs cannot reach root storage")


def test_a_firewalled_dbfs_root_with_both_endpoints_passes() -> None:
    ws = _dbfs_ws()
    assert messages(DBFS, [ws, _pe("dfs", DBFS_ID, "dfs"), _pe("blob", DBFS_ID.upper(), "BLOB")]) == []
    assert findings(DBFS, [ws, _pe("blob", DBFS_ID, "blob")]) == [Finding(no_dbfs_pe("dfs"), ws.urn)]
    assert messages(DBFS, [ws]) == [no_dbfs_pe("dfs"), no_dbfs_pe("blob")]


@pytest.mark.parametrize(("firewall", "checked"), [("Enabled", True), ("enabled", True), ("Disabled", False),
                                                   (None, False)])
def test_only_a_storage_firewall_needs_the_endpoints(firewall: Any, checked: bool) -> None:
    assert messages(DBFS, [_dbfs_ws(defaultStorageFirewall=firewall)]) == (
        [no_dbfs_pe("dfs"), no_dbfs_pe("blob")] if checked else [])


def test_the_dbfs_root_account_name() -> None:
    ws = _dbfs_ws(parameters={"storageAccountName": {"value": UNKNOWN}})
    assert [(f.message, f.unknown, f.urn) for f in findings(DBFS, [ws])] == [
        (unknown("parameters.storageAccountName.value"), True, ws.urn)]
    missing = ("Workspace workspace has defaultStorageFirewall Enabled but parameters.storageAccountName is missing: "
               "Databricks names the DBFS root account at creation, so no private endpoint can target it and classic "
               "compute cannot reach root storage")
    assert messages(DBFS, [_dbfs_ws(parameters={})]) == [missing]
    assert messages(DBFS, [_dbfs_ws(parameters={"storageAccountName": {"value": ""}})]) == [missing]
    # each workspace is checked: one without a firewall or a name does not stop the next
    open_ws = dataclasses.replace(_dbfs_ws(defaultStorageFirewall="Disabled"), name="a-open",
                                  urn=urn(T.WORKSPACE, "a-open"))
    assert messages(DBFS, [open_ws, _dbfs_ws()]) == [no_dbfs_pe("dfs"), no_dbfs_pe("blob")]
    second = dataclasses.replace(_dbfs_ws(), name="second", urn=urn(T.WORKSPACE, "second"))
    assert messages(DBFS, [_dbfs_ws(parameters={}), ws, second]) == [
        missing, unknown("parameters.storageAccountName.value"),
        *(m.replace("Workspace workspace", "Workspace second") for m in (no_dbfs_pe("dfs"), no_dbfs_pe("blob")))]


@pytest.mark.parametrize(("target", "group_id", "ok"), [
    (DBFS_ID, MRG, True),
    (f"{SUB}/resourceGroups/elsewhere/providers/Microsoft.Storage/storageAccounts/mlopsdevdbfs", MRG, False),
    (f"{SUB}/resourceGroups/elsewhere/providers/Microsoft.Storage/storageAccounts/mlopsdevdbfs", UNKNOWN, True),
    (f"{MRG}/providers/Microsoft.Storage/storageAccounts/mlopsdevdbfs2", UNKNOWN, False),
    (f"{MRG}/providers/Microsoft.Storage/storageAccounts/xmlopsdevdbfs", None, False),
    (f"{SUB}/resourceGroups/zz-rg/providers/Microsoft.Storage/storageAccounts/mlopsdevdbfs", MRG, False),
])
def test_the_endpoint_targets_the_dbfs_root_account(target: str, group_id: Any, ok: bool) -> None:
    ws = _dbfs_ws(managedResourceGroupId=group_id)
    got = messages(DBFS, [ws, _pe("dfs", target, "dfs"), _pe("blob", DBFS_ID, "blob")])
    assert got == ([] if ok else [no_dbfs_pe("dfs")])


def test_endpoints_built_from_the_workspace_outputs_count_at_preview() -> None:
    ws = _dbfs_ws()
    dfs, blob = _pe("dfs", UNKNOWN, "dfs"), _pe("blob", UNKNOWN, "blob")
    assert messages(DBFS, [ws, edit(dfs, _deps=[ws]), edit(blob, _deps=[ws])]) == []
    assert messages(DBFS, [ws, dfs, edit(blob, _deps=[ws])]) == [no_dbfs_pe("dfs")]


def test_every_connection_of_an_endpoint_is_looked_at() -> None:
    ws = _dbfs_ws()
    manual = res(T.PRIVATE_ENDPOINT, "dfs", {"manualPrivateLinkServiceConnections": [
        UNKNOWN, {"privateLinkServiceId": DBFS_ID, "groupIds": ["blob"]},
        {"privateLinkServiceId": DBFS_ID, "groupIds": ["dfs"]}]})
    assert messages(DBFS, [ws, manual]) == []
    both = res(T.PRIVATE_ENDPOINT, "both", {"privateLinkServiceConnections": [
        {"privateLinkServiceId": WS_ID, "groupIds": ["dfs"]}], "manualPrivateLinkServiceConnections": [
        {"privateLinkServiceId": DBFS_ID, "groupIds": ["dfs"]}]})
    assert messages(DBFS, [ws, both]) == [no_dbfs_pe("blob")]


# === azure: the secret scope's vault readable by Databricks ============================================

SCOPE_READABLE = "deploy-secret-scope-vault-readable"
UNREADABLE = ("secret scope 'mlops-dev-kv' reads vault 'mlops-dev-kv', but no role assignment gives Key Vault Secrets "
              "User on it: every secret read by the AzureDatabricks app fails")


def _scope(resource_id: Any = KV_ID, deps: Sequence[ResourceView] = ()) -> ResourceView:
    return res(T.SECRET_SCOPE, "scope", {"name": "mlops-dev-kv", "keyvaultMetadata": {"resourceId": resource_id}},
               deps=deps)


@pytest.mark.parametrize(("role", "ok"), [(SECRETS_USER, True), (SECRETS_OFFICER, True), (ADMINISTRATOR, True),
                                          (CRYPTO_OFFICER, False)])
def test_the_roles_that_let_databricks_read(role: str, ok: bool) -> None:
    scope = _scope()
    got = findings(SCOPE_READABLE, [_vault(), scope, _assignment("reader", f"{ROLES}/{role}")])
    assert got == ([] if ok else [Finding(UNREADABLE, scope.urn)])


def test_a_reader_on_a_parent_scope_counts_and_one_on_another_vault_does_not() -> None:
    assert messages(SCOPE_READABLE, [_vault(), _scope(), _assignment("r", SECRETS_USER, RG)]) == []
    assert messages(SCOPE_READABLE, [_vault(), _scope(), _assignment("r", SECRETS_USER, KV_ID + "2")]) == [UNREADABLE]


def test_scopes_that_need_no_vault_role() -> None:
    databricks_backed = res(T.SECRET_SCOPE, "a-scope", {"name": "plain"})
    assert messages(SCOPE_READABLE, [_vault(), databricks_backed]) == []
    assert messages(SCOPE_READABLE, [_vault(), databricks_backed, _scope()]) == [UNREADABLE]
    assert messages(SCOPE_READABLE, [_vault(rbac=False), _scope()]) == []  # access policies
    policies = dataclasses.replace(_vault(rbac=False), name="a-vault", urn=urn(T.VAULT, "a-vault"), id=KV_ID + "-ap")
    assert messages(SCOPE_READABLE, [policies, _vault(), _scope(KV_ID + "-ap"), _scope()]) == [UNREADABLE]
    assert messages(SCOPE_READABLE, [_vault(rbac=None), _scope()]) == [UNREADABLE]  # unset: RBAC is checked


def test_a_vault_outside_the_plan_is_matched_by_its_id() -> None:
    other = f"{RG}/providers/Microsoft.KeyVault/vaults/shared-kv"
    assert messages(SCOPE_READABLE, [_scope(other), _assignment("r", SECRETS_USER, other)]) == []
    assert messages(SCOPE_READABLE, [_scope(other), _assignment("r", SECRETS_USER, KV_ID)]) == [
        f"secret scope 'mlops-dev-kv' reads vault {other!r}, but no role assignment gives Key Vault Secrets User on "
        "it: every secret read by the AzureDatabricks app fails"]


def test_an_unknown_vault_id_at_preview() -> None:
    vault = _vault()
    scope = _scope(UNKNOWN)
    got = findings(SCOPE_READABLE, [vault, scope])
    assert [(f.message, f.unknown, f.urn) for f in got] == [(unknown("keyvaultMetadata.resourceId"), True, scope.urn)]
    assert messages(SCOPE_READABLE, [vault, _scope("")]) == [unknown("keyvaultMetadata.resourceId")]  # empty: no id
    # the scope built from the vault's outputs: the vault is known through the graph
    assert messages(SCOPE_READABLE, [vault, _scope(UNKNOWN, [vault]), _assignment("r", SECRETS_USER)]) == []
    assert messages(SCOPE_READABLE, [vault, _scope(UNKNOWN, [vault])]) == [UNREADABLE]
    # every scope is checked: an undecided one does not stop the next
    second = dataclasses.replace(_scope(), name="second", urn=urn(T.SECRET_SCOPE, "second"))
    assert messages(SCOPE_READABLE, [vault, scope, second]) == [unknown("keyvaultMetadata.resourceId"), UNREADABLE]


# === azure: no soft-deleted name collision =============================================================

SOFT_DELETE = "deploy-no-soft-deleted-name-collision"


def _purge_vault(**props: Any) -> ResourceView:
    properties = {"enablePurgeProtection": True, "softDeleteRetentionInDays": 7, **props}
    return res(T.VAULT, "vault", {"vaultName": "mlops-dev-kv", "properties": {
        k: v for k, v in properties.items() if v is not None}})


def collision(days: int) -> str:
    return (f"key vault mlops-dev-kv has purge protection and a fixed name but is neither protected nor retained: "
            f"after `pulumi destroy` the soft-deleted vault holds the name for {days} days and the next `up` fails "
            "(vault already exists in deleted state); protect it, or turn purge protection off where it holds no "
            "keys and purge after destroy")


def test_a_disposable_purge_protected_vault_with_a_fixed_name() -> None:
    vault = _purge_vault()
    assert findings(SOFT_DELETE, [vault]) == [Finding(collision(7), vault.urn)]
    assert messages(SOFT_DELETE, [_purge_vault(softDeleteRetentionInDays=None)]) == [collision(90)]
    assert messages(SOFT_DELETE, [_purge_vault(createMode="default")]) == [collision(7)]


@pytest.mark.parametrize("change", [
    {"enablePurgeProtection": False}, {"enablePurgeProtection": None}, {"enablePurgeProtection": "true"},
    {"createMode": "recover"}, {"createMode": "Recover"}])
def test_vaults_that_leave_no_name_behind(change: dict[str, Any]) -> None:
    assert messages(SOFT_DELETE, [_purge_vault(**change)]) == []


@pytest.mark.parametrize("first", [{"enablePurgeProtection": False}, {"protect": True}])
def test_a_vault_that_is_fine_does_not_end_the_check(first: dict[str, Any]) -> None:
    fine = _purge_vault(**{k: v for k, v in first.items() if k != "protect"})
    fine = dataclasses.replace(fine, name="a-vault", urn=urn(T.VAULT, "a-vault"), protect=bool(first.get("protect")))
    assert messages(SOFT_DELETE, [fine, _purge_vault()]) == [collision(7)]


def test_protected_retained_or_generated_names_are_fine() -> None:
    vault = _purge_vault()
    assert messages(SOFT_DELETE, [dataclasses.replace(vault, protect=True)]) == []
    assert messages(SOFT_DELETE, [dataclasses.replace(vault, retain_on_delete=True)]) == []
    # CrossGuard cannot see retainOnDelete (None): only protect counts there
    assert messages(SOFT_DELETE, [dataclasses.replace(vault, retain_on_delete=None)]) == [collision(7)]
    assert messages(SOFT_DELETE, [edit(vault, vaultName=UNKNOWN)]) == []
    suffix = res("random:index/randomString:RandomString", "suffix")
    name = res("pulumi:providers:random", "other")
    between = res("time:index/sleep:Sleep", "between", deps=[suffix])
    assert messages(SOFT_DELETE, [suffix, between, edit(vault, _deps=[between])]) == []
    assert messages(SOFT_DELETE, [name, edit(vault, _deps=[name])]) == [collision(7)]
    assert messages(SOFT_DELETE, [edit(vault, _deps=[urn("random:index/randomString:RandomString", "gone")])]) == [
        collision(7)]


# === unity_catalog: the deployer keeps ownership =======================================================

OWNERSHIP = "uc-deployer-keeps-ownership"
DEPLOYER = "1d2c3b4a-5f6e-4d7c-8b9a-0f1e2d3c4b5a"


def _owned(owner: Any = "mlops-platform-admins") -> list[ResourceView]:
    catalog = res(T.CATALOG, "catalog", {"name": "ml_dev_catalog", "owner": owner})
    schema = res(T.SCHEMA, "schema", {"name": "models"}, deps=[catalog])
    grants = res(T.GRANTS, "a-grants", {"schema": "ml_dev_catalog.models"}, deps=[schema])
    return [catalog, schema, grants]


def handed(owner: str, kind: str = "group", later: int = 2, first: str = "Grants a-grants") -> str:
    return (f"Catalog catalog hands ownership to {kind} {owner!r} in the call that creates it, but {later} later "
            f"create(s) need privileges on it (first: {first}) and the deploying principal is not {owner!r}"
            + (" nor a member of it" if kind == "group" else "")
            + "; leave owner unset (the deployer keeps it) and grant MANAGE through Grants")


def test_an_owner_other_than_the_deployer_blocks_the_later_creates() -> None:
    plan = _owned()
    assert findings(OWNERSHIP, plan) == [Finding(handed("mlops-platform-admins"), plan[0].urn)]
    assert messages(OWNERSHIP, _owned(DEPLOYER)) == [handed(DEPLOYER, "service principal")]
    assert messages(OWNERSHIP, _owned(DEPLOYER.upper())) == [handed(DEPLOYER.upper(), "service principal")]


@pytest.mark.parametrize("owner", [None, ""])
def test_no_owner_the_deployer_keeps_it(owner: Any) -> None:
    assert messages(OWNERSHIP, _owned(owner)) == []


def test_the_deployer_itself_may_own() -> None:
    assert messages(OWNERSHIP, _owned(DEPLOYER), {"deployerPrincipals": [DEPLOYER.upper()]}) == []
    assert messages(OWNERSHIP, _owned("mlops-deployers"), {"deployerPrincipals": ["MLOPS-Deployers"]}) == []
    assert messages(OWNERSHIP, _owned(DEPLOYER), {"deployerPrincipals": None}) == [
        handed(DEPLOYER, "service principal")]


def test_nothing_created_later_on_it_nothing_to_block() -> None:
    catalog, schema, _ = _owned()
    assert messages(OWNERSHIP, [catalog]) == []
    azure_only = res(T.ROLE_ASSIGNMENT, "ra", deps=[catalog])
    assert messages(OWNERSHIP, [catalog, azure_only]) == []
    assert messages(OWNERSHIP, [catalog, azure_only, schema]) == [handed("mlops-platform-admins", later=1,
                                                                        first="Schema schema")]


def test_an_unknown_owner_is_decided_at_update() -> None:
    catalog, schema, _ = _owned(UNKNOWN)
    assert [(f.message, f.unknown) for f in findings(OWNERSHIP, [catalog, schema])] == [
        (unknown("Catalog catalog owner"), True)]
    assert messages(OWNERSHIP, [catalog]) == []


def _membership(group: str = "mlops-platform-admins", app: str = DEPLOYER, by_id: bool = True) -> list[ResourceView]:
    grp = res(T.GROUP, "admins", {"displayName": group}, id="g-1")
    sp = res(T.SERVICE_PRINCIPAL, "deployer", {"applicationId": app}, id="sp-1")
    member = res(T.GROUP_MEMBER, "member", {"groupId": "g-1", "memberId": "sp-1"} if by_id else
                 {"groupId": UNKNOWN, "memberId": UNKNOWN}, deps=[] if by_id else [grp, sp])
    return [grp, sp, member]


@pytest.mark.parametrize("by_id", [True, False], ids=["by-id", "through-the-graph"])
def test_the_deployer_as_a_member_of_the_owner_group(by_id: bool) -> None:
    config = {"deployerPrincipals": [DEPLOYER]}
    assert messages(OWNERSHIP, [*_owned(), *_membership(by_id=by_id)], config) == []
    for other in ("other", "a-group"):  # after and before the owner's name
        assert messages(OWNERSHIP, [*_owned(), *_membership(group=other, by_id=by_id)], config) == [
            handed("mlops-platform-admins")]
    assert messages(OWNERSHIP, [*_owned(), *_membership(app="2" + DEPLOYER[1:], by_id=by_id)], config) == [
        handed("mlops-platform-admins")]
    assert messages(OWNERSHIP, [*_owned(), *_membership(by_id=by_id)]) == [handed("mlops-platform-admins")]


def test_every_ownable_securable_is_checked() -> None:
    catalog, schema, grants = _owned()
    # one skipped (no owner, nothing created on it, an unknown owner, the deployer's) does not end the check
    skipped = [res(T.EXTERNAL_LOCATION, "a-location", {"name": "loc"}),
               res(T.EXTERNAL_LOCATION, "b-location", {"name": "loc", "owner": "mlops-ml-engineers"}),
               res(T.STORAGE_CREDENTIAL, "c-credential", {"owner": UNKNOWN}),
               res(T.VOLUME, "d-volume", {"owner": DEPLOYER})]
    later = res(T.GRANTS, "e-grants", deps=skipped[2:])
    got = messages(OWNERSHIP, [*skipped, later, catalog, schema, grants], {"deployerPrincipals": [DEPLOYER]})
    assert got == [unknown("StorageCredential c-credential owner"), handed("mlops-platform-admins")]
    owned_schema = edit(schema, owner="mlops-ml-engineers")
    got = messages(OWNERSHIP, [catalog, owned_schema, grants])
    assert got == [handed("mlops-platform-admins"),
                   "Schema schema hands ownership to group 'mlops-ml-engineers' in the call that creates it, but 1 "
                   "later create(s) need privileges on it (first: Grants a-grants) and the deploying principal is not "
                   "'mlops-ml-engineers' nor a member of it; leave owner unset (the deployer keeps it) and grant "
                   "MANAGE through Grants"]


# === unity_catalog: serverless compute reaches the storage Unity Catalog reads ==========================

REACH_STORAGE = "serverless-storage-reachable"
LAKE_ID = f"{RG}/providers/Microsoft.Storage/storageAccounts/mlopsdevlake"


def _serverless_plan(**lake: Any) -> dict[str, ResourceView]:
    account = res(T.STORAGE_ACCOUNT, "lake", {"accountName": "mlopsdevlake", "publicNetworkAccess": "Disabled",
                                              "networkRuleSet": {"defaultAction": "Deny"}, **lake}, id=LAKE_ID)
    location = res(T.EXTERNAL_LOCATION, "location", {"url": "abfss://ml@mlopsdevlake.dfs.core.windows.net/x"})
    catalog = res(T.CATALOG, "catalog", {"name": "ml_dev_catalog",
                                         "storageRoot": "abfss://c@MlopsDevLake.dfs.core.windows.net/"})
    assignment = res(T.METASTORE_ASSIGNMENT, "assignment", {"workspaceId": 123})
    ncc = res(T.NCC, "ncc", {}, id="acct/ncc-1")
    binding = res(T.NCC_BINDING, "ncc-binding", {"networkConnectivityConfigId": "ncc-1", "workspaceId": "123"})
    rules = [res(T.NCC_RULE, f"ncc-{g}", {"networkConnectivityConfigId": "ncc-1", "resourceId": LAKE_ID,
                                          "groupId": g}) for g in ("dfs", "blob")]
    return {v.name: v for v in (account, location, catalog, assignment, ncc, binding, *rules)}


def gaps_line(*gaps: str, posture: str = "public access disabled", readers: str = "Catalog catalog, "
              "ExternalLocation location") -> str:
    return (f"storage account mlopsdevlake ({posture}; read by {readers}) is unreachable from serverless compute: "
            f"{'; '.join(gaps)}")


NO_NCC = "no network connectivity config (NCC) in the stack"
NOT_BOUND = "no NCC bound to this stack's workspace (MwsNccBinding)"


def no_rule(group: str) -> str:
    return f"no private-endpoint rule with groupId {group!r} to it in the bound NCC"


def serverless(rule: str = REACH_STORAGE, **changes: ResourceView | None) -> list[str]:
    plan = {**_serverless_plan(), **changes}
    return messages(rule, [v for v in plan.values() if v is not None])


def test_a_bound_ncc_with_dfs_and_blob_rules_passes() -> None:
    plan = _serverless_plan()
    assert serverless() == []
    assert findings(REACH_STORAGE, [v for v in plan.values() if v.type != T.NCC_RULE]) == [
        Finding(gaps_line(no_rule("dfs"), no_rule("blob")), plan["lake"].urn)]
    assert serverless(**{"ncc-blob": None}) == [gaps_line(no_rule("blob"))]
    assert serverless(ncc=None, **{"ncc-binding": None}) == [gaps_line(NO_NCC)]
    assert serverless(**{"ncc-binding": None}) == [gaps_line(NOT_BOUND)]


@pytest.mark.parametrize(("lake", "posture"), [
    ({"publicNetworkAccess": "Disabled", "networkRuleSet": {"defaultAction": "Allow"}}, "public access disabled"),
    ({"publicNetworkAccess": "disabled"}, "public access disabled"),
    ({"publicNetworkAccess": "Enabled", "networkRuleSet": {"defaultAction": "deny"}}, "network default Deny"),
    ({"publicNetworkAccess": "Enabled", "networkRuleSet": {"defaultAction": "Allow"}}, None),
    ({"publicNetworkAccess": None, "networkRuleSet": None}, None),
])
def test_only_closed_storage_needs_the_serverless_path(lake: dict[str, Any], posture: str | None) -> None:
    plan = _serverless_plan()
    account = edit(plan["lake"], **lake)
    got = serverless(lake=account, **{"ncc-binding": None})
    assert got == ([gaps_line(NOT_BOUND, posture=posture)] if posture else [])


def test_storage_of_another_stack_counts_as_closed() -> None:
    assert [(f.message, f.urn) for f in findings(REACH_STORAGE, [v for k, v in _serverless_plan().items()
                                                                 if k not in ("lake", "ncc-binding")])] == [
        (gaps_line(NOT_BOUND, posture="not in this stack, so counted as closed"), None)]


def test_what_unity_catalog_reads() -> None:
    schema = res(T.SCHEMA, "schema", {"storageRoot": "abfss://s@mlopsdevlake.dfs.core.windows.net/"})
    odd = [res(T.EXTERNAL_LOCATION, "no-url", {}), res(T.EXTERNAL_LOCATION, "unknown-url", {"url": UNKNOWN}),
           res(T.EXTERNAL_LOCATION, "wasbs", {"url": "wasbs://c@mlopsdevlake.blob.core.windows.net/"}),
           res(T.EXTERNAL_LOCATION, "root-not-url", {"storageRoot": "abfss://c@mlopsdevlake.dfs.core.windows.net/"}),
           res(T.CATALOG, "url-not-root", {"url": "abfss://c@mlopsdevlake.dfs.core.windows.net/"})]
    got = serverless(schema=schema, **{"ncc-binding": None}, **{v.name: v for v in odd})
    assert got == [gaps_line(NOT_BOUND, readers="Catalog catalog, ExternalLocation location, Schema schema")]
    # each account on its own line, in name order
    other = res(T.EXTERNAL_LOCATION, "other", {"url": "abfss://c@aaaother.dfs.core.windows.net/"})
    got = serverless(other=other, **{"ncc-binding": None})
    assert [m.split(" (")[0] for m in got] == ["storage account aaaother", "storage account mlopsdevlake"]


def test_the_account_is_found_by_name_or_by_id() -> None:
    plan = _serverless_plan()
    # another account, open, sorting after the one read: it is not the one read
    open_other = res(T.STORAGE_ACCOUNT, "a-other", {"accountName": "zzzother", "publicNetworkAccess": "Enabled"},
                     id=f"{RG}/providers/Microsoft.Storage/storageAccounts/zzzother")
    assert messages(REACH_STORAGE, [open_other, *(v for k, v in plan.items() if k != "ncc-binding")]) == [
        gaps_line(NOT_BOUND)]
    by_id = edit(plan["lake"], accountName=UNKNOWN)
    assert serverless(lake=by_id, **{"ncc-binding": None}) == [gaps_line(NOT_BOUND)]
    upper = edit(plan["lake"], accountName="MLOPSDEVLAKE", _id=None)
    assert serverless(lake=upper, **{"ncc-binding": None}) == [gaps_line(NOT_BOUND)]
    # neither: another stack's account
    nameless = edit(plan["lake"], accountName=UNKNOWN, _id=LAKE_ID + "2")
    assert serverless(lake=nameless, **{"ncc-binding": None}) == [
        gaps_line(NOT_BOUND, posture="not in this stack, so counted as closed")]


@pytest.mark.parametrize(("binding", "assignment", "bound"), [
    ({"workspaceId": "123"}, {"workspaceId": 123}, True),
    ({"workspaceId": 123}, {"workspaceId": "123"}, True),
    ({"workspaceId": "456"}, {"workspaceId": 123}, False),
    ({"workspaceId": UNKNOWN, "_deps": ["WS"]}, {"workspaceId": 123}, True),
    ({"workspaceId": "456", "_deps": ["WS"]}, {"workspaceId": 123}, False),  # a known id decides
    ({"workspaceId": "456", "_deps": ["WS"]}, {"workspaceId": UNKNOWN}, True),  # no own id known: the graph
    ({"workspaceId": "123", "_deps": ["REF"]}, {"workspaceId": UNKNOWN}, False),  # another stack's output
    ({"workspaceId": "123"}, {"workspaceId": UNKNOWN}, False),  # cannot tell: not counted as bound
    ({"workspaceId": None, "_deps": ["WS"]}, {"workspaceId": 123}, True),
])
def test_which_binding_binds_this_stacks_workspace(binding: dict[str, Any], assignment: dict[str, Any],
                                                   bound: bool) -> None:
    plan = _serverless_plan()
    ws, ref = res(T.WORKSPACE, "workspace"), res(T.STACK_REFERENCE, "prod-ref")
    deps = [{"WS": ws, "REF": ref}[d] for d in binding.pop("_deps", [])]
    changes = {"ncc-binding": edit(plan["ncc-binding"], _deps=deps, **binding),
               "assignment": edit(plan["assignment"], **assignment), "workspace": ws, "prod-ref": ref}
    assert serverless(**changes) == ([] if bound else [gaps_line(NOT_BOUND)])


def test_the_ncc_referenced_by_id_or_through_the_graph() -> None:
    plan = _serverless_plan()
    ncc, binding = plan["ncc"], plan["ncc-binding"]
    assert serverless(ncc=dataclasses.replace(ncc, id="ncc-1")) == []
    assert serverless(ncc=dataclasses.replace(ncc, id="acct/ncc-10")) == [gaps_line(NOT_BOUND)]
    assert serverless(ncc=dataclasses.replace(ncc, id="acct/xncc-1")) == [gaps_line(NOT_BOUND)]
    assert serverless(ncc=dataclasses.replace(ncc, id="zz-ncc")) == [gaps_line(NOT_BOUND)]
    # an empty reference is no id: the graph decides
    empty = {n: edit(plan[n], networkConnectivityConfigId="", _deps=[ncc]) for n in ("ncc-binding", "ncc-dfs",
                                                                                       "ncc-blob")}
    assert serverless(**empty) == []
    preview = dataclasses.replace(ncc, id=None)
    by_graph = edit(binding, networkConnectivityConfigId=UNKNOWN, _deps=[ncc])
    rules = {n: edit(plan[n], networkConnectivityConfigId=UNKNOWN, _deps=[ncc]) for n in ("ncc-dfs", "ncc-blob")}
    assert serverless(ncc=preview, **{"ncc-binding": by_graph}, **rules) == []
    assert serverless(ncc=preview, **rules) == [gaps_line(NOT_BOUND)]
    assert serverless(ncc=preview, **{"ncc-binding": by_graph}) == [gaps_line(no_rule("dfs"), no_rule("blob"))]


@pytest.mark.parametrize(("change", "ok"), [
    ({"groupId": "DFS"}, True), ({"groupId": "blob"}, False), ({"groupId": None}, False),
    ({"resourceId": LAKE_ID.upper() + "/"}, True), ({"resourceId": LAKE_ID + "2"}, False),
    ({"resourceId": f"{RG}/providers/Microsoft.Storage/storageAccounts/xmlopsdevlake"}, False),
    ({"resourceId": UNKNOWN}, False), ({"resourceId": UNKNOWN, "_deps": ["LAKE"]}, True),
    ({"networkConnectivityConfigId": "ncc-2"}, False),
])
def test_what_counts_as_the_dfs_rule(change: dict[str, Any], ok: bool) -> None:
    plan = _serverless_plan()
    deps = [plan["lake"] for _ in change.pop("_deps", [])]
    assert serverless(**{"ncc-dfs": edit(plan["ncc-dfs"], _deps=deps, **change)}) == (
        [] if ok else [gaps_line(no_rule("dfs"))])


def test_a_rule_to_an_account_outside_the_plan_by_graph_cannot_count() -> None:
    plan = _serverless_plan()
    rules = {n: edit(plan[n], resourceId=UNKNOWN, _deps=[plan["lake"]]) for n in ("ncc-dfs", "ncc-blob")}
    assert serverless(lake=None, **rules) == [
        gaps_line(no_rule("dfs"), no_rule("blob"), posture="not in this stack, so counted as closed")]


# === unity_catalog: serverless consumers wait for the NCC ==============================================

WAIT_NCC = "serverless-consumers-wait-for-ncc"


def _consumer(typ: str = T.MODEL_SERVING, name: str = "churn", props: dict[str, Any] | None = None,
              deps: Sequence[str] = ("ncc-binding", "ncc-dfs", "ncc-blob")) -> ResourceView:
    plan = _serverless_plan()
    return res(typ, name, props or {}, deps=[plan[d] for d in deps])


def test_consumers_waiting_for_binding_and_rules_pass() -> None:
    consumers = {c.name: c for c in (_consumer(), _consumer(T.QUALITY_MONITOR, "monitor"),
                                     _consumer(T.ALERT_V2, "alert"))}
    assert serverless(WAIT_NCC, **consumers) == []
    assert serverless(WAIT_NCC, churn=_consumer(deps=["ncc-dfs"])) == [
        "ModelServing churn does not depend on the NCC binding (ncc-binding); serverless compute may start before it "
        "can reach the lakes", "ModelServing churn does not depend on the private-endpoint rule(s) ncc-blob"]
    late = _consumer(deps=[])
    assert [(f.message, f.urn) for f in findings(WAIT_NCC, [*_serverless_plan().values(), late])] == [
        ("ModelServing churn does not depend on the NCC binding (ncc-binding); serverless compute may start before it "
         "can reach the lakes", late.urn),
        ("ModelServing churn does not depend on the private-endpoint rule(s) ncc-blob, ncc-dfs", late.urn)]


def test_the_first_own_binding_is_named() -> None:
    plan = _serverless_plan()
    second = dataclasses.replace(plan["ncc-binding"], name="ncc-binding-2", urn=urn(T.NCC_BINDING, "ncc-binding-2"))
    got = serverless(WAIT_NCC, **{"ncc-binding-2": second}, churn=_consumer(deps=["ncc-dfs", "ncc-blob"]))
    assert got == ["ModelServing churn does not depend on the NCC binding (ncc-binding); serverless compute may "
                   "start before it can reach the lakes"]


def test_waiting_through_another_resource_counts() -> None:
    plan = _serverless_plan()
    gate = res("time:index/sleep:Sleep", "gate", deps=[plan["ncc-binding"], plan["ncc-dfs"], plan["ncc-blob"]])
    assert serverless(WAIT_NCC, gate=gate, churn=res(T.MODEL_SERVING, "churn", deps=[gate])) == []


def test_no_binding_of_this_workspace() -> None:
    plan = _serverless_plan()
    others = edit(plan["ncc-binding"], workspaceId="456")
    assert serverless(WAIT_NCC, churn=_consumer(), **{"ncc-binding": others}) == [
        "ModelServing churn runs on serverless compute, but no NCC is bound to this stack's workspace"]
    assert serverless(WAIT_NCC, **{"ncc-binding": None}) == []  # no consumer: nothing waits
    two = {"churn": _consumer(deps=[]), "alert": _consumer(T.ALERT_V2, "alert", deps=[])}
    assert serverless(WAIT_NCC, **two, **{"ncc-binding": None}) == [
        f"{what} runs on serverless compute, but no NCC is bound to this stack's workspace"
        for what in ("ModelServing churn", "AlertV2 alert")]


@pytest.mark.parametrize(("job", "is_serverless"), [
    ({"tasks": [{"taskKey": "t"}]}, True),
    ({"tasks": [{"taskKey": "t"}, {"taskKey": "u", "newCluster": {"numWorkers": 1}}]}, False),
    ({"tasks": [{"taskKey": "t", "existingClusterId": "c"}]}, False),
    ({"tasks": [{"taskKey": "t", "jobClusterKey": "main"}]}, False),
    ({"tasks": [{"taskKey": "t"}], "jobClusters": [{"jobClusterKey": "main"}]}, False),
    ({"tasks": []}, False), ({}, False), ({"tasks": [UNKNOWN]}, False), ({"tasks": [{"taskKey": "t"}, UNKNOWN]}, True),
])
def test_which_jobs_run_on_serverless_compute(job: dict[str, Any], is_serverless: bool) -> None:
    got = serverless(WAIT_NCC, job=res(T.JOB, "job", job))
    assert got == (["Job job does not depend on the NCC binding (ncc-binding); serverless compute may start before it "
                    "can reach the lakes", "Job job does not depend on the private-endpoint rule(s) ncc-blob, "
                    "ncc-dfs"] if is_serverless else [])


# === unity_catalog: run-as identities hold what they read and register =================================

RUN_AS = "run-as-identity-privileges"
SP = "6b2d3f4e-5c6a-4b7c-9d8e-0f1a2b3c4d5e"
QUERY = ("SELECT avg(js) FROM `ml_dev_catalog`.monitoring.churn_drift_metrics WHERE note = 'a.b.c' "
         "AND window > (SELECT max(w) FROM ml_dev_catalog.monitoring.churn_drift_metrics)")


def _grants(name: str, securable: dict[str, str], *entries: tuple[str, list[str]]) -> ResourceView:
    return res(T.GRANTS, name, {**securable, "grants": [{"principal": p, "privileges": v} for p, v in entries]})


def _run_as_plan(*grants: ResourceView, alert: dict[str, Any] | None = None) -> list[ResourceView]:
    catalog = res(T.CATALOG, "catalog", {"name": "ml_dev_catalog"})
    alert_view = res(T.ALERT_V2, "drift", alert if alert is not None else
                     {"queryText": QUERY, "runAs": {"servicePrincipalName": SP}})
    return [catalog, *grants, alert_view]


ENOUGH = (_grants("cat", {"catalog": "ml_dev_catalog"}, (SP, ["USE_CATALOG"])),
          _grants("mon", {"schema": "ml_dev_catalog.monitoring"}, (SP, ["USE_SCHEMA", "SELECT"])))


def lacks(*what: str, res_label: str = "AlertV2 drift", verb: str = "queries",
          name: str = "ml_dev_catalog.monitoring.churn_drift_metrics") -> str:
    return (f"{res_label} runs as {SP}, which {verb} {name} but holds no {', '.join(what)} in this stack's Grants "
            "(INSUFFICIENT_PERMISSIONS at run time)")


def test_an_alert_whose_principal_may_query_passes() -> None:
    assert messages(RUN_AS, _run_as_plan(*ENOUGH)) == []
    plan = _run_as_plan()
    assert findings(RUN_AS, plan) == [Finding(lacks("USE_CATALOG on ml_dev_catalog", "USE_SCHEMA on "
                                                    "ml_dev_catalog.monitoring", "SELECT on "
                                                    "ml_dev_catalog.monitoring.churn_drift_metrics"), plan[-1].urn)]


@pytest.mark.parametrize(("grants", "lacking"), [
    # privileges pass down: catalog -> schema -> table
    ([("catalog", "ml_dev_catalog", ["USE_CATALOG", "USE_SCHEMA", "SELECT"])], []),
    ([("catalog", "ml_dev_catalog", ["ALL_PRIVILEGES"])], []),
    ([("catalog", "ml_dev_catalog", ["USE_CATALOG"]), ("schema", "ml_dev_catalog.monitoring", ["ALL_PRIVILEGES"])],
     []),
    ([("catalog", "ml_dev_catalog", ["USE_CATALOG", "USE_SCHEMA"]),
      ("table", "ml_dev_catalog.monitoring.churn_drift_metrics", ["SELECT"])], []),
    ([("catalog", "ML_DEV_CATALOG", ["use_catalog", "use_schema", "select"])], []),
    # ... never up, and MANAGE is no data privilege
    ([("catalog", "ml_dev_catalog", ["USE_CATALOG", "MANAGE"]), ("schema", "ml_dev_catalog.monitoring",
                                                                ["USE_SCHEMA"])],
     ["SELECT on ml_dev_catalog.monitoring.churn_drift_metrics"]),
    ([("schema", "ml_dev_catalog.monitoring", ["USE_CATALOG", "USE_SCHEMA", "SELECT"])],
     ["USE_CATALOG on ml_dev_catalog"]),
    ([("catalog", "ml_dev_catalog", ["USE_CATALOG"]), ("schema", "ml_dev_catalog.other", ["USE_SCHEMA", "SELECT"])],
     ["USE_SCHEMA on ml_dev_catalog.monitoring", "SELECT on ml_dev_catalog.monitoring.churn_drift_metrics"]),
    # grants on kinds that pass nothing to a table
    ([("catalog", "ml_dev_catalog", ["USE_CATALOG", "USE_SCHEMA"]),
      ("externalLocation", "ml_dev_catalog.monitoring.churn_drift_metrics", ["SELECT"])],
     ["SELECT on ml_dev_catalog.monitoring.churn_drift_metrics"]),
    ([("catalog", "ml_dev_catalog", ["USE_CATALOG", "USE_SCHEMA"]),
      ("model", "ml_dev_catalog.monitoring.churn_drift_metrics", ["SELECT"])], []),
])
def test_privileges_and_their_inheritance(grants: list[tuple[str, str, list[str]]], lacking: list[str]) -> None:
    views = [_grants(f"g{i}", {kind: name}, (SP.upper(), privileges)) for i, (kind, name, privileges) in
             enumerate(grants)]
    assert messages(RUN_AS, _run_as_plan(*views)) == ([lacks(*lacking)] if lacking else [])


def test_a_single_grant_and_odd_entries() -> None:
    single = res(T.GRANT, "one", {"catalog": "ml_dev_catalog", "principal": SP,
                                  "privileges": ["USE_CATALOG", "USE_SCHEMA", "SELECT", 7]})
    assert messages(RUN_AS, _run_as_plan(single)) == []
    odd = res(T.GRANTS, "odd", {"catalog": "ml_dev_catalog", "grants": [
        "just-a-name", {"principal": UNKNOWN, "privileges": ["SELECT"]}, {"principal": SP, "privileges": ["SELECT"]}]})
    assert messages(RUN_AS, _run_as_plan(odd, *ENOUGH)) == []
    unknown_securable = res(T.GRANTS, "u", {"catalog": UNKNOWN,
                                            "grants": [{"principal": SP, "privileges": ["SELECT"]}]})
    assert messages(RUN_AS, _run_as_plan(unknown_securable, ENOUGH[0])) == [
        lacks("USE_SCHEMA on ml_dev_catalog.monitoring", "SELECT on ml_dev_catalog.monitoring.churn_drift_metrics")]


def test_an_owner_holds_everything_on_what_it_owns() -> None:
    catalog, alert = res(T.CATALOG, "catalog", {"name": "ml_dev_catalog", "owner": SP}), _run_as_plan()[-1]
    assert messages(RUN_AS, [catalog, alert]) == []
    schema = res(T.SCHEMA, "schema", {"catalogName": "ml_dev_catalog", "name": "monitoring", "owner": SP})
    assert messages(RUN_AS, [res(T.CATALOG, "catalog", {"name": "ml_dev_catalog"}), ENOUGH[0], schema, alert]) == []
    assert messages(RUN_AS, [res(T.CATALOG, "catalog", {"name": "ml_dev_catalog"}), schema, alert]) == [
        lacks("USE_CATALOG on ml_dev_catalog")]
    # an owner that is not set owns nothing for anyone (not even a principal whose name is the text 'None')
    nobody = {"queryText": QUERY, "runAs": {"servicePrincipalName": "None"}}
    assert len(messages(RUN_AS, _run_as_plan(alert=nobody))) == 1
    for unknowable in ({"name": "ml_dev_catalog", "owner": UNKNOWN}, {"name": UNKNOWN, "owner": SP}):
        assert len(messages(RUN_AS, [res(T.CATALOG, "catalog", unknowable), res(T.CATALOG, "c2", {
            "name": "ml_dev_catalog"}), alert])) == 1


@pytest.mark.parametrize(("run_as", "principal"), [
    ({"runAs": {"servicePrincipalName": SP}}, SP), ({"runAs": {"userName": "jane@example.com"}}, "jane@example.com"),
    ({"runAsUserName": "ops@example.com"}, "ops@example.com"), ({"runAs": {}}, None), ({}, None)])
def test_the_run_as_principal(run_as: dict[str, Any], principal: str | None) -> None:
    got = messages(RUN_AS, _run_as_plan(alert={"queryText": QUERY, **run_as}))
    assert got == ([lacks("USE_CATALOG on ml_dev_catalog", "USE_SCHEMA on ml_dev_catalog.monitoring",
                          "SELECT on ml_dev_catalog.monitoring.churn_drift_metrics").replace(SP, principal)]
                   if principal else [])


def test_unknown_query_or_principal_is_decided_later() -> None:
    got = findings(RUN_AS, _run_as_plan(alert={"queryText": UNKNOWN, "runAs": {"servicePrincipalName": SP}}))
    assert [(f.message, f.unknown) for f in got] == [(unknown("queryText"), True)]
    got = findings(RUN_AS, _run_as_plan(alert={"queryText": QUERY, "runAs": UNKNOWN}))
    assert [(f.message, f.unknown) for f in got] == [(unknown("runAs"), True)]
    # nothing to read: an unknown principal does not matter
    assert messages(RUN_AS, _run_as_plan(alert={"queryText": "SELECT 1", "runAs": UNKNOWN})) == []
    assert messages(RUN_AS, _run_as_plan(alert={"runAs": {"servicePrincipalName": SP}})) == []


def test_a_table_in_another_stacks_catalog_cannot_be_checked_here() -> None:
    alert = {"queryText": "SELECT * FROM ml_prod_catalog.monitoring.m", "runAs": {"servicePrincipalName": SP}}
    got = findings(RUN_AS, _run_as_plan(alert=alert))
    assert [(f.message, f.unknown) for f in got] == [(
        f"AlertV2 drift reads ml_prod_catalog.monitoring.m, whose catalog is not in this stack; its grants to {SP} "
        "cannot be checked here", True)]
    # ... and it does not stop the check of the next table
    alert["queryText"] += " JOIN ml_dev_catalog.monitoring.churn_drift_metrics"
    assert messages(RUN_AS, _run_as_plan(alert=alert))[1] == lacks(
        "USE_CATALOG on ml_dev_catalog", "USE_SCHEMA on ml_dev_catalog.monitoring",
        "SELECT on ml_dev_catalog.monitoring.churn_drift_metrics")


def _job(**params: Any) -> ResourceView:
    return res(T.JOB, "retrain", {"runAs": {"servicePrincipalName": SP}, "parameters": [
        *({"name": k, "default": v} for k, v in params.items()), "not-a-parameter", {"name": "other", "default": "x"}]})


def test_a_job_declares_what_it_reads_and_where_it_registers() -> None:
    job = _job(uc_reads=" ml_dev_catalog.monitoring.churn_drift_metrics , ml_dev_catalog.logs , ",
               uc_registers_models="ML_DEV_CATALOG.models.churn")
    catalog = res(T.CATALOG, "catalog", {"name": "ml_dev_catalog"})
    assert messages(RUN_AS, [catalog, *ENOUGH, job]) == [lacks(
        "USE_SCHEMA on ml_dev_catalog.models", "CREATE_MODEL on ml_dev_catalog.models", res_label="Job retrain",
        verb="registers models in", name="ml_dev_catalog.models.churn")]
    registers = _grants("models", {"schema": "ml_dev_catalog.models"}, (SP, ["USE_SCHEMA", "CREATE_MODEL"]))
    assert messages(RUN_AS, [catalog, *ENOUGH, registers, job]) == []
    on_catalog = _grants("cat", {"catalog": "ml_dev_catalog"}, (SP, ["USE_CATALOG", "USE_SCHEMA", "CREATE_MODEL"]))
    assert messages(RUN_AS, [catalog, on_catalog, ENOUGH[1], job]) == []
    everything = _grants("models", {"schema": "ml_dev_catalog.models"}, (SP, ["ALL_PRIVILEGES"]))
    assert messages(RUN_AS, [catalog, *ENOUGH, everything, job]) == []
    # names of one, two or four parts are no table or model: nothing to check
    odd = _job(uc_reads="ml_dev_catalog, ml_dev_catalog.x, ml_dev_catalog.x.y.z",
               uc_registers_models="ml_dev_catalog.a.b.c")
    assert messages(RUN_AS, [catalog, odd]) == []
    assert messages(RUN_AS, [catalog, _job()]) == []
    assert messages(RUN_AS, [catalog, _job(uc_reads=None, uc_registers_models="")]) == []


@pytest.mark.parametrize("key", ["uc_reads", "uc_registers_models"])
def test_an_unknown_job_parameter_is_decided_later(key: str) -> None:
    got = findings(RUN_AS, [res(T.CATALOG, "catalog", {"name": "ml_dev_catalog"}), _job(**{key: UNKNOWN})])
    assert [(f.message, f.unknown) for f in got] == [(unknown(f"parameters.{key}"), True)]


def test_every_run_as_resource_is_checked() -> None:
    """An undecided or clean one does not stop the next."""
    catalog = res(T.CATALOG, "catalog", {"name": "ml_dev_catalog"})
    first = res(T.ALERT_V2, "a-first", {"queryText": UNKNOWN, "runAs": {"servicePrincipalName": SP}})
    clean = res(T.ALERT_V2, "b-clean", {"queryText": "SELECT 1"})
    nobody = res(T.ALERT_V2, "c-nobody", {"queryText": QUERY})
    unknown_principal = res(T.ALERT_V2, "d-unknown", {"queryText": QUERY, "runAs": UNKNOWN})
    last = res(T.ALERT_V2, "drift", {"queryText": QUERY, "runAs": {"servicePrincipalName": SP}})
    got = messages(RUN_AS, [catalog, first, clean, nobody, unknown_principal, last])
    assert got == [unknown("queryText"), unknown("runAs"), lacks("USE_CATALOG on ml_dev_catalog", "USE_SCHEMA on "
                                               "ml_dev_catalog.monitoring",
                                               "SELECT on ml_dev_catalog.monitoring.churn_drift_metrics")]


@pytest.mark.parametrize(("sql", "names"), [
    ("SELECT * FROM a.b.c JOIN `d`.`e`.`f` ON x", ["a.b.c", "d.e.f"]),
    ("SELECT * FROM A.B.C, a.b.c", ["a.b.c"]),
    ("SELECT 'x.y.z', \"q.r.s\" FROM t", ["q.r.s"]),
    ("SELECT 'it''s a.b.c' FROM t", []),
    ("SELECT * FROM w.a.b.c, a.b, _x.y1.z_2", ["_x.y1.z_2"]),
    ("SELECT * FROM a.b.c.d", []),
    ("SELECT x.a.b.c", []),
    ("SELECT 1", []),
])
def test_three_part_names_in_a_query(sql: str, names: list[str]) -> None:
    from infra.policy.rules.deploy.unity_catalog import three_part_names

    assert three_part_names(sql) == names


# === unity_catalog: account-wide objects survive a stack's destroy =====================================

SURVIVE = "account-objects-survive-stack-destroy"


@pytest.mark.parametrize(("typ", "verb"), [(T.GROUP, "delete"), (T.METASTORE, "delete"),
                                           (T.SYSTEM_SCHEMA, "disable")])
def test_account_wide_objects_are_protected_and_retained(typ: str, verb: str) -> None:
    obj = res(typ, "obj", stack="test")
    assert [(f.message, f.urn) for f in findings(SURVIVE, [obj])] == [
        (f"protect and retainOnDelete not set: a destroy of stack 'test' would {verb} this account-wide object for "
         "every stack", obj.urn)]
    assert messages(SURVIVE, [dataclasses.replace(obj, protect=True)]) == [
        f"retainOnDelete not set: a destroy of stack 'test' would {verb} this account-wide object for every stack"]
    assert messages(SURVIVE, [dataclasses.replace(obj, retain_on_delete=True)]) == [
        f"protect not set: a destroy of stack 'test' would {verb} this account-wide object for every stack"]
    assert messages(SURVIVE, [dataclasses.replace(obj, protect=True, retain_on_delete=True)]) == []
    # CrossGuard cannot see retainOnDelete: protect alone is checked there
    assert messages(SURVIVE, [dataclasses.replace(obj, protect=True, retain_on_delete=None)]) == []
    assert messages(SURVIVE, [res(T.CATALOG, "catalog")]) == []


# === unity_catalog: a catalog is bound only to workspaces that reach its storage ========================

BOUND = "uc-bound-workspace-reaches-storage"


def _bound_plan(props: dict[str, Any] | None = None, **changes: ResourceView | None) -> list[ResourceView]:
    """The serverless plan, a dfs endpoint to the lake and a binding of the catalog (`props`: the binding's)."""
    plan = _serverless_plan()
    dfs_pe = _pe("lake-dfs", LAKE_ID, "dfs")
    workspace_binding = res(T.WORKSPACE_BINDING, "binding", props if props is not None else {
        "securableName": "ml_dev_catalog", "securableType": "catalog", "workspaceId": "123"})
    views = {**plan, "lake-dfs": dfs_pe, "binding": workspace_binding, **changes}
    return [v for v in views.values() if v is not None]


def other_stack(workspace: str = "'456'", target: str = "Catalog catalog",
                posture: str = "public access disabled") -> str:
    return (f"{target} is bound to workspace {workspace} of another stack, which cannot reach its storage account "
            f"mlopsdevlake ({posture}): no private endpoint, DNS record or NCC rule to it exists there")


def own_stack(*gaps: str, target: str = "Catalog catalog") -> str:
    return (f"{target} is bound to this stack's workspace, which cannot reach its storage account mlopsdevlake: "
            f"{'; '.join(gaps)}")


def test_a_catalog_bound_to_its_own_reachable_workspace_passes() -> None:
    plan = _bound_plan()
    assert messages(BOUND, plan) == []
    binding = next(v for v in plan if v.name == "binding")
    assert findings(BOUND, _bound_plan({**binding.props, "workspaceId": "456"})) == [
        Finding(other_stack(), binding.urn)]
    assert messages(BOUND, _bound_plan({**binding.props, "workspaceId": 456})) == [other_stack("456")]


def test_another_stacks_workspace_on_open_storage_is_fine() -> None:
    plan = _serverless_plan()
    open_lake = edit(plan["lake"], publicNetworkAccess="Enabled", networkRuleSet={"defaultAction": "Allow"})
    binding = {"securableName": "ml_dev_catalog", "workspaceId": "456"}
    assert messages(BOUND, _bound_plan(binding, lake=open_lake)) == []
    deny = edit(open_lake, networkRuleSet={"defaultAction": "Deny"})
    assert messages(BOUND, _bound_plan(binding, lake=deny)) == [other_stack(posture="network default Deny")]


def test_own_workspace_needs_the_serverless_path_and_a_dfs_endpoint() -> None:
    assert messages(BOUND, _bound_plan(**{"ncc-binding": None})) == [own_stack(NOT_BOUND)]
    assert messages(BOUND, _bound_plan(**{"lake-dfs": None})) == [own_stack("no dfs private endpoint for classic "
                                                                            "compute")]
    assert messages(BOUND, _bound_plan(**{"lake-dfs": None, "ncc-dfs": None})) == [
        own_stack(no_rule("dfs"), "no dfs private endpoint for classic compute")]
    # a lake that is closed by its firewall only: classic compute goes through the VNet's service endpoints
    plan = _serverless_plan()
    deny_only = edit(plan["lake"], publicNetworkAccess="Enabled")
    assert messages(BOUND, _bound_plan(lake=deny_only, **{"lake-dfs": None})) == []
    # storage of another stack: the serverless path is all this stack can check
    assert messages(BOUND, _bound_plan(lake=None, **{"lake-dfs": None})) == []


def test_a_workspace_that_cannot_be_told_is_left_alone() -> None:
    binding = {"securableName": "ml_dev_catalog", "workspaceId": UNKNOWN}
    assert messages(BOUND, _bound_plan(binding, **{"ncc-binding": None})) == []


@pytest.mark.parametrize(("binding", "target"), [
    ({"catalogName": "ml_dev_catalog", "workspaceId": "456"}, "Catalog catalog"),
    ({"securableName": "ml_dev_catalog", "securableType": "CATALOG", "workspaceId": "456"}, "Catalog catalog"),
    ({"securableName": "loc", "securableType": "external_location", "workspaceId": "456"},
     "ExternalLocation location"),
    ({"securableName": UNKNOWN, "workspaceId": "456", "_deps": ["catalog"]}, "Catalog catalog"),
])
def test_the_bound_securable(binding: dict[str, Any], target: str) -> None:
    plan = _serverless_plan()
    deps = [plan[d] for d in binding.pop("_deps", [])]
    location = edit(plan["location"], name="loc")
    view = res(T.WORKSPACE_BINDING, "binding", binding, deps=deps)
    assert messages(BOUND, _bound_plan(location=location, binding=view)) == [other_stack(target=target)]


def test_the_bound_catalog_is_the_one_of_that_name() -> None:
    later = res(T.CATALOG, "a-later", {"name": "ml_zzz", "storageRoot": "s3://bucket/x"})
    binding = {"securableName": "ml_dev_catalog", "workspaceId": "456"}
    assert messages(BOUND, [later, *_bound_plan(binding)]) == [other_stack()]


@pytest.mark.parametrize("binding", [
    {"securableName": "cred", "securableType": "storage_credential", "workspaceId": "456"},
    {"securableName": "ml_other", "workspaceId": "456"},
    {"securableName": UNKNOWN, "workspaceId": "456"},
])
def test_bindings_this_rule_cannot_resolve(binding: dict[str, Any]) -> None:
    assert messages(BOUND, _bound_plan(binding)) == []


def test_a_securable_without_abfss_storage_is_not_checked() -> None:
    plan = _serverless_plan()
    binding = {"securableName": "ml_dev_catalog", "workspaceId": "456"}
    for root in (None, UNKNOWN, "s3://bucket/x"):
        assert messages(BOUND, _bound_plan(binding, catalog=edit(plan["catalog"], storageRoot=root))) == []
    # an external location is read by its url, a catalog by its storage root
    url_only = edit(plan["catalog"], storageRoot=None, url="abfss://c@mlopsdevlake.dfs.core.windows.net/")
    assert messages(BOUND, _bound_plan(binding, catalog=url_only)) == []
    # ... and a binding without abfss storage does not end the check of the next one
    s3 = res(T.CATALOG, "s3-catalog", {"name": "ml_s3", "storageRoot": "s3://bucket/x"})
    first = res(T.WORKSPACE_BINDING, "a-binding", {"securableName": "ml_s3", "workspaceId": "456"})
    assert messages(BOUND, [s3, first, *_bound_plan(binding)]) == [other_stack()]
    location = edit(plan["location"], name="loc", storageRoot="abfss://c@mlopsdevlake.dfs.core.windows.net/",
                    url=None)
    assert messages(BOUND, _bound_plan({"securableName": "loc", "securableType": "external_location",
                                        "workspaceId": "456"}, location=location)) == []
