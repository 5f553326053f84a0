"""The book's Access Control Matrix, read back from the offline plans' authoritative Grants (all three stacks).

Expected privileges are written out here (not imported from the config module), so a change to the
level -> privilege mapping must change this table and docs/unity-catalog.md's table together.
"""

from __future__ import annotations

import pytest

from tests.support import STACKS, plan_of

GRANTS = "databricks:index/grants:Grants"

READ = {"USE_CATALOG", "USE_SCHEMA", "BROWSE", "SELECT", "EXECUTE", "READ_VOLUME"}
READ_WRITE = READ | {"MODIFY", "CREATE_TABLE", "CREATE_FUNCTION", "CREATE_MODEL", "CREATE_VOLUME",
                     "CREATE_MATERIALIZED_VIEW", "WRITE_VOLUME", "REFRESH"}
CREATE_UPDATE = {"USE_CATALOG", "USE_SCHEMA", "BROWSE", "EXECUTE", "CREATE_MODEL", "CREATE_FUNCTION"}
PROMOTE = {"USE_CATALOG", "USE_SCHEMA", "BROWSE", "EXECUTE", "CREATE_MODEL", "APPLY_TAG"}
FULL_ACCESS = READ_WRITE | {"CREATE_SCHEMA", "APPLY_TAG"}
NONE: set[str] = set()

GROUPS = {"dataScientists": "mlops-data-scientists", "mlEngineers": "mlops-ml-engineers",
          "devopsEngineers": "mlops-devops-engineers", "modelConsumers": "mlops-model-consumers"}
CICD = {"dev": "5a1c2e3d-4b5f-4a6b-8c7d-9e0f1a2b3c4d", "prod": "7c3e4a5f-6d7b-4c8d-ae9f-1a2b3c4d5e6f"}

# role -> (DEV catalog, TEST catalog, PROD catalog): the matrix's first three columns.
MATRIX = {
    "dataScientists": (READ_WRITE, READ, READ),
    "mlEngineers": (READ_WRITE, READ_WRITE, READ),
    "devopsEngineers": (READ, READ_WRITE, READ_WRITE),
    "modelConsumers": (NONE, READ, READ),
}
# The Model Registry column (owned by prod): catalog-level privileges and schema-level ones.
REGISTRY = {
    "dataScientists": ({"USE_CATALOG"}, {"dev_models": CREATE_UPDATE - {"USE_CATALOG"}}),
    "mlEngineers": (FULL_ACCESS, {}),
    "devopsEngineers": (PROMOTE, {}),
    "modelConsumers": ({"USE_CATALOG"}, {"production_models": READ - {"USE_CATALOG"}}),
}


def grants_on(stack: str, key: str, securable: str) -> dict[str, set[str]]:
    found = [r for r in plan_of(stack).by_type(GRANTS) if r.inputs.get(key) == securable]
    assert len(found) <= 1, f"more than one authoritative Grants on {securable}"
    return {g["principal"]: set(g["privileges"]) for g in (found[0].inputs["grants"] if found else [])}


@pytest.mark.parametrize("role", sorted(MATRIX))
@pytest.mark.parametrize("column", range(3))
def test_environment_catalog_cell(role: str, column: int) -> None:
    stack = STACKS[column]
    expected = MATRIX[role][column]
    actual = grants_on(stack, "catalog", f"ml_{stack}_catalog").get(GROUPS[role], set())
    assert actual == expected, f"{role} on ml_{stack}_catalog"


@pytest.mark.parametrize("role", sorted(REGISTRY))
def test_model_registry_cell(role: str) -> None:
    on_catalog, on_schemas = REGISTRY[role]
    assert grants_on("prod", "catalog", "ml_models_catalog").get(GROUPS[role], set()) == on_catalog
    for schema in ("dev_models", "candidate_models", "production_models", "archived_models"):
        granted = grants_on("prod", "schema", f"ml_models_catalog.{schema}").get(GROUPS[role], set())
        assert granted == on_schemas.get(schema, set()), f"{role} on {schema}"


@pytest.mark.parametrize("stack", STACKS)
def test_only_the_owner_stack_grants_on_a_catalog(stack: str) -> None:
    catalogs = {r.inputs["catalog"] for r in plan_of(stack).by_type(GRANTS) if "catalog" in r.inputs}
    assert catalogs == ({f"ml_{stack}_catalog", "ml_models_catalog"} if stack == "prod" else {f"ml_{stack}_catalog"})


@pytest.mark.parametrize("stack", STACKS)
def test_cicd_principal_gets_the_monitoring_guide_rights_in_current_names(stack: str) -> None:
    app = {**CICD, "test": "6b2d3f4e-5c6a-4b7c-9d8e-0f1a2b3c4d5e"}[stack]
    on_catalog = grants_on(stack, "catalog", f"ml_{stack}_catalog")[app]
    on_schema = grants_on(stack, "schema", f"ml_{stack}_catalog.databricks_monitoring")[app]
    assert on_catalog == {"USE_CATALOG", "CREATE_SCHEMA"}  # seed: CREATE, USAGE ON CATALOG
    assert {"USE_SCHEMA", "CREATE_TABLE", "CREATE_MODEL", "CREATE_FUNCTION"} <= on_schema  # CREATE, USAGE ON SCHEMA
    assert not on_schema & {"ALL_PRIVILEGES", "MANAGE", "USAGE", "CREATE"}


@pytest.mark.parametrize("stack", STACKS)
def test_no_legacy_admin_or_personal_grants(stack: str) -> None:
    for res in plan_of(stack).by_type(GRANTS):
        for grant in res.inputs["grants"]:
            assert "@" not in grant["principal"], res.name
            assert not set(grant["privileges"]) & {"USAGE", "CREATE", "READ_METADATA"}, res.name
            if set(grant["privileges"]) & {"ALL_PRIVILEGES", "MANAGE"}:
                assert grant["principal"] == "mlops-platform-admins", res.name
    # Per-principal Grant only on the metastore's `system` catalog and its schemas (read access for the alerts and
    # the cost dashboard), never on a securable an authoritative Grants manages.
    managed = {r.inputs.get("catalog") or r.inputs.get("schema") for r in plan_of(stack).by_type(GRANTS)}
    for res in plan_of(stack).by_type("databricks:index/grant:Grant"):
        securable = res.inputs.get("catalog") or res.inputs.get("schema")
        assert securable.partition(".")[0] == "system" and securable not in managed, res.name


@pytest.mark.parametrize("stack", STACKS)
def test_grants_output_is_what_the_plan_declares(stack: str) -> None:
    plan = plan_of(stack)
    declared = set()
    # (a share's Grants name its Delta Sharing recipient, not a principal of the grant table: docs/recovery.md)
    for res in [r for r in plan.by_type(GRANTS) if "share" not in r.inputs]:
        kind = next(k for k in ("catalog", "schema", "externalLocation", "storageCredential", "model")
                    if k in res.inputs)
        kind_out = {"externalLocation": "external_location", "storageCredential": "storage_credential",
                    "model": "function"}.get(kind, kind)  # grants on a model name its securable type FUNCTION
        for g in res.inputs["grants"]:
            declared.add((kind_out, res.inputs[kind], g["principal"], tuple(sorted(g["privileges"]))))
    exported = {(g["securableType"], g["securable"], g["principal"], tuple(g["privileges"]))
                for g in plan.outputs["grants"]}
    assert exported == declared
    assert all(list(g["privileges"]) == sorted(g["privileges"]) for g in plan.outputs["grants"])
