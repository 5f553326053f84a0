"""Unity Catalog per environment from the offline plans: metastore assignment first, isolated catalogs bound
to the right workspaces, schemas, identity, workspace settings, explicit providers, stack outputs."""

from __future__ import annotations

import pytest

from mlopsctl.plan.engine import run_program
from mlopsctl.plan.mocks import account_group_id
from mlopsctl.plan.stack_refs import referenced_outputs
from tests.support import STACKS, plan_of, set_path, stack_raw

DBX = "databricks:index/"
METASTORE_ID = "6f1e2d3c-4b5a-4c6d-8e7f-0a1b2c3d4e5f"
SEED_SCHEMAS = {
    "dev": ["raw", "feature_store", "experiments", "sandbox"],
    "test": ["raw", "feature_store", "validation", "staging"],
    "prod": ["raw", "feature_store", "models", "serving"],
}
RETENTION = {"dev_models": "30", "candidate_models": "90", "production_models": "365", "archived_models": "730"}
# stack -> roles with USER on its workspace (the matrix: any access to the environment's catalog)
WORKSPACE_USERS = {
    "dev": {"dataScientists", "mlEngineers", "devopsEngineers"},
    "test": {"dataScientists", "mlEngineers", "devopsEngineers", "modelConsumers"},
    "prod": {"dataScientists", "mlEngineers", "devopsEngineers", "modelConsumers"},
}
ACCOUNT_LEVEL = {"MetastoreAssignment", "MwsPermissionAssignment", "Group", "ServicePrincipal", "Metastore"}
BEFORE_ASSIGNMENT = {"MetastoreAssignment", "Metastore", "Group", "ServicePrincipal"}


def uc_resources(stack: str) -> list:
    plan = plan_of(stack)
    root = plan.one("mlops:platform:UnityCatalog").urn
    urns = {root}
    out = []
    for res in plan.resources:  # parents come before children
        if res.parent in urns:
            urns.add(res.urn)
            if res.custom:
                out.append(res)
    return out


def kind(res) -> str:
    return res.type.rsplit(":", 1)[-1]


def ws_id(stack: str) -> str:
    return plan_of(stack).outputs["workspaceNumericId"]


@pytest.mark.parametrize("stack", STACKS)
def test_metastore_is_referenced_and_assigned_explicitly_with_the_account_provider(stack: str) -> None:
    plan = plan_of(stack)
    assignment = plan.one(DBX + "metastoreAssignment:MetastoreAssignment")
    assert assignment.inputs == {"workspaceId": ws_id(stack), "metastoreId": METASTORE_ID}
    assert assignment.provider.split("::")[-2] == "databricks-account"
    assert plan.by_type(DBX + "metastore:Metastore") == []  # referenced by id, not created
    assert plan.outputs["metastoreId"] == METASTORE_ID


@pytest.mark.parametrize("stack", STACKS)
def test_everything_in_the_metastore_waits_for_the_assignment(stack: str) -> None:
    assignment = plan_of(stack).one(DBX + "metastoreAssignment:MetastoreAssignment").urn
    checked = 0
    for res in uc_resources(stack):
        if res.type.startswith(DBX) and kind(res) not in BEFORE_ASSIGNMENT:
            assert assignment in res.dependencies, res.name
            checked += 1
    assert checked > 30


@pytest.mark.parametrize("stack", STACKS)
def test_every_databricks_resource_names_its_provider(stack: str) -> None:
    for res in plan_of(stack).resources:
        if res.custom and res.type.startswith("databricks:"):
            provider = res.provider.split("::")[-2]
            assert provider in ("databricks-account", "databricks-workspace"), res.name
    for res in uc_resources(stack):
        if res.type.startswith(DBX):
            expected = "databricks-account" if kind(res) in ACCOUNT_LEVEL else "databricks-workspace"
            assert res.provider.split("::")[-2] == expected, res.name


