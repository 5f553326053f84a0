"""The first slice per environment: resource group, network, workspace (expectations as tables)."""

from __future__ import annotations

import ipaddress

import pytest

from tests.support import STACKS, dig, plan_of

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"

# stack -> (resource group, workspace, vnet, host, container, pe, public network access, protected, lock)
EXPECTED = {
    "dev": ("mlops-dev-rg", "mlops-dev-workspace", "10.1.0.0/16", "10.1.1.0/24", "10.1.2.0/24", "10.1.3.0/24",
            "Enabled", False, False),
    "test": ("mlops-test-rg", "mlops-test-workspace", "10.2.0.0/16", "10.2.1.0/24", "10.2.2.0/24", "10.2.3.0/24",
             "Enabled", False, False),
    "prod": ("mlops-prod-rg", "mlops-prod-workspace", "10.0.0.0/16", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24",
             "Disabled", True, True),
}


@pytest.mark.parametrize("stack", STACKS)
def test_resource_group_names_location_and_tags(stack: str) -> None:
    rg_name, *_ = EXPECTED[stack]
    rg = plan_of(stack).one("azure-native:resources:ResourceGroup")
    assert rg.inputs["resourceGroupName"] == rg_name
    assert rg.inputs["location"] == "eastus2"
    assert rg.id == f"{SUB}/resourceGroups/{rg_name}"
    assert rg.inputs["tags"] == {"environment": stack, "project": "mlops-platform", "owner": "mlops-platform-team",
                                 "costCenter": f"cc-ml-{stack}", "managedBy": "pulumi"}


@pytest.mark.parametrize("stack", STACKS)
def test_every_taggable_azure_resource_carries_the_required_tags(stack: str) -> None:
    for res in plan_of(stack).resources:
        if res.custom and res.type.startswith("azure-native:") and "tags" in res.inputs:
            assert {"environment", "project", "owner", "costCenter"} <= set(res.inputs["tags"]), res.urn
            assert res.inputs["tags"]["environment"] == stack


@pytest.mark.parametrize("stack", STACKS)
def test_vnet_and_subnets_match_config(stack: str) -> None:
    _, _, vnet_cidr, host, container, pe, *_ = EXPECTED[stack]
    plan = plan_of(stack)
    vnet = plan.one("azure-native:network:VirtualNetwork")
    assert vnet.inputs["addressSpace"]["addressPrefixes"] == [vnet_cidr]
    subnets = {r.inputs["subnetName"]: r for r in plan.by_type("azure-native:network:Subnet")}
    assert {n: s.inputs["addressPrefix"] for n, s in subnets.items()} == {
        "public-subnet": host, "private-subnet": container, "pe-subnet": pe}
    for s in subnets.values():
        assert ipaddress.ip_network(s.inputs["addressPrefix"]).subnet_of(ipaddress.ip_network(vnet_cidr))
        assert s.inputs["virtualNetworkName"] == f"mlops-{stack}-vnet"


# How each stack's Databricks subnets leave: a NAT gateway, or the route table to the hub's firewall (prod).
EGRESS = {"dev": "natGateway", "test": "natGateway", "prod": "routeTable"}


@pytest.mark.parametrize("stack", STACKS)
def test_databricks_subnets_are_delegated_behind_nsg_with_explicit_egress(stack: str) -> None:
    plan = plan_of(stack)
    kind = EGRESS[stack]
    (egress,) = plan.by_type("azure-native:network:NatGateway" if kind == "natGateway"
                             else "azure-native:network:RouteTable")
    nsg_ids = {r.id for r in plan.by_type("azure-native:network:NetworkSecurityGroup")}
    for sub in plan.by_type("azure-native:network:Subnet"):
        assert sub.inputs["networkSecurityGroup"]["id"] in nsg_ids, sub.name  # NSG on every subnet
        assert sub.inputs["defaultOutboundAccess"] is False, sub.name
        delegated = [d["serviceName"] for d in sub.inputs.get("delegations", [])]
        if sub.inputs["subnetName"] == "pe-subnet":
            assert delegated == []
            assert sub.inputs["privateEndpointNetworkPolicies"] == "Disabled"
        else:
            assert delegated == ["Microsoft.Databricks/workspaces"]
            assert sub.inputs[kind]["id"] == egress.id  # explicit egress for no-public-IP clusters
            assert {"natGateway", "routeTable"} - {kind} - set(sub.inputs) == {"natGateway", "routeTable"} - {kind}


