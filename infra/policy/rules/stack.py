"""Stack rules: conditions across resources (private link + DNS, diagnostics, bindings, monitors, locks).

References between resources are matched by id when both sides are known (plan JSONs, updates) and by the
dependency graph otherwise (CrossGuard previews: ids of resources created in the same run are unknown).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from infra.policy.rules import types as T
from infra.policy.rules.base import Finding, ResourceView, eq, get, is_unknown, items, shown, stack_rule

Views = Sequence[ResourceView]
Result = Iterator[Finding]


def of_type(views: Views, *types: str) -> list[ResourceView]:
    return [v for v in views if v.type in types]


def refers(src: ResourceView, value: Any, target: ResourceView, prefix: bool = False,
           by_urn: Mapping[str, ResourceView] | None = None) -> bool:
    """Does `value` (an input of `src`) reference `target`? Ids when known, else the dependency graph.

    With `prefix`, `value` may name a sub-resource of `target` (…/blobServices/default), which `src` then
    depends on instead of `target` itself: one more hop through `by_urn` is followed.
    """
    if isinstance(value, str) and value and not is_unknown(value) and target.id:
        a, b = value.lower(), target.id.lower()
        return a == b or (prefix and a.startswith(b + "/"))
    if target.urn in src.dependencies:
        return True
    return prefix and by_urn is not None and any(
        target.urn in by_urn[d].dependencies for d in src.dependencies if d in by_urn)


def closure(view: ResourceView, by_urn: Mapping[str, ResourceView]) -> set[str]:
    """Every URN `view` waits for, directly or through its dependencies (what exists before it is created)."""
    seen: set[str] = set()
    todo = list(view.dependencies)
    while todo:
        urn = todo.pop()
        if urn not in seen:
            seen.add(urn)
            dep = by_urn.get(urn)
            if dep is not None:
                todo.extend(dep.dependencies)
    return seen


def label(view: ResourceView) -> str:
    return f"{view.type.split(':')[-1]} {view.name}"


# --- private endpoints and DNS --------------------------------------------------------------------

def endpoints_for(views: Views, target: ResourceView, group_id: str) -> list[ResourceView]:
    """Private endpoints connecting to `target` with `group_id` (e.g. databricks_ui_api, vault, dfs)."""
    found = []
    for pe in of_type(views, T.PRIVATE_ENDPOINT):
        conns = items(pe.get("privateLinkServiceConnections")) + items(pe.get("manualPrivateLinkServiceConnections"))
        for conn in conns:
            if not isinstance(conn, Mapping):
                continue
            groups = [g.lower() for g in items(get(conn, "groupIds")) if isinstance(g, str)]
            if group_id.lower() in groups and refers(pe, get(conn, "privateLinkServiceId"), target):
                found.append(pe)
                break
    return found


def _zone_name(group: ResourceView, config: Mapping[str, Any], views: Views) -> str | None:
    zone_id = get(config, "privateDnsZoneId")
    if isinstance(zone_id, str) and not is_unknown(zone_id) and "/privatednszones/" in zone_id.lower():
        return zone_id.rpartition("/")[2].lower()
    for zone in of_type(views, T.PRIVATE_ZONE):
        if refers(group, zone_id, zone):
            name = zone.get("privateZoneName") or (zone.id or "").rpartition("/")[2]
            return str(name).lower()
    return None


def zone_names(views: Views, pe: ResourceView) -> set[str]:
    """Private DNS zones the endpoint's zone groups register it in."""
    names: set[str] = set()
    pe_name = pe.get("privateEndpointName")
    for group in of_type(views, T.DNS_ZONE_GROUP):
        linked_name = group.get("privateEndpointName")
        if isinstance(linked_name, str) and isinstance(pe_name, str) and not is_unknown(linked_name):
            linked = linked_name == pe_name
        else:
            linked = pe.urn in group.dependencies
        if linked:
            for config in items(group.get("privateDnsZoneConfigs")):
                if isinstance(config, Mapping):
                    name = _zone_name(group, config, views)
                    if name:
                        names.add(name)
    return names


