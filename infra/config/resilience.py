"""Config of resilience: the lake's durability per tier, the standby stack in the paired region, and the
restore drill.

The lake's redundancy and soft delete stay in `lake` (LakeConfig); this module holds the rules a prod-tier stack
must meet there, the standby's own section (`standby`) and the drill (`drill`), and the cross-stack rules that
tie a standby to its primary.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from infra.config.base import StrictModel
from infra.config.core import Region
from infra.config.serving import Schedule

if TYPE_CHECKING:
    from infra.config.model import StackConfig

# Geo-redundant with read access to the secondary region: what a prod-tier lake must be.
GEO_READ_SKUS = ("Standard_RAGZRS", "Standard_RAGRS")
ZONE_SKUS = ("Standard_ZRS", "Standard_GZRS", "Standard_RAGZRS")
# Regions that offer GZRS/RA-GZRS (Microsoft Learn, "Azure regions that support geo-zone-redundant storage
# (GZRS)", azure/storage/common/redundancy-regions-gzrs); elsewhere prod takes RA-GRS.
GZRS_REGIONS = frozenset({
    "southafricanorth", "australiaeast", "eastasia", "japaneast", "koreacentral", "southeastasia", "centralindia",
    "francecentral", "germanywestcentral", "northeurope", "norwayeast", "swedencentral", "switzerlandnorth",
    "uksouth", "westeurope", "uaenorth", "canadacentral", "centralus", "eastus", "eastus2", "southcentralus",
    "westus2", "westus3", "brazilsouth",
})
# Azure region pairs of the regions this project accepts (Microsoft Learn, "Azure region pairs and nonpaired
# regions", azure/reliability/cross-region-replication-azure). GRS replicates to the pair, and the standby lives
# there. Nonpaired regions (e.g. mexicocentral, polandcentral) are absent: pick the standby's region yourself.
REGION_PAIRS: dict[str, str] = {
    "eastus": "westus", "westus": "eastus", "eastus2": "centralus", "centralus": "eastus2",
    "northcentralus": "southcentralus", "southcentralus": "northcentralus", "westus2": "westcentralus",
    "westcentralus": "westus2", "westus3": "eastus", "canadacentral": "canadaeast", "canadaeast": "canadacentral",
    "brazilsouth": "southcentralus", "northeurope": "westeurope", "westeurope": "northeurope", "uksouth": "ukwest",
    "ukwest": "uksouth", "francecentral": "francesouth", "germanywestcentral": "germanynorth",
    "switzerlandnorth": "switzerlandwest", "swedencentral": "swedensouth", "norwayeast": "norwaywest",
    "uaenorth": "uaecentral", "southafricanorth": "southafricawest", "centralindia": "southindia",
    "southindia": "centralindia", "westindia": "southindia", "eastasia": "southeastasia",
    "southeastasia": "eastasia", "japaneast": "japanwest", "japanwest": "japaneast", "koreacentral": "koreasouth",
    "australiaeast": "australiasoutheast", "australiasoutheast": "australiaeast",
}
# A prod-tier lake keeps deleted blobs and containers at least this long (a mistaken delete noticed in a
# monthly review can still be undone).
PROD_MIN_SOFT_DELETE_DAYS = 30

SHARE_NAME = r"^[A-Za-z0-9_]+$"
GLOBAL_METASTORE_ID = r"^azure:[a-z0-9]+:[0-9a-f-]{36}$"
_TABLE = re.compile(r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+$")
_SCHEMA = re.compile(r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _three_part(values: list[str], what: str) -> list[str]:
    for value in values:
        if not _TABLE.match(value):
            raise ValueError(f"lists {value!r}; each {what} is a three-part name catalog.schema.name")
    if len(set(values)) != len(values):
        raise ValueError(f"lists a {what} more than once")
    return values


def _emails(values: list[str]) -> list[str]:
    bad = [e for e in values if not _EMAIL.match(e)]
    if bad:
        raise ValueError(f"lists {bad[0]!r}, which is not an e-mail address")
    return values


class Replication(StrictModel):
    """What fills the standby: Databricks Managed Disaster Recovery, or the platform's copy job."""

    managed_failover: bool = False
    """Use Databricks Managed Disaster Recovery (an account-level failover group replicating the primary's
    catalogs and workspace assets); it needs workspaces in the Mission Critical tier. `false`: the copy job below
    fills the standby from a Delta Sharing catalog of the primary's schemas."""
    provider_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    """Name of the primary's metastore as a Delta Sharing provider in the standby's metastore (Catalog Explorer >
    Delta Sharing > Shared with me); needed when managedFailover is false."""
    share_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    """Name of the primary's share of its schemas (the primary's `drShare.name`); needed when managedFailover is
    false."""
    schemas: list[str] = []
    """The primary's schemas (`catalog.schema`) the copy job copies, each into the standby's catalog and schema of the
    same name; the share must hold them."""
    models: list[str] = []
    """Registered models (`catalog.schema.model`) whose versions and aliases the copy job copies into the standby's
    registry of the same name."""
    schedule: Schedule = Schedule(cron="0 */6 * * *")
    """When the copy job runs; its interval is the standby's recovery point objective for the lake's tables."""
    paused: bool = False
    """Pause the copy job's schedule (e.g. during a failover, when the standby becomes the primary)."""
    failure_recipients: list[str] = []
    """E-mail addresses told when a copy run fails (a failed copy is a growing recovery point)."""

    @field_validator("schemas")
    @classmethod
    def _schemas(cls, v: list[str]) -> list[str]:
        for value in v:
            if not _SCHEMA.match(value):
                raise ValueError(f"lists {value!r}; each schema is a two-part name catalog.schema")
        return v

    @field_validator("models")
    @classmethod
    def _models(cls, v: list[str]) -> list[str]:
        return _three_part(v, "model")

    @field_validator("failure_recipients")
    @classmethod
    def _recipients(cls, v: list[str]) -> list[str]:
        return _emails(v)


