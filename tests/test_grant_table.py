"""The Unity Catalog grant table (`grant_table`) and the Grants resources made from it.

Every securable kind (storage credential, external locations, catalogs, schemas) is asserted row by row,
from a made-up config that takes every path through the table and from the checked-in stack files. The
Grants resources' names are pinned: they are the resources' identity, so a rename would replace every
Grants resource (revoke, then grant again) on the next deploy.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_databricks as dbx
import pytest

import infra.components.unity_catalog.grant_table as table
from infra.components.unity_catalog.grant_table import GrantRow
from infra.components.unity_catalog.grants import UcGrants, UcGrantsArgs
from infra.config import StackConfig, load_stack, validate
from infra.config.governance import RETENTION_ARCHIVE, RETENTION_READ
from mlopsctl.plan.engine import run_program
from mlopsctl.plan.model import Plan
from tests.support import DELETE, stack_raw, with_changes

GRANTS = "databricks:index/grants:Grants"


# The table from a whole stack config, as the composition derives its arguments.
def grant_table(config: StackConfig) -> list[GrantRow]:
    return table.grant_table(config.unity_catalog, config.identity, config.names, config.run_as_grants)


def storage_credential_name(config: StackConfig) -> str:
    return table.storage_credential_name(config.unity_catalog, config.names)


def external_location_name(config: StackConfig, container: str) -> str:
    return table.external_location_name(config.unity_catalog, config.names, container)
ADMINS = "mlops-platform-admins"
SCIENTISTS, ENGINEERS, DEVOPS = "mlops-data-scientists", "mlops-ml-engineers", "mlops-devops-engineers"
CICD_DEV = "5a1c2e3d-4b5f-4a6b-8c7d-9e0f1a2b3c4d"

READ = ("BROWSE", "EXECUTE", "READ_VOLUME", "SELECT", "USE_CATALOG", "USE_SCHEMA")
READ_WRITE = ("BROWSE", "CREATE_FUNCTION", "CREATE_MATERIALIZED_VIEW", "CREATE_MODEL", "CREATE_TABLE",
              "CREATE_VOLUME", "EXECUTE", "MODIFY", "READ_VOLUME", "REFRESH", "SELECT", "USE_CATALOG", "USE_SCHEMA",
              "WRITE_VOLUME")
LOCATION_READ = ("BROWSE", "READ_FILES")
LOCATION_READ_WRITE = ("BROWSE", "CREATE_EXTERNAL_TABLE", "CREATE_EXTERNAL_VOLUME", "READ_FILES", "WRITE_FILES")
LOCATION_FULL = ("BROWSE", "CREATE_EXTERNAL_TABLE", "CREATE_EXTERNAL_VOLUME", "CREATE_MANAGED_STORAGE", "READ_FILES",
                 "WRITE_FILES")
# The admins administer what the deployer owns (MANAGE) and may enter it; they get no data by default.
ADMIN_CREDENTIAL = ("CREATE_EXTERNAL_LOCATION", "MANAGE")
ADMIN_LOCATION = tuple(sorted((*LOCATION_FULL, "MANAGE")))
ADMIN_CATALOG = ("BROWSE", "MANAGE", "USE_CATALOG", "USE_SCHEMA")
RUN_AS_READ = ("SELECT", "USE_SCHEMA")
# It owns the served models themselves (tests/test_model_lifecycle.py); EXECUTE is the retention job's, which reads
# every version of the schema's models (tests/test_governance.py).
RUN_AS_REGISTER = ("EXECUTE", "USE_SCHEMA")
CICD_SCHEMA = ("CREATE_FUNCTION", "CREATE_MODEL", "CREATE_TABLE", "CREATE_VOLUME", "EXECUTE", "MODIFY", "READ_VOLUME",
               "SELECT", "USE_SCHEMA", "WRITE_VOLUME")

# A made-up Unity Catalog section on dev's stack file: every kind of matrix cell and explicit grant.
MADE_UP_UC: dict[str, Any] = {
    "metastore": {"id": "6f1e2d3c-4b5a-4c6d-8e7f-0a1b2c3d4e5f"},
    "storageCredential": "made-up-cred",
    "externalLocations": [  # beta before alpha: a location is found by its container, not by order
        {"container": "beta", "name": "beta_loc",
         "access": {"auditors": "FULL_ACCESS", "devopsEngineers": "READ_WRITE"}},
        {"container": "alpha", "access": {"dataScientists": "READ", "mlEngineers": "NO_ACCESS"}},
    ],
    "catalogs": [
        {"name": "cat_a", "storageContainer": "alpha", "schemas": ["s1", "s2"],
         "access": {"modelConsumers": {"level": "NO_ACCESS", "schemas": ["s1"]}, "dataScientists": "READ",
                    "mlEngineers": {"level": "PROMOTE", "schemas": ["s2"]},
                    "devopsEngineers": {"level": "FULL_ACCESS", "schemas": ["s1"]}},
         "grants": [{"principal": "admins", "privileges": ["MANAGE"]},
                    {"principal": "dataScientists", "privileges": ["APPLY_TAG"]},
                    {"principal": "some-group", "privileges": ["SELECT"], "schema": "s1"},
                    {"principal": "cicdServicePrincipal", "privileges": ["BROWSE"]}]},
        {"name": "cat_b", "storageContainer": "beta", "schemas": ["databricks_monitoring", "t1"],
         "access": {"auditors": {"level": "READ", "schemas": ["t1"]}}},
    ],
    "cicd": {"catalog": "cat_b", "catalogPrivileges": ["USE_CATALOG"], "schemaPrivileges": ["USE_SCHEMA", "SELECT"]},
}


def made_up(uc_changes: dict[str, Any] | None = None) -> StackConfig:
    """dev's stack file with MADE_UP_UC (and `uc_changes` on top); serving and governance dropped (they name dev's
    schemas)."""
    uc = {**MADE_UP_UC, **(uc_changes or {})}
    raw = with_changes("dev", [("unityCatalog", uc), ("lake.containers", ["alpha", "beta"]), ("serving", DELETE),
                               ("governance", DELETE),
                               ("identity.extraRoles", {"auditors": "mlops-auditors"})])
    return validate("dev", raw, {})


def row(kind: str, securable: str, principal: str, privileges: tuple[str, ...] | list[str]) -> GrantRow:
    return GrantRow(kind, securable, principal, tuple(privileges))


MADE_UP_TABLE = [
    row("storage_credential", "made-up-cred", ADMINS, ADMIN_CREDENTIAL),
    # the configured name; an extra role maps to its group
    row("external_location", "beta_loc", "mlops-auditors", LOCATION_FULL),
    row("external_location", "beta_loc", DEVOPS, LOCATION_READ_WRITE),
    row("external_location", "beta_loc", ADMINS, ADMIN_LOCATION),
    # default name <prefix>-<env>-<container>; NO_ACCESS adds no row
    row("external_location", "mlops-dev-alpha", SCIENTISTS, LOCATION_READ),
    row("external_location", "mlops-dev-alpha", ADMINS, ADMIN_LOCATION),
    # explicit grants merge with the matrix cell (dataScientists READ + APPLY_TAG); the CI/CD principal by key
    row("catalog", "cat_a", CICD_DEV, ["BROWSE"]),
    row("catalog", "cat_a", SCIENTISTS, sorted({*READ, "APPLY_TAG"})),
    # a cell limited to schemas: USE_CATALOG on the catalog, the rest on each schema
    row("catalog", "cat_a", DEVOPS, ["USE_CATALOG"]),
    row("catalog", "cat_a", ENGINEERS, ["USE_CATALOG"]),
    # the admins' explicit MANAGE merges into their row on every catalog
    row("catalog", "cat_a", ADMINS, ADMIN_CATALOG),
    row("catalog", "cat_b", CICD_DEV, ["USE_CATALOG"]),
    row("catalog", "cat_b", "mlops-auditors", ["USE_CATALOG"]),
    row("catalog", "cat_b", ADMINS, ADMIN_CATALOG),
    row("schema", "cat_a.s1", DEVOPS, sorted(set(READ_WRITE) - {"USE_CATALOG"} | {"APPLY_TAG"})),
    row("schema", "cat_a.s1", "some-group", ["SELECT"]),
    row("schema", "cat_a.s2", ENGINEERS, ["APPLY_TAG", "BROWSE", "CREATE_MODEL", "EXECUTE", "USE_SCHEMA"]),
    row("schema", "cat_b.databricks_monitoring", CICD_DEV, ["SELECT", "USE_SCHEMA"]),
    row("schema", "cat_b.t1", "mlops-auditors", sorted(set(READ) - {"USE_CATALOG"})),
]


def test_made_up_config_gives_every_row_merged_and_sorted() -> None:
    """Kinds in order (credential, locations, catalogs, schemas), then securable, then principal; privileges
    sorted; NO_ACCESS cells add nothing (not even USE_CATALOG when limited to schemas); CREATE_SCHEMA never
    reaches a schema."""
    assert grant_table(made_up()) == MADE_UP_TABLE


@pytest.mark.parametrize(("uc_changes", "cicd_catalog"), [
    ({"cicd": {"schema": "s1"}}, "cat_a"),  # no cicd.catalog, no defaultCatalog: the first catalog
    ({"cicd": {"schema": "t1"}, "defaultCatalog": "cat_b"}, "cat_b"),  # else the default catalog
    ({"cicd": {"catalog": "cat_b", "schema": "t1"}, "defaultCatalog": "cat_a"}, "cat_b"),  # cicd.catalog first
], ids=["first-catalog", "default-catalog", "cicd-catalog"])
def test_cicd_principal_is_granted_on_its_catalog(uc_changes: dict[str, Any], cicd_catalog: str) -> None:
    rows = [r for r in grant_table(made_up(uc_changes)) if r.principal == CICD_DEV]
    schema = uc_changes["cicd"]["schema"]
    expected = [row("catalog", cicd_catalog, CICD_DEV, ["CREATE_SCHEMA", "USE_CATALOG"]),
                row("schema", f"{cicd_catalog}.{schema}", CICD_DEV, CICD_SCHEMA)]
    if cicd_catalog == "cat_a":  # cat_a's explicit BROWSE grant merges into the catalog row
        expected[0] = row("catalog", "cat_a", CICD_DEV, ["BROWSE", "CREATE_SCHEMA", "USE_CATALOG"])
    else:
        expected.insert(0, row("catalog", "cat_a", CICD_DEV, ["BROWSE"]))
    assert rows == expected


def test_without_catalogs_only_the_credential_and_locations_are_granted() -> None:
    rows = grant_table(made_up({"catalogs": [], "cicd": {}}))
    assert {r.securable_type for r in rows} == {"storage_credential", "external_location"}
    assert rows == MADE_UP_TABLE[:6]


def test_external_location_names() -> None:
    """The configured name, else <prefix>-<env>-<container> (also for a container without a location entry)."""
    config = made_up()
    assert [external_location_name(config, c) for c in ("alpha", "beta", "gamma")] == [
        "mlops-dev-alpha", "beta_loc", "mlops-dev-gamma"]
    assert storage_credential_name(made_up({"storageCredential": None})) == "mlops-dev-lake"


def test_a_row_as_the_grants_output() -> None:
    assert MADE_UP_TABLE[0].as_output() == {"securableType": "storage_credential", "securable": "made-up-cred",
                                            "principal": ADMINS, "privileges": ["CREATE_EXTERNAL_LOCATION", "MANAGE"]}


# --- from the stack files ------------------------------------------------------------------------

# stack -> (storage credential, {external location: {principal: privileges}})
LOCATIONS: dict[str, tuple[str, dict[str, dict[str, tuple[str, ...]]]]] = {
    "dev": ("mlops-dev-lake", {
        "mlops-dev-ml-dev-catalog": {ENGINEERS: LOCATION_READ, ADMINS: ADMIN_LOCATION},
        "mlops-dev-mlflow-artifacts-dev": {SCIENTISTS: LOCATION_READ_WRITE, ENGINEERS: LOCATION_READ_WRITE,
                                           ADMINS: ADMIN_LOCATION}}),
    "test": ("mlops-test-lake", {
        "mlops-test-ml-test-catalog": {ENGINEERS: LOCATION_READ, ADMINS: ADMIN_LOCATION},
        "mlops-test-mlflow-artifacts-test": {SCIENTISTS: LOCATION_READ_WRITE, ENGINEERS: LOCATION_READ_WRITE,
                                             ADMINS: ADMIN_LOCATION}}),
    "prod": ("mlops-prod-lake", {
        "mlops-prod-ml-models-catalog": {ENGINEERS: LOCATION_READ, ADMINS: ADMIN_LOCATION},
        "mlops-prod-ml-prod-catalog": {ENGINEERS: LOCATION_READ, ADMINS: ADMIN_LOCATION},
        "mlops-prod-mlflow-artifacts-prod": {SCIENTISTS: LOCATION_READ_WRITE, ENGINEERS: LOCATION_READ_WRITE,
                                             ADMINS: ADMIN_LOCATION}}),
}


def _by_securable(rows: list[GrantRow], kind: str) -> dict[str, dict[str, tuple[str, ...]]]:
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for r in rows:
        if r.securable_type == kind:
            out.setdefault(r.securable, {})[r.principal] = r.privileges
    return out


@pytest.mark.parametrize("stack", sorted(LOCATIONS))
def test_stack_file_storage_credential_and_external_location_grants(stack: str) -> None:
    """Only the admins may create external locations on the lake's credential, and they administer it and every
    location (MANAGE); each location's matrix row."""
    config = load_stack(stack)
    credential, locations = LOCATIONS[stack]
    rows = grant_table(config)
    assert storage_credential_name(config) == credential
    assert _by_securable(rows, "storage_credential") == {credential: {ADMINS: ADMIN_CREDENTIAL}}
    assert _by_securable(rows, "external_location") == locations
    assert sorted(external_location_name(config, c) for c in config.lake.containers
                  if any(x.container == c for x in config.unity_catalog.external_locations)) == sorted(locations)


