"""Read access to Unity Catalog system tables for one principal (the identity SQL alerts and dashboards run as).

Non-authoritative `Grant`s (one principal each), never `Grants`: the `system` catalog is the metastore's, shared
by every stack, and an authoritative grant would remove what other stacks or admins granted there (a `Grant`
manages only its one principal's privileges: terraform-provider-databricks docs/resources/grant.md). Reading a
system table needs USE CATALOG on `system`, USE SCHEMA and SELECT on its schema (Databricks docs, "Monitor account
activity with system tables": access is governed by Unity Catalog; a metastore or account admin grants it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_databricks as dbx

SYSTEM_CATALOG = "system"


@dataclass(frozen=True)
class SystemTableReaderArgs:
    principal: str  # application id of a service principal, or a group name
    schemas: Sequence[str]  # system schemas to read: access, billing, ...
    provider: dbx.Provider
    # the principal must exist in the workspace; an opt-in schema must be enabled first
    depends_on: Sequence[pulumi.Input[pulumi.Resource]] = ()


class SystemTableReader(pulumi.ComponentResource):
    """mlops:platform:SystemTableReader: USE CATALOG on `system`, USE SCHEMA + SELECT on each named system schema."""

    grants: dict[str, dbx.Grant]

    def __init__(self, name: str, args: SystemTableReaderArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:SystemTableReader", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=list(args.depends_on))
        self.grants = {SYSTEM_CATALOG: dbx.Grant(
            f"{name}-system", catalog=SYSTEM_CATALOG, principal=args.principal, privileges=["USE_CATALOG"],
            opts=child)}
        for schema in sorted(set(args.schemas)):
            self.grants[schema] = dbx.Grant(
                f"{name}-system-{schema}", schema=f"{SYSTEM_CATALOG}.{schema}", principal=args.principal,
                privileges=["SELECT", "USE_SCHEMA"], opts=child)
        self.register_outputs({"schemas": sorted(self.grants)})
