"""Config validation at its edges (core, naming, identity, deploy runner, loading, error lines).

Each refused case changes ONE key of a checked-in stack file and asserts every problem line it gets, exactly;
each accepted case sits on the other side of the same limit. Per-environment expectations are tables.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import AfterValidator, Field, ValidationError, model_validator

from infra.config import (
    STANDBY_DIR,
    ConfigError,
    StackConfig,
    cross_stack_problems,
    known_stacks,
    read_stack_file,
    sibling_configs,
    standby_stacks,
    validate,
)
from infra.config.base import StrictModel, field_problems, format_validation_error, key_path, show
from infra.config.core import NetworkConfig
from infra.config.deploy import DeployRunnerConfig
from infra.config.egress import classic_egress, vnet_encrypted
from infra.config.identity import AccountGroupsConfig
from infra.config.types import check_emails
from tests.support import DELETE, STACKS, siblings, stack_raw, with_changes

HUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/hub-rg/providers/Microsoft.Network/" \
      "virtualNetworks/hub-vnet"
ACCOUNT_GROUP_IDS = {"dataScientists": "1", "mlEngineers": "2", "devopsEngineers": "3", "modelConsumers": "4",
                     "admins": "5"}


def problems(stack: str, changes: list[tuple[str, Any]], others: dict[str, Any] | None = None) -> list[str]:
    """Every problem line of the stack file with `changes` (siblings: the checked-in stacks unless given)."""
    try:
        validate(stack, with_changes(stack, changes), siblings(stack) if others is None else others)
    except ConfigError as exc:
        return exc.problems
    return []


# (case id, stack, [(key path, value)], every problem line)
REFUSED: list[tuple[str, str, list[tuple[str, Any]], list[str]]] = [
    # tags
    ("tag-key-forbidden-char", "dev", [("tags.extra", {"a/b": "x"})],
     ["dev: tags.extra: {a/b: 'x'} tag key 'a/b' is not allowed (max 512 chars, none of < > % & \\ ? /)"]),
    ("tag-key-513", "dev", [("tags.extra", {"k" * 513: "x"})],
     [f"dev: tags.extra: {{{'k' * 513}: 'x'}} tag key '{'k' * 513}' is not allowed (max 512 chars, none of "
      "< > % & \\ ? /)"]),
    ("tag-value-257", "dev", [("tags.extra", {"team": "v" * 257})],
     [f"dev: tags.extra: {{team: '{'v' * 257}'}} tag 'team' value is longer than 256 characters"]),
    ("owner-empty", "dev", [("tags.owner", "")],
     ["dev: tags.owner: '' is not allowed (string should have at least 1 character)"]),
    ("owner-257", "dev", [("tags.owner", "o" * 257)],
     [f"dev: tags.owner: '{'o' * 257}' is not allowed (string should have at most 256 characters)"]),
    ("cost-center-empty", "dev", [("tags.costCenter", "")],
     ["dev: tags.costCenter: '' is not allowed (string should have at least 1 character)"]),
    ("cidr-hostmask", "dev", [("network.hostSubnetCidr", "10.1.1.0/0.0.0.255")],
     ["dev: network.hostSubnetCidr: '10.1.1.0/0.0.0.255' has host bits set; did you mean '10.1.1.0/24'?"]),
    ("cost-center-257", "dev", [("tags.costCenter", "c" * 257)],
     [f"dev: tags.costCenter: '{'c' * 257}' is not allowed (string should have at most 256 characters)"]),
    # naming
    ("prefix-one-char", "dev", [("naming.prefix", "m")],
     ["dev: naming.prefix: 'm' is not allowed (string should match pattern '^[a-z][a-z0-9-]{1,14}$')"]),
    ("prefix-16-chars", "dev", [("naming.prefix", "m" * 16)],
     [f"dev: naming.prefix: '{'m' * 16}' is not allowed (string should match pattern '^[a-z][a-z0-9-]{{1,14}}$')"]),
    ("managed-rg-is-the-rg", "dev", [("naming.managedResourceGroup", "mlops-dev-rg")],
     ["dev: naming.managedResourceGroup: 'mlops-dev-rg' must differ from naming.resourceGroup (Databricks owns "
      "the managed group)"]),
    ("managed-rg-name", "dev", [("naming.managedResourceGroup", "rg.")],
     ["dev: naming.managedResourceGroup: 'rg.' has characters Azure does not allow; allowed: letters, digits, "
      "- _ . ( ), not ending in '.'"]),
    ("rg-name", "dev", [("naming.resourceGroup", "r" * 91)],
     [f"dev: naming.resourceGroup: '{'r' * 91}' must be 1-90 characters (has 91); allowed: letters, digits, "
      "- _ . ( ), not ending in '.'"]),
    ("vnet-name", "dev", [("naming.virtualNetwork", "-vnet")],
     ["dev: naming.virtualNetwork: '-vnet' has characters Azure does not allow; allowed: letters, digits, - _ ., "
      "starting alphanumeric"]),
    ("dbfs-root-account-charset", "dev", [("naming.dbfsStorageAccount", "Bad_Name")],
     ["dev: naming.dbfsStorageAccount: 'Bad_Name' has characters Azure does not allow; allowed: lowercase letters "
      "and digits only"]),
    ("dbfs-root-account-short", "dev", [("naming.dbfsStorageAccount", "ab")],
     ["dev: naming.dbfsStorageAccount: 'ab' must be 3-24 characters (has 2); allowed: lowercase letters and digits "
      "only"]),
    ("key-vault-name", "dev", [("naming.keyVault", "kv--dev")],
     ["dev: naming.keyVault: 'kv--dev' has characters Azure does not allow; allowed: letters, digits and single "
      "hyphens, starting with a letter"]),
    # network
    ("vnet-ipv6", "dev", [("network.vnetCidr", "fd00::/48")],
     ["dev: network.vnetCidr: 'fd00::/48' is not an IPv4 CIDR; Azure Databricks VNet injection needs IPv4"]),
    ("vnet-slash-7", "dev", [("network.vnetCidr", "10.0.0.0/7")],
     ["dev: network.vnetCidr: '10.0.0.0/7' must be between /8 and /24 (room for two Databricks subnets and a PE "
      "subnet)"]),
    ("vnet-slash-25", "dev", [("network.vnetCidr", "10.1.0.0/25")],
     ["dev: network.vnetCidr: '10.1.0.0/25' must be between /8 and /24 (room for two Databricks subnets and a PE "
      "subnet)"]),
    ("host-subnet-slash-16", "dev", [("network.hostSubnetCidr", "10.1.0.0/16")],
     ["dev: network.hostSubnetCidr: '10.1.0.0/16' must be between /17 and /26 (Azure Databricks subnet sizes)"]),
    ("container-subnet-slash-27", "dev", [("network.containerSubnetCidr", "10.1.2.0/27")],
     ["dev: network.containerSubnetCidr: '10.1.2.0/27' must be between /17 and /26 (Azure Databricks subnet "
      "sizes)"]),
    ("pe-subnet-slash-29", "dev", [("network.privateEndpointSubnetCidr", "10.1.3.0/29")],
     ["dev: network.privateEndpointSubnetCidr: '10.1.3.0/29' must be /28 or larger (private endpoints need "
      "addresses)"]),
    ("pe-subnet-outside", "dev", [("network.privateEndpointSubnetCidr", "10.9.3.0/24")],
     ["dev: network.privateEndpointSubnetCidr: '10.9.3.0/24' is not inside vnetCidr '10.1.0.0/16'"]),
    ("host-overlaps-container", "dev", [("network.containerSubnetCidr", "10.1.1.0/25")],
     ["dev: network.containerSubnetCidr: '10.1.1.0/25' overlaps hostSubnetCidr '10.1.1.0/24'"]),
    ("container-overlaps-pe", "dev", [("network.privateEndpointSubnetCidr", "10.1.2.128/25")],
     ["dev: network.privateEndpointSubnetCidr: '10.1.2.128/25' overlaps containerSubnetCidr '10.1.2.0/24'"]),
    ("subnet-names-differ", "dev", [("network.privateEndpointSubnetName", "public-subnet")],
     ["dev: network.containerSubnetName: 'private-subnet' subnet names must all differ"]),
    ("subnet-name-charset", "dev", [("network.hostSubnetName", "host subnet")],
     ["dev: network.hostSubnetName: 'host subnet' has characters Azure does not allow; allowed: letters, digits, "
      "- _ ., starting alphanumeric"]),
    ("egress-literal", "dev", [("network.egress", "proxy")],
     ["dev: network.egress: 'proxy' is not allowed; allowed: 'natGateway' or 'firewall'"]),
    # identity
    ("application-id", "dev", [("identity.cicdServicePrincipal.applicationId", "databricks-cicd")],
     ["dev: identity.cicdServicePrincipal.applicationId: 'databricks-cicd' is not allowed (string should match "
      "pattern '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')"]),
    ("account-groups-two", "dev", [("identity.accountGroups", {"manage": True, "fromStack": "test"})],
     ["dev: identity.accountGroups.manage: true set exactly one of accountGroups.lookup: true, "
      "accountGroups.manage: true, accountGroups.fromStack or accountGroups.ids; got ['manage', 'fromStack']"]),
    ("account-groups-lookup-and-ids", "test",
     [("identity.accountGroups", {"lookup": True, "ids": ACCOUNT_GROUP_IDS})],
     ["test: identity.accountGroups.manage: false set exactly one of accountGroups.lookup: true, "
      "accountGroups.manage: true, accountGroups.fromStack or accountGroups.ids; got ['lookup', 'ids']"]),
    ("account-group-ids-empty", "test", [("identity.accountGroups", {"ids": {}})],
     ["test: identity.accountGroups.ids: [] lacks dataScientists, mlEngineers, devopsEngineers, modelConsumers, "
      "admins"]),
    ("account-group-id-not-digits", "test",
     [("identity.accountGroups", {"ids": {**ACCOUNT_GROUP_IDS, "admins": "a5"}})],
     ["test: identity.accountGroups.ids.admins: 'a5' is not an account group id (digits)"]),
    ("account-group-ids-unknown-role", "test",
     [("identity.accountGroups", {"ids": {**ACCOUNT_GROUP_IDS, "auditors": "6"}})],
     ["test: identity.accountGroups.ids.auditors: '6' is not a role key; allowed: dataScientists, mlEngineers, "
      "devopsEngineers, modelConsumers, admins"]),
    ("account-group-ids-missing-role", "test",
     [("identity.accountGroups", {"ids": {k: v for k, v in ACCOUNT_GROUP_IDS.items() if k != "mlEngineers"}})],
     ["test: identity.accountGroups.ids: ['admins', 'dataScientists', 'devopsEngineers', 'modelConsumers'] lacks "
      "mlEngineers"]),
    ("extra-role-builtin", "dev", [("identity.extraRoles", {"mlEngineers": "ml"})],
     ["dev: identity.extraRoles.mlEngineers: 'ml' needs a new camelCase role key (not a built-in role)"]),
    ("extra-role-admins", "dev", [("identity.extraRoles", {"admins": "ml"})],
     ["dev: identity.extraRoles.admins: 'ml' needs a new camelCase role key (not a built-in role)"]),
    ("extra-role-cicd", "dev", [("identity.extraRoles", {"cicdServicePrincipal": "ml"})],
     ["dev: identity.extraRoles.cicdServicePrincipal: 'ml' needs a new camelCase role key (not a built-in role)"]),
    ("extra-role-key-case", "dev", [("identity.extraRoles", {"Auditors": "mlops-auditors"})],
     ["dev: identity.extraRoles.Auditors: 'mlops-auditors' needs a new camelCase role key (not a built-in role)"]),
    ("extra-role-user", "dev", [("identity.extraRoles", {"auditors": "jane@example.com"})],
     ["dev: identity.extraRoles.auditors: 'jane@example.com' is not an account group name (roles map to groups, "
      "never to individuals)"]),
    ("extra-role-group-pattern", "dev", [("identity.extraRoles", {"auditors": "_auditors"})],
     ["dev: identity.extraRoles.auditors: '_auditors' is not an account group name (roles map to groups, never "
      "to individuals)"]),
    # deploy runner
    # a second gate on a private front end: the runner comes over Private Link, which lists never filter
    ("ip-list-on-a-private-front-end-needs-no-egress", "prod", [("workspaceSecurity.ipAccessList", ["203.0.113.0/24"])],
     []),
    ("hub-vnet-not-an-id", "prod", [("deploy.runner.hubVnetId", "mlops-hub-vnet")],
     ["prod: deploy.runner.hubVnetId: 'mlops-hub-vnet' must be a virtual network's ARM id: /subscriptions/<uuid>/"
      "resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<name>"]),
    ("private-front-end-needs-hub", "prod", [("deploy.runner.hubVnetId", DELETE)],
     ["prod: deploy.runner.hubVnetId: null is required when workspace.publicNetworkAccess is 'Disabled': a private "
      "front end is reachable only from a network peered with this VNet (the deploy runner's hub VNet)",
      "prod: network.egress: 'firewall' needs deploy.runner.hubVnetId: the firewall is the hub's, reached over the "
      "peering; allowed without a hub: 'natGateway'"]),
    ("public-front-end-needs-egress", "dev", [("deploy.runner.egressCidrs", [])],
     ["dev: deploy.runner.egressCidrs: [] is required with workspaceSecurity.ipAccessList: list the deploy "
      "runner's public egress, or the workspace refuses the deploy's own calls once the list exists"]),
    ("egress-not-a-cidr", "dev", [("deploy.runner.egressCidrs", ["203.0.113.10/33"])],
     ["dev: deploy.runner.egressCidrs: ['203.0.113.10/33'] has '203.0.113.10/33', which is not an IPv4 CIDR such "
      "as '203.0.113.10/32'"]),
    ("egress-host-bits", "dev", [("deploy.runner.egressCidrs", ["203.0.113.10/24"])],
     ["dev: deploy.runner.egressCidrs: ['203.0.113.10/24'] has '203.0.113.10/24', which is not an IPv4 CIDR such "
      "as '203.0.113.10/32'"]),
    ("egress-ipv6", "dev", [("deploy.runner.egressCidrs", ["2001:db8::/32"])],
     ["dev: deploy.runner.egressCidrs: ['2001:db8::/32'] has '2001:db8::/32'; a runner's egress is a public IPv4 "
      "range (private ranges never reach a public front end)"]),
    # loading: namespaces
    ("key-without-namespace", "dev", [("__raw__", ("network", {}))],
     ["dev: network: config key without a namespace; use 'mlops-platform:network'"]),
]

# Ranges that never reach a public front end, each refused as a runner's egress (on both sides of its edge).
PRIVATE_EGRESS = ["10.0.0.0/8", "10.255.255.255/32", "172.16.0.0/12", "172.31.0.1/32", "192.168.0.0/16",
                  "127.0.0.1/32", "169.254.1.1/32", "100.64.0.0/10", "100.127.255.255/32"]
REFUSED += [(f"egress-private-{cidr}", "dev", [("deploy.runner.egressCidrs", [cidr])],
             [f"dev: deploy.runner.egressCidrs: ['{cidr}'] has '{cidr}'; a runner's egress is a public IPv4 range "
              "(private ranges never reach a public front end)"]) for cidr in PRIVATE_EGRESS]


@pytest.mark.parametrize(("stack", "changes", "expected"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_with_exactly_these_lines(stack: str, changes: list[tuple[str, Any]], expected: list[str]) -> None:
    assert problems(stack, changes) == expected


# (case id, stack, [(key path, value)]): the accepted side of the limits above
ACCEPTED: list[tuple[str, str, list[tuple[str, Any]]]] = [
    ("tag-key-512-value-256", "dev", [("tags.extra", {"k" * 512: "v" * 256})]),
    ("owner-256", "dev", [("tags.owner", "o" * 256)]),
    ("cost-center-one-char", "dev", [("tags.costCenter", "c")]),
    ("short-tag", "dev", [("tags.extra", {"team": "ml"})]),
    ("prefix-two-chars", "dev", [("naming.prefix", "ml")]),
    ("prefix-15-chars", "dev", [("naming.prefix", "m" * 15)]),
    ("dbfs-root-account", "dev", [("naming.dbfsStorageAccount", "dbstorageabc123")]),
    ("dbfs-root-account-null", "dev", [("naming.dbfsStorageAccount", None)]),
    ("pe-subnet-slash-28", "dev", [("network.privateEndpointSubnetCidr", "10.1.3.0/28")]),
    ("host-subnet-slash-26", "dev", [("network.hostSubnetCidr", "10.1.1.0/26")]),
    ("host-subnet-slash-17", "dev", [("network.hostSubnetCidr", "10.1.128.0/17")]),
    ("public-front-end-with-all-rules", "dev", [("workspace.requiredNsgRules", "AllRules")]),
    ("egress-public", "dev", [("deploy.runner.egressCidrs", ["172.32.0.1/32", "100.128.0.0/16", "11.0.0.0/8"])]),
    ("hub-vnet-for-a-public-front-end", "dev", [("deploy.runner.hubVnetId", HUB)]),
    ("account-group-ids", "test", [("identity.accountGroups", {"ids": ACCOUNT_GROUP_IDS})]),
    # no source given (or only false ones): the groups are looked up by name
    ("account-groups-manage-false", "dev", [("identity.accountGroups", {"manage": False})]),
    ("account-groups-lookup", "dev", [("identity.accountGroups", {"lookup": True})]),
    ("extra-role", "dev", [("identity.extraRoles", {"auditors": "mlops auditors"})]),
]


@pytest.mark.parametrize(("stack", "changes"), [c[1:] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_accepted_on_the_other_side(stack: str, changes: list[tuple[str, Any]]) -> None:
    assert problems(stack, changes) == []


@pytest.mark.parametrize(("vnet", "host", "container", "pe"), [
    ("10.0.0.0/8", "10.1.0.0/17", "10.2.0.0/17", "10.3.0.0/16"),
    ("10.1.0.0/24", "10.1.0.0/26", "10.1.0.64/26", "10.1.0.128/28"),
])
def test_the_smallest_and_largest_vnets_hold_the_layout(vnet: str, host: str, container: str, pe: str) -> None:
    net = NetworkConfig.model_validate({"vnetCidr": vnet, "hostSubnetCidr": host, "containerSubnetCidr": container,
                                        "privateEndpointSubnetCidr": pe})
    assert (net.vnet_cidr, net.private_endpoint_subnet_cidr) == (vnet, pe)


def test_host_and_pe_subnets_overlapping_name_the_later_key() -> None:
    assert problems("dev", [("network.privateEndpointSubnetCidr", "10.1.1.0/28")]) == [
        "dev: network.privateEndpointSubnetCidr: '10.1.1.0/28' overlaps hostSubnetCidr '10.1.1.0/24'"]


# --- names: defaults and overrides --------------------------------------------------------------------

@pytest.mark.parametrize(("key", "path"), [
    ("resourceGroup", "naming.resourceGroup"), ("managedResourceGroup", "naming.managedResourceGroup"),
    ("workspace", "naming.workspace"), ("virtualNetwork", "naming.virtualNetwork"),
    ("storageAccount", "naming.storageAccount"), ("keyVault", "naming.keyVault"),
])
def test_each_name_can_be_overridden(key: str, path: str) -> None:
    override = {"storageAccount": "mlopsdevlakeoverride", "keyVault": "mlops-dev-kv-x"}.get(key, f"mlops-dev-{key}-x")
    config = validate("dev", with_changes("dev", [(path, override)]), {})
    default = validate("dev", stack_raw("dev"), {}).names
    attribute = re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()  # naming.* keys are the Names fields, camelCase
    assert config.names == dataclasses.replace(default, **{attribute: override})


@pytest.mark.parametrize(("stack", "rg", "managed", "workspace"), [
    ("dev", "mlops-dev-rg", "mlops-dev-workspace-managed-rg", "mlops-dev-workspace"),
    ("test", "mlops-test-rg", "mlops-test-workspace-managed-rg", "mlops-test-workspace"),
    ("prod", "mlops-prod-rg", "mlops-prod-workspace-managed-rg", "mlops-prod-workspace"),
])
def test_default_names_per_environment(stack: str, rg: str, managed: str, workspace: str) -> None:
    config = validate(stack, stack_raw(stack), siblings(stack))
    names = config.names
    assert (names.resource_group, names.managed_resource_group, names.workspace) == (rg, managed, workspace)
    assert config.is_prod is (stack == "prod")
    assert config.resource_tags["environment"] == stack
    assert config.resource_tags["costCenter"] == f"cc-ml-{stack}"


# --- across stacks ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "value", "line"), [
    ("naming.resourceGroup", "mlops-prod-rg",
     "test: naming.resourceGroup: 'mlops-prod-rg' is also stack prod's resource group; each environment needs its "
     "own"),
    ("naming.storageAccount", "mlopsshared",
     "test: naming.storageAccount: 'mlopsshared' is also stack prod's storageAccount; a storage account name is "
     "globally unique in Azure"),
    ("naming.dbfsStorageAccount", "mlopsshareddbfs",
     "test: naming.dbfsStorageAccount: 'mlopsshareddbfs' is also stack prod's dbfsStorageAccount; a storage "
     "account name is globally unique in Azure"),
    ("naming.keyVault", "mlops-shared-kv",
     "test: naming.keyVault: 'mlops-shared-kv' is also stack prod's keyVault; a key vault name is globally unique "
     "in Azure"),
])
def test_names_shared_with_another_stack(key: str, value: str, line: str) -> None:
    others = {"prod": with_changes("prod", [(key, value)])}
    assert problems("test", [(key, value)], others) == [line]


def test_a_lake_name_that_is_another_stacks_dbfs_root_is_shared_too() -> None:
    """The lake and the DBFS root share one namespace: a clash across the two keys counts, both ways."""
    others = {"prod": with_changes("prod", [("naming.dbfsStorageAccount", "mlopsshared")])}
    assert problems("test", [("naming.storageAccount", "mlopsshared")], others) == [
        "test: naming.storageAccount: 'mlopsshared' is also stack prod's dbfsStorageAccount; a storage account name "
        "is globally unique in Azure"]
    others = {"prod": with_changes("prod", [("naming.storageAccount", "mlopsshared")])}
    assert problems("test", [("naming.dbfsStorageAccount", "mlopsshared")], others) == [
        "test: naming.dbfsStorageAccount: 'mlopsshared' is also stack prod's storageAccount; a storage account name "
        "is globally unique in Azure"]


def test_a_sibling_that_does_not_validate_is_left_to_its_own_plan() -> None:
    broken = with_changes("prod", [("network.vnetCidr", "10.2.0.0/16"), ("compute", DELETE)])
    assert problems("test", [], {"prod": broken}) == []
    unknown_namespace = with_changes("prod", [("network.vnetCidr", "10.2.0.0/16"), ("__raw__", ("x:y", 1))])
    assert problems("test", [], {"prod": unknown_namespace}) == []


def test_a_stack_is_not_its_own_sibling() -> None:
    assert problems("test", [], {"test": stack_raw("test")}) == []
    config = validate("test", stack_raw("test"), {})
    assert cross_stack_problems("test", config, {"test": stack_raw("test")}) == []


def test_vnets_of_two_stacks_overlapping_is_reported_for_each_sibling() -> None:
    others = {"dev": stack_raw("dev"), "prod": stack_raw("prod")}
    got = problems("test", [("network.vnetCidr", "10.0.0.0/14"), ("network.hostSubnetCidr", "10.2.1.0/24"),
                            ("network.containerSubnetCidr", "10.2.2.0/24"),
                            ("network.privateEndpointSubnetCidr", "10.2.3.0/24")], others)
    assert got == ["test: network.vnetCidr: '10.0.0.0/14' overlaps stack dev's vnetCidr '10.1.0.0/16'; VNets must "
                   "not overlap",
                   "test: network.vnetCidr: '10.0.0.0/14' overlaps stack prod's vnetCidr '10.0.0.0/16'; VNets must "
                   "not overlap"]


# --- reading stack files ----------------------------------------------------------------------------

def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / f"Pulumi.{name}.yaml").write_text(text)
    return tmp_path


@pytest.mark.parametrize(("text", "line"), [
    ("config: [1, 2]\n", "qa: Pulumi.qa.yaml: must be a mapping with a 'config:' mapping"),
    ("- a\n", "qa: Pulumi.qa.yaml: must be a mapping with a 'config:' mapping"),
    ("config:\n", "qa: Pulumi.qa.yaml: must be a mapping with a 'config:' mapping"),
    ("config:\n  a: [1\n", "qa: Pulumi.qa.yaml: line 3, column 1: not valid YAML (did not find expected ',' or ']')"),
    ("config:\n\ta: 1\n", "qa: Pulumi.qa.yaml: line 2, column 1: not valid YAML (found character that cannot start "
                          "any token)"),
    ("config:\n  a: b: c\n", "qa: Pulumi.qa.yaml: line 2, column 7: not valid YAML (mapping values are not allowed "
                             "in this context)"),
    ("config:\n a: 1\n  b: 2\n", "qa: Pulumi.qa.yaml: line 3, column 4: not valid YAML (mapping values are not "
                                 "allowed in this context)"),
])
def test_unreadable_stack_files_are_one_line(tmp_path: Path, text: str, line: str) -> None:
    with pytest.raises(ConfigError) as info:
        read_stack_file("qa", _project(tmp_path, {"qa": text}))
    assert info.value.problems == [line]


@pytest.mark.parametrize(("text", "where", "code"), [
    ("config:\n  a: \x07\n", "line 2, column 6", "0007"),
    ("\x7fconfig:\n", "line 1, column 1", "007f"),
    ("config:\n  a: \u00e9t\u00e9\n  b: x\x00\n", "line 3, column 7", "0000"),  # characters, not UTF-8 bytes
    ("config:\n  a: \x85\x1b\n", "line 2, column 7", "001b"),  # NEL is a YAML line break, not a line here
], ids=["bell", "delete-first", "nul-after-accents", "escape-after-nel"])
def test_a_control_character_is_one_line_with_its_position(tmp_path: Path, text: str, where: str, code: str) -> None:
    """The YAML reader's own message spans two lines ('...not allowed\\n  in "<unicode string>", position 13')
    and came out as a two-line problem; every problem is one line, and this one says where the character is."""
    with pytest.raises(ConfigError) as info:
        read_stack_file("qa", _project(tmp_path, {"qa": text}))
    assert info.value.problems == [f"qa: Pulumi.qa.yaml: {where}: not valid YAML (unacceptable character #x{code}: "
                                   "control and other non-printable characters are not allowed)"]


def test_keys_with_line_breaks_stay_on_one_line(tmp_path: Path) -> None:
    """A quoted key may hold any character ("a\\nb"): its problem line shows it escaped, never broken in two."""
    text = 'config:\n  "a\\nb": 1\n  mlops-platform:network:\n    "vnet\\rCidr": 1\n'
    raw = read_stack_file("qa", _project(tmp_path, {"qa": text}))
    with pytest.raises(ConfigError) as info:
        validate("qa", raw, {})
    problems = info.value.problems
    assert problems[0] == "qa: a\\nb: config key without a namespace; use 'mlops-platform:a\\nb'"
    assert ("qa: network.vnet\\rCidr: unknown key (a typo?); see the configuration reference in "
            "docs/configuration.md") in problems
    assert all(len(p.splitlines()) == 1 for p in problems)
    assert ConfigError(["x\u2028y\tz"]).problems == ["x\\u2028y\\tz"]


def test_yaml_1_1_oddities_stay_strings_as_pulumi_reads_them(tmp_path: Path) -> None:
    """Pulumi reads stack files as YAML 1.2: an unquoted date is a string, and so is a bare `=` (PyYAML's YAML
    1.1 value key, which its safe loader could not construct: the file was refused as not valid YAML)."""
    text = "config:\n  a:when: 2026-12-01\n  a:at: 2026-12-01T10:00:00Z\n  a:eq: =\n  a:n: 1\n  a:b: true\n"
    assert read_stack_file("qa", _project(tmp_path, {"qa": text})) == {
        "a:when": "2026-12-01", "a:at": "2026-12-01T10:00:00Z", "a:eq": "=", "a:n": 1, "a:b": True}


@pytest.mark.parametrize("key", ["[a, b]", "{a: 1}"])
def test_a_list_or_mapping_as_a_key_is_one_line(tmp_path: Path, key: str) -> None:
    """The duplicate-key check hashed every key: a list or mapping as a key ended in a TypeError traceback."""
    with pytest.raises(ConfigError) as info:
        read_stack_file("qa", _project(tmp_path, {"qa": f"config:\n  x:y: 1\n  ? {key}\n  : 1\n"}))
    assert info.value.problems == ["qa: Pulumi.qa.yaml: line 3, column 5: not valid YAML (found unhashable key)"]


@pytest.mark.parametrize(("text", "line", "key"), [
    ("a: 1\na: 2\nconfig: {}\n", 2, "a"),
    ("config:\n  a:b: 1\n  a:b: 2\n", 3, "a:b"),
    ("config:\n  a:b: 1\n  f:0: 1\n  a:b: 2\n", 4, "a:b"),
    ("config:\n  a:b: 1\n  f:0: 1\n  f:1: 1\n  a:b: 2\n", 5, "a:b"),
])
def test_a_duplicate_key_names_the_line_of_its_second_use(tmp_path: Path, text: str, line: int, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        read_stack_file("qa", _project(tmp_path, {"qa": text}))
    assert info.value.problems == [f"qa: Pulumi.qa.yaml: line {line}: key {key!r} appears twice in the same mapping "
                                   "(YAML would keep the last one silently); keep one"]


# --- secrets ---------------------------------------------------------------------------------------

WEBHOOK = "mlops-platform:alertWebhookUrl"
CIPHERTEXT = "v1:AAAAAAAAAAAAAAAA:c2VjcmV0LXVybC1jaXBoZXJ0ZXh0"
HOW = "set it with: pulumi config set --secret alertWebhookUrl <value>"
PLAIN = f"dev: alertWebhookUrl: is in plain text in the stack file (value not shown); a secret must be encrypted: {HOW}"
NOT_CIPHERTEXT = f"dev: alertWebhookUrl: the secure: value is not Pulumi ciphertext (v1:<nonce>:<data>); {HOW}"


@pytest.mark.parametrize(("value", "secret_keys", "expected"), [
    ({"secure": CIPHERTEXT}, None, []),
    ({"secure": CIPHERTEXT[:-1] + "="}, None, []),
    ({"secure": "v1:abc"}, None, [NOT_CIPHERTEXT]),
    ({"secure": 7}, None, [NOT_CIPHERTEXT]),
    ({"secure": CIPHERTEXT, "note": "x"}, None, [PLAIN]),  # a mapping with more than secure: is no secure value
    ({}, None, [PLAIN]),
    (["secure"], None, [PLAIN]),
    ("[secret]", None, []),  # what the offline engine hands over for a secure: value
    ("https://hooks.example.com/x", None, [PLAIN]),
    ("HTTPS://hooks.example.com/x", None, [PLAIN]),  # sorts before the offline mask
    ("https://hooks.example.com/x", {WEBHOOK}, []),  # the real engine decrypted it and says it is secret
    ("https://hooks.example.com/x", {"mlops-platform:other"}, [PLAIN]),
    ("https://hooks.example.com/x", set(), [PLAIN]),
], ids=["ciphertext", "ciphertext-padded", "short", "number", "more-keys", "empty-mapping", "list", "offline-mask",
        "plain", "plain-upper", "engine-secret", "other-key-secret", "no-secret-keys"])
def test_a_secret_is_ciphertext_or_the_engines_secret(value: Any, secret_keys: set[str] | None,
                                                      expected: list[str]) -> None:
    raw = with_changes("dev", [("serving.notifications.webhook", "slack")])
    raw[WEBHOOK] = value
    try:
        config = validate("dev", raw, {}, secret_keys=secret_keys)
    except ConfigError as exc:
        assert exc.problems == expected
    else:
        assert expected == [] and config.alert_webhook_url is not None
        shown_value = config.alert_webhook_url.get_secret_value()
        assert shown_value == (value if secret_keys else "[secret]")


def test_the_secret_keys_and_no_secret_at_all() -> None:
    from infra.config import secret_fields

    assert secret_fields() == ["alertWebhookUrl"]
    assert validate("dev", stack_raw("dev"), {}).alert_webhook_url is None


def test_the_engines_config_values_are_decoded() -> None:
    """Structured values arrive from the engine as JSON strings; plain strings stay strings."""
    import contextvars

    from pulumi.runtime.config import set_all_config

    from infra.config import from_pulumi_runtime

    def run() -> dict[str, Any]:
        set_all_config({"mlops-platform:network": '{"a": 1}', "x:y": "[1, 2]", "p:q": "plain", "b:j": "{oops",
                        "e:e": "", "n:n": "42"})
        return from_pulumi_runtime()

    assert contextvars.copy_context().run(run) == {"mlops-platform:network": {"a": 1}, "x:y": [1, 2], "p:q": "plain",
                                                   "b:j": "{oops", "e:e": "", "n:n": "42"}


def test_a_stack_and_a_broken_sibling_do_not_hide_the_next_sibling() -> None:
    clash = with_changes("test", [("naming.resourceGroup", "mlops-dev-rg")])
    broken = with_changes("prod", [("compute", DELETE)])
    expected = ["dev: naming.resourceGroup: 'mlops-dev-rg' is also stack test's resource group; each environment "
                "needs its own"]
    assert problems("dev", [], {"dev": stack_raw("dev"), "test": clash}) == expected
    assert problems("dev", [], {"a-broken": broken, "test": clash}) == expected


def test_a_missing_stack_file_names_the_known_stacks(tmp_path: Path) -> None:
    project = _project(tmp_path, {"a": "config: {}\n", "b": "config:\n  x:y: 1\n"})
    with pytest.raises(ConfigError) as info:
        read_stack_file("c", project)
    assert info.value.problems == [f"c: Pulumi.c.yaml: stack file not found in {project} (create it, or pick a "
                                   "stack from: a, b)"]
    assert known_stacks(project) == ["a", "b"]
    assert read_stack_file("a", project) == {}
    assert read_stack_file("b", project) == {"x:y": 1}
    _project(tmp_path, {"d": ""})
    assert read_stack_file("d", project) == {}


def test_a_standby_stack_file_is_read_from_infra_standby_and_a_top_level_file_wins(tmp_path: Path) -> None:
    project = _project(tmp_path, {"a": "config: {}\n"})
    (project / STANDBY_DIR).mkdir(parents=True)
    (project / STANDBY_DIR / "Pulumi.a-dr.yaml").write_text("config:\n  x:y: standby\n")
    (project / STANDBY_DIR / "Pulumi.a.yaml").write_text("config:\n  x:y: shadowed\n")
    assert read_stack_file("a-dr", project) == {"x:y": "standby"}
    assert read_stack_file("a", project) == {}
    assert (known_stacks(project), standby_stacks(project)) == (["a"], ["a", "a-dr"])
    with pytest.raises(ConfigError) as info:
        read_stack_file("c", project)
    assert info.value.problems == [f"c: Pulumi.c.yaml: stack file not found in {project} (create it, or pick a "
                                   "stack from: a, a-dr)"]


def test_siblings_are_the_other_readable_stack_files(tmp_path: Path) -> None:
    project = _project(tmp_path, {"a": "config:\n  k:v: 1\n", "b": "config: [\n", "c": "config:\n  k:v: 3\n"})
    assert sibling_configs("a", project) == {"c": {"k:v": 3}}


def test_foreign_namespaces_are_allowed_and_a_config_error_declares_nothing() -> None:
    raw = {**stack_raw("dev"), "databricks:host": "x", "pulumi:tags": {}, "azure-native:location": "eastus2"}
    assert validate("dev", raw, {}).environment == "dev"
    error = ConfigError(["a", "b"])
    assert (str(error), error.declared) == ("a\nb", 0)


@pytest.mark.parametrize("stack", STACKS)
def test_checked_in_stacks_have_siblings_and_validate_against_them(stack: str) -> None:
    assert sorted(sibling_configs(stack)) == sorted(set(STACKS) - {stack})
    assert isinstance(validate(stack, stack_raw(stack), siblings(stack)), StackConfig)


@pytest.mark.parametrize("group", ["jane@example.com", "-ds", "d" * 129])
def test_group_names_are_account_group_display_names(group: str) -> None:
    """A user's e-mail is no group name: the name pattern refuses it (as it refuses a leading '-' or 129 chars).

    The line shows the pattern exactly as the code has it: the formatter used to lower-case pydantic's whole
    message, pattern included, so '[A-Za-z0-9]' was shown as '[a-za-z0-9]', a pattern that refuses upper case."""
    assert problems("dev", [("identity.groups.dataScientists", group)]) == [
        f"dev: identity.groups.dataScientists: {group!r} is not allowed (string should match pattern "
        "'^[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}$')"]
    assert problems("dev", [("identity.groups.dataScientists", "d" * 128)]) == []


# --- the config models on their own ---------------------------------------------------------------

def test_the_runner_names_its_hub() -> None:
    runner = DeployRunnerConfig(hub_vnet_id=HUB)
    assert (runner.hub_resource_group, runner.hub_vnet_name) == ("hub-rg", "hub-vnet")
    assert (DeployRunnerConfig().hub_resource_group, DeployRunnerConfig().hub_vnet_name) == (None, None)


def test_account_group_sources() -> None:
    """Ids are one source; no source (or an empty mapping, a false flag) means look the groups up by name."""
    only_ids = AccountGroupsConfig(ids={"admins": "123"})
    assert (only_ids.ids, only_ids.lookup) == ({"admins": "123"}, False)
    for given in ({}, {"ids": {}}, {"manage": False}, {"fromStack": None}):
        groups = AccountGroupsConfig.model_validate(given)
        assert (groups.lookup, groups.manage, groups.from_stack) == (True, False, None), given
    assert AccountGroupsConfig.model_validate({"from_stack": "prod"}).lookup is False
    with pytest.raises(ValidationError):
        AccountGroupsConfig(ids={"admins": "a1"})


# --- the error lines --------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "shown"), [
    ("a", "'a'"), (True, "true"), (False, "false"), (None, "null"), (3, "3"), ([1, "a"], "[1, 'a']"),
    ({"a": 1, "b": True}, "{a: 1, b: true}"), ({str(i): i for i in range(6)}, "{0: 0, 1: 1, 2: 2, 3: 3}"),
])
def test_values_are_shown_as_written_in_yaml(value: Any, shown: str) -> None:
    assert show(value) == shown


def test_key_paths() -> None:
    assert key_path(("network", "subnets", 0, "cidr")) == "network.subnets[0].cidr"
    assert key_path((0, "a")) == "[0].a"
    assert key_path(()) == ""


@pytest.mark.parametrize(("address", "ok"), [("a.b+c@example.co", True), ("a@b.c", False), ("a@example", False),
                                             ("a b@example.com", False), ("@example.com", False)])
def test_email_addresses(address: str, ok: bool) -> None:
    if ok:
        assert check_emails([address]) == [address]
    else:
        with pytest.raises(ValueError, match=f"has {address!r}, which is not an e-mail address"):
            check_emails(["ok@example.com", address])


@pytest.mark.parametrize(("value", "line"), [
    ("x", "s: compute.minWorkers: 'x' is not a whole number"),
    (1.5, "s: compute.minWorkers: 1.5 is not a whole number"),
    ([1], "s: compute.minWorkers: [1] is not a whole number"),
    (-1, "s: compute.minWorkers: -1 is out of range (input should be greater than or equal to 0)"),
])
def test_type_and_range_errors_in_words(value: Any, line: str) -> None:
    raw = {k.split(":", 1)[1]: v for k, v in with_changes("dev", [("compute.minWorkers", value)]).items()
           if k.startswith("mlops-platform:")}
    with pytest.raises(ValidationError) as info:
        StackConfig.model_validate(raw)
    assert format_validation_error("s", info.value) == [line]


@pytest.mark.parametrize(("path", "value", "line"), [
    ("compute.photon", "maybe", "dev: compute.photon: 'maybe' is not true or false"),
    ("compute.maxDbusPerHour", "lots", "dev: compute.maxDbusPerHour: 'lots' is not a number"),
    ("compute.sparkConf", [], "dev: compute.sparkConf: [] is not a mapping"),
    ("compute.users", "mlEngineers", "dev: compute.users: 'mlEngineers' is not a list"),
    ("compute.instancePool", 3, "dev: compute.instancePool: 3 is not a mapping"),
    ("network.vnetCidr", None, "dev: network.vnetCidr: null is not a string"),
    ("cost.budget.startDate", "soon", "dev: cost.budget.startDate: 'soon' is not allowed (Input should be a valid "
                                      "date or datetime, input is too short)"),
])
def test_every_kind_of_pydantic_error_becomes_one_line(path: str, value: Any, line: str) -> None:
    assert problems("dev", [(path, value)]) == [line]


def test_a_whole_model_problem_without_a_path() -> None:
    class Sample(StackConfig.__base__):  # type: ignore[misc,name-defined]
        a: int = 0

        def model_post_init(self, _context: Any) -> None:
            raise ValueError("the whole thing is wrong")

    with pytest.raises(ValidationError) as info:
        Sample.model_validate({})
    assert format_validation_error("s", info.value) == ["s: the whole thing is wrong"]


def test_identity_naming_and_deploy_defaults() -> None:
    """What a stack gets for the keys it leaves out: the seed's group names and names, one deploy (not first)."""
    minimal = with_changes("dev", [("identity", {
        "cicdServicePrincipal": {"applicationId": "5a1c2e3d-4b5f-4a6b-8c7d-9e0f1a2b3c4d"},
        "deployer": {"applicationId": "1d2c3b4a-5f6e-4d7c-8b9a-0f1e2d3c4b5a"}}), ("naming", DELETE)])
    config = validate("dev", minimal, {})
    assert config.identity.group_names() == {
        "dataScientists": "mlops-data-scientists", "mlEngineers": "mlops-ml-engineers",
        "devopsEngineers": "mlops-devops-engineers", "modelConsumers": "mlops-model-consumers",
        "admins": "mlops-platform-admins"}
    assert config.identity.cicd_service_principal.display_name == "databricks-cicd"
    groups = config.identity.account_groups
    assert (groups.lookup, groups.manage, groups.from_stack, groups.ids, config.identity.extra_roles) == (
        True, False, None, None, {})
    assert config.naming.prefix == "mlops" and config.tags.project == "mlops-platform"
    assert (config.network.host_subnet_name, config.network.container_subnet_name,
            config.network.private_endpoint_subnet_name, classic_egress(config), vnet_encrypted(config)) == (
        "public-subnet", "private-subnet", "pe-subnet", "natGateway", False)
    assert config.deploy.first_deploy is False and config.as_deployed() is config
    assert config.location == "eastus2" and config.databricks.auth_type is None
    workspace = validate("prod", with_changes("prod", [("workspace", DELETE)]), {}).workspace
    assert (workspace.sku, workspace.enable_no_public_ip, workspace.public_network_access,
            workspace.required_nsg_rules) == ("premium", True, "Disabled", "NoAzureDatabricksRules")


