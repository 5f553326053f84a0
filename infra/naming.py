"""Deterministic resource names, in one place. Seed names are the defaults (mlops-<env>-rg, ...)."""

from __future__ import annotations

import hashlib
import re

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


# Names that are unique across all of Azure, per namespace: two stacks (or the lake and the DBFS root of one
# stack) must never share one.
GLOBAL_NAMESPACES: dict[str, tuple[str, ...]] = {
    "storage account": ("storageAccount", "dbfsStorageAccount"),
    "key vault": ("keyVault",),
}


def default_names(prefix: str, env: str) -> dict[str, str]:
    """The seed's naming scheme. Globally unique names get a stable hash of prefix+env."""
    compact = re.sub(r"[^a-z0-9]", "", prefix.lower())
    suffix = short_hash(prefix, env)
    return {
        "resourceGroup": f"{prefix}-{env}-rg",
        "managedResourceGroup": f"{prefix}-{env}-workspace-managed-rg",
        "workspace": f"{prefix}-{env}-workspace",
        "virtualNetwork": f"{prefix}-{env}-vnet",
        "hostSubnet": "public-subnet",
        "containerSubnet": "private-subnet",
        "privateEndpointSubnet": "pe-subnet",
        "natGateway": f"{prefix}-{env}-nat",
        "natPublicIp": f"{prefix}-{env}-nat-pip",
        "hostNsg": f"{prefix}-{env}-host-nsg",
        "containerNsg": f"{prefix}-{env}-container-nsg",
        "privateEndpointNsg": f"{prefix}-{env}-pe-nsg",
        "storageAccount": f"{compact[:10]}{env}lake{suffix}"[:24],
        # The workspace's own (DBFS root) account, in the managed resource group. Named here, not left to
        # Databricks' random `dbstorage<random>`, so its private endpoints can name it in the same run.
        "dbfsStorageAccount": f"{compact[:10]}{env}dbfs{suffix}"[:24],
        "keyVault": f"{prefix}-{env}-kv-{suffix}"[:24],
        "accessConnector": f"{prefix}-{env}-access-connector",
        "logAnalytics": f"{prefix}-{env}-logs",
    }
