"""Resource rules at their edges: both sides of every limit, every alternative that violates a rule and every
exemption that lifts it, each case one change from a compliant (or, for exemptions, a violating) baseline.

tests/test_policy_rules.py shows each rule fire once; this file pins where each rule draws its line.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from infra.policy.rules import RULES_BY_NAME, Finding, ResourceView
from infra.policy.rules import types as T
from infra.policy.rules.base import UNKNOWN
from tests.policy_fixtures import BASELINES, CLUSTER, DELETE, JOB, POLICY_DEFINITION, mutate, view

W, S, KV, KEY, NSG, RULE = T.WORKSPACE, T.STORAGE_ACCOUNT, T.VAULT, T.KEY, T.NSG, T.SECURITY_RULE
SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # pulumi_policy's unknown marker in raw data


def run(rule: str, res: ResourceView, config: dict[str, Any] | None = None) -> list[str]:
    return [f.message for f in RULES_BY_NAME[rule].run_resource(res, config)]


def advisory(path: str) -> str:
    return f"{path} is unknown at preview; the rule is checked again when the value is known"


def case_id(value: Any) -> str:
    """A test id that is the same in every process (DELETE's repr carries its address)."""
    if isinstance(value, dict):
        return json.dumps({k: case_id(v) for k, v in value.items()})
    return "DELETE" if value is DELETE else repr(value)


def changed(typ: str, path: str, value: Any, props: dict[str, Any] | None = None) -> ResourceView:
    return view(typ, mutate(BASELINES[typ] if props is None else props, path, value))


# (rule, type, path, value, expected messages): the compliant baseline with ONE property changed.
# [] means the change is still compliant (the other side of a limit, an accepted spelling).
CASES: list[tuple[str, str, str, Any, list[str]]] = [
    # workspace
    ("databricks-workspace-public-network-disabled", W, "publicNetworkAccess", "disabled", []),
    ("databricks-workspace-public-network-disabled", W, "publicNetworkAccess", UNKNOWN,
     [advisory("publicNetworkAccess")]),
    ("databricks-workspace-no-public-ip", W, "parameters.enableNoPublicIp.value", DELETE,
     ["parameters.enableNoPublicIp.value is missing; must be true (secure cluster connectivity)"]),
    ("databricks-workspace-no-public-ip", W, "parameters.enableNoPublicIp.value", "true",
     ["parameters.enableNoPublicIp.value is 'true'; must be true (secure cluster connectivity)"]),
    ("databricks-workspace-no-public-ip", W, "parameters.enableNoPublicIp", SENTINEL,
     [advisory("parameters.enableNoPublicIp.value")]),
    ("databricks-workspace-vnet-injected", W, "parameters.customVirtualNetworkId", DELETE,
     ["parameters.customVirtualNetworkId.value is missing; VNet injection needs the VNet id and both subnet names"]),
    ("databricks-workspace-vnet-injected", W, "parameters.customPublicSubnetName.value", "",
     ["parameters.customPublicSubnetName.value is missing; VNet injection needs the VNet id and both subnet names"]),
    ("databricks-workspace-vnet-injected", W, "parameters.customVirtualNetworkId.value", UNKNOWN, []),
    ("databricks-workspace-premium-sku", W, "sku.name", "Premium", []),
    ("databricks-workspace-premium-sku", W, "sku", DELETE,
     ["sku.name is missing; must be 'premium' (private link, CMK and Unity Catalog need Premium)"]),
    ("databricks-workspace-backend-private-link", W, "requiredNsgRules", DELETE,
     ["requiredNsgRules is missing; must be 'NoAzureDatabricksRules' (public access is Disabled, so the data "
      "plane reaches the control plane privately)"]),
    ("databricks-workspace-backend-private-link", W, "publicNetworkAccess", UNKNOWN, [advisory("publicNetworkAccess")]),
    ("databricks-workspace-cmk-managed-services", W, "encryption.entities.managedServices.keySource",
     "microsoft.keyvault", []),
    ("databricks-workspace-cmk-managed-services", W, "encryption.entities.managedServices.keySource",
     "Microsoft.Storage",
     ["encryption.entities.managedServices.keySource is 'Microsoft.Storage'; must be 'Microsoft.Keyvault' "
      "(customer-managed key)"]),
    ("databricks-workspace-cmk-managed-services", W, "encryption.entities.managedServices.keyVaultProperties.keyName",
     UNKNOWN, []),
    ("databricks-workspace-cmk-managed-services", W, "encryption.entities.managedServices.keyVaultProperties.keyName",
     "", ["encryption.entities.managedServices.keyVaultProperties.keyName is missing; name the Key Vault key"]),
    ("databricks-workspace-cmk-dbfs-root", W, "parameters.prepareEncryption", DELETE,
     ["parameters.prepareEncryption.value is missing; must be true (DBFS root CMK needs a managed identity)"]),
    ("databricks-workspace-storage-firewall", W, "defaultStorageFirewall", DELETE,
     ["defaultStorageFirewall is missing; must be 'Enabled' (workspace storage only via trusted access)"]),
    ("databricks-workspace-storage-firewall", W, "defaultStorageFirewall", "enabled", []),
    ("databricks-workspace-storage-firewall", W, "accessConnector.id", UNKNOWN, []),
    # storage
    ("storage-https-only", S, "enableHttpsTrafficOnly", DELETE, []),  # Azure's default is HTTPS only
    ("storage-https-only", S, "enableHttpsTrafficOnly", UNKNOWN, [advisory("enableHttpsTrafficOnly")]),
    ("storage-min-tls-1-2", S, "minimumTlsVersion", "TLS1_1",
     ["minimumTlsVersion is 'TLS1_1'; must be 'TLS1_2' (older TLS versions are refused)"]),
    ("storage-min-tls-1-2", S, "minimumTlsVersion", "tls1_2", []),
    ("storage-no-public-blob-access", S, "allowBlobPublicAccess", True,
     ["allowBlobPublicAccess is true; must be false (no anonymous reads)"]),
    ("storage-no-shared-key-access", S, "allowSharedKeyAccess", DELETE,
     ["allowSharedKeyAccess is missing; must be false (account keys bypass Entra ID and RBAC)"]),
    ("storage-public-network-disabled", S, "publicNetworkAccess", DELETE,
     ["publicNetworkAccess is missing; must be 'Disabled' (reachable only through private endpoints)"]),
    ("storage-default-deny", S, "networkRuleSet.defaultAction", "Allow",
     ["networkRuleSet.defaultAction is 'Allow'; must be 'Deny' (deny unless a rule allows)"]),
    ("storage-default-deny", S, "networkRuleSet.defaultAction", "deny", []),
    ("storage-default-deny", S, "networkRuleSet.ipRules", UNKNOWN, [advisory("networkRuleSet.ipRules")]),
    ("storage-default-deny", S, "networkRuleSet.ipRules", DELETE, []),
    ("storage-default-deny", S, "networkRuleSet.ipRules",
     [{"iPAddressOrRange": "1.2.3.4"}, {"iPAddressOrRange": "5.6.7.8"}],
     ["networkRuleSet.ipRules has 2 rule(s); public IP allow-lists are not allowed"]),
    ("storage-no-cross-tenant-replication", S, "allowCrossTenantReplication", True,
     ["allowCrossTenantReplication is true; must be false (data must not replicate to other tenants)"]),
    ("storage-infrastructure-encryption", S, "encryption", DELETE,
     ["encryption.requireInfrastructureEncryption is missing; must be true (double encryption at rest)"]),
    ("storage-hns-enabled", S, "isHnsEnabled", False,
     ["isHnsEnabled is false; must be true (abfss:// paths and directory ACLs need ADLS Gen2)"]),
    ("storage-blob-soft-delete", T.BLOB_SERVICE, "deleteRetentionPolicy", DELETE,
     ["deleteRetentionPolicy.enabled is missing; must be true (deleted data stays recoverable)"]),
    # key vault
    ("key-vault-recoverable", KV, "properties.enableSoftDelete", DELETE, []),  # Azure's default is on
    ("key-vault-recoverable", KV, "properties.enableSoftDelete", UNKNOWN, [advisory("properties.enableSoftDelete")]),
    ("key-vault-recoverable", KV, "properties.enablePurgeProtection", False,
     ["properties.enablePurgeProtection is false; must be true (keys cannot be purged before retention)"]),
    ("key-vault-rbac", KV, "properties.enableRbacAuthorization", False,
     ["properties.enableRbacAuthorization is false; must be true (no vault access policies)"]),
    ("key-vault-network", KV, "properties.publicNetworkAccess", "Enabled", []),  # the firewall still denies
    ("key-vault-network", KV, "properties.networkAcls", DELETE, []),  # public access is disabled
    ("key-vault-network", KV, "properties.publicNetworkAccess", "disabled", []),
    ("key-vault-network", KV, "properties.publicNetworkAccess", UNKNOWN, [advisory("properties.publicNetworkAccess")]),
    # keys: RSA needs 2048 bits or more; HSM-backed keys are hardened at any size
    ("key-vault-keys-hardened", KEY, "properties.kty", "RSA", []),  # the baseline's keySize is 2048
    ("key-vault-keys-hardened", KEY, "properties.kty", "rsa-hsm", []),
    ("key-vault-keys-hardened", KEY, "properties.kty", "EC-HSM", []),
    ("key-vault-keys-hardened", KEY, "properties.kty", "EC",
     ["properties.kty is 'EC' with keySize 2048; must be RSA-HSM, EC-HSM or RSA with keySize >= 2048"]),
    ("key-vault-keys-hardened", KEY, "properties.kty", UNKNOWN, [advisory("properties.kty")]),
    ("key-vault-keys-hardened", KEY, "properties.keySize", UNKNOWN, [advisory("properties.kty")]),
    ("key-vault-keys-hardened", KEY, "properties.keySize", 1024, []),  # RSA-HSM: the size is not the rule's
    ("key-vault-keys-hardened", KEY, "properties.rotationPolicy.lifetimeActions", UNKNOWN,
     [advisory("properties.rotationPolicy")]),
    ("key-vault-keys-hardened", KEY, "properties.rotationPolicy.lifetimeActions", [],
     ["properties.attributes.expires and properties.rotationPolicy.lifetimeActions are missing; keys need an "
      "expiry or automatic rotation"]),
    ("key-vault-keys-hardened", KEY, "properties.attributes.expires", UNKNOWN, [advisory("properties.rotationPolicy")]),
    # subnets
    ("subnet-has-nsg", T.SUBNET, "networkSecurityGroup.id", UNKNOWN, []),  # an NSG created in the same run
    ("subnet-has-nsg", T.SUBNET, "networkSecurityGroup.id", "", ["subnet pe-subnet has no networkSecurityGroup.id"]),
    ("subnet-private", T.SUBNET, "defaultOutboundAccess", True,
     ["subnet pe-subnet defaultOutboundAccess is true; must be false"]),
    ("subnet-private", T.SUBNET, "defaultOutboundAccess", UNKNOWN, [advisory("defaultOutboundAccess")]),
    ("subnet-private", T.VNET, "subnets", [{"name": "inline", "defaultOutboundAccess": True}],
     ["subnet inline defaultOutboundAccess is true; must be false"]),
    ("subnet-private", T.VNET, "subnets", [{"name": "inline", "defaultOutboundAccess": False}, "not-a-subnet"], []),
    ("log-analytics-entra-only", T.LOG_ANALYTICS, "features", DELETE,
     ["features.disableLocalAuth is missing; must be true (ingestion with Entra ID tokens only)"]),
]


@pytest.mark.parametrize(("rule", "typ", "path", "value", "messages"), CASES,
                         ids=[f"{c[0]}:{c[2]}={case_id(c[3])}"[:90] for c in CASES])
def test_one_change_from_the_baseline(rule: str, typ: str, path: str, value: Any, messages: list[str]) -> None:
    assert run(rule, changed(typ, path, value)) == messages


def test_an_unknown_value_gives_an_advisory_finding_on_the_resource() -> None:
    res = changed(S, "minimumTlsVersion", UNKNOWN)
    assert RULES_BY_NAME["storage-min-tls-1-2"].run_resource(res) == [
        Finding(advisory("minimumTlsVersion"), res.urn, unknown=True)]


# (rule, type, violation (path, value), exemption (path, value), the violation's messages): the violation
# alone fires; the same violation plus the exemption passes.
EXEMPTIONS: list[tuple[str, str, tuple[str, Any], tuple[str, Any], list[str]]] = [
    ("databricks-workspace-backend-private-link", W, ("requiredNsgRules", "AllRules"),
     ("publicNetworkAccess", "Enabled"),
     ["requiredNsgRules is 'AllRules'; must be 'NoAzureDatabricksRules' (public access is Disabled, so the data "
      "plane reaches the control plane privately)"]),
    ("databricks-workspace-cmk-managed-services", W,
     ("encryption.entities.managedServices.keyVaultProperties", DELETE),
     ("encryption.entities.managedServices.keySource", "Microsoft.Databricks"),  # then only the keySource finding
     ["encryption.entities.managedServices.keyVaultProperties.keyName is missing; name the Key Vault key"]),
    ("databricks-workspace-storage-firewall", W, ("accessConnector", DELETE), ("defaultStorageFirewall", "Disabled"),
     ["accessConnector.id is missing; the storage firewall needs an access connector identity"]),
    # a vault being recovered: the built-in definitions exempt createMode 'recover'
    ("key-vault-recoverable", KV, ("properties.enablePurgeProtection", False), ("properties.createMode", "recover"),
     ["properties.enablePurgeProtection is false; must be true (keys cannot be purged before retention)"]),
    ("key-vault-recoverable", KV, ("properties.enableSoftDelete", False), ("properties.createMode", "Recover"),
     ["properties.enableSoftDelete is false; must not be false (deleted keys stay recoverable)"]),
    ("key-vault-rbac", KV, ("properties.enableRbacAuthorization", False), ("properties.createMode", "recover"),
     ["properties.enableRbacAuthorization is false; must be true (no vault access policies)"]),
    ("key-vault-network", KV, ("properties.publicNetworkAccess", "Enabled"), ("properties.createMode", "recover"), []),
    # the firewall defaulting to Deny lifts the public access
    ("key-vault-network", KV, ("properties.publicNetworkAccess", DELETE),
     ("properties.networkAcls.defaultAction", "deny"), []),
    ("key-vault-keys-hardened", KEY, ("properties.rotationPolicy", DELETE),
     ("properties.attributes.expires", 1893456000),
     ["properties.attributes.expires and properties.rotationPolicy.lifetimeActions are missing; keys need an "
      "expiry or automatic rotation"]),
    # subnets Azure forbids an NSG on (gateway, firewall, bastion, route server) are exempt, in any case
    ("subnet-has-nsg", T.SUBNET, ("networkSecurityGroup", DELETE), ("subnetName", "GatewaySubnet"),
     ["subnet pe-subnet has no networkSecurityGroup.id"]),
    ("subnet-has-nsg", T.SUBNET, ("networkSecurityGroup", DELETE), ("subnetName", "AzureFirewallSubnet"),
     ["subnet pe-subnet has no networkSecurityGroup.id"]),
    ("subnet-has-nsg", T.SUBNET, ("networkSecurityGroup", DELETE), ("subnetName", "AzureBastionSubnet"),
     ["subnet pe-subnet has no networkSecurityGroup.id"]),
    ("subnet-has-nsg", T.SUBNET, ("networkSecurityGroup", DELETE), ("subnetName", "AzureFirewallManagementSubnet"),
     ["subnet pe-subnet has no networkSecurityGroup.id"]),
    ("subnet-has-nsg", T.SUBNET, ("networkSecurityGroup", DELETE), ("subnetName", "routeserversubnet"),
     ["subnet pe-subnet has no networkSecurityGroup.id"]),
]


@pytest.mark.parametrize(("rule", "typ", "violation", "exemption", "messages"), EXEMPTIONS,
                         ids=[f"{c[0]}:{c[3][0]}={case_id(c[3][1])}" for c in EXEMPTIONS])
def test_the_exemption_lifts_the_violation(rule: str, typ: str, violation: tuple[str, Any],
                                           exemption: tuple[str, Any], messages: list[str]) -> None:
    violating = mutate(BASELINES[typ], *violation)
    assert run(rule, view(typ, violating)) == messages
    exempted = run(rule, view(typ, mutate(violating, *exemption)))
    if rule == "databricks-workspace-cmk-managed-services":  # the key source itself is now the finding
        assert exempted == ["encryption.entities.managedServices.keySource is 'Microsoft.Databricks'; must be "
                            "'Microsoft.Keyvault' (customer-managed key)"]
    elif rule == "databricks-workspace-storage-firewall":
        assert exempted == ["defaultStorageFirewall is 'Disabled'; must be 'Enabled' (workspace storage only via "
                            "trusted access)"]
    else:
        assert exempted == []


def test_an_unknown_vnet_id_does_not_hide_a_missing_subnet_name() -> None:
    props = mutate(BASELINES[W], "parameters.customVirtualNetworkId.value", UNKNOWN)
    assert run("databricks-workspace-vnet-injected", view(W, mutate(props, "parameters.customPublicSubnetName",
                                                                    DELETE))) == [
        "parameters.customPublicSubnetName.value is missing; VNet injection needs the VNet id and both subnet names"]


def test_key_vault_network_names_both_settings_when_neither_protects() -> None:
    props = mutate(mutate(BASELINES[KV], "properties.publicNetworkAccess", DELETE), "properties.networkAcls", DELETE)
    assert run("key-vault-network", view(KV, props)) == [
        "properties.publicNetworkAccess is missing and properties.networkAcls.defaultAction is missing; disable "
        "public access or default the firewall to 'Deny'"]
    public = mutate(BASELINES[KV], "properties.publicNetworkAccess", "Enabled")
    assert run("key-vault-network", view(KV, mutate(public, "properties.networkAcls.defaultAction", UNKNOWN))) == [
        advisory("properties.networkAcls.defaultAction")]


# --- keys: RSA size on both sides of 2048 --------------------------------------------------------

RSA = {"kty": "RSA", "attributes": {"expires": 1893456000}}


@pytest.mark.parametrize(("size", "ok"), [(2047, False), (2048, True), (3072, True), (4096, True), ("2048", False),
                                          (None, False)])
def test_rsa_keys_need_2048_bits(size: Any, ok: bool) -> None:
    props = {**BASELINES[KEY], "properties": {**RSA, **({} if size is None else {"keySize": size})}}
    shown = "missing" if size is None else repr(size) if isinstance(size, str) else str(size)
    assert run("key-vault-keys-hardened", view(KEY, props)) == ([] if ok else [
        f"properties.kty is 'RSA' with keySize {shown}; must be RSA-HSM, EC-HSM or RSA with keySize >= 2048"])


# --- NSG: SSH/RDP from the internet --------------------------------------------------------------

OPEN = {"name": "r", "access": "Allow", "direction": "Inbound", "sourceAddressPrefix": "Internet",
        "destinationPortRange": "22"}


def _nsg_rule(**changes: Any) -> list[str]:
    rule = {k: v for k, v in {**OPEN, **changes}.items() if v is not DELETE}
    return run("nsg-no-internet-admin-ports", view(NSG, {**BASELINES[NSG], "securityRules": [rule]}))


def _hits(*ports: int) -> list[str]:
    return [f"security rule r allows inbound port(s) {', '.join(map(str, ports))} from the internet"]


@pytest.mark.parametrize(("changes", "messages"), [
    ({}, _hits(22)),
    # every spelling of "anywhere", as a single prefix or in the list
    ({"sourceAddressPrefix": "internet"}, _hits(22)),
    ({"sourceAddressPrefix": "*"}, _hits(22)),
    ({"sourceAddressPrefix": "Any"}, _hits(22)),
    ({"sourceAddressPrefix": "0.0.0.0/0"}, _hits(22)),
    ({"sourceAddressPrefix": "0.0.0.0"}, _hits(22)),
    ({"sourceAddressPrefix": "::/0"}, _hits(22)),
    ({"sourceAddressPrefix": DELETE, "sourceAddressPrefixes": ["10.0.0.0/8", "0.0.0.0/0"]}, _hits(22)),
    ({"sourceAddressPrefix": "VirtualNetwork"}, []),
    ({"sourceAddressPrefix": "10.0.0.0/8"}, []),
    ({"sourceAddressPrefix": DELETE}, []),
    # only inbound allows
    ({"access": "allow", "direction": "inbound"}, _hits(22)),
    ({"access": "Deny"}, []),
    ({"direction": "Outbound"}, []),
    # ports: single, ranges on both sides of 22 and 3389, lists, wildcards
    ({"destinationPortRange": "3389"}, _hits(3389)),
    ({"destinationPortRange": "21-22"}, _hits(22)),
    ({"destinationPortRange": "22-23"}, _hits(22)),
    ({"destinationPortRange": "23-3388"}, []),
    ({"destinationPortRange": "3389-3390"}, _hits(3389)),
    ({"destinationPortRange": "3390-4000"}, []),
    ({"destinationPortRange": "1-65535"}, _hits(22, 3389)),
    ({"destinationPortRange": "*"}, _hits(22, 3389)),
    ({"destinationPortRange": " * "}, _hits(22, 3389)),
    ({"destinationPortRange": "21"}, []),
    ({"destinationPortRange": "23"}, []),
    ({"destinationPortRange": "ssh"}, []),
    ({"destinationPortRange": ""}, []),
    ({"destinationPortRange": "!"}, []),
    ({"destinationPortRange": 22}, []),  # not a port spec string
    ({"destinationPortRange": DELETE, "destinationPortRanges": ["443", "3389"]}, _hits(3389)),
    ({"destinationPortRanges": ["3389", "22"]}, _hits(22, 3389)),
], ids=lambda v: case_id(v) if isinstance(v, dict) else None)
def test_nsg_admin_ports_from_the_internet(changes: dict[str, Any], messages: list[str]) -> None:
    assert _nsg_rule(**changes) == messages


def test_nsg_rules_nested_under_properties_and_their_labels() -> None:
    unnamed = {k: v for k, v in OPEN.items() if k != "name"}
    nested = {**BASELINES[NSG], "securityRules": [{"name": "outer", "properties": unnamed}]}
    assert run("nsg-no-internet-admin-ports", view(NSG, nested, name="pe-nsg")) == [
        "security rule pe-nsg allows inbound port(s) 22 from the internet"]  # no name inside: the resource's
    named = {**BASELINES[RULE], "access": "Allow", "securityRuleName": "by-rule-name"}
    assert run("nsg-no-internet-admin-ports", view(RULE, named)) == [
        "security rule by-rule-name allows inbound port(s) 22 from the internet"]
    unknown = {**BASELINES[NSG], "securityRules": [UNKNOWN, "not-a-rule"]}
    assert run("nsg-no-internet-admin-ports", view(NSG, unknown)) == []
    after_unknown = {**BASELINES[NSG], "securityRules": [UNKNOWN, "not-a-rule", OPEN]}
    assert run("nsg-no-internet-admin-ports", view(NSG, after_unknown)) == _hits(22)


def test_subnets_inline_in_a_vnet_are_checked_by_name() -> None:
    vnet = {**BASELINES[T.VNET], "subnets": [{"name": "GatewaySubnet"}, {"name": "x", "networkSecurityGroup": {
        "id": UNKNOWN}}, {"name": "apps"}]}
    assert run("subnet-has-nsg", view(T.VNET, vnet)) == ["subnet apps has no networkSecurityGroup.id"]
    unnamed = {k: v for k, v in BASELINES[T.SUBNET].items() if k not in ("subnetName", "networkSecurityGroup")}
    assert run("subnet-has-nsg", view(T.SUBNET, unnamed, name="host")) == [
        "subnet host has no networkSecurityGroup.id"]


# --- Unity Catalog grants --------------------------------------------------------------------------

BROAD = "uc-no-broad-privileges-to-non-admins"


def _grant(principal: Any, privileges: Any, **securable: str) -> ResourceView:
    return view(T.GRANT, {**(securable or {"catalog": "c"}), "principal": principal, "privileges": privileges})


@pytest.mark.parametrize(("principal", "privileges", "admins", "messages"), [
    ("mlops-platform-admins", ["ALL_PRIVILEGES"], None, []),
    ("MLOps-Platform-Admins", ["MANAGE"], None, []),  # group names compare case-insensitively
    ("ops", ["all_privileges"], None,
     ["'ops' is granted ALL_PRIVILEGES on catalog.c; only admin groups (mlops-platform-admins) may hold it"]),
    ("ops", ["Manage", "SELECT"], None,
     ["'ops' is granted MANAGE on catalog.c; only admin groups (mlops-platform-admins) may hold it"]),
    ("ops", ["SELECT", "USE_CATALOG", 7], None, []),
    ("ops", ["MANAGE"], ["OPS"], []),
    ("ops", ["MANAGE"], [], ["'ops' is granted MANAGE on catalog.c; only admin groups (none configured) may hold it"]),
    ("ops", ["MANAGE", "ALL_PRIVILEGES"], ["b-admins", "a-admins"],
     ["'ops' is granted ALL_PRIVILEGES, MANAGE on catalog.c; only admin groups (a-admins, b-admins) may hold it"]),
    (UNKNOWN, ["MANAGE"], None, [advisory("grants[].principal")]),
    (UNKNOWN, ["SELECT"], None, []),
])
def test_broad_privileges_only_for_admin_groups(principal: Any, privileges: list[Any], admins: list[str] | None,
                                                messages: list[str]) -> None:
    config = None if admins is None else {"adminGroups": admins}
    assert run(BROAD, _grant(principal, privileges), config) == messages


@pytest.mark.parametrize(("securable", "shown"), [
    ({"metastore": "m1"}, "metastore.m1"), ({"schema": "c.s"}, "schema.c.s"), ({"table": "c.s.t"}, "table.c.s.t"),
    ({"volume": "c.s.v"}, "volume.c.s.v"), ({"model": "c.s.m"}, "model.c.s.m"),
    ({"function": "c.s.f"}, "function.c.s.f"), ({"externalLocation": "loc"}, "externalLocation.loc"),
    ({"storageCredential": "cred"}, "storageCredential.cred"), ({"credential": "cr"}, "credential.cr"),
    ({"foreignConnection": "fc"}, "foreignConnection.fc"), ({"share": "sh"}, "share.sh"),
    ({"recipient": "rc"}, "recipient.rc"),
])
def test_findings_name_every_kind_of_securable(securable: dict[str, str], shown: str) -> None:
    assert run(BROAD, _grant("ops", ["MANAGE"], **securable)) == [
        f"'ops' is granted MANAGE on {shown}; only admin groups (mlops-platform-admins) may hold it"]


def test_grants_list_entries_without_privileges_or_shape() -> None:
    grants = view(T.GRANTS, {"catalog": "c", "grants": ["just-a-name", {"principal": "ops", "privileges": UNKNOWN},
                                                        {"principal": "x@example.com"}]})
    assert run(BROAD, grants) == []
    assert run("uc-grantees-are-groups", grants) == [
        "principal 'x@example.com' is a user; grant to an account group or a service principal"]
    assert run("uc-grantees-are-groups", view(T.GRANTS, {"catalog": "c", "grants": [{"privileges": ["SELECT"]}]})) == [
        "a grant has no principal"]


@pytest.mark.parametrize(("principal", "messages"), [
    ("7c3e4a5f-6d7b-4c8d-ae9f-1a2b3c4d5e6f", []),  # a service principal's application id
    ("data team", []),
    (UNKNOWN, []),
    (None, ["a grant has no principal"]),
    ("jane@example.com", ["principal 'jane@example.com' is a user; grant to an account group or a service principal"]),
])
def test_grantees_are_groups_or_service_principals(principal: Any, messages: list[str]) -> None:
    assert run("uc-grantees-are-groups", _grant(principal, ["SELECT"])) == messages


@pytest.mark.parametrize(("typ", "path", "value", "messages"), [
    (T.CATALOG, "isolationMode", "isolated", []),
    (T.CATALOG, "isolationMode", DELETE,
     ["isolationMode is missing; must be 'ISOLATED' so only bound workspaces see the catalog"]),
    (T.CATALOG, "isolationMode", UNKNOWN, [advisory("isolationMode")]),
    (T.SCHEMA, "owner", UNKNOWN, [advisory("owner")]),
    # unset: the deploying service principal keeps ownership (uc-deployer-keeps-ownership checks who that is)
    (T.SCHEMA, "owner", "", []),
    (T.SCHEMA, "owner", DELETE, []),
    (T.SCHEMA, "owner", "jane@example.com", ["owner 'jane@example.com' is a user; must be a group or a service "
                                             "principal"]),
    (T.CATALOG, "owner", "7c3e4a5f-6d7b-4c8d-ae9f-1a2b3c4d5e6f", []),
    (T.CATALOG, "owner", "mlops-platform-admins", []),
])
def test_catalogs_and_owners(typ: str, path: str, value: Any, messages: list[str]) -> None:
    rule = "uc-catalog-isolated" if path == "isolationMode" else "uc-owners-are-groups"
    assert run(rule, changed(typ, path, value)) == messages


# --- serving ----------------------------------------------------------------------------------------

SERVING = T.MODEL_SERVING
GATEWAY = "serving-gateway-controls"


@pytest.mark.parametrize(("rule", "path", "value", "messages"), [
    ("serving-inference-tables", "aiGateway.inferenceTableConfig.enabled", DELETE,
     ["aiGateway.inferenceTableConfig.enabled is missing; must be true (payload logging for monitoring and audit)"]),
    ("serving-inference-tables", "aiGateway.inferenceTableConfig.enabled", "true",
     ["aiGateway.inferenceTableConfig.enabled is 'true'; must be true (payload logging for monitoring and audit)"]),
    ("serving-inference-tables", "aiGateway.inferenceTableConfig.enabled", UNKNOWN,
     [advisory("aiGateway.inferenceTableConfig.enabled")]),
    ("serving-inference-tables", "aiGateway.inferenceTableConfig.catalogName", "",
     ["aiGateway.inferenceTableConfig.catalogName is missing; the inference table lives in a Unity Catalog schema"]),
    ("serving-inference-tables", "aiGateway.inferenceTableConfig.catalogName", UNKNOWN, []),
    ("serving-no-legacy-auto-capture", "config.autoCaptureConfig", {}, []),
    ("serving-no-legacy-auto-capture", "config.autoCaptureConfig", None, []),
    (GATEWAY, "aiGateway.usageTrackingConfig.enabled", False,
     ["aiGateway.usageTrackingConfig.enabled is false; must be true"]),
    (GATEWAY, "aiGateway.usageTrackingConfig.enabled", UNKNOWN, [advisory("aiGateway.usageTrackingConfig.enabled")]),
    (GATEWAY, "aiGateway.rateLimits", [], ["aiGateway.rateLimits is missing; set at least one rate limit"]),
    (GATEWAY, "aiGateway.rateLimits.0.calls", 1, []),
    (GATEWAY, "aiGateway.rateLimits.0.calls", -5, ["aiGateway.rateLimits[0] has no positive calls or tokens limit"]),
    (GATEWAY, "aiGateway.rateLimits.0.calls", "1000",
     ["aiGateway.rateLimits[0] has no positive calls or tokens limit"]),
    (GATEWAY, "aiGateway.rateLimits.0.calls", UNKNOWN, []),
    (GATEWAY, "aiGateway.rateLimits.0", {"tokens": 1, "key": "endpoint"}, []),  # a token limit alone is a limit
    (GATEWAY, "aiGateway.rateLimits.0", {"tokens": 0, "calls": 0}, ["aiGateway.rateLimits[0] has no positive calls or "
                                                                    "tokens limit"]),
    (GATEWAY, "aiGateway.rateLimits.0", {"tokens": UNKNOWN}, []),
    (GATEWAY, "aiGateway.rateLimits.0", {"tokens": -1, "calls": 0},
     ["aiGateway.rateLimits[0] has no positive calls or tokens limit"]),
    (GATEWAY, "aiGateway.rateLimits.0", "not-a-limit", []),
    ("serving-uc-models", "config.servedEntities.0.entityName", "a.b", [
        "config.servedEntities[0].entityName is 'a.b'; must be a UC model catalog.schema.model"]),
    ("serving-uc-models", "config.servedEntities.0.entityName", "a.b.c.d", [
        "config.servedEntities[0].entityName is 'a.b.c.d'; must be a UC model catalog.schema.model"]),
    ("serving-uc-models", "config.servedEntities.0.entityName", "a.b c.d", [
        "config.servedEntities[0].entityName is 'a.b c.d'; must be a UC model catalog.schema.model"]),
    ("serving-uc-models", "config.servedEntities.0.entityName", DELETE, [
        "config.servedEntities[0].entityName is missing; must be a UC model catalog.schema.model"]),
    ("serving-uc-models", "config.servedEntities.0.entityName", UNKNOWN,
     [advisory("config.servedEntities[0].entityName")]),
    ("serving-uc-models", "config.servedEntities.0", "not-an-entity", []),
    ("serving-uc-models", "config.servedEntities", ["not-an-entity", {"entityName": "churn"}], [
        "config.servedEntities[1].entityName is 'churn'; must be a UC model catalog.schema.model"]),
    ("serving-uc-models", "config.servedModels", [], []),
])
def test_serving_endpoint_edges(rule: str, path: str, value: Any, messages: list[str]) -> None:
    assert run(rule, changed(SERVING, path, value)) == messages


# --- cluster policies ---------------------------------------------------------------------------------

AUTO = "cluster-policy-auto-termination"
GUARD = "cluster-policy-guardrails"


def _policy(**changes: Any) -> ResourceView:
    definition = {**POLICY_DEFINITION, **changes}
    return view(T.CLUSTER_POLICY, {"name": "p", "definition": json.dumps(
        {k: v for k, v in definition.items() if v is not None})})


def _fixed(v: Any) -> dict[str, Any]:
    return {"type": "fixed", "value": v}


def _range(lo: Any, hi: Any) -> dict[str, Any]:
    return {k: v for k, v in {"type": "range", "minValue": lo, "maxValue": hi}.items() if v is not None}


@pytest.mark.parametrize(("element", "messages"), [
    (_fixed(1), []), (_fixed(240), []), (_fixed(30.5), []),
    (_fixed(0), ["autotermination_minutes fixed [0]; values must be 1..240 minutes"]),
    (_fixed(241), ["autotermination_minutes fixed [241]; values must be 1..240 minutes"]),
    (_fixed("30"), ["autotermination_minutes fixed ['30']; values must be 1..240 minutes"]),
    ({"type": "allowlist", "values": [1, 240]}, []),
    ({"type": "allowlist", "values": [30, 241, 0]}, ["autotermination_minutes allowlist [241, 0]; values must be "
                                                      "1..240 minutes"]),
    ({"type": "allowlist", "values": []}, ["autotermination_minutes allowlist empty; values must be 1..240 minutes"]),
    ({"type": "allowlist"}, ["autotermination_minutes allowlist empty; values must be 1..240 minutes"]),
    (_range(1, 240), []),
    (_range(0, 240), ["autotermination_minutes range 0..240; must be within 1..240 minutes"]),
    (_range(1, 241), ["autotermination_minutes range 1..241; must be within 1..240 minutes"]),
    (_range(None, 240), ["autotermination_minutes range missing..240; must be within 1..240 minutes"]),
    (_range(10, None), ["autotermination_minutes range 10..missing; must be within 1..240 minutes"]),
    (_range(10, "60"), ["autotermination_minutes range 10..'60'; must be within 1..240 minutes"]),
    ({"type": "forbidden"}, ["autotermination_minutes is 'forbidden'; must be fixed, allowlist or range within "
                             "1..240"]),
    ("60", ["definition has no autotermination_minutes element; clusters could run forever"]),
])
def test_auto_termination_bounds(element: Any, messages: list[str]) -> None:
    assert run(AUTO, _policy(autotermination_minutes=element)) == messages


@pytest.mark.parametrize(("limit", "value", "ok"), [(60, 60, True), (60, 61, False), (600, 600, True)])
def test_auto_termination_limit_comes_from_the_policy_config(limit: int, value: int, ok: bool) -> None:
    messages = run(AUTO, _policy(autotermination_minutes=_fixed(value)), {"maxAutoterminationMinutes": limit})
    assert messages == ([] if ok else [f"autotermination_minutes fixed [{value}]; values must be 1..{limit} minutes"])


@pytest.mark.parametrize(("cluster_type", "exempt"), [
    (_fixed("job"), True), (_fixed("dlt"), True), ({"type": "allowlist", "values": ["job", "dlt"]}, True),
    ({"type": "allowlist", "values": ["job", "all-purpose"]}, False), (_fixed("all-purpose"), False),
    ({"type": "unlimited"}, False), ({"type": "allowlist", "values": []}, False), ("job", False),
    # only fixed and allowlist elements restrict the values, whatever else an element carries
    ({"type": "unlimited", "values": ["job"]}, False), ({"type": "Allowlist", "values": ["job"]}, False),
])
def test_job_and_pipeline_policies_are_exempt_from_auto_termination(cluster_type: Any, exempt: bool) -> None:
    messages = run(AUTO, _policy(cluster_type=cluster_type, autotermination_minutes=None))
    assert messages == ([] if exempt else ["definition has no autotermination_minutes element; clusters could run "
                                           "forever"])


@pytest.mark.parametrize(("definition", "messages"), [
    (UNKNOWN, [advisory("definition")]),
    ("", ["definition is missing"]),
    ("[1, 2]", ["definition is not a JSON object"]),
    ({**POLICY_DEFINITION}, []),  # an already parsed definition
])
def test_the_policy_definition_itself(definition: Any, messages: list[str]) -> None:
    res = view(T.CLUSTER_POLICY, {"name": "p", "definition": definition})
    assert run(AUTO, res) == messages
    assert run(GUARD, res) == messages


UC_MODES = ("SINGLE_USER, USER_ISOLATION, DATA_SECURITY_MODE_DEDICATED, DATA_SECURITY_MODE_STANDARD, "
            "DATA_SECURITY_MODE_AUTO")


@pytest.mark.parametrize(("changes", "messages"), [
    ({"data_security_mode": {"type": "allowlist", "values": ["SINGLE_USER", "DATA_SECURITY_MODE_AUTO"]}}, []),
    ({"data_security_mode": {"type": "allowlist", "values": ["SINGLE_USER", "NONE"]}},
     [f"data_security_mode is ['SINGLE_USER', 'NONE']; must be fixed (or allow-listed) to Unity Catalog modes "
      f"{UC_MODES}"]),
    ({"data_security_mode": None},
     [f"data_security_mode is missing; must be fixed (or allow-listed) to Unity Catalog modes {UC_MODES}"]),
    ({"data_security_mode": {"type": "unlimited"}},
     [f"data_security_mode is missing; must be fixed (or allow-listed) to Unity Catalog modes {UC_MODES}"]),
    ({"dbus_per_hour": {"type": "range", "maxValue": 0.5}}, []),
    ({"dbus_per_hour": {"type": "fixed", "value": 10}}, ["dbus_per_hour has no range maxValue; bound the hourly DBU "
                                                        "spend"]),
    ({"dbus_per_hour": {"type": "range", "maxValue": "10"}}, ["dbus_per_hour has no range maxValue; bound the hourly "
                                                              "DBU spend"]),
    ({"dbus_per_hour": {"type": "unlimited", "maxValue": 10}}, ["dbus_per_hour has no range maxValue; bound the "
                                                                "hourly DBU spend"]),
    ({"dbus_per_hour": {"type": "fixed", "maxValue": 10}}, ["dbus_per_hour has no range maxValue; bound the hourly "
                                                            "DBU spend"]),
    ({"spark_version": {"type": "fixed", "value": "17.3.x-cpu-ml-scala2.13"}}, []),
    ({"spark_version": {"type": "regex", "pattern": "1[67]\\..*"}}, []),
    ({"spark_version": None}, ["spark_version is not fixed, allow-listed or pattern-restricted"]),
    ({"custom_tags.costCenter": None, "custom_tags.cost_center": _fixed("cc")}, []),  # spelled differently
    ({"custom_tags.costCenter": {"type": "unlimited"}},
     ["custom_tags.costCenter is not fixed; every cluster must carry the cost tag"]),
    ({"custom_tags.costCenter": {"type": "allowlist", "values": ["cc"]}},
     ["custom_tags.costCenter is not fixed; every cluster must carry the cost tag"]),
    ({"custom_tags.costCenter": None, "custom_tags.zone": _fixed("z")},
     ["custom_tags.costCenter is not fixed; every cluster must carry the cost tag"]),
    ({"custom_tags.costCenter": None, "custom_tags.area": _fixed("a")},
     ["custom_tags.costCenter is not fixed; every cluster must carry the cost tag"]),
    ({"custom_tags.costCenter": None, "costCenter": _fixed("cc")},
     ["custom_tags.costCenter is not fixed; every cluster must carry the cost tag"]),
])
def test_cluster_policy_guardrails(changes: dict[str, Any], messages: list[str]) -> None:
    assert run(GUARD, _policy(**changes)) == messages


def test_the_cost_tag_comes_from_the_policy_config() -> None:
    assert run(GUARD, _policy(), {"costTag": "team"}) == [
        "custom_tags.team is not fixed; every cluster must carry the cost tag"]
    assert run(GUARD, _policy(**{"custom_tags.team": _fixed("ml")}), {"costTag": "team"}) == []


# --- clusters and jobs -------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["SINGLE_USER", "USER_ISOLATION", "DATA_SECURITY_MODE_DEDICATED",
                                  "DATA_SECURITY_MODE_STANDARD", "DATA_SECURITY_MODE_AUTO"])
