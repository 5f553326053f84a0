"""Unity Catalog and workspace-settings config at their edges: every problem by its exact lines.

Each case changes one key of a checked-in stack file (prod has the richest Unity Catalog section: two catalogs,
schema-limited cells, bindings to every stack). Cross-stack cases change one stack and validate it against
the checked-in others.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import ConfigError, validate
from infra.config.unity_catalog import (
    OWNER_REFUSED,
    CatalogConfig,
    admin_principals,
    principal_name,
    referenced_stacks,
)
from tests.support import DELETE, siblings, stack_raw, with_changes

UC = "unityCatalog"
PROD_SCHEMAS = ["raw", "feature_store", "models", "serving", "model_inference_logs", "monitoring",
                "databricks_monitoring"]
REGISTRY_SCHEMAS = "dev_models, candidate_models, production_models, archived_models"
ROLES = "dataScientists, mlEngineers, devopsEngineers, modelConsumers"
UUID = "6f1e2d3c-4b5a-4c6d-8e7f-0a1b2c3d4e5f"
UNREACHABLE = ("is another stack's workspace, which cannot reach this catalog's managed storage on stack prod's lake "
               "({posture}; the private endpoints, DNS records and serverless NCC rules to it exist in stack prod "
               "only); bind the catalog to its own stack and give the other environment its own catalog on its own "
               "lake")


def problems(stack: str, changes: list[tuple[str, Any]], others: dict[str, Any] | None = None) -> list[str]:
    try:
        validate(stack, with_changes(stack, changes), siblings(stack) if others is None else others)
    except ConfigError as exc:
        return exc.problems
    return []


# (case id, stack, [(key path, value)], every problem line; [] = accepted)
CASES: list[tuple[str, str, list[tuple[str, Any]], list[str]]] = [
    # a catalog's own rules
    ("duplicate-schemas", "prod", [(f"{UC}.catalogs.0.schemas", ["raw", *PROD_SCHEMAS, "models"])],
     ["prod: unityCatalog.catalogs[0].schemas: ['models', 'raw'] are listed more than once; schema names are unique "
      "in a catalog"]),
    ("duplicate-bindings", "prod", [(f"{UC}.catalogs.1.bindings", ["dev", "test", "prod", "test"])],
     ["prod: unityCatalog.catalogs[1].bindings: ['dev', 'test', 'prod', 'test'] name a stack more than once; one "
      "binding per workspace"]),
    ("duplicate-bindings-read-only", "prod", [(f"{UC}.catalogs.1.bindings",
                                               ["dev", {"stack": "dev", "readOnly": True}])],
     ["prod: unityCatalog.catalogs[1].bindings: ['dev', 'dev'] name a stack more than once; one binding per "
      "workspace"]),
    ("cell-schema-unknown", "prod", [(f"{UC}.catalogs.1.access.modelConsumers.schemas", ["production_models", "prod"])],
     [f"prod: unityCatalog.catalogs[1].access.modelConsumers.schemas[1]: 'prod' is not a schema of this catalog; "
      f"allowed: {REGISTRY_SCHEMAS}"]),
    ("grant-schema-unknown", "prod", [(f"{UC}.catalogs.1.grants", [{"principal": "admins", "privileges": ["SELECT"],
                                                                    "schema": "nope"}])],
     [f"prod: unityCatalog.catalogs[1].grants[0].schema: 'nope' is not a schema of this catalog; allowed: "
      f"{REGISTRY_SCHEMAS}"]),
    ("grant-catalog-privilege-on-a-schema", "prod",
     [(f"{UC}.catalogs.1.grants", [{"principal": "admins", "privileges": ["SELECT", "CREATE_SCHEMA"],
                                    "schema": "dev_models"}])],
     ["prod: unityCatalog.catalogs[1].grants[0].privileges[1]: 'CREATE_SCHEMA' is not a Unity Catalog privilege on "
      "a schema; allowed: ALL_PRIVILEGES, APPLY_TAG, BROWSE, CREATE_FUNCTION, CREATE_MATERIALIZED_VIEW, "
      "CREATE_MODEL, CREATE_TABLE, CREATE_VOLUME, EXECUTE, EXTERNAL_USE_SCHEMA, MANAGE, MODIFY, READ_VOLUME, "
      "REFRESH, SELECT, USE_SCHEMA, WRITE_VOLUME"]),
    ("grant-location-privilege-on-a-catalog", "prod",
     [(f"{UC}.catalogs.1.grants", [{"principal": "admins", "privileges": ["READ_FILES"]}])],
     ["prod: unityCatalog.catalogs[1].grants[0].privileges[0]: 'READ_FILES' is not a Unity Catalog privilege on a "
      "catalog; allowed: ALL_PRIVILEGES, APPLY_TAG, BROWSE, CREATE_FUNCTION, CREATE_MATERIALIZED_VIEW, "
      "CREATE_MODEL, CREATE_SCHEMA, CREATE_TABLE, CREATE_VOLUME, EXECUTE, EXTERNAL_USE_SCHEMA, MANAGE, MODIFY, "
      "READ_VOLUME, REFRESH, SELECT, USE_CATALOG, USE_SCHEMA, WRITE_VOLUME"]),
    ("grant-legacy-on-a-schema", "prod",
     [(f"{UC}.catalogs.1.grants", [{"principal": "admins", "privileges": ["READ_METADATA"], "schema": "dev_models"}])],
     ["prod: unityCatalog.catalogs[1].grants[0].privileges[0]: 'READ_METADATA' is a legacy privilege name; use "
      "BROWSE"]),
    ("grant-to-a-user", "prod", [(f"{UC}.catalogs.1.grants", [{"principal": "jane@example.com",
                                                               "privileges": ["SELECT"]}])],
     ["prod: unityCatalog.catalogs[1].grants[0].principal: 'jane@example.com' looks like a user e-mail; grant to an "
      "account group (or the CI/CD service principal), never to a person"]),
    # admin-only privileges: to the admins key, a configured admin group; never to the CI/CD principal
    ("manage-to-admins", "prod", [(f"{UC}.catalogs.1.grants", [{"principal": "admins", "privileges": ["MANAGE"]}])],
     []),
    ("manage-to-admins-group-name", "prod",
     [(f"{UC}.catalogs.1.grants", [{"principal": "mlops-platform-admins", "privileges": ["ALL_PRIVILEGES"]}])], []),
    ("manage-to-cicd", "prod",
     [(f"{UC}.catalogs.1.grants", [{"principal": "cicdServicePrincipal", "privileges": ["SELECT", "MANAGE"]}])],
     ["prod: unityCatalog.catalogs[1].grants[0].privileges[1]: 'MANAGE' is only allowed to admin groups "
      "(mlops-platform-admins; see unityCatalog.adminGroups), not to 'cicdServicePrincipal'"]),
    ("manage-to-an-extra-admin-group", "prod", [(f"{UC}.adminGroups", ["mlops-registry-admins"]),
                                                (f"{UC}.catalogs.1.grants", [{"principal": "mlops-registry-admins",
                                                                              "privileges": ["MANAGE"]}])], []),
    ("admin-group-is-a-user", "prod", [(f"{UC}.adminGroups", ["ok-group", "root@example.com"])],
     ["prod: unityCatalog.adminGroups: ['ok-group', 'root@example.com'] 'root@example.com' looks like a user e-mail; "
      "grant to an account group (or the CI/CD service principal), never to a person"]),
    # the deployer keeps ownership: an owner key is refused whoever it names
    ("owner-is-a-user", "prod", [(f"{UC}.catalogs.1.owner", "jane@example.com")],
     [f"prod: unityCatalog.catalogs[1].owner: 'jane@example.com' {OWNER_REFUSED}"]),
    ("owner-is-the-admins-group", "prod", [(f"{UC}.catalogs.0.owner", "admins")],
     [f"prod: unityCatalog.catalogs[0].owner: 'admins' {OWNER_REFUSED}"]),
    ("owner-is-null", "prod", [(f"{UC}.catalogs.0.owner", None)],
     [f"prod: unityCatalog.catalogs[0].owner: null {OWNER_REFUSED}"]),
    # names and references inside the stack
    ("catalog-declared-twice", "prod", [(f"{UC}.catalogs.1.name", "ml_prod_catalog")],
     ["prod: unityCatalog.catalogs[0].name: 'ml_prod_catalog' is declared more than once in this stack",
      "prod: unityCatalog.catalogs[1].name: 'ml_prod_catalog' is declared more than once in this stack"]),
    ("default-catalog-unknown", "prod", [(f"{UC}.defaultCatalog", "ml_models")],
     ["prod: unityCatalog.defaultCatalog: 'ml_models' is not a catalog of this stack; allowed: ml_prod_catalog, "
      "ml_models_catalog"]),
    ("default-catalog-without-catalogs", "dev", [(f"{UC}.catalogs", []), (f"{UC}.cicd", {}),
                                                 ("serving", DELETE)],
     ["dev: unityCatalog.defaultCatalog: 'ml_dev_catalog' is not a catalog of this stack; allowed: none declared"]),
    ("cicd-catalog-without-catalogs", "dev", [(f"{UC}.catalogs", []), (f"{UC}.defaultCatalog", DELETE),
                                              (f"{UC}.cicd", {"catalog": "ml_dev_catalog"}), ("serving", DELETE)],
     ["dev: unityCatalog.cicd.catalog: 'ml_dev_catalog' is not a catalog of this stack; allowed: none declared"]),
    ("cicd-catalog-unknown", "prod", [(f"{UC}.cicd.catalog", "ml_prod")],
     ["prod: unityCatalog.cicd.catalog: 'ml_prod' is not a catalog of this stack; allowed: ml_prod_catalog, "
      "ml_models_catalog"]),
    ("cicd-schema-unknown", "prod", [(f"{UC}.cicd.schema", "monitoring_sp")],
     ["prod: unityCatalog.cicd.schema: 'monitoring_sp' is not a schema of catalog ml_prod_catalog; allowed: "
      "raw, feature_store, models, serving, model_inference_logs, monitoring, databricks_monitoring, restore_drill, "
      "governance"]),
    ("cicd-catalog-defaults-to-the-default-catalog", "prod", [(f"{UC}.cicd.catalog", DELETE)], []),
    ("cicd-manage", "prod", [(f"{UC}.cicd.catalogPrivileges", ["USE_CATALOG", "MANAGE"])],
     ["prod: unityCatalog.cicd.catalogPrivileges[1]: 'MANAGE' is only for admin groups; the CI/CD principal gets "
      "named privileges"]),
    ("cicd-all-privileges-on-schema", "prod", [(f"{UC}.cicd.schemaPrivileges", ["ALL_PRIVILEGES"])],
     ["prod: unityCatalog.cicd.schemaPrivileges[0]: 'ALL_PRIVILEGES' is only for admin groups; the CI/CD principal "
      "gets named privileges"]),
    ("cicd-legacy", "prod", [(f"{UC}.cicd.schemaPrivileges", ["USAGE"])],
     ["prod: unityCatalog.cicd.schemaPrivileges[0]: 'USAGE' is a legacy privilege name; use USE_CATALOG (on a "
      "catalog) or USE_SCHEMA (on a schema)"]),
    ("cicd-catalog-privilege-on-schema", "prod", [(f"{UC}.cicd.schemaPrivileges", ["USE_SCHEMA", "USE_CATALOG"])],
     ["prod: unityCatalog.cicd.schemaPrivileges[1]: 'USE_CATALOG' is not a Unity Catalog privilege on a schema; "
      "allowed: ALL_PRIVILEGES, APPLY_TAG, BROWSE, CREATE_FUNCTION, CREATE_MATERIALIZED_VIEW, CREATE_MODEL, "
      "CREATE_TABLE, CREATE_VOLUME, EXECUTE, EXTERNAL_USE_SCHEMA, MANAGE, MODIFY, READ_VOLUME, REFRESH, SELECT, "
      "USE_SCHEMA, WRITE_VOLUME"]),
    # external locations and containers
    ("location-container-unknown", "prod", [(f"{UC}.externalLocations.1.container", "mlflow")],
     ["prod: unityCatalog.externalLocations[1].container: 'mlflow' is not a lake container; allowed: "
      "ml-prod-catalog, ml-models-catalog, mlflow-artifacts-prod (lake.containers)"]),
    ("location-name-pattern", "prod", [(f"{UC}.externalLocations.1.name", "MLflow")],
     ["prod: unityCatalog.externalLocations[1].name: 'MLflow' is not allowed (string should match pattern "
      "'^[a-z][a-z0-9_-]*$')"]),
    ("storage-credential-pattern", "prod", [(f"{UC}.storageCredential", "lake cred")],
     ["prod: unityCatalog.storageCredential: 'lake cred' is not allowed (string should match pattern "
      "'^[a-z][a-z0-9_-]*$')"]),
    ("catalog-root-not-located", "prod", [(f"{UC}.externalLocations.0.container", "mlflow-artifacts-prod")],
     ["prod: unityCatalog.catalogs[0].storageContainer: 'ml-prod-catalog' has no external location; add "
      "{container: ml-prod-catalog} to unityCatalog.externalLocations (managed storage must be covered by one)"]),
    # every role map names known roles (extra roles come from identity.extraRoles)
    ("location-access-role-unknown", "prod", [(f"{UC}.externalLocations.0.access", {"mlEngineer": "READ"})],
     [f"prod: unityCatalog.externalLocations[0].access.mlEngineer: 'mlEngineer' is not a role; allowed: {ROLES} "
      "(add new roles under identity.extraRoles)"]),
    ("catalog-access-admins-is-no-role", "prod", [(f"{UC}.catalogs.0.access.admins", "READ")],
     [f"prod: unityCatalog.catalogs[0].access.admins: 'admins' is not a role; allowed: {ROLES} (add new roles under "
      "identity.extraRoles)"]),
    ("secret-readers-role-unknown", "prod", [("workspaceSettings.secretScope.readers", ["mlEngineers", "ops"])],
     [f"prod: workspaceSettings.secretScope.readers.ops: 'ops' is not a role; allowed: {ROLES} (add new roles under "
      "identity.extraRoles)"]),
    ("experiment-permissions-role-unknown", "prod",
     [("workspaceSettings.experimentFolder.permissions", {"auditors": "CAN_READ"})],
     [f"prod: workspaceSettings.experimentFolder.permissions.auditors: 'auditors' is not a role; allowed: {ROLES} "
      "(add new roles under identity.extraRoles)"]),
    ("extra-role-is-a-role", "prod", [("identity.extraRoles", {"auditors": "mlops-auditors"}),
                                      ("workspaceSettings.experimentFolder.permissions", {"auditors": "CAN_READ"})],
     []),
    # the metastore and the account groups: one source each, read from another stack through its outputs
    ("metastore-no-source", "prod", [(f"{UC}.metastore", {"name": "m"})],
     ["prod: unityCatalog.metastore.id: null set exactly one of metastore.id (reference the region's metastore), "
      "metastore.create: true (this stack creates it) or metastore.fromStack (the stack that created it); got "
      "none"]),
    ("metastore-two-sources", "prod", [(f"{UC}.metastore", {"id": UUID, "create": True})],
     [f"prod: unityCatalog.metastore.id: '{UUID}' set exactly one of metastore.id (reference the region's "
      "metastore), metastore.create: true (this stack creates it) or metastore.fromStack (the stack that created "
      "it); got ['id', 'create']"]),
    ("metastore-from-itself", "prod", [(f"{UC}.metastore", {"fromStack": "prod"})],
     ["prod: unityCatalog.metastore.fromStack: 'prod' names this stack; use metastore.create: true here instead"]),
    ("account-groups-from-itself", "prod", [("identity.accountGroups", {"fromStack": "prod"})],
     ["prod: identity.accountGroups.fromStack: 'prod' names this stack; use accountGroups.manage: true here "
      "instead"]),
    ("stack-references-unused", "prod", [(f"{UC}.stackReferences", DELETE)], []),
    ("account-groups-from-stack-without-references", "prod", [("identity.accountGroups", {"fromStack": "dev"}),
                                                              (f"{UC}.stackReferences", DELETE)],
     ["prod: identity.accountGroups.fromStack: 'dev' needs unityCatalog.stackReferences.organization to read that "
      "stack's accountGroupIds"]),
    # a catalog is bound to its own stack's workspace only: no other workspace reaches its lake
    ("binding-to-its-own-stack", "prod", [(f"{UC}.catalogs.1.bindings", ["prod"])], []),
    ("binding-to-another-stack", "prod", [(f"{UC}.catalogs.1.bindings", ["prod", {"stack": "dev", "readOnly": True}])],
     ["prod: unityCatalog.catalogs[1].bindings[1].stack: 'dev' "
      f"{UNREACHABLE.format(posture='public access disabled')}"]),
    ("binding-to-a-stack-sorting-after-it", "prod", [(f"{UC}.catalogs.1.bindings", ["prod", "test"])],
     ["prod: unityCatalog.catalogs[1].bindings[1].stack: 'test' "
      f"{UNREACHABLE.format(posture='public access disabled')}"]),
    ("binding-to-another-stack-lake-enabled", "test", [("lake.publicNetworkAccess", "Enabled"),
                                                       (f"{UC}.catalogs.0.bindings", ["prod"])],
     [f"test: unityCatalog.catalogs[0].bindings[0].stack: 'prod' "
      f"{UNREACHABLE.format(posture='network default Deny').replace('prod', 'test')}"]),
    # metastore-wide and account-wide objects belong to the protected stack only
    ("metastore-created-by-a-disposable-stack", "test", [(f"{UC}.metastore", {"create": True})],
     ["test: unityCatalog.metastore.create: true is only allowed in a protected stack (protection.protect: true): "
      "the metastore is region-wide and every workspace in the region uses it"]),
    ("metastore-created-by-the-protected-stack", "prod", [(f"{UC}.metastore", {"create": True})], []),
    ("system-schemas-in-a-disposable-stack", "test", [("workspaceSettings.systemSchemas", ["query"])],
     ["test: workspaceSettings.systemSchemas: ['query'] are metastore-wide: enable them only in the long-lived, "
      "protected stack (protection.protect: true); a destroy of this stack would disable them for every "
      "workspace"]),
    ("account-groups-managed-by-a-disposable-stack", "test", [("identity.accountGroups", {"manage": True})],
     ["test: identity.accountGroups.manage: true is only allowed in a protected stack (protection.protect: true): "
      "account groups are account-wide and a destroy of this stack would delete the groups other stacks grant "
      "to; sync them from Entra ID and use accountGroups.lookup: true"]),
    ("account-groups-managed-by-a-protected-stack", "test", [("identity.accountGroups", {"manage": True}),
                                                             ("protection.protect", True)], []),
    ("metastore-from-stack-without-references", "dev", [(f"{UC}.metastore", {"fromStack": "test"}),
                                                        (f"{UC}.stackReferences", DELETE)],
     ["dev: unityCatalog.metastore.fromStack: 'test' needs unityCatalog.stackReferences.organization to read that "
      "stack's metastoreId"]),
    # workspace settings
    ("system-schemas-twice", "dev", [("workspaceSettings.systemSchemas", ["access", "query", "access"])],
     ["dev: workspaceSettings.systemSchemas: ['access', 'query', 'access'] lists 'access' more than once"]),
    ("system-schema-billing", "dev", [("workspaceSettings.systemSchemas", ["access", "billing"])],
     ["dev: workspaceSettings.systemSchemas: ['access', 'billing'] lists 'billing': it is enabled by Databricks "
      "(managed) and must not be declared; allowed: access, compute, lakeflow, marketplace, query, serving, storage"]),
    ("system-schema-workflow", "dev", [("workspaceSettings.systemSchemas", ["access", "workflow"])],
     ["dev: workspaceSettings.systemSchemas: ['access', 'workflow'] lists 'workflow': the schema was renamed "
      "'lakeflow'"]),
    ("extra-role-sorting-before-admins", "prod", [("identity.extraRoles", {"aaudit": "mlops-auditors"}),
                                                  ("workspaceSettings.secretScope.readers", ["aaudit"])], []),
    ("one-character-principal", "prod", [(f"{UC}.catalogs.1.grants", [{"principal": "g", "privileges": ["SELECT"]}])],
     []),
    ("empty-principal", "prod", [(f"{UC}.catalogs.1.grants", [{"principal": "", "privileges": ["SELECT"]}])],
     ["prod: unityCatalog.catalogs[1].grants[0].principal: '' is not allowed (string should have at least 1 "
      "character)"]),
    ("system-schema-unknown", "dev", [("workspaceSettings.systemSchemas", ["zzz"])],
     ["dev: workspaceSettings.systemSchemas[0]: 'zzz' is not allowed; allowed: 'access', 'compute', 'lakeflow', "
      "'marketplace', 'query', 'serving' or 'storage'"]),
    ("grant-without-privileges", "prod", [(f"{UC}.catalogs.1.grants", [{"principal": "admins", "privileges": []}])],
     ["prod: unityCatalog.catalogs[1].grants[0].privileges: [] is not allowed (List should have at least 1 item "
      "after validation, not 0)"]),
    ("prod-legacy-access", "prod", [("workspaceSettings.disableLegacyAccess", False)],
     ["prod: workspaceSettings.disableLegacyAccess: false is not allowed in prod: Hive metastore and legacy access "
      "must be off so every read goes through Unity Catalog"]),
    ("prod-legacy-dbfs", "prod", [("workspaceSettings.disableLegacyDbfs", False)],
     ["prod: workspaceSettings.disableLegacyDbfs: false is not allowed in prod: the DBFS root and mounts bypass "
      "Unity Catalog"]),
    ("test-legacy-access", "test", [("workspaceSettings.disableLegacyAccess", False)], []),
    ("experiment-root", "prod", [("workspaceSettings.experimentFolder.root", "/Workspace/ml/")],
     ["prod: workspaceSettings.experimentFolder.root: '/Workspace/ml/' is not allowed (string should match pattern "
      "'^/[\\w./-]*[\\w-]$')"]),
]


@pytest.mark.parametrize(("stack", "changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_unity_catalog_edges(stack: str, changes: list[tuple[str, Any]], expected: list[str]) -> None:
    assert problems(stack, changes) == expected


# Names refused by their pattern: the line shows the pattern as the code has it, upper-case classes included.
NAME = "'^[A-Za-z0-9][A-Za-z0-9_.-]*$'"
UC_NAME = "'^[a-z][a-z0-9_]*$'"
PATTERNS = [
    ("unityCatalog.stackReferences.organization", "-org", "unityCatalog.stackReferences.organization", NAME),
    ("workspaceSettings.secretScope.name", "kv scope", "workspaceSettings.secretScope.name", "'^[A-Za-z0-9_.-]+$'"),
    ("unityCatalog.metastore.name", "_m", "unityCatalog.metastore.name", NAME),
    ("unityCatalog.catalogs.0.name", "ML_prod", "unityCatalog.catalogs[0].name", UC_NAME),
    ("unityCatalog.catalogs.0.schemas.0", "1raw", "unityCatalog.catalogs[0].schemas[0].name", UC_NAME),
]


@pytest.mark.parametrize(("path", "value", "key", "pattern"), PATTERNS, ids=[p[0] for p in PATTERNS])
def test_names_refused_by_their_pattern(path: str, value: str, key: str, pattern: str) -> None:
    assert problems("prod", [(path, value)]) == [
        f"prod: {key}: {value!r} is not allowed (string should match pattern {pattern})"]


# (key path, the longest accepted name): one character more is refused
LENGTHS = [
    ("unityCatalog.metastore.name", "m" * 255),
    ("unityCatalog.stackReferences.project", "p" * 100),
    ("unityCatalog.stackReferences.organization", "o" * 100),
    ("unityCatalog.catalogs.0.schemas.0.name", "s" * 255),
    ("unityCatalog.externalLocations.0.name", "l" * 255),
    ("unityCatalog.storageCredential", "c" * 255),
    ("workspaceSettings.secretScope.name", "k" * 128),
]


@pytest.mark.parametrize(("path", "name"), LENGTHS, ids=[p for p, _ in LENGTHS])
def test_name_lengths(path: str, name: str) -> None:
    if path.endswith("schemas.0.name"):  # a schema renamed: the matrix and serving must follow; the model decides
        schema = {"name": name}
        assert CatalogConfig.model_validate({"name": "c", "storageContainer": "x", "schemas": [schema]}).schemas
        with pytest.raises(ValueError, match="at most 255 characters"):
            CatalogConfig.model_validate({"name": "c", "storageContainer": "x", "schemas": [{"name": name + "s"}]})
        return
    assert problems("prod", [(path, name)]) == []
    key = path.replace(".0.", "[0].")
    assert problems("prod", [(path, name + name[0])]) == [
        f"prod: {key}: {name + name[0]!r} is not allowed (string should have at most {len(name)} characters)"]


def test_catalog_names_and_schema_lists() -> None:
    """A catalog needs one schema at least; its name, like a schema's, is at most 255 characters."""
    one = CatalogConfig.model_validate({"name": "c" * 255, "storageContainer": "x", "schemas": ["s"]})
    assert [s.name for s in one.schemas] == ["s"]
    with pytest.raises(ValueError, match="at most 255 characters"):
        CatalogConfig.model_validate({"name": "c" * 256, "storageContainer": "x", "schemas": ["s"]})
    with pytest.raises(ValueError, match="at least 1 item"):
        CatalogConfig.model_validate({"name": "c", "storageContainer": "x", "schemas": []})


