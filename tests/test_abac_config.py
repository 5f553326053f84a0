"""governance.abac: every mistake reported by its one-line message, and what the checked-in stacks declare."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import validate
from tests.support import DELETE, STACKS, config_problems, siblings, stack_raw, with_changes

A = "governance.abac"
GROUPS = ("allowed: mlops-platform-admins, mlops-data-scientists, mlops-ml-engineers, mlops-devops-engineers, "
          "mlops-model-consumers (identity.groups)")

CASES: list[tuple[str, str, list[tuple[str, Any]], str]] = [
    ("function-schema-not-declared", "prod", [(f"{A}.functionSchema", "ml_prod_catalog.udfs")],
     "prod: governance.abac.functionSchema: 'ml_prod_catalog.udfs' is not a schema of this stack; add it to its "
     "catalog in unityCatalog.catalogs"),
    ("function-schema-of-another-stack", "test", [(f"{A}.functionSchema", "ml_prod_catalog.governance")],
     "test: governance.abac.functionSchema: 'ml_prod_catalog.governance' is not a schema of this stack; add it to "
     "its catalog in unityCatalog.catalogs"),
    ("function-schema-a-catalog", "prod", [(f"{A}.functionSchema", "ml_prod_catalog")],
     "prod: governance.abac.functionSchema: 'ml_prod_catalog' is not a schema name; allowed: catalog.schema in "
     "lowercase letters, digits and underscores, e.g. 'ml_prod_catalog.governance'"),
    ("function-schema-missing", "prod", [(f"{A}.functionSchema", DELETE)],
     "prod: governance.abac.functionSchema: required key is missing"),
    ("unmasked-group-not-declared", "prod", [(f"{A}.unmaskedGroups", ["mlops-admins"])],
     f"prod: governance.abac.unmaskedGroups[0]: 'mlops-admins' is not a group of this stack; {GROUPS}"),
    ("unmasked-group-a-user", "test", [(f"{A}.unmaskedGroups", ["mlops-platform-admins", "ann@example.com"])],
     f"test: governance.abac.unmaskedGroups[1]: 'ann@example.com' is not a group of this stack; {GROUPS}"),
    ("no-unmasked-group", "prod", [(f"{A}.unmaskedGroups", [])],
     "prod: governance.abac.unmaskedGroups: [] is empty; name at least one group that sees unmasked values (e.g. "
     "the platform admins), or nobody could check the data"),
    ("policy-on-a-schema-not-declared", "prod", [(f"{A}.columnMasks.0.securable", "ml_models_catalog.raw")],
     "prod: governance.abac.columnMasks[0].securable: 'ml_models_catalog.raw' is not a catalog or schema of this "
     "stack (unityCatalog.catalogs)"),
    ("policy-on-another-stacks-catalog", "prod", [(f"{A}.rowFilters.0.securable", "ml_dev_catalog")],
     "prod: governance.abac.rowFilters[0].securable: 'ml_dev_catalog' is not a catalog or schema of this stack "
     "(unityCatalog.catalogs)"),
    ("policy-on-a-table", "prod", [(f"{A}.columnMasks.0.securable", "ml_prod_catalog.raw.customers")],
     "prod: governance.abac.columnMasks[0].securable: 'ml_prod_catalog.raw.customers' is not a catalog or "
     "catalog.schema name; allowed: lowercase letters, digits and underscores, e.g. 'ml_prod_catalog' or "
     "'ml_prod_catalog.feature_store'"),
    ("mask-without-sql-file", "prod", [(f"{A}.columnMasks.0.function", "mask_email")],
     "prod: governance.abac.columnMasks[0].function: 'mask_email' has no SQL file "
     "infra/sql/abac/column_masks/mask_email.sql; allowed: mask_string"),
    ("filter-naming-a-mask", "prod", [(f"{A}.rowFilters.0.function", "mask_string")],
     "prod: governance.abac.rowFilters[0].function: 'mask_string' has no SQL file "
     "infra/sql/abac/row_filters/mask_string.sql; allowed: hide_rows_with_value"),
    ("function-both-mask-and-filter", "prod", [(f"{A}.rowFilters.0.function", "mask_string")],
     "prod: governance.abac.rowFilters: 'mask_string' is also a column mask's function; a function is either a "
     "mask or a filter"),
    ("policy-name-twice-on-a-securable", "prod", [(f"{A}.rowFilters.0.name", "mask_sensitive_columns")],
     "prod: governance.abac.rowFilters[0].name: 'mask_sensitive_columns' is used twice on ml_prod_catalog; policy "
     "names are unique per securable"),
    ("tag-value-not-governed", "prod", [(f"{A}.columnMasks.0.tagValues", ["pii", "secret"])],
     "prod: governance.abac.columnMasks[0].tagValues: 'secret' is not an allowed value of 'classification'; "
     "allowed: public, internal, confidential, pii, phi (governance.governedTags)"),
    ("tag-value-not-governed-by-the-declaring-stack", "test", [(f"{A}.rowFilters.0.tagValues", ["restricted"])],
     "test: governance.abac.rowFilters[0].tagValues: 'restricted' is not an allowed value of 'classification'; "
     "allowed: public, internal, confidential, pii, phi (stack prod's governance.governedTags)"),
    ("tag-key-not-governed", "prod", [(f"{A}.tagKey", "sensitivity")],
     "prod: governance.abac.tagKey: 'sensitivity' is not a governed tag; allowed: classification, owner "
     "(governance.governedTags)"),
    ("tag-key-not-governed-by-the-declaring-stack", "test", [(f"{A}.tagKey", "sensitivity")],
     "test: governance.abac.tagKey: 'sensitivity' is not a governed tag; allowed: classification, owner (stack "
     "prod's governance.governedTags)"),
    ("no-tag-value", "prod", [(f"{A}.columnMasks.0.tagValues", [])],
     "prod: governance.abac.columnMasks[0].tagValues: [] is empty; list the tag values whose columns the policy "
     "covers, e.g. [pii, phi]"),
    ("tag-value-twice", "prod", [(f"{A}.columnMasks.0.tagValues", ["pii", "pii"])],
     "prod: governance.abac.columnMasks[0].tagValues: ['pii', 'pii'] lists 'pii' more than once; list each value "
     "once"),
    ("no-policy", "prod", [(f"{A}.columnMasks", []), (f"{A}.rowFilters", [])],
     "prod: governance.abac.columnMasks: [] is empty and so is rowFilters; declare at least one policy, or leave "
     "governance.abac out"),
    ("unknown-abac-key", "prod", [(f"{A}.unmaskedGroup", ["mlops-platform-admins"])],
     "prod: governance.abac.unmaskedGroup: unknown key (a typo?); see the configuration reference in "
     "docs/configuration.md"),
]


@pytest.mark.parametrize(("stack", "changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_abac_config_is_reported_exactly(stack: str, changes: list[tuple[str, Any]], expected: str) -> None:
    problems = config_problems(stack, with_changes(stack, changes))
    assert expected in problems, problems


def test_a_policy_on_a_declared_schema_is_accepted() -> None:
    raw = with_changes("prod", [(f"{A}.columnMasks.0.securable", "ml_prod_catalog.feature_store")])
    assert validate("prod", raw, siblings("prod")).governance.abac.column_masks[0].securable == \
        "ml_prod_catalog.feature_store"


def test_the_same_policy_name_on_two_securables_is_accepted() -> None:
    raw = with_changes("prod", [(f"{A}.rowFilters.0.name", "mask_sensitive_columns"),
                                (f"{A}.rowFilters.0.securable", "ml_prod_catalog.raw")])
    assert validate("prod", raw, siblings("prod")).governance.abac is not None


def test_without_the_declaring_stack_tag_values_are_not_checked_across_stacks() -> None:
    raw = with_changes("test", [(f"{A}.rowFilters.0.tagValues", ["restricted"])])
    others = {k: v for k, v in siblings("test").items() if k != "prod"}
    assert validate("test", raw, others).governance.abac.row_filters[0].tag_values == ["restricted"]


# stack -> (function schema, groups that see unmasked values); dev has no classified data, so no ABAC
DECLARED = {
    "dev": None,
    "test": ("ml_test_catalog.governance", ["mlops-platform-admins", "mlops-ml-engineers"]),
    "prod": ("ml_prod_catalog.governance", ["mlops-platform-admins"]),
}


@pytest.mark.parametrize("stack", STACKS)
def test_abac_per_environment(stack: str) -> None:
    abac = validate(stack, stack_raw(stack), siblings(stack)).governance.abac
    if DECLARED[stack] is None:
        assert abac is None
        return
    assert abac is not None
    assert (abac.function_schema, abac.unmasked_groups) == DECLARED[stack]
    assert abac.functions() == {"mask_string": "column_mask", "hide_rows_with_value": "row_filter"}
