"""Serving endpoints, Lakehouse monitors, drift alerts and the drift -> retrain job.

Two switches make the "must exist first" dependencies explicit, so a deploy never fails half-way:
- `endpoints[].modelRegistered`: the pinned UC model versions are registered (training/promotion did it);
  until then the endpoint (and everything hanging off it) is skipped with a note.
- `endpoints[].monitor.tableExists`: the monitored inference table exists (the endpoint has logged
  requests and the unpacking job wrote it); until then the monitor, its alerts and the retrain job wait.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Any, Literal

from croniter import croniter
from pydantic import Field, field_validator, model_validator

from infra.config.base import StrictModel, field_problems
from infra.config.lifecycle import AbTest, Promotion, live_alias_problems, model_alias, pattern_problems
from infra.config.types import UC_IDENTIFIER_PATTERN, EmailList, ServingName, UcIdentifier

# UC identifiers: letters, digits, underscores (hyphens need quoting everywhere; keep them out).
_UC_PART = UC_IDENTIFIER_PATTERN
UC_THREE_PART = re.compile(rf"^{_UC_PART}\.{_UC_PART}\.{_UC_PART}$")

WorkloadSize = Literal["Small", "Medium", "Large"]
WorkloadType = Literal["CPU", "GPU_SMALL", "GPU_MEDIUM", "GPU_LARGE", "MULTIGPU_MEDIUM"]
# Granularities Lakehouse Monitoring accepts for time windows.
Granularity = Literal["5 minutes", "30 minutes", "1 hour", "1 day", "1 week", "2 weeks", "3 weeks", "4 weeks",
                      "1 month", "1 year"]

PROBLEM_TYPES = {"classification": "PROBLEM_TYPE_CLASSIFICATION", "regression": "PROBLEM_TYPE_REGRESSION"}
METRIC_TYPES = {"aggregate": "CUSTOM_METRIC_TYPE_AGGREGATE", "derived": "CUSTOM_METRIC_TYPE_DERIVED",
                "drift": "CUSTOM_METRIC_TYPE_DRIFT"}
_DOW_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def workspace_path(value: str) -> str:
    if not re.fullmatch(r"/Workspace/\S+", value):
        raise ValueError("is not a workspace path; allowed: an absolute path under /Workspace, e.g. "
                         "'/Workspace/Shared/mlops/notebooks/train'")
    return value


def _uc_three_part(value: str) -> str:
    if not UC_THREE_PART.match(value):
        raise ValueError("is not a Unity Catalog name; allowed: catalog.schema.name (three parts, "
                         "letters, digits and _)")
    return value


def quartz_from_cron(expr: str) -> str:
    """A 5-field cron (`min hour dom month dow`) as the equivalent Quartz expression (`sec min ... dow`).

    Quartz wants `?` in one of day-of-month/day-of-week and counts weekdays 1-7 from Sunday; named days
    mean the same in both, so numeric weekdays become names. Raises ValueError for what Quartz cannot say.
    """
    fields = expr.split()
    if len(fields) != 5 or not croniter.is_valid(expr) or not re.fullmatch(r"[0-9A-Za-z*,/\- ]+", expr):
        raise ValueError("is not a valid 5-field cron expression; allowed: 'minute hour day-of-month month "
                         "day-of-week', e.g. '0 0 * * *' (daily at midnight)")
    minute, hour, dom, month, dow = fields
    if dom != "*" and dow != "*":
        raise ValueError("restricts both day-of-month and day-of-week, which Quartz cannot express; "
                         "allowed: '*' in one of them")

    def day_name(token: str) -> str:
        return _DOW_NAMES[int(token)] if token.isdigit() else token.upper()

    if dow == "*":
        quartz_dow = "?"
    else:
        if "/" in dow:
            raise ValueError("uses a step in day-of-week; allowed: day lists or ranges, e.g. 'MON-FRI'")
        parts = []
        for item in dow.split(","):
            parts.append("-".join(day_name(t) for t in item.split("-")))
        quartz_dow = ",".join(parts)
    quartz_dom = "?" if dow != "*" and dom == "*" else dom
    return f"0 {minute} {hour} {quartz_dom} {month.upper()} {quartz_dow}"


class Schedule(StrictModel):
    """When something runs: a 5-field cron as the seeds write it, converted to Quartz for Databricks."""

    cron: str = "0 0 * * *"
    """When it runs, as a 5-field cron (`minute hour day-of-month month day-of-week`), e.g. `0 0 * * *` for daily at
    midnight; converted to Quartz for Databricks."""
    timezone: str = "UTC"
    """Time zone the cron is read in, e.g. `UTC` or `Europe/Berlin`."""

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        quartz_from_cron(v)
        return v

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not a time zone id; allowed: IANA/Java ids such as 'UTC' or "
                             "'Europe/Berlin'") from None
        return v

    @property
    def quartz(self) -> str:
        return quartz_from_cron(self.cron)


class ServedEntity(StrictModel):
    """One UC model version behind the endpoint. `name` is what routes refer to (e.g. champion)."""

    name: ServingName
    """Name of the served entity on the endpoint (e.g. `champion`); routes refer to it."""
    entity_name: str
    """The Unity Catalog model served, as `catalog.schema.model`."""
    entity_version: int | None = None
    """Registered model version served (a whole number from 1), pinned in the stack file; or use entityAlias."""
    entity_alias: str | None = None
    """Serve the version this registry alias names (e.g. `Champion`), resolved when the stack deploys: the plan
    shows the version, and the endpoint changes only on `pulumi up`; or pin entityVersion."""
    # None: the serving-level default of this environment.
    workload_size: WorkloadSize | None = None
    """Compute size of this entity; unset, serving.workloadSize."""
    workload_type: WorkloadType = "CPU"
    """CPU or GPU compute for this entity."""
    scale_to_zero: bool | None = None
    """Let this entity scale to zero when idle; unset, serving.scaleToZero."""

    @field_validator("entity_name")
    @classmethod
    def _uc_model(cls, v: str) -> str:
        if not UC_THREE_PART.match(v):
            raise ValueError("is not a Unity Catalog model; allowed: catalog.schema.model (three parts, "
                             "letters, digits and _)")
        return v

    @field_validator("entity_version", mode="before")
    @classmethod
    def _version(cls, v: Any) -> Any:
        if v is None:
            return v
        if isinstance(v, bool) or not (isinstance(v, int) or (isinstance(v, str) and v.isdigit())) or int(v) < 1:
            raise ValueError("is not a model version; allowed: a whole number >= 1 (the registered UC "
                             "version the promotion PR pins)")
        return int(v)

    @field_validator("entity_alias")
    @classmethod
    def _alias(cls, v: str | None) -> str | None:
        return v if v is None else model_alias(v)

    @model_validator(mode="after")
    def _version_or_alias(self) -> ServedEntity:
        if (self.entity_version is None) == (self.entity_alias is None):
            both = self.entity_version is not None
            raise field_problems([("entityAlias" if both else "entityVersion", self.entity_alias if both else None,
                                   "is set together with entityVersion; allowed: one of them (a pinned version "
                                   "or an alias resolved at deploy)" if both else
                                   "is required (or entityAlias); allowed: a pinned version >= 1, or an alias "
                                   "such as 'Champion' resolved at deploy")])
        return self

    @property
    def pinned(self) -> str:
        """How the stack file names the served version: `version 3` or `alias Champion`."""
        return f"version {self.entity_version}" if self.entity_version is not None else f"alias {self.entity_alias}"


class InferenceTable(StrictModel):
    """AI Gateway inference table (not the retired auto_capture_config): where requests are logged."""

    enabled: bool = True
    """Log the endpoint's requests and responses to an AI Gateway inference table."""
    catalog: UcIdentifier
    """Catalog of the inference table."""
    schema_name: UcIdentifier = Field(default="model_inference_logs", alias="schema")
    """Schema of the inference table; must be declared in unityCatalog.catalogs."""
    table_prefix: str = Field(default="inference_logs_", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,100}$")
    """Prefix of the inference table's name."""

    @property
    def full_schema(self) -> str:
        return f"{self.catalog}.{self.schema_name}"


