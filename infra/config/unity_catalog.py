"""Config of Unity Catalog and access: metastore, catalogs, schemas, grants, workspace settings.

The access-control matrix is config: each catalog says which access level each role has
(`access: {dataScientists: READ_WRITE}`); `ACCESS_LEVELS` maps the levels to current Unity Catalog
privileges (docs/unity-catalog.md "Privilege mapping" shows the table). Everything else is derived.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import StrictModel, field_problems, repeated
from infra.config.types import (
    OBJECT_NAME_PATTERN,
    Environment,
    OptionalSecurableName,
    OptionalUuid,
    UcName,
)

if TYPE_CHECKING:
    from infra.config.model import StackConfig

AccessLevel = Literal["NO_ACCESS", "READ", "READ_WRITE", "CREATE_UPDATE", "PROMOTE", "FULL_ACCESS"]

_READ = ("USE_CATALOG", "USE_SCHEMA", "BROWSE", "SELECT", "EXECUTE", "READ_VOLUME")
_WRITE = ("MODIFY", "CREATE_TABLE", "CREATE_FUNCTION", "CREATE_MODEL", "CREATE_VOLUME",
          "CREATE_MATERIALIZED_VIEW", "WRITE_VOLUME", "REFRESH")
# The matrix's words -> privileges granted on the catalog (inherited by its schemas). MANAGE and
# ALL_PRIVILEGES are never part of a level: only admin groups may hold them (explicit `grants`).
ACCESS_LEVELS: dict[str, tuple[str, ...]] = {
    "NO_ACCESS": (),
    "READ": _READ,
    "READ_WRITE": _READ + _WRITE,
    # Register and update one's own models (new versions), load any model in scope.
    "CREATE_UPDATE": ("USE_CATALOG", "USE_SCHEMA", "BROWSE", "EXECUTE", "CREATE_MODEL", "CREATE_FUNCTION"),
    # Read every model, copy versions into the next stage's schema, tag them (stage, approval).
    "PROMOTE": ("USE_CATALOG", "USE_SCHEMA", "BROWSE", "EXECUTE", "CREATE_MODEL", "APPLY_TAG"),
    "FULL_ACCESS": _READ + _WRITE + ("CREATE_SCHEMA", "APPLY_TAG"),
}
# Levels on external locations (files under a lake container).
LOCATION_LEVELS: dict[str, tuple[str, ...]] = {
    "NO_ACCESS": (),
    "READ": ("BROWSE", "READ_FILES"),
    "READ_WRITE": ("BROWSE", "READ_FILES", "WRITE_FILES", "CREATE_EXTERNAL_TABLE", "CREATE_EXTERNAL_VOLUME"),
    "FULL_ACCESS": ("BROWSE", "READ_FILES", "WRITE_FILES", "CREATE_EXTERNAL_TABLE", "CREATE_EXTERNAL_VOLUME",
                    "CREATE_MANAGED_STORAGE"),
}

ADMIN_ONLY = frozenset({"ALL_PRIVILEGES", "MANAGE"})
CATALOG_PRIVILEGES = frozenset({
    "ALL_PRIVILEGES", "APPLY_TAG", "BROWSE", "CREATE_FUNCTION", "CREATE_MATERIALIZED_VIEW", "CREATE_MODEL",
    "CREATE_SCHEMA", "CREATE_TABLE", "CREATE_VOLUME", "EXECUTE", "EXTERNAL_USE_SCHEMA", "MANAGE", "MODIFY",
    "READ_VOLUME", "REFRESH", "SELECT", "USE_CATALOG", "USE_SCHEMA", "WRITE_VOLUME"})
SCHEMA_PRIVILEGES = CATALOG_PRIVILEGES - {"CREATE_SCHEMA", "USE_CATALOG"}
EXTERNAL_LOCATION_PRIVILEGES = frozenset({
    "ALL_PRIVILEGES", "BROWSE", "CREATE_EXTERNAL_TABLE", "CREATE_EXTERNAL_VOLUME", "CREATE_FOREIGN_SECURABLE",
    "CREATE_MANAGED_STORAGE", "MANAGE", "READ_FILES", "WRITE_FILES"})
# Hive-era names Unity Catalog no longer accepts (privilege model 1.0), with what replaced them.
LEGACY_PRIVILEGES = {
    "USAGE": "USE_CATALOG (on a catalog) or USE_SCHEMA (on a schema)",
    "CREATE": "CREATE_SCHEMA (on a catalog) or CREATE_TABLE / CREATE_FUNCTION / CREATE_MODEL (on a schema)",
    "READ_METADATA": "BROWSE",
    "CREATE_NAMED_FUNCTION": "CREATE_FUNCTION",
    "OWN": "the securable's owner key",
}

# System schemas one can opt into (billing is managed: auto-enabled, must not be declared;
# 'workflow' was renamed 'lakeflow' in 2024).
SYSTEM_SCHEMAS = ("access", "compute", "lakeflow", "marketplace", "query", "serving", "storage")
SystemSchemaName = Literal["access", "compute", "lakeflow", "marketplace", "query", "serving", "storage"]

PrincipalKey = str  # a role key, 'admins', 'cicdServicePrincipal', or an account group's display name

# Ownership stays with the deploying principal: the provider transfers an explicit owner in the same Create
# (catalog/resource_catalog.go: Create, then Update when `owner` is set), and every later create that needs a
# privilege on the object (schemas in the catalog, grants, bindings, endpoints, monitors) then fails with
# PERMISSION_DENIED unless the deployer is in the new owner group. The admins group administers through MANAGE.
OWNER_REFUSED = ("is no longer set: the deploying principal keeps ownership of what it creates, and the admins "
                 "group (identity.groups.admins) gets MANAGE through the authoritative grants; remove the key")


def _allowed(names: Any) -> str:
    return ", ".join(sorted(names))


def privilege_problem(privilege: str, allowed: frozenset[str], on: str) -> str | None:
    """Why `privilege` cannot be granted on a securable of this kind (None if it can)."""
    if privilege in LEGACY_PRIVILEGES:
        return f"is a legacy privilege name; use {LEGACY_PRIVILEGES[privilege]}"
    if privilege not in allowed:
        return f"is not a Unity Catalog privilege on a {on}; allowed: {_allowed(allowed)}"
    return None


def _user_principal_problem(principal: str) -> str | None:
    if "@" in principal:
        return "looks like a user e-mail; grant to an account group (or the CI/CD service principal), never to a person"
    return None


class MetastoreConfig(StrictModel):
    """The region's metastore: referenced by id, created by exactly one stack, or read from that stack."""

    id: OptionalUuid = None
    """Id of the region's existing metastore (Account console > Catalog) to assign to this workspace; set exactly one
    of id, create and fromStack."""
    create: bool = False
    """This stack creates the region's metastore; only in one protected stack per region."""
    from_stack: Environment | None = None  # the stack that creates it (its `metastoreId` output)
    """The stack that creates the metastore; its `metastoreId` output is read (needs stackReferences)."""
    name: str = Field(default="company_mlops_metastore", pattern=OBJECT_NAME_PATTERN, max_length=255)
    """Name of the metastore when this stack creates it."""
    delta_sharing_scope: Literal["INTERNAL", "INTERNAL_AND_EXTERNAL"] = "INTERNAL"
    """Whether Delta Sharing may share with recipients outside the account (`INTERNAL_AND_EXTERNAL`) or not."""
    delta_sharing_recipient_token_lifetime_days: int = Field(default=90, ge=1, le=365)
    """Days a Delta Sharing recipient token stays valid; used only with scope `INTERNAL_AND_EXTERNAL`."""

    @model_validator(mode="after")
    def _one_source(self) -> MetastoreConfig:
        given = [k for k, v in (("id", self.id), ("create", self.create), ("fromStack", self.from_stack)) if v]
        if len(given) != 1:
            raise field_problems([("id", self.id, "set exactly one of metastore.id (reference the region's "
                                   "metastore), metastore.create: true (this stack creates it) or "
                                   f"metastore.fromStack (the stack that created it); got {given or 'none'}")])
        return self