@pytest.mark.parametrize(("stack", "dbfs_root"), [("prod", "prepare"), ("dev", "off")])
def test_a_first_deploy_leaves_out_what_cannot_exist_yet(stack: str, dbfs_root: str) -> None:
    config = validate(stack, with_changes(stack, [("deploy.firstDeploy", True)]), {})
    deployed = config.as_deployed()
    assert deployed.encryption.dbfs_root == dbfs_root
    assert deployed.serving is not None and config.serving is not None
    assert [(e.model_registered, e.monitor.table_exists if e.monitor else None) for e in deployed.serving.endpoints] \
        == [(False, False if e.monitor else None) for e in config.serving.endpoints]
    assert any(e.model_registered for e in config.serving.endpoints)  # the stack file itself is unchanged


def test_a_first_deploy_without_serving() -> None:
    config = validate("prod", with_changes("prod", [("deploy.firstDeploy", True), ("serving", DELETE),
                                                    ("governance.featureMonitors", DELETE),
                                                    ("encryption.dbfsRoot", "prepare")]), {})
    deployed = config.as_deployed()
    assert deployed.serving is None and deployed.encryption.dbfs_root == "prepare"


def _even(v: int) -> int:
    if v % 2:
        raise ValueError("is odd")
    return v


class Alpha(StrictModel):
    x: int