# stack -> catalog -> the four roles' groups -> privileges (the access matrix; the CI/CD principal apart)
CATALOGS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "dev": {"ml_dev_catalog": {SCIENTISTS: READ_WRITE, ENGINEERS: READ_WRITE, DEVOPS: READ, ADMINS: ADMIN_CATALOG}},
    "test": {"ml_test_catalog": {SCIENTISTS: READ, ENGINEERS: READ_WRITE, DEVOPS: READ_WRITE,
                                 "mlops-model-consumers": READ, ADMINS: ADMIN_CATALOG}},
    "prod": {"ml_prod_catalog": {SCIENTISTS: READ, ENGINEERS: READ, DEVOPS: READ_WRITE, "mlops-model-consumers": READ,
                                 ADMINS: ADMIN_CATALOG},
             "ml_models_catalog": {
                 SCIENTISTS: ("USE_CATALOG",), "mlops-model-consumers": ("USE_CATALOG",), ADMINS: ADMIN_CATALOG,
                 ENGINEERS: ("APPLY_TAG", "BROWSE", "CREATE_FUNCTION", "CREATE_MATERIALIZED_VIEW", "CREATE_MODEL",
                             "CREATE_SCHEMA", "CREATE_TABLE", "CREATE_VOLUME", "EXECUTE", "MODIFY", "READ_VOLUME",
                             "REFRESH", "SELECT", "USE_CATALOG", "USE_SCHEMA", "WRITE_VOLUME"),
                 DEVOPS: ("APPLY_TAG", "BROWSE", "CREATE_MODEL", "EXECUTE", "USE_CATALOG", "USE_SCHEMA")}},
}
SCHEMAS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "dev": {}, "test": {},
    "prod": {"ml_models_catalog.dev_models": {SCIENTISTS: ("BROWSE", "CREATE_FUNCTION", "CREATE_MODEL", "EXECUTE",
                                                           "USE_SCHEMA")},
             "ml_models_catalog.production_models": {"mlops-model-consumers": ("BROWSE", "EXECUTE", "READ_VOLUME",
                                                                               "SELECT", "USE_SCHEMA")}},
}