def _private_link(views: Views, target: ResourceView, group_id: str, zone: str) -> Result:
    pes = endpoints_for(views, target, group_id)
    if not pes:
        yield Finding(f"{label(target)} has no private endpoint with groupIds [{group_id!r}]", target.urn)
    for pe in pes:
        if zone not in zone_names(views, pe):
            yield Finding(f"private endpoint {pe.name} ({group_id}) has no DNS zone group in {zone}", pe.urn)


DATABRICKS_ZONE = "privatelink.azuredatabricks.net"


@stack_rule("databricks-workspace-private-endpoint", "high", "Each workspace has a databricks_ui_api private "
            "endpoint; a front-end-private workspace has one browser_authentication endpoint per region.",
            source="AzP Azure Databricks Workspaces should use private link")
def workspace_private_endpoint(views: Views, _: Mapping[str, Any]) -> Result:
    workspaces = of_type(views, T.WORKSPACE)
    for ws in workspaces:
        if not endpoints_for(views, ws, "databricks_ui_api"):
            yield Finding(f"{label(ws)} has no private endpoint with groupIds ['databricks_ui_api']", ws.urn)
    by_region: dict[str, list[ResourceView]] = {}
    for ws in workspaces:
        for pe in endpoints_for(views, ws, "browser_authentication"):
            by_region.setdefault(str(pe.get("location") or ws.get("location")).lower(), []).append(pe)
    for region, pes in by_region.items():
        if len({p.urn for p in pes}) > 1:
            yield Finding(f"{len(pes)} browser_authentication private endpoints in region {region}; "
                          "one per region serves every workspace there", pes[1].urn)
    for ws in workspaces:
        if eq(ws.get("publicNetworkAccess"), "Disabled"):
            region = str(ws.get("location")).lower()
            if region not in by_region:
                yield Finding(f"{label(ws)} has public access Disabled but region {region} has no "
                              "browser_authentication private endpoint (SSO callbacks fail)", ws.urn)


@stack_rule("databricks-workspace-private-dns", "medium", f"Workspace private endpoints are registered in the "
            f"{DATABRICKS_ZONE} private DNS zone (zone group).", source="AzP DINE private DNS zone for Databricks")
def workspace_private_dns(views: Views, _: Mapping[str, Any]) -> Result:
    for ws in of_type(views, T.WORKSPACE):
        for group_id in ("databricks_ui_api", "browser_authentication"):
            for pe in endpoints_for(views, ws, group_id):
                if DATABRICKS_ZONE not in zone_names(views, pe):
                    yield Finding(f"private endpoint {pe.name} ({group_id}) has no DNS zone group in "
                                  f"{DATABRICKS_ZONE}", pe.urn)


@stack_rule("storage-private-endpoints", "high", "Each storage account has dfs and blob private endpoints with "
            "DNS zone groups.", source="AzP storage private link; CKV2_AZURE_33")
def storage_private_endpoints(views: Views, _: Mapping[str, Any]) -> Result:
    for account in of_type(views, T.STORAGE_ACCOUNT):
        for service in ("dfs", "blob"):
            yield from _private_link(views, account, service, f"privatelink.{service}.core.windows.net")


@stack_rule("key-vault-private-endpoint", "high", "Each key vault has a private endpoint (groupIds vault) "
            "registered in privatelink.vaultcore.azure.net.", source="AzP Key Vault private link; CKV2_AZURE_32")
def vault_private_endpoint(views: Views, _: Mapping[str, Any]) -> Result:
    for vault in of_type(views, T.VAULT):
        yield from _private_link(views, vault, "vault", "privatelink.vaultcore.azure.net")


# --- diagnostics ----------------------------------------------------------------------------------

