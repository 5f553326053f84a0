"""Lakehouse monitors on feature tables (TimeSeries profile) and their SQL alerts.

Per monitored feature table:
- custom metrics `<key>_completeness` (share of rows with a key) and `<key>_uniqueness` (distinct keys per
  key), aggregate metrics on the key column;
- slicing expressions: every metric, and the drift, per group as well (bias detection);
- alerts (v2 SQL alerts, built like the endpoints' drift alerts: serving/alerts.py `sql_alert`):
  completeness below the minimum, duplicate keys, drift of any feature in any slice between consecutive
  windows of the coarsest granularity (weekly) above the threshold, and, with `accuracyEndpoint`, the drop
  of that endpoint's accuracy between its last two windows above `accuracyDrop`.

The metric tables are `<output schema>.<table>_profile_metrics` / `_drift_metrics`; rows of a column
have `column_name` = the column, the whole table `:table`, the whole population `slice_key IS NULL`
(Databricks docs, "Monitor metric tables"; InferenceLog profiles add `accuracy_score`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_databricks as dbx

from infra.components.serving.alerts import sql_alert
from infra.config.governance import FeatureMonitorConfig


@dataclass(frozen=True)
class FeatureMonitoringArgs:
    stack: str
    monitors: Sequence[FeatureMonitorConfig]       # tables that exist
    provider: dbx.Provider
    warehouse_id: pulumi.Input[str]
    run_as_application_id: str                     # evaluates the alerts' queries (the CI/CD principal)
    destination_ids: Sequence[pulumi.Input[str]]   # the environment's alert destinations (e-mail, webhook)
    # endpoint name -> its InferenceLog monitor, for the accuracy alerts
    endpoint_monitors: Mapping[str, dbx.QualityMonitor] | None = None
    schemas: Mapping[str, pulumi.Resource] | None = None  # "catalog.schema" -> UC schema
    # refreshes and alerts run on serverless compute: the NCC binding and approved endpoints; the grants
    depends_on: Sequence[pulumi.Input[pulumi.Resource]] = ()


def completeness_metric(key: str) -> str:
    return f"{key}_completeness"


def uniqueness_metric(key: str) -> str:
    return f"{key}_uniqueness"


def custom_metrics(mon: FeatureMonitorConfig) -> list[dbx.QualityMonitorCustomMetricArgs]:
    output = '{"name":"output","type":"double","nullable":true,"metadata":{}}'
    return [
        dbx.QualityMonitorCustomMetricArgs(
            name=completeness_metric(mon.key_col), type="CUSTOM_METRIC_TYPE_AGGREGATE", input_columns=[mon.key_col],
            definition="count(`{{input_column}}`) / count(*)", output_data_type=output),
        dbx.QualityMonitorCustomMetricArgs(
            name=uniqueness_metric(mon.key_col), type="CUSTOM_METRIC_TYPE_AGGREGATE", input_columns=[mon.key_col],
            definition="count(DISTINCT `{{input_column}}`) / count(`{{input_column}}`)", output_data_type=output),
    ]


def latest_window(table: str, granularity: str) -> str:
    return f"(SELECT MAX(window.start) FROM {table} WHERE granularity = '{granularity}')"


def key_metric_query(profile_table: str, metric: str, key: str, granularity: str) -> str:
    """The key column's custom metric in the latest window, whole table."""
    return (f"SELECT MIN({metric}) AS {metric}\nFROM {profile_table}\nWHERE column_name = '{key}'\n"
            f"  AND granularity = '{granularity}'\n  AND slice_key IS NULL\n"
            f"  AND window.start = {latest_window(profile_table, granularity)}")


def feature_drift_query(drift_table: str, statistic: str, granularity: str) -> str:
    """The largest drift of any feature, in the whole table or any slice (a group drifting alone is a bias
    signal), between the latest window and the one before."""
    return (f"SELECT MAX({statistic}) AS feature_drift\nFROM {drift_table}\nWHERE drift_type = 'CONSECUTIVE'\n"
            f"  AND granularity = '{granularity}'\n  AND column_name NOT LIKE ':%'\n"
            f"  AND window.start = {latest_window(drift_table, granularity)}")


