"""ABAC config: row filters and column masks on tagged data (`governance.abac` of a stack file).

Each policy matches the columns that carry a governed tag value (e.g. `classification: pii`) in every table under a
catalog or schema, and calls a SQL function the platform creates from `infra/sql/abac/` (column masks in
`column_masks/`, row filters in `row_filters/`). The groups in `unmaskedGroups` are the policies' exceptions: they
see real values and every row.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import field_validator

from infra.config.base import StrictModel, repeated
from infra.config.serving import declared_schemas, own_catalogs
from infra.config.types import UcIdentifier

if TYPE_CHECKING:
    from infra.config.governance import GovernedTag
    from infra.config.model import StackConfig

SQL_DIR = Path(__file__).resolve().parents[1] / "sql" / "abac"
MASKS_DIR, FILTERS_DIR = SQL_DIR / "column_masks", SQL_DIR / "row_filters"
_SECURABLE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")


def sql_functions(folder: Path) -> list[str]:
    """The functions a folder of SQL files defines: one per `<name>.sql`."""
    return sorted(p.stem for p in folder.glob("*.sql"))


class AbacPolicy(StrictModel):
    """One ABAC policy: a function applied to the columns with a tag value, in the tables under a securable."""

    name: UcIdentifier
    """The policy's name (unique among the policies on its securable), e.g. `mask_pii_columns`."""
    securable: str
    """The catalog (`ml_prod_catalog`) or schema (`ml_prod_catalog.feature_store`) whose tables the policy covers;
    declared in unityCatalog.catalogs."""
    tag_values: list[str]
    """Values of `tagKey` that select the columns, e.g. `[pii, phi]` (a column tagged with any of them)."""
    function: UcIdentifier
    """The SQL function the policy calls: a file `infra/sql/abac/column_masks/<function>.sql` for a column mask,
    `infra/sql/abac/row_filters/<function>.sql` for a row filter."""

    @field_validator("securable")
    @classmethod
    def _securable(cls, v: str) -> str:
        if not _SECURABLE.match(v):
            raise ValueError("is not a catalog or catalog.schema name; allowed: lowercase letters, digits and "
                             "underscores, e.g. 'ml_prod_catalog' or 'ml_prod_catalog.feature_store'")
        return v

    @field_validator("tag_values")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("is empty; list the tag values whose columns the policy covers, e.g. [pii, phi]")
        dupes = repeated(v)
        if dupes:
            raise ValueError(f"lists {', '.join(repr(d) for d in dupes)} more than once; list each value once")
        return v


class AbacConfig(StrictModel):
    """Row filters and column masks (ABAC policies) over governed tags, and the functions they call."""

    tag_key: str = "classification"
    """The governed tag whose values the policies match on columns."""
    function_schema: str
    """The schema (`catalog.schema`, declared in unityCatalog.catalogs) where the platform creates the mask and
    filter functions."""
    unmasked_groups: list[str]
    """Groups that see unmasked values and every row (the policies' exceptions); groups of identity.groups."""
    column_masks: list[AbacPolicy] = []
    """Column mask policies: matched columns read as the function's result."""
    row_filters: list[AbacPolicy] = []
    """Row filter policies: only rows for which the function is true are returned."""

    @field_validator("function_schema")
    @classmethod
    def _schema(cls, v: str) -> str:
        if not _SECURABLE.match(v) or "." not in v:
            raise ValueError("is not a schema name; allowed: catalog.schema in lowercase letters, digits and "
                             "underscores, e.g. 'ml_prod_catalog.governance'")
        return v

    @field_validator("unmasked_groups")
    @classmethod
    def _groups(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("is empty; name at least one group that sees unmasked values (e.g. the platform "
                             "admins), or nobody could check the data")
        return v

    def functions(self) -> dict[str, str]:
        """function name -> `column_mask` or `row_filter` (the SQL folder it comes from), of every policy."""
        return {**{p.function: "row_filter" for p in self.row_filters},
                **{p.function: "column_mask" for p in self.column_masks}}

    def function_name(self, function: str) -> str:
        return f"{self.function_schema}.{function}"


def stack_problems(config: StackConfig) -> list[tuple[str, Any, str]]:
    """Rules between governance.abac and the rest of this stack's config."""
    abac = config.governance.abac
    if abac is None:
        return []
    where = "governance.abac"
    problems: list[tuple[str, Any, str]] = []
    schemas = declared_schemas(config) or set()
    catalogs = set(own_catalogs(config) or [])
    if abac.function_schema not in schemas:
        problems.append((f"{where}.functionSchema", abac.function_schema,
                         "is not a schema of this stack; add it to its catalog in unityCatalog.catalogs"))
    groups = config.identity.groups
    declared = [groups.admins, *groups.by_role().values()]
    for i, group in enumerate(abac.unmasked_groups):
        if group not in declared:
            problems.append((f"{where}.unmaskedGroups[{i}]", group,
                             f"is not a group of this stack; allowed: {', '.join(declared)} (identity.groups)"))
    names: set[tuple[str, str]] = set()  # policy names are unique per securable, whatever their type
    for key, folder, policies in (("columnMasks", MASKS_DIR, abac.column_masks),
                                  ("rowFilters", FILTERS_DIR, abac.row_filters)):
        available = sql_functions(folder)
        for i, policy in enumerate(policies):
            at = f"{where}.{key}[{i}]"
            known = schemas if "." in policy.securable else catalogs
            if policy.securable not in known:
                problems.append((f"{at}.securable", policy.securable,
                                 "is not a catalog or schema of this stack (unityCatalog.catalogs)"))
            if policy.function not in available:
                problems.append((f"{at}.function", policy.function,
                                 f"has no SQL file infra/sql/abac/{folder.name}/{policy.function}.sql; allowed: "
                                 + (", ".join(available) or "none")))
            if (policy.securable, policy.name) in names:
                problems.append((f"{at}.name", policy.name, f"is used twice on {policy.securable}; policy names "
                                 "are unique per securable"))
            names.add((policy.securable, policy.name))
    if abac.column_masks or abac.row_filters:
        both = set(p.function for p in abac.column_masks) & set(p.function for p in abac.row_filters)
        for function in sorted(both):
            problems.append((f"{where}.rowFilters", function, "is also a column mask's function; a function is "
                             "either a mask or a filter"))
    else:
        problems.append((f"{where}.columnMasks", [], "is empty and so is rowFilters; declare at least one policy, "
                                                     "or leave governance.abac out"))
    if config.governance.governed_tags:  # else the declaring stack's vocabulary applies (cross_stack_problems)
        problems.extend(vocabulary_problems(abac, config.governance.governed_tags, "governance.governedTags"))
    return problems


def vocabulary_problems(abac: AbacConfig, vocabulary: dict[str, GovernedTag],
                        declared_in: str) -> list[tuple[str, Any, str]]:
    """The tag key must be a governed tag and each matched value one of its values."""
    tag = vocabulary.get(abac.tag_key)
    if tag is None:
        return [("governance.abac.tagKey", abac.tag_key,
                 f"is not a governed tag; allowed: {', '.join(vocabulary)} ({declared_in})")]
    problems: list[tuple[str, Any, str]] = []
    for key, policies in (("columnMasks", abac.column_masks), ("rowFilters", abac.row_filters)):
        for i, policy in enumerate(policies):
            for value in policy.tag_values:
                if value not in tag.values:
                    problems.append((f"governance.abac.{key}[{i}].tagValues", value,
                                     f"is not an allowed value of {abac.tag_key!r}; allowed: "
                                     f"{', '.join(tag.values)} ({declared_in})"))
    return problems
