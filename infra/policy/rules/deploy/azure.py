"""Deploy-readiness rules (azure): what Azure checks only at `pulumi up` time, checked on the plan.

- data-plane objects (Key Vault keys, secrets) that ARM writes as the caller wait for the caller's data role;
- workspace-level resources wait until a private front end is reachable from the deploy runner;
- one databricks_ui_api endpoint per workspace and VNet;
- a firewalled DBFS root has its dfs and blob endpoints;
- a Key Vault-backed secret scope's vault lets the AzureDatabricks app read secrets;
- no destroy-then-up collision with a soft-deleted, purge-protected vault name.

Resources are matched by id when known (plan JSONs) and by the dependency graph otherwise (CrossGuard
previews), as in infra/policy/rules/stack.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from infra.policy.rules import types as T
from infra.policy.rules.base import Finding, ResourceView, eq, get, is_unknown, items, shown, stack_rule, unknown
from infra.policy.rules.stack import DATABRICKS_ZONE, closure, endpoints_for, label, of_type, refers

Views = Sequence[ResourceView]
Result = Iterator[Finding]

# Built-in role definition GUIDs (the same in every tenant; Azure built-in roles, Security section).
KEY_VAULT_ADMINISTRATOR = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
KEY_VAULT_CRYPTO_OFFICER = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"
KEY_VAULT_SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
# Data roles that may create each kind of object through ARM, and that may read secrets.
WRITERS: dict[str, tuple[str, ...]] = {
    T.KEY: (KEY_VAULT_CRYPTO_OFFICER, KEY_VAULT_ADMINISTRATOR),
    T.SECRET: (KEY_VAULT_SECRETS_OFFICER, KEY_VAULT_ADMINISTRATOR),
}
ROLE_NAMES = {  # built-in role names, not secrets
    KEY_VAULT_ADMINISTRATOR: "Key Vault Administrator",
    KEY_VAULT_CRYPTO_OFFICER: "Key Vault Crypto Officer",
    KEY_VAULT_SECRETS_OFFICER: "Key Vault Secrets Officer",  # pragma: allowlist secret
    KEY_VAULT_SECRETS_USER: "Key Vault Secrets User",  # pragma: allowlist secret
}
SECRET_READERS = (KEY_VAULT_SECRETS_USER, KEY_VAULT_SECRETS_OFFICER, KEY_VAULT_ADMINISTRATOR)


# --- graph and id helpers -------------------------------------------------------------------------

def _known(value: Any) -> str | None:
    return value if isinstance(value, str) and value and not is_unknown(value) else None


def _has_role(ra: ResourceView, roles: Sequence[str]) -> bool:
    role = _known(ra.get("roleDefinitionId"))
    return role is not None and role.lower().rstrip("/").rpartition("/")[2] in roles


def _covers(ra: ResourceView, target: ResourceView | None, target_id: str | None) -> bool:
    """The assignment's scope is the target or one of its parents (resource group, subscription)."""
    scope = _known(ra.get("scope"))
    ident = (target.id if target is not None else None) or target_id
    if scope and ident:
        a, b = scope.lower().rstrip("/"), ident.lower()
        return b == a or b.startswith(a + "/")
    return target is not None and refers(ra, ra.get("scope"), target)


def _vault_of(obj: ResourceView, vaults: Sequence[ResourceView]) -> ResourceView | None:
    name = _known(obj.get("vaultName"))
    for vault in vaults:
        if (name is not None and name == vault.get("vaultName")) or (name is None and vault.urn in obj.dependencies):
            return vault
    return None


def _vnet_name(vnet_id: str) -> str:
    return vnet_id.rstrip("/").rpartition("/")[2].lower()


# --- Key Vault: the caller's data role before ARM writes ---------------------------------------------

@stack_rule("deploy-key-vault-data-role-before-write", "high", "Key Vault keys and secrets created through ARM on "
            "an RBAC vault wait for a role assignment giving a data role on that vault (Key Vault Crypto Officer "
            "or Administrator for keys, Secrets Officer or Administrator for secrets).",
            source="ARM writes vault objects through the data plane as the caller: pulumi-azure-native issue "
                   "'Creating Key in Vault - ForbiddenByRbac'; AVM databricks-workspace example "
                   "customer-managed-key (Crypto Officer for the caller, keys depend on it)")