@pytest.mark.parametrize("stack", STACKS)
def test_subnets_are_created_one_after_another(stack: str) -> None:
    plan = plan_of(stack)
    by_name = {r.inputs["subnetName"]: r for r in plan.by_type("azure-native:network:Subnet")}
    assert by_name["public-subnet"].urn in by_name["private-subnet"].dependencies
    assert by_name["private-subnet"].urn in by_name["pe-subnet"].dependencies


@pytest.mark.parametrize("stack", STACKS)
def test_workspace_is_premium_vnet_injected_without_public_ip(stack: str) -> None:
    rg_name, ws_name, *_rest = EXPECTED[stack]
    public_access, protected = EXPECTED[stack][6], EXPECTED[stack][7]
    plan = plan_of(stack)
    ws = plan.one("azure-native:databricks:Workspace")
    vnet = plan.one("azure-native:network:VirtualNetwork")
    assert ws.inputs["workspaceName"] == ws_name
    assert dig(ws.inputs, "sku.name") == "premium"
    assert dig(ws.inputs, "parameters.enableNoPublicIp.value") is True
    assert dig(ws.inputs, "parameters.customVirtualNetworkId.value") == vnet.id
    assert dig(ws.inputs, "parameters.customPublicSubnetName.value") == "public-subnet"
    assert dig(ws.inputs, "parameters.customPrivateSubnetName.value") == "private-subnet"
    assert ws.inputs["managedResourceGroupId"] == f"{SUB}/resourceGroups/mlops-{stack}-workspace-managed-rg"
    assert ws.inputs["publicNetworkAccess"] == public_access
    assert ws.inputs["requiredNsgRules"] == "NoAzureDatabricksRules"
    assert ws.id == f"{SUB}/resourceGroups/{rg_name}/providers/Microsoft.Databricks/workspaces/{ws_name}"
    assert ws.protect is protected


@pytest.mark.parametrize("stack", STACKS)
def test_prod_only_resource_group_lock_and_protection(stack: str) -> None:
    plan = plan_of(stack)
    locks = plan.by_type("azure-native:authorization:ManagementLockAtResourceGroupLevel")
    assert bool(locks) is EXPECTED[stack][8]
    if locks:
        assert locks[0].inputs["level"] == "CanNotDelete"
        assert plan.one("azure-native:resources:ResourceGroup").protect is True


@pytest.mark.parametrize("stack", STACKS)
def test_workspace_outputs_are_realistic(stack: str) -> None:
    outputs = plan_of(stack).outputs
    assert outputs["environment"] == stack
    assert outputs["workspaceUrl"].startswith("adb-") and outputs["workspaceUrl"].endswith(".azuredatabricks.net")
    assert outputs["workspaceHost"] == "https://" + outputs["workspaceUrl"]
    assert outputs["workspaceNumericId"].isdigit()


def test_components_parent_their_resources() -> None:
    plan = plan_of("dev")
    components = {r.urn: r for r in plan.resources if not r.custom}
    assert {r.type for r in components.values()} >= {
        "mlops:platform:Platform", "mlops:platform:Network", "mlops:platform:Workspace",
        "mlops:platform:ResourceGroup"}
    for res in plan.resources:
        if res.custom:
            assert res.parent in components, f"{res.urn} is not inside a component"


@pytest.mark.parametrize("stack", STACKS)
def test_databricks_providers_are_explicit_and_built_from_the_workspace(stack: str) -> None:
    plan = plan_of(stack)
    ws = plan.one("azure-native:databricks:Workspace")
    outputs = plan.outputs
    account = plan.one("pulumi:providers:databricks", "databricks-account")
    workspace = plan.one("pulumi:providers:databricks", "databricks-workspace")
    assert account.inputs["host"] == "https://accounts.azuredatabricks.net"
    assert account.inputs["accountId"] == "0b7d6c3e-1f2a-4c5d-9e8f-7a6b5c4d3e2f"
    assert workspace.inputs["host"] == outputs["workspaceHost"]
    assert workspace.inputs["azureWorkspaceResourceId"] == ws.id
    assert ws.urn in workspace.dependencies
    for res in plan.resources:  # no secrets or tokens in provider inputs: auth comes from the environment
        if res.type == "pulumi:providers:databricks":
            assert not {"token", "password", "clientSecret", "azureClientSecret"} & set(res.inputs)


def test_default_databricks_provider_is_disabled_in_every_stack() -> None:
    from tests.support import stack_raw

    for stack in STACKS:  # the engine reads it from stack config (`pulumi config set --path ...`)
        assert stack_raw(stack)["pulumi:disable-default-providers"] == ["databricks"], stack


def test_mocked_ids_differ_between_stacks() -> None:
    urls = {plan_of(s).outputs["workspaceUrl"] for s in STACKS}
    assert len(urls) == 3
