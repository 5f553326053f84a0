"""Deploy readiness of the ABAC policies ("abac-policy-function-created-first"), on small hand-made plans: a plan
that passes, then one change at a time, each with its exact message; and the real test and prod plans pass."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest

from infra.policy.offline import view_from_plan
from infra.policy.rules import RULES_BY_NAME, ResourceView
from infra.policy.rules.base import UNKNOWN
from infra.policy.rules.deploy.abac import POLICY_INFO, SQL_FUNCTION, SQL_WAREHOUSE
from tests.support import plan_of

RULE = "abac-policy-function-created-first"
SCHEMA = "databricks:index/schema:Schema"
FULL = "ml_prod_catalog.governance.mask_string"


def res(typ: str, name: str, props: dict[str, Any], deps: Sequence[ResourceView] = (),
        id: str | None = None) -> ResourceView:
    return ResourceView(type=typ, name=name, urn=f"urn:pulumi:prod::mlops-platform::{typ}::{name}", props=props,
                        dependencies=tuple(d.urn for d in deps), id=id)


def plan(**changes: Any) -> list[ResourceView]:
    """warehouse, schema, function (waits for both), mask policy (waits for the function); `changes` edit them."""
    warehouse = res(SQL_WAREHOUSE, "compute-sql-warehouse", {"name": "wh"}, id="wh1")
    schema = res(SCHEMA, "ml_prod_catalog.governance", {"catalogName": "ml_prod_catalog", "name": "governance"})
    fn = res(SQL_FUNCTION, "prod-function-mask_string", {"fullName": FULL, "warehouseId": "wh1"},
             deps=changes.get("function_deps", [warehouse, schema]))
    fn = dataclasses.replace(fn, props={**fn.props, **changes.get("function", {})})
    policy = res(POLICY_INFO, "abac-ml_prod_catalog-mask", {
        "policyType": "POLICY_TYPE_COLUMN_MASK", "columnMask": {"functionName": FULL, "onColumn": "tagged"}},
        deps=changes.get("policy_deps", [fn]))
    policy = dataclasses.replace(policy, props={**policy.props, **changes.get("policy", {})})
    return [warehouse, schema, fn, policy]


def messages(views: Sequence[ResourceView]) -> list[str]:
    return [f.message for f in RULES_BY_NAME[RULE].run_stack(views, {})]


def test_a_policy_after_its_function_after_its_schema_and_warehouse_passes() -> None:
    assert messages(plan()) == []


def test_a_row_filter_is_checked_as_a_mask_is() -> None:
    views = plan(policy={"policyType": "POLICY_TYPE_ROW_FILTER", "columnMask": None,
                         "rowFilter": {"functionName": "ml_prod_catalog.governance.other"}})
    assert messages(views) == [
        "PolicyInfo abac-ml_prod_catalog-mask calls ml_prod_catalog.governance.other, which no SqlFunction of this "
        "plan creates; a policy whose function does not exist fails at create (functions are created as code, "
        "from infra/sql/abac)"]


@pytest.mark.parametrize(("case", "changes", "expected"), [
    ("function-not-in-the-plan", {"policy": {"columnMask": {"functionName": "main.sec.mask"}}},
     ["PolicyInfo abac-ml_prod_catalog-mask calls main.sec.mask, which no SqlFunction of this plan creates; a policy "
      "whose function does not exist fails at create (functions are created as code, from infra/sql/abac)"]),
    ("policy-does-not-wait", {"policy_deps": []},
     ["PolicyInfo abac-ml_prod_catalog-mask does not depend on SqlFunction prod-function-mask_string; the policy "
      "may be created before its function exists"]),
    ("function-does-not-wait-for-its-schema", {"function_deps": []},
     ["SqlFunction prod-function-mask_string does not depend on schema ml_prod_catalog.governance; CREATE "
      "FUNCTION fails before the schema exists"]),
    ("function-in-an-undeclared-schema", {"function": {"fullName": "ml_prod_catalog.udfs.mask_string"}},
     ["PolicyInfo abac-ml_prod_catalog-mask calls ml_prod_catalog.governance.mask_string, which no SqlFunction "
      "of this plan creates; a policy whose function does not exist fails at create (functions are created as "
      "code, from infra/sql/abac)",
      "SqlFunction prod-function-mask_string: its schema (ml_prod_catalog.udfs.mask_string) is not declared by "
      "this plan"]),
    ("function-on-another-warehouse", {"function": {"warehouseId": "wh-elsewhere"}},
     ["SqlFunction prod-function-mask_string runs on warehouse wh-elsewhere, which is not a SQL warehouse of this "
      "plan it waits for"]),
])
def test_what_the_rule_reports(case: str, changes: dict[str, Any], expected: list[str]) -> None:
    assert messages(plan(**changes)) == expected


def test_at_preview_the_warehouse_is_found_through_the_dependency_graph() -> None:
    views = [dataclasses.replace(v, id=None) for v in plan(function={"warehouseId": UNKNOWN})]
    assert messages(views) == []


def test_an_unknown_function_name_is_advisory_until_known() -> None:
    found = RULES_BY_NAME[RULE].run_stack(plan(policy={"columnMask": {"functionName": UNKNOWN}}), {})
    assert [(f.unknown, f.message) for f in found] == [
        (True, "PolicyInfo abac-ml_prod_catalog-mask: its function's name is unknown at preview; the rule is "
               "checked again when it is known")]


@pytest.mark.parametrize("full", ["ml_prod_catalog.governance.mask.extra", "governance.mask_string", 7, None])
def test_a_function_whose_name_is_not_three_parts_has_no_schema(full: Any) -> None:
    views = plan(function={"fullName": full})
    assert f"SqlFunction prod-function-mask_string: its schema ({full}) is not declared by this plan" in \
        messages(views)


def test_a_policy_without_a_function_does_not_stop_the_check_of_the_next() -> None:
    views = plan(policy_deps=[])
    grant_policy = res(POLICY_INFO, "abac-grant", {"policyType": "POLICY_TYPE_GRANT"})
    assert messages([*views[:3], grant_policy, views[3]]) == [
        "PolicyInfo abac-ml_prod_catalog-mask does not depend on SqlFunction prod-function-mask_string; the policy "
        "may be created before its function exists"]


def test_a_policy_whose_function_is_unknown_does_not_stop_the_check_of_the_next() -> None:
    views = plan(policy_deps=[])
    pending = res(POLICY_INFO, "abac-pending", {"columnMask": {"functionName": UNKNOWN}})
    assert messages([*views[:3], pending, views[3]]) == [
        "PolicyInfo abac-pending: its function's name is unknown at preview; the rule is checked again when it is "
        "known",
        "PolicyInfo abac-ml_prod_catalog-mask does not depend on SqlFunction prod-function-mask_string; the policy "
        "may be created before its function exists"]


def test_other_policy_types_call_no_function() -> None:
    assert messages(plan(policy={"policyType": "POLICY_TYPE_GRANT", "columnMask": None})) == []


@pytest.mark.parametrize("stack", ["test", "prod"])
def test_the_real_plans_pass(stack: str) -> None:
    views = [view_from_plan(r.model_dump() if hasattr(r, "model_dump") else dataclasses.asdict(r))
             for r in plan_of(stack).resources]
    assert any(v.type == POLICY_INFO for v in views)
    assert messages(views) == []
