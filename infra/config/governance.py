"""Governance config: data classification, governed tags and their assignments, registry retention, and
Lakehouse monitors on feature tables (the `governance:` section of a stack file).

Governed tags (tag policies) are account-wide: one stack declares them (`governedTags`), every stack may assign
them (`tagAssignments`); the cross-stack check below keeps the vocabulary in one place.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from infra.config import abac as abac_config
from infra.config.base import StrictModel, field_problems, repeated, show
from infra.config.serving import BOUNDED_STATISTICS, Granularity, Schedule, declared_schemas, own_catalogs
from infra.config.types import EmailList, UcIdentifier, UcName

if TYPE_CHECKING:
    from infra.config.model import StackConfig

# Governed tag keys and values: up to 256 characters, none of * . / < > % & ? \ = (Databricks docs, "Create and
# manage governed tags", Requirements for tag keys and values); this platform keeps both to plain words.
TAG_KEY_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,255}$"
TAG_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_@-]{0,255}$")
SECURABLE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")
UC_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")


class GovernedTag(StrictModel):
    """A governed tag (tag policy): the only values the key may take on any securable of the account."""

    values: list[str]
    """The allowed values, e.g. `[public, internal, confidential, pii, phi]` (at least one, no duplicates)."""
    description: str | None = None
    """What the tag means, shown in Catalog Explorer."""

    @field_validator("values")
    @classmethod
    def _values(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("is empty; allowed: one or more values (a governed tag with no value cannot be "
                             "assigned)")
        for value in v:
            if not TAG_VALUE.match(value):
                raise ValueError(f"has {value!r}; allowed: 1-256 letters, digits, '_', '@' and '-', starting with a "
                                 "letter or digit")
        dupes = repeated(v)
        if dupes:
            raise ValueError(f"lists {', '.join(repr(d) for d in dupes)} more than once; list each value once")
        return v


class TagAssignment(StrictModel):
    """Governed tags on one catalog or schema of this stack."""

    securable: str
    """The catalog (`ml_prod_catalog`) or schema (`ml_prod_catalog.feature_store`) tagged; declared in
    unityCatalog.catalogs."""
    tags: dict[str, str] = Field(min_length=1)
    """Tag key -> value, e.g. `{classification: confidential, owner: mlops-platform-team}`; each key a governed tag,
    each value one of its values."""

    @field_validator("securable")
    @classmethod
    def _securable(cls, v: str) -> str:
        if not SECURABLE.match(v):
            raise ValueError("is not a catalog or catalog.schema name; allowed: lowercase letters, digits and "
                             "underscores, e.g. 'ml_prod_catalog' or 'ml_prod_catalog.feature_store'")
        return v

    @property
    def entity_type(self) -> str:
        return "schemas" if "." in self.securable else "catalogs"


class ClassificationConfig(StrictModel):
    """Data classification (automatic detection and tagging of sensitive columns) on this stack's catalogs."""

    catalogs: list[UcName] = []
    """Catalogs of this stack on which data classification scans tables for sensitive data; empty, none."""


class RetentionConfig(StrictModel):
    """The registry retention job: removes model versions older than their schema's `retentionDays`."""

    enabled: bool = True
    """Deploy the scheduled retention job (it enforces every schema of this stack with `retentionDays`)."""
    # None: apply in prod, dry run (report only) elsewhere.
    apply: bool | None = None
    """Delete/archive for real (`true`) or only report what would go (`false`); unset, true in prod and false
    elsewhere."""
    archive_schema: str | None = None
    """A registry schema (`catalog.schema`, with retentionDays) that versions past retention are copied into before
    they are deleted; unset, they are deleted."""
    schedule: Schedule = Schedule(cron="0 3 * * *")
    """When the job runs (default daily at 03:00)."""
    failure_recipients: EmailList = []
    """Who is e-mailed when a run fails (e.g. a version it may not delete)."""

    @field_validator("archive_schema")
    @classmethod
    def _archive(cls, v: str | None) -> str | None:
        if v is not None and (not SECURABLE.match(v) or "." not in v):
            raise ValueError("is not a schema name; allowed: catalog.schema, e.g. 'ml_models_catalog.archived_models'")
        return v


