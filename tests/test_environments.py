"""Environments are data: a new stack is a stack file. Its names derive from the stack's name, its relaxations
from its environment (the tier: dev, test or prod). A staging stack copied from test needs only the edits
the cross-stack rules ask for: its own VNet range, its own catalogs and its own CI/CD principal."""

from __future__ import annotations

import copy
import dataclasses
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import PROJECT_DIR, ConfigError, load_stack, read_stack_file
from mlopsctl.plan.engine import plan_stack
from tests.support import STACKS, plan_of, set_path

# The edits the cross-stack rules require of a copy of test.
STAGING_EDITS: list[tuple[str, Any]] = [
    ("network.vnetCidr", "10.4.0.0/16"),
    ("network.hostSubnetCidr", "10.4.1.0/24"),
    ("network.containerSubnetCidr", "10.4.2.0/24"),
    ("network.privateEndpointSubnetCidr", "10.4.3.0/24"),
    ("identity.cicdServicePrincipal.applicationId", "7c3e4f5a-6d7b-4c8d-9e0f-1a2b3c4d5e6f"),
]
CATALOG = ("ml_test_catalog", "ml_staging_catalog")  # every reference to it follows

# What each named resource calls its name: the stack's names must not collide with test's.
NAME_INPUTS = {
    "azure-native:resources:ResourceGroup": "resourceGroupName",
    "azure-native:databricks:Workspace": "workspaceName",
    "azure-native:network:VirtualNetwork": "virtualNetworkName",
    "azure-native:network:NetworkSecurityGroup": "networkSecurityGroupName",
    "azure-native:network:NatGateway": "natGatewayName",
    "azure-native:network:PublicIPAddress": "publicIpAddressName",
    "azure-native:storage:StorageAccount": "accountName",
    "azure-native:keyvault:Vault": "vaultName",
    "azure-native:databricks:AccessConnector": "connectorName",
    "azure-native:operationalinsights:Workspace": "workspaceName",
    "azure-native:network:PrivateEndpoint": "privateEndpointName",
    "azure-native:privatedns:VirtualNetworkLink": "virtualNetworkLinkName",
    "databricks:index/mwsNetworkConnectivityConfig:MwsNetworkConnectivityConfig": "name",
    "databricks:index/storageCredential:StorageCredential": "name",
    "databricks:index/externalLocation:ExternalLocation": "name",
    "databricks:index/secretScope:SecretScope": "name",  # pragma: allowlist secret (a type token)
    "databricks:index/budgetPolicy:BudgetPolicy": "policyName",  # account-wide: a shared name would collide
    "databricks:index/instancePool:InstancePool": "instancePoolName",
    "azure-native:consumption:Budget": "budgetName",
}


def _renamed(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _renamed(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, old, new) for v in value]
    return value


def _project(root: Path, staging: dict[str, Any]) -> Path:
    """A project folder with the checked-in stacks and Pulumi.staging.yaml (the cross-stack rules see all)."""
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", root)
    for stack in STACKS:
        shutil.copy(PROJECT_DIR / f"Pulumi.{stack}.yaml", root)
    (root / "Pulumi.staging.yaml").write_text(yaml.safe_dump({"config": staging}, sort_keys=False))
    return root


def staging_config() -> dict[str, Any]:
    raw = _renamed(copy.deepcopy(read_stack_file("test")), *CATALOG)
    for path, value in STAGING_EDITS:
        set_path(raw, path, value)
    return raw


def _names(plan: Any) -> dict[str, list[str]]:
    return {typ: sorted(r.inputs[key] for r in plan.by_type(typ)) for typ, key in NAME_INPUTS.items()}


def test_a_copy_of_test_needs_only_the_cross_stack_edits(tmp_path: Path) -> None:
    project = _project(tmp_path, read_stack_file("test"))
    with pytest.raises(ConfigError) as info:
        load_stack("staging", project)
    keys = sorted(line.split(": ")[1] for line in info.value.problems)
    assert keys == ["identity.cicdServicePrincipal.applicationId", "network.vnetCidr", "unityCatalog.catalogs"]


def test_staging_gets_its_own_names_and_keeps_the_test_tier(tmp_path: Path) -> None:
    project = _project(tmp_path, staging_config())
    staging, test = load_stack("staging", project), load_stack("test")
    assert (staging.stack, staging.environment, staging.is_prod) == ("staging", "test", False)
    for field in dataclasses.fields(staging.names):
        mine, theirs = getattr(staging.names, field.name), getattr(test.names, field.name)
        assert mine != theirs and "staging" in mine, field.name


def test_staging_plans_test_shape_under_its_own_names(tmp_path: Path) -> None:
    plan = plan_stack("staging", _project(tmp_path, staging_config()))
    reference = plan_of("test")
    assert Counter(r.type for r in plan.resources) == Counter(r.type for r in reference.resources)
    mine, theirs = _names(plan), _names(reference)
    for typ, names in mine.items():
        assert names and len(names) == len(theirs[typ]), typ
        assert not set(names) & set(theirs[typ]), typ
        assert all("staging" in name for name in names), (typ, names)
    # tags and cost attribution name the stack (staging's costs are its own); the tier decides relaxations
    group = plan.one("azure-native:resources:ResourceGroup")
    assert group.inputs["tags"]["environment"] == "staging"


@pytest.fixture(scope="module")
def staging_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _project(tmp_path_factory.mktemp("staging"), staging_config())


def test_the_tools_take_the_new_stack_with_no_code_change(staging_project: Path, tmp_path: Path) -> None:
    """plan --stack all, check (with test's enforcement copied), diff, cost-table, diagram and bundle-targets."""
    from infra.policy.enforcement import CONFIG_DIR, load_config
    from infra.policy.offline import check_plan
    from mlopsctl.commands.main import main
    from mlopsctl.reports.cost_table import load_all, render
    from mlopsctl.reports.diagram import render as diagram
    from mlopsctl.reports.diff import diff_plans

    doc = plan_stack("staging", staging_project).as_json()
    report = check_plan(doc, "staging", load_config(path=CONFIG_DIR / "test.json"))
    assert [(v.rule, v.message) for v in report.mandatory] == []
    assert diff_plans(doc, doc).counts["same"] == sum(1 for r in doc["resources"] if r["custom"])
    table = render(load_all(staging_project))
    assert "| | dev | staging | test | prod |" in table
    assert "mlops-staging-workspace" in diagram(doc)
    assert main(["bundle-targets", "--all", "--project-dir", str(staging_project)]) == 0

