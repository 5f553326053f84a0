"""Config errors of the Unity Catalog area, each by its exact one-line message."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import read_stack_file, validate
from infra.offline.engine import run_program
from infra.offline.mocks import account_group_id
from tests.support import STACKS, config_problems, set_path, stack_raw

ADMINS = "mlops-platform-admins"
PROTECTED = {"protect": True, "retainOnDelete": True, "resourceGroupLock": True}


def catalogs(raw: dict[str, Any]) -> list[dict[str, Any]]:
    return raw["mlops-platform:unityCatalog"]["catalogs"]


def test_checked_in_stacks_are_valid() -> None:
    for stack in STACKS:
        validate(stack, read_stack_file(stack), {s: read_stack_file(s) for s in STACKS if s != stack})


def test_user_email_as_grantee_is_refused() -> None:
    raw = stack_raw("dev")
    catalogs(raw)[0]["grants"] = [{"principal": "jane.doe@example.com", "privileges": ["SELECT"]}]
    assert config_problems("dev", raw) == [
        "dev: unityCatalog.catalogs[0].grants[0].principal: 'jane.doe@example.com' looks like a user e-mail; "
        "grant to an account group (or the CI/CD service principal), never to a person"]


@pytest.mark.parametrize("owner", ["admins", "jane.doe@example.com"])
def test_an_explicit_catalog_owner_is_refused(owner: str) -> None:
    """Ownership handed to the admins group in the create call: an owner key would transfer the catalog away
    from the deploying principal, whose next creates in it then fail; the config refuses it."""
    raw = stack_raw("dev")
    catalogs(raw)[0]["owner"] = owner
    assert config_problems("dev", raw) == [
        f"dev: unityCatalog.catalogs[0].owner: {owner!r} is no longer set: the deploying principal keeps ownership "
        "of what it creates, and the admins group (identity.groups.admins) gets MANAGE through the authoritative "
        "grants; remove the key"]


@pytest.mark.parametrize("privilege", ["ALL_PRIVILEGES", "MANAGE"])
def test_admin_only_privileges_to_a_non_admin_group_are_refused(privilege: str) -> None:
    raw = stack_raw("prod")
    catalogs(raw)[1]["grants"] = [{"principal": "mlEngineers", "privileges": [privilege]}]
    assert config_problems("prod", raw) == [
        f"prod: unityCatalog.catalogs[1].grants[0].privileges[0]: {privilege!r} is only allowed to admin groups "
        f"({ADMINS}; see unityCatalog.adminGroups), not to 'mlEngineers'"]


def test_admin_only_privileges_to_the_admins_group_are_granted() -> None:
    raw = stack_raw("dev")
    catalogs(raw)[0]["grants"] = [{"principal": "admins", "privileges": ["MANAGE"]},
                                  {"principal": "ops-admins", "privileges": ["ALL_PRIVILEGES"], "schema": "raw"}]
    raw["mlops-platform:unityCatalog"]["adminGroups"] = ["ops-admins"]
    plan = run_program("dev", raw)
    grants = {r.inputs.get("catalog") or r.inputs.get("schema"): r.inputs["grants"]
              for r in plan.by_type("databricks:index/grants:Grants")}
    assert {"principal": ADMINS, "privileges": ["BROWSE", "MANAGE", "USE_CATALOG", "USE_SCHEMA"]} in grants[
        "ml_dev_catalog"]
    assert grants["ml_dev_catalog.raw"] == [{"principal": "ops-admins", "privileges": ["ALL_PRIVILEGES"]}]


def test_legacy_privilege_names_are_refused_with_their_replacement() -> None:
    raw = stack_raw("dev")
    catalogs(raw)[0]["grants"] = [{"principal": "mlEngineers", "privileges": ["USAGE", "CREATE"]}]
    assert config_problems("dev", raw) == [
        "dev: unityCatalog.catalogs[0].grants[0].privileges[0]: 'USAGE' is a legacy privilege name; use "
        "USE_CATALOG (on a catalog) or USE_SCHEMA (on a schema)",
        "dev: unityCatalog.catalogs[0].grants[0].privileges[1]: 'CREATE' is a legacy privilege name; use "
        "CREATE_SCHEMA (on a catalog) or CREATE_TABLE / CREATE_FUNCTION / CREATE_MODEL (on a schema)"]


def test_two_stacks_creating_the_metastore_are_refused() -> None:
    dev, prod = stack_raw("dev"), stack_raw("prod")
    for raw in (dev, prod):
        set_path(raw, "unityCatalog.metastore", {"create": True})
    assert config_problems("dev", dev) == [
        "dev: unityCatalog.metastore.create: true is only allowed in a protected stack (protection.protect: true): "
        "the metastore is region-wide and every workspace in the region uses it"]
    set_path(dev, "protection", PROTECTED)
    assert config_problems("dev", dev, {"test": read_stack_file("test"), "prod": prod}) == [
        "dev: unityCatalog.metastore.create: true is also set by stack prod in region 'eastus2'; one metastore "
        "per region, created by exactly one stack (the others set metastore.fromStack or metastore.id)"]


def test_metastore_needs_exactly_one_source() -> None:
    raw = stack_raw("dev")
    set_path(raw, "unityCatalog.metastore.create", True)
    assert config_problems("dev", raw) == [
        "dev: unityCatalog.metastore.id: '6f1e2d3c-4b5a-4c6d-8e7f-0a1b2c3d4e5f' set exactly one of metastore.id "
        "(reference the region's metastore), metastore.create: true (this stack creates it) or "
        "metastore.fromStack (the stack that created it); got ['id', 'create']"]


def test_metastore_created_by_one_stack_is_read_by_the_others() -> None:
    prod, test = stack_raw("prod"), stack_raw("test")
    set_path(prod, "unityCatalog.metastore", {"create": True})
    set_path(test, "unityCatalog.metastore", {"fromStack": "prod"})
    assert validate("test", test, {"prod": prod, "dev": read_stack_file("dev")}).unity_catalog.metastore.from_stack
    plan = run_program("prod", prod)
    metastore = plan.one("databricks:index/metastore:Metastore")
    assert metastore.protect and metastore.retainOnDelete  # region-wide: no destroy of one stack deletes it
    assert metastore.provider.split("::")[-2] == "databricks-account"
    # no owner: the deploying principal stays metastore admin, so its catalogs and locations can be created
    assert metastore.inputs["region"] == "eastus2" and "owner" not in metastore.inputs
    assignment = plan.one("databricks:index/metastoreAssignment:MetastoreAssignment")
    assert assignment.inputs["metastoreId"] == metastore.id == plan.outputs["metastoreId"]
    assert metastore.urn in assignment.dependencies


def test_fromstack_must_name_the_creating_stack() -> None:
    raw = stack_raw("test")
    set_path(raw, "unityCatalog.metastore", {"fromStack": "prod"})
    assert config_problems("test", raw) == [
        "test: unityCatalog.metastore.fromStack: 'prod' does not create the metastore (its "
        "unityCatalog.metastore.create is not true)"]


def test_two_owners_of_the_model_registry_are_refused() -> None:
    dev = stack_raw("dev")
    registry = dict(catalogs(stack_raw("prod"))[1], storageContainer="ml-models-catalog", bindings=[])
    catalogs(dev).append(registry)
    dev["mlops-platform:lake"]["containers"].append("ml-models-catalog")
    dev["mlops-platform:unityCatalog"]["externalLocations"].append({"container": "ml-models-catalog"})
    assert config_problems("dev", dev) == [
        "dev: unityCatalog.catalogs: 'ml_models_catalog' is also declared by stack prod; a catalog has exactly one "
        "owning stack (bind it to the other workspaces instead)"]


def test_two_stacks_creating_the_account_groups_are_refused() -> None:
    prod, test = stack_raw("prod"), stack_raw("test")
    set_path(prod, "identity.accountGroups", {"manage": True})
    set_path(test, "identity.accountGroups", {"manage": True})
    set_path(test, "protection", PROTECTED)
    assert config_problems("test", test, {"dev": read_stack_file("dev"), "prod": prod}) == [
        "test: identity.accountGroups.manage: true is also set by stack prod; account groups are account-wide and "
        "created by exactly one stack (the others set accountGroups.lookup or accountGroups.fromStack)"]


def test_account_groups_are_created_only_by_a_protected_stack() -> None:
    """dev teardown: a disposable stack that creates the account-wide groups deletes, on destroy, the groups the
    other stacks grant to; only a protected stack may create them (the checked-in stacks look them up)."""
    raw = stack_raw("dev")
    set_path(raw, "identity.accountGroups", {"manage": True})
    assert config_problems("dev", raw) == [
        "dev: identity.accountGroups.manage: true is only allowed in a protected stack (protection.protect: true): "
        "account groups are account-wide and a destroy of this stack would delete the groups other stacks grant "
        "to; sync them from Entra ID and use accountGroups.lookup: true"]


def test_references_must_point_one_way() -> None:
    test, prod = stack_raw("test"), stack_raw("prod")
    set_path(test, "protection", PROTECTED)
    set_path(test, "identity.accountGroups", {"manage": True})
    set_path(test, "unityCatalog.metastore", {"fromStack": "prod"})
    set_path(prod, "unityCatalog.metastore", {"create": True})
    set_path(prod, "identity.accountGroups", {"fromStack": "test"})
    assert config_problems("test", test, {"dev": read_stack_file("dev"), "prod": prod}) == [
        "test: unityCatalog: reads stack prod's outputs and prod reads this stack's; no deploy order satisfies "
        "both (references must point one way: dev -> test -> prod)"]


def test_catalog_storage_must_be_a_lake_container_with_an_external_location() -> None:
    raw = stack_raw("dev")
    raw["mlops-platform:lake"]["containers"].append("ml-models-catalog")
    catalogs(raw)[0]["storageContainer"] = "nope"
    raw["mlops-platform:unityCatalog"]["catalogs"].append(
        dict(name="extra_catalog", storageContainer="ml-models-catalog", schemas=["a"]))
    assert config_problems("dev", raw) == [
        "dev: unityCatalog.catalogs[0].storageContainer: 'nope' is not a lake container; allowed: ml-dev-catalog, "
        "mlflow-artifacts-dev, ml-models-catalog (lake.containers)",
        "dev: unityCatalog.catalogs[1].storageContainer: 'ml-models-catalog' has no external location; add "
        "{container: ml-models-catalog} to unityCatalog.externalLocations (managed storage must be covered by one)"]


def test_matrix_cells_name_existing_schemas_and_known_levels() -> None:
    raw = stack_raw("dev")
    catalogs(raw)[0]["access"]["dataScientists"] = {"level": "READ", "schemas": ["nope"]}
    catalogs(raw)[0]["access"]["mlEngineers"] = "OWNER"
    lines = config_problems("dev", raw)
    assert lines == [
        "dev: unityCatalog.catalogs[0].access.mlEngineers.level: 'OWNER' is not allowed; allowed: 'NO_ACCESS', "
        "'READ', 'READ_WRITE', 'CREATE_UPDATE', 'PROMOTE' or 'FULL_ACCESS'"]
    catalogs(raw)[0]["access"]["mlEngineers"] = "READ"
    assert config_problems("dev", raw) == [
        "dev: unityCatalog.catalogs[0].access.dataScientists.schemas[0]: 'nope' is not a schema of this catalog; "
        "allowed: raw, feature_store, experiments, sandbox, models, model_inference_logs, monitoring, "
        "databricks_monitoring"]


@pytest.mark.parametrize(("schemas", "message"), [
    (["access", "billing"], "lists 'billing': it is enabled by Databricks (managed) and must not be declared; "
                            "allowed: access, compute, lakeflow, marketplace, query, serving, storage"),
    (["workflow"], "lists 'workflow': the schema was renamed 'lakeflow'"),
])
def test_system_schemas_are_the_current_opt_in_set(schemas: list[str], message: str) -> None:
    raw = stack_raw("dev")
    set_path(raw, "workspaceSettings.systemSchemas", schemas)
    assert config_problems("dev", raw) == [f"dev: workspaceSettings.systemSchemas: {schemas!r} {message}"]


def test_system_schemas_are_enabled_by_one_stack_per_region() -> None:
    raw = stack_raw("test")
    set_path(raw, "protection", PROTECTED)
    set_path(raw, "workspaceSettings.systemSchemas", ["access", "query"])
    assert config_problems("test", raw) == [
        "test: workspaceSettings.systemSchemas: access, query also enabled by stack prod; system schemas are "
        "metastore-wide, enabled by one stack per region"]


def test_system_schemas_are_enabled_only_by_a_protected_stack() -> None:
    """dev teardown: the provider's Delete disables a system schema for the whole metastore, so a disposable
    stack must not enable them (prod, protected, does)."""
    raw = stack_raw("dev")
    set_path(raw, "workspaceSettings.systemSchemas", ["access"])
    assert config_problems("dev", raw, {}) == [
        "dev: workspaceSettings.systemSchemas: ['access'] are metastore-wide: enable them only in the long-lived, "
        "protected stack (protection.protect: true); a destroy of this stack would disable them for every "
        "workspace"]


@pytest.mark.parametrize("key", ["disableLegacyAccess", "disableLegacyDbfs"])
def test_prod_keeps_legacy_access_off(key: str) -> None:
    raw = stack_raw("prod")
    set_path(raw, f"workspaceSettings.{key}", False)
    why = {"disableLegacyAccess": "Hive metastore and legacy access must be off so every read goes through "
                                  "Unity Catalog",
           "disableLegacyDbfs": "the DBFS root and mounts bypass Unity Catalog"}[key]
    assert config_problems("prod", raw) == [f"prod: workspaceSettings.{key}: false is not allowed in prod: {why}"]


@pytest.mark.parametrize(("stack", "owner_stack", "posture"), [
    ("test", "prod", "public access disabled"), ("dev", "test", "network default Deny")])
@pytest.mark.parametrize("read_only", [False, True])
def test_a_binding_to_another_stacks_workspace_is_refused(stack: str, owner_stack: str, posture: str,
                                                          read_only: bool) -> None:
    """Model registry on prod's private lake bound to dev and test: another stack's workspace has no private
    endpoint, DNS record or NCC rule to this stack's lake, read-only or not, so the binding is refused."""
    raw = stack_raw(owner_stack)
    catalogs(raw)[0]["bindings"] = [owner_stack, {"stack": stack, "readOnly": read_only}]
    assert config_problems(owner_stack, raw) == [
        f"{owner_stack}: unityCatalog.catalogs[0].bindings[1].stack: {stack!r} is another stack's workspace, which "
        f"cannot reach this catalog's managed storage on stack {owner_stack}'s lake ({posture}; the private "
        f"endpoints, DNS records and serverless NCC rules to it exist in stack {owner_stack} only); bind the "
        "catalog to its own stack and give the other environment its own catalog on its own lake"]


