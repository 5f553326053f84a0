"""Config of day-2 operations: who the platform admins' alerts go to, audit alerts over system.access.audit and
cost reporting (an AI/BI dashboard and a daily cost alert) over system.billing.

Audit queries are SQL with placeholders the program fills in: {catalogs} (this stack's catalogs, quoted and
comma-separated), {cicdPrincipal} (the CI/CD principal's application id) and {workspaceId} (the workspace's numeric
id). Each query returns one row with a numeric column `value`; the alert fires when it exceeds the threshold.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator, model_validator

from infra.config.base import StrictModel, field_problems
from infra.config.serving import Schedule
from infra.config.types import EmailList

if TYPE_CHECKING:
    from infra.config.model import StackConfig

AUDIT_PLACEHOLDERS = ("catalogs", "cicdPrincipal", "workspaceId")
_VALUE_COLUMN = re.compile(r"\bAS\s+`?value`?\b", re.IGNORECASE)

# Columns and action names: Databricks docs, "Audit log system table reference" (system.access.audit: event_time,
# workspace_id, user_identity.email, service_name, action_name, request_params, response.status_code) and
# "Audit log reference" (unityCatalog updatePermissions; accounts aadBrowserLogin, aadTokenLogin, jwtLogin, login).
# Registry events name their model in different request parameters (catalog_name, full_name_arg, ...): any value
# that starts with one of the catalogs counts. A service principal appears under its application id.
PERMISSION_CHANGES = """SELECT COUNT(*) AS value
FROM system.access.audit
WHERE event_time >= current_timestamp() - INTERVAL 1 HOUR
  AND service_name = 'unityCatalog'
  AND action_name = 'updatePermissions'
  AND split(request_params['securable_full_name'], '\\\\.')[0] IN ({catalogs})"""
REGISTRY_WRITES = """SELECT COUNT(*) AS value
FROM system.access.audit
WHERE event_time >= current_timestamp() - INTERVAL 1 HOUR
  AND service_name = 'unityCatalog'
  AND action_name IN ('createRegisteredModel', 'updateRegisteredModel', 'deleteRegisteredModel',
                      'createModelVersion', 'updateModelVersion', 'deleteModelVersion',
                      'setRegisteredModelAlias', 'deleteRegisteredModelAlias')
  AND (request_params['catalog_name'] IN ({catalogs})
       OR exists(map_values(request_params), v -> split(v, '\\\\.')[0] IN ({catalogs})))
  AND NOT (user_identity.email <=> '{cicdPrincipal}' OR user_identity.subject_name <=> '{cicdPrincipal}')"""
FAILED_LOGINS = """SELECT COALESCE(MAX(failures), 0) AS value
FROM (
  SELECT user_identity.email, COUNT(*) AS failures
  FROM system.access.audit
  WHERE event_time >= current_timestamp() - INTERVAL 1 HOUR
    AND workspace_id = {workspaceId}
    AND service_name = 'accounts'
    AND action_name IN ('aadBrowserLogin', 'aadTokenLogin', 'jwtLogin', 'login')
    AND response.status_code <> 200
  GROUP BY user_identity.email
)"""


class HourlySchedule(Schedule):
    """When an audit alert runs: hourly by default (the default queries look back one hour)."""

    cron: str = "0 * * * *"
    """When it runs, as a 5-field cron (`minute hour day-of-month month day-of-week`); default hourly."""


class DailySchedule(Schedule):
    """When the cost alert runs: daily at 07:00 by default, after yesterday's usage has landed."""

    cron: str = "0 7 * * *"
    """When it runs, as a 5-field cron (`minute hour day-of-month month day-of-week`); default 07:00 daily."""


DEFAULTS: dict[str, tuple[str, float]] = {"permission_changes": (PERMISSION_CHANGES, 0),
                                          "registry_writes": (REGISTRY_WRITES, 0), "failed_logins": (FAILED_LOGINS, 5)}


class AuditAlert(StrictModel):
    """One SQL alert over system.access.audit, run on the environment's SQL warehouse; unset keys keep the defaults."""

    enabled: bool = True
    """Create this alert."""
    query: str | None = None
    """SQL returning one row with a numeric column `value`; placeholders {catalogs}, {cicdPrincipal}, {workspaceId}.
    Unset: the platform's query for this alert (docs/audit-and-cost.md)."""
    threshold: float | None = Field(default=None, ge=0)
    """The alert fires when `value` is greater than this; unset: 0 (any event), 5 for failed logins."""
    schedule: HourlySchedule = HourlySchedule()
    """When the query runs (default hourly, matching the default queries' one-hour window)."""

    @field_validator("query")
    @classmethod
    def _query(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not _VALUE_COLUMN.search(v):
            raise ValueError("has no column named value; allowed: SQL that returns a numeric column `... AS value`")
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(v) if name is not None}
        except ValueError:
            raise ValueError("has an unbalanced { or }; allowed: the placeholders "
                             + ", ".join(f"{{{p}}}" for p in AUDIT_PLACEHOLDERS) + " (write {{ for a brace)") from None
        unknown = sorted(fields - set(AUDIT_PLACEHOLDERS))
        if unknown:
            raise ValueError(f"has unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)}; allowed: "
                             + ", ".join(f"{{{p}}}" for p in AUDIT_PLACEHOLDERS))
        return v


