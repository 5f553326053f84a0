"""ABAC per environment, from the cached offline plans: the mask and filter functions the deploy creates and the
row filter and column mask policies that call them; dev has none, a first deploy leaves them for the next run."""

from __future__ import annotations

import pytest

from infra.components.unity_catalog.sql_function import sha256
from infra.config.abac import FILTERS_DIR, MASKS_DIR
from mlopsctl.plan.model import Plan, Resource
from tests.support import STACKS, first_deploy_plan_of, plan_of

POLICY = "databricks:index/policyInfo:PolicyInfo"
FUNCTION = "pulumi-python:dynamic/databricks:SqlFunction"
TAG_POLICY = "databricks:index/tagPolicy:TagPolicy"

CICD = {"test": "6b2d3f4e-5c6a-4b7c-9d8e-0f1a2b3c4d5e", "prod": "7c3e4a5f-6d7b-4c8d-ae9f-1a2b3c4d5e6f"}
# stack -> function full name -> SQL file it is created from
FUNCTIONS = {
    "dev": {},
    "test": {"ml_test_catalog.governance.hide_rows_with_value": FILTERS_DIR / "hide_rows_with_value.sql",
             "ml_test_catalog.governance.mask_string": MASKS_DIR / "mask_string.sql"},
    "prod": {"ml_prod_catalog.governance.hide_rows_with_value": FILTERS_DIR / "hide_rows_with_value.sql",
             "ml_prod_catalog.governance.mask_string": MASKS_DIR / "mask_string.sql"},
}
# stack -> policy name -> (type, securable, match condition, function, who sees real values)
POLICIES = {
    "dev": {},
    "test": {
        "mask_sensitive_columns": (
            "POLICY_TYPE_COLUMN_MASK", "ml_test_catalog",
            "has_tag_value('classification', 'pii') OR has_tag_value('classification', 'phi')",
            "ml_test_catalog.governance.mask_string", [CICD["test"], "mlops-ml-engineers", "mlops-platform-admins"]),
        "hide_phi_rows": (
            "POLICY_TYPE_ROW_FILTER", "ml_test_catalog", "has_tag_value('classification', 'phi')",
            "ml_test_catalog.governance.hide_rows_with_value",
            [CICD["test"], "mlops-ml-engineers", "mlops-platform-admins"]),
    },
    "prod": {
        "mask_sensitive_columns": (
            "POLICY_TYPE_COLUMN_MASK", "ml_prod_catalog",
            "has_tag_value('classification', 'pii') OR has_tag_value('classification', 'phi')",
            "ml_prod_catalog.governance.mask_string", [CICD["prod"], "mlops-platform-admins"]),
        "hide_phi_rows": (
            "POLICY_TYPE_ROW_FILTER", "ml_prod_catalog", "has_tag_value('classification', 'phi')",
            "ml_prod_catalog.governance.hide_rows_with_value", [CICD["prod"], "mlops-platform-admins"]),
    },
}


def deps(plan: Plan, res: Resource) -> set[str]:
    names = {r.urn: r.name for r in plan.resources}
    return {names[d] for d in res.dependencies if d in names}


@pytest.mark.parametrize("stack", STACKS)
def test_functions_are_created_from_the_repo_sql_files(stack: str) -> None:
    plan = plan_of(stack)
    functions = {f.inputs["fullName"]: f for f in plan.by_type(FUNCTION)}
    assert set(functions) == set(FUNCTIONS[stack])
    for full, path in FUNCTIONS[stack].items():
        fn = functions[full]
        statement = fn.inputs["statement"]
        assert statement.startswith("-- ") and f"CREATE OR REPLACE FUNCTION {full}(value STRING)" in statement
        assert "${function_name}" not in statement
        assert fn.inputs["sqlFile"] == path.name and fn.inputs["sqlSha256"] == sha256(statement)
        # it runs on the environment's SQL warehouse, in the environment's workspace
        warehouse = plan.one("databricks:index/sqlEndpoint:SqlEndpoint")
        assert fn.inputs["warehouseId"] == warehouse.id
        assert fn.inputs["azureWorkspaceResourceId"].endswith(f"/workspaces/mlops-{stack}-workspace")
        assert fn.inputs["host"].startswith("https://adb-")
        # waits for its schema, the warehouse, the grants and the workspace provider (the route to the workspace)
        schema = full.rsplit(".", 1)[0]
        assert {schema, "compute-sql-warehouse", f"grants-catalog-ml_{stack}_catalog", "databricks-workspace"} \
            <= deps(plan, fn)


@pytest.mark.parametrize("stack", STACKS)
def test_policies_mask_and_filter_tagged_data_except_for_the_configured_groups(stack: str) -> None:
    plan = plan_of(stack)
    policies = {p.inputs["name"]: p for p in plan.by_type(POLICY)}
    assert set(policies) == set(POLICIES[stack])
    for name, (kind, securable, condition, function, unmasked) in POLICIES[stack].items():
        p = policies[name].inputs
        assert (p["policyType"], p["onSecurableType"], p["onSecurableFullname"], p["forSecurableType"]) == (
            kind, "CATALOG", securable, "TABLE")
        assert p["toPrincipals"] == ["account users"] and p["exceptPrincipals"] == unmasked
        assert p["matchColumns"] == [{"condition": condition, "alias": "tagged"}]
        if kind == "POLICY_TYPE_COLUMN_MASK":
            assert p["columnMask"] == {"functionName": function, "onColumn": "tagged"} and "rowFilter" not in p
        else:
            assert p["rowFilter"] == {"functionName": function, "usings": [{"alias": "tagged"}]}
            assert "columnMask" not in p
        assert policies[name].provider and "::databricks-workspace::" in policies[name].provider


@pytest.mark.parametrize("stack", ["test", "prod"])
def test_policies_wait_for_their_function_and_the_governed_tag(stack: str) -> None:
    plan = plan_of(stack)
    functions = {f.inputs["fullName"]: f.name for f in plan.by_type(FUNCTION)}
    declares_tags = bool(plan.by_type(TAG_POLICY))
    assert declares_tags == (stack == "prod")
    for p in plan.by_type(POLICY):
        function = (p.inputs.get("columnMask") or p.inputs["rowFilter"])["functionName"]
        before = deps(plan, p)
        assert functions[function] in before and p.inputs["onSecurableFullname"] in before
        # prod declares the governed tag: the policy waits for it; test matches prod's (deployed before)
        assert ("tag-policy-classification" in before) == declares_tags


@pytest.mark.parametrize("stack", STACKS)
def test_a_first_deploy_leaves_abac_for_the_next_run(stack: str) -> None:
    plan = first_deploy_plan_of(stack)
    assert plan.by_type(POLICY) == [] and plan.by_type(FUNCTION) == []
