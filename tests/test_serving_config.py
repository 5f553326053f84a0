"""Serving and monitoring config: every user-facing error by its exact line; the cron -> Quartz conversion."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from croniter import croniter

from infra.config import ConfigError, validate
from infra.config.serving import quartz_from_cron
from tests.support import DELETE, STACKS, config_problems, siblings, stack_raw, with_changes

EP = "serving.endpoints.0"

# (case id, stack, [(key path, value)], expected problem line; exact)
CASES: list[tuple[str, str, list[tuple[str, Any]], str]] = [
    ("routes-sum-to-95", "dev", [(f"{EP}.routes", {"champion": 90, "challenger": 5})],
     "dev: serving.endpoints[0].routes: {champion: 90, challenger: 5} add up to 95; allowed: percentages adding "
     "up to 100"),
    ("route-names-unknown-entity", "dev", [(f"{EP}.routes", {"champion": 90, "challenger": 5, "champio": 5})],
     "dev: serving.endpoints[0].routes.champio: 5 names no served entity; allowed: 'champion', 'challenger'"),
    ("entity-without-route", "prod", [(f"{EP}.routes", {"blue": 100, "gren": 0})],
     "prod: serving.endpoints[0].routes: {blue: 100, gren: 0} have no route for served entity 'green'; every "
     "entity needs one (0 for a standby)"),
    ("routes-required-for-two-entities", "dev", [(f"{EP}.routes", DELETE)],
     "dev: serving.endpoints[0].routes: null are required with more than one served entity; allowed: a "
     "percentage per entity, adding up to 100"),
    ("non-uc-model-name", "test", [(f"{EP}.entities.0.entityName", "mlops_churn")],
     "test: serving.endpoints[0].entities[0].entityName: 'mlops_churn' is not a Unity Catalog model; allowed: "
     "catalog.schema.model (three parts, letters, digits and _)"),
    ("version-zero", "dev", [(f"{EP}.entities.1.entityVersion", 0)],
     "dev: serving.endpoints[0].entities[1].entityVersion: 0 is not a model version; allowed: a whole number >= 1 "
     "(the registered UC version the promotion PR pins)"),
    ("version-alias-instead-of-number", "dev", [(f"{EP}.entities.1.entityVersion", "latest")],
     "dev: serving.endpoints[0].entities[1].entityVersion: 'latest' is not a model version; allowed: a whole "
     "number >= 1 (the registered UC version the promotion PR pins)"),
    ("duplicate-entity-name", "dev", [(f"{EP}.entities.1.name", "champion")],
     "dev: serving.endpoints[0].entities[1].name: 'champion' is used twice; served entity names must differ"),
    ("duplicate-endpoint-name", "dev", [("serving.endpoints.1.name", "ml-model-model-serving-dev")],
     "dev: serving.endpoints[1].name: 'ml-model-model-serving-dev' is used twice; endpoint names are unique in a "
     "workspace"),
    ("invalid-cron-four-fields", "dev", [(f"{EP}.monitor.schedule.cron", "0 0 * *")],
     "dev: serving.endpoints[0].monitor.schedule.cron: '0 0 * *' is not a valid 5-field cron expression; allowed: "
     "'minute hour day-of-month month day-of-week', e.g. '0 0 * * *' (daily at midnight)"),
    ("invalid-cron-hour-25", "prod", [(f"{EP}.monitor.schedule.cron", "0 25 * * *")],
     "prod: serving.endpoints[0].monitor.schedule.cron: '0 25 * * *' is not a valid 5-field cron expression; "
     "allowed: 'minute hour day-of-month month day-of-week', e.g. '0 0 * * *' (daily at midnight)"),
    ("cron-not-expressible-in-quartz", "dev", [(f"{EP}.monitor.schedule.cron", "0 0 1 * MON")],
     "dev: serving.endpoints[0].monitor.schedule.cron: '0 0 1 * MON' restricts both day-of-month and day-of-week, "
     "which Quartz cannot express; allowed: '*' in one of them"),
    ("bad-timezone", "dev", [(f"{EP}.monitor.schedule.timezone", "Mars/Olympus")],
     "dev: serving.endpoints[0].monitor.schedule.timezone: 'Mars/Olympus' is not a time zone id; allowed: "
     "IANA/Java ids such as 'UTC' or 'Europe/Berlin'"),
    ("monitor-without-recipients", "prod", [(f"{EP}.monitor.failureRecipients", [])],
     "prod: serving.endpoints[0].monitor.failureRecipients: [] is empty; a monitor needs at least one e-mail "
     "address to tell about failed refreshes"),
    ("monitor-recipients-missing", "prod", [(f"{EP}.monitor.failureRecipients", DELETE)],
     "prod: serving.endpoints[0].monitor.failureRecipients: required key is missing"),
    ("monitor-recipient-not-an-email", "prod", [(f"{EP}.monitor.failureRecipients", ["ml-ops"])],
     "prod: serving.endpoints[0].monitor.failureRecipients: ['ml-ops'] has 'ml-ops', which is not an e-mail address"),
    ("table-before-model", "dev", [(f"{EP}.modelRegistered", False)],
     "dev: serving.endpoints[0].monitor.tableExists: true needs modelRegistered: true (the table is filled from "
     "this endpoint's inference log)"),
    ("inference-schema-not-declared", "dev", [(f"{EP}.inferenceTable.schema", "inference")],
     "dev: serving.endpoints[0].inferenceTable: 'ml_dev_catalog.inference' is not a schema the Unity Catalog "
     "config declares; add 'inference' to the schemas of catalog 'ml_dev_catalog' (unityCatalog.catalogs)"),
    ("monitoring-schema-not-declared", "test", [(f"{EP}.monitor.outputSchema", "metrics")],
     "test: serving.endpoints[0].monitor.outputSchema: 'ml_test_catalog.metrics' is not a schema the Unity "
     "Catalog config declares; add 'metrics' to the schemas of catalog 'ml_test_catalog' (unityCatalog.catalogs)"),
    ("webhook-without-secret", "dev", [("serving.notifications.webhook", "microsoftTeams")],
     "dev: serving.notifications.webhook: 'microsoftTeams' needs the webhook URL as a secret; run: pulumi config "
     "set --secret alertWebhookUrl <url>"),
    ("secret-without-webhook", "dev", [("__raw__", ("mlops-platform:alertWebhookUrl", {"secure": "v1:abc"}))],
     "dev: alertWebhookUrl: '[secret]' is set but serving.notifications.webhook is not; allowed: "
     "'microsoftTeams', 'slack' or 'genericWebhook' there"),
    ("webhook-not-https", "dev", [("serving.notifications.webhook", "slack"),
                                  ("__raw__", ("mlops-platform:alertWebhookUrl", "http://hooks.slack.com/x"))],
     "dev: alertWebhookUrl: is in plain text in the stack file (value not shown); a secret must be encrypted: "
     "set it with: pulumi config set --secret alertWebhookUrl <value>"),
    ("unknown-endpoint-key", "dev", [(f"{EP}.routez", {})],
     "dev: serving.endpoints[0].routez: unknown key (a typo?); see the configuration reference in README.md"),
    ("bad-problem-type", "dev", [(f"{EP}.monitor.problemType", "ranking")],
     "dev: serving.endpoints[0].monitor.problemType: 'ranking' is not allowed; allowed: 'classification' or "
     "'regression'"),
    ("bad-workload-size", "prod", [("serving.workloadSize", "Huge")],
     "prod: serving.workloadSize: 'Huge' is not allowed; allowed: 'Small', 'Medium' or 'Large'"),
    ("bad-granularity", "dev", [(f"{EP}.monitor.granularities", ["1 minute"])],
     "dev: serving.endpoints[0].monitor.granularities[0]: '1 minute' is not allowed; allowed: '5 minutes', "
     "'30 minutes', '1 hour', '1 day', '1 week', '2 weeks', '3 weeks', '4 weeks', '1 month' or '1 year'"),
    ("label-drift-without-label", "dev", [(f"{EP}.monitor.labelCol", None),
                                          (f"{EP}.monitor.driftAlerts.0.metric", "label_drift")],
     "dev: serving.endpoints[0].monitor.driftAlerts[0].metric: 'label_drift' needs labelCol (the column whose "
     "drift it watches)"),
    ("drift-threshold-zero", "prod", [(f"{EP}.monitor.driftAlerts.0.threshold", 0)],
     "prod: serving.endpoints[0].monitor.driftAlerts[0].threshold: 0 is out of range (input should be greater "
     "than 0)"),
    ("group-rate-limit-without-principal", "dev", [(f"{EP}.rateLimits.0.key", "user_group")],
     "dev: serving.endpoints[0].rateLimits[0].principal: null is required for key 'user_group'; allowed: the "
     "group name or the principal's application id"),
    ("git-sha-not-a-sha", "dev", [("serving.gitSha", "main")],
     "dev: serving.gitSha: 'main' is not a git commit sha; allowed: 7 to 40 lowercase hex digits, or 'unknown'"),
    ("retrain-notebook-relative", "test", [("serving.retraining.trainingNotebook", "notebooks/train")],
     "test: serving.retraining.trainingNotebook: 'notebooks/train' is not a workspace path; allowed: an absolute "
     "path under /Workspace, e.g. '/Workspace/Shared/mlops/notebooks/train'"),
]


@pytest.mark.parametrize(("stack", "changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_serving_config_is_reported_exactly(stack: str, changes: list[tuple[str, Any]], expected: str) -> None:
    problems = config_problems(stack, with_changes(stack, changes))
    assert expected in problems, problems


def test_several_serving_problems_are_reported_together() -> None:
    # (an endpoint's cross-field rules run once its own fields are valid, so these sit in different models)
    raw = with_changes("dev", [(f"{EP}.routes", {"champion": 90, "challenger": 5}),
                         ("serving.endpoints.1.entities.0.entityName", "mlops_churn"),
                         ("serving.workloadSize", "Huge"), ("serving.notifications.emails", ["ops"])])
    with pytest.raises(ConfigError) as info:
        validate("dev", raw, siblings("dev"))
    paths = sorted(line.split(": ")[1] for line in info.value.problems)
    assert paths == ["serving.endpoints[0].routes", "serving.endpoints[1].entities[0].entityName",
                     "serving.notifications.emails", "serving.workloadSize"]


@pytest.mark.parametrize("stack", STACKS)
def test_checked_in_serving_config_is_valid(stack: str) -> None:
    config = validate(stack, stack_raw(stack), siblings(stack))
    assert config.serving is not None and config.serving.endpoints


def test_a_secret_webhook_with_its_type_is_valid() -> None:
    raw = with_changes("prod", [("serving.notifications.webhook", "microsoftTeams"),
                          ("__raw__", ("mlops-platform:alertWebhookUrl", {"secure": "v1:abc"}))])
    config = validate("prod", raw, siblings("prod"))
    assert config.alert_webhook_url is not None
    assert "[secret]" not in repr(config)  # SecretStr never prints its value
    assert config.serving is not None and config.serving.notifications.webhook == "microsoftTeams"


# 5-field cron -> Quartz (what Databricks wants): seconds first, `?` in the unused day field, named weekdays.
QUARTZ = [
    ("0 0 * * *", "0 0 0 * * ?"),          # the seed's daily refresh
    ("30 6 * * 1-5", "0 30 6 ? * MON-FRI"),
    ("*/15 * * * *", "0 */15 * * * ?"),
    ("0 2 1 * *", "0 0 2 1 * ?"),
    ("0 0 * * 0,6", "0 0 0 ? * SUN,SAT"),
    ("0 0 * * 7", "0 0 0 ? * SUN"),
    ("15 3 * jan mon", "0 15 3 ? JAN MON"),
]


@pytest.mark.parametrize(("cron", "quartz"), QUARTZ)
def test_cron_is_converted_to_quartz(cron: str, quartz: str) -> None:
    assert quartz_from_cron(cron) == quartz


@pytest.mark.parametrize(("cron", "quartz"), QUARTZ)
def test_quartz_fires_when_the_cron_fires(cron: str, quartz: str) -> None:
    """The converted expression fires at the same times (Quartz read as a seconds-first cron)."""
    start = datetime(2025, 1, 1)
    source = croniter(cron, start)
    converted = croniter(quartz.replace("?", "*"), start, second_at_beginning=True)
    assert [source.get_next(datetime) for _ in range(12)] == [converted.get_next(datetime) for _ in range(12)]
