"""Shared test helpers: cached offline plans of the real stacks, config mutation, lookups."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.config import PROJECT_DIR, ConfigError, read_stack_file, stack_order, validate
from mlopsctl.plan.engine import plan_stack
from mlopsctl.plan.model import Plan, Resource

STACKS = tuple(stack_order())  # the checked-in stacks, in promotion order (dev, test, prod)


@dataclass(frozen=True)
class Result:
    """What a CLI run left: its exit code and its two streams."""

    returncode: int
    stdout: str
    stderr: str


Mlopsctl = Callable[..., Result]  # the `mlopsctl` fixture: mlopsctl("plan", "--stack", "dev")


@functools.cache
def plan_of(stack: str) -> Plan:
    """The offline plan of the checked-in stack file (computed once per test process)."""
    return plan_stack(stack)


@functools.cache
def first_deploy_plan_of(stack: str) -> Plan:
    """The offline plan of the stack's first `pulumi up` from nothing (computed once per test process)."""
    return plan_stack(stack, first_deploy=True)


def cached_plan_stack(stack: str, project_dir: Path = PROJECT_DIR, first_deploy: bool = False) -> Plan:
    """`plan_stack` for in-process CLI tests: the checked-in stacks' plans come from the cache above (a plan
    takes seconds); any other project folder is planned for real."""
    if Path(project_dir).resolve() == PROJECT_DIR.resolve():
        return first_deploy_plan_of(stack) if first_deploy else plan_of(stack)
    return plan_stack(stack, project_dir, first_deploy)


def stack_raw(stack: str) -> dict[str, Any]:
    """A deep copy of Pulumi.<stack>.yaml's config mapping, safe to mutate."""
    return copy.deepcopy(read_stack_file(stack))


def siblings(stack: str) -> dict[str, dict[str, Any]]:
    """The other checked-in stacks' raw configs (for the cross-stack rules)."""
    return {s: stack_raw(s) for s in STACKS if s != stack}


def with_changes(stack: str, changes: list[tuple[str, Any]]) -> dict[str, Any]:
    """Pulumi.<stack>.yaml's config with (key path, value) changes; ("__raw__", (key, value)) sets a whole
    namespaced key, and a `{secure: ...}` value arrives as the offline engine hands it over."""
    raw = stack_raw(stack)
    for path, value in changes:
        if path == "__raw__":
            key, val = value
            raw[key] = "[secret]" if isinstance(val, dict) and "secure" in val else val
        else:
            set_path(raw, path, value)
    return raw


def config_problems(stack: str, raw: dict[str, Any], others: dict[str, dict[str, Any]] | None = None,
                    ) -> list[str]:
    """The problem lines validating `raw` reports (siblings: the checked-in stacks); fails if it is valid."""
    try:
        validate(stack, raw, siblings(stack) if others is None else others)
    except ConfigError as exc:
        return exc.problems
    raise AssertionError(f"{stack}: the config was accepted, expected problems")


def set_path(raw: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """set_path(raw, 'network.vnetCidr', x) sets raw['mlops-platform:network']['vnetCidr'] = x.

    A value of DELETE removes the key.
    """
    top, *rest = path.split(".")
    key = f"mlops-platform:{top}"
    if not rest:
        if value is DELETE:
            raw.pop(key, None)
        else:
            raw[key] = value
        return raw
    node = raw.setdefault(key, {})
    for part in rest[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    last = rest[-1]
    if value is DELETE:
        node.pop(last, None)
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return raw


DELETE = object()


def one(plan: Plan, typ: str, name: str | None = None) -> Resource:
    return plan.one(typ, name)


def dig(value: Any, path: str) -> Any:
    """dig(inputs, 'parameters.enableNoPublicIp.value')."""
    for part in path.split("."):
        if isinstance(value, list):
            value = value[int(part)]
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def governance_resource(res: Resource) -> bool:
    """Declared by the governance, retention, drill or standby components (not by serving)."""
    return any(f"mlops:platform:{kind}$" in res.urn for kind in ("DataGovernance", "FeatureMonitoring", "Retention",
                                                                  "RestoreDrill", "StandbyReplication"))


def operations_resource(res: Resource) -> bool:
    """The admins' audit and cost alerts, their destination and dashboard."""
    return any(f"mlops:platform:{kind}$" in res.urn
               for kind in ("Operations", "AdminDestination", "AuditAlerts", "CostReporting", "SystemTableReader"))
