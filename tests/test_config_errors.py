"""Bad stack configs: every problem on its own line, naming stack, key path, value and what is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import ConfigError, validate
from tests.support import DELETE, STACKS, config_problems, siblings, stack_raw, with_changes

# (case id, stack, [(key path, value)], expected problem line)
CASES: list[tuple[str, str, list[tuple[str, Any]], str]] = [
    ("cidr-invalid", "dev", [("network.vnetCidr", "10.0.0.0/33")],
     "dev: network.vnetCidr: '10.0.0.0/33' is not a valid CIDR (e.g. '10.10.0.0/16')"),
    ("cidr-host-bits", "dev", [("network.hostSubnetCidr", "10.1.1.7/24")],
     "dev: network.hostSubnetCidr: '10.1.1.7/24' has host bits set; did you mean '10.1.1.0/24'?"),
    ("subnet-too-small", "dev", [("network.hostSubnetCidr", "10.1.1.0/27")],
     "dev: network.hostSubnetCidr: '10.1.1.0/27' must be between /17 and /26 (Azure Databricks subnet sizes)"),
    ("subnet-outside-vnet", "test", [("network.containerSubnetCidr", "10.9.2.0/24")],
     "test: network.containerSubnetCidr: '10.9.2.0/24' is not inside vnetCidr '10.2.0.0/16'"),
    ("subnets-overlap", "prod", [("network.privateEndpointSubnetCidr", "10.0.1.0/25")],
     "prod: network.privateEndpointSubnetCidr: '10.0.1.0/25' overlaps hostSubnetCidr '10.0.1.0/24'"),
    ("vnets-overlap-across-stacks", "dev", [("network.vnetCidr", "10.0.0.0/8"),
                                            ("network.hostSubnetCidr", "10.1.1.0/24")],
     "dev: network.vnetCidr: '10.0.0.0/8' overlaps stack prod's vnetCidr '10.0.0.0/16'; VNets must not overlap"),
    ("unknown-key", "dev", [("network.vnetCdir", "10.1.0.0/16")],
     "dev: network.vnetCdir: unknown key (a typo?); see the configuration reference in docs/configuration.md"),
    ("unknown-top-level-key", "dev", [("netwrk", {})],
     "dev: netwrk: unknown key (a typo?); see the configuration reference in docs/configuration.md"),
    ("wrong-type", "dev", [("network.vnetCidr", 42)],
     "dev: network.vnetCidr: 42 is not a string"),
    ("bad-region", "dev", [("location", "mars-north")],
     "dev: location: 'mars-north' is not allowed; allowed: 'eastus', 'eastus2', 'centralus',"),
    ("bad-sku", "prod", [("workspace.sku", "standard")],
     "prod: workspace.sku: 'standard' is not allowed; allowed: 'premium'"),
    ("bad-environment", "dev", [("environment", "qa")],
     "dev: environment: 'qa' is not allowed; allowed: 'dev', 'test' or 'prod'"),
    ("missing-owner-tag", "dev", [("tags.owner", DELETE)],
     "dev: tags.owner: required key is missing"),
    ("workspace-name-too-long", "dev", [("naming.workspace", "w" * 70)],
     "dev: naming.workspace: 'wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww' must be 3-64 "
     "characters (has 70); allowed: letters, digits, - and _"),
    ("storage-name-charset", "dev", [("naming.storageAccount", "Mlops-Dev")],
     "dev: naming.storageAccount: 'Mlops-Dev' has characters Azure does not allow; allowed: lowercase letters "
     "and digits only"),
    ("private-front-end-needs-no-nsg-rules", "prod", [("workspace.requiredNsgRules", "AllRules")],
     "prod: workspace.requiredNsgRules: 'AllRules' is not allowed with publicNetworkAccess 'Disabled'; allowed: "
     "'NoAzureDatabricksRules'"),
    ("unknown-namespace", "dev", [("__raw__", ("mlops-platfrom:network", {}))],
     "dev: mlops-platfrom:network: unknown config namespace 'mlops-platfrom'; allowed: mlops-platform, "
     "azure-native, databricks, pulumi"),
]


@pytest.mark.parametrize(("stack", "changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_config_is_reported_with_its_message(stack: str, changes: list[tuple[str, Any]], expected: str) -> None:
    problems = config_problems(stack, with_changes(stack, changes))
    assert any(line.startswith(expected) for line in problems), problems


def test_all_problems_are_reported_at_once() -> None:
    raw = with_changes("dev", [("network.vnetCidr", "10.0.0.0/33"), ("location", "mars"), ("tags.owner", DELETE),
                         ("workspace.skew", "premium")])
    with pytest.raises(ConfigError) as info:
        validate("dev", raw, siblings("dev"))
    paths = [line.split(": ")[1] for line in info.value.problems]
    assert paths == ["location", "tags.owner", "network.vnetCidr", "workspace.skew"]
    assert all(line.startswith("dev: ") and "\n" not in line for line in info.value.problems)


@pytest.mark.parametrize("stack", STACKS)
def test_checked_in_stacks_are_valid(stack: str) -> None:
    config = validate(stack, stack_raw(stack), siblings(stack))
    assert config.environment == stack