class Beta(StrictModel):
    y: str


class Union(StrictModel):
    u: Alpha | Beta | None = None
    v: Annotated[int, AfterValidator(_even)] | list[int] = 0


@pytest.mark.parametrize(("data", "lines"), [
    ({"u": {"x": "a"}}, ["s: u.x: 'a' is not a whole number", "s: u.y: required key is missing",
                         "s: u.x: unknown key (a typo?); see the configuration reference in docs/configuration.md"]),
    ({"v": 3}, ["s: v: 3 is odd", "s: v.list[int]: 3 is not a list"]),
])
def test_union_members_and_validators_do_not_show_in_key_paths(data: dict[str, Any], lines: list[str]) -> None:
    """A union's member models (capitalised) and function validators are pydantic's, not keys of the file."""
    with pytest.raises(ValidationError) as info:
        Union.model_validate(data)
    assert format_validation_error("s", info.value) == lines
    assert format_validation_error("s", info.value, prefix=("top",))[0].startswith("s: top.")


class Marked(StrictModel):
    c: int = 0

    @model_validator(mode="after")
    def _two(self) -> Marked:
        raise field_problems([("c", 1, "is bad"), ("d", 2, "is worse")])


class Lit(StrictModel):
    a: Literal["x"] = "x"


class Num(StrictModel):
    b: int = 0