class StackReferenceConfig(StrictModel):
    """Where the other stacks' outputs live: `<organization>/<project>/<stack>`."""

    organization: str = Field(pattern=OBJECT_NAME_PATTERN, max_length=100)
    """Pulumi organization of the other stacks (`pulumi whoami`; the self-managed azblob backend accepts only
    `organization`)."""
    project: str = Field(default="mlops-platform", pattern=OBJECT_NAME_PATTERN, max_length=100)
    """Pulumi project of the other stacks."""

    def name(self, stack: str) -> str:
        return f"{self.organization}/{self.project}/{stack}"


class RoleAccess(StrictModel):
    """One matrix cell: a level, optionally limited to some schemas (`CREATE/UPDATE (dev_models)`)."""

    level: AccessLevel
    """Access level of the role on the catalog; each level maps to Unity Catalog privileges (docs/unity-catalog.md
    "Privilege mapping"). May be written alone, e.g. `dataScientists: READ_WRITE`."""
    schemas: list[str] | None = None
    """Limit the level to these schemas of the catalog; unset, the whole catalog."""

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, v: Any) -> Any:
        return {"level": v} if isinstance(v, str) else v


class GrantConfig(StrictModel):
    """An explicit grant beyond the matrix (e.g. MANAGE to an admin group)."""

    principal: str = Field(min_length=1)
    """Who gets the privileges: a role key, `admins`, `cicdServicePrincipal` or an account group's display name (never
    a user)."""
    privileges: list[str] = Field(min_length=1)
    """Unity Catalog privileges to grant, in current names (e.g. `USE_CATALOG`, `MANAGE`); MANAGE and ALL_PRIVILEGES
    only to admin groups."""
    schema_: str | None = Field(default=None, alias="schema")
    """Grant on this schema of the catalog instead of the catalog itself."""

    @field_validator("principal")
    @classmethod
    def _group(cls, v: str) -> str:
        problem = _user_principal_problem(v)
        if problem:
            raise ValueError(problem)
        return v