def test_every_unity_catalog_access_mode_is_accepted(mode: str) -> None:
    assert run("cluster-uc-access-mode", changed(T.CLUSTER, "dataSecurityMode", mode)) == []


@pytest.mark.parametrize(("rule", "path", "value", "messages"), [
    ("cluster-uc-access-mode", "dataSecurityMode", UNKNOWN, [advisory("dataSecurityMode")]),
    ("cluster-uc-access-mode", "dataSecurityMode", DELETE,
     [f"dataSecurityMode is missing; must be one of {UC_MODES}"]),
    ("cluster-under-policy", "policyId", UNKNOWN, []),  # a policy created in the same run
    ("cluster-under-policy", "policyId", "", ["policyId is missing; clusters must use a cluster policy"]),
    ("cluster-no-dbfs-init-scripts", "initScripts", [{"volumes": {"destination": "/Volumes/c/s/v/i.sh"}},
                                                     {"dbfs": {"destination": "dbfs:/i.sh"}}],
     ["initScripts[1].dbfs is set; DBFS init scripts are deprecated and writable by users"]),
    ("cluster-no-dbfs-init-scripts", "initScripts", ["not-a-script", {"dbfs": None}], []),
])
def test_cluster_edges(rule: str, path: str, value: Any, messages: list[str]) -> None:
    assert run(rule, changed(T.CLUSTER, path, value)) == messages