class RateLimit(StrictModel):
    """AI Gateway rate limit (calls per minute) for the endpoint, a user, a group or a principal."""

    calls: int = Field(ge=1)
    """Calls allowed per renewal period."""
    key: Literal["endpoint", "user", "user_group", "service_principal"] = "endpoint"
    """What the limit counts per: the whole endpoint, each user, a user group or a service principal."""
    principal: str | None = None
    """The group name or the service principal's application id; required for key `user_group` or
    `service_principal`."""
    renewal_period: Literal["minute"] = "minute"
    """Period the calls are counted over."""

    @model_validator(mode="after")
    def _principal(self) -> RateLimit:
        if self.key in ("user_group", "service_principal") and not self.principal:
            raise field_problems([("principal", None, f"is required for key {self.key!r}; allowed: the group "
                                                      "name or the principal's application id")])
        return self


class CustomMetric(StrictModel):
    """A Lakehouse Monitoring custom metric, e.g. the seed's expected_loss business metric."""

    name: UcIdentifier
    """Name of the custom metric (a column in the monitor's metric tables)."""
    type: Literal["aggregate", "derived", "drift"] = "aggregate"
    """Kind of custom metric: aggregate over the table, derived from other metrics, or drift between windows."""
    input_columns: list[str] = Field(default=[":table"], min_length=1)
    """Columns the metric is computed from; `:table` for the whole table."""
    definition: str = Field(min_length=1)
    """SQL expression (Jinja template) that computes the metric."""
    output_data_type: Literal["double", "long", "int", "string", "boolean"] = "double"
    """Spark data type of the metric's value."""

    @property
    def api_type(self) -> str:
        return METRIC_TYPES[self.type]

    @property
    def struct_field_json(self) -> str:
        """The API wants a Spark StructField as JSON (what `StructField("output", DoubleType()).json()` gives)."""
        return ('{"name":"output","type":"' + self.output_data_type + '","nullable":true,"metadata":{}}')