RESERVED_SCHEMA_NAMES = ("information_schema",)


class SchemaConfig(StrictModel):
    name: UcName
    """Name of the schema in the catalog; may be written alone as a list item, e.g. `- raw`."""
    comment: str | None = None
    """Comment shown on the schema in Unity Catalog."""
    retention_days: int | None = Field(default=None, ge=1, le=3650)  # recorded as a schema property
    """Data retention in days, recorded as the schema property `retention_days`."""
    properties: dict[str, str] = {}
    """More schema properties (name -> value)."""

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, v: Any) -> Any:
        return {"name": v} if isinstance(v, str) else v

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, v: str) -> str:
        # Databricks docs, "Create schemas": INFORMATION_SCHEMA is a reserved name; every catalog has a
        # system-provided read-only one. (`default` is not reserved there, so it stays allowed.)
        if v in RESERVED_SCHEMA_NAMES:
            raise ValueError("is reserved by Unity Catalog (every catalog has a read-only information_schema); "
                             "allowed: any other name")
        return v

    def all_properties(self) -> dict[str, str]:
        props = dict(self.properties)
        if self.retention_days is not None:
            props["retention_days"] = str(self.retention_days)
        return props


class BindingConfig(StrictModel):
    """A workspace that may use the catalog: this stack's, or another stack's (via its outputs)."""

    stack: Environment
    """Stack whose workspace may use the catalog; only this stack can be listed (another stack's workspace cannot reach
    this stack's lake)."""
    read_only: bool = False
    """Bind the workspace read-only instead of read-write."""

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, v: Any) -> Any:
        return {"stack": v} if isinstance(v, str) else v