def accuracy_drop_query(profile_table: str, granularity: str) -> str:
    """How much the whole population's accuracy fell from the previous window to the latest."""
    return (f"WITH w AS (\n  SELECT window.start AS start, AVG(accuracy_score) AS accuracy\n  FROM {profile_table}\n"
            f"  WHERE column_name = ':table' AND slice_key IS NULL AND granularity = '{granularity}'\n"
            "    AND accuracy_score IS NOT NULL\n  GROUP BY window.start\n), ranked AS (\n"
            "  SELECT accuracy, ROW_NUMBER() OVER (ORDER BY start DESC) AS n FROM w\n)\n"
            "SELECT MAX(CASE WHEN n = 2 THEN accuracy END) - MAX(CASE WHEN n = 1 THEN accuracy END) AS accuracy_drop\n"
            "FROM ranked")


def table_key(table: str) -> str:
    return table.rsplit(".", 1)[1].replace("_", "-")


class FeatureMonitoring(pulumi.ComponentResource):
    """mlops:platform:FeatureMonitoring: one monitor per feature table and its quality, drift and accuracy alerts."""

    monitors: dict[str, dbx.QualityMonitor]
    alerts: dict[str, dbx.AlertV2]

    def __init__(self, name: str, args: FeatureMonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:FeatureMonitoring", name, None, opts)
        self.monitors, self.alerts = {}, {}
        schemas = args.schemas or {}
        for mon in args.monitors:
            key = table_key(mon.table_name)
            depends = [schemas[s] for s in (mon.schema_full, mon.output_schema_full) if s in schemas]
            monitor = dbx.QualityMonitor(
                f"{key}-monitor",
                table_name=mon.table_name,
                output_schema_name=mon.output_schema_full,
                assets_dir=mon.assets_path,
                slicing_exprs=mon.slicing_exprs or None,
                time_series=dbx.QualityMonitorTimeSeriesArgs(granularities=list(mon.granularities),
                                                             timestamp_col=mon.timestamp_col),
                custom_metrics=custom_metrics(mon),
                schedule=dbx.QualityMonitorScheduleArgs(quartz_cron_expression=mon.schedule.quartz,
                                                        timezone_id=mon.schedule.timezone),
                notifications=dbx.QualityMonitorNotificationsArgs(
                    on_failure=dbx.QualityMonitorNotificationsOnFailureArgs(email_addresses=mon.failure_recipients)),
                warehouse_id=args.warehouse_id,
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider,
                                            depends_on=[*depends, *args.depends_on]))
            self.monitors[mon.table_name] = monitor
            daily, coarsest = mon.granularities[0], mon.granularities[-1]
            prefix = f"[{args.stack}] {mon.table_name}"

            def alert(name: str, display: str, query: pulumi.Input[str], column: str, operator: str,
                      threshold: float, source: dbx.QualityMonitor, mon: FeatureMonitorConfig = mon) -> None:
                self.alerts[name] = sql_alert(
                    name, display_name=display, query=query, source=column, operator=operator,
                    threshold=threshold, schedule=mon.alert_schedule, warehouse_id=args.warehouse_id,
                    run_as_application_id=args.run_as_application_id, subscriptions=[
                        dbx.AlertV2EvaluationNotificationSubscriptionArgs(destination_id=d)
                        for d in args.destination_ids],
                    opts=pulumi.ResourceOptions(parent=self, provider=args.provider,
                                                depends_on=[source, *args.depends_on]))

            for metric, threshold, words in (
                    (completeness_metric(mon.key_col), mon.completeness_min, "completeness"),
                    (uniqueness_metric(mon.key_col), 1.0, "uniqueness")):
                query = monitor.profile_metrics_table_name.apply(functools.partial(
                    key_metric_query, metric=metric, key=mon.key_col, granularity=daily))
                alert(f"{key}-{words}", f"{prefix}: {mon.key_col} {words} < {threshold}", query, metric,
                      "LESS_THAN", threshold, monitor)
            drift = monitor.drift_metrics_table_name.apply(functools.partial(
                feature_drift_query, statistic=mon.drift_statistic, granularity=coarsest))
            alert(f"{key}-drift", f"{prefix}: feature drift ({coarsest}) > {mon.drift_threshold}", drift,
                  "feature_drift", "GREATER_THAN", mon.drift_threshold, monitor)
            endpoint_monitor = (args.endpoint_monitors or {}).get(mon.accuracy_endpoint or "")
            if endpoint_monitor is not None:
                accuracy = endpoint_monitor.profile_metrics_table_name.apply(functools.partial(
                    accuracy_drop_query, granularity=daily))
                alert(f"{key}-accuracy-drop",
                      f"[{args.stack}] {mon.accuracy_endpoint}: accuracy drop > {mon.accuracy_drop}", accuracy,
                      "accuracy_drop", "GREATER_THAN", mon.accuracy_drop, endpoint_monitor)
        self.register_outputs({"monitors": list(self.monitors), "alerts": list(self.alerts)})