def _without(table: dict[str, dict[str, tuple[str, ...]]], principal: str) -> dict[str, dict[str, tuple[str, ...]]]:
    out = {s: {p: v for p, v in by.items() if p != principal} for s, by in table.items()}
    return {s: by for s, by in out.items() if by}


@pytest.mark.parametrize("stack", sorted(CATALOGS))
def test_stack_file_catalog_and_schema_grants_to_groups(stack: str) -> None:
    """The matrix's groups on catalogs and schemas (the CI/CD principal's rows are asserted below)."""
    config = load_stack(stack)
    app = config.identity.cicd_service_principal.application_id
    rows = grant_table(config)
    assert _without(_by_securable(rows, "catalog"), app) == CATALOGS[stack]
    assert _without(_by_securable(rows, "schema"), app) == SCHEMAS[stack]


@pytest.mark.parametrize(("stack", "app"), [("dev", CICD_DEV), ("test", "6b2d3f4e-5c6a-4b7c-9d8e-0f1a2b3c4d5e"),
                                            ("prod", "7c3e4a5f-6d7b-4c8d-ae9f-1a2b3c4d5e6f")])
def test_stack_file_cicd_principal_grants(stack: str, app: str) -> None:
    """The CI/CD principal: USE_CATALOG + CREATE_SCHEMA on its catalog, named privileges in its schema; as the
    run-as principal of the drift alerts and the retrain job it reads the monitored schemas and registers models."""
    rows = [r for r in grant_table(load_stack(stack)) if r.principal == app]
    catalog = f"ml_{stack}_catalog"
    # prod's registry: the retention job reads every schema of it and archives into archived_models
    registry = [row("schema", f"ml_models_catalog.{s}", app, RETENTION_ARCHIVE if s == "archived_models"
                    else RETENTION_READ)
                for s in ("archived_models", "candidate_models", "dev_models", "production_models")]
    # prod's restore drill reads the feature tables and writes its copies into the scratch schema
    drill = [row("schema", f"{catalog}.feature_store", app, ["SELECT", "USE_SCHEMA"])] if stack == "prod" else []
    scratch = [row("schema", f"{catalog}.restore_drill", app, ["CREATE_TABLE", "MODIFY", "SELECT", "USE_SCHEMA"])
               ] if stack == "prod" else []
    assert rows == [*([row("catalog", "ml_models_catalog", app, ["USE_CATALOG"])] if stack == "prod" else []),
                    row("catalog", catalog, app, ["CREATE_SCHEMA", "USE_CATALOG"]),
                    *(registry if stack == "prod" else []),
                    row("schema", f"{catalog}.databricks_monitoring", app, CICD_SCHEMA),
                    *drill,
                    row("schema", f"{catalog}.model_inference_logs", app, RUN_AS_READ),
                    row("schema", f"{catalog}.models", app, RUN_AS_REGISTER),
                    row("schema", f"{catalog}.monitoring", app, RUN_AS_READ),
                    *scratch]