class CatalogConfig(StrictModel):
    """One catalog this stack owns: isolated, managed storage on the lake, schemas, matrix row."""

    name: UcName
    """Name of the catalog; one stack owns each catalog."""
    comment: str | None = None
    """Comment shown on the catalog in Unity Catalog."""
    storage_container: str  # a lake container (lake.containers) with an external location
    """Lake container (one of lake.containers, covered by an external location) that holds the catalog's managed
    storage."""
    # Empty: this stack's workspace only, read-write. Another stack's workspace cannot reach this stack's
    # lake (no private endpoint, DNS record or NCC rule there), so only this stack may be listed.
    bindings: list[BindingConfig] = []
    """Workspaces that may use the (isolated) catalog; empty, this stack's workspace only, read-write."""
    schemas: list[SchemaConfig] = Field(min_length=1)
    """Schemas created in the catalog (at least one)."""
    access: dict[str, RoleAccess] = {}  # role key (identity roles and extraRoles) -> matrix cell
    """The access-control matrix row: role key -> access level on this catalog, e.g. `dataScientists: READ_WRITE`."""
    grants: list[GrantConfig] = []
    """Explicit grants beyond the matrix (e.g. MANAGE to an admin group)."""
    properties: dict[str, str] = {}
    """Catalog properties (name -> value)."""

    @model_validator(mode="before")
    @classmethod
    def _no_owner(cls, v: Any) -> Any:
        if isinstance(v, dict) and "owner" in v:
            raise field_problems([("owner", v["owner"], OWNER_REFUSED)])
        return v

    @model_validator(mode="after")
    def _schemas(self) -> CatalogConfig:
        names = [s.name for s in self.schemas]
        problems: list[tuple[str, Any, str]] = []
        dupes = repeated(names)
        if dupes:
            problems.append(("schemas", dupes, "are listed more than once; schema names are unique in a catalog"))
        for role, cell in self.access.items():
            for i, schema in enumerate(cell.schemas or []):
                if schema not in names:
                    problems.append((f"access.{role}.schemas[{i}]", schema,
                                     f"is not a schema of this catalog; allowed: {', '.join(names)}"))
        for i, grant in enumerate(self.grants):
            if grant.schema_ is not None and grant.schema_ not in names:
                problems.append((f"grants[{i}].schema", grant.schema_,
                                 f"is not a schema of this catalog; allowed: {', '.join(names)}"))
            allowed, on = (SCHEMA_PRIVILEGES, "schema") if grant.schema_ else (CATALOG_PRIVILEGES, "catalog")
            for j, privilege in enumerate(grant.privileges):
                problem = privilege_problem(privilege, allowed, on)
                if problem:
                    problems.append((f"grants[{i}].privileges[{j}]", privilege, problem))
        stacks = [b.stack for b in self.bindings]
        if len(set(stacks)) != len(stacks):
            problems.append(("bindings", stacks, "name a stack more than once; one binding per workspace"))
        if problems:
            raise field_problems(problems)
        return self


class ExternalLocationConfig(StrictModel):
    """An external location over a lake container (the storage credential is the access connector)."""

    container: str
    """Lake container (one of lake.containers) the external location covers; a catalog's storageContainer needs one."""
    name: OptionalSecurableName = None
    """Name of the external location; default `<prefix>-<stack>-<container>`."""
    read_only: bool = False
    """Make the external location read-only."""
    access: dict[str, Literal["NO_ACCESS", "READ", "READ_WRITE", "FULL_ACCESS"]] = {}
    """Role key -> access level on the files under the location."""


