"""Deploy readiness, Azure side: each finding of the first-deploy review, fixed in the program, and the
deploy-readiness rule that guards it, seen to pass on the real plans and to fire on a broken copy of one."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pulumi.runtime.stack import Stack, get_root_resource

from infra.components.key_vault import KeyVault, KeyVaultArgs
from infra.components.workspace import Workspace, WorkspaceArgs
from infra.config.core import WorkspaceConfig
from infra.config.security import EncryptionConfig, KeyVaultConfig
from infra.policy.offline import check_plan, view_from_plan
from infra.policy.rules import RULES_BY_NAME
from mlopsctl.plan.engine import run_program
from mlopsctl.plan.mocks import CLIENT_OBJECT_ID
from mlopsctl.plan.model import Plan, Resource
from tests.support import STACKS, first_deploy_plan_of, plan_of, set_path, stack_raw

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
HUB = f"{SUB}/resourceGroups/mlops-hub-rg/providers/Microsoft.Network/virtualNetworks/mlops-hub-vnet"
DATABRICKS_APP = "9f1e2d3c-4b5a-4697-8879-6a5b4c3d2e1f"  # encryption.databricksServiceObjectId in every stack
CRYPTO_OFFICER = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"

WS = "azure-native:databricks:Workspace"
KV = "azure-native:keyvault:Vault"
KEY = "azure-native:keyvault:Key"
RA = "azure-native:authorization:RoleAssignment"
PE = "azure-native:network:PrivateEndpoint"
ZG = "azure-native:network:PrivateDnsZoneGroup"
PEERING = "azure-native:network:VirtualNetworkPeering"
LINK = "azure-native:privatedns:VirtualNetworkLink"
SLEEP = "time:index/sleep:Sleep"
DBX_PROVIDER = "pulumi:providers:databricks"

RULES = ("deploy-key-vault-data-role-before-write", "deploy-private-workspace-reachable",
         "deploy-one-ui-api-endpoint-per-vnet", "deploy-dbfs-root-private-endpoints",
         "deploy-secret-scope-vault-readable", "deploy-no-soft-deleted-name-collision")


def _role(ra: Resource | dict[str, Any]) -> str:
    inputs = ra.inputs if isinstance(ra, Resource) else ra["inputs"]
    return str(inputs["roleDefinitionId"]).rsplit("/", 1)[-1]


def _endpoints(plan: Plan, group: str) -> list[Resource]:
    return [pe for pe in plan.by_type(PE) if pe.inputs["privateLinkServiceConnections"][0]["groupIds"] == [group]]


def _provider(plan: Plan) -> Resource:
    return plan.one(DBX_PROVIDER, "databricks-workspace")


# --- finding: key creation on an RBAC vault needs the caller's data role ------------------------------------

def test_prod_keys_wait_for_the_deployers_crypto_officer_grant() -> None:
    """Finding: the vault uses Azure RBAC and ARM writes keys through the data plane as the caller; Owner and
    Contributor carry no data actions, so key creation failed with ForbiddenByRbac. The deployer is granted Key
    Vault Crypto Officer on the vault first and the keys wait for it and for its propagation."""
    plan = plan_of("prod")
    vault = plan.one(KV)
    (officer,) = [ra for ra in plan.by_type(RA) if _role(ra) == CRYPTO_OFFICER]
    assert officer.inputs["scope"] == vault.id
    # identity.deployer.objectId from config, never the caller's (a preview or drift identity is another)
    assert officer.inputs["principalId"] == "2c4e6a8b-0d1f-4e3a-9b5c-7d9e1f3a5b7c" != CLIENT_OBJECT_ID
    # the CI runner's identity by default (keyVault.deployerPrincipalType); Azure refuses a mismatched type
    assert officer.inputs["principalType"] == "ServicePrincipal"
    wait = plan.one(SLEEP, "key-vault-deployer-crypto-officer-propagation")
    assert officer.urn in wait.dependencies and wait.inputs["createDuration"] == "60s"
    keys = plan.by_type(KEY)
    assert len(keys) == 3
    for key in keys:
        assert {officer.urn, wait.urn} <= set(key.dependencies), key.name


def test_a_person_deploying_is_granted_as_a_user() -> None:
    plan = run_program("prod", set_path(stack_raw("prod"), "keyVault.deployerPrincipalType", "User"))
    (officer,) = [ra for ra in plan.by_type(RA) if _role(ra) == CRYPTO_OFFICER]
    assert officer.inputs["principalType"] == "User"


@pytest.mark.parametrize("stack", ["dev", "test"])
def test_stacks_without_keys_grant_the_deployer_no_key_role(stack: str) -> None:
    plan = plan_of(stack)
    assert plan.by_type(KEY) == [] and [w for w in plan.by_type(SLEEP) if "key-vault" in w.urn] == []
    assert [ra for ra in plan.by_type(RA) if _role(ra) == CRYPTO_OFFICER] == []


def test_prod_workspace_waits_for_the_managed_services_grant_to_propagate() -> None:
    """Finding (settled): Databricks checks the managed-services key as the AzureDatabricks app when the
    workspace is created; a just-made role assignment is not effective at once, so the workspace waits for the
    grant and a propagation delay after it."""
    plan = plan_of("prod")
    key = next(k for k in plan.by_type(KEY) if k.inputs["keyName"] == "managed-services-cmk")
    (grant,) = [ra for ra in plan.by_type(RA) if ra.inputs["scope"] == key.id]
    wait = plan.one(SLEEP, "key-vault-databricks-service-managed-services-propagation")
    assert grant.urn in wait.dependencies
    assert {grant.urn, wait.urn} <= set(plan.one(WS).dependencies)


# --- finding: the private front end must be reachable before workspace-level resources -----------------------

def test_prod_workspace_provider_waits_for_the_front_end_and_the_runner_route() -> None:
    """Finding: the workspace provider depended only on the workspace, so workspace-level resources started
    before the front-end endpoint and its DNS record existed, and nothing linked the private DNS zone to where
    the deploy runs. Now the provider waits for the endpoint, its zone group, both hub peerings and the zone's
    link to the hub (visible in the plan's dependencies)."""
    plan = plan_of("prod")
    provider = _provider(plan)
    (ui_api,) = _endpoints(plan, "databricks_ui_api")
    group = next(g for g in plan.by_type(ZG) if g.inputs["privateEndpointName"] == ui_api.inputs["privateEndpointName"])
    hub_link = plan.one(LINK, "private-link-zone-databricks-hub-link")
    peerings = plan.by_type(PEERING)
    assert len(peerings) == 2
    assert {ui_api.urn, group.urn, hub_link.urn, *(p.urn for p in peerings)} <= set(provider.dependencies)
    # every workspace-level resource uses this provider, so each one waits for all of it
    users = [r for r in plan.resources if r.provider and r.provider.startswith(provider.urn + "::")]
    assert len(users) > 20


def test_prod_vnet_is_peered_with_the_runners_hub_both_ways() -> None:
    """Finding: CI ran on a hosted runner with no network path to the private front end; deploy.runner.hubVnetId
    names the runner's hub VNet, and the stack's VNet is peered with it in both directions."""
    plan = plan_of("prod")
    vnet = plan.one("azure-native:network:VirtualNetwork")
    peerings = {p.name: p for p in plan.by_type(PEERING)}
    out, back = peerings["network-to-hub"], peerings["network-hub-to-spoke"]
    assert (out.inputs["virtualNetworkName"], out.inputs["resourceGroupName"]) == ("mlops-prod-vnet", "mlops-prod-rg")
    assert out.inputs["remoteVirtualNetwork"] == {"id": HUB}
    assert (back.inputs["virtualNetworkName"], back.inputs["resourceGroupName"]) == ("mlops-hub-vnet", "mlops-hub-rg")
    assert back.inputs["remoteVirtualNetwork"] == {"id": vnet.id}
    pe_subnet = next(s for s in plan.by_type("azure-native:network:Subnet") if s.inputs["subnetName"] == "pe-subnet")
    for p in (out, back):
        assert p.inputs["allowVirtualNetworkAccess"] is True and p.inputs["useRemoteGateways"] is False
        assert pe_subnet.urn in p.dependencies  # no peering write while a subnet of the VNet is written
    # the hub side goes through a provider for the hub's subscription (parsed from the id)
    hub_provider = plan.one("pulumi:providers:azure-native", "network-hub-subscription")
    assert hub_provider.inputs["subscriptionId"] == "00000000-0000-0000-0000-000000000000"
    assert back.provider and back.provider.startswith(hub_provider.urn + "::")
    assert out.provider and "::default_" in out.provider


def test_prod_links_the_workspace_zone_to_the_hub_with_fallback_to_internet() -> None:
    """Finding: the private DNS zone was linked only to the stack's VNet. It is linked to the hub too, with
    resolutionPolicy NxDomainRedirect so names the zone does not hold (dev's and test's workspaces) still
    resolve publicly from the hub."""
    link = plan_of("prod").one(LINK, "private-link-zone-databricks-hub-link")
    assert link.inputs["privateZoneName"] == "privatelink.azuredatabricks.net"
    assert link.inputs["virtualNetwork"] == {"id": HUB}
    assert link.inputs["resolutionPolicy"] == "NxDomainRedirect"
    assert link.inputs["registrationEnabled"] is False


@pytest.mark.parametrize("stack", ["dev", "test"])
def test_public_front_end_stacks_need_no_hub_route(stack: str) -> None:
    plan = plan_of(stack)
    assert plan.by_type(PEERING) == []
    assert [lk for lk in plan.by_type(LINK) if "hub" in lk.name] == []
    ws = plan.one(WS)
    assert _provider(plan).dependencies == [ws.urn]


# --- finding: one databricks_ui_api endpoint per VNet ---------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_one_ui_api_endpoint_serves_front_and_back_end(stack: str) -> None:
    """Finding: prod had two databricks_ui_api endpoints (front end and back end) in one VNet and one DNS
    zone; in one VNet a single endpoint serves both, two fight over the same record."""
    plan = plan_of(stack)
    (ui_api,) = _endpoints(plan, "databricks_ui_api")
    assert ui_api.inputs["privateLinkServiceConnections"][0]["privateLinkServiceId"] == plan.one(WS).id


# --- finding: the firewalled DBFS root needs its own endpoints ------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_dbfs_root_is_named_and_reached_through_dfs_and_blob_endpoints(stack: str) -> None:
    """Finding: the workspace's default storage firewall is on but there were no dfs/blob private endpoints to
    its own (DBFS root) storage account, so classic clusters and jobs could not reach root storage. The account
    is named explicitly and both endpoints (with zone groups) target it in the managed resource group."""
    plan = plan_of(stack)
    ws = plan.one(WS)
    name = f"mlops{stack}dbfs" + {"dev": "b12cb1", "test": "003719", "prod": "921136"}[stack]
    assert ws.inputs["defaultStorageFirewall"] == "Enabled"
    assert ws.inputs["parameters"]["storageAccountName"] == {"value": name}
    target = f"{SUB}/resourceGroups/mlops-{stack}-workspace-managed-rg/providers/Microsoft.Storage/" \
             f"storageAccounts/{name}"
    zones = {z.id: z.inputs["privateZoneName"] for z in plan.by_type("azure-native:privatedns:PrivateZone")}
    for service in ("dfs", "blob"):
        (pe,) = [p for p in _endpoints(plan, service)
                 if p.inputs["privateLinkServiceConnections"][0]["privateLinkServiceId"] == target]
        assert pe.inputs["privateEndpointName"] == f"mlops-{stack}-dbfs-{service}-pe"
        assert ws.urn in pe.dependencies  # Databricks creates the account with the workspace
        (group,) = [g for g in plan.by_type(ZG) if g.inputs["privateEndpointName"] == pe.inputs["privateEndpointName"]]
        zone_id = group.inputs["privateDnsZoneConfigs"][0]["privateDnsZoneId"]
        assert zones[zone_id] == f"privatelink.{service}.core.windows.net"


def test_no_storage_firewall_means_no_dbfs_endpoints() -> None:
    raw = set_path(stack_raw("dev"), "workspaceSecurity.defaultStorageFirewall", False)
    plan = run_program("dev", raw)
    assert [pe.name for pe in plan.by_type(PE) if "dbfs" in pe.name] == []


def test_an_existing_workspace_keeps_its_dbfs_account_name() -> None:
    raw = set_path(stack_raw("dev"), "naming.dbfsStorageAccount", "dbstorageabc123def4567")
    plan = run_program("dev", raw)
    assert plan.one(WS).inputs["parameters"]["storageAccountName"] == {"value": "dbstorageabc123def4567"}
    assert {pe.inputs["privateLinkServiceConnections"][0]["privateLinkServiceId"].rsplit("/", 1)[-1]
            for pe in plan.by_type(PE) if "dbfs" in pe.name} == {"dbstorageabc123def4567"}


# --- finding: the secret scope's vault must let the AzureDatabricks app read ----------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_vault_grants_key_vault_secrets_user_to_the_databricks_app(stack: str) -> None:
    """Finding: the Key Vault-backed secret scope sits on an RBAC vault, but the AzureDatabricks application
    held no Key Vault Secrets User role there, so every secret read failed."""
    plan = plan_of(stack)
    vault = plan.one(KV)
    (reader,) = [ra for ra in plan.by_type(RA) if _role(ra) == SECRETS_USER]
    assert reader.inputs["scope"] == vault.id
    assert reader.inputs["principalId"] == DATABRICKS_APP
    assert reader.inputs["principalType"] == "ServicePrincipal"
    scope = plan.one("databricks:index/secretScope:SecretScope")
    assert scope.inputs["keyvaultMetadata"]["resourceId"] == vault.id


# --- finding: destroy then up must not collide with a soft-deleted vault --------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_purge_protection_only_where_the_vault_is_kept(stack: str) -> None:
    """Finding: dev and test had purge protection with a deterministic vault name, so `pulumi destroy` then
    `up` failed for 90 days ("a vault with the same name already exists in deleted state"). They hold no keys:
    no purge protection and a 7-day soft delete, purged after destroy; prod keeps purge protection and is
    protected and retained."""
    vault = plan_of(stack).one(KV)
    props = vault.inputs["properties"]
    if stack == "prod":
        assert props["enablePurgeProtection"] is True and (vault.protect, vault.retainOnDelete) == (True, True)
    else:
        assert "enablePurgeProtection" not in props  # the API refuses false: off means unset
        assert props["softDeleteRetentionInDays"] == 7 and props["enableSoftDelete"] is True
        assert (vault.protect, vault.retainOnDelete) == (False, False)


# --- the attributes other components use -----------------------------------------------------------------------

def _attributes_program(seen: dict[str, Any]) -> Callable[[], None]:
    def program() -> None:
        vault = KeyVault("kv", KeyVaultArgs(
            config=KeyVaultConfig(), encryption=EncryptionConfig(databricks_service_object_id=DATABRICKS_APP),
            name="mlops-dev-kv-x", resource_group_name="rg", location="eastus2", tags={}, tenant_id="t",
            subscription_id="s", deployer_object_id="d"))
        ws = Workspace("ws", WorkspaceArgs(
            config=WorkspaceConfig(), name="w", managed_resource_group_id="/subscriptions/s/resourceGroups/m",
            resource_group_name="rg", location="eastus2", vnet_id="v", host_subnet_name="h",
            container_subnet_name="c", tags={}, dbfs_storage_account_name="mlopsdevdbfsx"))
        seen["grants"] = vault.secret_reader_grants
        seen["dbfs"] = ws.dbfs_storage_account_id
        pulumi.export("dbfs", ws.dbfs_storage_account_id)
        root: Any = get_root_resource()
        if isinstance(root, Stack):
            root._outputs_registered = False
            root._finish()
    return program


def test_key_vault_and_workspace_expose_what_the_secret_scope_and_serverless_rules_use() -> None:
    seen: dict[str, Any] = {}
    plan = run_program("dev", stack_raw("dev"), program=_attributes_program(seen))
    assert [type(g).__name__ for g in seen["grants"]] == ["RoleAssignment"]
    assert isinstance(seen["dbfs"], pulumi.Output)
    assert plan.outputs["dbfs"] == "/subscriptions/s/resourceGroups/m/providers/Microsoft.Storage/storageAccounts/" \
                                   "mlopsdevdbfsx"


# --- the deploy-readiness rules, both ways on real plans --------------------------------------------------------

def _findings(doc: dict[str, Any], rule: str) -> list[str]:
    views = [view_from_plan(r) for r in doc["resources"]]
    return [f.message for f in RULES_BY_NAME[rule].run_stack(views, None)]


def _res(doc: dict[str, Any], name: str, typ: str | None = None) -> dict[str, Any]:
    (found,) = [r for r in doc["resources"] if r["name"] == name and r["custom"] and (typ is None or r["type"] == typ)]
    return found


def _drop(doc: dict[str, Any], name: str, typ: str | None = None) -> None:
    gone = _res(doc, name, typ)
    doc["resources"].remove(gone)
    for r in doc["resources"]:
        r["dependencies"] = [d for d in r["dependencies"] if d != gone["urn"]]


def _undepend(doc: dict[str, Any], name: str, *names: str) -> None:
    res = _res(doc, name)
    urns = {_res(doc, n)["urn"] for n in names}
    res["dependencies"] = [d for d in res["dependencies"] if d not in urns]


def _set(doc: dict[str, Any], name: str, path: str, value: Any, typ: str | None = None) -> None:
    node = _res(doc, name, typ)["inputs"]
    *parents, last = path.split(".")
    for part in parents:
        node = node[part]
    node[last] = value


def _add_secret(doc: dict[str, Any], after: list[str]) -> None:
    vault = _res(doc, "key-vault", KV)
    urn = vault["urn"].replace("azure-native:keyvault:Vault::key-vault", "azure-native:keyvault:Secret::token")
    doc["resources"].append({
        "urn": urn, "type": "azure-native:keyvault:Secret", "name": "token", "id": f"{vault['id']}/secrets/token",
        "parent": vault["parent"], "provider": vault["provider"], "custom": True, "protect": False,
        "retainOnDelete": False, "dependencies": [vault["urn"], *after],
        "inputs": {"vaultName": vault["inputs"]["vaultName"], "secretName": "token", "resourceGroupName": "rg",
                   "properties": {"value": "[secret]"}}})


def _grant(doc: dict[str, Any], role: str) -> str:
    """A role assignment of `role` on the stack's vault; returns its URN."""
    vault = _res(doc, "key-vault", KV)
    urn = vault["urn"].replace("azure-native:keyvault:Vault::key-vault",
                               "azure-native:authorization:RoleAssignment::ci-secrets-officer")
    doc["resources"].append({
        "urn": urn, "type": RA, "name": "ci-secrets-officer", "id": f"{vault['id']}/ra", "parent": vault["parent"],
        "provider": vault["provider"], "custom": True, "protect": False, "retainOnDelete": False,
        "dependencies": [vault["urn"]],
        "inputs": {"roleDefinitionId": f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role}",
                   "scope": vault["id"], "principalId": CLIENT_OBJECT_ID}})
    return urn


