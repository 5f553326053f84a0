"""Drift alerts: SQL alerts on each monitor's drift metrics table, run on the SQL warehouse.

Notification destinations: an e-mail destination for the environment and, optionally, a Teams/Slack/generic
webhook whose URL is a Pulumi secret (it stays encrypted in state and shows as [secret] in plans).
Alerts use the v2 alerts API (dbx.AlertV2: query text, evaluation, schedule, subscriptions in one resource).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_databricks as dbx

from infra.config.serving import DriftAlert, Endpoint, Monitor, Notifications, Schedule


@dataclass(frozen=True)
class DriftAlertsArgs:
    stack: str  # the environment's name (its stack); names and comments use it
    endpoints: Sequence[Endpoint]               # monitored endpoints
    monitors: Mapping[str, dbx.QualityMonitor]  # endpoint name -> its monitor
    notifications: Notifications
    provider: dbx.Provider
    warehouse_id: pulumi.Input[str]
    run_as_application_id: str                  # the CI/CD principal evaluates the queries
    webhook_url: pulumi.Input[str] | None = None
    # The SQL warehouse is serverless: the NCC binding and approved private endpoints to the lake.
    depends_on: Sequence[pulumi.Input[pulumi.Resource]] = ()


def drift_query(drift_table: str, alert: DriftAlert, monitor: Monitor) -> str:
    """The worst drift of the monitored column in the latest window (whole table, not a slice)."""
    column = monitor.prediction_col if alert.metric == "prediction_drift" else monitor.label_col
    granularity = monitor.granularities[0]
    return (
        f"SELECT MAX({alert.statistic}) AS {alert.metric}\n"
        f"FROM {drift_table}\n"
        f"WHERE column_name = '{column}'\n"
        f"  AND drift_type = '{alert.drift_type}'\n"
        f"  AND granularity = '{granularity}'\n"
        f"  AND slice_key IS NULL\n"
        f"  AND window.start = (SELECT MAX(window.start) FROM {drift_table} "
        f"WHERE drift_type = '{alert.drift_type}' AND granularity = '{granularity}')"
    )


def _webhook_config(kind: str, url: pulumi.Input[str]) -> dbx.NotificationDestinationConfigArgs:
    secret_url = pulumi.Output.secret(url)
    if kind == "microsoftTeams":
        return dbx.NotificationDestinationConfigArgs(
            microsoft_teams=dbx.NotificationDestinationConfigMicrosoftTeamsArgs(url=secret_url))
    if kind == "slack":
        return dbx.NotificationDestinationConfigArgs(slack=dbx.NotificationDestinationConfigSlackArgs(url=secret_url))
    return dbx.NotificationDestinationConfigArgs(
        generic_webhook=dbx.NotificationDestinationConfigGenericWebhookArgs(url=secret_url))


def email_destination(name: str, display_name: str, emails: Sequence[str],
                      opts: pulumi.ResourceOptions) -> dbx.NotificationDestination:
    """An e-mail notification destination (alerts subscribe to it by id)."""
    return dbx.NotificationDestination(
        name, display_name=display_name,
        config=dbx.NotificationDestinationConfigArgs(email=dbx.NotificationDestinationConfigEmailArgs(
            addresses=list(emails))), opts=opts)


def subscriptions_of(destinations: Sequence[dbx.NotificationDestination],
                     ) -> list[dbx.AlertV2EvaluationNotificationSubscriptionArgs]:
    return [dbx.AlertV2EvaluationNotificationSubscriptionArgs(destination_id=d.id) for d in destinations]


def sql_alert(name: str, *, display_name: str, query: pulumi.Input[str], source: str, schedule: Schedule,
              warehouse_id: pulumi.Input[str], run_as_application_id: str,
              subscriptions: Sequence[dbx.AlertV2EvaluationNotificationSubscriptionArgs],
              opts: pulumi.ResourceOptions, threshold: float | None = None, threshold_column: str | None = None,
              ) -> dbx.AlertV2:
    """A v2 SQL alert: fires when column `source` of the query's first row is greater than `threshold` (or than
    the row's `threshold_column`); an empty result is not an incident; notifies again when back to OK."""
    limit = (dbx.AlertV2EvaluationThresholdArgs(column=dbx.AlertV2EvaluationThresholdColumnArgs(name=threshold_column))
             if threshold_column else dbx.AlertV2EvaluationThresholdArgs(
                 value=dbx.AlertV2EvaluationThresholdValueArgs(double_value=threshold)))
    return dbx.AlertV2(
        name, display_name=display_name, query_text=query, warehouse_id=warehouse_id,
        evaluation=dbx.AlertV2EvaluationArgs(
            source=dbx.AlertV2EvaluationSourceArgs(name=source),
            comparison_operator="GREATER_THAN", threshold=limit,
            empty_result_state="OK",
            notification=dbx.AlertV2EvaluationNotificationArgs(subscriptions=list(subscriptions), notify_on_ok=True)),
        schedule=dbx.AlertV2ScheduleArgs(quartz_cron_schedule=schedule.quartz, timezone_id=schedule.timezone,
                                         pause_status="UNPAUSED"),
        run_as=dbx.AlertV2RunAsArgs(service_principal_name=run_as_application_id), opts=opts)


class DriftAlerts(pulumi.ComponentResource):
    """mlops:platform:DriftAlerts: notification destinations and one SQL alert per configured drift check."""

    destinations: dict[str, dbx.NotificationDestination]
    alerts: dict[str, dbx.AlertV2]

    def __init__(self, name: str, args: DriftAlertsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:DriftAlerts", name, None, opts)
        self.destinations, self.alerts = {}, {}
        wanted = [(ep, alert) for ep in args.endpoints if ep.monitor for alert in ep.monitor.drift_alerts]
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        if wanted:
            self.destinations["email"] = email_destination(
                f"mlops-{args.stack}-drift-email", f"mlops-{args.stack} drift alerts (e-mail)",
                args.notifications.emails, child)
            if args.notifications.webhook and args.webhook_url is not None:
                self.destinations[args.notifications.webhook] = dbx.NotificationDestination(
                    f"mlops-{args.stack}-drift-{args.notifications.webhook}",
                    display_name=f"mlops-{args.stack} drift alerts ({args.notifications.webhook})",
                    config=_webhook_config(args.notifications.webhook, args.webhook_url),
                    opts=child)
        subscriptions = subscriptions_of(list(self.destinations.values()))

        for ep, alert in wanted:
            mon = ep.monitor
            assert mon is not None
            monitor = args.monitors[ep.name]
            query = monitor.drift_metrics_table_name.apply(functools.partial(drift_query, alert=alert, monitor=mon))
            key = f"{ep.name}-{alert.metric}"
            # No drift row yet (no traffic in the window) is not an incident: sql_alert's empty result is OK.
            self.alerts[key] = sql_alert(
                key, display_name=f"[{args.stack}] {ep.name}: {alert.metric.replace('_', ' ')} > {alert.threshold}",
                query=query, source=alert.metric, threshold=alert.threshold, schedule=alert.schedule,
                warehouse_id=args.warehouse_id, run_as_application_id=args.run_as_application_id,
                subscriptions=subscriptions, opts=pulumi.ResourceOptions(
                    parent=self, provider=args.provider, depends_on=[monitor, *args.depends_on]))
        self.register_outputs({"alerts": list(self.alerts)})