@pytest.mark.parametrize("stack", STACKS)
def test_environment_catalog_is_isolated_on_its_lake(stack: str) -> None:
    plan = plan_of(stack)
    catalog = plan.one(DBX + "catalog:Catalog", f"ml_{stack}_catalog")
    account = plan.one("azure-native:storage:StorageAccount").inputs["accountName"]
    assert catalog.inputs["isolationMode"] == "ISOLATED"
    assert catalog.inputs["storageRoot"] == f"abfss://ml-{stack}-catalog@{account}.dfs.core.windows.net/ml_{stack}_catalog"
    location = plan.one(DBX + "externalLocation:ExternalLocation", f"external-location-ml-{stack}-catalog")
    assert location.urn in catalog.dependencies  # managed storage must be covered by an external location
    assert location.inputs["url"] == f"abfss://ml-{stack}-catalog@{account}.dfs.core.windows.net/"
    assert catalog.protect is (stack == "prod")
    schemas = [r.inputs["name"] for r in plan.by_type(DBX + "schema:Schema")
               if r.inputs["catalogName"] == f"ml_{stack}_catalog"]
    assert set(SEED_SCHEMAS[stack]) | {"databricks_monitoring"} <= set(schemas)


OWNED = ("catalog:Catalog", "schema:Schema", "externalLocation:ExternalLocation", "storageCredential:StorageCredential")


@pytest.mark.parametrize("stack", STACKS)
def test_the_deploying_principal_keeps_ownership_and_admins_manage(stack: str) -> None:
    """Ownership handed to the admins group in the same call that creates catalogs, schemas, external
    locations and the storage credential: the deployer (not in that group) loses the privileges its next
    creates need. No securable sets `owner` (the creator keeps it); the admins group gets MANAGE, with what
    MANAGE needs beside it, through the authoritative Grants on each one."""
    plan = plan_of(stack)
    owned = [r for t in OWNED for r in plan.by_type(DBX + t)]
    assert len(owned) > 10
    assert [r.name for r in owned if "owner" in r.inputs] == []
    grants = {}
    for res in [r for r in plan.by_type(DBX + "grants:Grants") if "share" not in r.inputs]:  # a share: a recipient
        kind = next((k for k in ("catalog", "schema", "externalLocation", "storageCredential") if k in res.inputs),
                    None)
        if kind is None:  # a served model's grant (tests/test_model_lifecycle.py)
            continue
        grants[(kind, res.inputs[kind])] = {g["principal"]: set(g["privileges"]) for g in res.inputs["grants"]}
    admins = "mlops-platform-admins"
    for res in owned:
        kind = res.type.split("/")[1].split(":")[0]
        name = f"{res.inputs['catalogName']}.{res.inputs['name']}" if kind == "schema" else res.inputs["name"]
        if kind == "schema":  # MANAGE on the catalog is inherited by its schemas
            name, kind = res.inputs["catalogName"], "catalog"
        assert "MANAGE" in grants[(kind, name)][admins], res.name
    for catalog in plan.by_type(DBX + "catalog:Catalog"):
        assert grants[("catalog", catalog.inputs["name"])][admins] == {"MANAGE", "USE_CATALOG", "USE_SCHEMA", "BROWSE"}


@pytest.mark.parametrize("stack", STACKS)
def test_storage_credential_is_the_access_connector(stack: str) -> None:
    plan = plan_of(stack)
    cred = plan.one(DBX + "storageCredential:StorageCredential")
    connector = plan.one("azure-native:databricks:AccessConnector")
    assert cred.inputs["azureManagedIdentity"]["accessConnectorId"] == connector.id
    assert cred.inputs["isolationMode"] == "ISOLATION_MODE_ISOLATED"
    for loc in plan.by_type(DBX + "externalLocation:ExternalLocation"):
        assert loc.inputs["credentialName"] == f"mlops-{stack}-lake"


def bindings(stack: str) -> dict[tuple[str, str], str]:
    return {(b.inputs["securableName"], b.inputs["workspaceId"]): b.inputs["bindingType"]
            for b in plan_of(stack).by_type(DBX + "workspaceBinding:WorkspaceBinding")}


