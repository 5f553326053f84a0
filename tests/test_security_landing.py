"""Security landing per environment: workspace hardening, key vault + CMK, private link + DNS, observability."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from pulumi.runtime.stack import Stack, get_root_resource

from infra.components.lake import Lake, LakeArgs
from infra.config.security import LakeConfig
from mlopsctl.plan.engine import run_program
from mlopsctl.plan.model import Plan, Resource
from tests.support import STACKS, plan_of, set_path, stack_raw

CRYPTO_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"  # Key Vault Crypto Service Encryption User
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
WS = "azure-native:databricks:Workspace"
PE = "azure-native:network:PrivateEndpoint"
ZG = "azure-native:network:PrivateDnsZoneGroup"
KV = "azure-native:keyvault:Vault"
KEY = "azure-native:keyvault:Key"
LAW = "azure-native:operationalinsights:Workspace"
DIAG = "azure-native:monitor:DiagnosticSetting"
RA = "azure-native:authorization:RoleAssignment"

# stack -> (front end public, CMK, compliance profile, key vault sku, browser-auth owner, LA retention)
EXPECTED = {
    "dev": (True, False, False, "standard", False, 30),
    "test": (True, False, False, "standard", False, 60),
    "prod": (False, True, True, "premium", True, 365),
}


def _ws(stack: str) -> Resource:
    return plan_of(stack).one(WS)


def _by_name(plan: Plan, typ: str) -> dict[str, Resource]:
    return {r.name: r for r in plan.by_type(typ)}


# --- workspace hardening ---------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_workspace_storage_firewall_uses_the_access_connector(stack: str) -> None:
    ws, connector = _ws(stack), plan_of(stack).one("azure-native:databricks:AccessConnector")
    assert ws.inputs["defaultStorageFirewall"] == "Enabled"
    assert ws.inputs["accessConnector"] == {"id": connector.id, "identityType": "SystemAssigned"}
    assert ws.inputs["parameters"]["requireInfrastructureEncryption"] == {"value": True}
    assert ws.inputs["parameters"]["enableNoPublicIp"] == {"value": True}
    assert ws.inputs["requiredNsgRules"] == "NoAzureDatabricksRules"  # back end always private


@pytest.mark.parametrize("stack", STACKS)
def test_workspace_front_end_and_compliance_per_environment(stack: str) -> None:
    public, _, compliance, *_ = EXPECTED[stack]
    ws = _ws(stack)
    assert ws.inputs["publicNetworkAccess"] == ("Enabled" if public else "Disabled")
    state = "Enabled" if compliance else "Disabled"
    esc = ws.inputs["enhancedSecurityCompliance"]
    assert esc["complianceSecurityProfile"]["value"] == state
    assert esc["enhancedSecurityMonitoring"] == {"value": state}
    assert esc["automaticClusterUpdate"] == {"value": state}


@pytest.mark.parametrize("stack", STACKS)
def test_workspace_customer_managed_keys(stack: str) -> None:
    _, cmk, *_ = EXPECTED[stack]
    plan = plan_of(stack)
    ws, vault = _ws(stack), plan.one(KV)
    keys = {k.inputs["keyName"]: k for k in plan.by_type(KEY)}
    params = ws.inputs["parameters"]
    if not cmk:
        assert keys == {} and "encryption" not in ws.inputs and "encryption" not in params
        assert params["prepareEncryption"] == {"value": False}
        return
    uri = f"https://{vault.inputs['vaultName']}.vault.azure.net/"
    entities = ws.inputs["encryption"]["entities"]
    assert entities["managedServices"]["keySource"] == "Microsoft.Keyvault"
    assert entities["managedServices"]["keyVaultProperties"]["keyName"] == "managed-services-cmk"
    assert entities["managedServices"]["keyVaultProperties"]["keyVaultUri"] == uri
    assert entities["managedDisk"]["keyVaultProperties"]["keyName"] == "managed-disk-cmk"
    assert entities["managedDisk"]["rotationToLatestKeyVersionEnabled"] is True
    assert params["prepareEncryption"] == {"value": True}
    assert params["encryption"]["value"]["keySource"] == "Microsoft.Keyvault"
    assert params["encryption"]["value"]["keyName"] == "dbfs-root-cmk"
    # the key versions are the keys' own (from keyUriWithVersion)
    for entity, key in (("managedServices", "managed-services-cmk"), ("managedDisk", "managed-disk-cmk")):
        assert len(entities[entity]["keyVaultProperties"]["keyVersion"]) == 32
        assert keys[key].urn in ws.dependencies


def test_prod_keys_are_hsm_backed_and_rotate() -> None:
    keys = plan_of("prod").by_type(KEY)
    assert sorted(k.inputs["keyName"] for k in keys) == ["dbfs-root-cmk", "managed-disk-cmk", "managed-services-cmk"]
    for key in keys:
        props = key.inputs["properties"]
        assert props["kty"] == "RSA-HSM" and props["keySize"] == 2048
        assert props["keyOps"] == ["wrapKey", "unwrapKey"]
        assert props["rotationPolicy"]["attributes"] == {"expiryTime": "P455D"}
        actions = {a["action"]["type"]: a["trigger"] for a in props["rotationPolicy"]["lifetimeActions"]}
        assert actions == {"rotate": {"timeAfterCreate": "P365D"}, "notify": {"timeBeforeExpiry": "P30D"}}
        assert (key.protect, key.retainOnDelete) == (True, True)


def test_prod_key_access_for_the_databricks_service_and_the_workspace_identities() -> None:
    plan = plan_of("prod")
    ws = _ws("prod")
    keys = {k.inputs["keyName"]: k for k in plan.by_type(KEY)}
    grants = {r.inputs["scope"]: r for r in plan.by_type(RA) if r.inputs["roleDefinitionId"].endswith(CRYPTO_USER)}
    assert set(grants) == {k.id for k in keys.values()}
    service = grants[keys["managed-services-cmk"].id]
    assert service.inputs["principalId"] == "9f1e2d3c-4b5a-4697-8879-6a5b4c3d2e1f"  # from config
    assert service.urn in ws.dependencies  # granted before the workspace uses the key
    for key in ("managed-disk-cmk", "dbfs-root-cmk"):  # identities that exist only after the workspace
        grant = grants[keys[key].id]
        assert ws.urn in grant.dependencies
        assert grant.inputs["principalType"] == "ServicePrincipal"
    assert grants[keys["managed-disk-cmk"].id].inputs["principalId"] != grants[keys["dbfs-root-cmk"].id].inputs[
        "principalId"]


def test_dbfs_root_prepare_stage_creates_the_identity_and_grant_without_the_key() -> None:
    raw = set_path(stack_raw("prod"), "encryption.dbfsRoot", "prepare")
    plan = run_program("prod", raw)
    params = plan.one(WS).inputs["parameters"]
    assert params["prepareEncryption"] == {"value": True} and "encryption" not in params
    dbfs_key = next(k for k in plan.by_type(KEY) if k.inputs["keyName"] == "dbfs-root-cmk")
    assert [r for r in plan.by_type(RA) if r.inputs["scope"] == dbfs_key.id]


# --- key vault -------------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_key_vault_is_rbac_recoverable_and_closed(stack: str) -> None:
    *_, sku, _, _ = EXPECTED[stack]
    vault = plan_of(stack).one(KV)
    props = vault.inputs["properties"]
    assert vault.inputs["vaultName"].startswith(f"mlops-{stack}-kv-") and len(vault.inputs["vaultName"]) <= 24
    assert props["sku"] == {"family": "A", "name": sku}
    assert props["enableRbacAuthorization"] is True
    # dev/test: no keys and disposable, so no purge protection and the shortest retention (destroy, purge, up)
    assert props["enableSoftDelete"] is True and props["softDeleteRetentionInDays"] == (90 if stack == "prod" else 7)
    assert props.get("enablePurgeProtection") is (True if stack == "prod" else None)
    assert props["publicNetworkAccess"] == "Disabled"
    assert props["networkAcls"] == {"defaultAction": "Deny", "bypass": "AzureServices", "ipRules": [],
                                    "virtualNetworkRules": []}
    assert props["tenantId"] == "11111111-1111-1111-1111-111111111111"
    assert "accessPolicies" not in props


# --- private link ----------------------------------------------------------------------------------

ZONES = {"privatelink.azuredatabricks.net", "privatelink.dfs.core.windows.net", "privatelink.blob.core.windows.net",
         "privatelink.vaultcore.azure.net"}


@pytest.mark.parametrize("stack", STACKS)
def test_private_dns_zones_are_linked_to_the_vnet(stack: str) -> None:
    plan = plan_of(stack)
    vnet = plan.one("azure-native:network:VirtualNetwork")
    zones = plan.by_type("azure-native:privatedns:PrivateZone")
    assert {z.inputs["privateZoneName"] for z in zones} == ZONES
    links = [lk for lk in plan.by_type("azure-native:privatedns:VirtualNetworkLink")
             if lk.inputs["virtualNetworkLinkName"] == f"mlops-{stack}-vnet-link"]
    assert {lk.inputs["privateZoneName"] for lk in links} == ZONES
    for lk in links:
        assert lk.inputs["virtualNetwork"] == {"id": vnet.id}
        assert lk.inputs["registrationEnabled"] is False and lk.inputs["location"] == "global"


@pytest.mark.parametrize("stack", STACKS)
def test_private_endpoints_per_environment(stack: str) -> None:
    *_, browser_owner, _ = EXPECTED[stack]
    plan = plan_of(stack)
    ws, lake, vault = _ws(stack), plan.one("azure-native:storage:StorageAccount"), plan.one(KV)
    subnet = next(s for s in plan.by_type("azure-native:network:Subnet") if s.inputs["subnetName"] == "pe-subnet")
    dbfs = f"{SUB}/resourceGroups/mlops-{stack}-workspace-managed-rg/providers/Microsoft.Storage/storageAccounts/" \
           f"{ws.inputs['parameters']['storageAccountName']['value']}"
    # one databricks_ui_api endpoint serves back end and (prod) front end; the DBFS root's dfs + blob endpoints
    expected = {"backend": (ws.id, "databricks_ui_api"), "lake-dfs": (lake.id, "dfs"),
                "lake-blob": (lake.id, "blob"), "vault": (vault.id, "vault"), "dbfs-dfs": (dbfs, "dfs"),
                "dbfs-blob": (dbfs, "blob")}
    if browser_owner:
        expected["browser-auth"] = (ws.id, "browser_authentication")
    found = {r.inputs["privateEndpointName"].removeprefix(f"mlops-{stack}-").removesuffix("-pe"): r
             for r in plan.by_type(PE)}
    assert set(found) == set(expected)
    for purpose, (target, group) in expected.items():
        pe = found[purpose]
        (conn,) = pe.inputs["privateLinkServiceConnections"]
        assert (conn["privateLinkServiceId"], conn["groupIds"]) == (target, [group]), purpose
        assert pe.inputs["subnet"]["id"] == subnet.id


def test_workspace_endpoints_are_created_one_after_another_in_prod() -> None:
    plan = plan_of("prod")
    pes = {r.inputs["privateEndpointName"]: r for r in plan.by_type(PE)}
    ui_api, browser = (pes[f"mlops-prod-{p}-pe"] for p in ("backend", "browser-auth"))
    assert ui_api.urn in browser.dependencies and browser.urn not in ui_api.dependencies


@pytest.mark.parametrize("stack", STACKS)
def test_every_endpoint_has_a_zone_group_pointing_at_its_zone(stack: str) -> None:
    plan = plan_of(stack)
    zones = {z.id: z.inputs["privateZoneName"] for z in plan.by_type("azure-native:privatedns:PrivateZone")}
    groups = {g.inputs["privateEndpointName"]: g for g in plan.by_type(ZG)}
    want = {"databricks_ui_api": "privatelink.azuredatabricks.net",
            "browser_authentication": "privatelink.azuredatabricks.net", "dfs": "privatelink.dfs.core.windows.net",
            "blob": "privatelink.blob.core.windows.net", "vault": "privatelink.vaultcore.azure.net"}
    endpoints = plan.by_type(PE)
    assert set(groups) == {pe.inputs["privateEndpointName"] for pe in endpoints}
    for pe in endpoints:
        (config,) = groups[pe.inputs["privateEndpointName"]].inputs["privateDnsZoneConfigs"]
        assert zones[config["privateDnsZoneId"]] == want[pe.inputs["privateLinkServiceConnections"][0]["groupIds"][0]]


def test_zone_groups_can_be_left_to_azure_policy() -> None:
    raw = set_path(stack_raw("dev"), "privateLink.manageDnsZoneGroups", False)
    plan = run_program("dev", raw)
    assert plan.by_type(ZG) == []
    assert len(plan.by_type(PE)) == len(plan_of("dev").by_type(PE))  # endpoints and zones stay
    assert len(plan.by_type("azure-native:privatedns:PrivateZone")) == 4


# --- front-end access (public front end only) -------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_public_front_end_is_limited_to_the_ip_access_list(stack: str) -> None:
    public, *_ = EXPECTED[stack]
    plan = plan_of(stack)
    lists = plan.by_type("databricks:index/ipAccessList:IpAccessList")
    confs = [c for c in plan.by_type("databricks:index/workspaceConf:WorkspaceConf")
             if "enableIpAccessLists" in c.inputs.get("customConfig", {})]
    if not public:  # a private front end keeps the users' list as a second gate; its runner needs none
        (allow,) = lists
        assert allow.inputs["label"] == "allowed-egress" and len(confs) == 1
        return
    allow, runner = sorted(lists, key=lambda r: r.inputs["label"] != "allowed-egress")
    (conf,) = confs
    assert allow.inputs["listType"] == "ALLOW" and allow.inputs["enabled"] is True
    assert allow.inputs["ipAddresses"] == ["203.0.113.0/24", "198.51.100.0/24"]
    assert runner.inputs["label"] == "deploy-runner" and runner.inputs["ipAddresses"] == ["203.0.113.10/32"]
    assert conf.inputs["customConfig"] == {"enableIpAccessLists": "true"}
    # the lists exist before enforcement starts (a list that would block the caller cannot be created)
    assert {allow.urn, runner.urn} <= set(conf.dependencies)
    workspace_provider = next(r for r in plan.resources if r.type == "pulumi:providers:databricks"
                              and r.name.endswith("workspace"))
    assert allow.provider and allow.provider.startswith(workspace_provider.urn)


# --- observability ---------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_log_analytics_is_entra_only(stack: str) -> None:
    *_, retention = EXPECTED[stack]
    law = plan_of(stack).one(LAW)
    assert law.inputs["workspaceName"] == f"mlops-{stack}-logs"
    assert law.inputs["features"]["disableLocalAuth"] is True
    assert law.inputs["retentionInDays"] == retention
    assert law.inputs["sku"] == {"name": "PerGB2018"}


@pytest.mark.parametrize("stack", STACKS)
def test_diagnostic_settings_send_workspace_vault_and_blob_logs(stack: str) -> None:
    plan = plan_of(stack)
    law = plan.one(LAW)
    blob_service = plan.one("azure-native:storage:BlobServiceProperties")
    targets = {_ws(stack).id: "allLogs", plan.one(KV).id: "audit", blob_service.id: "allLogs"}
    settings = plan.by_type(DIAG)
    assert {s.inputs["resourceUri"]: s.inputs["logs"] for s in settings} == {
        uri: [{"categoryGroup": group, "enabled": True}] for uri, group in targets.items()}
    for s in settings:
        assert s.inputs["workspaceId"] == law.id
        assert s.id == f"{s.inputs['resourceUri']}/providers/Microsoft.Insights/diagnosticSettings/to-log-analytics"


# --- protection ------------------------------------------------------------------------------------

STATEFUL = (WS, "azure-native:storage:StorageAccount", KV, LAW)


@pytest.mark.parametrize("stack", STACKS)
def test_stateful_resources_are_protected_in_prod_only(stack: str) -> None:
    prod = stack == "prod"
    plan = plan_of(stack)
    for typ in STATEFUL:
        res = plan.one(typ)
        assert (res.protect, res.retainOnDelete) == (prod, prod), typ
    locks = plan.by_type("azure-native:authorization:ManagementLockAtResourceGroupLevel")
    assert [lk.inputs["level"] for lk in locks] == (["CanNotDelete"] if prod else [])


# --- the lake's abfss URLs (contract for Unity Catalog) --------------------------------------------

def _lake_program() -> None:
    lake = Lake("lake", LakeArgs(
        config=LakeConfig(containers=["ml-dev-catalog"]), name="mlopsdevlake", resource_group_name="rg",
        location="eastus2", tags={}, tenant_id="t", subscription_id="s", access_connector_id="/c",
        access_connector_principal_id="p"))
    pulumi.export("url", lake.abfss_url("ml-dev-catalog"))
    with pytest.raises(KeyError, match="lake has no container 'nope'; configured: ml-dev-catalog"):
        lake.abfss_url("nope")
    root: Any = get_root_resource()
    if isinstance(root, Stack):
        root._outputs_registered = False
        root._finish()


def test_abfss_url_names_the_container_and_the_account() -> None:
    plan = run_program("dev", stack_raw("dev"), program=_lake_program)
    assert plan.outputs["url"] == "abfss://ml-dev-catalog@mlopsdevlake.dfs.core.windows.net/"
