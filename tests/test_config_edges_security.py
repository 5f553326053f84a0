"""Security-landing config at its edges: every prod refusal, each cross-section rule on both sides.

Each case changes one key of a checked-in stack file and asserts every problem line, exactly.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import ConfigError, validate
from infra.config.base import show
from tests.support import DELETE, siblings, stack_raw, with_changes

OBJECT_ID = "9f1e2d3c-4b5a-4697-8879-6a5b4c3d2e1f"


def problems(stack: str, changes: list[tuple[str, Any]]) -> list[str]:
    try:
        validate(stack, with_changes(stack, changes), siblings(stack))
    except ConfigError as exc:
        return exc.problems
    return []


IP_LIST_REQUIRED = ("workspaceSecurity.ipAccessList: [] must list the allowed source ranges when "
                    "workspace.publicNetworkAccess is 'Enabled' (a public front end without an IP access list is "
                    "open to the internet)")

# (case id, stack, [(key path, value)], every problem line; [] = accepted)
CASES: list[tuple[str, str, list[tuple[str, Any]], list[str]]] = [
    # prod refuses each relaxation on its own
    ("prod-no-infrastructure-encryption", "prod", [("encryption.infrastructureEncryption", False)],
     ["prod: encryption.infrastructureEncryption: false is not allowed in prod: prod's DBFS root needs "
      "infrastructure (double) encryption"]),
    ("prod-public-front-end", "prod", [("workspace.publicNetworkAccess", "Enabled"),
                                       ("workspaceSecurity.ipAccessList", DELETE)],
     [f"prod: {IP_LIST_REQUIRED}",
      "prod: workspace.publicNetworkAccess: 'Enabled' is not allowed in prod: prod's workspace front end must be "
      "private (Azure Policy 'Azure Databricks Workspaces should disable public network access')"]),
    ("prod-cmk-off", "prod", [("encryption.customerManagedKeys", False)],
     ["prod: encryption.dbfsRoot: 'enabled' needs customerManagedKeys true; allowed with CMK off: 'off'"]),
    # the same relaxations are a stack's choice outside prod
    ("test-no-infrastructure-encryption", "test", [("encryption.infrastructureEncryption", False)], []),
    ("test-unprotected", "test", [("protection.protect", False)], []),
    # front end and IP access list go together, in both directions
    # a private front end may keep a list as a second gate (SAT NS-5); lists never filter Private Link traffic
    ("private-front-end-with-ip-list", "prod", [("workspaceSecurity.ipAccessList", ["203.0.113.0/24"])], []),
    ("ip-list-ipv6-whole-internet", "dev", [("workspaceSecurity.ipAccessList", ["::/0"])],
     ["dev: workspaceSecurity.ipAccessList: ['::/0'] entry '::/0' allows the whole internet; list your egress "
      "ranges"]),
    ("ip-list-slash-1", "dev", [("workspaceSecurity.ipAccessList", ["0.0.0.0/1"])], []),
    ("ip-list-not-a-cidr", "dev", [("workspaceSecurity.ipAccessList", ["office"])],
     ["dev: workspaceSecurity.ipAccessList: ['office'] entry 'office' is not a CIDR without host bits (e.g. "
      "'203.0.113.0/24')"]),
    # keys: an HSM key needs a premium vault only when customer-managed keys are on
    ("hsm-key-standard-vault-cmk-off", "test", [("encryption.keyType", "RSA-HSM")], []),
    ("rsa-key-standard-vault", "prod", [("encryption.keyType", "RSA"), ("keyVault.sku", "standard")], []),
    ("key-size-1024", "prod", [("encryption.keySize", 1024)],
     ["prod: encryption.keySize: 1024 is not allowed; allowed: 2048, 3072 or 4096"]),
    ("key-size-4096", "prod", [("encryption.keySize", 4096)], []),
    # every stack's secret scope needs the AzureDatabricks app's object id, CMK or not; DBFS root CMK needs CMK
    ("object-id-missing", "test", [("encryption.databricksServiceObjectId", DELETE)],
     ["test: encryption.databricksServiceObjectId: null is required (the secret scope and customerManagedKeys "
      "need it); get it with: az ad sp show --id 2ff814a6-3304-4ab8-85cb-cd0e6f879c1d --query id -o tsv"]),
    # CMK needs a purge-protected vault, and an HSM key a premium one
    ("cmk-on-in-a-disposable-vault", "test", [("encryption.customerManagedKeys", True)],
     ["test: identity.deployer.objectId: null is required with encryption.customerManagedKeys: the deployer's Key "
      "Vault grant names it (the preview and drift identities are others); az ad sp show --id <applicationId> "
      "--query id -o tsv",
      "test: keyVault.purgeProtection: false is not allowed with encryption.customerManagedKeys true (Azure "
      "Databricks CMK needs purge protection on the key's vault); allowed: true",
      "test: keyVault.sku: 'standard' cannot hold encryption.keyType 'RSA-HSM' keys; allowed: 'premium' (or "
      "keyType 'RSA')"]),
    ("cmk-on-purge-protected-premium-vault", "test",
     [("encryption.customerManagedKeys", True), ("keyVault.purgeProtection", True), ("keyVault.sku", "premium"),
      ("identity.deployer.objectId", "3f2504e0-4f89-41d3-9a0c-0305e82c3301")],
     []),
    ("cmk-off-without-purge-protection", "test", [("keyVault.purgeProtection", False)], []),
    ("dbfs-prepare-without-cmk", "test", [("encryption.dbfsRoot", "prepare")],
     ["test: encryption.dbfsRoot: 'prepare' needs customerManagedKeys true; allowed with CMK off: 'off'"]),
    ("object-id-pattern", "prod", [("encryption.databricksServiceObjectId", OBJECT_ID.upper())],
     [f"prod: encryption.databricksServiceObjectId: '{OBJECT_ID.upper()}' is not allowed (string should match "
      "pattern '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')"]),
    # lake container names: 3-63 lowercase letters, digits and single hyphens
    ("container-3-chars", "dev", [("lake.containers", ["ml-dev-catalog", "abc", "mlflow-artifacts-dev"])], []),
    ("container-63-chars", "dev", [("lake.containers", ["ml-dev-catalog", "a" * 63, "mlflow-artifacts-dev"])], []),
    *[(f"container-{name[:12]}", "dev", [("lake.containers", ["ml-dev-catalog", name])],
       [f"dev: lake.containers: ['ml-dev-catalog', {name!r}] container {name!r} is not a valid name; allowed: 3-63 "
        "lowercase letters, digits and single hyphens, starting and ending with a letter or digit"])
      for name in ("ab", "a" * 64, "ml--dev", "-mldev", "mldev-", "Mldev")],
    ("container-twice-and-another", "dev",
     [("lake.containers", ["ml-dev-catalog", "b-b", "ml-dev-catalog", "b-b", "c-c"])],
     ["dev: lake.containers: ['ml-dev-catalog', 'b-b', 'ml-dev-catalog', 'b-b', 'c-c'] lists 'b-b', "
      "'ml-dev-catalog' more than once; container names must be unique"]),
    ("encryption-missing", "prod", [("encryption", DELETE)], ["prod: encryption: required key is missing"]),
]


@pytest.mark.parametrize(("stack", "changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_security_edges(stack: str, changes: list[tuple[str, Any]], expected: list[str]) -> None:
    assert problems(stack, changes) == expected


PROD_RELAXATIONS = [
    ("protection.protect", False), ("protection.retainOnDelete", False), ("protection.resourceGroupLock", False),
    ("lake.publicNetworkAccess", "Enabled"), ("keyVault.publicNetworkAccess", "Enabled"),
    ("encryption.infrastructureEncryption", False), ("workspaceSecurity.enhancedSecurityCompliance", False),
    ("workspaceSecurity.defaultStorageFirewall", False),
]


@pytest.mark.parametrize(("key", "value"), PROD_RELAXATIONS, ids=[k for k, _ in PROD_RELAXATIONS])
def test_prod_refuses_each_relaxation_alone_and_test_accepts_it(key: str, value: Any) -> None:
    got = problems("prod", [(key, value)])
    assert len(got) == 1 and got[0].startswith(f"prod: {key}: ") and " is not allowed in prod: prod" in got[0], got
    assert problems("test", [(key, value)]) == []


# Every relaxation prod refuses, with its value and what it needs beside it to reach the prod check (CMK off
# needs the DBFS root key off, or the encryption section refuses it first).
EVERY_PROD_RELAXATION = [*((key, value, []) for key, value in PROD_RELAXATIONS),
                         ("workspace.publicNetworkAccess", "Enabled", []),
                         ("encryption.customerManagedKeys", False, [("encryption.dbfsRoot", "off")]),
                         ("keyVault.purgeProtection", False, [])]


def test_every_prod_reason_is_the_reason_of_a_refusal() -> None:
    """Each reason prod gives belongs to a key prod checks. There was a reason for workspaceSecurity.ipAccessList
    that no check used (an IP list in prod is a second gate on the private front end, SAT NS-5)."""
    from infra.config.security import _WHY

    assert sorted(_WHY) == sorted(key for key, _, _ in EVERY_PROD_RELAXATION)
    for key, value, beside in EVERY_PROD_RELAXATION:
        line = f"prod: {key}: {show(value)} is not allowed in prod: {_WHY[key]}"
        assert line in problems("prod", [(key, value), *beside]), key
    assert problems("prod", [("workspaceSecurity.ipAccessList", ["203.0.113.0/24"])]) == []


def test_the_defaults_are_the_secure_values() -> None:
    """prod with every security key left out (but the required ones) is valid: the defaults are prod-grade."""
    minimal = with_changes("prod", [
        ("keyVault", DELETE), ("workspaceSecurity", DELETE), ("privateLink", DELETE), ("observability", DELETE),
        ("protection", DELETE), ("encryption", {"databricksServiceObjectId": OBJECT_ID}),
        ("lake", {"containers": ["ml-prod-catalog", "ml-models-catalog", "mlflow-artifacts-prod"]}),
        ("workspace", DELETE)])
    config = validate("prod", minimal, {})
    assert (config.lake.sku, config.lake.public_network_access, config.lake.soft_delete_days) == (
        "Standard_RAGZRS", "Disabled", 30)
    assert (config.key_vault.sku, config.key_vault.public_network_access,
            config.key_vault.soft_delete_retention_days) == ("premium", "Disabled", 90)
    enc = config.encryption
    assert (enc.customer_managed_keys, enc.dbfs_root, enc.key_type, enc.key_size, enc.rotation_days,
            enc.infrastructure_encryption) == (True, "enabled", "RSA-HSM", 2048, 365, True)
    sec = config.workspace_security
    assert (sec.ip_access_list, sec.default_storage_firewall, sec.enhanced_security_compliance,
            sec.compliance_standards) == ([], True, True, [])
    assert (config.private_link.browser_authentication, config.private_link.manage_dns_zone_groups) == (False, True)
    assert (config.observability.retention_days, config.observability.daily_quota_gb) == (90, -1)
    assert (config.protection.protect, config.protection.retain_on_delete,
            config.protection.resource_group_lock) == (True, True, True)
    ws = config.workspace
    assert (ws.sku, ws.enable_no_public_ip, ws.public_network_access, ws.required_nsg_rules) == (
        "premium", True, "Disabled", "NoAzureDatabricksRules")


HUB = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/mlops-hub-rg/providers/"
       "Microsoft.Network/virtualNetworks/mlops-hub-vnet")  # prod's deploy.runner.hubVnetId


@pytest.mark.parametrize(("hub", "clash"), [
    (HUB, True), (HUB.replace("mlops-hub-rg", "MLOPS-HUB-RG").replace("/mlops-hub-vnet", "/Mlops-Hub-Vnet"), True),
    (HUB + "2", False), (HUB[:-1], False), (HUB.replace("mlops-hub-rg", "a-hub-rg"), False)])
def test_one_stack_links_its_workspace_zone_to_a_hub(hub: str, clash: bool) -> None:
    """Names in an ARM id are case-insensitive: the same hub in other case is the same hub."""
    try:
        validate("test", with_changes("test", [("deploy.runner.hubVnetId", hub)]), {"prod": stack_raw("prod")})
    except ConfigError as exc:
        assert exc.problems == [
            f"test: deploy.runner.hubVnetId: {hub!r} is also stack prod's; a VNet links at most one "
            "privatelink.azuredatabricks.net zone, so only one stack may link its workspace zone to a hub"]
        assert clash
    else:
        assert not clash


@pytest.mark.parametrize(("location", "expected"), [
    ("eastus2", ["test: privateLink.browserAuthentication: true is also set by stack prod in region 'eastus2'; "
                 "exactly one stack per region owns the browser_authentication endpoint"]),
    ("centralus", []),
    ("westeurope", []),
])
def test_one_browser_authentication_owner_per_region(location: str, expected: list[str]) -> None:
    changes = [("privateLink.browserAuthentication", True), ("location", location)]
    try:
        validate("test", with_changes("test", changes), {"prod": stack_raw("prod")})
    except ConfigError as exc:
        assert exc.problems == expected
    else:
        assert expected == []