def _duplicate_ui_api(doc: dict[str, Any]) -> None:
    pe = _res(doc, "private-link-backend", PE)
    copy_ = {**pe, "urn": pe["urn"].replace("::private-link-backend", "::private-link-frontend"),
             "name": "private-link-frontend", "id": pe["id"].replace("backend", "frontend"),
             "inputs": {**pe["inputs"], "privateEndpointName": "mlops-prod-frontend-pe"}}
    doc["resources"].append(copy_)


def _crypto_officer(doc: dict[str, Any]) -> dict[str, Any]:
    return _res(doc, "key-vault-deployer-crypto-officer", RA)


def _secrets_user(doc: dict[str, Any]) -> dict[str, Any]:
    return _res(doc, "key-vault-databricks-service-secrets-user", RA)


def _private_front_end(doc: dict[str, Any]) -> None:
    _set(doc, "workspace", "publicNetworkAccess", "Disabled", WS)


def _purge_protected(doc: dict[str, Any]) -> None:
    _res(doc, "key-vault", KV)["inputs"]["properties"]["enablePurgeProtection"] = True


def _unprotected(doc: dict[str, Any]) -> None:
    vault = _res(doc, "key-vault", KV)
    vault["protect"] = vault["retainOnDelete"] = False


def _secret_needs(doc: dict[str, Any], role: str | None) -> None:
    _add_secret(doc, [_grant(doc, role)] if role else [])