@dataclass(frozen=True)
class ResolvedAuditAlert:
    """An audit alert with its defaults filled in (what the component takes)."""

    name: str  # kebab-case: permission-changes, registry-writes, failed-logins
    query: str  # placeholders not yet filled in
    threshold: float
    schedule: Schedule


class AuditAlertsConfig(StrictModel):
    """The three audit alerts; each can be overridden (query, threshold, schedule) or switched off."""

    permission_changes: AuditAlert = AuditAlert()
    """Grants changed on this stack's catalogs (or anything under them) in the last hour."""
    registry_writes: AuditAlert = AuditAlert()
    """Registered models, versions or aliases in this stack's catalogs written by anyone but the CI/CD principal."""
    failed_logins: AuditAlert = AuditAlert()
    """The most failed logins of one identity to this workspace in the last hour."""

    def resolved(self) -> list[ResolvedAuditAlert]:
        out = []
        for key, (query, threshold) in DEFAULTS.items():
            alert: AuditAlert = getattr(self, key)
            if alert.enabled:
                out.append(ResolvedAuditAlert(key.replace("_", "-"), alert.query or query,
                                              threshold if alert.threshold is None else alert.threshold,
                                              alert.schedule))
        return out


class AuditConfig(StrictModel):
    """Audit alerts over system.access.audit (needs the `access` system schema enabled in the metastore)."""

    alerts: AuditAlertsConfig = AuditAlertsConfig()
    """The permission-change, registry-write and failed-login alerts."""


class CostAlertConfig(StrictModel):
    """A daily cost alert on this workspace's spend at list prices (system.billing.usage x list_prices)."""

    daily_amount: float | None = Field(default=None, gt=0)
    """Alert when yesterday's spend (list price, in the price list's currency) is over this amount."""
    trailing_mean_multiple: float | None = Field(default=None, gt=1, le=100)
    """Alert when yesterday's spend is over this multiple of the mean of the 7 days before it (more than 1)."""
    schedule: DailySchedule = DailySchedule()
    """When the alert is evaluated (default daily at 07:00 UTC, after yesterday's usage has landed)."""

    @model_validator(mode="after")
    def _one_limit(self) -> CostAlertConfig:
        if self.daily_amount is None and self.trailing_mean_multiple is None:
            raise field_problems([("dailyAmount", None, "and trailingMeanMultiple are both unset; allowed: set "
                                   "either or both (an alert needs a limit)")])
        return self


class CostReportingConfig(StrictModel):
    """The cost dashboard (AI/BI, from dashboards/cost.lvdash.json as is) and the daily cost alert."""

    dashboard: bool = True
    """Deploy the cost dashboard to this workspace, run on the environment's SQL warehouse."""
    dashboard_folder: str = "/Shared/mlops-platform"
    """Workspace folder the dashboard is created in (absolute, no trailing slash)."""
    alert: CostAlertConfig | None = None
    """The daily cost alert; leave out for none. Set dailyAmount, trailingMeanMultiple or both."""

    @field_validator("dashboard_folder")
    @classmethod
    def _folder(cls, v: str) -> str:
        if not v.startswith("/") or v.endswith("/") or "//" in v:
            raise ValueError("is not an absolute workspace folder; allowed: a path like '/Shared/mlops-platform' "
                             "(leading slash, no trailing slash)")
        return v


class OperationsConfig(StrictModel):
    """Day-2 operations: the platform admins' notification destination, audit alerts and cost reporting."""

    admin_emails: EmailList = Field(min_length=1)
    """The platform admins' addresses: the notification destination audit and cost alerts go to."""
    audit: AuditConfig | None = None
    """Audit alerts over system.access.audit; leave out for none (the seeds ask for them in prod)."""
    cost_reporting: CostReportingConfig = CostReportingConfig()
    """The cost dashboard and the daily cost alert over system.billing."""


def stack_problems(config: StackConfig) -> list[tuple[str, Any, str]]:
    """Prod reads its audit log: the audit alerts may be tuned or overridden there, never left out."""
    if not config.is_prod:
        return []
    if config.operations is None:
        return [("operations", None, "is required in prod: the platform admins' destination and the audit alerts "
                                     "(operations.adminEmails, operations.audit)")]
    if config.operations.audit is None:
        return [("operations.audit", None, "is required in prod: audit alerts over system.access.audit (set "
                                           "`audit: {}` for the defaults)")]
    return []