def data_role_before_write(views: Views, _: Mapping[str, Any]) -> Result:
    by_urn = {v.urn: v for v in views}
    vaults, assignments = of_type(views, T.VAULT), of_type(views, T.ROLE_ASSIGNMENT)
    for obj in of_type(views, T.KEY, T.SECRET):
        vault = _vault_of(obj, vaults)
        if vault is None:
            continue  # a vault outside this stack: its roles are not in the plan
        rbac = vault.get("properties.enableRbacAuthorization")
        if is_unknown(rbac):
            yield unknown("properties.enableRbacAuthorization", vault.urn)
            continue
        if rbac is not True:
            continue  # access policies: not Azure RBAC
        roles = WRITERS[obj.type]
        waits_for = closure(obj, by_urn)
        if not any(ra.urn in waits_for and _has_role(ra, roles) and _covers(ra, vault, None) for ra in assignments):
            wanted = " or ".join(ROLE_NAMES[r] for r in roles)
            vault_name = shown(vault.get("vaultName"))
            yield Finding(f"{label(obj)} is written through ARM as the caller on RBAC vault {vault_name} but "
                          f"waits for no role assignment of {wanted} on it (ForbiddenByRbac: Owner and "
                          "Contributor carry no data actions)", obj.urn)


# --- the workspace's private front end, reachable from the deploy runner ------------------------------

def _zone_groups(views: Views, pe: ResourceView, zone: str) -> list[ResourceView]:
    """The endpoint's DNS zone groups that register it in `zone`."""
    pe_name = _known(pe.get("privateEndpointName"))
    zones = of_type(views, T.PRIVATE_ZONE)

    def of_endpoint(group: ResourceView) -> bool:
        linked = _known(group.get("privateEndpointName"))
        return linked == pe_name if linked and pe_name else pe.urn in group.dependencies

    def in_zone(group: ResourceView, config: Any) -> bool:
        zone_id = get(config, "privateDnsZoneId") if isinstance(config, Mapping) else None
        named = _known(zone_id)
        if named and "/privatednszones/" in named.lower():
            return named.rpartition("/")[2].lower() == zone
        return any(refers(group, zone_id, z) and str(z.get("privateZoneName")).lower() == zone for z in zones)

    return [g for g in of_type(views, T.DNS_ZONE_GROUP)
            if of_endpoint(g) and any(in_zone(g, c) for c in items(g.get("privateDnsZoneConfigs")))]


def _in_existing_zone(views: Views, group: ResourceView, zone: str) -> bool:
    """The zone group registers its endpoint in an existing `zone` outside this stack, named by its ARM id: the
    hub's own zone (deploy.runner.hubDnsZone), which the hub already resolves."""
    zones = of_type(views, T.PRIVATE_ZONE)
    for config in items(group.get("privateDnsZoneConfigs")):
        zone_id = _known(get(config, "privateDnsZoneId")) if isinstance(config, Mapping) else None
        if (zone_id and "/privatednszones/" in zone_id.lower() and zone_id.rpartition("/")[2].lower() == zone
                and not any(refers(group, zone_id, z) for z in zones)):
            return True
    return False


def _zone_links(views: Views, zone: str) -> list[ResourceView]:
    zones = [z for z in of_type(views, T.PRIVATE_ZONE) if str(z.get("privateZoneName")).lower() == zone]
    out = []
    for link in of_type(views, T.VNET_LINK):
        name = _known(link.get("privateZoneName"))
        if (name.lower() == zone) if name else any(z.urn in link.dependencies for z in zones):
            out.append(link)
    return out


