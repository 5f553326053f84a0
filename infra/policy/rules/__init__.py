"""Every policy rule, registered once. Both the CrossGuard pack and `mlopsctl check` read RULES.

Adding a rule: write a function in the module of its area decorated with `@resource_rule(...)` or
`@stack_rule(...)` (infra/policy/rules/base.py), then add a compliant and a violating case to
tests/test_policy_rules.py. Nothing else needs registering.
"""

from __future__ import annotations

from infra.policy.rules import azure, conventions, databricks, deploy, network_encryption, resilience, sat, stack
from infra.policy.rules.base import REGISTRY, SEVERITIES, Finding, ResourceView, Rule

RULES: tuple[Rule, ...] = tuple(sorted(REGISTRY.values(), key=lambda r: (SEVERITIES.index(r.severity), r.name)))
RULES_BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}

__all__ = ["RULES", "RULES_BY_NAME", "Finding", "ResourceView", "Rule", "azure", "conventions", "databricks", "deploy",
           "network_encryption", "resilience", "sat", "stack"]
