"""Unity Catalog grants: one authoritative `Grants` per securable, from the rows of the grant table.

`dbx.Grants` is authoritative per securable, so this module is the only place that grants on them
(never `dbx.Grant` on the same securable).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_databricks as dbx

from infra.components.unity_catalog.grant_table import GrantRow


@dataclass(frozen=True)
class UcGrantsArgs:
    rows: list[GrantRow]
    # securable (type, full name) -> the resource it grants on (dependency; its name output is used)
    securables: dict[tuple[str, str], pulumi.Resource]
    workspace_provider: dbx.Provider
    depends_on: Sequence[pulumi.Resource] = ()  # metastore assignment, account groups, ...


class UcGrants(pulumi.ComponentResource):
    """mlops:platform:UcGrants: one authoritative dbx.Grants per securable."""

    grants: dict[tuple[str, str], dbx.Grants]

    def __init__(self, name: str, args: UcGrantsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:UcGrants", name, None, opts)
        by_securable: dict[tuple[str, str], list[GrantRow]] = {}
        for row in args.rows:
            by_securable.setdefault((row.securable_type, row.securable), []).append(row)
        self.grants = {}
        for (kind, securable), rows in by_securable.items():
            target = args.securables.get((kind, securable))
            if target is None:
                raise KeyError(f"grants on {kind} {securable!r}, which this stack does not declare")
            self.grants[(kind, securable)] = dbx.Grants(
                f"grants-{kind.replace('_', '-')}-{securable}",
                grants=[dbx.GrantsGrantArgs(principal=r.principal, privileges=list(r.privileges)) for r in rows],
                catalog=securable if kind == "catalog" else None,
                schema=securable if kind == "schema" else None,
                external_location=securable if kind == "external_location" else None,
                storage_credential=securable if kind == "storage_credential" else None,
                opts=pulumi.ResourceOptions(parent=self, provider=args.workspace_provider,
                                            depends_on=[target, *args.depends_on]))
        self.register_outputs({})