class StandbyConfig(StrictModel):
    """This stack is the disaster-recovery standby of another stack, in that stack's paired region."""

    primary_stack: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    """The stack this one stands in for (e.g. `prod`); the standby must be in another region (its Azure pair), with
    the primary's tier and a VNet range that overlaps none of the primary's."""
    primary_region: Region
    """The primary stack's `location`, repeated here because the failover group and the runbook name it; validation
    checks it against the primary's stack file."""
    replication: Replication = Replication()
    """How the standby is kept filled: Databricks Managed Disaster Recovery or the platform's copy job."""


class DrShareConfig(StrictModel):
    """The primary's side of the standby's copy job: a Delta Sharing share of its schemas to the standby."""

    name: str = Field(default="standby", pattern=SHARE_NAME)
    """Name of the share (the standby's `standby.replication.shareName`)."""
    recipient_metastore_id: str = Field(pattern=GLOBAL_METASTORE_ID)
    """Global metastore id of the standby's metastore, `azure:<region>:<metastore uuid>` (Catalog Explorer > Delta
    Sharing > the recipient's sharing identifier); the share's Databricks-to-Databricks recipient."""
    schemas: list[str]
    """This stack's schemas (`catalog.schema`) shared whole with the standby: their tables and models."""

    @field_validator("schemas")
    @classmethod
    def _schemas(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("must list at least one schema (catalog.schema) to share")
        return Replication._schemas(v)


class DrillConfig(StrictModel):
    """The restore drill: a scheduled job that restores feature tables from history and checks the registry."""

    tables: list[str]
    """Feature tables (`catalog.schema.table`) the drill restores a sample of, from an earlier version."""
    sample: int = Field(default=3, ge=1, le=50)
    """How many of `tables` each run restores (a rotating sample, so every table is rehearsed over the months)."""
    versions_back: int = Field(default=1, ge=1, le=100)
    """How many versions back each sampled table is restored from (`VERSION AS OF current - versionsBack`)."""
    scratch_schema: str
    """Schema (`catalog.schema`) the restored copies are written to; emptied of them after each run."""
    models: list[str] = []
    """Registered models (`catalog.schema.model`) whose aliases must resolve to an existing version."""
    schedule: Schedule = Schedule(cron="0 5 1 * *")
    """When the drill runs; monthly by default (and on demand: run the job)."""
    paused: bool | None = None
    """Pause the drill's schedule; default: paused outside prod (it still runs on demand)."""
    failure_recipients: list[str] = []
    """E-mail addresses told when the drill fails; the admins' destination."""

    @field_validator("tables")
    @classmethod
    def _tables(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("must list at least one feature table (catalog.schema.table)")
        return _three_part(v, "table")

    @field_validator("models")
    @classmethod
    def _models(cls, v: list[str]) -> list[str]:
        return _three_part(v, "model")

    @field_validator("scratch_schema")
    @classmethod
    def _scratch(cls, v: str) -> str:
        if not _SCHEMA.match(v):
            raise ValueError("is not a two-part name catalog.schema")
        return v

    @field_validator("failure_recipients")
    @classmethod
    def _recipients(cls, v: list[str]) -> list[str]:
        return _emails(v)


def lake_problems(config: StackConfig) -> list[tuple[str, Any, str]]:
    """The lake's redundancy in its region, and a prod-tier lake's minimum durability."""
    problems: list[tuple[str, Any, str]] = []
    lake, region = config.lake, config.location
    if lake.sku in ("Standard_GZRS", "Standard_RAGZRS") and region not in GZRS_REGIONS:
        problems.append(("lake.sku", lake.sku, f"is not offered in region {region!r}; allowed there: "
                         "'Standard_RAGRS' (geo-zone-redundant storage is offered in a subset of regions)"))
    if config.is_prod:
        if lake.sku not in GEO_READ_SKUS:
            allowed = "'Standard_RAGZRS'" if region in GZRS_REGIONS else "'Standard_RAGRS'"
            problems.append(("lake.sku", lake.sku, f"is not allowed in prod: the lake must be geo-redundant with "
                             f"read access to the paired region; allowed in {region!r}: {allowed}"))
        elif lake.sku == "Standard_RAGRS" and region in GZRS_REGIONS:
            problems.append(("lake.sku", lake.sku, f"is not allowed in prod in {region!r}, which offers zone "
                             "redundancy too; allowed: 'Standard_RAGZRS'"))
        if lake.soft_delete_days < PROD_MIN_SOFT_DELETE_DAYS:
            problems.append(("lake.softDeleteDays", lake.soft_delete_days,
                             f"is not allowed in prod: deleted blobs and containers must stay recoverable for at "
                             f"least {PROD_MIN_SOFT_DELETE_DAYS} days; allowed: {PROD_MIN_SOFT_DELETE_DAYS}-365"))
    return problems


def stack_problems(config: StackConfig) -> list[tuple[str, Any, str]]:
    """Rules of this module within one stack."""
    problems = lake_problems(config)
    standby = config.standby
    if standby is not None:
        if standby.primary_stack == config.stack:
            problems.append(("standby.primaryStack", standby.primary_stack,
                             "names this stack; a standby stands in for another stack"))
        rep = standby.replication
        if not rep.managed_failover:
            for key, value in (("providerName", rep.provider_name), ("shareName", rep.share_name)):
                if not value:
                    problems.append((f"standby.replication.{key}", value,
                                     "is required with managedFailover false (the copy job reads the primary's "
                                     "share through it)"))
            if not rep.schemas and not rep.models:
                problems.append(("standby.replication.schemas", [],
                                 "must list a schema or standby.replication.models a model to copy with "
                                 "managedFailover false"))
            declared = {f"{c.name}.{s.name}" for c in config.unity_catalog.catalogs for s in c.schemas}
            for i, schema in enumerate(rep.schemas):
                if schema not in declared:
                    problems.append((f"standby.replication.schemas[{i}]", schema,
                                     "is not a schema of this stack's unityCatalog.catalogs; the copy lands in "
                                     "the schema of the same name"))
    if config.drill is not None:
        declared = {f"{c.name}.{s.name}" for c in config.unity_catalog.catalogs for s in c.schemas}
        if config.drill.scratch_schema not in declared:
            problems.append(("drill.scratchSchema", config.drill.scratch_schema,
                             "is not a schema of this stack's unityCatalog.catalogs; declare it there so the "
                             "drill's grants have a target"))
    return problems


def standby_problems(stack: str, config: StackConfig, other_name: str, other: StackConfig) -> list[str]:
    """CROSS_STACK_CHECKS rule: a standby sits in its primary's paired region, with its tier, on its own range."""
    standby = config.standby
    if standby is None or standby.primary_stack != other_name:
        return []
    problems = []
    if standby.primary_region != other.location:
        problems.append(f"{stack}: standby.primaryRegion: {standby.primary_region!r} is not stack {other_name}'s "
                        f"location; allowed: {other.location!r}")
    if config.location == other.location:
        problems.append(f"{stack}: location: {config.location!r} is also its primary stack {other_name}'s region; "
                        f"a standby must survive the primary's region (allowed: "
                        f"{REGION_PAIRS.get(other.location, 'another region')!r})")
    elif other.location in REGION_PAIRS and REGION_PAIRS[other.location] != config.location:
        problems.append(f"{stack}: location: {config.location!r} is not the Azure pair of its primary stack "
                        f"{other_name}'s region {other.location!r}; allowed: {REGION_PAIRS[other.location]!r}")
    if config.environment != other.environment:
        problems.append(f"{stack}: environment: {config.environment!r} differs from its primary stack "
                        f"{other_name}'s tier; allowed: {other.environment!r} (a standby is held to its primary's bar)")
    # Overlapping ranges are refused for every pair of stacks (infra.config.cross_stack_problems).
    return problems


# What the run-as principal (the CI/CD principal) needs per schema, by what the job does there.
READ = ("SELECT", "USE_SCHEMA")
WRITE = ("CREATE_TABLE", "MODIFY", "SELECT", "USE_SCHEMA")
LOAD_MODEL = ("EXECUTE", "USE_SCHEMA")
REGISTER_MODEL = ("CREATE_MODEL", "EXECUTE", "USE_SCHEMA")


def run_as_grants(config: StackConfig) -> dict[str, set[str]]:
    """catalog.schema -> what the drill's and the standby copy job's run-as principal needs there.

    The drill reads its tables (time travel is a SELECT: Databricks docs, "Work with Delta Lake table
    history"), writes its restored copies into the scratch schema and reads the models' aliases; the copy job
    replaces the tables of its target schemas and registers model versions and aliases in the standby's registry.
    """
    needs: dict[str, set[str]] = {}

    def add(schema: str, privileges: tuple[str, ...]) -> None:
        needs.setdefault(schema, set()).update(privileges)

    if config.drill is not None:
        for table in config.drill.tables:
            add(table.rsplit(".", 1)[0], READ)
        add(config.drill.scratch_schema, WRITE)
        for model in config.drill.models:
            add(model.rsplit(".", 1)[0], LOAD_MODEL)
    if config.standby is not None and not config.standby.replication.managed_failover:
        for schema in config.standby.replication.schemas:
            add(schema, WRITE)
        for model in config.standby.replication.models:
            add(model.rsplit(".", 1)[0], REGISTER_MODEL)
    return needs


def drill_paused(config: StackConfig) -> bool:
    """The drill's schedule state: as configured, else paused outside prod."""
    drill = config.drill
    assert drill is not None
    return drill.paused if drill.paused is not None else not config.is_prod