class Bounded(StrictModel):
    n: int = Field(default=0, ge=0)
    s: str = Field(default="", max_length=1)


class Every(StrictModel):
    p: Marked = Marked.model_construct()
    q: Lit = Lit()
    r: Num = Num()
    s: Lit = Lit()
    t: Num = Num()
    u: Bounded = Bounded()
    w: Num = Num()


def test_every_error_is_reported_whatever_kind_comes_first() -> None:
    with pytest.raises(ValidationError) as info:
        Every.model_validate({"p": {}, "q": {"a": "y"}, "r": {"b": "z"}, "s": {"zz": 1}, "t": {"b": []},
                              "u": {"n": -1, "s": "ab"}, "w": {"b": "c"}})
    assert format_validation_error("s", info.value) == [
        "s: p.c: 1 is bad", "s: p.d: 2 is worse", "s: q.a: 'y' is not allowed; allowed: 'x'",
        "s: r.b: 'z' is not a whole number", "s: s.zz: unknown key (a typo?); see the configuration reference in "
        "docs/configuration.md", "s: t.b: [] is not a whole number",
        "s: u.n: -1 is out of range (input should be greater than or equal to 0)",
        "s: u.s: 'ab' is not allowed (string should have at most 1 character)", "s: w.b: 'c' is not a whole number"]