def test_run_as_grants_enter_their_catalog_and_skip_undeclared_schemas() -> None:
    """The CI/CD principal's own catalog elsewhere: the monitored catalog gets USE_CATALOG for the run-as reads;
    a baseline table in a schema this stack does not declare gets no grant (nothing to grant on)."""
    raw = stack_raw("dev")
    raw["mlops-platform:unityCatalog"]["catalogs"].append(
        {"name": "ml_dev_extra", "storageContainer": "ml-dev-catalog", "schemas": ["databricks_monitoring"]})
    raw["mlops-platform:unityCatalog"]["cicd"]["catalog"] = "ml_dev_extra"
    raw["mlops-platform:serving"]["endpoints"][0]["monitor"]["baselineTable"] = "ml_dev_catalog.undeclared.baseline"
    rows = [r for r in grant_table(validate("dev", raw, {})) if r.principal == CICD_DEV]
    assert rows == [row("catalog", "ml_dev_catalog", CICD_DEV, ["USE_CATALOG"]),
                    row("catalog", "ml_dev_extra", CICD_DEV, ["CREATE_SCHEMA", "USE_CATALOG"]),
                    row("schema", "ml_dev_catalog.model_inference_logs", CICD_DEV, RUN_AS_READ),
                    row("schema", "ml_dev_catalog.models", CICD_DEV, RUN_AS_REGISTER),
                    row("schema", "ml_dev_catalog.monitoring", CICD_DEV, RUN_AS_READ),
                    row("schema", "ml_dev_extra.databricks_monitoring", CICD_DEV, CICD_SCHEMA)]