def test_every_new_cluster_of_a_job_is_checked_and_existing_clusters_are_not() -> None:
    bad = {**CLUSTER, "dataSecurityMode": "NONE", "policyId": None, "initScripts": [{"dbfs": {"destination": "x"}}]}
    job = {"name": "j", "jobClusters": [{"jobClusterKey": "ok", "newCluster": CLUSTER},
                                        {"jobClusterKey": "bad", "newCluster": bad}, "not-a-cluster",
                                        {"jobClusterKey": "none"}],
           "tasks": [{"taskKey": "a", "existingClusterId": "0101"}, {"taskKey": "b", "newCluster": bad}]}
    res = view(JOB, job)
    assert run("cluster-uc-access-mode", res) == [
        f"jobClusters[1].newCluster.dataSecurityMode is 'NONE'; must be one of {UC_MODES}",
        f"tasks[1].newCluster.dataSecurityMode is 'NONE'; must be one of {UC_MODES}"]
    assert run("cluster-under-policy", res) == [
        "jobClusters[1].newCluster.policyId is missing; clusters must use a cluster policy",
        "tasks[1].newCluster.policyId is missing; clusters must use a cluster policy"]
    assert run("cluster-no-dbfs-init-scripts", res) == [
        "jobClusters[1].newCluster.initScripts[0].dbfs is set; DBFS init scripts are deprecated and writable by users",
        "tasks[1].newCluster.initScripts[0].dbfs is set; DBFS init scripts are deprecated and writable by users"]