class DriftAlert(StrictModel):
    """A SQL alert on the monitor's drift metrics table (seed: prediction drift > 0.1 dev, 0.05 prod)."""

    metric: Literal["prediction_drift", "label_drift"] = "prediction_drift"
    """Which drift the alert watches: of the predictions, or of the labels (needs monitor.labelCol)."""
    statistic: Literal["js_distance", "ks_test.statistic", "wasserstein_distance", "population_stability_index",
                       "chi_squared_test.statistic", "tv_distance", "l_infinity_distance"] = "js_distance"
    """Drift statistic compared with the threshold."""
    threshold: float = Field(gt=0)
    """Alert when the statistic exceeds this value (seed: 0.1 in dev, 0.05 in prod)."""
    drift_type: Literal["CONSECUTIVE", "BASELINE"] = "CONSECUTIVE"
    """Compare with the previous window (`CONSECUTIVE`) or with the baseline table (`BASELINE`)."""
    # Evaluated an hour after the seed's daily refresh at midnight.
    schedule: Schedule = Schedule(cron="0 1 * * *")
    """When the alert is evaluated; default an hour after the daily monitor refresh."""

    @model_validator(mode="after")
    def _reachable(self) -> DriftAlert:
        # Jensen-Shannon and total variation distances lie in [0, 1] (Databricks docs, "Monitor metric
        # tables", drift metrics table), so a threshold above 1 never fires.
        if self.statistic in BOUNDED_STATISTICS and self.threshold > 1:
            raise field_problems([("threshold", self.threshold, f"can never be exceeded: {self.statistic} lies "
                                                                 "between 0 and 1; allowed: above 0, at most 1")])
        return self


# Drift statistics bounded in [0, 1]; the others (ks_test, wasserstein, PSI, chi-squared) are not.
BOUNDED_STATISTICS = ("js_distance", "tv_distance")