def test_an_explicit_binding_to_the_own_workspace_is_accepted() -> None:
    raw = stack_raw("prod")
    catalogs(raw)[0]["bindings"] = [{"stack": "prod", "readOnly": False}]
    plan = run_program("prod", raw)
    bound = {b.inputs["workspaceId"]: b.inputs["bindingType"]
             for b in plan.by_type("databricks:index/workspaceBinding:WorkspaceBinding")
             if b.inputs["securableName"] == "ml_prod_catalog"}
    assert bound == {plan.outputs["workspaceNumericId"]: "BINDING_TYPE_READ_WRITE"}


def test_a_new_role_through_config_alone() -> None:
    """README: add identity.extraRoles.<key>, then use the key in access maps like a built-in role."""
    raw = stack_raw("dev")
    set_path(raw, "identity.extraRoles", {"analysts": "mlops-analysts"})
    catalogs(raw)[0]["access"]["analysts"] = {"level": "READ", "schemas": ["feature_store"]}
    catalogs(raw)[0]["schemas"].append("reports")
    plan = run_program("dev", raw)
    grants = {r.inputs.get("catalog") or r.inputs.get("schema"): {g["principal"]: g["privileges"]
                                                                   for g in r.inputs["grants"]}
              for r in plan.by_type("databricks:index/grants:Grants")}
    assert grants["ml_dev_catalog"]["mlops-analysts"] == ["USE_CATALOG"]
    assert grants["ml_dev_catalog.feature_store"]["mlops-analysts"] == [
        "BROWSE", "EXECUTE", "READ_VOLUME", "SELECT", "USE_SCHEMA"]
    assert plan.by_type("databricks:index/group:Group") == []  # looked up by name (synced from Entra ID)
    access = plan.one("databricks:index/mwsPermissionAssignment:MwsPermissionAssignment", "workspace-access-analysts")
    assert access.inputs["principalId"] == account_group_id("mlops-analysts")
    assert access.inputs["permissions"] == ["USER"]
    assert "ml_dev_catalog.reports" in {f"{s.inputs['catalogName']}.{s.inputs['name']}"
                                        for s in plan.by_type("databricks:index/schema:Schema")}


def test_access_maps_name_known_roles() -> None:
    raw = stack_raw("dev")
    catalogs(raw)[0]["access"]["analysts"] = "READ"
    assert config_problems("dev", raw) == [
        "dev: unityCatalog.catalogs[0].access.analysts: 'analysts' is not a role; allowed: dataScientists, "
        "mlEngineers, devopsEngineers, modelConsumers (add new roles under identity.extraRoles)"]
