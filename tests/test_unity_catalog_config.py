"""Config errors of the Unity Catalog area, each by its exact one-line message."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import read_stack_file, validate
from infra.offline.engine import run_program
from tests.support import STACKS, config_problems, plan_of, set_path, stack_raw

ADMINS = "mlops-platform-admins"


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


def test_user_email_as_catalog_owner_is_refused() -> None:
    raw = stack_raw("dev")
    catalogs(raw)[0]["owner"] = "jane.doe@example.com"
    assert config_problems("dev", raw) == [
        "dev: unityCatalog.catalogs[0].owner: 'jane.doe@example.com' looks like a user e-mail; catalogs are owned "
        "by groups (a role key, 'admins' or a group name), never by a person"]


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
    assert {"principal": ADMINS, "privileges": ["MANAGE"]} in grants["ml_dev_catalog"]
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
    dev, test = stack_raw("dev"), stack_raw("test")
    for raw in (dev, test):
        set_path(raw, "unityCatalog.metastore", {"create": True})
    assert config_problems("dev", dev, {"test": test, "prod": read_stack_file("prod")}) == [
        "dev: unityCatalog.metastore.create: true is also set by stack test in region 'eastus2'; one metastore "
        "per region, created by exactly one stack (the others set metastore.fromStack or metastore.id)"]


def test_metastore_needs_exactly_one_source() -> None:
    raw = stack_raw("dev")
    set_path(raw, "unityCatalog.metastore.create", True)
    assert config_problems("dev", raw) == [
        "dev: unityCatalog.metastore.id: '6f1e2d3c-4b5a-4c6d-8e7f-0a1b2c3d4e5f' set exactly one of metastore.id "
        "(reference the region's metastore), metastore.create: true (this stack creates it) or "
        "metastore.fromStack (the stack that created it); got ['id', 'create']"]


def test_metastore_created_by_one_stack_is_read_by_the_others() -> None:
    dev, test = stack_raw("dev"), stack_raw("test")
    set_path(dev, "unityCatalog.metastore", {"create": True})
    set_path(test, "unityCatalog.metastore", {"fromStack": "dev"})
    assert validate("test", test, {"dev": dev, "prod": read_stack_file("prod")}).unity_catalog.metastore.from_stack
    plan = run_program("dev", dev)
    metastore = plan.one("databricks:index/metastore:Metastore")
    assert metastore.protect and metastore.provider.split("::")[-2] == "databricks-account"
    assert metastore.inputs["region"] == "eastus2" and metastore.inputs["owner"] == ADMINS
    assignment = plan.one("databricks:index/metastoreAssignment:MetastoreAssignment")
    assert assignment.inputs["metastoreId"] == metastore.id == plan.outputs["metastoreId"]
    assert metastore.urn in assignment.dependencies


def test_fromstack_must_name_the_creating_stack() -> None:
    raw = stack_raw("test")
    set_path(raw, "unityCatalog.metastore", {"fromStack": "dev"})
    assert config_problems("test", raw) == [
        "test: unityCatalog.metastore.fromStack: 'dev' does not create the metastore (its "
        "unityCatalog.metastore.create is not true)"]


def test_two_owners_of_the_model_registry_are_refused() -> None:
    dev = stack_raw("dev")
    registry = dict(catalogs(stack_raw("prod"))[1], storageContainer="ml-models-catalog", bindings=[])
    catalogs(dev).append(registry)
    dev["mlops-platform:unityCatalog"]["externalLocations"].append({"container": "ml-models-catalog"})
    assert config_problems("dev", dev) == [
        "dev: unityCatalog.catalogs: 'ml_models_catalog' is also declared by stack prod; a catalog has exactly one "
        "owning stack (bind it to the other workspaces instead)"]


def test_two_stacks_creating_the_account_groups_are_refused() -> None:
    raw = stack_raw("test")
    set_path(raw, "identity.accountGroups", {"manage": True})
    assert config_problems("test", raw) == [
        "test: identity.accountGroups.manage: true is also set by stack dev; account groups are account-wide and "
        "created by exactly one stack (the others set accountGroups.fromStack)"]


def test_references_must_point_one_way() -> None:
    dev = stack_raw("dev")
    catalogs(dev)[0]["bindings"] = ["dev", "prod"]
    assert config_problems("dev", dev) == [
        "dev: unityCatalog: reads stack prod's outputs and prod reads this stack's; no deploy order satisfies "
        "both (references must point one way: dev -> test -> prod)"]


def test_catalog_storage_must_be_a_lake_container_with_an_external_location() -> None:
    raw = stack_raw("dev")
    catalogs(raw)[0]["storageContainer"] = "nope"
    raw["mlops-platform:unityCatalog"]["catalogs"].append(
        dict(name="extra_catalog", storageContainer="ml-models-catalog", schemas=["a"]))
    assert config_problems("dev", raw) == [
        "dev: unityCatalog.catalogs[0].storageContainer: 'nope' is not a lake container; allowed: ml-dev-catalog, "
        "ml-models-catalog, mlflow-artifacts-dev (lake.containers)",
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
    set_path(raw, "workspaceSettings.systemSchemas", ["access", "query"])
    assert config_problems("test", raw) == [
        "test: workspaceSettings.systemSchemas: access, query also enabled by stack dev; system schemas are "
        "metastore-wide, enabled by one stack per region"]


@pytest.mark.parametrize("key", ["disableLegacyAccess", "disableLegacyDbfs"])
def test_prod_keeps_legacy_access_off(key: str) -> None:
    raw = stack_raw("prod")
    set_path(raw, f"workspaceSettings.{key}", False)
    why = {"disableLegacyAccess": "Hive metastore and legacy access must be off so every read goes through "
                                  "Unity Catalog",
           "disableLegacyDbfs": "the DBFS root and mounts bypass Unity Catalog"}[key]
    assert config_problems("prod", raw) == [f"prod: workspaceSettings.{key}: false is not allowed in prod: {why}"]


def test_read_only_binding_from_config() -> None:
    raw = stack_raw("prod")
    catalogs(raw)[0]["bindings"] = ["prod", {"stack": "test", "readOnly": True}]
    plan = run_program("prod", raw)
    bound = {b.inputs["workspaceId"]: b.inputs["bindingType"]
             for b in plan.by_type("databricks:index/workspaceBinding:WorkspaceBinding")
             if b.inputs["securableName"] == "ml_prod_catalog"}
    prod_id, test_id = plan.outputs["workspaceNumericId"], plan_of("test").outputs["workspaceNumericId"]
    assert bound == {prod_id: "BINDING_TYPE_READ_WRITE", test_id: "BINDING_TYPE_READ_ONLY"}
    exported = next(c for c in plan.outputs["catalogs"] if c["name"] == "ml_prod_catalog")["bindings"]
    assert exported == [{"workspaceId": prod_id, "bindingType": "BINDING_TYPE_READ_WRITE"},
                        {"workspaceId": test_id, "bindingType": "BINDING_TYPE_READ_ONLY"}]


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
    group = plan.one("databricks:index/group:Group", "group-analysts")
    assert group.inputs["displayName"] == "mlops-analysts"
    access = plan.one("databricks:index/mwsPermissionAssignment:MwsPermissionAssignment", "workspace-access-analysts")
    assert access.inputs["principalId"] == group.id and access.inputs["permissions"] == ["USER"]
    assert plan.outputs["accountGroupIds"]["analysts"] == group.id
    assert "ml_dev_catalog.reports" in {f"{s.inputs['catalogName']}.{s.inputs['name']}"
                                        for s in plan.by_type("databricks:index/schema:Schema")}


def test_access_maps_name_known_roles() -> None:
    raw = stack_raw("dev")
    catalogs(raw)[0]["access"]["analysts"] = "READ"
    assert config_problems("dev", raw) == [
        "dev: unityCatalog.catalogs[0].access.analysts: 'analysts' is not a role; allowed: dataScientists, "
        "mlEngineers, devopsEngineers, modelConsumers (add new roles under identity.extraRoles)"]