def _diagnostics(views: Views, target: ResourceView, groups: tuple[str, ...], what: str,
                 sub_resources: bool = False) -> Result:
    """A diagnostic setting on `target` sends an enabled log category group of `groups` to Log Analytics."""
    by_urn = {v.urn: v for v in views}
    settings = [d for d in of_type(views, T.DIAGNOSTIC_SETTING)
                if refers(d, d.get("resourceUri"), target, prefix=sub_resources, by_urn=by_urn)]
    ok = False
    for d in settings:
        workspace = d.get("workspaceId")
        logs = [log for log in items(d.get("logs")) if isinstance(log, Mapping)
                and (get(log, "enabled") is True or is_unknown(get(log, "enabled")))]
        covered = any(str(get(log, "categoryGroup") or "").lower() in groups for log in logs)
        if (workspace or is_unknown(workspace)) and covered:
            ok = True
    if not ok:
        yield Finding(f"{label(target)} has no diagnostic setting sending {what} ({' or '.join(groups)}) to Log "
                      f"Analytics (found {len(settings)} setting(s))", target.urn)


@stack_rule("databricks-workspace-diagnostic-logs", "medium", "Each workspace sends all resource logs to Log "
            "Analytics.", source="AzP Resource logs in Azure Databricks Workspaces should be enabled; SAT GOV-15")
def workspace_diagnostics(views: Views, _: Mapping[str, Any]) -> Result:
    for ws in of_type(views, T.WORKSPACE):
        yield from _diagnostics(views, ws, ("alllogs",), "resource logs")


@stack_rule("key-vault-diagnostic-logs", "medium", "Each key vault sends audit logs to Log Analytics.",
            source="AzP Resource logs in Key Vault should be enabled")
def vault_diagnostics(views: Views, _: Mapping[str, Any]) -> Result:
    for vault in of_type(views, T.VAULT):
        yield from _diagnostics(views, vault, ("audit", "alllogs"), "audit logs")


@stack_rule("storage-diagnostic-logs", "medium", "Each storage account's blob service sends logs to Log Analytics.",
            source="AzP storage resource logs; platform convention")
def storage_diagnostics(views: Views, _: Mapping[str, Any]) -> Result:
    for account in of_type(views, T.STORAGE_ACCOUNT):
        yield from _diagnostics(views, account, ("audit", "alllogs"), "blob service logs", sub_resources=True)


# --- network --------------------------------------------------------------------------------------

@stack_rule("databricks-subnets-delegated", "high", "The workspace's host and container subnets are delegated to "
            "Microsoft.Databricks/workspaces.", source="Azure Databricks VNet injection requirements")
def subnets_delegated(views: Views, _: Mapping[str, Any]) -> Result:
    subnets = of_type(views, T.SUBNET)
    for ws in of_type(views, T.WORKSPACE):
        for key in ("customPublicSubnetName", "customPrivateSubnetName"):
            name = ws.get(f"parameters.{key}.value")
            if not isinstance(name, str):  # unknown (get() turns unknown markers into UNKNOWN) or missing
                continue
            for sub in subnets:
                if sub.get("subnetName") != name:
                    continue
                services = [get(d, "serviceName") for d in items(sub.get("delegations")) if isinstance(d, Mapping)]
                if not any(eq(s, "Microsoft.Databricks/workspaces") for s in services):
                    yield Finding(f"subnet {name} ({key}) is not delegated to Microsoft.Databricks/workspaces",
                                  sub.urn)


@stack_rule("prod-resource-group-locked", "high", "In protected stacks (prod), each resource group has a "
            "CanNotDelete (or ReadOnly) management lock.", source="docs/security-landing.md",
            config_schema={"protectedStacks": {"type": "array", "items": {"type": "string"}}},
            defaults={"protectedStacks": ["prod"]})