# --- across stacks ----------------------------------------------------------------------------------

def test_account_groups_read_from_a_stack_that_does_not_create_them() -> None:
    assert problems("prod", [("identity.accountGroups", {"fromStack": "test"})]) == [
        "prod: identity.accountGroups.fromStack: 'test' does not create the account groups (its "
        "identity.accountGroups.manage is not true)"]


@pytest.mark.parametrize(("location", "expected"), [
    ("eastus2", ["test: unityCatalog.metastore.create: true is also set by stack dev in region 'eastus2'; one "
                 "metastore per region, created by exactly one stack (the others set metastore.fromStack or "
                 "metastore.id)"]),
    ("westeurope", []),
    ("centralus", []),
])
def test_one_metastore_creator_per_region(location: str, expected: list[str]) -> None:
    """Both stacks protected (only a protected stack may create a metastore): the region decides."""
    dev = with_changes("dev", [(f"{UC}.metastore", {"create": True}), ("protection.protect", True)])
    changes = [(f"{UC}.metastore", {"create": True}), ("location", location), ("protection.protect", True)]
    assert problems("test", changes, {"dev": dev}) == expected


@pytest.mark.parametrize(("location", "expected"), [
    ("eastus2", ["test: workspaceSettings.systemSchemas: query also enabled by stack dev; system schemas are "
                 "metastore-wide, enabled by one stack per region"]),
    ("westeurope", []),
    ("centralus", []),
])
def test_system_schemas_per_region(location: str, expected: list[str]) -> None:
    """Both stacks protected (only a protected stack may enable system schemas): the region decides."""
    dev = with_changes("dev", [("workspaceSettings.systemSchemas", ["query", "access"]), ("protection.protect", True)])
    changes = [("workspaceSettings.systemSchemas", ["query", "marketplace"]), ("location", location),
               ("protection.protect", True)]
    assert problems("test", changes, {"dev": dev}) == expected


