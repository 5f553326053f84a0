"""Azure's built-in policy definitions (reference/azure-policy/*.json) evaluated against the offline plans.

A small evaluator for exactly the operators those files use (field / value / count; equals, notEquals, exists,
in, contains, like, less, greater, greaterOrEquals; allOf, anyOf, not). Aliases map to Pulumi input paths:
`<ARM type>/<path>` -> the input at <path>, with the documented renames (storage `supportsHttpsTrafficOnly` ->
`enableHttpsTrafficOnly`, `networkAcls` -> `networkRuleSet`; key vault properties live under `properties`), and a
VNet's `subnets[*]` are the Subnet resources of that VNet (the program declares them as separate resources).
Template functions outside the handful these files need raise, so an unsupported rule fails loudly instead of
passing. Unset properties count as missing, as in Azure.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import importlib
import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra.offline.engine import Plan, Resource
from tests.support import STACKS, plan_of

POLICY_DIR = Path(__file__).parent / "fixtures" / "azure-policy"  # unmodified copies (see README.md there)
POLICIES = sorted(POLICY_DIR.glob("*.json"))

# Pulumi type -> (ARM type, azure-native module, class) for the resource types these policies address.
ARM_TYPES: dict[str, tuple[str, str, str]] = {
    "azure-native:databricks:Workspace": ("Microsoft.Databricks/workspaces", "databricks", "Workspace"),
    "azure-native:keyvault:Vault": ("Microsoft.KeyVault/vaults", "keyvault", "Vault"),
    "azure-native:storage:StorageAccount": ("Microsoft.Storage/storageAccounts", "storage", "StorageAccount"),
    "azure-native:operationalinsights:Workspace": ("Microsoft.OperationalInsights/workspaces", "operationalinsights",
                                                   "Workspace"),
    "azure-native:network:VirtualNetwork": ("Microsoft.Network/virtualNetworks", "network", "VirtualNetwork"),
    "azure-native:network:Subnet": ("Microsoft.Network/virtualNetworks/subnets", "network", "Subnet"),
}
RENAMES = {"Microsoft.Storage/storageAccounts": {"supportsHttpsTrafficOnly": "enableHttpsTrafficOnly",
                                                 "networkAcls": "networkRuleSet"}}
UNDER_PROPERTIES = {"Microsoft.KeyVault/vaults"}

# What dev and test deliberately relax (README "Security landing"), and nothing else. Their vaults hold no keys
# and have no purge protection, so a destroyed stack's vault can be purged and its name reused.
RELAXED = {
    "dev": {("Azure-Databricks__Databricks_AuditPublicNetworkAccess.json", "workspace"),
            ("Storage__StoragePublicNetworkAccess_AuditDeny.json", "lake"),
            ("Key-Vault__Recoverable_Audit.json", "key-vault")},
    "test": {("Azure-Databricks__Databricks_AuditPublicNetworkAccess.json", "workspace"),
             ("Storage__StoragePublicNetworkAccess_AuditDeny.json", "lake"),
             ("Key-Vault__Recoverable_Audit.json", "key-vault")},
    "prod": set(),
}

MISSING = object()


@functools.cache  # reading the SDK's source is slow; one look per type
def api_version(pulumi_type: str) -> str:
    """The REST API version the installed SDK uses for this type (from its generated source)."""
    _, module, cls = ARM_TYPES[pulumi_type]
    source = inspect.getsource(getattr(importlib.import_module(f"pulumi_azure_native.{module}"), cls))
    match = re.search(r"Uses Azure REST API version (\S+?)\.", source)
    assert match, pulumi_type
    return match.group(1)


class Doc:
    """One resource as Azure Policy sees it."""

    def __init__(self, res: Resource, plan: Plan) -> None:
        self.res, self.plan = res, plan
        self.arm_type = ARM_TYPES[res.type][0]
        self.api_version = api_version(res.type)

    def field(self, alias: str, current: dict[str, Any] | None = None) -> Any:
        if alias == "type":
            return self.arm_type
        if alias == "id":
            return self.res.id
        if alias == "name":
            return self.res.id.rsplit("/", 1)[-1]
        if current is not None and alias.startswith(current["prefix"]):
            return _path(current["item"], alias[len(current["prefix"]):].lstrip(".").replace("[*]", ""))
        prefix = self.arm_type + "/"
        if not alias.lower().startswith(prefix.lower()):
            raise NotImplementedError(f"alias {alias} does not belong to {self.arm_type}")
        rest = alias[len(prefix):]
        if self.arm_type == "Microsoft.Network/virtualNetworks" and rest.startswith("subnets[*]"):
            return self.vnet_subnets()
        head, _, tail = rest.partition(".")
        head = RENAMES.get(self.arm_type, {}).get(head, head)
        path = f"{head}.{tail}" if tail else head
        if self.arm_type in UNDER_PROPERTIES:
            path = f"properties.{path}"
        return _path(self.res.inputs, path)

    def vnet_subnets(self) -> list[dict[str, Any]]:
        name = self.res.inputs.get("virtualNetworkName")
        return [s.inputs for s in self.plan.by_type("azure-native:network:Subnet")
                if s.inputs.get("virtualNetworkName") == name]


def _path(value: Any, path: str) -> Any:
    for part in path.split(".") if path else []:
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def _expr(doc: Doc, text: Any, params: dict[str, Any], current: dict[str, Any] | None) -> Any:
    """The template expressions these files use; anything else raises."""
    if not (isinstance(text, str) and text.startswith("[") and text.endswith("]")):
        return text
    body = text[1:-1]
    if m := re.fullmatch(r"parameters\('(\w+)'\)", body):
        return params[m.group(1)]
    if body == "requestContext().apiVersion":
        return doc.api_version
    if m := re.fullmatch(r"empty\(field\('([^']+)'\)\)", body):
        v = doc.field(m.group(1), current)
        return v is MISSING or v in ("", None, [], {})
    raise NotImplementedError(f"template expression {text} is not supported by this evaluator")


def _norm(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v).lower()


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "equals":
        return left is not MISSING and _norm(left) == _norm(right)
    if op == "notEquals":
        return left is MISSING or _norm(left) != _norm(right)
    if op == "exists":
        return (left is not MISSING) == (_norm(right) == "true")
    if op == "in":
        return left is not MISSING and _norm(left) in {_norm(r) for r in right}
    if op == "contains":
        return left is not MISSING and _norm(right) in _norm(left)
    if op == "like":
        return left is not MISSING and fnmatch.fnmatch(_norm(left), _norm(right))
    if op in ("less", "greater", "greaterOrEquals"):
        if left is MISSING:
            return False
        a, b = (left, right) if isinstance(left, int) and isinstance(right, int) else (_norm(left), _norm(right))
        return {"less": a < b, "greater": a > b, "greaterOrEquals": a >= b}[op]  # type: ignore[operator]
    raise NotImplementedError(f"operator {op}")


OPERATORS = ("equals", "notEquals", "exists", "in", "contains", "like", "less", "greater", "greaterOrEquals")


def holds(doc: Doc, cond: dict[str, Any], params: dict[str, Any], current: dict[str, Any] | None = None) -> bool:
    if "allOf" in cond:
        return all(holds(doc, c, params, current) for c in cond["allOf"])  # lazy, like Azure
    if "anyOf" in cond:
        return any(holds(doc, c, params, current) for c in cond["anyOf"])
    if "not" in cond:
        return not holds(doc, cond["not"], params, current)
    (op,) = [k for k in OPERATORS if k in cond]
    right = _expr(doc, cond[op], params, current)
    if "count" in cond:
        left: Any = _count(doc, cond["count"], params)
    elif "field" in cond:
        left = doc.field(cond["field"], current)
    else:
        left = _expr(doc, cond["value"], params, current)
    return _compare(op, left, right)


def _count(doc: Doc, spec: dict[str, Any], params: dict[str, Any]) -> int:
    if "field" in spec:
        items = doc.field(spec["field"])
        prefix = spec["field"]
    else:
        items = _expr(doc, spec["value"], params, None)
        prefix = f"current('{spec.get('name')}')"
    items = [] if items is MISSING else items
    if "where" not in spec:
        return len(items)
    return sum(holds(doc, spec["where"], params, {"prefix": prefix, "item": item}) for item in items)


def load(policy: Path) -> tuple[dict[str, Any], dict[str, Any], str]:
    props = json.loads(policy.read_text())["properties"]
    params = {k: v.get("defaultValue") for k, v in (props.get("parameters") or {}).items()}
    return props["policyRule"]["if"], params, props["displayName"]


def violations(plan: Plan) -> set[tuple[str, str]]:
    found = set()
    for policy in POLICIES:
        rule, params, _ = load(policy)
        for res in plan.resources:
            if res.type in ARM_TYPES and holds(Doc(res, plan), rule, params):
                found.add((policy.name, res.name))
    return found


def test_the_reference_policies_are_all_evaluated() -> None:
    assert len(POLICIES) == 19
    plan = plan_of("prod")
    for policy in POLICIES:
        rule, _, _ = load(policy)
        arm_types = {c["equals"] for c in _type_conditions(rule)}
        assert any(ARM_TYPES[r.type][0] in arm_types for r in plan.resources if r.type in ARM_TYPES), policy.name


def _type_conditions(cond: Any) -> list[dict[str, Any]]:
    if isinstance(cond, dict):
        here = [cond] if cond.get("field") == "type" and "equals" in cond else []
        return here + [c for v in cond.values() for c in _type_conditions(v)]
    if isinstance(cond, list):
        return [c for v in cond for c in _type_conditions(v)]
    return []


@pytest.mark.parametrize("stack", STACKS)
def test_builtin_policies_pass_except_the_documented_relaxations(stack: str) -> None:
    assert violations(plan_of(stack)) == RELAXED[stack]


# The evaluator is not vacuous: breaking one property of a prod resource makes exactly that policy fire.
SA, KV = "azure-native:storage:StorageAccount", "azure-native:keyvault:Vault"
BREAKS = [
    (SA, "allowSharedKeyAccess", True,
     "Storage__StorageAccountAllowSharedKeyAccess_Audit.json"),
    (SA, "allowSharedKeyAccess", None,
     "Storage__StorageAccountAllowSharedKeyAccess_Audit.json"),
    (SA, "minimumTlsVersion", None, "Storage__StorageAccountMinimumTLSVersion_Audit.json"),
    (SA, "enableHttpsTrafficOnly", False, "Storage__Storage_AuditForHTTPSEnabled_Audit.json"),
    (SA, "networkRuleSet.defaultAction", "Allow", "Storage__Storage_NetworkAcls_Audit.json"),
    (SA, "allowBlobPublicAccess", None,
     "Storage__ASC_Storage_DisallowPublicBlobAccess_Audit.json"),
    (SA, "encryption.requireInfrastructureEncryption", None,
     "Storage__StorageAccountInfrastructureEncryptionEnabled_Audit.json"),
    (SA, "allowCrossTenantReplication", None,
     "Storage__StorageAccountAllowCrossTenantReplication_Audit.json"),
    (KV, "properties.enablePurgeProtection", None, "Key-Vault__Recoverable_Audit.json"),
    (KV, "properties.enableRbacAuthorization", False, "Key-Vault__Should_Use_RBAC.json"),
    (KV, "properties.enableSoftDelete", None, "Key-Vault__SoftDeleteMustBeEnabled_Audit.json"),
    ("azure-native:operationalinsights:Workspace", "features.disableLocalAuth", False,
     "Monitoring__LogAnalyticsWorkspaces_DisableLocalAuth_Deny.json"),
    ("azure-native:databricks:Workspace", "sku.name", "standard", "Azure-Databricks__AllowedDatabricksSkus_Audit.json"),
    ("azure-native:databricks:Workspace", "parameters.enableNoPublicIp.value", False,
     "Azure-Databricks__Databricks_DisablePublicIP_Audit.json"),
    ("azure-native:databricks:Workspace", "parameters.customVirtualNetworkId", None,
     "Azure-Databricks__Databricks_VNETEnabled_Audit.json"),
    ("azure-native:network:Subnet", "defaultOutboundAccess", None, "Network__PrivateSubnetOnly_Audit.json"),
]


@pytest.mark.parametrize(("typ", "path", "value", "policy"), BREAKS, ids=[f"{b[1]}={b[2]}" for b in BREAKS])
def test_breaking_a_property_makes_its_policy_fire(typ: str, path: str, value: Any, policy: str) -> None:
    plan = copy.deepcopy(plan_of("prod"))
    res = plan.by_type(typ)[0]
    *parents, last = path.split(".")
    node = res.inputs
    for part in parents:
        node = node[part]
    if value is None:
        del node[last]  # unset counts as missing
    else:
        node[last] = value
    fired = {p for p, _ in violations(plan)}
    assert policy in fired
    if typ != "azure-native:network:Subnet":  # a subnet also fails its VNet's count rule (same file)
        assert fired == {policy}


def test_key_vault_firewall_policy_fires_on_public_access_without_deny() -> None:
    plan = copy.deepcopy(plan_of("prod"))
    props = plan.one("azure-native:keyvault:Vault").inputs["properties"]
    props["publicNetworkAccess"] = "Enabled"
    assert {p for p, _ in violations(plan)} == {"Key-Vault__PublicNetworkAccess_Audit.json"}
    props["networkAcls"]["defaultAction"] = "Allow"
    assert {p for p, _ in violations(plan)} == {"Key-Vault__PublicNetworkAccess_Audit.json",
                                                "Key-Vault__FirewallEnabled_Audit.json"}