def _workspace_vnet(views: Views, ws: ResourceView) -> tuple[str | None, ResourceView | None]:
    """The workspace's VNet: (id, resource) as far as known."""
    vnet_id = ws.get("parameters.customVirtualNetworkId.value")
    vnet = next((v for v in of_type(views, T.VNET) if refers(ws, vnet_id, v)), None)
    return _known(vnet_id) or (vnet.id if vnet else None), vnet


def _peers_from(peering: ResourceView, vnet_id: str | None, vnet: ResourceView | None) -> bool:
    """The peering belongs to (is written on) the workspace's VNet."""
    own = _known(peering.get("virtualNetworkName"))
    if own and vnet_id:
        return own.lower() == _vnet_name(vnet_id)
    return vnet is not None and vnet.urn in peering.dependencies


def _hub_routes(views: Views, waits_for: set[str], vnet_id: str | None, vnet: ResourceView | None,
                in_hub_zone: bool = False) -> list[str]:
    """Hub VNets that the runner reaches the workspace's front end from: a peering from the workspace's VNet to
    the hub, one back from the hub, and the workspace's DNS zone linked to the hub, all waited for. With the
    front end's record in the hub's existing zone (in_hub_zone), the hub resolves it without a link of ours."""
    peerings = [p for p in of_type(views, T.VNET_PEERING) if p.urn in waits_for]
    links = [lk for lk in _zone_links(views, DATABRICKS_ZONE) if lk.urn in waits_for]
    hubs = []
    for out in peerings:
        hub = _known(out.get("remoteVirtualNetwork.id"))
        if not hub or not _peers_from(out, vnet_id, vnet) or (vnet_id and hub.lower() == vnet_id.lower()):
            continue
        back = any(str(p.get("virtualNetworkName")).lower() == _vnet_name(hub)
                   and (refers(p, p.get("remoteVirtualNetwork.id"), vnet) if vnet is not None
                        else eq(p.get("remoteVirtualNetwork.id"), vnet_id or ""))
                   for p in peerings if p is not out)
        linked = in_hub_zone or any(eq(lk.get("virtualNetwork.id"), hub) for lk in links)
        if back and linked:
            hubs.append(hub)
    return hubs


@stack_rule("deploy-private-workspace-reachable", "high", "With publicNetworkAccess Disabled, the workspace provider "
            "depends on a databricks_ui_api private endpoint to that workspace, its DNS zone group in "
            f"{DATABRICKS_ZONE}, and a route from the deploy runner (peerings both ways between the workspace's "
            "VNet and a hub VNet, and a link of that zone to the hub, or the zone group writing into the hub's "
            "existing zone of that name).",
            source="Microsoft Learn, Azure Databricks front-end private link (a private front end answers only "
                   "through its endpoint and private DNS); Azure VNet peering (connected once both sides exist); "
                   "Microsoft Learn private link FAQ (one zone of a name per virtual network); "
                   "Pulumi: resources wait for their provider and the provider for its depends_on")
def private_workspace_reachable(views: Views, _: Mapping[str, Any]) -> Result:
    by_urn = {v.urn: v for v in views}
    providers = of_type(views, T.DATABRICKS_PROVIDER)
    for ws in of_type(views, T.WORKSPACE):
        if not eq(ws.get("publicNetworkAccess"), "Disabled"):
            continue
        vnet_id, vnet = _workspace_vnet(views, ws)
        for provider in providers:
            if not refers(provider, provider.get("azureWorkspaceResourceId"), ws):
                continue
            waits_for = closure(provider, by_urn)
            missing = []
            endpoints = [pe for pe in endpoints_for(views, ws, "databricks_ui_api") if pe.urn in waits_for]
            groups = [g for pe in endpoints for g in _zone_groups(views, pe, DATABRICKS_ZONE) if g.urn in waits_for]
            if not endpoints:
                missing.append("a databricks_ui_api private endpoint to it")
            elif not groups:
                missing.append(f"that endpoint's DNS zone group in {DATABRICKS_ZONE}")
            in_hub_zone = any(_in_existing_zone(views, g, DATABRICKS_ZONE) for g in groups)
            if not _hub_routes(views, waits_for, vnet_id, vnet, in_hub_zone):
                missing.append(f"a route from the deploy runner (peerings both ways with a hub VNet, and a link of "
                               f"{DATABRICKS_ZONE} to that hub or the endpoint's record in the hub's existing "
                               "zone)")
            if missing:
                yield Finding(f"workspace provider {provider.name} of {label(ws)} (publicNetworkAccess Disabled) does "
                              f"not wait for {'; '.join(missing)}: workspace-level resources would call a front "
                              "end the deploy runner cannot reach yet (403)", provider.urn)