def test_a_metastore_read_from_its_creator_is_fine() -> None:
    dev = with_changes("dev", [(f"{UC}.metastore", {"create": True}), ("protection.protect", True)])
    assert problems("test", [(f"{UC}.metastore", {"fromStack": "dev"})], {"dev": dev}) == []
    assert problems("test", [(f"{UC}.metastore", {"fromStack": "dev"})], {"dev": stack_raw("dev")}) == [
        "test: unityCatalog.metastore.fromStack: 'dev' does not create the metastore (its "
        "unityCatalog.metastore.create is not true)"]


def test_account_groups_are_created_by_one_stack() -> None:
    prod = with_changes("prod", [("identity.accountGroups", {"manage": True})])
    test = [("identity.accountGroups", {"manage": True}), ("protection.protect", True)]
    assert problems("test", test, {"prod": prod}) == [
        "test: identity.accountGroups.manage: true is also set by stack prod; account groups are account-wide and "
        "created by exactly one stack (the others set accountGroups.lookup or accountGroups.fromStack)"]
    assert problems("test", test, {"prod": stack_raw("prod")}) == []
    assert problems("test", [], {"prod": prod}) == []


def test_references_between_two_stacks_point_one_way() -> None:
    prod = with_changes("prod", [(f"{UC}.metastore", {"fromStack": "test"})])
    reads_prod = [("identity.accountGroups", {"fromStack": "prod"})]
    not_created = ("test: identity.accountGroups.fromStack: 'prod' does not create the account groups (its "
                   "identity.accountGroups.manage is not true)")
    assert problems("test", reads_prod, {"prod": prod}) == [
        not_created, "test: unityCatalog: reads stack prod's outputs and prod reads this stack's; no deploy order "
        "satisfies both (references must point one way: dev -> test -> prod)"]
    assert problems("test", reads_prod, {"prod": stack_raw("prod")}) == [not_created]
    assert problems("test", [], {"prod": prod}) == []


