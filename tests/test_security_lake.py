"""Lake and access connector: ADLS Gen2 hardening, containers, soft delete, the connector's roles."""

from __future__ import annotations

import pytest

from tests.support import STACKS, plan_of

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
TENANT = "11111111-1111-1111-1111-111111111111"

# stack -> (containers, sku, publicNetworkAccess, protect, retainOnDelete)
EXPECTED = {
    "dev": (["ml-dev-catalog", "mlflow-artifacts-dev"], "Standard_LRS", "Enabled",
            False, False),
    "test": (["ml-test-catalog", "mlflow-artifacts-test"], "Standard_LRS", "Enabled",
             False, False),
    "prod": (["ml-prod-catalog", "ml-models-catalog", "mlflow-artifacts-prod"], "Standard_RAGZRS", "Disabled",
             True, True),
}

# Set explicitly in every environment (Azure Policy counts an unset property as missing).
HARDENING = {
    "kind": "StorageV2",
    "isHnsEnabled": True,
    "enableHttpsTrafficOnly": True,
    "minimumTlsVersion": "TLS1_2",
    "allowBlobPublicAccess": False,
    "allowSharedKeyAccess": False,
    "allowCrossTenantReplication": False,
    "defaultToOAuthAuthentication": True,
    "isLocalUserEnabled": False,
    "isSftpEnabled": False,
}

ROLE_GUIDS = {
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe",  # Storage Blob Data Contributor
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88",  # Storage Queue Data Contributor
    "428e0ff0-5e57-4d9c-a221-2c70d0e0a443",  # EventGrid EventSubscription Contributor
}


def _lake(stack: str):  # type: ignore[no-untyped-def]
    return plan_of(stack).one("azure-native:storage:StorageAccount")


@pytest.mark.parametrize("stack", STACKS)
def test_lake_account_is_hardened(stack: str) -> None:
    _, sku, public, *_ = EXPECTED[stack]
    lake = _lake(stack)
    for key, value in HARDENING.items():
        assert lake.inputs[key] == value, key
    assert lake.inputs["sku"] == {"name": sku}
    assert lake.inputs["publicNetworkAccess"] == public
    assert lake.inputs["resourceGroupName"] == f"mlops-{stack}-rg"
    assert lake.inputs["encryption"]["requireInfrastructureEncryption"] is True
    assert lake.inputs["encryption"]["keySource"] == "Microsoft.Storage"
    assert {s: v["enabled"] for s, v in lake.inputs["encryption"]["services"].items()} == {
        "blob": True, "file": True, "queue": True, "table": True}


@pytest.mark.parametrize("stack", STACKS)
def test_lake_firewall_denies_by_default_and_trusts_only_the_access_connector(stack: str) -> None:
    plan = plan_of(stack)
    connector = plan.one("azure-native:databricks:AccessConnector")
    rules = _lake(stack).inputs["networkRuleSet"]
    assert rules["defaultAction"] == "Deny"
    assert rules["ipRules"] == [] and rules["virtualNetworkRules"] == []
    assert rules["resourceAccessRules"] == [{"resourceId": connector.id, "tenantId": TENANT}]


@pytest.mark.parametrize("stack", STACKS)
def test_lake_name_is_globally_unique_per_stack(stack: str) -> None:
    names = {s: _lake(s).inputs["accountName"] for s in STACKS}
    assert len(set(names.values())) == 3
    assert names[stack].startswith(f"mlops{stack}lake") and len(names[stack]) <= 24


@pytest.mark.parametrize("stack", STACKS)
def test_containers_come_from_config_private_and_after_the_blob_service(stack: str) -> None:
    containers, *_, protect, retain = EXPECTED[stack]
    plan = plan_of(stack)
    lake = _lake(stack)
    service = plan.one("azure-native:storage:BlobServiceProperties")
    found = plan.by_type("azure-native:storage:BlobContainer")
    assert sorted(c.inputs["containerName"] for c in found) == sorted(containers)
    for c in found:
        assert c.inputs["publicAccess"] == "None"
        assert c.inputs["accountName"] == lake.inputs["accountName"]
        assert c.id == f"{lake.id}/blobServices/default/containers/{c.inputs['containerName']}"
        assert service.urn in c.dependencies
        assert (c.protect, c.retainOnDelete) == (protect, retain)


SOFT_DELETE_DAYS = {"dev": 7, "test": 7, "prod": 30}  # prod: at least 30 (docs/recovery.md)


@pytest.mark.parametrize("stack", STACKS)
def test_blob_and_container_soft_delete(stack: str) -> None:
    service = plan_of(stack).one("azure-native:storage:BlobServiceProperties")
    assert service.inputs["accountName"] == _lake(stack).inputs["accountName"]
    days = SOFT_DELETE_DAYS[stack]
    assert service.inputs["deleteRetentionPolicy"] == {"enabled": True, "days": days}
    assert service.inputs["containerDeleteRetentionPolicy"] == {"enabled": True, "days": days}


@pytest.mark.parametrize("stack", STACKS)
def test_lake_protection_follows_the_environment(stack: str) -> None:
    *_, protect, retain = EXPECTED[stack]
    lake = _lake(stack)
    assert (lake.protect, lake.retainOnDelete) == (protect, retain)


@pytest.mark.parametrize("stack", STACKS)
def test_access_connector_has_a_system_identity_and_its_three_roles_on_the_lake(stack: str) -> None:
    plan = plan_of(stack)
    connector = plan.one("azure-native:databricks:AccessConnector")
    assert connector.inputs["connectorName"] == f"mlops-{stack}-access-connector"
    assert connector.inputs["identity"] == {"type": "SystemAssigned"}
    lake = _lake(stack)
    on_lake = [r for r in plan.by_type("azure-native:authorization:RoleAssignment") if r.inputs["scope"] == lake.id]
    assert {r.inputs["roleDefinitionId"].rsplit("/", 1)[-1] for r in on_lake} == ROLE_GUIDS
    for r in on_lake:
        assert r.inputs["roleDefinitionId"].startswith(f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/")
        assert r.inputs["principalType"] == "ServicePrincipal"
        assert connector.urn in r.dependencies and lake.urn in r.dependencies
    # the principal is the connector's managed identity (mocked outputs give it a stable uuid)
    assert len({r.inputs["principalId"] for r in on_lake}) == 1
