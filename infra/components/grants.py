"""Unity Catalog grants: the access-control matrix as a table, then one authoritative `Grants` per securable.

`grant_table(config)` is pure (config in, rows out): the same rows become the `Grants` resources and the
`grants` stack output, so `mlopsctl verify` can compare the live workspace with what was declared.
`dbx.Grants` is authoritative per securable, so this module is the only place that grants on them
(never `dbx.Grant` on the same securable).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_databricks as dbx

from infra.config import StackConfig
from infra.config.unity_catalog import ACCESS_LEVELS, LOCATION_LEVELS, principal_name

SECURABLE_ORDER = ("storage_credential", "external_location", "catalog", "schema")
# The admins group's rights on what the deployer owns: administer (MANAGE) and enter, no data by default.
ADMIN_CREDENTIAL = ("CREATE_EXTERNAL_LOCATION", "MANAGE")
ADMIN_CATALOG = ("BROWSE", "MANAGE", "USE_CATALOG", "USE_SCHEMA")


@dataclass(frozen=True)
class GrantRow:
    securable_type: str  # storage_credential | external_location | catalog | schema
    securable: str  # full name (catalog.schema for schemas)
    principal: str  # account group display name, or the CI/CD principal's application id
    privileges: tuple[str, ...]  # sorted

    def as_output(self) -> dict[str, object]:
        return {"securableType": self.securable_type, "securable": self.securable, "principal": self.principal,
                "privileges": list(self.privileges)}


def storage_credential_name(config: StackConfig) -> str:
    return config.unity_catalog.storage_credential or f"{config.naming.prefix}-{config.environment}-lake"


def external_location_name(config: StackConfig, container: str) -> str:
    loc = next((x for x in config.unity_catalog.external_locations if x.container == container), None)
    return (loc.name if loc and loc.name else None) or f"{config.naming.prefix}-{config.environment}-{container}"


def grant_table(config: StackConfig) -> list[GrantRow]:
    """Every (securable, principal) -> privileges this stack declares, merged and sorted."""
    uc = config.unity_catalog
    acc: dict[tuple[str, str], dict[str, set[str]]] = {}

    def add(kind: str, securable: str, principal: str, privileges: Sequence[str]) -> None:
        if privileges:
            acc.setdefault((kind, securable), {}).setdefault(principal, set()).update(privileges)

    # The deployer owns every securable it creates (no `owner` is set, see unity_catalog.py); the admins group
    # administers them through MANAGE, which grants no data access and needs USE_CATALOG/USE_SCHEMA beside it
    # (Databricks docs, "Manage Unity Catalog object ownership": ownership vs MANAGE).
    admins = config.identity.groups.admins
    add("storage_credential", storage_credential_name(config), admins, ADMIN_CREDENTIAL)
    for loc in uc.external_locations:
        name = external_location_name(config, loc.container)
        add("external_location", name, admins, [*LOCATION_LEVELS["FULL_ACCESS"], "MANAGE"])
        for role, level in loc.access.items():
            add("external_location", name, principal_name(config, role), LOCATION_LEVELS[level])
    for cat in uc.catalogs:
        add("catalog", cat.name, admins, ADMIN_CATALOG)
        for role, cell in cat.access.items():
            privileges = ACCESS_LEVELS[cell.level]
            group = principal_name(config, role)
            if not privileges:
                continue
            if cell.schemas is None:
                add("catalog", cat.name, group, privileges)
                continue
            # A cell limited to schemas: enter the catalog, act only in those schemas.
            add("catalog", cat.name, group, ["USE_CATALOG"])
            for schema in cell.schemas:
                add("schema", f"{cat.name}.{schema}", group,
                    [p for p in privileges if p not in ("USE_CATALOG", "CREATE_SCHEMA")])
        for grant in cat.grants:
            if grant.schema_:
                add("schema", f"{cat.name}.{grant.schema_}", principal_name(config, grant.principal), grant.privileges)
            else:
                add("catalog", cat.name, principal_name(config, grant.principal), grant.privileges)
    cicd_catalog = uc.cicd.catalog or uc.default_catalog_name
    if cicd_catalog:
        app = config.identity.cicd_service_principal.application_id
        add("catalog", cicd_catalog, app, uc.cicd.catalog_privileges)
        add("schema", f"{cicd_catalog}.{uc.cicd.schema_}", app, uc.cicd.schema_privileges)
        # The drift alerts and the retrain jobs run as the CI/CD principal: what their queries and tasks read
        # and where they register models (ServingConfig.run_as_grants), on this stack's schemas.
        declared = {f"{c.name}.{s.name}" for c in uc.catalogs for s in c.schemas}
        for schema, privileges in (config.serving.run_as_grants() if config.serving else {}).items():
            if schema in declared:
                add("catalog", schema.split(".", 1)[0], app, ["USE_CATALOG"])
                add("schema", schema, app, privileges)
    rows = [GrantRow(kind, securable, principal, tuple(sorted(privileges)))
            for (kind, securable), by_principal in acc.items() for principal, privileges in by_principal.items()]
    return sorted(rows, key=lambda r: (SECURABLE_ORDER.index(r.securable_type), r.securable, r.principal))


@dataclass(frozen=True)
class UcGrantsArgs:
    rows: list[GrantRow]
    # securable (type, full name) -> the resource it grants on (dependency; its name output is used)
    securables: dict[tuple[str, str], pulumi.Resource]
    workspace_provider: dbx.Provider
    depends_on: list[pulumi.Resource]  # metastore assignment, account groups, ...


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