# --- derived values ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "name"), [
    ("dataScientists", "mlops-data-scientists"), ("admins", "mlops-platform-admins"),
    ("cicdServicePrincipal", "7c3e4a5f-6d7b-4c8d-ae9f-1a2b3c4d5e6f"), ("auditors", "mlops-auditors"),
    ("some-group", "some-group"), ("a-group", "a-group"),
])
def test_principal_keys_resolve_to_the_names_unity_catalog_knows(key: str, name: str) -> None:
    config = validate("prod", with_changes("prod", [("identity.extraRoles", {"auditors": "mlops-auditors"})]), {})
    assert principal_name(config, key) == name


def test_admin_principals_are_the_admins_group_and_the_configured_ones() -> None:
    config = validate("prod", with_changes("prod", [(f"{UC}.adminGroups", ["a", "b"])]), {})
    assert admin_principals(config) == {"mlops-platform-admins", "a", "b"}


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_the_checked_in_stacks_read_no_other_stack(stack: str) -> None:
    """Groups looked up by name, the metastore by id, every catalog bound to its own stack: no references."""
    assert referenced_stacks(validate(stack, stack_raw(stack), {})) == set()


def test_stacks_read_for_the_metastore_and_the_groups() -> None:
    raw = with_changes("test", [(f"{UC}.metastore", {"fromStack": "dev"}), ("identity.accountGroups", {
        "fromStack": "prod"}), (f"{UC}.catalogs.0.bindings", ["test"])])
    assert referenced_stacks(validate("test", raw, {})) == {"dev", "prod"}