# --- conventions ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "value", "messages"), [
    ("tags", UNKNOWN, [advisory("tags")]),
    ("tags", "not-a-mapping", ["tags environment, project, owner, costCenter missing; required: environment, "
                               "project, owner, costCenter"]),
    ("tags.owner", UNKNOWN, []),  # a tag set from another resource's output
    ("tags.owner", "", ["tags owner missing; required: environment, project, owner, costCenter"]),
    ("tags.environment", "Prod", ["tags.environment is 'Prod' in stack 'prod'"]),
    ("tags.environment", "test", ["tags.environment is 'test' in stack 'prod'"]),
    ("tags.environment", UNKNOWN, []),
    ("tags.environment", DELETE, ["tags environment missing; required: environment, project, owner, costCenter"]),
])
def test_required_tags(path: str, value: Any, messages: list[str]) -> None:
    assert run("required-tags", changed(S, path, value)) == messages


def test_required_tags_come_from_the_policy_config_and_the_stack_from_the_urn() -> None:
    assert run("required-tags", view(S), {"requiredTags": ["team"]}) == ["tags team missing; required: team"]
    elsewhere = dataclasses.replace(changed(S, "tags.environment", "dev"), urn="not-a-pulumi-urn")
    assert elsewhere.stack == ""
    assert run("required-tags", elsewhere) == []