KEYS_MSG = ("is written through ARM as the caller on RBAC vault 'mlops-prod-kv-921136' but waits for no role "
            "assignment of Key Vault Crypto Officer or Key Vault Administrator on it (ForbiddenByRbac: Owner and "
            "Contributor carry no data actions)")
SECRET_MSG = ("Secret token is written through ARM as the caller on RBAC vault 'mlops-dev-kv-b12cb1' but waits for "
              "no role assignment of Key Vault Secrets Officer or Key Vault Administrator on it")
UNREACHABLE = ("workspace provider databricks-workspace of Workspace workspace (publicNetworkAccess Disabled) does "
               "not wait for ")
ROUTE = ("a route from the deploy runner (peerings both ways with a hub VNet, and a link of "
         "privatelink.azuredatabricks.net to that hub or the endpoint's record in the hub's existing zone)")

# (id, rule, stack, mutation of the plan JSON, expected message fragment, number of findings)
BROKEN: list[tuple[str, str, str, Callable[[dict[str, Any]], None], str, int]] = [
    ("keys-without-crypto-officer", "deploy-key-vault-data-role-before-write", "prod",
     lambda d: (_drop(d, "key-vault-deployer-crypto-officer-propagation"),
                _drop(d, "key-vault-deployer-crypto-officer")),
     KEYS_MSG, 3),
    ("keys-with-a-control-plane-role", "deploy-key-vault-data-role-before-write", "prod",
     lambda d: _crypto_officer(d)["inputs"].update(roleDefinitionId=f"{SUB}/providers/Microsoft.Authorization/"
                                                                     f"roleDefinitions/{CONTRIBUTOR}"), KEYS_MSG, 3),
    ("keys-granted-on-another-vault", "deploy-key-vault-data-role-before-write", "prod",
     lambda d: _crypto_officer(d)["inputs"].update(scope=f"{SUB}/resourceGroups/other/providers/Microsoft.KeyVault/"
                                                         "vaults/other"), KEYS_MSG, 3),
    ("secret-without-a-role", "deploy-key-vault-data-role-before-write", "dev",
     lambda d: _secret_needs(d, None), SECRET_MSG, 1),
    ("secret-with-a-reader-role", "deploy-key-vault-data-role-before-write", "dev",
     lambda d: _secret_needs(d, SECRETS_USER), SECRET_MSG, 1),
    ("provider-before-the-endpoint", "deploy-private-workspace-reachable", "prod",
     lambda d: _undepend(d, "databricks-workspace", "private-link-backend", "private-link-backend-dns"),
     UNREACHABLE + "a databricks_ui_api private endpoint to it", 1),
    ("provider-before-the-dns-record", "deploy-private-workspace-reachable", "prod",
     lambda d: _undepend(d, "databricks-workspace", "private-link-backend-dns"),
     UNREACHABLE + "that endpoint's DNS zone group in privatelink.azuredatabricks.net", 1),
    ("provider-before-the-hub-link", "deploy-private-workspace-reachable", "prod",
     lambda d: _undepend(d, "databricks-workspace", "private-link-zone-databricks-hub-link"), UNREACHABLE + ROUTE, 1),
    ("provider-before-the-return-peering", "deploy-private-workspace-reachable", "prod",
     lambda d: _undepend(d, "databricks-workspace", "network-hub-to-spoke"), UNREACHABLE + ROUTE, 1),
    ("hub-link-to-another-vnet", "deploy-private-workspace-reachable", "prod",
     lambda d: _set(d, "private-link-zone-databricks-hub-link", "virtualNetwork.id", HUB + "-other"),
     UNREACHABLE + ROUTE, 1),
    ("private-front-end-without-any-of-it", "deploy-private-workspace-reachable", "dev", _private_front_end,
     UNREACHABLE + "a databricks_ui_api private endpoint to it; " + ROUTE, 1),
    ("two-ui-api-endpoints", "deploy-one-ui-api-endpoint-per-vnet", "prod", _duplicate_ui_api,
     "2 databricks_ui_api private endpoints to Workspace workspace in VNet mlops-prod-vnet (private-link-backend, "
     "private-link-frontend): one serves both front end and back end", 1),
    ("dbfs-without-blob-endpoint", "deploy-dbfs-root-private-endpoints", "dev",
     lambda d: _drop(d, "private-link-dbfs-blob", PE),
     "Workspace workspace has defaultStorageFirewall Enabled but no blob private endpoint to its DBFS root storage "
     "account mlopsdevdbfsb12cb1: classic clusters and jobs cannot reach root storage", 1),
    ("dbfs-endpoint-to-the-lake", "deploy-dbfs-root-private-endpoints", "test",
     lambda d: _res(d, "private-link-dbfs-dfs", PE)["inputs"]["privateLinkServiceConnections"][0].update(
         privateLinkServiceId=_res(d, "lake", "azure-native:storage:StorageAccount")["id"]),
     "no dfs private endpoint to its DBFS root storage account mlopstestdbfs003719", 1),
    ("dbfs-unnamed", "deploy-dbfs-root-private-endpoints", "prod",
     lambda d: _res(d, "workspace", WS)["inputs"]["parameters"].pop("storageAccountName"),
     "parameters.storageAccountName is missing: Databricks names the DBFS root account at creation", 1),
    ("scope-without-secrets-user", "deploy-secret-scope-vault-readable", "dev",
     lambda d: _drop(d, "key-vault-databricks-service-secrets-user", RA),
     "secret scope 'mlops-dev-kv' reads vault 'mlops-dev-kv-b12cb1', but no role assignment gives Key Vault Secrets "
     "User on it: every secret read by the AzureDatabricks app fails", 1),
    ("scope-reader-on-another-vault", "deploy-secret-scope-vault-readable", "prod",
     lambda d: _secrets_user(d)["inputs"].update(scope=f"{SUB}/resourceGroups/other"),
     "secret scope 'mlops-prod-kv' reads vault 'mlops-prod-kv-921136', but no role assignment gives", 1),
    ("scope-reader-with-crypto-role", "deploy-secret-scope-vault-readable", "test",
     lambda d: _secrets_user(d)["inputs"].update(roleDefinitionId=f"{SUB}/providers/Microsoft.Authorization/"
                                                                  f"roleDefinitions/{CRYPTO_OFFICER}"),
     "secret scope 'mlops-test-kv' reads vault 'mlops-test-kv-003719', but no role assignment gives", 1),
    ("purge-protected-disposable-vault", "deploy-no-soft-deleted-name-collision", "dev", _purge_protected,
     "key vault mlops-dev-kv-b12cb1 has purge protection and a fixed name but is neither protected nor retained: "
     "after `pulumi destroy` the soft-deleted vault holds the name for 7 days", 1),
    ("unprotected-prod-vault", "deploy-no-soft-deleted-name-collision", "prod", _unprotected,
     "key vault mlops-prod-kv-921136 has purge protection and a fixed name but is neither protected nor retained",
     1),
]