def test_schema_properties_carry_the_retention() -> None:
    catalog = validate("prod", stack_raw("prod"), {}).unity_catalog.catalog("ml_models_catalog")
    assert catalog is not None
    assert catalog.schemas[0].all_properties() == {"retention_days": "30"}
    assert validate("prod", stack_raw("prod"), {}).unity_catalog.catalog("nope") is None


def test_a_catalog_declared_by_two_stacks() -> None:
    prod = with_changes("prod", [(f"{UC}.catalogs.1.name", "ml_test_catalog"), ("governance", DELETE)])
    assert problems("test", [], {"prod": prod}) == [
        "test: unityCatalog.catalogs: 'ml_test_catalog' is also declared by stack prod; a catalog has exactly one "
        "owning stack (bind it to the other workspaces instead)"]


def test_unity_catalog_defaults() -> None:
    """Unset: the metastore's sharing settings, read-write bindings and locations, legacy access off."""
    config = validate("prod", with_changes("prod", [("workspaceSettings", DELETE),
                                                    (f"{UC}.catalogs.1.bindings", ["prod"])]), {})
    uc = config.unity_catalog
    assert (uc.metastore.name, uc.metastore.delta_sharing_scope,
            uc.metastore.delta_sharing_recipient_token_lifetime_days) == ("company_mlops_metastore", "INTERNAL", 90)
    assert [(b.stack, b.read_only) for b in uc.catalogs[1].bindings] == [("prod", False)]
    assert uc.catalogs[0].bindings == []
    assert [x.read_only for x in uc.external_locations] == [False, False, False]
    ws = config.workspace_settings
    assert (ws.system_schemas, ws.disable_legacy_access, ws.disable_legacy_dbfs) == ([], True, True)