class Monitor(StrictModel):
    """Lakehouse Monitoring (InferenceLog profile) on the endpoint's processed inference table."""

    table_name: str
    """The processed inference table monitored, as `catalog.schema.table`."""
    # Two-phase rollout: false until the table exists (the endpoint logged requests, the unpacking job ran).
    table_exists: bool = False
    """Set true once the table exists (the endpoint logged requests and the unpacking job ran); until then the monitor,
    its alerts and the retrain job wait."""
    problem_type: Literal["classification", "regression"]
    """Whether the model classifies or predicts a number; sets the monitor's quality metrics."""
    prediction_col: str = "prediction"
    """Column of the model's predictions."""
    label_col: str | None = "label"
    """Column of the ground-truth labels; needed for label drift."""
    timestamp_col: str = "timestamp"
    """Column of the request timestamp, which splits rows into time windows."""
    model_id_col: str = "model_version"
    """Column of the model version that served the request."""
    prediction_proba_col: str | None = None
    """Column of the predicted probabilities (classification)."""
    granularities: list[Granularity] = Field(default=["1 day"], min_length=1)
    """Time windows the monitor aggregates over."""
    baseline_table: str | None = None
    """Table to compare drift against, as `catalog.schema.table`."""
    slicing_exprs: list[str] = []
    """SQL expressions whose values slice the metrics (e.g. `region`)."""
    custom_metrics: list[CustomMetric] = []
    """Business metrics computed along the built-in ones (e.g. the seed's expected_loss)."""
    # Schema name in the monitored table's catalog (seed: `monitoring`).
    output_schema: UcIdentifier = "monitoring"
    """Schema in the monitored table's catalog where the metric tables are written (seed: `monitoring`)."""
    # None: /Workspace/Shared/lakehouse_monitoring/<catalog>_<schema>_<table> (the seed's location).
    assets_dir: str | None = None
    """Workspace folder of the monitor's dashboard and assets; default
    `/Workspace/Shared/lakehouse_monitoring/<catalog>_<schema>_<table>`."""
    schedule: Schedule = Schedule()
    """When the monitor refreshes (default daily at midnight)."""
    failure_recipients: EmailList
    """Who is e-mailed when a refresh fails (at least one address)."""
    drift_alerts: list[DriftAlert] = []
    """SQL alerts on the monitor's drift metrics."""

    @field_validator("table_name", "baseline_table")
    @classmethod
    def _tables(cls, v: str | None) -> str | None:
        return v if v is None else _uc_three_part(v)

    @field_validator("assets_dir")
    @classmethod
    def _assets(cls, v: str | None) -> str | None:
        return v if v is None else workspace_path(v)

    @field_validator("failure_recipients")
    @classmethod
    def _recipients(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("is empty; a monitor needs at least one e-mail address to tell about failed "
                             "refreshes")
        return v

    @model_validator(mode="after")
    def _label_drift(self) -> Monitor:
        for i, alert in enumerate(self.drift_alerts):
            if alert.metric == "label_drift" and not self.label_col:
                raise field_problems([(f"driftAlerts[{i}].metric", alert.metric,
                                       "needs labelCol (the column whose drift it watches)")])
        return self

    @property
    def catalog(self) -> str:
        return self.table_name.split(".")[0]

    @property
    def output_schema_full(self) -> str:
        return f"{self.catalog}.{self.output_schema}"

    @property
    def assets_path(self) -> str:
        return self.assets_dir or "/Workspace/Shared/lakehouse_monitoring/" + self.table_name.replace(".", "_")

    @property
    def api_problem_type(self) -> str:
        return PROBLEM_TYPES[self.problem_type]


class Endpoint(StrictModel):
    """One model serving endpoint: served UC model versions, traffic split, inference table, gateway."""

    name: ServingName
    """Name of the serving endpoint, unique in the workspace."""
    # The pinned versions are registered in UC; false skips the endpoint (and its monitor) with a note.
    model_registered: bool = False
    """Set true once the pinned model versions are registered in Unity Catalog; until then the endpoint and its monitor
    are skipped with a note."""
    entities: list[ServedEntity] = Field(min_length=1, max_length=10)
    """Model versions served by the endpoint (1 to 10)."""
    # served entity name -> traffic percent; may be left out when there is exactly one entity (100).
    routes: dict[str, int] | None = None
    """Served entity name -> traffic percent, adding up to 100 (e.g. 90/10 for an A/B test); may be left out with one
    entity."""
    inference_table: InferenceTable
    """Where the endpoint's requests are logged (AI Gateway inference table)."""
    usage_tracking: bool = True
    """Record the endpoint's usage in the AI Gateway usage system table."""
    rate_limits: list[RateLimit] = []
    """AI Gateway rate limits of the endpoint."""
    monitor: Monitor | None = None
    """Lakehouse Monitoring of the endpoint's processed inference table."""
    pattern: Literal["single", "abTest", "blueGreen", "shadow"] | None = None
    """The serving pattern the entities and routes follow, checked: `single`, `abTest` (with abTest), `blueGreen`
    (100/0 between two); `shadow` is refused (Model Serving does not mirror requests)."""
    ab_test: AbTest | None = None
    """The control and treatment entities of an A/B test, and the metrics compared."""

    @model_validator(mode="after")
    def _routes(self) -> Endpoint:
        names = [e.name for e in self.entities]
        problems: list[tuple[str, Any, str]] = []
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name in seen:
                problems.append((f"entities[{i}].name", name, "is used twice; served entity names must differ"))
            seen.add(name)
        if self.routes is None:
            if len(names) > 1:
                problems.append(("routes", None, "are required with more than one served entity; allowed: "
                                                 "a percentage per entity, adding up to 100"))
        else:
            allowed = ", ".join(repr(n) for n in dict.fromkeys(names))
            for key, pct in self.routes.items():
                if key not in names:
                    problems.append((f"routes.{key}", pct, f"names no served entity; allowed: {allowed}"))
                if not 0 <= pct <= 100:
                    problems.append((f"routes.{key}", pct, "is out of range; allowed: 0 to 100"))
            for name in names:
                if name not in self.routes:
                    problems.append(("routes", self.routes, f"have no route for served entity {name!r}; every "
                                                            "entity needs one (0 for a standby)"))
            total = sum(self.routes.values())
            if total != 100:
                problems.append(("routes", self.routes, f"add up to {total}; allowed: percentages adding up "
                                                        "to 100"))
        if not problems:  # the pattern reads valid routes
            problems.extend(pattern_problems(self.pattern, self.ab_test, self.traffic))
        if self.monitor and self.monitor.table_exists and not self.model_registered:
            problems.append(("monitor.tableExists", True, "needs modelRegistered: true (the table is filled "
                                                          "from this endpoint's inference log)"))
        if problems:
            raise field_problems(problems)
        return self

    @property
    def traffic(self) -> dict[str, int]:
        return self.routes if self.routes is not None else {self.entities[0].name: 100}

    @property
    def deployable(self) -> bool:
        return self.model_registered

    @property
    def monitored(self) -> bool:
        return self.deployable and self.monitor is not None and self.monitor.table_exists


class Notifications(StrictModel):
    """Where drift alerts go: an e-mail destination, and optionally a Teams/Slack/generic webhook.

    The webhook URL lives encrypted in the top-level stack config key alertWebhookUrl
    (`pulumi config set --secret` it).
    """

    emails: EmailList = Field(min_length=1)
    """Who drift alerts are e-mailed to (at least one address)."""
    webhook: Literal["microsoftTeams", "slack", "genericWebhook"] | None = None
    """Also send drift alerts to a webhook of this kind; the URL is the secret alertWebhookUrl."""


class Retraining(StrictModel):
    """The drift -> retrain job (seed): drift detection notebook, a condition on its violation count, training."""

    enabled: bool = True
    """Create the drift -> retrain job of each monitored endpoint (drift notebook, then training when drift is
    found)."""
    drift_notebook: str
    """Workspace path of the drift detection notebook the job runs first."""
    training_notebook: str
    """Workspace path of the training notebook, run when drift is detected."""
    # Runs after the monitor refresh and the alert evaluation.
    schedule: Schedule = Schedule(cron="0 2 * * *")
    """When the job runs; default after the monitor refresh and the alert evaluation."""
    paused: bool = False
    """Pause the job's schedule so it runs on demand only (saves DBUs; seed: dev)."""
    failure_recipients: EmailList = []
    """Who is e-mailed when the job fails."""
    promotion: Promotion = Promotion()
    """After training: validate the challenger against the champion, then move the champion alias only if it
    passes (a rejected challenger fails the run, which notifies the environment's destinations)."""

    @field_validator("drift_notebook", "training_notebook")
    @classmethod
    def _notebook(cls, v: str) -> str:
        return workspace_path(v)


class ServingConfig(StrictModel):
    """`mlops-platform:serving`: this environment's endpoints and what watches them."""

    # Traceability tag on every endpoint and job; CI sets it: pulumi config set --path serving.gitSha <sha>.
    git_sha: str = "unknown"
    """Commit the deploy comes from, tagged on every endpoint and job for traceability; CI sets it: `pulumi config set
    --path serving.gitSha <sha>`."""
    # Environment defaults for served entities (seed: Small + scale-to-zero in dev, Medium always-on in prod).
    workload_size: WorkloadSize
    """Default compute size of served entities (seed: Small in dev, Medium in prod)."""
    scale_to_zero: bool
    """Default for served entities: scale to zero when idle (seed: dev) or stay warm (prod)."""
    notifications: Notifications
    """Where drift alerts go: e-mail, optionally a webhook."""
    retraining: Retraining | None = None
    """The drift -> retrain job; leave out for none."""
    endpoints: list[Endpoint] = []
    """The environment's model serving endpoints."""

    @field_validator("git_sha")
    @classmethod
    def _sha(cls, v: str) -> str:
        if v != "unknown" and not re.fullmatch(r"[0-9a-f]{7,40}", v):
            raise ValueError("is not a git commit sha; allowed: 7 to 40 lowercase hex digits, or 'unknown'")
        return v

    @model_validator(mode="after")
    def _unique(self) -> ServingConfig:
        problems: list[tuple[str, Any, str]] = []
        seen_names: set[str] = set()
        seen_tables: set[str] = set()
        for i, ep in enumerate(self.endpoints):
            if ep.name in seen_names:
                problems.append((f"endpoints[{i}].name", ep.name, "is used twice; endpoint names are unique in a "
                                                                  "workspace"))
            seen_names.add(ep.name)
            if ep.monitor:
                if ep.monitor.table_name in seen_tables:
                    problems.append((f"endpoints[{i}].monitor.tableName", ep.monitor.table_name,
                                     "is monitored twice; a table has at most one monitor"))
                seen_tables.add(ep.monitor.table_name)
        if problems:
            raise field_problems(problems)
        return self

    def served_models(self) -> list[str]:
        """Every model an endpoint serves (catalog.schema.model, once each): the platform registers them."""
        return list(dict.fromkeys(e.entity_name for ep in self.endpoints for e in ep.entities))

    def resolved_size(self, entity: ServedEntity) -> str:
        return entity.workload_size or self.workload_size

    def resolved_scale_to_zero(self, entity: ServedEntity) -> bool:
        return self.scale_to_zero if entity.scale_to_zero is None else entity.scale_to_zero

    def required_schemas(self) -> list[tuple[str, str]]:
        """(key path, catalog.schema) of every UC schema the deployable parts log into or read from."""
        out: list[tuple[str, str]] = []
        for i, ep in enumerate(self.endpoints):
            if not ep.deployable:
                continue
            if ep.inference_table.enabled:
                out.append((f"serving.endpoints[{i}].inferenceTable", ep.inference_table.full_schema))
            if ep.monitor:
                out.append((f"serving.endpoints[{i}].monitor.outputSchema", ep.monitor.output_schema_full))
                if self.retraining and self.retraining.enabled:  # the retrain job registers versions there
                    out.extend((f"serving.endpoints[{i}].entities[{j}].entityName", e.entity_name.rsplit(".", 1)[0])
                               for j, e in enumerate(ep.entities))
        return out

    def run_as_grants(self) -> dict[str, tuple[str, ...]]:
        """catalog.schema -> what the run-as principal of the drift alerts and retrain jobs needs there.

        Derived from every endpoint with a monitor, whatever its rollout phase, so the grants are in place
        before the alerts and jobs that use them. The alerts (run as that principal) query the monitor's
        `<output schema>.*_drift_metrics`; the job reads the monitored (processed inference) table, its
        baseline and the monitor's metric tables (USE_SCHEMA + SELECT), and registers new versions of the
        served model and moves its aliases: that needs ownership of the model (Databricks docs, "Upgrade ML
        workflows to target models in Unity Catalog"), which the platform gives it (the ModelRegistry component
        declares every served model with this principal as owner), so on the model's schema USE_SCHEMA is all.
        """
        needs: dict[str, set[str]] = {}
        for ep in self.endpoints:
            mon = ep.monitor
            if mon is None:
                continue
            for table in (mon.table_name, mon.baseline_table):
                if table:
                    needs.setdefault(table.rsplit(".", 1)[0], set()).update(RUN_AS_READ)
            needs.setdefault(mon.output_schema_full, set()).update(RUN_AS_READ)
            if self.retraining and self.retraining.enabled:
                for entity in ep.entities:
                    needs.setdefault(entity.entity_name.rsplit(".", 1)[0], set()).update(RUN_AS_REGISTER)
        return {schema: tuple(sorted(p)) for schema, p in sorted(needs.items())}


# What the alerts' and the retrain job's run-as principal needs on a schema it reads / registers models in
# (USE_CATALOG on the catalog comes with it, see the Unity Catalog grant table).
RUN_AS_READ = ("USE_SCHEMA", "SELECT")
RUN_AS_REGISTER = ("USE_SCHEMA",)  # the models themselves it owns (infra/components/model_registry.py)


# What the offline engine hands the program for a `secure:` value (the real engine hands the plaintext).
OFFLINE_SECRET_MASK = "[secret]"


def serving_stack_problems(config: Any) -> list[tuple[str, Any, str]]:
    """Rules between serving and the rest of the stack config (the webhook secret, UC schemas)."""
    problems: list[tuple[str, Any, str]] = []
    serving: ServingConfig | None = config.serving
    secret = config.alert_webhook_url
    webhook = serving.notifications.webhook if serving else None
    if webhook and secret is None:
        problems.append(("serving.notifications.webhook", webhook,
                         "needs the webhook URL as a secret; run: pulumi config set --secret alertWebhookUrl <url>"))
    if secret is not None:
        url = secret.get_secret_value()
        if not webhook:
            problems.append(("alertWebhookUrl", OFFLINE_SECRET_MASK, "is set but serving.notifications.webhook is "
                             "not; allowed: 'microsoftTeams', 'slack' or 'genericWebhook' there"))
        elif url != OFFLINE_SECRET_MASK and not url.startswith("https://"):
            problems.append(("alertWebhookUrl", OFFLINE_SECRET_MASK, "is not an https:// URL (value not shown: "
                             "it is a secret)"))
    if serving:
        problems.extend(live_alias_problems(getattr(config, "is_prod", False), list(serving.endpoints)))
        problems.extend(_entity_catalog_problems(config, serving))
        problems.extend(_schema_problems(config, serving))
    return problems


def own_catalogs(config: Any) -> list[str] | None:
    """The catalogs this stack's Unity Catalog config declares, or None when it has no UC config."""
    uc = getattr(config, "unity_catalog", None)
    return None if uc is None else [catalog.name for catalog in uc.catalogs]


def _entity_catalog_problems(config: Any, serving: ServingConfig) -> list[tuple[str, Any, str]]:
    """A served model lives in one of this stack's catalogs: catalogs are isolated to their own workspace,
    so another stack's model (e.g. dev's in a prod endpoint) can never be loaded."""
    own = own_catalogs(config)
    if own is None:
        return []
    problems: list[tuple[str, Any, str]] = []
    for i, ep in enumerate(serving.endpoints):
        for j, entity in enumerate(ep.entities):
            catalog = entity.entity_name.split(".")[0]
            if catalog not in own:
                problems.append((f"serving.endpoints[{i}].entities[{j}].entityName", entity.entity_name,
                                 f"is in {catalog!r}, not one of this stack's catalogs; allowed: "
                                 f"{', '.join(repr(c) for c in own)}"))
    return problems


def _schema_problems(config: Any, serving: ServingConfig) -> list[tuple[str, Any, str]]:
    """Endpoints log into, and monitors write to, UC schemas that the Unity Catalog config must declare."""
    declared = declared_schemas(config)
    if declared is None:
        return []
    problems: list[tuple[str, Any, str]] = []
    own = own_catalogs(config) or []
    for path, full in serving.required_schemas():
        if path.endswith(".entityName") and full.split(".")[0] not in own:
            continue  # another stack's catalog: _entity_catalog_problems says so
        if full not in declared:
            catalog, schema = full.split(".")
            problems.append((path, full, f"is not a declared schema; add {schema!r} to "
                                         f"the schemas of catalog {catalog!r} (unityCatalog.catalogs)"))
    return problems


def declared_schemas(config: Any) -> set[str] | None:
    """`catalog.schema` names the Unity Catalog area declares, or None when this stack has no UC config."""
    uc = getattr(config, "unity_catalog", None)  # the Unity Catalog area's config
    if uc is None:
        return None
    return {f"{catalog.name}.{schema.name}" for catalog in uc.catalogs for schema in catalog.schemas}