def resource_group_locked(views: Views, settings: Mapping[str, Any]) -> Result:
    locks = of_type(views, T.RG_LOCK)
    for rg in of_type(views, T.RESOURCE_GROUP):
        if rg.stack not in settings["protectedStacks"]:
            continue
        name = rg.get("resourceGroupName")
        ok = False
        for lock in locks:
            target = lock.get("resourceGroupName")
            linked = (target == name) if isinstance(target, str) and not is_unknown(target) and name \
                else rg.urn in lock.dependencies
            if linked and (eq(lock.get("level"), "CanNotDelete") or eq(lock.get("level"), "ReadOnly")):
                ok = True
        if not ok:
            yield Finding(f"resource group {shown(name)} has no CanNotDelete lock in stack {rg.stack!r}", rg.urn)


# --- Unity Catalog and serving --------------------------------------------------------------------

@stack_rule("uc-catalog-bound", "high", "Each catalog is bound to at least one workspace (WorkspaceBinding).",
            source="Databricks docs: workspace-catalog binding")
def catalog_bound(views: Views, _: Mapping[str, Any]) -> Result:
    bindings = of_type(views, T.WORKSPACE_BINDING)
    for cat in of_type(views, T.CATALOG):
        name = cat.get("name")
        bound = False
        for b in bindings:
            securable = b.get("securableName") or b.get("catalogName")
            kind = b.get("securableType") or "catalog"
            if isinstance(securable, str) and not is_unknown(securable) and isinstance(name, str):
                bound = bound or (securable == name and eq(kind, "catalog"))
            else:
                bound = bound or cat.urn in b.dependencies
        if not bound:
            yield Finding(f"catalog {shown(name)} has no workspace binding; an ISOLATED catalog without one is "
                          "unreachable, and without isolation it is visible everywhere", cat.urn)


def _securable_key(view: ResourceView) -> tuple[str, str] | None:
    from infra.policy.rules.databricks import securable_of

    kind, value = securable_of(view)
    return (kind, value) if kind and isinstance(value, str) else None  # an unknown value is not a str


@stack_rule("uc-grants-single-owner", "high", "Each securable is governed by exactly one authoritative Grants "
            "resource and never also by per-principal Grant resources.", source="TF provider grants.md")
def grants_single(views: Views, _: Mapping[str, Any]) -> Result:
    seen: dict[tuple[str, str], list[ResourceView]] = {}
    for g in of_type(views, T.GRANTS, T.GRANT):
        key = _securable_key(g)
        if key:
            seen.setdefault(key, []).append(g)
    for (kind, name), owners in sorted(seen.items()):
        authoritative = [g for g in owners if g.type == T.GRANTS]
        if len(authoritative) > 1 or (authoritative and len(owners) > len(authoritative)):
            yield Finding(f"{kind} {name} is managed by {len(owners)} grant resources "
                          f"({', '.join(sorted(g.name for g in owners))}); Grants is authoritative and would "
                          "revoke the others' privileges", owners[-1].urn)


UC_DEPENDENT = (T.CATALOG, T.SCHEMA, T.GRANTS, T.GRANT, T.EXTERNAL_LOCATION, T.STORAGE_CREDENTIAL, T.VOLUME,
                T.WORKSPACE_BINDING)


def _ancestors_deps(view: ResourceView, by_urn: Mapping[str, ResourceView], seen: set[str]) -> set[str]:
    """Transitive dependencies (a catalog depending on a storage credential that waits for the assignment)."""
    out: set[str] = set()
    stack = list(view.dependencies)
    while stack:
        urn = stack.pop()
        if urn in seen:
            continue
        seen.add(urn)
        out.add(urn)
        dep = by_urn.get(urn)
        if dep is not None:
            stack.extend(dep.dependencies)
    return out


@stack_rule("uc-objects-after-metastore-assignment", "high", "Workspace-level Unity Catalog objects depend on the "
            "metastore assignment (no 'No metastore assigned' races).", source="TF provider metastore_assignment.md")