class CicdGrantsConfig(StrictModel):
    """The CI/CD service principal's rights (the monitoring guide's, in current privilege names)."""

    catalog: str | None = None  # default: unityCatalog.defaultCatalog
    """Catalog the CI/CD service principal works in; default unityCatalog.defaultCatalog."""
    schema_: str = Field(default="databricks_monitoring", alias="schema")
    """Schema in that catalog where the CI/CD principal creates tables, models and inference logs; must be one of the
    catalog's schemas."""
    catalog_privileges: list[str] = ["USE_CATALOG", "CREATE_SCHEMA"]  # seed: CREATE, USAGE ON CATALOG
    """Privileges of the CI/CD principal on the catalog (named privileges only, no MANAGE or ALL_PRIVILEGES)."""
    # seed: CREATE, USAGE ON SCHEMA; plus what the framework does there (tables, models, inference logs).
    schema_privileges: list[str] = ["USE_SCHEMA", "CREATE_TABLE", "CREATE_FUNCTION", "CREATE_MODEL",
                                    "CREATE_VOLUME", "SELECT", "MODIFY", "EXECUTE", "READ_VOLUME", "WRITE_VOLUME"]
    """Privileges of the CI/CD principal on its schema (named privileges only, no MANAGE or ALL_PRIVILEGES)."""

    @model_validator(mode="after")
    def _privileges(self) -> CicdGrantsConfig:
        problems: list[tuple[str, Any, str]] = []
        for key, values, allowed, on in (("catalogPrivileges", self.catalog_privileges, CATALOG_PRIVILEGES,
                                          "catalog"),
                                         ("schemaPrivileges", self.schema_privileges, SCHEMA_PRIVILEGES, "schema")):
            for i, privilege in enumerate(values):
                problem = privilege_problem(privilege, allowed, on)
                if problem is None and privilege in ADMIN_ONLY:
                    problem = "is only for admin groups; the CI/CD principal gets named privileges"
                if problem:
                    problems.append((f"{key}[{i}]", privilege, problem))
        if problems:
            raise field_problems(problems)
        return self


class UnityCatalogConfig(StrictModel):
    metastore: MetastoreConfig
    """The region's metastore: referenced by id, created by exactly one stack, or read from that stack."""
    stack_references: StackReferenceConfig | None = None  # needed to reach other stacks' outputs
    """Where the other stacks' outputs live (`<organization>/<project>/<stack>`); needed by fromStack keys."""
    storage_credential: OptionalSecurableName = None
    """Name of the storage credential over the access connector's managed identity; default `<prefix>-<stack>-lake`."""
    external_locations: list[ExternalLocationConfig] = []
    """External locations over lake containers, through the storage credential."""
    catalogs: list[CatalogConfig] = []
    """Catalogs this stack owns: isolated, managed storage on the lake, schemas and their matrix row."""
    default_catalog: str | None = None  # default: the first catalog
    """Catalog used where one is needed by default (e.g. the CI/CD grants); default the first catalog."""
    cicd: CicdGrantsConfig = CicdGrantsConfig()
    """Rights of the CI/CD service principal (the monitoring guide's, in current privilege names)."""
    admin_groups: list[str] = []  # beyond identity.groups.admins: groups allowed MANAGE / ALL_PRIVILEGES
    """Groups beyond identity.groups.admins that may hold MANAGE and ALL_PRIVILEGES in explicit grants."""

    @field_validator("admin_groups")
    @classmethod
    def _admins(cls, v: list[str]) -> list[str]:
        for name in v:
            problem = _user_principal_problem(name)
            if problem:
                raise ValueError(f"{name!r} {problem}")
        return v

    def catalog(self, name: str) -> CatalogConfig | None:
        return next((c for c in self.catalogs if c.name == name), None)

    @property
    def default_catalog_name(self) -> str | None:
        return self.default_catalog or (self.catalogs[0].name if self.catalogs else None)


ExperimentPermission = Literal["CAN_READ", "CAN_RUN", "CAN_EDIT", "CAN_MANAGE"]


class SecretScopeConfig(StrictModel):
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$", max_length=128)  # default <prefix>-<env>-kv
    """Name of the Key Vault-backed secret scope on this stack's vault; default `<prefix>-<stack>-kv`."""
    readers: list[str] = []  # roles that may read secrets through the scope
    """Roles whose groups may read secrets through the scope."""


class ExperimentFolderConfig(StrictModel):
    root: str = Field(default="/Workspace/ml_experiments", pattern=r"^/[\w./-]*[\w-]$")
    """Workspace folder under which the stack's MLflow experiment folder `<root>/<stack>` is created."""
    permissions: dict[str, ExperimentPermission] = {}
    """Role key -> permission on the experiment folder."""