class FeatureMonitorConfig(StrictModel):
    """A Lakehouse monitor (TimeSeries profile) on a feature table, with the seed's quality checks and alerts."""

    table_name: str
    """The feature table monitored, as `catalog.schema.table` (e.g.
    `ml_prod_catalog.feature_store.customer_features`)."""
    table_exists: bool = False
    """Set true once the table exists; until then the monitor and its alerts wait (a monitor on a missing table
    fails)."""
    timestamp_col: str = Field(default="timestamp", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,100}$")
    """Column of the row's timestamp, which splits rows into time windows."""
    key_col: str = Field(default="user_id", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,100}$")
    """Key column whose completeness and uniqueness the custom metrics measure."""
    completeness_min: float = Field(default=0.99, gt=0, le=1)
    """Alert when the share of rows with a key is below this (seed: 0.99)."""
    granularities: list[Granularity] = Field(default=["1 day", "1 week"], min_length=1)
    """Time windows the monitor aggregates over; drift is watched on the last one (seed: weekly)."""
    slicing_exprs: list[str] = []
    """SQL expressions whose values slice the metrics (bias detection per group, e.g. `senior_citizen`)."""
    output_schema: UcIdentifier = "monitoring"
    """Schema in the table's catalog where the metric tables are written."""
    schedule: Schedule = Schedule()
    """When the monitor refreshes (seed: daily)."""
    failure_recipients: EmailList
    """Who is e-mailed when a refresh fails (at least one address)."""
    drift_threshold: float = Field(default=0.3, gt=0)
    """Alert when a feature's drift statistic between consecutive windows exceeds this (seed: 0.3)."""
    drift_statistic: Literal["js_distance", "tv_distance", "wasserstein_distance", "population_stability_index",
                             "ks_test.statistic", "chi_squared_test.statistic"] = "js_distance"
    """Drift statistic compared with driftThreshold."""
    accuracy_endpoint: str | None = None
    """A serving endpoint of this stack with a monitor: alert when its accuracy drops between the last two windows by
    more than accuracyDrop."""
    accuracy_drop: float = Field(default=0.05, gt=0, le=1)
    """Largest accepted accuracy drop between consecutive windows (seed: 0.05)."""
    alert_schedule: Schedule = Schedule(cron="0 1 * * *")
    """When the alerts are evaluated; default an hour after the daily refresh."""

    @field_validator("table_name")
    @classmethod
    def _table(cls, v: str) -> str:
        if not UC_TABLE.match(v):
            raise ValueError("is not a Unity Catalog table; allowed: catalog.schema.table (letters, digits and _)")
        return v

    @field_validator("failure_recipients")
    @classmethod
    def _recipients(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("is empty; a monitor needs at least one e-mail address to tell about failed refreshes")
        return v

    @model_validator(mode="after")
    def _reachable(self) -> FeatureMonitorConfig:
        # Jensen-Shannon and total variation distances lie in [0, 1] (Databricks docs, "Monitor metric tables").
        if self.drift_statistic in BOUNDED_STATISTICS and self.drift_threshold > 1:
            raise field_problems([("driftThreshold", self.drift_threshold, f"can never be exceeded: "
                                   f"{self.drift_statistic} lies between 0 and 1; allowed: above 0, at most 1")])
        return self

    @property
    def catalog(self) -> str:
        return self.table_name.split(".")[0]

    @property
    def schema_full(self) -> str:
        return self.table_name.rsplit(".", 1)[0]

    @property
    def output_schema_full(self) -> str:
        return f"{self.catalog}.{self.output_schema}"

    @property
    def assets_path(self) -> str:
        return "/Workspace/Shared/lakehouse_monitoring/" + self.table_name.replace(".", "_")


class GovernanceConfig(StrictModel):
    """Classification, governed tags, registry retention and feature-table monitors of this stack."""

    classification: ClassificationConfig = ClassificationConfig()
    """Data classification on this stack's catalogs."""
    governed_tags: dict[str, GovernedTag] = {}
    """Governed tags declared for the whole account (tag key -> allowed values); one stack declares them (the
    long-lived one), the others only assign them."""
    tag_assignments: list[TagAssignment] = []
    """Governed tags put on this stack's catalogs and schemas."""
    retention: RetentionConfig = RetentionConfig()
    """The job that enforces the registry schemas' retentionDays."""
    feature_monitors: list[FeatureMonitorConfig] = []
    """Lakehouse monitors on feature tables, with completeness/uniqueness metrics and drift and accuracy alerts."""
    abac: abac_config.AbacConfig | None = None
    """Row filters and column masks on tagged data (ABAC policies) and the functions they call; leave out for
    none."""

    @field_validator("governed_tags")
    @classmethod
    def _keys(cls, v: dict[str, GovernedTag]) -> dict[str, GovernedTag]:
        for key in v:
            if not re.match(TAG_KEY_PATTERN, key):
                raise ValueError(f"has key {key!r}; allowed: 1-256 letters, digits, '_' and '-', starting with a "
                                 "letter")
        return v


def retention_schemas(config: StackConfig) -> dict[str, int]:
    """catalog.schema -> retentionDays of every schema of this stack that states one."""
    return {f"{c.name}.{s.name}": s.retention_days for c in config.unity_catalog.catalogs for s in c.schemas
            if s.retention_days is not None}


def pinned_versions(config: StackConfig) -> tuple[str, ...]:
    """`catalog.schema.model:version` of every version the stack's endpoints declare (served or about to be)."""
    if config.serving is None:
        return ()
    # An entity that serves an alias has no version in config: the job protects what an alias points to anyway.
    return tuple(sorted({f"{e.entity_name}:{e.entity_version}" for ep in config.serving.endpoints
                         for e in ep.entities if e.entity_version is not None}))


def retention_applies(config: StackConfig) -> bool:
    """Whether the retention job deletes for real: config, or by default only in prod."""
    r = config.governance.retention
    return config.is_prod if r.apply is None else r.apply


def retention_enabled(config: StackConfig) -> bool:
    """The job is deployed: enabled, a schema to enforce, and the CI/CD principal (it runs as) has a catalog."""
    uc = config.unity_catalog
    return (config.governance.retention.enabled and bool(retention_schemas(config))
            and bool(uc.cicd.catalog or uc.default_catalog_name))


# What the retention job's run-as principal needs: list and read every model and its aliases in a retention
# schema (EXECUTE; deleting a version needs ownership of its model, which no grant gives), and create the
# archive copies (CREATE_MODEL). USE_CATALOG on the catalogs comes with the grant table.
RETENTION_READ = ("EXECUTE", "USE_SCHEMA")
RETENTION_ARCHIVE = ("CREATE_MODEL", "EXECUTE", "USE_SCHEMA")


def retention_grants(config: StackConfig) -> dict[str, tuple[str, ...]]:
    """catalog.schema -> the privileges the retention job's run-as principal needs there."""
    if not retention_enabled(config):
        return {}
    out: dict[str, tuple[str, ...]] = {schema: RETENTION_READ for schema in retention_schemas(config)}
    archive = config.governance.retention.archive_schema
    if archive:
        out[archive] = RETENTION_ARCHIVE
    return dict(sorted(out.items()))


def feature_monitor_grants(config: StackConfig) -> dict[str, tuple[str, ...]]:
    """catalog.schema -> what the alerts' run-as principal (the CI/CD principal) reads: the metric tables."""
    out: dict[str, tuple[str, ...]] = {}
    for mon in config.governance.feature_monitors:
        out[mon.output_schema_full] = ("SELECT", "USE_SCHEMA")
    return out


def stack_problems(config: StackConfig) -> list[tuple[str, Any, str]]:
    """Rules between governance and the rest of this stack's config."""
    gov = config.governance
    problems: list[tuple[str, Any, str]] = []
    catalogs = own_catalogs(config) or []
    schemas = declared_schemas(config) or set()
    for i, cat in enumerate(gov.classification.catalogs):
        if cat not in catalogs:
            problems.append((f"governance.classification.catalogs[{i}]", cat,
                             f"is not a catalog of this stack; allowed: {', '.join(catalogs)}"))
    for i, assignment in enumerate(gov.tag_assignments):
        where = f"governance.tagAssignments[{i}]"
        known = schemas if "." in assignment.securable else set(catalogs)
        if assignment.securable not in known:
            problems.append((f"{where}.securable", assignment.securable,
                             "is not a catalog or schema of this stack (unityCatalog.catalogs)"))
        if gov.governed_tags:  # else the declaring stack's vocabulary applies (cross_stack_problems)
            problems.extend(_tag_problems(where, assignment, gov.governed_tags, "governance.governedTags"))
    retention = gov.retention
    enforced = retention_schemas(config)
    if retention.archive_schema and retention.archive_schema not in enforced:
        problems.append(("governance.retention.archiveSchema", retention.archive_schema,
                         "is not a schema of this stack with retentionDays; allowed: "
                         + (", ".join(enforced) or "none (no schema states retentionDays)")))
    endpoints = {ep.name: ep for ep in config.serving.endpoints} if config.serving else {}
    for i, mon in enumerate(gov.feature_monitors):
        where = f"governance.featureMonitors[{i}]"
        if mon.schema_full not in schemas:
            problems.append((f"{where}.tableName", mon.table_name,
                             f"is not in a declared schema; add {mon.schema_full.split('.')[1]!r} to catalog "
                             f"{mon.catalog!r} (unityCatalog.catalogs)"))
        elif mon.output_schema_full not in schemas:
            problems.append((f"{where}.outputSchema", mon.output_schema,
                             f"is not a schema of catalog {mon.catalog!r} (unityCatalog.catalogs)"))
        if mon.accuracy_endpoint is not None:
            ep = endpoints.get(mon.accuracy_endpoint)
            if ep is None or ep.monitor is None:
                monitored = [n for n, e in endpoints.items() if e.monitor is not None]
                problems.append((f"{where}.accuracyEndpoint", mon.accuracy_endpoint,
                                 "is not a serving endpoint of this stack with a monitor; allowed: "
                                 + (", ".join(monitored) or "none (serving.endpoints has no monitor)")))
    problems.extend(abac_config.stack_problems(config))
    return problems


def _tag_problems(where: str, assignment: TagAssignment, vocabulary: dict[str, GovernedTag],
                  declared_in: str) -> list[tuple[str, Any, str]]:
    problems: list[tuple[str, Any, str]] = []
    for key, value in assignment.tags.items():
        tag = vocabulary.get(key)
        if tag is None:
            problems.append((f"{where}.tags", key, f"is not a governed tag; allowed: {', '.join(vocabulary)} "
                                                   f"({declared_in})"))
        elif value not in tag.values:
            problems.append((f"{where}.tags.{key}", value, f"is not an allowed value of {key!r}; allowed: "
                             f"{', '.join(tag.values)} ({declared_in})"))
    return problems


def cross_stack_problems(stack: str, config: StackConfig, other_name: str, other: StackConfig) -> list[str]:
    """Governed tags are account-wide: declared by one stack; the others assign only its keys and values."""
    mine, theirs = config.governance.governed_tags, other.governance.governed_tags
    problems: list[str] = []
    if mine and theirs:
        problems.append(f"{stack}: governance.governedTags: also declared by stack {other_name}; governed tags are "
                        "account-wide, declare them in one stack and only assign them in the others")
    elif theirs and not mine:
        for i, assignment in enumerate(config.governance.tag_assignments):
            for path, value, msg in _tag_problems(f"governance.tagAssignments[{i}]", assignment, theirs,
                                                  f"stack {other_name}'s governance.governedTags"):
                problems.append(f"{stack}: {path}: {show(value)} {msg}")
        if config.governance.abac is not None:
            for path, value, msg in abac_config.vocabulary_problems(config.governance.abac, theirs,
                                                                    f"stack {other_name}'s governance.governedTags"):
                problems.append(f"{stack}: {path}: {show(value)} {msg}")
    return problems