@functools.cache
def _doc(stack: str) -> str:
    import json

    return json.dumps(plan_of(stack).as_json())


def _fresh(stack: str) -> dict[str, Any]:
    import json

    doc: dict[str, Any] = json.loads(_doc(stack))
    return doc


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("stack", STACKS)
def test_rule_passes_on_the_real_plan(rule: str, stack: str) -> None:
    assert _findings(_fresh(stack), rule) == []


@pytest.mark.parametrize(("rule", "stack", "mutate", "expected", "count"), [c[1:] for c in BROKEN],
                         ids=[c[0] for c in BROKEN])
def test_rule_fires_on_a_broken_copy_of_a_real_plan(rule: str, stack: str, mutate: Callable[[dict[str, Any]], None],
                                                    expected: str, count: int) -> None:
    doc = _fresh(stack)
    mutate(doc)
    found = _findings(doc, rule)
    assert len(found) == count, found
    assert all(expected in f for f in found), found


def test_a_secret_that_waits_for_the_secrets_officer_passes() -> None:
    doc = _fresh("dev")
    _secret_needs(doc, SECRETS_OFFICER)
    assert _findings(doc, "deploy-key-vault-data-role-before-write") == []


def test_a_purge_protected_vault_with_a_generated_name_passes() -> None:
    doc = _fresh("dev")
    _purge_protected(doc)
    vault = _res(doc, "key-vault", KV)
    suffix = {"urn": "urn:pulumi:dev::mlops-platform::random:index/randomString:RandomString::kv-suffix",
              "type": "random:index/randomString:RandomString", "name": "kv-suffix", "id": "abc", "parent": None,
              "provider": None, "custom": True, "protect": False, "retainOnDelete": False, "dependencies": [],
              "inputs": {"length": 6}}
    doc["resources"].append(suffix)
    vault["dependencies"].append(suffix["urn"])
    assert _findings(doc, "deploy-no-soft-deleted-name-collision") == []


@pytest.mark.parametrize("stack", STACKS)
def test_first_deploy_plans_pass_the_azure_deploy_readiness_rules(stack: str) -> None:
    """`deploy.firstDeploy` (the first `up` from nothing) is held to the same rules as the steady state."""
    report = check_plan(first_deploy_plan_of(stack).as_json())
    assert [(v.rule, v.message) for v in report.verdicts if v.rule in RULES] == []
    assert [(v.rule, v.message) for v in report.mandatory] == []


@pytest.mark.parametrize("stack", STACKS)
def test_rules_follow_dependencies_where_ids_are_unknown(stack: str) -> None:
    """CrossGuard previews know no ids of resources the run creates: the rules match through the dependency
    graph then, and the real plans still pass."""
    import dataclasses

    views = [dataclasses.replace(view_from_plan(r), id=None) for r in _fresh(stack)["resources"]]
    assert [(rule, f.message) for rule in RULES for f in RULES_BY_NAME[rule].run_stack(views, None)] == []