def test_without_retraining_nothing_registers_models() -> None:
    config = validate("dev", with_changes("dev", [("serving.retraining.enabled", False)]), {})
    schemas = {r.securable: r.privileges for r in grant_table(config)
               if r.principal == CICD_DEV and r.securable_type == "schema"}
    # the models schema keeps only what the retention job reads there: no CREATE_MODEL
    assert schemas == {"ml_dev_catalog.databricks_monitoring": CICD_SCHEMA,
                       "ml_dev_catalog.model_inference_logs": RUN_AS_READ, "ml_dev_catalog.models": RETENTION_READ,
                       "ml_dev_catalog.monitoring": RUN_AS_READ}


# --- the Grants resources ------------------------------------------------------------------------

def _grants_plan(rows: list[GrantRow], undeclared: tuple[str, str] | None = None) -> Plan:
    """UcGrants alone under the offline engine, each securable stood in for by one component."""
    def program() -> None:
        provider = dbx.Provider("workspace-provider", host="https://adb-1.azuredatabricks.net")
        securable = pulumi.CustomResource("test:index:Securable", "securable", {})
        before = pulumi.CustomResource("test:index:Assignment", "assignment", {})
        keys = {(r.securable_type, r.securable) for r in rows} - {undeclared}
        UcGrants("grants", UcGrantsArgs(rows=rows, securables=dict.fromkeys(keys, securable),
                                        workspace_provider=provider, depends_on=[before]))

    return run_program("dev", {}, program=program)