# --- one databricks_ui_api endpoint per workspace and VNet ---------------------------------------------

def _endpoint_vnet(views: Views, pe: ResourceView) -> str:
    subnet_id = _known(pe.get("subnet.id"))
    if subnet_id and "/subnets/" in subnet_id.lower():
        return subnet_id[:subnet_id.lower().rindex("/subnets/")].lower()
    for subnet in of_type(views, T.SUBNET):
        if subnet.urn in pe.dependencies and _known(subnet.get("virtualNetworkName")):
            return f"{subnet.get('resourceGroupName')}/{subnet.get('virtualNetworkName')}".lower()
    return pe.urn  # unknown: never grouped with another endpoint


@stack_rule("deploy-one-ui-api-endpoint-per-vnet", "high", "A workspace has at most one databricks_ui_api private "
            "endpoint per VNet: in one VNet a single endpoint serves front end and back end, and two would fight "
            "over the workspace's one DNS record.",
            source="terraform-provider-databricks docs/guides/azure-private-link-workspace-simplified.md ('Only a "
                   "single private endpoint is used for both front-end and back-end connectivity')")
def one_ui_api_endpoint(views: Views, _: Mapping[str, Any]) -> Result:
    for ws in of_type(views, T.WORKSPACE):
        by_vnet: dict[str, list[ResourceView]] = {}
        for pe in endpoints_for(views, ws, "databricks_ui_api"):
            by_vnet.setdefault(_endpoint_vnet(views, pe), []).append(pe)
        for vnet, pes in sorted(by_vnet.items()):
            if len(pes) > 1:
                yield Finding(f"{len(pes)} databricks_ui_api private endpoints to {label(ws)} in VNet "
                              f"{_vnet_name(vnet)} ({', '.join(sorted(p.name for p in pes))}): one serves both front "
                              "end and back end, two overwrite each other's DNS record", pes[1].urn)


# --- the DBFS root behind the workspace storage firewall ------------------------------------------------

@stack_rule("deploy-dbfs-root-private-endpoints", "high", "A workspace with defaultStorageFirewall Enabled names its "
            "DBFS root storage account (parameters.storageAccountName) and has dfs and blob private endpoints to it.",
            source="Databricks SRA azure/tf/modules/workspace/dbfs_privatelink.tf; Microsoft Learn 'Enable firewall "
                   "support for your workspace storage account'")
def dbfs_root_endpoints(views: Views, _: Mapping[str, Any]) -> Result:
    for ws in of_type(views, T.WORKSPACE):
        if not eq(ws.get("defaultStorageFirewall"), "Enabled"):
            continue
        name = ws.get("parameters.storageAccountName.value")
        if is_unknown(name):
            yield unknown("parameters.storageAccountName.value", ws.urn)
            continue
        if not name:
            yield Finding(f"{label(ws)} has defaultStorageFirewall Enabled but parameters.storageAccountName is "
                          "missing: Databricks names the DBFS root account at creation, so no private endpoint can "
                          "target it and classic compute cannot reach root storage", ws.urn)
            continue
        suffix = f"/providers/microsoft.storage/storageaccounts/{str(name).lower()}"
        group_id = _known(ws.get("managedResourceGroupId"))
        target = f"{group_id.lower()}{suffix}" if group_id else None
        for service in ("dfs", "blob"):
            if not any(_targets_dbfs(pe, service, ws, target, suffix) for pe in of_type(views, T.PRIVATE_ENDPOINT)):
                yield Finding(f"{label(ws)} has defaultStorageFirewall Enabled but no {service} private endpoint to "
                              f"its DBFS root storage account {name}: classic clusters and jobs cannot reach root "
                              "storage", ws.urn)