@pytest.mark.parametrize(("changes", "default"), [
    ([], "ml_prod_catalog"),
    ([(f"{UC}.defaultCatalog", "ml_models_catalog")], "ml_models_catalog"),
    ([(f"{UC}.defaultCatalog", DELETE)], "ml_prod_catalog"),  # the first catalog
])
def test_the_default_catalog(changes: list[tuple[str, Any]], default: str) -> None:
    assert validate("prod", with_changes("prod", changes), {}).unity_catalog.default_catalog_name == default


def test_a_cicd_catalog_without_catalogs_is_refused_before_any_grant() -> None:
    """unityCatalog.cicd.catalog set in a stack without catalogs used to pass validation, and the grant table then
    granted the CI/CD principal USE_CATALOG and its schema privileges on a catalog nobody creates."""
    changes = [(f"{UC}.catalogs", []), (f"{UC}.defaultCatalog", DELETE), (f"{UC}.cicd.catalog", "ghost_catalog"),
               ("serving", DELETE)]
    assert problems("dev", changes, {}) == [
        "dev: unityCatalog.cicd.catalog: 'ghost_catalog' is not a catalog of this stack; allowed: none declared"]


def test_no_catalogs_no_default_catalog() -> None:
    changes = [(f"{UC}.catalogs", []), (f"{UC}.defaultCatalog", DELETE), (f"{UC}.cicd", {}), ("serving", DELETE),
               ("governance", DELETE)]
    assert validate("dev", with_changes("dev", changes), {}).unity_catalog.default_catalog_name is None