@pytest.mark.parametrize("stack", STACKS)
def test_environment_catalog_is_bound_to_its_own_workspace_only(stack: str) -> None:
    mine = {k: v for k, v in bindings(stack).items() if k[0] == f"ml_{stack}_catalog"}
    assert mine == {(f"ml_{stack}_catalog", ws_id(stack)): "BINDING_TYPE_READ_WRITE"}


def test_model_registry_is_bound_to_prods_workspace_only() -> None:
    """Model registry on prod's private lake bound read-write to dev and test: their workspaces cannot reach
    that lake, and dev writes would land in prod's storage. It is bound to prod only; dev and test register
    models in their own catalogs, on their own lakes; no stack reads another's workspace id any more."""
    registry = {k[1]: v for k, v in bindings("prod").items() if k[0] == "ml_models_catalog"}
    assert registry == {ws_id("prod"): "BINDING_TYPE_READ_WRITE"}
    assert plan_of("prod").by_type("pulumi:pulumi:StackReference") == []
    for stack in ("dev", "test"):
        assert plan_of(stack).by_type(DBX + "catalog:Catalog")[0].inputs["name"] == f"ml_{stack}_catalog"
    schemas = {r.inputs["name"]: r for r in plan_of("prod").by_type(DBX + "schema:Schema")
               if r.inputs["catalogName"] == "ml_models_catalog"}
    assert {n: s.inputs["properties"]["retention_days"] for n, s in schemas.items()} == RETENTION


@pytest.mark.parametrize("stack", STACKS)
def test_stack_references_answer_what_the_referenced_plans_export(stack: str) -> None:
    theirs = referenced_outputs(f"mlops-org/mlops-platform/{stack}")
    exported = plan_of(stack).outputs
    assert theirs == {k: exported[k] for k in theirs}
    assert set(theirs) >= {"workspaceNumericId", "metastoreId"}


@pytest.mark.parametrize("stack", STACKS)
def test_groups_and_cicd_principal_are_assigned_to_the_workspace_per_matrix(stack: str) -> None:
    plan = plan_of(stack)
    assignments = {r.name.removeprefix("workspace-access-"): r
                   for r in plan.by_type(DBX + "mwsPermissionAssignment:MwsPermissionAssignment")}
    assert set(assignments) == WORKSPACE_USERS[stack] | {"admins", "cicd"}
    for key, res in assignments.items():
        assert res.inputs["workspaceId"] == ws_id(stack)
        assert res.inputs["permissions"] == (["ADMIN"] if key == "admins" else ["USER"])
    sp = plan.one(DBX + "servicePrincipal:ServicePrincipal")
    assert sp.inputs["displayName"] == f"databricks-cicd-{stack}"
    assert assignments["cicd"].inputs["principalId"] == sp.id
    assert assignments["admins"].inputs["principalId"] == account_group_id("mlops-platform-admins")


@pytest.mark.parametrize("stack", STACKS)
def test_account_groups_are_looked_up_by_name_and_owned_by_no_stack(stack: str) -> None:
    """dev teardown: dev created the account-wide groups, so its destroy deleted the groups test and prod grant
    to. Every stack now looks them up by display name with the account provider (synced from Entra ID); no
    stack declares a Group, exports group ids, or reads another stack's."""
    plan = plan_of(stack)
    assert plan.by_type(DBX + "group:Group") == []
    assert "accountGroupIds" not in plan.outputs
    assert plan.by_type("pulumi:pulumi:StackReference") == []
    ids = {r.name.removeprefix("workspace-access-"): r.inputs["principalId"]
           for r in plan.by_type(DBX + "mwsPermissionAssignment:MwsPermissionAssignment")}
    names = {"dataScientists": "mlops-data-scientists", "mlEngineers": "mlops-ml-engineers",
             "devopsEngineers": "mlops-devops-engineers", "modelConsumers": "mlops-model-consumers",
             "admins": "mlops-platform-admins"}
    for key, principal in ids.items():
        if key != "cicd":
            assert principal == account_group_id(names[key])  # the same group id in every stack