class WorkspaceSettingsConfig(StrictModel):
    """Platform settings of this stack's workspace."""

    # Metastore-wide: one stack per region enables them (checked across stacks).
    system_schemas: list[SystemSchemaName] = []
    """System schemas to enable (billing is always on); metastore-wide, so only in the protected stack, one per
    region."""
    disable_legacy_access: bool = True  # Hive metastore, fallback mode, pre-13.3 runtimes
    """Turn off the Hive metastore, fallback mode and pre-13.3 runtimes so every read goes through Unity Catalog; prod
    needs it."""
    disable_legacy_dbfs: bool = True  # DBFS root and mounts
    """Turn off the DBFS root and mounts, which bypass Unity Catalog; prod needs it."""
    secret_scope: SecretScopeConfig = SecretScopeConfig()
    """The Key Vault-backed secret scope of this workspace and who may read it."""
    experiment_folder: ExperimentFolderConfig = ExperimentFolderConfig()
    """The workspace folder for MLflow experiments and who may use it."""

    @field_validator("system_schemas", mode="before")
    @classmethod
    def _known(cls, v: Any) -> Any:
        if isinstance(v, list):
            for name in v:
                if name == "billing":
                    raise ValueError("lists 'billing': it is enabled by Databricks (managed) and must not be "
                                     f"declared; allowed: {', '.join(SYSTEM_SCHEMAS)}")
                if name == "workflow":
                    raise ValueError("lists 'workflow': the schema was renamed 'lakeflow'")
            dupes = repeated(v)
            if dupes:
                raise ValueError(f"lists {', '.join(map(repr, dupes))} more than once")
        return v


def principal_name(config: StackConfig, key: str) -> str:
    """A principal key from config -> the name Unity Catalog knows (group display name or application id)."""
    return config.identity.principal_name(key)


def admin_principals(config: StackConfig) -> set[str]:
    return {config.identity.groups.admins, *config.unity_catalog.admin_groups}