@pytest.mark.parametrize(("typ", "name", "messages"), [
    (T.RESOURCE_GROUP, "MLOps-Prod-RG", []),  # the environment is found in any case
    (T.RESOURCE_GROUP, "mlops-dev-rg", ["resourceGroupName 'mlops-dev-rg' does not contain the environment 'prod'"]),
    (T.SUBNET, "public-subnet", []),  # subnets live inside the environment's VNet: no environment needed
    (T.SUBNET, "-bad", ["subnetName '-bad' has characters Azure does not allow; allowed: letters, digits, - _ ., "
                        "starting alphanumeric"]),
    (T.WORKSPACE, "w", ["workspaceName 'w' must be 3-64 characters (has 1); allowed: letters, digits, - and _",
                        "workspaceName 'w' does not contain the environment 'prod'"]),
    (T.WORKSPACE, UNKNOWN, []),  # derived from another resource's output
    (T.WORKSPACE, "", ["workspaceName is missing; names are set explicitly from infra/naming.py (autonaming adds "
                       "random suffixes)"]),
])
def test_resource_naming(typ: str, name: Any, messages: list[str]) -> None:
    key = {T.RESOURCE_GROUP: "resourceGroupName", T.SUBNET: "subnetName", T.WORKSPACE: "workspaceName"}[typ]
    assert run("azure-resource-naming", changed(typ, key, name)) == messages