# stack -> every Grants resource name (their identity: a rename replaces the resource on the next deploy)
GRANTS_NAMES = {
    "dev": ["grants-catalog-ml_dev_catalog", "grants-external-location-mlops-dev-ml-dev-catalog",
            "grants-external-location-mlops-dev-mlflow-artifacts-dev",
            "grants-schema-ml_dev_catalog.databricks_monitoring",
            "grants-schema-ml_dev_catalog.model_inference_logs", "grants-schema-ml_dev_catalog.models",
            "grants-schema-ml_dev_catalog.monitoring",
            "grants-storage-credential-mlops-dev-lake"],
    "test": ["grants-catalog-ml_test_catalog", "grants-external-location-mlops-test-ml-test-catalog",
             "grants-external-location-mlops-test-mlflow-artifacts-test",
             "grants-schema-ml_test_catalog.databricks_monitoring",
             "grants-schema-ml_test_catalog.model_inference_logs", "grants-schema-ml_test_catalog.models",
             "grants-schema-ml_test_catalog.monitoring", "grants-storage-credential-mlops-test-lake"],
    "prod": ["grants-catalog-ml_models_catalog", "grants-catalog-ml_prod_catalog",
             "grants-external-location-mlops-prod-ml-models-catalog",
             "grants-external-location-mlops-prod-ml-prod-catalog",
             "grants-external-location-mlops-prod-mlflow-artifacts-prod",
             # archived_models and candidate_models: the retention job's grants (the groups' are on the catalog)
             "grants-schema-ml_models_catalog.archived_models", "grants-schema-ml_models_catalog.candidate_models",
             "grants-schema-ml_models_catalog.dev_models", "grants-schema-ml_models_catalog.production_models",
             "grants-schema-ml_prod_catalog.databricks_monitoring", "grants-schema-ml_prod_catalog.feature_store",
             "grants-schema-ml_prod_catalog.model_inference_logs", "grants-schema-ml_prod_catalog.models",
             "grants-schema-ml_prod_catalog.monitoring", "grants-schema-ml_prod_catalog.restore_drill",
             "grants-storage-credential-mlops-prod-lake"],
}


