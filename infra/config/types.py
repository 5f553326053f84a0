"""Validated value types of the config models, each defined once with its one error message.

Constraints are pydantic `Field`s inside `Annotated`, so the configuration reference still shows each
key's pattern and length; an optional key uses the `Optional...` variant, which keeps them visible too.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from infra import naming

# The tier of a stack: what it may relax (dev, test) or must refuse (prod). Not its name.
Environment = Literal["dev", "test", "prod"]

# --- identifiers ---
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_UUID = Field(pattern=UUID_PATTERN, json_schema_extra={
    "allowed": "a UUID in lowercase hex, e.g. 01234567-89ab-cdef-0123-456789abcdef"})
Uuid = Annotated[str, _UUID]
OptionalUuid = Annotated[str | None, _UUID]

# --- e-mail ---
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


def check_emails(values: list[str]) -> list[str]:
    """Every recipient list (budgets, monitors, alerts) goes through this one rule."""
    for address in values:
        if not EMAIL.match(address):
            raise ValueError(f"has {address!r}, which is not an e-mail address")
    return values


EmailList = Annotated[list[str], AfterValidator(check_emails),
                      Field(json_schema_extra={"allowed": "a list of e-mail addresses, e.g. [mlops-team@example.com]"})]


# --- CIDR ---
def ipv4_network(value: str) -> ipaddress.IPv4Network:
    """An IPv4 network written without host bits (the VNet and its subnets)."""
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError("is not a valid CIDR (e.g. '10.10.0.0/16')") from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise ValueError("is not an IPv4 CIDR; Azure Databricks VNet injection needs IPv4")
    if str(net) != value:
        raise ValueError(f"has host bits set; did you mean {str(net)!r}?")
    return net


def _ipv4_cidr(value: str) -> str:
    ipv4_network(value)
    return value


Ipv4Cidr = Annotated[str, AfterValidator(_ipv4_cidr),
                     Field(json_schema_extra={"allowed": "an IPv4 CIDR range without host bits, e.g. 10.1.0.0/16"})]


# --- names ---
def _azure_name(kind: str) -> Callable[[str], str]:
    """A validator for a name of Azure resource `kind` (limits in infra/naming.py)."""
    def check(value: str) -> str:
        problem = naming.check_name(kind, value)
        if problem:
            raise ValueError(problem)
        return value
    return check


SubnetName = Annotated[str, AfterValidator(_azure_name("subnet")), Field(json_schema_extra={
    "allowed": "1-80 letters, digits, hyphens, underscores and dots, starting with a letter or digit"})]
StorageAccountName = Annotated[str, AfterValidator(_azure_name("storageAccount")), Field(json_schema_extra={
    "allowed": "3-24 lowercase letters and digits, globally unique in Azure"})]

# Account group display names (also the CI/CD principal's display name).
GROUP_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}$"
GroupName = Annotated[str, Field(pattern=GROUP_NAME_PATTERN, json_schema_extra={
    "allowed": "1-128 letters, digits, spaces, dots, underscores and hyphens, starting with a letter or digit"})]

# Catalogs and schemas this program creates: lowercase, so names match what Unity Catalog stores.
UcName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=255, json_schema_extra={
    "allowed": "up to 255 lowercase letters, digits and underscores, starting with a letter, e.g. ml_dev"})]
# Storage credentials and external locations (hyphens allowed).
_SECURABLE = Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=255, json_schema_extra={
    "allowed": "up to 255 lowercase letters, digits, underscores and hyphens, starting with a letter"})
OptionalSecurableName = Annotated[str | None, _SECURABLE]
# A metastore, or a Pulumi organization or project.
OBJECT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

# Unity Catalog identifiers the program reads or writes into (existing catalogs, schemas, tables, metrics).
UC_IDENTIFIER_PATTERN = r"[A-Za-z_][A-Za-z0-9_]{0,254}"
UcIdentifier = Annotated[str, Field(pattern=rf"^{UC_IDENTIFIER_PATTERN}$", json_schema_extra={
    "allowed": "up to 255 letters, digits and underscores, not starting with a digit"})]
# Serving endpoints and their served entities: alphanumerics, dashes and underscores, at most 63 (API rule).
ServingName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$", json_schema_extra={
    "allowed": "1-63 letters, digits, underscores and hyphens, starting with a letter or digit"})]

# Plain words for the patterns that fields set inline: the configuration reference shows these, never the regex.
PATTERN_WORDS: dict[str, str] = {
    r"^[A-Za-z0-9_]+$": "letters, digits and underscores",
    r"^azure:[a-z0-9]+:[0-9a-f-]{36}$": "azure:<region>:<metastore uuid>, e.g. azure:centralus:<uuid>",
    r"^[a-z][a-z0-9-]{1,14}$": "2-15 lowercase letters, digits and hyphens, starting with a letter",
    r"^[A-Za-z_][A-Za-z0-9_]{0,100}$": "1-101 letters, digits and underscores, not starting with a digit",
    OBJECT_NAME_PATTERN: "letters, digits, underscores, dots and hyphens, starting with a letter or digit",
    r"^[A-Za-z0-9_.-]+$": "letters, digits, underscores, dots and hyphens",
    r"^/[\w./-]*[\w-]$": "an absolute workspace path without a trailing slash, e.g. /Workspace/ml_experiments",
}


def _name_words(kind: str) -> str:
    low, high, _pattern, allowed = naming.LIMITS[kind]
    return f"{low}-{high} characters: {allowed}"


# Allowed values in words for fields a validator checks (no constraint the reference could read), keyed by
# `Model.field`. tests/test_config_reference.py checks that every key names a field.
FIELD_WORDS: dict[str, str] = {
    "AbacConfig.tag_key": "a governed tag (governance.governedTags here or in the declaring stack)",
    "AbacConfig.function_schema": "catalog.schema, lowercase, declared in unityCatalog.catalogs",
    "AbacConfig.unmasked_groups": "one or more groups of identity.groups",
    "AbacPolicy.securable": "a catalog or catalog.schema of this stack, lowercase",
    "AbacPolicy.tag_values": "one or more values of the tagKey governed tag, each once",
    "AbacPolicy.function": "a SQL file's name in infra/sql/abac/column_masks (masks) or row_filters (filters)",
    "CostReportingConfig.dashboard_folder": "an absolute workspace folder, e.g. /Shared/mlops-platform",
    "AuditAlert.query": "SQL with a numeric column `value`; placeholders {catalogs}, {cicdPrincipal}, {workspaceId}",
    "HubFirewallConfig.private_ip": "a private IPv4 address (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) outside "
                                    "vnetCidr, e.g. 10.100.0.4",
    "HubFirewallConfig.policy_id": "/subscriptions/<uuid>/resourceGroups/<rg>/providers/Microsoft.Network/"
                                   "firewallPolicies/<name>",
    "TagsConfig.extra": "tag name -> value; names up to 512 characters without < > % & \\ ? /, values up to 256",
    "NamingConfig.resource_group": _name_words("resourceGroup"),
    "NamingConfig.managed_resource_group": _name_words("resourceGroup"),
    "NamingConfig.workspace": _name_words("workspace"),
    "NamingConfig.virtual_network": _name_words("virtualNetwork"),
    "NamingConfig.storage_account": _name_words("storageAccount") + ", globally unique in Azure",
    "NamingConfig.key_vault": _name_words("keyVault") + ", globally unique in Azure",
    "NamingConfig.dbfs_storage_account": _name_words("storageAccount") + ", globally unique in Azure",
    "AccountGroupsConfig.ids": "role key (the four roles, extraRoles and `admins`) -> the group's account id (digits)",
    "IdentityConfig.extra_roles": "camelCase role key (not a built-in role) -> account group display name",
    "LakeConfig.containers": "one or more unique names of 3-63 lowercase letters, digits and single hyphens, starting "
                             "and ending with a letter or digit, e.g. mlflow-artifacts-dev",
    "WorkspaceSecurityConfig.ip_access_list": "CIDR ranges without host bits, not 0.0.0.0/0, e.g. 203.0.113.0/24",
    "DeployRunnerConfig.hub_vnet_id": "a virtual network's ARM id: /subscriptions/<uuid>/resourceGroups/<rg>/providers/"
                                      "Microsoft.Network/virtualNetworks/<name>",
    "DeployRunnerConfig.hub_dns_zone": "`link`, or the ARM id of a private DNS zone named "
                                       "privatelink.azuredatabricks.net: /subscriptions/<uuid>/resourceGroups/<rg>/"
                                       "providers/Microsoft.Network/privateDnsZones/privatelink.azuredatabricks.net",
    "DeployRunnerConfig.egress_cidrs": "public IPv4 CIDR ranges, e.g. 203.0.113.10/32",
    "ExternalLocationConfig.container": "one of lake.containers",
    "CatalogConfig.storage_container": "one of lake.containers that has an external location",
    "RoleAccess.schemas": "schema names of this catalog",
    "GrantConfig.schema_": "a schema name of this catalog",
    "UnityCatalogConfig.default_catalog": "a catalog name of this stack",
    "CicdGrantsConfig.catalog": "a catalog name of this stack",
    "CicdGrantsConfig.schema_": "a schema name of the CI/CD catalog",
    "CicdGrantsConfig.catalog_privileges": "Unity Catalog catalog privileges, e.g. USE_CATALOG, CREATE_SCHEMA; not "
                                           "MANAGE or ALL_PRIVILEGES",
    "CicdGrantsConfig.schema_privileges": "Unity Catalog schema privileges, e.g. USE_SCHEMA, SELECT, MODIFY; not "
                                          "MANAGE or ALL_PRIVILEGES",
    "UnityCatalogConfig.admin_groups": "account group display names (no user e-mails)",
    "SecretScopeConfig.readers": "role keys (the four roles and identity.extraRoles)",
    "ComputeConfig.node_type_id": "an Azure VM size of family DSv2, Dsv3 or Esv3 with a known DBU rate, e.g. "
                                  "Standard_DS3_v2",
    "ComputeConfig.driver_node_type_id": "an Azure VM size of family DSv2, Dsv3 or Esv3 with a known DBU rate, e.g. "
                                         "Standard_DS4_v2",
    "ComputeConfig.runtime_versions": "supported LTS ML runtimes: 17.3.x-cpu-ml-scala2.13, 16.4.x-cpu-ml-scala2.13, "
                                      "16.4.x-cpu-ml-scala2.12, 15.4.x-cpu-ml-scala2.12; no repeats",
    "ComputeConfig.autotermination_minutes": "from 10 to 10000",
    "ComputeConfig.spark_conf": "Spark setting -> value; setting names start with `spark.`",
    "JobsPolicyConfig.spot_bid_max_price": "-1 (up to the on-demand price) or a price above 0",
    "BudgetConfig.start_date": "the first day of a month, e.g. 2026-01-01",
    "BudgetConfig.thresholds": "1 to 5 thresholds",
    "ServingConfig.git_sha": "7 to 40 lowercase hex digits, or `unknown`",
    "Retraining.drift_notebook": "an absolute path under /Workspace, e.g. /Workspace/Shared/mlops/notebooks/drift",
    "Retraining.training_notebook": "an absolute path under /Workspace, e.g. /Workspace/Shared/mlops/notebooks/train",
    "Schedule.cron": "a 5-field cron; not both day-of-month and day-of-week, no step in day-of-week",
    "Schedule.timezone": "an IANA time zone id, e.g. UTC or Europe/Berlin",
    **{f"{kind}Schedule.{key}": words for kind in ("Hourly", "Daily") for key, words in (
        ("cron", "a 5-field cron; not both day-of-month and day-of-week, no step in day-of-week"),
        ("timezone", "an IANA time zone id, e.g. UTC or Europe/Berlin"))},
    "ServedEntity.entity_name": "catalog.schema.model (letters, digits and underscores)",
    "ServedEntity.entity_version": "a whole number, 1 or more",
    "ServedEntity.entity_alias": "a model alias: letters, digits and underscores, not `latest` or `v<digits>`",
    "Promotion.challenger_alias": "a model alias: letters, digits and underscores, not `latest` or `v<digits>`",
    "Promotion.champion_alias": "a model alias, other than the challenger alias",
    "AbTest.control": "the name of one of this endpoint's served entities, with traffic",
    "AbTest.treatment": "the name of another of this endpoint's served entities, with traffic",
    "Endpoint.routes": "served entity name -> percent from 0 to 100; one per entity, adding up to 100",
    "RateLimit.principal": "a group name or a service principal's application id",
    "Monitor.table_name": "catalog.schema.table (letters, digits and underscores)",
    "Monitor.baseline_table": "catalog.schema.table (letters, digits and underscores)",
    "Monitor.assets_dir": "an absolute path under /Workspace",
    "StackConfig.alert_webhook_url": "an https:// URL, stored as a Pulumi secret",
}