def stack_problems(config: StackConfig) -> list[tuple[str, Any, str]]:
    """Root-level rules: containers exist on the lake, admin-only privileges, references resolve."""
    uc, ws = config.unity_catalog, config.workspace_settings
    problems: list[tuple[str, Any, str]] = []
    containers = list(config.lake.containers)
    located = {loc.container for loc in uc.external_locations}
    admins = admin_principals(config)
    for i, loc in enumerate(uc.external_locations):
        if loc.container not in containers:
            problems.append((f"unityCatalog.externalLocations[{i}].container", loc.container,
                             f"is not a lake container; allowed: {', '.join(containers)} (lake.containers)"))
    roles = [k for k in config.identity.role_keys() if k != "admins"]
    role_maps: list[tuple[str, list[str]]] = [
        *[(f"unityCatalog.catalogs[{i}].access", list(c.access)) for i, c in enumerate(uc.catalogs)],
        *[(f"unityCatalog.externalLocations[{i}].access", list(x.access)) for i, x in enumerate(uc.external_locations)],
        ("workspaceSettings.secretScope.readers", list(ws.secret_scope.readers)),
        ("workspaceSettings.experimentFolder.permissions", list(ws.experiment_folder.permissions))]
    for where, keys in role_maps:
        for key in keys:
            if key not in roles:
                problems.append((f"{where}.{key}", key, f"is not a role; allowed: {', '.join(roles)} "
                                 "(add new roles under identity.extraRoles)"))
    names = [c.name for c in uc.catalogs]
    for i, cat in enumerate(uc.catalogs):
        where = f"unityCatalog.catalogs[{i}]"
        if names.count(cat.name) > 1:
            problems.append((f"{where}.name", cat.name, "is declared more than once in this stack"))
        if cat.storage_container not in containers:
            problems.append((f"{where}.storageContainer", cat.storage_container,
                             f"is not a lake container; allowed: {', '.join(containers)} (lake.containers)"))
        elif cat.storage_container not in located:
            problems.append((f"{where}.storageContainer", cat.storage_container,
                             "has no external location; add {container: " + cat.storage_container
                             + "} to unityCatalog.externalLocations (managed storage must be covered by one)"))
        for b, binding in enumerate(cat.bindings):
            if binding.stack != config.stack:
                problems.append((f"{where}.bindings[{b}].stack", binding.stack, _unreachable_binding(config)))
        for g, grant in enumerate(cat.grants):
            name = principal_name(config, grant.principal)
            for p, privilege in enumerate(grant.privileges):
                if privilege in ADMIN_ONLY and name not in admins:
                    problems.append((f"{where}.grants[{g}].privileges[{p}]", privilege,
                                     f"is only allowed to admin groups ({', '.join(sorted(admins))}; "
                                     f"see unityCatalog.adminGroups), not to {grant.principal!r}"))
    if uc.default_catalog is not None and uc.default_catalog not in names:
        problems.append(("unityCatalog.defaultCatalog", uc.default_catalog,
                         f"is not a catalog of this stack; allowed: {', '.join(names) or 'none declared'}"))
    cicd_catalog = uc.cicd.catalog or uc.default_catalog_name
    cat_cfg = uc.catalog(cicd_catalog) if cicd_catalog else None
    if (uc.catalogs or uc.cicd.catalog) and cat_cfg is None:  # no catalogs: only a cicd.catalog set names one
        problems.append(("unityCatalog.cicd.catalog", cicd_catalog,
                         f"is not a catalog of this stack; allowed: {', '.join(names) or 'none declared'}"))
    elif cat_cfg is not None and uc.cicd.schema_ not in [s.name for s in cat_cfg.schemas]:
        problems.append(("unityCatalog.cicd.schema", uc.cicd.schema_,
                         f"is not a schema of catalog {cat_cfg.name}; allowed: "
                         f"{', '.join(s.name for s in cat_cfg.schemas)}"))
    if uc.metastore.from_stack == config.stack:
        problems.append(("unityCatalog.metastore.fromStack", uc.metastore.from_stack,
                         "names this stack; use metastore.create: true here instead"))
    if uc.metastore.from_stack and uc.stack_references is None:
        problems.append(("unityCatalog.metastore.fromStack", uc.metastore.from_stack,
                         "needs unityCatalog.stackReferences.organization to read that stack's metastoreId"))
    groups = config.identity.account_groups
    if groups.manage and not config.protection.protect:
        problems.append(("identity.accountGroups.manage", True,
                         "is only allowed in a protected stack (protection.protect: true): account groups are "
                         "account-wide and a destroy of this stack would delete the groups other stacks grant to; "
                         "sync them from Entra ID and use accountGroups.lookup: true"))
    if ws.system_schemas and not config.protection.protect:
        problems.append(("workspaceSettings.systemSchemas", list(ws.system_schemas),
                         "are metastore-wide: enable them only in the long-lived, protected stack (protection."
                         "protect: true); a destroy of this stack would disable them for every workspace"))
    if uc.metastore.create and not config.protection.protect:
        problems.append(("unityCatalog.metastore.create", True,
                         "is only allowed in a protected stack (protection.protect: true): the metastore is "
                         "region-wide and every workspace in the region uses it"))
    if groups.from_stack and uc.stack_references is None:
        problems.append(("identity.accountGroups.fromStack", groups.from_stack,
                         "needs unityCatalog.stackReferences.organization to read that stack's accountGroupIds"))
    if groups.from_stack == config.stack:
        problems.append(("identity.accountGroups.fromStack", groups.from_stack,
                         "names this stack; use accountGroups.manage: true here instead"))
    if config.is_prod and not ws.disable_legacy_access:
        problems.append(("workspaceSettings.disableLegacyAccess", False,
                         "is not allowed in prod: Hive metastore and legacy access must be off so every read "
                         "goes through Unity Catalog"))
    if config.is_prod and not ws.disable_legacy_dbfs:
        problems.append(("workspaceSettings.disableLegacyDbfs", False,
                         "is not allowed in prod: the DBFS root and mounts bypass Unity Catalog"))
    return problems