@pytest.mark.parametrize("stack", sorted(GRANTS_NAMES))
def test_grants_resource_names_are_pinned(stack: str) -> None:
    plan = _grants_plan(grant_table(load_stack(stack)))
    assert sorted(r.name for r in plan.by_type(GRANTS)) == GRANTS_NAMES[stack]


SECURABLE_KEYS = {"storage_credential": "storageCredential", "external_location": "externalLocation",
                  "catalog": "catalog", "schema": "schema"}


def test_one_authoritative_grants_per_securable_with_its_rows() -> None:
    """Each Grants names exactly its securable (by the key of its kind), lists its rows' principals and
    privileges, runs on the workspace provider, under the component, after the securable and the assignment."""
    rows = MADE_UP_TABLE
    plan = _grants_plan(rows)
    component = plan.one("mlops:platform:UcGrants")
    securable, assignment = plan.one("test:index:Securable"), plan.one("test:index:Assignment")
    found = {}
    for res in plan.by_type(GRANTS):
        keys = [k for k in SECURABLE_KEYS.values() if res.inputs.get(k) is not None]
        assert len(keys) == 1, res.name
        kind = next(kind for kind, key in SECURABLE_KEYS.items() if key == keys[0])
        found[(kind, res.inputs[keys[0]])] = [(g["principal"], tuple(g["privileges"])) for g in res.inputs["grants"]]
        assert res.name == f"grants-{kind.replace('_', '-')}-{res.inputs[keys[0]]}"
        assert res.parent == component.urn
        assert res.provider is not None and "::workspace-provider::" in res.provider
        assert {securable.urn, assignment.urn} <= set(res.dependencies)
    expected: dict[tuple[str, str], list[tuple[str, tuple[str, ...]]]] = {}
    for r in rows:
        expected.setdefault((r.securable_type, r.securable), []).append((r.principal, r.privileges))
    assert found == expected


def test_grants_on_an_undeclared_securable_are_refused() -> None:
    rows = [row("catalog", "ghost", ADMINS, ["USE_CATALOG"])]
    with pytest.raises(Exception, match="grants on catalog 'ghost', which this stack does not declare"):
        _grants_plan(rows, undeclared=("catalog", "ghost"))


def test_rows_and_arguments_are_immutable() -> None:
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        MADE_UP_TABLE[0].principal = "x"  # type: ignore[misc]
    args = UcGrantsArgs(rows=[], securables={}, workspace_provider=None, depends_on=[])  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        args.rows = MADE_UP_TABLE  # type: ignore[misc]