@pytest.mark.parametrize(("typ", "key", "name"), [
    (T.RESOURCE_GROUP, "resourceGroupName", "mlops-rg"), (W, "workspaceName", "mlops-workspace"),
    (T.VNET, "virtualNetworkName", "mlops-vnet"), (NSG, "networkSecurityGroupName", "mlops-pe-nsg"),
    (S, "accountName", "mlopslakeabc123"), (KV, "vaultName", "mlops-kv-abc123"),
    (T.ACCESS_CONNECTOR, "connectorName", "mlops-access-connector"), (T.LOG_ANALYTICS, "workspaceName", "mlops-logs"),
])
def test_names_of_environment_resources_carry_the_environment(typ: str, key: str, name: str) -> None:
    assert run("azure-resource-naming", changed(typ, key, name)) == [
        f"{key} {name!r} does not contain the environment 'prod'"]


def test_naming_outside_a_pulumi_stack_checks_no_environment() -> None:
    res = dataclasses.replace(changed(T.RESOURCE_GROUP, "resourceGroupName", "other-rg"), urn="x")
    assert run("azure-resource-naming", res) == []


@pytest.mark.parametrize(("provider", "messages"), [
    ("urn:pulumi:prod::mlops-platform::pulumi:providers:databricks::workspace-provider", []),
    ("urn:pulumi:prod::mlops-platform::pulumi:providers:databricks::default",
     ["uses the default provider 'default'; pass an explicit provider"]),
    ("urn:pulumi:prod::mlops-platform::pulumi:providers:databricks::default_1_118_0::id",
     ["uses the default provider 'id'; pass an explicit provider"]),
    ("urn:pulumi:prod::mlops-platform::pulumi:providers:databricks::defaults", []),
    ("urn:pulumi:prod::mlops-platform::pulumi:providers:databricks::my-default", []),
    ("", ["has no provider; pass the account or workspace provider explicitly"]),
])
def test_explicit_databricks_provider(provider: str, messages: list[str]) -> None:
    assert run("databricks-explicit-provider", view(T.CATALOG, provider=provider or None)) == messages


