"""Resilience rules: the lake survives a regional outage and a mistaken delete.

Prod holds them mandatory; dev and test relax them to advisory in their enforcement files, with the reason
(`reason` setting), because their data is rebuilt from code and prod's tables (docs/recovery.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from infra.policy.rules import types as T
from infra.policy.rules.base import Finding, ResourceView, is_unknown, resource_rule, shown, unknown

Result = Iterator[Finding | str]

_REASON = {"reason": {"type": "string"}}  # why a stack relaxes the rule (documentation, not read by the rule)


@resource_rule("lake-geo-redundant-read-access", "high",
               "Storage accounts holding data are geo-redundant with read access to the paired region "
               "(RA-GZRS, or RA-GRS where the region has no GZRS).", [T.STORAGE_ACCOUNT],
               # Checkov CKV_AZURE_206 "Ensure that Storage Accounts use replication"; Microsoft Learn, "Azure
               # Storage redundancy": only RA-GRS/RA-GZRS give read access to the secondary before a failover.
               source="CKV_AZURE_206; Microsoft Learn 'Azure Storage redundancy'",
               config_schema={"allowedSkus": {"type": "array", "items": {"type": "string"}}, **_REASON},
               defaults={"allowedSkus": ["Standard_RAGZRS", "Standard_RAGRS"]})
def geo_redundant(res: ResourceView, settings: Mapping[str, Any]) -> Result:
    sku = res.get("sku.name")
    allowed = settings["allowedSkus"]
    if is_unknown(sku):
        yield unknown("sku.name")
    elif not (isinstance(sku, str) and sku.lower() in {s.lower() for s in allowed}):
        yield (f"sku.name is {shown(sku)}; must be one of {', '.join(allowed)} (a regional outage must not "
               "lose the data, and the paired region must be readable)")


@resource_rule("lake-soft-delete-retention", "high",
               "Blob and container soft delete keep deleted data at least the minimum days (30 by default).",
               [T.BLOB_SERVICE], source="Microsoft Learn 'Soft delete for blobs'; CKV2_AZURE_38",
               config_schema={"minDays": {"type": "integer"}, **_REASON}, defaults={"minDays": 30})
def soft_delete_retention(res: ResourceView, settings: Mapping[str, Any]) -> Result:
    minimum = settings["minDays"]
    for path in ("deleteRetentionPolicy", "containerDeleteRetentionPolicy"):
        enabled, days = res.get(f"{path}.enabled"), res.get(f"{path}.days")
        if is_unknown(enabled) or is_unknown(days):
            yield unknown(f"{path}.days")
        elif enabled is not True or not isinstance(days, int) or days < minimum:
            state = f"{shown(days)} days" if enabled is True else "disabled"
            yield f"{path} keeps deleted data {state}; must be enabled with at least {minimum} days"