def test_config_values_are_immutable() -> None:
    config = validate("dev", stack_raw("dev"), {})
    with pytest.raises(ValidationError, match="frozen"):
        config.network.vnet_cidr = "10.9.0.0/16"  # type: ignore[misc]


@pytest.mark.parametrize(("stack", "changes", "line"), [
    ("prod", [("unityCatalog.metastore", {"fromStack": "prod"})],
     "prod: unityCatalog.metastore.fromStack: 'prod' names this stack; use metastore.create: true here instead"),
    ("dev", [("serving.notifications.webhook", "slack")],
     "dev: serving.notifications.webhook: 'slack' needs the webhook URL as a secret; run: pulumi config set --secret "
     "alertWebhookUrl <url>"),
])
def test_the_stack_runs_every_areas_cross_field_rules(stack: str, changes: list[tuple[str, Any]], line: str) -> None:
    assert problems(stack, changes) == [line]


# --- problem lines: the key joiner, the cut-short allowed list and the line limit -----------------------------

def test_a_nested_problem_key_joins_an_index_without_a_dot_and_a_name_with_one() -> None:
    from infra.config.base import _join_key

    assert _join_key("compute.runtimeVersions", "[1]") == "compute.runtimeVersions[1]"
    assert _join_key("compute", "runtimeVersions") == "compute.runtimeVersions"
    assert _join_key("", "[0]") == "[0]"