def _unreachable_binding(config: StackConfig) -> str:
    lake = config.lake
    posture = "public access disabled" if lake.public_network_access == "Disabled" else "network default Deny"
    return (f"is another stack's workspace, which cannot reach this catalog's managed storage on stack "
            f"{config.stack}'s lake ({posture}; the private endpoints, DNS records and serverless NCC rules "
            f"to it exist in stack {config.stack} only); bind the catalog to its own stack and give the "
            "other environment its own catalog on its own lake")


def _same_region(config: StackConfig, other: StackConfig) -> bool:
    return config.location == other.location


def referenced_stacks(config: StackConfig) -> set[str]:
    """Stacks whose outputs this stack reads (so they deploy first)."""
    uc = config.unity_catalog
    refs: set[str] = {b.stack for c in uc.catalogs for b in c.bindings}
    refs |= {s for s in (uc.metastore.from_stack, config.identity.account_groups.from_stack) if s}
    return refs - {config.stack}


def cross_stack_problems(stack: str, config: StackConfig, other_name: str, other: StackConfig) -> list[str]:
    """CROSS_STACK_CHECKS rule: one owner per metastore, catalog, account group set and system schema."""
    problems: list[str] = []
    uc, theirs = config.unity_catalog, other.unity_catalog
    if uc.metastore.create and theirs.metastore.create and _same_region(config, other):
        problems.append(f"{stack}: unityCatalog.metastore.create: true is also set by stack {other_name} in "
                        f"region {config.location!r}; one metastore per region, created by exactly one stack "
                        "(the others set metastore.fromStack or metastore.id)")
    if uc.metastore.from_stack == other_name and not theirs.metastore.create:
        problems.append(f"{stack}: unityCatalog.metastore.fromStack: {other_name!r} does not create the "
                        "metastore (its unityCatalog.metastore.create is not true)")
    # A catalog belongs to its region's metastore: a stack in another region (a standby) declares its own
    # catalog of the same name in its own metastore.
    mine = {c.name for c in uc.catalogs} if _same_region(config, other) else set()
    for name in sorted(mine & {c.name for c in theirs.catalogs}):
        problems.append(f"{stack}: unityCatalog.catalogs: {name!r} is also declared by stack {other_name}; "
                        "a catalog has exactly one owning stack (bind it to the other workspaces instead)")
    if config.identity.account_groups.manage and other.identity.account_groups.manage:
        problems.append(f"{stack}: identity.accountGroups.manage: true is also set by stack {other_name}; "
                        "account groups are account-wide and created by exactly one stack (the others set "
                        "accountGroups.lookup or accountGroups.fromStack)")
    if config.identity.account_groups.from_stack == other_name and not other.identity.account_groups.manage:
        problems.append(f"{stack}: identity.accountGroups.fromStack: {other_name!r} does not create the "
                        "account groups (its identity.accountGroups.manage is not true)")
    app = config.identity.cicd_service_principal.application_id
    if app == other.identity.cicd_service_principal.application_id:
        problems.append(f"{stack}: identity.cicdServicePrincipal.applicationId: {app!r} is also stack "
                        f"{other_name}'s CI/CD principal; each stack registers its own (a second registration "
                        "fails: it already exists, and a destroy of one stack deactivates it for both)")
    if other_name in referenced_stacks(config) and stack in referenced_stacks(other):
        problems.append(f"{stack}: unityCatalog: reads stack {other_name}'s outputs and {other_name} reads this "
                        "stack's; no deploy order satisfies both (references must point one way: dev -> test -> "
                        "prod)")
    if _same_region(config, other):
        both = sorted(set(config.workspace_settings.system_schemas) & set(other.workspace_settings.system_schemas))
        if both:
            problems.append(f"{stack}: workspaceSettings.systemSchemas: {', '.join(both)} also enabled by stack "
                            f"{other_name}; system schemas are metastore-wide, enabled by one stack per region")
    return problems
