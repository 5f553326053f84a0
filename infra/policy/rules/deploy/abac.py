"""Deploy-readiness rule (abac): an ABAC policy's function exists before the policy is created.

Databricks refuses a row filter or column mask policy whose function does not exist or that the creator cannot
EXECUTE ("Create and manage row filter and column mask policies", Requirements). The provider has no resource for
a function, so the platform creates each one with a `SqlFunction` dynamic resource; this rule checks, on the plan,
that every policy's function is one of them, that the policy waits for it, and that the function waits for its
schema and for the SQL warehouse its statement runs on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from infra.policy.rules import types as T
from infra.policy.rules.base import Finding, ResourceView, is_unknown, stack_rule
from infra.policy.rules.stack import closure, label, of_type, refers

POLICY_INFO = "databricks:index/policyInfo:PolicyInfo"
SQL_FUNCTION = "pulumi-python:dynamic/databricks:SqlFunction"
SQL_WAREHOUSE = "databricks:index/sqlEndpoint:SqlEndpoint"

Views = Sequence[ResourceView]


def policy_function(policy: ResourceView) -> Any:
    """The function a row filter or column mask policy calls (None for other policy types)."""
    for path in ("columnMask.functionName", "rowFilter.functionName"):
        name = policy.get(path)
        if name is not None:  # UNKNOWN (falsy) included
            return name
    return None


def _schema_of(function: ResourceView, views: Views) -> ResourceView | None:
    full = function.get("fullName")
    if not isinstance(full, str) or full.count(".") != 2:
        return None
    catalog, schema, _ = full.split(".")
    return next((s for s in of_type(views, T.SCHEMA)
                 if s.get("catalogName") == catalog and s.get("name") == schema), None)


@stack_rule("abac-policy-function-created-first", "high",
            "Every row filter and column mask policy (PolicyInfo) calls a function the plan creates (a SqlFunction) "
            "and waits for it; the function waits for its schema and for the SQL warehouse its statement runs on.",
            source="Databricks docs 'Create and manage row filter and column mask policies' (Requirements: an "
                   "existing UDF the creator has EXECUTE on)")
def policy_function_created_first(views: Views, _: Mapping[str, Any]) -> Iterator[Finding]:
    by_urn = {v.urn: v for v in views}
    functions = of_type(views, SQL_FUNCTION)
    by_name = {f.get("fullName"): f for f in functions if isinstance(f.get("fullName"), str)}
    for policy in of_type(views, POLICY_INFO):
        name = policy_function(policy)
        if name is None:
            continue
        if is_unknown(name):
            yield Finding(f"{label(policy)}: its function's name is unknown at preview; the rule is checked again "
                          "when it is known", policy.urn, unknown=True)
            continue
        function = by_name.get(name)
        if function is None:
            yield Finding(f"{label(policy)} calls {name}, which no SqlFunction of this plan creates; a policy "
                          "whose function does not exist fails at create (functions are created as code, from "
                          "infra/sql/abac)", policy.urn)
            continue
        if function.urn not in closure(policy, by_urn):
            yield Finding(f"{label(policy)} does not depend on {label(function)}; the policy may be created before "
                          "its function exists", policy.urn)
    for function in functions:
        before = closure(function, by_urn)
        schema = _schema_of(function, views)
        if schema is None:
            yield Finding(f"{label(function)}: its schema ({function.get('fullName')}) is not declared by this "
                          "plan", function.urn)
        elif schema.urn not in before:
            yield Finding(f"{label(function)} does not depend on schema {schema.name}; CREATE FUNCTION fails "
                          "before the schema exists", function.urn)
        warehouses = [w for w in of_type(views, SQL_WAREHOUSE)
                      if refers(function, function.get("warehouseId"), w)]
        if not warehouses:
            yield Finding(f"{label(function)} runs on warehouse {function.get('warehouseId')!s}, which is not a "
                          "SQL warehouse of this plan it waits for", function.urn)
