"""Serving and monitoring config at its edges: routes, versions, names, schedules, webhooks, required schemas.

dev's first endpoint (champion 90 / challenger 10, monitored) and its second (one entity, not registered yet)
are the baselines; each case changes one key and asserts every problem line, exactly.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import ConfigError, validate
from infra.config.serving import CustomMetric, Monitor, Schedule, quartz_from_cron
from tests.support import DELETE, siblings, stack_raw, with_changes

EP, EP2 = "serving.endpoints.0", "serving.endpoints.1"
ENTITY = {"name": "e", "entityName": "ml_dev_catalog.models.mlops_churn", "entityVersion": 1}


WEBHOOK = "mlops-platform:alertWebhookUrl"


def problems(stack: str, changes: list[tuple[str, Any]], secret_keys: set[str] | None = None) -> list[str]:
    try:
        validate(stack, with_changes(stack, changes), siblings(stack), secret_keys=secret_keys)
    except ConfigError as exc:
        return exc.problems
    return []


def entities(n: int) -> list[dict[str, Any]]:
    return [{**ENTITY, "name": f"e{i}"} for i in range(n)]


CRON_INVALID = ("is not a valid 5-field cron expression; allowed: 'minute hour day-of-month month day-of-week', "
                "e.g. '0 0 * * *' (daily at midnight)")

# (case id, stack, [(key path, value)], every problem line; [] = accepted)
CASES: list[tuple[str, str, list[tuple[str, Any]], list[str]]] = [
    # routes: percentages 0-100 adding up to exactly 100
    # (an A/B test needs traffic on both groups: without the declared pattern, 100/0 is just routes)
    ("routes-100-and-0", "dev", [(f"{EP}.routes", {"champion": 100, "challenger": 0}), (f"{EP}.pattern", DELETE),
                                 (f"{EP}.abTest", DELETE)], []),
    ("routes-add-to-105", "dev", [(f"{EP}.routes", {"champion": 95, "challenger": 10})],
     ["dev: serving.endpoints[0].routes: {champion: 95, challenger: 10} add up to 105; allowed: percentages adding "
      "up to 100"]),
    ("routes-add-to-99", "dev", [(f"{EP}.routes", {"champion": 89, "challenger": 10})],
     ["dev: serving.endpoints[0].routes: {champion: 89, challenger: 10} add up to 99; allowed: percentages adding "
      "up to 100"]),
    ("route-above-100", "dev", [(f"{EP}.routes", {"champion": 101, "challenger": -1})],
     ["dev: serving.endpoints[0].routes.champion: 101 is out of range; allowed: 0 to 100",
      "dev: serving.endpoints[0].routes.challenger: -1 is out of range; allowed: 0 to 100"]),
    ("one-entity-needs-no-routes", "dev", [(f"{EP2}.routes", DELETE)], []),
    ("one-entity-with-its-route", "dev", [(f"{EP2}.routes", {"candidate": 100})], []),
    ("ten-entities", "dev", [(f"{EP2}.entities", entities(10)), (f"{EP2}.routes", {"e0": 100, **{
        f"e{i}": 0 for i in range(1, 10)}})], []),
    ("eleven-entities", "dev", [(f"{EP2}.entities", entities(11))],
     [f"dev: serving.endpoints[1].entities: {entities(11)!r} is not allowed (List should have at most 10 items "
      "after validation, not 11)"]),
    ("no-entities", "dev", [(f"{EP2}.entities", [])],
     ["dev: serving.endpoints[1].entities: [] is not allowed (List should have at least 1 item after validation, "
      "not 0)"]),
    # model versions: whole numbers from 1, as numbers or digit strings
    ("version-1", "dev", [(f"{EP}.entities.1.entityVersion", 1), (f"{EP}.entities.1.entityAlias", DELETE)], []),
    ("version-as-digits", "dev", [(f"{EP}.entities.1.entityVersion", "4"), (f"{EP}.entities.1.entityAlias", DELETE)],
     []),
    ("version-true", "dev", [(f"{EP}.entities.1.entityVersion", True)],
     ["dev: serving.endpoints[0].entities[1].entityVersion: true is not a model version; allowed: a whole number "
      ">= 1 (the registered UC version the promotion PR pins)"]),
    ("version-negative", "dev", [(f"{EP}.entities.1.entityVersion", -3)],
     ["dev: serving.endpoints[0].entities[1].entityVersion: -3 is not a model version; allowed: a whole number >= 1 "
      "(the registered UC version the promotion PR pins)"]),
    ("version-float", "dev", [(f"{EP}.entities.1.entityVersion", 2.5)],
     ["dev: serving.endpoints[0].entities[1].entityVersion: 2.5 is not a model version; allowed: a whole number "
      ">= 1 (the registered UC version the promotion PR pins)"]),
    ("entity-name-two-parts", "dev", [(f"{EP}.entities.0.entityName", "models.mlops_churn")],
     ["dev: serving.endpoints[0].entities[0].entityName: 'models.mlops_churn' is not a Unity Catalog model; allowed: "
      "catalog.schema.model (three parts, letters, digits and _)"]),
    ("entity-name-hyphen", "dev", [(f"{EP}.entities.0.entityName", "ml_dev_catalog.models.mlops-churn")],
     ["dev: serving.endpoints[0].entities[0].entityName: 'ml_dev_catalog.models.mlops-churn' is not a Unity Catalog "
      "model; allowed: catalog.schema.model (three parts, letters, digits and _)"]),
    # rate limits: a group or service principal limit names its principal
    ("sp-limit-without-principal", "dev", [(f"{EP}.rateLimits.0.key", "service_principal")],
     ["dev: serving.endpoints[0].rateLimits[0].principal: null is required for key 'service_principal'; allowed: the "
      "group name or the principal's application id"]),
    ("group-limit-with-principal", "dev", [(f"{EP}.rateLimits.0", {"calls": 5, "key": "user_group",
                                                                   "principal": "mlops-model-consumers"})], []),
    ("user-limit", "dev", [(f"{EP}.rateLimits.0.key", "user")], []),
    # the monitored table: once per workspace, three-part names, a workspace assets path
    ("table-monitored-twice", "dev",
     [(f"{EP2}.monitor", {"tableName": "ml_dev_catalog.model_inference_logs.inference_logs_processed",
                          "problemType": "regression", "failureRecipients": ["ops@example.com"]})],
     ["dev: serving.endpoints[1].monitor.tableName: 'ml_dev_catalog.model_inference_logs.inference_logs_processed' "
      "is monitored twice; a table has at most one monitor"]),
    ("baseline-table-two-parts", "dev", [(f"{EP}.monitor.baselineTable", "model_inference_logs.baseline")],
     ["dev: serving.endpoints[0].monitor.baselineTable: 'model_inference_logs.baseline' is not a Unity Catalog name; "
      "allowed: catalog.schema.name (three parts, letters, digits and _)"]),
    ("assets-dir-outside-workspace", "dev", [(f"{EP}.monitor.assetsDir", "/Shared/monitoring")],
     ["dev: serving.endpoints[0].monitor.assetsDir: '/Shared/monitoring' is not a workspace path; allowed: an "
      "absolute path under /Workspace, e.g. '/Workspace/Shared/mlops/notebooks/train'"]),
    ("assets-dir-workspace-root", "dev", [(f"{EP}.monitor.assetsDir", "/Workspace/")],
     ["dev: serving.endpoints[0].monitor.assetsDir: '/Workspace/' is not a workspace path; allowed: an absolute "
      "path under /Workspace, e.g. '/Workspace/Shared/mlops/notebooks/train'"]),
    ("assets-dir", "dev", [(f"{EP}.monitor.assetsDir", "/Workspace/Shared/m")], []),
    ("label-drift-with-label", "dev", [(f"{EP}.monitor.driftAlerts.0.metric", "label_drift")], []),
    ("drift-alert-after-a-valid-one", "dev",
     [(f"{EP}.monitor.driftAlerts", [{"threshold": 0.1}, {"metric": "label_drift", "threshold": 0.1}]),
      (f"{EP}.monitor.labelCol", None)],
     ["dev: serving.endpoints[0].monitor.driftAlerts[1].metric: 'label_drift' needs labelCol (the column whose "
      "drift it watches)"]),
    # schedules
    ("cron-dow-step", "dev", [(f"{EP}.monitor.schedule.cron", "0 0 * * */2")],
     ["dev: serving.endpoints[0].monitor.schedule.cron: '0 0 * * */2' uses a step in day-of-week; allowed: day lists "
      "or ranges, e.g. 'MON-FRI'"]),
    ("cron-six-fields", "dev", [(f"{EP}.monitor.schedule.cron", "0 0 0 * * *")],
     [f"dev: serving.endpoints[0].monitor.schedule.cron: '0 0 0 * * *' {CRON_INVALID}"]),
    ("cron-six-stars", "dev", [(f"{EP}.monitor.schedule.cron", "* * * * * *")],
     [f"dev: serving.endpoints[0].monitor.schedule.cron: '* * * * * *' {CRON_INVALID}"]),
    ("cron-quartz-mark", "dev", [(f"{EP}.monitor.schedule.cron", "0 0 ? * *")],
     [f"dev: serving.endpoints[0].monitor.schedule.cron: '0 0 ? * *' {CRON_INVALID}"]),
    ("timezone-europe", "dev", [(f"{EP}.monitor.schedule.timezone", "Europe/Berlin")], []),
    ("timezone-empty", "dev", [(f"{EP}.monitor.schedule.timezone", "")],
     ["dev: serving.endpoints[0].monitor.schedule.timezone: '' is not a time zone id; allowed: IANA/Java ids such as "
      "'UTC' or 'Europe/Berlin'"]),
    # names
    ("git-sha-7", "dev", [("serving.gitSha", "abcdef0")], []),
    ("git-sha-40", "dev", [("serving.gitSha", "a" * 40)], []),
    ("git-sha-6", "dev", [("serving.gitSha", "abcdef")],
     ["dev: serving.gitSha: 'abcdef' is not a git commit sha; allowed: 7 to 40 lowercase hex digits, or 'unknown'"]),
    ("git-sha-41", "dev", [("serving.gitSha", "a" * 41)],
     [f"dev: serving.gitSha: '{'a' * 41}' is not a git commit sha; allowed: 7 to 40 lowercase hex digits, or "
      "'unknown'"]),
    ("git-sha-sorting-after-unknown", "dev", [("serving.gitSha", "v1.2.3")],
     ["dev: serving.gitSha: 'v1.2.3' is not a git commit sha; allowed: 7 to 40 lowercase hex digits, or 'unknown'"]),
    ("git-sha-upper", "dev", [("serving.gitSha", "ABCDEF0")],
     ["dev: serving.gitSha: 'ABCDEF0' is not a git commit sha; allowed: 7 to 40 lowercase hex digits, or 'unknown'"]),
    ("drift-notebook-relative", "dev", [("serving.retraining.driftNotebook", "Workspace/x")],
     ["dev: serving.retraining.driftNotebook: 'Workspace/x' is not a workspace path; allowed: an absolute path under "
      "/Workspace, e.g. '/Workspace/Shared/mlops/notebooks/train'"]),
    ("retrain-recipient", "dev", [("serving.retraining.failureRecipients", ["ops"])],
     ["dev: serving.retraining.failureRecipients: ['ops'] has 'ops', which is not an e-mail address"]),
    ("no-alert-emails", "dev", [("serving.notifications.emails", [])],
     ["dev: serving.notifications.emails: [] is not allowed (List should have at least 1 item after validation, "
      "not 0)"]),
    # webhooks: a type and its secret URL go together (the URL as the real engine hands a decrypted secret over)
    ("webhook-https", "dev", [("serving.notifications.webhook", "genericWebhook"),
                              ("__raw__", (WEBHOOK, "https://hooks.example.com/x"))], []),
    ("webhook-uppercase-scheme", "dev", [("serving.notifications.webhook", "slack"),
                                         ("__raw__", (WEBHOOK, "HTTPS://hooks.example.com"))],
     ["dev: alertWebhookUrl: '[secret]' is not an https:// URL (value not shown: it is a secret)"]),
    ("webhook-plain-http", "dev", [("serving.notifications.webhook", "slack"),
                                   ("__raw__", (WEBHOOK, "http://hooks.example.com"))],
     ["dev: alertWebhookUrl: '[secret]' is not an https:// URL (value not shown: it is a secret)"]),
    ("webhook-offline-mask", "dev", [("serving.notifications.webhook", "slack"), ("__raw__", (WEBHOOK, "[secret]"))],
     []),
    ("webhook-url-without-a-webhook", "dev", [("__raw__", (WEBHOOK, "https://hooks.example.com/x"))],
     ["dev: alertWebhookUrl: '[secret]' is set but serving.notifications.webhook is not; allowed: "
      "'microsoftTeams', 'slack' or 'genericWebhook' there"]),
    ("metric-without-definition", "dev", [(f"{EP}.monitor.customMetrics.0.definition", "")],
     ["dev: serving.endpoints[0].monitor.customMetrics[0].definition: '' is not allowed (string should have at least "
      "1 character)"]),
    ("metric-one-character-definition", "dev", [(f"{EP}.monitor.customMetrics.0.definition", "1")], []),
    ("no-granularities", "dev", [(f"{EP}.monitor.granularities", [])],
     ["dev: serving.endpoints[0].monitor.granularities: [] is not allowed (List should have at least 1 item after "
      "validation, not 0)"]),
    ("metric-without-input-columns", "dev", [(f"{EP}.monitor.customMetrics.0.inputColumns", [])],
     ["dev: serving.endpoints[0].monitor.customMetrics[0].inputColumns: [] is not allowed (List should have at "
      "least 1 item after validation, not 0)"]),
    # schemas the deployable parts log into must be declared
    ("unregistered-endpoint-schema-not-required", "dev", [(f"{EP2}.inferenceTable.schema", "elsewhere")], []),
    ("disabled-inference-table-not-required", "dev", [(f"{EP}.inferenceTable", {
        "enabled": False, "catalog": "ml_dev_catalog", "schema": "nowhere"})], []),
    ("retrained-model-schema-required", "dev", [(f"{EP}.entities.1.entityName", "ml_dev_catalog.staging.mlops_churn")],
     ["dev: serving.endpoints[0].entities[1].entityName: 'ml_dev_catalog.staging' is not a declared schema; "
      "add 'staging' to the schemas of catalog 'ml_dev_catalog' (unityCatalog.catalogs)"]),
    ("model-schema-free-without-retraining", "dev",
     [(f"{EP}.entities.1.entityName", "ml_dev_catalog.staging.mlops_churn"), ("serving.retraining.enabled", False)],
     []),
    ("unmonitored-model-schema-free", "dev", [(f"{EP2}.entities.0.entityName", "ml_dev_catalog.staging.mlops_churn")],
     []),
    ("registered-endpoint-schema-required", "dev", [(f"{EP2}.modelRegistered", True),
                                                    (f"{EP2}.inferenceTable.schema", "elsewhere")],
     ["dev: serving.endpoints[1].inferenceTable: 'ml_dev_catalog.elsewhere' is not a declared schema; "
      "add 'elsewhere' to the schemas of catalog 'ml_dev_catalog' (unityCatalog.catalogs)"]),
]


@pytest.mark.parametrize(("stack", "changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_serving_edges(stack: str, changes: list[tuple[str, Any]], expected: list[str]) -> None:
    assert problems(stack, changes, secret_keys={WEBHOOK}) == expected


def test_a_webhook_url_in_plain_text_is_refused_without_showing_it() -> None:
    """Not marked secret by the engine, not `secure:` in the file: refused, and the URL never printed."""
    got = problems("dev", [("serving.notifications.webhook", "slack"),
                           ("__raw__", (WEBHOOK, "https://hooks.example.com/x"))])
    assert got == ["dev: alertWebhookUrl: is in plain text in the stack file (value not shown); a secret must be "
                   "encrypted: set it with: pulumi config set --secret alertWebhookUrl <value>"]


@pytest.mark.parametrize(("cron", "quartz"), [
    ("0 0 15 * *", "0 0 0 15 * ?"),
    ("0 0 * jan *", "0 0 0 * JAN ?"),
    ("0 0 * * mon-fri", "0 0 0 ? * MON-FRI"),
    ("0 0 * * 1,3-5", "0 0 0 ? * MON,WED-FRI"),
    ("5 4 * * 6", "0 5 4 ? * SAT"),
])
def test_more_cron_to_quartz(cron: str, quartz: str) -> None:
    assert quartz_from_cron(cron) == quartz


def test_derived_serving_values() -> None:
    serving = validate("dev", stack_raw("dev"), {}).serving
    assert serving is not None
    first, second = serving.endpoints
    assert first.traffic == {"champion": 90, "challenger": 10} and second.traffic == {"candidate": 100}
    assert (first.deployable, first.monitored, second.deployable, second.monitored) == (True, True, False, False)
    assert serving.resolved_size(first.entities[0]) == "Small"
    assert serving.resolved_size(first.entities[0].model_copy(update={"workload_size": "Large"})) == "Large"
    assert serving.resolved_scale_to_zero(first.entities[0]) is True
    assert serving.resolved_scale_to_zero(first.entities[0].model_copy(update={"scale_to_zero": False})) is False
    assert serving.required_schemas() == [
        ("serving.endpoints[0].inferenceTable", "ml_dev_catalog.model_inference_logs"),
        ("serving.endpoints[0].monitor.outputSchema", "ml_dev_catalog.monitoring"),
        ("serving.endpoints[0].entities[0].entityName", "ml_dev_catalog.models"),
        ("serving.endpoints[0].entities[1].entityName", "ml_dev_catalog.models")]
    assert serving.run_as_grants() == {
        "ml_dev_catalog.model_inference_logs": ("SELECT", "USE_SCHEMA"),
        "ml_dev_catalog.models": ("USE_SCHEMA",),  # the models it registers into it owns
        "ml_dev_catalog.monitoring": ("SELECT", "USE_SCHEMA")}


def test_without_retraining_the_run_as_principal_only_reads() -> None:
    """No retrain job: nothing registers models, so the entities' schemas are neither required nor granted;
    a baseline table's schema is read like the monitored table's."""
    raw = with_changes("dev", [("serving.retraining.enabled", False),
                               (f"{EP}.monitor.baselineTable", "ml_dev_catalog.features.baseline")])
    serving = validate("dev", raw, {}).serving
    assert serving is not None
    assert serving.required_schemas() == [
        ("serving.endpoints[0].inferenceTable", "ml_dev_catalog.model_inference_logs"),
        ("serving.endpoints[0].monitor.outputSchema", "ml_dev_catalog.monitoring")]
    assert serving.run_as_grants() == {
        "ml_dev_catalog.features": ("SELECT", "USE_SCHEMA"),
        "ml_dev_catalog.model_inference_logs": ("SELECT", "USE_SCHEMA"),
        "ml_dev_catalog.monitoring": ("SELECT", "USE_SCHEMA")}
    no_job = validate("dev", with_changes("dev", [("serving.retraining", DELETE)]), {}).serving
    assert no_job is not None and "ml_dev_catalog.models" not in no_job.run_as_grants()


def test_monitor_and_metric_values() -> None:
    monitor = Monitor.model_validate({"tableName": "c.s.t", "problemType": "regression",
                                      "failureRecipients": ["a@example.com"]})
    assert (monitor.catalog, monitor.output_schema_full, monitor.api_problem_type) == (
        "c", "c.monitoring", "PROBLEM_TYPE_REGRESSION")
    assert monitor.assets_path == "/Workspace/Shared/lakehouse_monitoring/c_s_t"
    assert monitor.model_copy(update={"assets_dir": "/Workspace/x"}).assets_path == "/Workspace/x"
    metric = CustomMetric.model_validate({"name": "m", "type": "drift", "definition": "avg(x)",
                                          "outputDataType": "long"})
    assert metric.api_type == "CUSTOM_METRIC_TYPE_DRIFT"
    assert metric.struct_field_json == '{"name":"output","type":"long","nullable":true,"metadata":{}}'


def test_serving_defaults() -> None:
    """An endpoint is not deployed until its model is registered; retraining is on; tables log by default."""
    config = validate("dev", with_changes("dev", [(f"{EP2}.modelRegistered", DELETE)]), {})
    assert config.serving is not None and config.serving.retraining is not None
    endpoint = config.serving.endpoints[1]
    assert (endpoint.model_registered, endpoint.deployable, endpoint.usage_tracking, endpoint.rate_limits) == (
        False, False, True, [])
    assert (endpoint.inference_table.enabled, endpoint.inference_table.schema_name) == (True, "model_inference_logs")
    assert (config.serving.retraining.enabled, config.serving.retraining.schedule.cron) == (True, "0 2 * * *")
    unpaused = validate("dev", with_changes("dev", [("serving.retraining.paused", DELETE)]), {}).serving
    assert unpaused is not None and unpaused.retraining is not None and unpaused.retraining.paused is False
    assert config.serving.git_sha == "unknown"
    registered = validate("dev", with_changes("dev", [(f"{EP2}.modelRegistered", True)]), {}).serving
    assert registered is not None and registered.endpoints[1].deployable
    assert not registered.endpoints[1].monitored  # deployed, but no monitor


def test_a_schedule_in_quartz() -> None:
    assert Schedule().quartz == "0 0 0 * * ?"
    assert Schedule(cron="30 6 * * 1-5", timezone="Europe/Berlin").quartz == "0 30 6 ? * MON-FRI"


def test_schemas_are_required_by_every_deployable_endpoint_in_any_order() -> None:
    raw = stack_raw("dev")
    endpoints = raw["mlops-platform:serving"]["endpoints"]
    raw["mlops-platform:serving"]["endpoints"] = [endpoints[1], endpoints[0]]  # the undeployable one first
    serving = validate("dev", raw, {}).serving
    assert serving is not None and serving.required_schemas() == [
        ("serving.endpoints[1].inferenceTable", "ml_dev_catalog.model_inference_logs"),
        ("serving.endpoints[1].monitor.outputSchema", "ml_dev_catalog.monitoring"),
        ("serving.endpoints[1].entities[0].entityName", "ml_dev_catalog.models"),
        ("serving.endpoints[1].entities[1].entityName", "ml_dev_catalog.models")]
    # the run-as grants too: an endpoint without a monitor does not end the list
    assert sorted(serving.run_as_grants()) == ["ml_dev_catalog.model_inference_logs", "ml_dev_catalog.models",
                                               "ml_dev_catalog.monitoring"]
