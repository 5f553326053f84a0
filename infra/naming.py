"""Deterministic resource names, in one place. Seed names are the defaults (mlops-<stack>-rg, ...)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# Azure limits, checked in config (not discovered at deploy). (min, max, pattern, what is allowed)
LIMITS: dict[str, tuple[int, int, str, str]] = {
    "resourceGroup": (1, 90, r"^[-\w.()]*[-\w()]$", "letters, digits, - _ . ( ), not ending in '.'"),
    "workspace": (3, 64, r"^[A-Za-z0-9][A-Za-z0-9_-]*$", "letters, digits, - and _"),
    "virtualNetwork": (2, 64, r"^[A-Za-z0-9][\w.-]*\w$", "letters, digits, - _ ., starting alphanumeric"),
    "subnet": (1, 80, r"^[A-Za-z0-9]([\w.-]*\w)?$", "letters, digits, - _ ., starting alphanumeric"),
    "networkSecurityGroup": (1, 80, r"^[A-Za-z0-9]([\w.-]*\w)?$", "letters, digits, - _ ."),
    "storageAccount": (3, 24, r"^[a-z0-9]+$", "lowercase letters and digits only"),
    "keyVault": (3, 24, r"^[A-Za-z](?!.*--)[A-Za-z0-9-]*[A-Za-z0-9]$",
                 "letters, digits and single hyphens, starting with a letter"),
    "accessConnector": (3, 64, r"^[A-Za-z0-9][\w.-]*$", "letters, digits, - _ ."),
    "logAnalytics": (4, 63, r"^[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]$", "letters, digits and hyphens"),
    "catalog": (1, 255, r"^[a-z][a-z0-9_]*$", "lowercase letters, digits and _ (Unity Catalog identifier)"),
}


def check_name(kind: str, name: str) -> str | None:
    """None if `name` fits Azure's rules for `kind`, else what is allowed."""
    lo, hi, pattern, allowed = LIMITS[kind]
    if not lo <= len(name) <= hi:
        return f"must be {lo}-{hi} characters (has {len(name)}); allowed: {allowed}"
    if not re.match(pattern, name):
        return f"has characters Azure does not allow; allowed: {allowed}"
    return None


def short_hash(*parts: str, length: int = 6) -> str:
    """A stable suffix for globally unique names (storage accounts, key vaults)."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


# Names that are unique across all of Azure, per namespace (Names attributes): two stacks (or the lake and the
# DBFS root of one stack) must never share one.
GLOBAL_NAMESPACES: dict[str, tuple[str, ...]] = {
    "storage account": ("storage_account", "dbfs_storage_account"),
    "key vault": ("key_vault",),
}


@dataclass(frozen=True)
class Names:
    """What the program names in one stack. Defaults come from `default_names`; naming.* overrides some."""

    resource_group: str
    managed_resource_group: str
    workspace: str
    virtual_network: str
    nat_gateway: str
    nat_public_ip: str
    host_nsg: str
    container_nsg: str
    private_endpoint_nsg: str
    storage_account: str
    # The workspace's own (DBFS root) account, in the managed resource group. Named here, not left to
    # Databricks' random `dbstorage<random>`, so its private endpoints can name it in the same run.
    dbfs_storage_account: str
    key_vault: str
    access_connector: str
    log_analytics: str
    # <prefix>-<stack>: private endpoints and DNS zone links start with it
    stack_prefix: str
    # Account- and metastore-wide, so unique per stack: the serverless NCC, the storage credential and
    # external locations (defaults; unityCatalog.* may name the latter two).
    network_connectivity_config: str
    storage_credential: str
    secret_scope: str  # workspace-level; workspaceSettings.secretScope.name may name it

    def external_location(self, container: str) -> str:
        """The default name of the external location over a lake container."""
        return f"{self.stack_prefix}-{container}"


def default_names(prefix: str, stack: str) -> Names:
    """The seed's naming scheme, per stack (not per environment: two stacks of one tier differ).
    Globally unique names get a stable hash of prefix+stack."""
    compact = re.sub(r"[^a-z0-9]", "", prefix.lower())
    # storage account names take lowercase letters and digits only: a stack named `prod-dr` gives `proddr`
    stack_compact = re.sub(r"[^a-z0-9]", "", stack.lower())
    suffix = short_hash(prefix, stack)
    base = f"{prefix}-{stack}"
    return Names(
        resource_group=f"{base}-rg",
        managed_resource_group=f"{base}-workspace-managed-rg",
        workspace=f"{base}-workspace",
        virtual_network=f"{base}-vnet",
        nat_gateway=f"{base}-nat",
        nat_public_ip=f"{base}-nat-pip",
        host_nsg=f"{base}-host-nsg",
        container_nsg=f"{base}-container-nsg",
        private_endpoint_nsg=f"{base}-pe-nsg",
        storage_account=f"{compact[:10]}{stack_compact}lake{suffix}"[:24],
        dbfs_storage_account=f"{compact[:10]}{stack_compact}dbfs{suffix}"[:24],
        key_vault=f"{base}-kv-{suffix}"[:24],
        access_connector=f"{base}-access-connector",
        log_analytics=f"{base}-logs",
        stack_prefix=base,
        network_connectivity_config=f"{base}-ncc",
        storage_credential=f"{base}-lake",
        secret_scope=f"{base}-kv",
    )