def test_a_long_allowed_list_keeps_its_first_three_values_and_says_how_many() -> None:
    from infra.config.base import _short_allowed

    expected = "'a1', 'b2', 'c3', 'd4' or 'e5'"
    assert _short_allowed(expected, len(expected) + 1) == expected          # fits: kept whole
    assert _short_allowed(expected, len(expected)) == \
        "'a1', 'b2', 'c3', ... (5 values; see docs/configuration.md)"       # one short: cut


def _literal_line(values: tuple[str, ...]) -> str:
    class One(StrictModel):
        pick: Literal[values]  # type: ignore[valid-type]

    with pytest.raises(ValidationError) as exc:
        One.model_validate({"pick": "zz"})
    [line] = format_validation_error("dev", exc.value)
    return line


def _values_for_line_length(length: int) -> tuple[str, ...]:
    """Literal values whose whole problem line would be `length` characters long."""
    head = len("dev: pick: 'zz' is not allowed; allowed: ")
    rest = ("b", "c", "d", "e")
    fixed = len("'b', 'c', 'd', 'e' or ''")
    return (*rest, "a" * (length - head - fixed))


def test_a_problem_line_of_199_characters_is_kept_whole_and_one_of_200_is_cut() -> None:
    """MAX_LINE = 200: a line stays under it; the allowed list is cut only when the whole line would reach it."""
    from infra.config.base import MAX_LINE

    assert MAX_LINE == 200
    whole = _literal_line(_values_for_line_length(199))
    assert len(whole) == 199 and "values; see docs" not in whole
    for length in (200, 230):
        cut = _literal_line(_values_for_line_length(length))
        assert cut == ("dev: pick: 'zz' is not allowed; allowed: 'b', 'c', 'd', ... "
                       "(5 values; see docs/configuration.md)")


def test_field_docstrings_are_the_descriptions_the_reference_prints() -> None:
    from infra.config.core import NamingConfig

    assert (NamingConfig.model_fields["prefix"].description or "").startswith("Start of every default name")
