"""Issue 3 config errors: each refused setting by its exact message (stack, key path, value, why)."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import ConfigError, validate
from tests.support import DELETE, STACKS, config_problems, set_path, siblings, stack_raw, with_changes

PROD_WHY = "is not allowed in prod: "
CASES: list[tuple[str, str, list[tuple[str, Any]], str]] = [
    ("prod-public-front-end", "prod",
     [("workspace.publicNetworkAccess", "Enabled"), ("workspaceSecurity.ipAccessList", ["203.0.113.0/24"])],
     "prod: workspace.publicNetworkAccess: 'Enabled' is not allowed in prod: prod's workspace front end must be "
     "private (private link only; Azure Policy 'Azure Databricks Workspaces should disable public network access')"),
    ("prod-public-lake", "prod", [("lake.publicNetworkAccess", "Enabled")],
     "prod: lake.publicNetworkAccess: 'Enabled' is not allowed in prod: prod's lake must be reachable through "
     "private endpoints only (Azure Policy 'Storage accounts should disable public network access')"),
    ("prod-public-vault", "prod", [("keyVault.publicNetworkAccess", "Enabled")],
     "prod: keyVault.publicNetworkAccess: 'Enabled' is not allowed in prod: prod's key vault must be reachable "
     "through its private endpoint only (Azure Policy 'Azure Key Vault should disable public network access')"),
    ("prod-unprotected", "prod", [("protection.protect", False)],
     "prod: protection.protect: false is not allowed in prod: prod's stateful resources must be protected so a "
     "mistaken destroy cannot delete them"),
    ("prod-no-retain", "prod", [("protection.retainOnDelete", False)],
     "prod: protection.retainOnDelete: false is not allowed in prod: prod's data must survive a resource being "
     "removed from the program"),
    ("prod-no-lock", "prod", [("protection.resourceGroupLock", False)],
     "prod: protection.resourceGroupLock: false is not allowed in prod: prod's resource group needs a "
     "CanNotDelete lock"),
    ("prod-no-cmk", "prod", [("encryption.customerManagedKeys", False), ("encryption.dbfsRoot", "off")],
     "prod: encryption.customerManagedKeys: false is not allowed in prod: prod encrypts managed services, disks "
     "and DBFS root with its own keys"),
    ("prod-no-compliance", "prod", [("workspaceSecurity.enhancedSecurityCompliance", False)],
     "prod: workspaceSecurity.enhancedSecurityCompliance: false is not allowed in prod: prod runs with the "
     "compliance security profile, enhanced security monitoring and automatic cluster update"),
    ("prod-no-storage-firewall", "prod", [("workspaceSecurity.defaultStorageFirewall", False)],
     "prod: workspaceSecurity.defaultStorageFirewall: false is not allowed in prod: prod's DBFS root must sit "
     "behind the storage firewall"),
    ("public-front-end-needs-ip-list", "dev", [("workspaceSecurity.ipAccessList", [])],
     "dev: workspaceSecurity.ipAccessList: [] must list the allowed source ranges when "
     "workspace.publicNetworkAccess is 'Enabled' (a public front end without an IP access list is open to the "
     "internet)"),
    ("ip-list-whole-internet", "test", [("workspaceSecurity.ipAccessList", ["0.0.0.0/0"])],
     "test: workspaceSecurity.ipAccessList: ['0.0.0.0/0'] entry '0.0.0.0/0' allows the whole internet; list your "
     "egress ranges"),
    ("ip-list-host-bits", "dev", [("workspaceSecurity.ipAccessList", ["203.0.113.7/24"])],
     "dev: workspaceSecurity.ipAccessList: ['203.0.113.7/24'] entry '203.0.113.7/24' is not a CIDR without host "
     "bits (e.g. '203.0.113.0/24')"),
    ("cmk-needs-databricks-object-id", "prod", [("encryption.databricksServiceObjectId", DELETE)],
     "prod: encryption.databricksServiceObjectId: null is required: the Key Vault-backed secret scope (and "
     "customerManagedKeys) needs the AzureDatabricks app's object id in your tenant: az ad sp show --id "
     "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d --query id -o tsv"),
    # the secret scope finding: without CMK the app still reads the Key Vault-backed secret scope
    ("secret-scope-needs-databricks-object-id", "dev", [("encryption.databricksServiceObjectId", DELETE)],
     "dev: encryption.databricksServiceObjectId: null is required: the Key Vault-backed secret scope (and "
     "customerManagedKeys) needs the AzureDatabricks app's object id in your tenant: az ad sp show --id "
     "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d --query id -o tsv"),
    ("cmk-needs-purge-protection", "prod", [("keyVault.purgeProtection", False)],
     "prod: keyVault.purgeProtection: false is not allowed with encryption.customerManagedKeys true (Azure "
     "Databricks CMK needs purge protection on the key's vault); allowed: true"),
    ("prod-needs-purge-protection", "prod", [("keyVault.purgeProtection", False)],
     "prod: keyVault.purgeProtection: false is not allowed in prod: prod's vault holds the workspace's keys; a "
     "purged key loses the data it encrypts (Azure Policy 'Key vaults should have deletion protection enabled')"),
    ("deployer-principal-type", "prod", [("keyVault.deployerPrincipalType", "Group")],
     "prod: keyVault.deployerPrincipalType: 'Group' is not allowed; allowed: 'ServicePrincipal' or 'User'"),
    ("purge-protection-not-a-bool", "dev", [("keyVault.purgeProtection", "sometimes")],
     "dev: keyVault.purgeProtection: 'sometimes' is not true or false"),
    ("dbfs-name-charset", "dev", [("naming.dbfsStorageAccount", "Dbfs_Dev")],
     "dev: naming.dbfsStorageAccount: 'Dbfs_Dev' has characters Azure does not allow; allowed: lowercase letters "
     "and digits only"),
    ("dbfs-name-length", "dev", [("naming.dbfsStorageAccount", "db")],
     "dev: naming.dbfsStorageAccount: 'db' must be 3-24 characters (has 2); allowed: lowercase letters and digits "
     "only"),
    ("dbfs-name-is-the-lake", "dev", [("naming.dbfsStorageAccount", "mlopsdevlakeb12cb1")],
     "dev: naming.dbfsStorageAccount: 'mlopsdevlakeb12cb1' must differ from the lake's naming.storageAccount (each "
     "is its own storage account)"),
    ("dbfs-name-is-another-stacks-lake", "dev", [("naming.dbfsStorageAccount", "mlopsprodlake921136")],
     "dev: naming.dbfsStorageAccount: 'mlopsprodlake921136' is also stack prod's storageAccount; a storage account "
     "name is globally unique in Azure"),
    ("dbfs-name-is-another-stacks-dbfs", "test", [("naming.dbfsStorageAccount", "mlopsdevdbfsb12cb1")],
     "test: naming.dbfsStorageAccount: 'mlopsdevdbfsb12cb1' is also stack dev's dbfsStorageAccount; a storage "
     "account name is globally unique in Azure"),
    ("dbfs-cmk-needs-cmk", "dev", [("encryption.dbfsRoot", "enabled")],
     "dev: encryption.dbfsRoot: 'enabled' needs customerManagedKeys true; allowed with CMK off: 'off'"),
    ("hsm-key-needs-premium-vault", "prod", [("keyVault.sku", "standard")],
     "prod: keyVault.sku: 'standard' cannot hold encryption.keyType 'RSA-HSM' keys; allowed: 'premium' (or "
     "keyType 'RSA')"),
    ("bad-container-name", "dev", [("lake.containers", ["ml_dev_catalog"])],
     "dev: lake.containers: ['ml_dev_catalog'] container 'ml_dev_catalog' is not a valid name; allowed: 3-63 "
     "lowercase letters, digits and single hyphens, starting and ending with a letter or digit"),
    ("duplicate-container", "dev", [("lake.containers", ["ml-dev-catalog", "ml-dev-catalog"])],
     "dev: lake.containers: ['ml-dev-catalog', 'ml-dev-catalog'] lists 'ml-dev-catalog' more than once; container "
     "names must be unique"),
    ("no-containers", "dev", [("lake.containers", [])],
     "dev: lake.containers: [] must list at least one container (catalog roots, mlflow-artifacts-<env>)"),
    ("lake-missing", "dev", [("lake", DELETE)], "dev: lake: required key is missing"),
    ("soft-delete-range", "dev", [("lake.softDeleteDays", 0)],
     "dev: lake.softDeleteDays: 0 is out of range (input should be greater than or equal to 1)"),
    ("unknown-security-key", "dev", [("protection.protekt", True)],
     "dev: protection.protekt: unknown key (a typo?); see the configuration reference in README.md"),
]


@pytest.mark.parametrize(("stack", "changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_security_config_error_message(stack: str, changes: list[tuple[str, Any]], expected: str) -> None:
    problems = config_problems(stack, with_changes(stack, changes))
    assert expected in problems, problems


def test_prod_reports_every_relaxation_at_once() -> None:
    changes = [("protection.protect", False), ("lake.publicNetworkAccess", "Enabled"),
               ("keyVault.publicNetworkAccess", "Enabled")]
    with pytest.raises(ConfigError) as info:
        validate("prod", with_changes("prod", changes))
    assert [p.split(":")[1].strip() for p in info.value.problems] == [
        "protection.protect", "lake.publicNetworkAccess", "keyVault.publicNetworkAccess"]
    assert all(PROD_WHY in p for p in info.value.problems)


def test_two_stacks_cannot_own_the_regions_browser_authentication_endpoint() -> None:
    siblings = {s: stack_raw(s) for s in STACKS if s != "test"}
    raw = set_path(stack_raw("test"), "privateLink.browserAuthentication", True)
    with pytest.raises(ConfigError) as info:
        validate("test", raw, siblings)
    assert info.value.problems == [
        "test: privateLink.browserAuthentication: true is also set by stack prod in region 'eastus2'; exactly one "
        "stack per region owns the browser_authentication endpoint"]


def test_two_stacks_cannot_link_their_workspace_zones_to_one_hub() -> None:
    """The runner's route: each stack links its own privatelink.azuredatabricks.net zone to its hub, and a VNet
    can be linked to only one zone of a given name."""
    hub = stack_raw("prod")["mlops-platform:deploy"]["runner"]["hubVnetId"]
    raw = set_path(stack_raw("test"), "deploy.runner.hubVnetId", hub.replace("mlops-hub-rg", "MLOPS-HUB-RG"))
    assert config_problems("test", raw) == [
        f"test: deploy.runner.hubVnetId: {raw['mlops-platform:deploy']['runner']['hubVnetId']!r} is also stack "
        "prod's; a VNet links at most one privatelink.azuredatabricks.net zone, so only one stack may link its "
        "workspace zone to a hub"]


def test_owners_in_different_regions_are_fine() -> None:
    siblings = {s: stack_raw(s) for s in STACKS if s != "test"}
    raw = set_path(stack_raw("test"), "privateLink.browserAuthentication", True)
    set_path(raw, "location", "westeurope")
    assert validate("test", raw, siblings).private_link.browser_authentication is True


@pytest.mark.parametrize("stack", STACKS)
def test_checked_in_stacks_pass_the_security_rules(stack: str) -> None:
    config = validate(stack, stack_raw(stack), siblings(stack))
    assert config.protection.protect is (stack == "prod")
    assert config.encryption.customer_managed_keys is (stack == "prod")
