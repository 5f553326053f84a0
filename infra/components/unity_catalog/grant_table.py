"""The access-control matrix as a table: every (securable, principal) -> privileges this stack declares.

`grant_table(...)` is pure (config sections in, rows out): the same rows become the `Grants` resources (grants.py)
and the `grants` stack output, so `mlopsctl verify` can compare the live workspace with what was declared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from infra.config.identity import IdentityConfig
from infra.config.unity_catalog import ACCESS_LEVELS, LOCATION_LEVELS, UnityCatalogConfig
from infra.naming import Names

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


def storage_credential_name(uc: UnityCatalogConfig, names: Names) -> str:
    return uc.storage_credential or names.storage_credential


def external_location_name(uc: UnityCatalogConfig, names: Names, container: str) -> str:
    loc = next((x for x in uc.external_locations if x.container == container), None)
    return (loc.name if loc and loc.name else None) or names.external_location(container)


def grant_table(uc: UnityCatalogConfig, identity: IdentityConfig, names: Names,
                run_as_grants: Mapping[str, Sequence[str]]) -> list[GrantRow]:
    """Every (securable, principal) -> privileges this stack declares, merged and sorted.

    `run_as_grants`: catalog.schema -> what the drift alerts' and retrain jobs' run-as principal needs.
    """
    principal_name = identity.principal_name
    acc: dict[tuple[str, str], dict[str, set[str]]] = {}

    def add(kind: str, securable: str, principal: str, privileges: Sequence[str]) -> None:
        if privileges:
            acc.setdefault((kind, securable), {}).setdefault(principal, set()).update(privileges)

    # The deployer owns every securable it creates (no `owner` is set, see governance.py); the admins group
    # administers them through MANAGE, which grants no data access and needs USE_CATALOG/USE_SCHEMA beside it
    # (Databricks docs, "Manage Unity Catalog object ownership": ownership vs MANAGE).
    admins = identity.groups.admins
    add("storage_credential", storage_credential_name(uc, names), admins, ADMIN_CREDENTIAL)
    for loc in uc.external_locations:
        name = external_location_name(uc, names, loc.container)
        add("external_location", name, admins, [*LOCATION_LEVELS["FULL_ACCESS"], "MANAGE"])
        for role, level in loc.access.items():
            add("external_location", name, principal_name(role), LOCATION_LEVELS[level])
    for cat in uc.catalogs:
        add("catalog", cat.name, admins, ADMIN_CATALOG)
        for role, cell in cat.access.items():
            privileges = ACCESS_LEVELS[cell.level]
            group = principal_name(role)
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
                add("schema", f"{cat.name}.{grant.schema_}", principal_name(grant.principal), grant.privileges)
            else:
                add("catalog", cat.name, principal_name(grant.principal), grant.privileges)
    cicd_catalog = uc.cicd.catalog or uc.default_catalog_name
    if cicd_catalog:
        app = identity.cicd_service_principal.application_id
        add("catalog", cicd_catalog, app, uc.cicd.catalog_privileges)
        add("schema", f"{cicd_catalog}.{uc.cicd.schema_}", app, uc.cicd.schema_privileges)
        # The drift alerts and the retrain jobs run as the CI/CD principal: what their queries and tasks read
        # and where they register models (ServingConfig.run_as_grants), on this stack's schemas.
        declared = {f"{c.name}.{s.name}" for c in uc.catalogs for s in c.schemas}
        for schema, needs in run_as_grants.items():
            if schema in declared:
                add("catalog", schema.partition(".")[0], app, ["USE_CATALOG"])
                add("schema", schema, app, needs)
    rows = [GrantRow(kind, securable, principal, tuple(sorted(privileges)))
            for (kind, securable), by_principal in acc.items() for principal, privileges in by_principal.items()]
    return sorted(rows, key=lambda r: (SECURABLE_ORDER.index(r.securable_type), r.securable, r.principal))