def test_account_groups_created_by_a_stack_are_protected_and_retained() -> None:
    """dev teardown: a stack that does create the groups (accountGroups.manage, a protected stack only) keeps
    them through a destroy and through their removal from the program."""
    raw = stack_raw("prod")
    set_path(raw, "identity.accountGroups", {"manage": True})
    plan = run_program("prod", raw)
    groups = plan.by_type(DBX + "group:Group")
    assert len(groups) == 5 and all(g.protect and g.retainOnDelete for g in groups)


@pytest.mark.parametrize("stack", STACKS)
def test_workspace_settings(stack: str) -> None:
    plan = plan_of(stack)
    system = sorted(r.inputs["schema"] for r in plan.by_type(DBX + "systemSchema:SystemSchema"))
    assert system == (["access", "compute", "lakeflow", "query", "serving"] if stack == "prod" else [])
    assert plan.outputs["systemSchemas"] == (["access", "compute", "lakeflow", "query", "serving"]
                                             if stack == "prod" else [])
    namespace = plan.one(DBX + "defaultNamespaceSetting:DefaultNamespaceSetting")
    assert namespace.inputs["namespace"] == {"value": f"ml_{stack}_catalog"}
    assert plan.one(DBX + "disableLegacyAccessSetting:DisableLegacyAccessSetting").inputs[
        "disableLegacyAccess"] == {"value": True}
    assert len(plan.by_type(DBX + "disableLegacyDbfsSetting:DisableLegacyDbfsSetting")) == (0 if stack == "dev" else 1)
    scope = plan.one(DBX + "secretScope:SecretScope")
    vault = plan.one("azure-native:keyvault:Vault")
    assert scope.inputs["backendType"] == "AZURE_KEYVAULT"
    assert scope.inputs["keyvaultMetadata"] == {"resourceId": vault.id,
                                                "dnsName": f"https://{vault.inputs['vaultName']}.vault.azure.net/"}
    folder = plan.one(DBX + "directory:Directory", "experiment-folder")
    assert folder.inputs["path"] == f"/Workspace/ml_experiments/{stack}"
    perms = next(r for r in plan.by_type(DBX + "permissions:Permissions")
                 if r.inputs.get("directoryPath") and r.name != "job-code-folder-permissions")
    assert perms.inputs["directoryPath"] == f"/Workspace/ml_experiments/{stack}"
    levels = {a.get("groupName") or a.get("servicePrincipalName"): a["permissionLevel"]
              for a in perms.inputs["accessControls"]}
    assert levels["mlops-devops-engineers"] == ("CAN_READ" if stack == "dev" else "CAN_MANAGE")
    assert "mlops-model-consumers" not in levels if stack == "dev" else levels["mlops-model-consumers"] == "CAN_READ"


@pytest.mark.parametrize("stack", STACKS)
def test_catalog_outputs(stack: str) -> None:
    out = plan_of(stack).outputs
    assert out["defaultCatalog"] == f"ml_{stack}_catalog"
    own = next(c for c in out["catalogs"] if c["name"] == f"ml_{stack}_catalog")
    assert own["isolationMode"] == "ISOLATED"
    assert own["schemas"][:4] == SEED_SCHEMAS[stack]
    assert own["bindings"] == [{"workspaceId": ws_id(stack), "bindingType": "BINDING_TYPE_READ_WRITE"}]
    if stack == "prod":
        registry = next(c for c in out["catalogs"] if c["name"] == "ml_models_catalog")
        assert registry["schemas"] == list(RETENTION)
        assert [b["workspaceId"] for b in registry["bindings"]] == [ws_id("prod")]


@pytest.mark.parametrize("stack", STACKS)
def test_system_schemas_are_owned_by_the_protected_stack_and_survive_its_destroy(stack: str) -> None:
    """dev teardown: dev enabled the metastore-wide system schemas, and the provider's Delete disables them
    (safeDisable). Only prod, protected, enables them, with protect and retain_on_delete."""
    schemas = plan_of(stack).by_type(DBX + "systemSchema:SystemSchema")
    assert bool(schemas) is (stack == "prod")
    assert all(s.protect and s.retainOnDelete for s in schemas)
