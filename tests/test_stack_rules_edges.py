"""Stack rules at their edges: how references are matched (ids, dependencies, names), every alternative that
satisfies a rule and every exemption, each case one change from the compliant stack of tests/policy_fixtures.py.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from infra.policy.rules import RULES_BY_NAME, ResourceView
from infra.policy.rules import types as T
from infra.policy.rules.base import UNKNOWN
from infra.policy.rules.stack import closure, refers
from tests.policy_fixtures import DELETE, KV_ID, LAW_ID, SA_ID, WS_ID, ZONES, compliant_stack, mutate, urn, view


def messages(rule: str, views: list[ResourceView], config: dict[str, Any] | None = None) -> list[str]:
    return [f.message for f in RULES_BY_NAME[rule].run_stack(views, config)]


def without(views: list[ResourceView], *names: str) -> list[ResourceView]:
    return [v for v in views if v.name not in names]


def changed(views: list[ResourceView], name: str, path: str, value: Any) -> list[ResourceView]:
    return [dataclasses.replace(v, props=mutate(dict(v.props), path, value)) if v.name == name else v for v in views]


def replaced(views: list[ResourceView], name: str, **fields: Any) -> list[ResourceView]:
    return [dataclasses.replace(v, **fields) if v.name == name else v for v in views]


def by_name(views: list[ResourceView], name: str) -> ResourceView:
    return next(v for v in views if v.name == name)


BASE = compliant_stack()
NO_UI = ["Workspace workspace has no private endpoint with groupIds ['databricks_ui_api']"]


# --- references: ids when known, else dependencies ---------------------------------------------------

def test_refers_matches_ids_case_insensitively_and_sub_resources_by_prefix() -> None:
    pe, ws = by_name(BASE, "ui-pe"), by_name(BASE, "workspace")
    assert refers(pe, WS_ID.upper(), ws)
    assert not refers(pe, WS_ID + "x", ws)
    assert not refers(pe, f"{WS_ID}/sub", ws)
    assert refers(pe, f"{WS_ID}/sub", ws, prefix=True)
    assert not refers(pe, f"{WS_ID}x/sub", ws, prefix=True)


def test_refers_follows_dependencies_when_an_id_is_unknown() -> None:
    pe, ws = by_name(BASE, "ui-pe"), by_name(BASE, "workspace")
    linked = dataclasses.replace(pe, dependencies=(ws.urn,))
    assert refers(linked, UNKNOWN, ws)
    assert refers(linked, WS_ID, dataclasses.replace(ws, id=None))
    assert not refers(pe, UNKNOWN, ws)
    assert not refers(pe, "", dataclasses.replace(ws, id=None))
    # one hop through a sub-resource (a diagnostic setting on the blob service of an account)
    blob = view(T.BLOB_SERVICE, name="blob-service", deps=[ws.urn])
    diag = dataclasses.replace(pe, dependencies=(blob.urn,))
    assert refers(diag, UNKNOWN, ws, prefix=True, by_urn={blob.urn: blob})
    assert not refers(diag, UNKNOWN, ws, prefix=False, by_urn={blob.urn: blob})
    assert not refers(diag, UNKNOWN, ws, prefix=True, by_urn={})
    assert not refers(diag, UNKNOWN, ws, prefix=True)


# --- private endpoints and DNS ------------------------------------------------------------------------

PE_RULE = "databricks-workspace-private-endpoint"


def _second_auth_pe(location: str | None) -> list[ResourceView]:
    pe = by_name(BASE, "auth-pe")
    props = mutate(dict(pe.props), "location", location if location else DELETE)
    return [*BASE, dataclasses.replace(pe, name="auth-pe-2", urn=pe.urn + "-2", props=props)]


@pytest.mark.parametrize(("views", "expected"), [
    (changed(BASE, "ui-pe", "privateLinkServiceConnections.0.groupIds", ["DATABRICKS_UI_API"]), []),
    (changed(BASE, "ui-pe", "privateLinkServiceConnections.0.groupIds", ["databricks_ui_api", 7]), []),
    (changed(BASE, "ui-pe", "privateLinkServiceConnections.0.groupIds", []), NO_UI),
    (changed(BASE, "ui-pe", "privateLinkServiceConnections", ["not-a-connection"]), NO_UI),
    (changed(BASE, "ui-pe", "privateLinkServiceConnections", ["not-a-connection", {
        "name": "c", "privateLinkServiceId": WS_ID, "groupIds": ["databricks_ui_api"]}]), []),
    # a manual (approval-based) connection counts too
    ([dataclasses.replace(v, props={**{k: x for k, x in v.props.items() if k != "privateLinkServiceConnections"},
                                    "manualPrivateLinkServiceConnections": v.props["privateLinkServiceConnections"]})
      if v.name == "ui-pe" else v for v in BASE], []),
    # one browser_authentication endpoint per region serves every workspace there
    (_second_auth_pe("westeurope"), []),
    (_second_auth_pe("EastUS2"), ["2 browser_authentication private endpoints in region eastus2; one per region "
                                  "serves every workspace there"]),
    (_second_auth_pe(None), ["2 browser_authentication private endpoints in region eastus2; one per region serves "
                             "every workspace there"]),  # an endpoint without location is in its workspace's
    # a workspace with a public front end needs no browser_authentication endpoint
    (changed(without(BASE, "auth-pe", "auth-pe-dns"), "workspace", "publicNetworkAccess", "Enabled"), []),
    (changed(without(BASE, "auth-pe", "auth-pe-dns"), "workspace", "publicNetworkAccess", "disabled"),
     ["Workspace workspace has public access Disabled but region eastus2 has no browser_authentication private "
      "endpoint (SSO callbacks fail)"]),
    (changed(BASE, "auth-pe", "location", "westeurope"),
     ["Workspace workspace has public access Disabled but region eastus2 has no browser_authentication private "
      "endpoint (SSO callbacks fail)"]),
], ids=["group-case", "group-non-string", "no-group", "no-connection", "connection-after-junk", "manual-connection",
        "other-region",
        "same-region", "region-of-workspace", "public-front-end", "private-front-end", "auth-in-other-region"])
def test_workspace_private_endpoints(views: list[ResourceView], expected: list[str]) -> None:
    assert messages(PE_RULE, views) == expected


def test_a_second_endpoint_to_the_same_region_is_reported_on_the_second() -> None:
    findings = RULES_BY_NAME[PE_RULE].run_stack(_second_auth_pe("eastus2"))
    assert [f.urn for f in findings] == [by_name(BASE, "auth-pe").urn + "-2"]


DNS_RULE = "databricks-workspace-private-dns"
UI_DNS = ["private endpoint ui-pe (databricks_ui_api) has no DNS zone group in privatelink.azuredatabricks.net"]


@pytest.mark.parametrize(("views", "expected"), [
    # zone groups link to their endpoint by name, or (name unknown) by dependency
    (changed(BASE, "ui-pe-dns", "privateEndpointName", "other-pe"), UI_DNS),
    (changed(BASE, "ui-pe-dns", "privateEndpointName", UNKNOWN), []),
    (replaced(changed(BASE, "ui-pe-dns", "privateEndpointName", UNKNOWN), "ui-pe-dns", dependencies=()), UI_DNS),
    (changed(BASE, "ui-pe", "privateEndpointName", UNKNOWN), []),
    # the zone by its id; an id that is not a private DNS zone's names nothing
    (changed(BASE, "ui-pe-dns", "privateDnsZoneConfigs.0.privateDnsZoneId", f"{ZONES}/PrivateLink.AzureDatabricks.net"),
     []),
    (changed(BASE, "ui-pe-dns", "privateDnsZoneConfigs.0.privateDnsZoneId", "privatelink.azuredatabricks.net"), UI_DNS),
    (changed(BASE, "ui-pe-dns", "privateDnsZoneConfigs", ["not-a-config"]), UI_DNS),
    (changed(BASE, "ui-pe-dns", "privateDnsZoneConfigs", []), UI_DNS),
], ids=["other-endpoint", "unknown-name-dependency", "unknown-name-no-dependency", "endpoint-name-unknown",
        "zone-id-case", "zone-id-not-an-id", "config-not-a-mapping", "no-config"])
def test_workspace_private_dns(views: list[ResourceView], expected: list[str]) -> None:
    assert messages(DNS_RULE, views) == expected


def _zone(name: str, props: dict[str, Any], zone_id: str | None = None) -> ResourceView:
    return dataclasses.replace(view(T.PRIVATE_ZONE, props, name=name), id=zone_id, props=props)


@pytest.mark.parametrize(("zone", "expected"), [
    (_zone("zone", {"privateZoneName": "privatelink.azuredatabricks.net"}, "zone-id"), []),
    (_zone("zone", {"privateZoneName": "privatelink.blob.core.windows.net"}, "zone-id"), UI_DNS),
    (_zone("zone", {"privateZoneName": "privatelink.azuredatabricks.net"}, "another-id"), UI_DNS),
])
def test_a_zone_created_in_the_same_stack_is_found_by_reference(zone: ResourceView, expected: list[str]) -> None:
    views = changed([*BASE, zone], "ui-pe-dns", "privateDnsZoneConfigs.0.privateDnsZoneId", "zone-id")
    assert messages(DNS_RULE, views) == expected


def test_a_zone_known_only_by_dependency_is_named_by_its_id() -> None:
    zone = _zone("zone", {}, f"{ZONES}/Privatelink.AzureDatabricks.net")
    views = changed([*BASE, zone], "ui-pe-dns", "privateDnsZoneConfigs.0.privateDnsZoneId", UNKNOWN)
    assert messages(DNS_RULE, views) == UI_DNS
    linked = [dataclasses.replace(v, dependencies=(*v.dependencies, zone.urn)) if v.name == "ui-pe-dns" else v
              for v in views]
    assert messages(DNS_RULE, linked) == []


@pytest.mark.parametrize(("views", "expected"), [
    (without(BASE, "blob-pe", "blob-pe-dns"), ["StorageAccount lake has no private endpoint with groupIds ['blob']"]),
    (without(BASE, "dfs-pe-dns"), ["private endpoint dfs-pe (dfs) has no DNS zone group in "
                                   "privatelink.dfs.core.windows.net"]),
    (changed(BASE, "blob-pe-dns", "privateDnsZoneConfigs.0.privateDnsZoneId",
             f"{ZONES}/privatelink.dfs.core.windows.net"),
     ["private endpoint blob-pe (blob) has no DNS zone group in privatelink.blob.core.windows.net"]),
])
def test_storage_private_endpoints(views: list[ResourceView], expected: list[str]) -> None:
    assert messages("storage-private-endpoints", views) == expected


def test_a_vault_without_endpoint_and_its_finding_urn() -> None:
    findings = RULES_BY_NAME["key-vault-private-endpoint"].run_stack(without(BASE, "kv-pe", "kv-pe-dns"))
    assert [(f.message, f.urn) for f in findings] == [
        ("Vault vault has no private endpoint with groupIds ['vault']", by_name(BASE, "vault").urn)]


# --- diagnostics ----------------------------------------------------------------------------------------

WS_DIAG = ["Workspace workspace has no diagnostic setting sending resource logs (alllogs) to Log Analytics "
           "(found 1 setting(s))"]
KV_DIAG = ["Vault vault has no diagnostic setting sending audit logs (audit or alllogs) to Log Analytics "
           "(found 1 setting(s))"]


@pytest.mark.parametrize(("rule", "views", "expected"), [
    ("databricks-workspace-diagnostic-logs", changed(BASE, "ws-diag", "logs.0.categoryGroup", "ALLLOGS"), []),
    ("databricks-workspace-diagnostic-logs", changed(BASE, "ws-diag", "logs.0.enabled", UNKNOWN), []),
    ("databricks-workspace-diagnostic-logs", changed(BASE, "ws-diag", "logs.0.enabled", "true"), WS_DIAG),
    ("databricks-workspace-diagnostic-logs", changed(BASE, "ws-diag", "logs.0.enabled", DELETE), WS_DIAG),
    ("databricks-workspace-diagnostic-logs", changed(BASE, "ws-diag", "workspaceId", UNKNOWN), []),
    # a setting on a sub-resource counts for storage accounts (their blob service), not for workspaces
    ("databricks-workspace-diagnostic-logs", changed(BASE, "ws-diag", "resourceUri", f"{WS_ID}/sub"),
     [WS_DIAG[0].replace("1 setting", "0 setting")]),
    ("databricks-workspace-diagnostic-logs", changed(BASE, "ws-diag", "workspaceId", ""), WS_DIAG),
    ("databricks-workspace-diagnostic-logs", changed(BASE, "ws-diag", "logs.0.categoryGroup", DELETE), WS_DIAG),
    ("databricks-workspace-diagnostic-logs", changed(BASE, "ws-diag", "logs", ["not-a-log"]), WS_DIAG),
    ("key-vault-diagnostic-logs", changed(BASE, "kv-diag", "logs.0.categoryGroup", "allLogs"), []),
    ("key-vault-diagnostic-logs", changed(BASE, "kv-diag", "logs.0.categoryGroup", "alllogs "), KV_DIAG),
    ("key-vault-diagnostic-logs", changed(BASE, "kv-diag", "logs.0.enabled", False), KV_DIAG),
    ("storage-diagnostic-logs", changed(BASE, "blob-diag", "resourceUri", SA_ID), []),
    ("storage-diagnostic-logs", changed(BASE, "blob-diag", "resourceUri", f"{KV_ID}/blobServices/default"),
     ["StorageAccount lake has no diagnostic setting sending blob service logs (audit or alllogs) to Log Analytics "
      "(found 0 setting(s))"]),
])
def test_diagnostic_settings(rule: str, views: list[ResourceView], expected: list[str]) -> None:
    assert messages(rule, views) == expected


def test_one_good_setting_among_several_is_enough() -> None:
    bad = dataclasses.replace(by_name(BASE, "ws-diag"), name="ws-diag-2", urn=by_name(BASE, "ws-diag").urn + "-2",
                              props={"resourceUri": WS_ID, "workspaceId": LAW_ID, "logs": []})
    assert messages("databricks-workspace-diagnostic-logs", [*BASE, bad]) == []
    assert messages("databricks-workspace-diagnostic-logs",
                    changed([*BASE, bad], "ws-diag", "logs", [])) == [WS_DIAG[0].replace("1 setting", "2 setting")]


# --- network and protection ---------------------------------------------------------------------------------

DELEGATED = "databricks-subnets-delegated"


@pytest.mark.parametrize(("views", "expected"), [
    (changed(BASE, "host", "delegations.0.serviceName", "microsoft.databricks/WORKSPACES"), []),
    (changed(BASE, "host", "delegations.0.serviceName", "Microsoft.Sql/managedInstances"),
     ["subnet public-subnet (customPublicSubnetName) is not delegated to Microsoft.Databricks/workspaces"]),
    (changed(BASE, "host", "delegations", ["not-a-delegation"]),
     ["subnet public-subnet (customPublicSubnetName) is not delegated to Microsoft.Databricks/workspaces"]),
    (changed(changed(BASE, "host", "delegations", []), "workspace", "parameters.customPublicSubnetName.value",
             UNKNOWN), []),
    (changed(changed(BASE, "host", "delegations", []), "workspace", "parameters.customPublicSubnetName.value",
             "elsewhere"), []),  # a subnet of another VNet than this stack's: not this rule's to judge
], ids=["case", "other-service", "not-a-mapping", "name-unknown", "name-elsewhere"])
def test_databricks_subnets_delegated(views: list[ResourceView], expected: list[str]) -> None:
    assert messages(DELEGATED, views) == expected


LOCKED = "prod-resource-group-locked"
NO_LOCK = ["resource group 'mlops-prod-rg' has no CanNotDelete lock in stack 'prod'"]


@pytest.mark.parametrize(("views", "expected"), [
    (changed(BASE, "rg-lock", "level", "ReadOnly"), []),
    (changed(BASE, "rg-lock", "level", "cannotdelete"), []),
    (changed(BASE, "rg-lock", "resourceGroupName", "other-rg"), NO_LOCK),
    (changed(BASE, "rg-lock", "resourceGroupName", "a-other-rg"), NO_LOCK),
    # the group's name unknown at preview: the lock's dependency on it links them
    (changed(BASE, "rg-lock", "resourceGroupName", UNKNOWN), NO_LOCK),
    (replaced(changed(BASE, "rg-lock", "resourceGroupName", UNKNOWN), "rg-lock", dependencies=(urn(T.RESOURCE_GROUP,
                                                                                                  "rg"),)), []),
    (replaced(changed(BASE, "rg", "resourceGroupName", DELETE), "rg-lock", dependencies=(urn(T.RESOURCE_GROUP, "rg"),)),
     []),
], ids=["read-only", "case", "other-group", "other-group-sorting-first", "unknown-unlinked", "unknown-linked",
        "name-missing-linked"])
def test_prod_resource_group_locks(views: list[ResourceView], expected: list[str]) -> None:
    assert messages(LOCKED, views) == expected


def test_resource_group_locks_only_in_protected_stacks() -> None:
    dev_rg = view(T.RESOURCE_GROUP, {"resourceGroupName": "mlops-dev-rg"}, name="rg", stack="dev")
    assert messages(LOCKED, [dev_rg]) == []
    assert messages(LOCKED, [dev_rg], {"protectedStacks": ["dev"]}) == [
        "resource group 'mlops-dev-rg' has no CanNotDelete lock in stack 'dev'"]


# --- Unity Catalog ------------------------------------------------------------------------------------------

UNBOUND = ["catalog 'ml_prod_catalog' has no workspace binding; an ISOLATED catalog without one is unreachable, and "
           "without isolation it is visible everywhere"]
BINDING = urn(T.WORKSPACE_BINDING, "binding")


@pytest.mark.parametrize(("views", "expected"), [
    (replaced(changed(BASE, "binding", "securableName", DELETE), "binding", dependencies=()), UNBOUND),
    (changed(changed(BASE, "binding", "securableName", DELETE), "binding", "catalogName", "ml_prod_catalog"), []),
    (changed(BASE, "binding", "securableType", DELETE), []),  # catalog is the default kind
    (changed(BASE, "binding", "securableType", "CATALOG"), []),
    (changed(BASE, "binding", "securableType", "external_location"), UNBOUND),
    (changed(BASE, "binding", "securableName", "other_catalog"), UNBOUND),
    (changed(BASE, "binding", "securableName", "a_catalog"), UNBOUND),
    (changed(BASE, "binding", "securableName", UNKNOWN), []),  # the dependency on the catalog links them
    (replaced(changed(BASE, "binding", "securableName", UNKNOWN), "binding", dependencies=()), UNBOUND),
], ids=["no-name", "catalog-name", "default-kind", "kind-case", "other-kind", "other-catalog", "catalog-sorting-first",
        "unknown-linked",
        "unknown-unlinked"])
def test_catalog_bindings(views: list[ResourceView], expected: list[str]) -> None:
    assert messages("uc-catalog-bound", views) == expected


def test_a_catalog_is_bound_when_any_binding_names_it() -> None:
    other = dataclasses.replace(by_name(BASE, "binding"), name="other", urn=BINDING + "-2",
                                props={"securableName": "other_catalog", "securableType": "catalog"})
    assert messages("uc-catalog-bound", [*BASE, other]) == []
    assert messages("uc-catalog-bound", [*without(BASE, "binding"), other]) == UNBOUND


SINGLE = "uc-grants-single-owner"


def _grants(name: str, typ: str = T.GRANTS, **props: Any) -> ResourceView:
    return view(typ, {"grants": [], **props} if typ == T.GRANTS else {"principal": "g", "privileges": ["X"], **props},
                name=name)


@pytest.mark.parametrize(("extra", "expected"), [
    ([_grants("a", catalog="c"), _grants("b", catalog="c")],
     ["catalog c is managed by 2 grant resources (a, b); Grants is authoritative and would revoke the others' "
      "privileges"]),
    ([_grants("a", catalog="c"), _grants("b", T.GRANT, catalog="c")],
     ["catalog c is managed by 2 grant resources (a, b); Grants is authoritative and would revoke the others' "
      "privileges"]),
    ([_grants("a", T.GRANT, catalog="c"), _grants("b", T.GRANT, catalog="c")], []),  # additive Grant resources
    ([_grants("a", catalog="c"), _grants("b", schema="c")], []),  # same name, different kinds
    ([_grants("a", catalog="c"), _grants("b", catalog=UNKNOWN)], []),
    ([_grants("a", catalog="c"), _grants("b")], []),
    ([_grants("a"), _grants("b")], []),  # no securable at all: nothing to compare
    ([_grants("a", catalog=UNKNOWN), _grants("b", catalog=UNKNOWN)], []),  # unknown names are not equal names
])
def test_one_authoritative_grants_per_securable(extra: list[ResourceView], expected: list[str]) -> None:
    assert messages(SINGLE, extra) == expected


def test_the_single_owner_finding_is_on_the_last_resource() -> None:
    findings = RULES_BY_NAME[SINGLE].run_stack([_grants("a", catalog="c"), _grants("b", catalog="c")])
    assert [f.urn for f in findings] == [urn(T.GRANTS, "b")]


AFTER = "uc-objects-after-metastore-assignment"
ASSIGNMENT = urn(T.METASTORE_ASSIGNMENT, "assignment")


@pytest.mark.parametrize(("typ", "props", "deps", "expected"), [
    (T.STORAGE_CREDENTIAL, {"name": "cred"}, [], ["StorageCredential x does not depend on the metastore assignment"]),
    (T.EXTERNAL_LOCATION, {"name": "loc"}, [ASSIGNMENT], []),
    (T.VOLUME, {"name": "v"}, [urn(T.CATALOG, "catalog")], []),  # through the catalog, transitively
    (T.GRANTS, {"metastore": "m", "grants": []}, [], []),  # grants on the metastore are account-level
    (T.GRANT, {"metastore": "m", "principal": "g"}, [], []),
    (T.GRANTS, {"catalog": "c", "grants": []}, [], ["Grants x does not depend on the metastore assignment"]),
    (T.WORKSPACE_BINDING, {"securableName": "c"}, [], ["WorkspaceBinding x does not depend on the metastore "
                                                       "assignment"]),
])
def test_unity_catalog_objects_wait_for_the_assignment(typ: str, props: dict[str, Any], deps: list[str],
                                                       expected: list[str]) -> None:
    extra = view(typ, props, name="x", deps=deps)
    assert messages(AFTER, [*BASE, extra]) == expected


def test_no_assignment_in_the_stack_means_nothing_to_wait_for() -> None:
    loose = view(T.CATALOG, name="loose")
    assert messages(AFTER, [*without(BASE, "assignment"), loose]) == []


def test_dependency_cycles_end() -> None:
    a = view(T.SCHEMA, name="a", deps=[urn(T.SCHEMA, "b")])
    b = view(T.SCHEMA, name="b", deps=[urn(T.SCHEMA, "a"), "urn:not-in-the-stack"])
    assert messages(AFTER, [by_name(BASE, "assignment"), a, b]) == [
        "Schema a does not depend on the metastore assignment", "Schema b does not depend on the metastore assignment"]


# --- serving monitors -------------------------------------------------------------------------------------

MONITORED = "serving-endpoints-monitored"
PENDING = "serving-monitoring-pending"
UNMONITORED = ["serving endpoint 'churn-prod' has no quality monitor on its inference table"]
PENDING_NOTE = ["serving endpoint 'churn-prod' is unmonitored until its inference table exists (monitoring=pending); "
                "set monitor.tableExists once it does"]
MONITOR = "churn-monitor"


@pytest.mark.parametrize(("views", "monitored", "pending"), [
    # the monitor found by the table name's stem when it does not depend on the endpoint
    (replaced(BASE, MONITOR, dependencies=()), [], []),
    (replaced(changed(BASE, MONITOR, "tableName", "ml_prod_catalog.model_inference_logs.other"), MONITOR,
              dependencies=()), UNMONITORED, []),
    (replaced(changed(BASE, "churn", "aiGateway.inferenceTableConfig.tableNamePrefix", UNKNOWN), MONITOR,
              dependencies=()), UNMONITORED, []),
    (replaced(changed(BASE, MONITOR, "tableName", UNKNOWN), MONITOR, dependencies=()), UNMONITORED, []),
    # the pending tag lifts the missing monitor (the reminder says so instead); other tags do not
    (changed(without(BASE, MONITOR), "churn", "tags", [{"key": "monitoring", "value": "pending"}]), [], PENDING_NOTE),
    (changed(without(BASE, MONITOR), "churn", "tags", [{"key": "monitoring", "value": "done"}]), UNMONITORED, []),
    (changed(without(BASE, MONITOR), "churn", "tags", [{"key": "team", "value": "pending"}]), UNMONITORED, []),
    (changed(without(BASE, MONITOR), "churn", "tags", ["monitoring=pending"]), UNMONITORED, []),
    # a monitor that exists ends the reminder, tag or not
    (changed(BASE, "churn", "tags", [{"key": "monitoring", "value": "pending"}]), [], []),
    (changed(BASE, MONITOR, "schedule.quartzCronExpression", UNKNOWN), [], []),
    (changed(BASE, MONITOR, "schedule.quartzCronExpression", ""),
     ["monitor churn-monitor has no schedule.quartzCronExpression"], []),
    (changed(BASE, MONITOR, "notifications.onFailure.emailAddresses", []),
     ["monitor churn-monitor has no notifications.onFailure.emailAddresses"], []),
    (changed(BASE, MONITOR, "inferenceLog", DELETE), ["monitor churn-monitor has no inferenceLog profile"], []),
], ids=["stem", "other-table", "prefix-unknown", "table-unknown", "pending", "other-value", "other-key",
        "tag-not-a-mapping", "monitor-exists", "cron-unknown", "cron-empty", "no-emails", "no-profile"])
def test_serving_monitors(views: list[ResourceView], monitored: list[str], pending: list[str]) -> None:
    assert messages(MONITORED, views) == monitored
    assert messages(PENDING, views) == pending


def test_an_endpoint_with_two_matching_connections_counts_once() -> None:
    conn = {"name": "c", "privateLinkServiceId": WS_ID, "groupIds": ["databricks_ui_api"]}
    views = changed(without(BASE, "ui-pe-dns"), "ui-pe", "privateLinkServiceConnections", [conn, conn])
    assert messages(DNS_RULE, views) == UI_DNS


def test_an_unknown_host_subnet_name_does_not_hide_the_container_subnet() -> None:
    views = changed(changed(BASE, "workspace", "parameters.customPublicSubnetName.value", UNKNOWN),
                    "container", "delegations", [])
    assert messages(DELEGATED, views) == [
        "subnet private-subnet (customPrivateSubnetName) is not delegated to Microsoft.Databricks/workspaces"]


def test_an_unprotected_stacks_group_does_not_hide_a_protected_one() -> None:
    dev_rg = view(T.RESOURCE_GROUP, {"resourceGroupName": "mlops-dev-rg"}, name="dev-rg", stack="dev")
    assert messages(LOCKED, [dev_rg, *without(BASE, "rg-lock")]) == NO_LOCK


def test_the_single_owner_finding_names_every_resource_and_points_at_the_last() -> None:
    views = [_grants("a", catalog="c"), _grants("b", catalog="c"), _grants("c", T.GRANT, catalog="c")]
    findings = RULES_BY_NAME[SINGLE].run_stack(views)
    assert [(f.message, f.urn) for f in findings] == [
        ("catalog c is managed by 3 grant resources (a, b, c); Grants is authoritative and would revoke the others' "
         "privileges", urn(T.GRANT, "c"))]


def test_the_assignment_is_found_past_a_dependency_already_visited() -> None:
    b = view(T.SCHEMA, name="b")
    a = view(T.SCHEMA, name="a", deps=[b.urn])
    x = view(T.VOLUME, {"name": "x"}, name="x", deps=[ASSIGNMENT, a.urn, b.urn])
    assert messages(AFTER, [by_name(BASE, "assignment"), b, a, x]) == [
        "Schema b does not depend on the metastore assignment", "Schema a does not depend on the metastore assignment"]


def test_account_level_grants_do_not_hide_the_objects_after_them() -> None:
    metastore_grants = view(T.GRANTS, {"metastore": "m", "grants": []}, name="m-grants")
    loose = view(T.CATALOG, name="loose")
    assert messages(AFTER, [by_name(BASE, "assignment"), metastore_grants, loose]) == [
        "Catalog loose does not depend on the metastore assignment"]


def test_closure_is_everything_a_resource_waits_for() -> None:
    """Direct and indirect dependencies; a URN outside the views ends its branch; cycles end too."""
    a, b, c = (view(T.SUBNET, {}, name=n) for n in ("a", "b", "c"))
    b = dataclasses.replace(b, dependencies=(c.urn, "urn:outside"))
    a = dataclasses.replace(a, dependencies=(b.urn,))
    c = dataclasses.replace(c, dependencies=(a.urn,))  # a cycle back to a
    by_urn = {v.urn: v for v in (a, b, c)}
    assert closure(a, by_urn) == {b.urn, c.urn, "urn:outside", a.urn}
    assert closure(b, {}) == {c.urn, "urn:outside"}
    assert closure(view(T.SUBNET, {}, name="d"), by_urn) == set()