def _targets_dbfs(pe: ResourceView, service: str, ws: ResourceView, target: str | None, suffix: str) -> bool:
    for conn in items(pe.get("privateLinkServiceConnections")) + items(pe.get("manualPrivateLinkServiceConnections")):
        if not isinstance(conn, Mapping) or service not in [str(g).lower() for g in items(get(conn, "groupIds"))]:
            continue
        link = get(conn, "privateLinkServiceId")
        known = _known(link)
        if known is None:
            if ws.urn in pe.dependencies:  # built from the workspace's outputs, unknown at preview
                return True
        elif known.lower() == target if target else known.lower().endswith(suffix):
            return True
    return False


# --- the secret scope's vault lets Databricks read ------------------------------------------------------

@stack_rule("deploy-secret-scope-vault-readable", "high", "A Key Vault-backed secret scope's RBAC vault has a Key "
            "Vault Secrets User assignment (for the AzureDatabricks app) on the vault or a parent scope.",
            source="Databricks docs, secret scopes (Azure Key Vault-backed: grant the AzureDatabricks app Key Vault "
                   "Secrets User on an RBAC vault); terraform-provider-databricks docs databricks_secret_scope")
def secret_scope_readable(views: Views, _: Mapping[str, Any]) -> Result:
    vaults, assignments = of_type(views, T.VAULT), of_type(views, T.ROLE_ASSIGNMENT)
    for scope in of_type(views, T.SECRET_SCOPE):
        resource_id = scope.get("keyvaultMetadata.resourceId")
        if resource_id is None:
            continue  # a Databricks-backed scope
        vault = next((v for v in vaults if refers(scope, resource_id, v)), None)
        if vault is None and _known(resource_id) is None:
            yield unknown("keyvaultMetadata.resourceId", scope.urn)
            continue
        if vault is not None and vault.get("properties.enableRbacAuthorization") is False:
            continue  # access policies: not Azure RBAC
        if not any(_has_role(ra, SECRET_READERS) and _covers(ra, vault, _known(resource_id)) for ra in assignments):
            where = shown(vault.get("vaultName")) if vault is not None else shown(resource_id)
            yield Finding(f"secret scope {shown(scope.get('name'))} reads vault {where}, but no role assignment gives "
                          "Key Vault Secrets User on it: every secret read by the AzureDatabricks app fails", scope.urn)


# --- soft-deleted names --------------------------------------------------------------------------------

@stack_rule("deploy-no-soft-deleted-name-collision", "medium", "A key vault with purge protection is protected "
            "(protect or retainOnDelete) or has a name that is not fixed in the program: a destroyed vault keeps its "
            "name for the whole retention, and the next `up` with the same name fails.",
            source="Azure/azure-cli issue 'ConflictError: A vault with the same name already exists in deleted "
                   "state'; Key Vault soft-delete overview (purge protection: no purge before retention ends); "
                   "pulumi-azure-native deletes vaults without purging them")
def no_soft_deleted_collision(views: Views, _: Mapping[str, Any]) -> Result:
    by_urn = {v.urn: v for v in views}
    for vault in of_type(views, T.VAULT):
        purge = vault.get("properties.enablePurgeProtection")
        if purge is not True or eq(vault.get("properties.createMode"), "recover"):
            continue
        if vault.protect or vault.retain_on_delete:
            continue
        name = _known(vault.get("vaultName"))
        generated = any(d in by_urn and by_urn[d].type.startswith("random:") for d in closure(vault, by_urn))
        if name and not generated:
            days = vault.get("properties.softDeleteRetentionInDays") or 90
            yield Finding(f"key vault {name} has purge protection and a fixed name but is neither protected nor "
                          f"retained: after `pulumi destroy` the soft-deleted vault holds the name for {days} days and "
                          "the next `up` fails (vault already exists in deleted state); protect it, or turn purge "
                          "protection off where it holds no keys and purge after destroy", vault.urn)