def test_explicit_provider_applies_to_databricks_types_only() -> None:
    assert run("databricks-explicit-provider", view(S, provider=None)) == []


@pytest.mark.parametrize(("stack", "protect", "config", "messages"), [
    ("prod", True, None, []),
    ("prod", False, None,
     ["is not protected in stack 'prod'; set protect=True (a destroy or replace would lose data)"]),
    ("test", False, None, []),
    ("test", False, {"protectedStacks": ["test", "prod"]},
     ["is not protected in stack 'test'; set protect=True (a destroy or replace would lose data)"]),
])
def test_protection_in_protected_stacks(stack: str, protect: bool, config: dict[str, Any] | None,
                                        messages: list[str]) -> None:
    vault = view(KV, mutate(BASELINES[KV], "vaultName", f"mlops-{stack}-kv"), stack=stack, protect=protect)
    assert run("prod-stateful-resources-protected", vault, config) == messages


@pytest.mark.parametrize(("typ", "messages"), [
    ("azure-native:databricks/v20240501preview:Workspace", [
        "type azure-native:databricks/v20240501preview:Workspace uses a preview API version; use the default "
        "(stable) module"]),
    ("azure-native:databricks/v20240501:Workspace", []),
    ("azure-native:databricks:Workspace", []),
    ("azure-native:preview", []),  # not a type token
    ("azure-native:databricks/v20240501preview:Workspace:x", []),
])
def test_preview_api_versions(typ: str, messages: list[str]) -> None:
    assert run("no-preview-api-versions", dataclasses.replace(view(W), type=typ)) == messages


def test_taggable_answers_no_for_what_is_not_an_sdk_type() -> None:
    from infra.policy.rules.conventions import taggable

    assert taggable("azure-native:storage:StorageAccount")
    assert not taggable("azure-native:storage:NoSuchResource")
    assert not taggable("azure-native:storage")
    assert not taggable("azure-native:nosuchmodule:Thing")


# --- the rule model (base.py) ------------------------------------------------------------------------

def test_unknown_is_one_falsy_value_and_sentinels_count_as_unknown() -> None:
    from infra.policy.rules.base import UNKNOWN_SENTINELS, _Unknown, is_unknown

    assert _Unknown() is UNKNOWN and repr(UNKNOWN) == "<unknown>" and not UNKNOWN
    assert all(is_unknown(s) for s in UNKNOWN_SENTINELS) and len(UNKNOWN_SENTINELS) == 7
    assert not is_unknown("04da6b54-80e4-46f7-96ec-b56ff0331ba8") and not is_unknown(None)


@pytest.mark.parametrize(("props", "path", "value"), [
    ({"a": {"b": 1}}, "a.b", 1),
    ({"a": {"b": 1}}, "a.c", None),
    ({"a": [1]}, "a.b", None),  # a list is not a mapping
    ({"a": UNKNOWN}, "a.b", UNKNOWN),  # an unknown parent makes the child unknown
    ({"a": {"b": SENTINEL}}, "a.b", UNKNOWN),
    ({"a": SENTINEL}, "a.b.c", UNKNOWN),
    (SENTINEL, "a", UNKNOWN),
])
def test_get_walks_a_dotted_path(props: Any, path: str, value: Any) -> None:
    from infra.policy.rules.base import get

    assert get(props, path) is value if value in (None, UNKNOWN) else get(props, path) == value