def after_assignment(views: Views, _: Mapping[str, Any]) -> Result:
    assignments = {a.urn for a in of_type(views, T.METASTORE_ASSIGNMENT)}
    if not assignments:
        return
    by_urn = {v.urn: v for v in views}
    for view in of_type(views, *UC_DEPENDENT):
        if _is_account_level(view):
            continue
        if not _ancestors_deps(view, by_urn, set()) & assignments:
            yield Finding(f"{label(view)} does not depend on the metastore assignment", view.urn)


def _is_account_level(view: ResourceView) -> bool:
    """Grants on the metastore itself run before/independent of a workspace's assignment."""
    return view.type in (T.GRANTS, T.GRANT) and view.get("metastore") is not None


MONITOR_PENDING = ("monitoring", "pending")  # the tag the serving component sets in rollout phase 1


def _monitor_pending(ep: ResourceView) -> bool:
    tags = ep.get("tags")
    return any(isinstance(t, Mapping) and (t.get("key"), t.get("value")) == MONITOR_PENDING for t in items(tags))


def _monitors_of(ep: ResourceView, monitors: list[ResourceView]) -> list[ResourceView]:
    cfg = "aiGateway.inferenceTableConfig"
    catalog, schema, prefix = (ep.get(f"{cfg}.catalogName"), ep.get(f"{cfg}.schemaName"),
                               ep.get(f"{cfg}.tableNamePrefix"))
    stem = ".".join(str(x) for x in (catalog, schema, prefix)) if all(
        isinstance(x, str) for x in (catalog, schema, prefix)) else None  # unknown values are not str
    return [m for m in monitors if ep.urn in m.dependencies
            or (stem and isinstance(m.get("tableName"), str) and str(m.get("tableName")).startswith(stem))]


@stack_rule("serving-endpoints-monitored", "high", "Each serving endpoint's inference table has a quality monitor "
            "(inference log profile, schedule, failure notifications), unless the endpoint is explicitly in "
            "rollout phase 1 (tag monitoring=pending, see serving-monitoring-pending).",
            source="Lakehouse Monitoring docs")
def endpoints_monitored(views: Views, _: Mapping[str, Any]) -> Result:
    monitors = of_type(views, T.QUALITY_MONITOR)
    for ep in of_type(views, T.MODEL_SERVING):
        mine = _monitors_of(ep, monitors)
        if not mine and not _monitor_pending(ep):
            yield Finding(f"serving endpoint {shown(ep.get('name'))} has no quality monitor on its inference table",
                          ep.urn)
        for m in mine:
            if m.get("inferenceLog") is None:
                yield Finding(f"monitor {m.name} has no inferenceLog profile", m.urn)
            cron = m.get("schedule.quartzCronExpression")
            if not cron and not is_unknown(cron):
                yield Finding(f"monitor {m.name} has no schedule.quartzCronExpression", m.urn)
            emails = m.get("notifications.onFailure.emailAddresses")
            if not items(emails):
                yield Finding(f"monitor {m.name} has no notifications.onFailure.emailAddresses", m.urn)


@stack_rule("serving-monitoring-pending", "medium", "Endpoints in rollout phase 1 (tag monitoring=pending) serve "
            "without a quality monitor: a reminder until the PR that sets monitor.tableExists lands.",
            source="Lakehouse Monitoring docs; two-phase rollout (docs/serving-and-monitoring.md)")
def monitoring_pending(views: Views, _: Mapping[str, Any]) -> Result:
    monitors = of_type(views, T.QUALITY_MONITOR)
    for ep in of_type(views, T.MODEL_SERVING):
        if _monitor_pending(ep) and not _monitors_of(ep, monitors):
            yield Finding(f"serving endpoint {shown(ep.get('name'))} is unmonitored until its inference table "
                          "exists (monitoring=pending); set monitor.tableExists once it does", ep.urn)