@pytest.mark.parametrize(("value", "expected"), [
    (UNKNOWN, [UNKNOWN]), (SENTINEL, [UNKNOWN]), (None, []), ("ab", []), (("a", "b"), ["a", "b"]), ([1], [1]),
    ({"k": 1}, []),
])
def test_items_reads_list_inputs(value: Any, expected: list[Any]) -> None:
    from infra.policy.rules.base import items

    assert items(value) == expected


@pytest.mark.parametrize(("value", "shown"), [(None, "missing"), (True, "true"), (False, "false"), ("x", "'x'"),
                                              (3, "3"), ([1], "[1]")])
def test_values_are_shown_as_written(value: Any, shown: str) -> None:
    from infra.policy.rules.base import shown as show

    assert show(value) == shown


def test_eq_is_case_insensitive_for_strings_only() -> None:
    from infra.policy.rules.base import eq

    assert eq("Disabled", "disabled") and not eq("Disabled", "Enabled") and not eq(None, "none") and not eq(1, "1")


def test_a_view_knows_its_stack_from_the_urn() -> None:
    assert view(S, stack="test").stack == "test"
    assert dataclasses.replace(view(S), urn="urn:other:x::y").stack == ""


def test_views_findings_and_rules_are_immutable_values() -> None:
    from infra.policy.rules.base import ResourceView as View

    plain = View("t", "n", "urn:pulumi:s::p::t::n", {})
    assert (plain.protect, plain.retain_on_delete, plain.provider, plain.parent, plain.dependencies, plain.id) == (
        False, False, None, None, (), None)
    assert Finding("m") == Finding("m", None, False)
    for value, attr in ((plain, "name"), (Finding("m"), "message"), (RULES_BY_NAME["storage-https-only"], "name")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, attr, "x")


def _rule(kind: str = "resource", **fields: Any) -> Any:
    from infra.policy.rules.base import Rule

    def check(res: Any, settings: Any) -> list[Any]:
        return [f"settings {sorted(settings.items())}", Finding("own", urn="urn:own", unknown=True)]

    return Rule("r", "d", "low", kind, check, **fields)  # type: ignore[arg-type]


def test_a_rule_runs_on_its_types_with_its_defaults_under_the_policy_config() -> None:
    rule = _rule(types=(S,), defaults={"a": 1, "b": 2})
    res = view(S)
    assert rule.run_resource(res, {"b": 3, "enforcementLevel": "mandatory"}) == [
        Finding("settings [('a', 1), ('b', 3)]", res.urn), Finding("own", "urn:own", True)]
    assert rule.run_resource(view(KV)) == []  # not its type
    assert rule.run_stack([res]) == []  # not a stack rule
    assert _rule(applies=lambda t: t == KV).run_resource(view(KV), None)[0].urn == view(KV).urn
    stack_rule = _rule("stack", types=(S,))  # a stack rule never runs per resource, even naming types
    assert stack_rule.run_resource(res) == []
    assert stack_rule.run_stack([res]) == [Finding("settings []"), Finding("own", "urn:own", True)]


def test_rules_register_once_under_kebab_case_names() -> None:
    from infra.policy.rules.base import REGISTRY, resource_rule, stack_rule

    def check(res: Any, settings: Any) -> list[Any]:
        return []

    with pytest.raises(ValueError, match="rule name 'Not_Kebab' is not kebab-case"):
        resource_rule("Not_Kebab", "low", "d")(check)
    with pytest.raises(ValueError, match="rule 'storage-https-only' defined twice"):
        stack_rule("storage-https-only", "low", "d")(check)
    try:
        assert resource_rule("edge-test-rule", "low", "d", [S])(check) is check
        assert stack_rule("edge-test-stack-rule", "low", "d")(check) is check
        registered, stack = REGISTRY["edge-test-rule"], REGISTRY["edge-test-stack-rule"]
        assert (registered.kind, registered.types, registered.config_schema, registered.defaults) == (
            "resource", (S,), {}, {})
        assert (stack.kind, stack.types, stack.config_schema, stack.defaults) == ("stack", (), {}, {})
    finally:
        REGISTRY.pop("edge-test-rule", None)
        REGISTRY.pop("edge-test-stack-rule", None)


def test_the_deploy_phase_joins_a_rules_settings() -> None:
    from infra.policy.rules.base import FIRST_DEPLOY, with_deploy_phase

    assert with_deploy_phase({"a": 1}, True) == {"a": 1, FIRST_DEPLOY: True}
    assert with_deploy_phase(None, False) == {"firstDeploy": False}


def test_rules_are_listed_by_severity_then_name() -> None:
    from infra.policy.rules import RULES
    from infra.policy.rules.base import SEVERITIES

    assert list(RULES) == sorted(RULES, key=lambda r: (SEVERITIES.index(r.severity), r.name))
    assert RULES[0].severity == "critical" and RULES[-1].severity == "low"


# What an admin may set per rule in the policy pack's config, and the defaults when nothing is set.
CONFIGURABLE = {
    "lake-geo-redundant-read-access": (
        {"allowedSkus": {"type": "array", "items": {"type": "string"}}, "reason": {"type": "string"}},
        {"allowedSkus": ["Standard_RAGZRS", "Standard_RAGRS"]}),
    "lake-soft-delete-retention": ({"minDays": {"type": "integer"}, "reason": {"type": "string"}}, {"minDays": 30}),
    "vnet-encryption-enabled": ({"reason": {"type": "string"}}, {}),
    "required-tags": ({"requiredTags": {"type": "array", "items": {"type": "string"}}},
                      {"requiredTags": ["environment", "project", "owner", "costCenter"]}),
    "prod-stateful-resources-protected": ({"protectedStacks": {"type": "array", "items": {"type": "string"}}},
                                          {"protectedStacks": ["prod"]}),
    "prod-resource-group-locked": ({"protectedStacks": {"type": "array", "items": {"type": "string"}}},
                                   {"protectedStacks": ["prod"]}),
    "uc-no-broad-privileges-to-non-admins": (
        {"adminGroups": {"type": "array", "items": {"type": "string"},
                         "description": "principals allowed ALL_PRIVILEGES / MANAGE"}},
        {"adminGroups": ["mlops-platform-admins"]}),
    "cluster-policy-auto-termination": ({"maxAutoterminationMinutes": {"type": "integer", "minimum": 1}},
                                        {"maxAutoterminationMinutes": 240}),
    "cluster-policy-guardrails": ({"costTag": {"type": "string"}}, {"costTag": "costCenter"}),
    "uc-deployer-keeps-ownership": (
        {"deployerPrincipals": {"type": "array", "items": {"type": "string"},
                                "description": "application ids (or names) of the principals that run pulumi up"}},
        {"deployerPrincipals": []}),
    "sat-gov-45-job-manage-admins-only": (
        {"adminGroups": {"type": "array", "items": {"type": "string"},
                         "description": "groups that may hold CAN_MANAGE on jobs"}},
        {"adminGroups": ["mlops-platform-admins"]}),
}


def test_configurable_rules_and_their_defaults() -> None:
    from infra.policy.rules import RULES

    found = {r.name: (r.config_schema, r.defaults) for r in RULES if r.config_schema or r.defaults}
    assert found == CONFIGURABLE
