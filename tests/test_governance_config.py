"""The governance section: every mistake reported by its one-line message, and the values derived from it."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import governance, validate
from tests.support import DELETE, STACKS, config_problems, siblings, stack_raw, with_changes

FM = "governance.featureMonitors.0"
TA = "governance.tagAssignments"

CASES: list[tuple[str, str, list[tuple[str, Any]], str]] = [
    ("classification-catalog-not-here", "test", [("governance.classification.catalogs", ["ml_prod_catalog"])],
     "test: governance.classification.catalogs[0]: 'ml_prod_catalog' is not a catalog of this stack; allowed: "
     "ml_test_catalog"),
    ("assignment-catalog-unknown", "prod", [(f"{TA}.0.securable", "ml_dev_catalog")],
     "prod: governance.tagAssignments[0].securable: 'ml_dev_catalog' is not a catalog or schema of this stack "
     "(unityCatalog.catalogs)"),
    ("assignment-schema-unknown", "prod", [(f"{TA}.1.securable", "ml_prod_catalog.gold")],
     "prod: governance.tagAssignments[1].securable: 'ml_prod_catalog.gold' is not a catalog or schema of this "
     "stack (unityCatalog.catalogs)"),
    ("assignment-securable-malformed", "prod", [(f"{TA}.0.securable", "ml_prod_catalog.raw.customers")],
     "prod: governance.tagAssignments[0].securable: 'ml_prod_catalog.raw.customers' is not a catalog or "
     "catalog.schema name; allowed: lowercase letters, digits and underscores, e.g. 'ml_prod_catalog' or "
     "'ml_prod_catalog.feature_store'"),
    ("assignment-key-not-governed", "prod", [(f"{TA}.1.tags", {"sensitivity": "pii"})],
     "prod: governance.tagAssignments[1].tags: 'sensitivity' is not a governed tag; allowed: classification, owner "
     "(governance.governedTags)"),
    ("assignment-value-not-allowed", "prod", [(f"{TA}.1.tags", {"classification": "secret"})],
     "prod: governance.tagAssignments[1].tags.classification: 'secret' is not an allowed value of "
     "'classification'; allowed: public, internal, confidential, pii, phi (governance.governedTags)"),
    ("assignment-value-not-allowed-by-the-declaring-stack", "dev", [(f"{TA}.0.tags.owner", "someone-else")],
     "dev: governance.tagAssignments[0].tags.owner: 'someone-else' is not an allowed value of 'owner'; allowed: "
     "mlops-platform-team, data-science, ml-engineering (stack prod's governance.governedTags)"),
    ("assignment-key-unknown-to-the-declaring-stack", "test", [(f"{TA}.0.tags", {"domain": "churn"})],
     "test: governance.tagAssignments[0].tags: 'domain' is not a governed tag; allowed: classification, owner "
     "(stack prod's governance.governedTags)"),
    ("governed-tags-declared-twice", "dev",
     [("governance.governedTags", stack_raw("prod")["mlops-platform:governance"]["governedTags"])],
     "dev: governance.governedTags: also declared by stack prod; governed tags are account-wide, declare them in "
     "one stack and only assign them in the others"),
    ("tag-value-duplicated", "prod", [("governance.governedTags.owner.values", ["data-science", "data-science"])],
     "prod: governance.governedTags.owner.values: ['data-science', 'data-science'] lists 'data-science' more than "
     "once; list each value once"),
    ("tag-value-malformed", "prod", [("governance.governedTags.owner.values", ["team/x"])],
     "prod: governance.governedTags.owner.values: ['team/x'] has 'team/x'; allowed: 1-256 letters, digits, '_', "
     "'@' and '-', starting with a letter or digit"),
    ("tag-value-with-a-dot", "prod", [("governance.governedTags.owner.values", ["ml.team"])],
     "prod: governance.governedTags.owner.values: ['ml.team'] has 'ml.team'; allowed: 1-256 letters, digits, '_', "
     "'@' and '-', starting with a letter or digit"),
    ("tag-without-values", "prod", [("governance.governedTags.owner.values", [])],
     "prod: governance.governedTags.owner.values: [] is empty; allowed: one or more values (a governed tag with no "
     "value cannot be assigned)"),
    ("tag-key-malformed", "prod", [("governance.governedTags", {"1class": {"values": ["a"]}})],
     "prod: governance.governedTags: {1class: {values: ['a']}} has key '1class'; allowed: 1-256 letters, digits, "
     "'_' and '-', starting with a letter"),
    ("archive-schema-without-retention", "prod", [("governance.retention.archiveSchema", "ml_prod_catalog.models")],
     "prod: governance.retention.archiveSchema: 'ml_prod_catalog.models' is not a schema of this stack with "
     "retentionDays; allowed: ml_models_catalog.dev_models, ml_models_catalog.candidate_models, "
     "ml_models_catalog.production_models, ml_models_catalog.archived_models"),
    ("archive-schema-not-a-schema", "prod", [("governance.retention.archiveSchema", "ml_models_catalog")],
     "prod: governance.retention.archiveSchema: 'ml_models_catalog' is not a schema name; allowed: "
     "catalog.schema, e.g. 'ml_models_catalog.archived_models'"),
    ("retention-recipient-not-an-email", "dev", [("governance.retention.failureRecipients", ["ops"])],
     "dev: governance.retention.failureRecipients: ['ops'] has 'ops', which is not an e-mail address"),
    ("retention-bad-cron", "test", [("governance.retention.schedule.cron", "every night")],
     "test: governance.retention.schedule.cron: 'every night' is not a valid 5-field cron expression; allowed: "
     "'minute hour day-of-month month day-of-week', e.g. '0 0 * * *' (daily at midnight)"),
    ("monitor-table-schema-not-declared", "prod", [(f"{FM}.tableName", "ml_prod_catalog.features.customer")],
     "prod: governance.featureMonitors[0].tableName: 'ml_prod_catalog.features.customer' is not in a declared "
     "schema; add 'features' to catalog 'ml_prod_catalog' (unityCatalog.catalogs)"),
    ("monitor-table-not-three-part", "prod", [(f"{FM}.tableName", "customer_features")],
     "prod: governance.featureMonitors[0].tableName: 'customer_features' is not a Unity Catalog table; allowed: "
     "catalog.schema.table (letters, digits and _)"),
    ("monitor-output-schema-not-declared", "prod", [(f"{FM}.outputSchema", "metrics")],
     "prod: governance.featureMonitors[0].outputSchema: 'metrics' is not a schema of catalog 'ml_prod_catalog' "
     "(unityCatalog.catalogs)"),
    ("monitor-accuracy-endpoint-unknown", "prod", [(f"{FM}.accuracyEndpoint", "churn-prod")],
     "prod: governance.featureMonitors[0].accuracyEndpoint: 'churn-prod' is not a serving endpoint of this stack "
     "with a monitor; allowed: ml-model-model-serving-prod"),
    ("monitor-drift-unreachable", "prod", [(f"{FM}.driftThreshold", 1.5)],
     "prod: governance.featureMonitors[0].driftThreshold: 1.5 can never be exceeded: js_distance lies between 0 "
     "and 1; allowed: above 0, at most 1"),
    ("monitor-completeness-above-one", "prod", [(f"{FM}.completenessMin", 1.01)],
     "prod: governance.featureMonitors[0].completenessMin: 1.01 is out of range (input should be less than or "
     "equal to 1)"),
    ("monitor-without-recipients", "prod", [(f"{FM}.failureRecipients", [])],
     "prod: governance.featureMonitors[0].failureRecipients: [] is empty; a monitor needs at least one e-mail "
     "address to tell about failed refreshes"),
    ("unknown-governance-key", "test", [("governance.retentoin", {})],
     "test: governance.retentoin: unknown key (a typo?); see the configuration reference in docs/configuration.md"),
]


@pytest.mark.parametrize(("stack", "changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_governance_config_is_reported_exactly(stack: str, changes: list[tuple[str, Any]], expected: str) -> None:
    problems = config_problems(stack, with_changes(stack, changes))
    assert expected in problems, problems


def test_the_edges_of_the_limits_are_accepted() -> None:
    raw = with_changes("prod", [(f"{FM}.completenessMin", 1), (f"{FM}.driftThreshold", 1),
                                (f"{FM}.accuracyDrop", 1), ("governance.governedTags.owner.values", ["x" * 256])])
    raw["mlops-platform:governance"]["tagAssignments"] = [
        a for a in raw["mlops-platform:governance"]["tagAssignments"] if "owner" not in a["tags"]]
    config = validate("prod", raw, siblings("prod"))
    assert config.governance.feature_monitors[0].completeness_min == 1


def test_a_tag_value_one_past_the_limit_is_refused() -> None:
    problems = config_problems("prod", with_changes("prod", [("governance.governedTags.owner.values", ["x" * 257])]))
    assert any("has 'xxx" in p and "allowed: 1-256 letters" in p for p in problems), problems


def test_an_unbounded_drift_statistic_may_exceed_one() -> None:
    raw = with_changes("prod", [(f"{FM}.driftStatistic", "population_stability_index"), (f"{FM}.driftThreshold", 2)])
    assert validate("prod", raw, siblings("prod")).governance.feature_monitors[0].drift_threshold == 2


def test_without_the_declaring_stack_assignments_are_not_checked_across_stacks() -> None:
    raw = with_changes("dev", [(f"{TA}.0.tags.owner", "someone-else")])
    others = {k: v for k, v in siblings("dev").items() if k != "prod"}
    assert validate("dev", raw, others).governance.tag_assignments[0].tags["owner"] == "someone-else"


# stack -> (schemas the retention job enforces, applies for real, archive schema)
RETENTION = {
    "dev": ({"ml_dev_catalog.models": 30}, False, None),
    "test": ({"ml_test_catalog.models": 90}, False, None),
    "prod": ({"ml_models_catalog.dev_models": 30, "ml_models_catalog.candidate_models": 90,
              "ml_models_catalog.production_models": 365, "ml_models_catalog.archived_models": 730}, True,
             "ml_models_catalog.archived_models"),
}


@pytest.mark.parametrize("stack", STACKS)
def test_retention_per_environment(stack: str) -> None:
    config = validate(stack, stack_raw(stack), siblings(stack))
    schemas, applies, archive = RETENTION[stack]
    assert governance.retention_schemas(config) == schemas
    assert governance.retention_enabled(config) is True
    assert governance.retention_applies(config) is applies
    assert config.governance.retention.archive_schema == archive


@pytest.mark.parametrize(("stack", "apply", "expected"), [
    ("dev", True, True), ("prod", False, False), ("test", DELETE, False), ("prod", DELETE, True)])
def test_apply_overrides_the_environment_default(stack: str, apply: Any, expected: bool) -> None:
    config = validate(stack, with_changes(stack, [("governance.retention.apply", apply)]), siblings(stack))
    assert governance.retention_applies(config) is expected


def test_no_retention_job_without_a_schema_that_states_retention_or_when_disabled() -> None:
    raw = with_changes("dev", [("unityCatalog.catalogs.0.schemas.4", "models")])
    assert governance.retention_grants(validate("dev", raw, siblings("dev"))) == {}
    raw = with_changes("dev", [("governance.retention.enabled", False)])
    config = validate("dev", raw, siblings("dev"))
    assert not governance.retention_enabled(config) and governance.retention_grants(config) == {}


def test_retention_grants_are_exactly_what_the_job_needs() -> None:
    config = validate("prod", stack_raw("prod"), siblings("prod"))
    grants = governance.retention_grants(config)
    assert grants == {
        "ml_models_catalog.archived_models": ("CREATE_MODEL", "EXECUTE", "USE_SCHEMA"),
        "ml_models_catalog.candidate_models": ("EXECUTE", "USE_SCHEMA"),
        "ml_models_catalog.dev_models": ("EXECUTE", "USE_SCHEMA"),
        "ml_models_catalog.production_models": ("EXECUTE", "USE_SCHEMA"),
    }
    for schema, privileges in grants.items():  # and they reach the run-as grant table
        assert set(privileges) <= set(config.run_as_grants[schema])


@pytest.mark.parametrize("stack", STACKS)
def test_pinned_versions_are_every_version_an_endpoint_declares(stack: str) -> None:
    """Entities that serve an alias pin no version (the job protects whatever an alias points to)."""
    config = validate(stack, stack_raw(stack), siblings(stack))
    assert config.serving is not None
    entities = [e for ep in config.serving.endpoints for e in ep.entities]
    expected = {f"{e.entity_name}:{e.entity_version}" for e in entities if e.entity_version is not None}
    assert set(governance.pinned_versions(config)) == expected
    assert not any(p.endswith(":None") for p in governance.pinned_versions(config))
    assert len(expected) < len(entities) or stack == "prod"  # dev and test serve an alias


def test_without_a_cicd_catalog_the_job_runs_from_the_default_catalog() -> None:
    config = validate("dev", with_changes("dev", [("unityCatalog.cicd", DELETE)]), siblings("dev"))
    assert config.unity_catalog.cicd.catalog is None and config.unity_catalog.default_catalog_name
    assert governance.retention_enabled(config) is True


def test_a_feature_monitor_left_to_its_defaults_uses_the_seeds_thresholds() -> None:
    from infra.config.governance import FeatureMonitorConfig

    monitor = FeatureMonitorConfig.model_validate(
        {"tableName": "c.s.t", "failureRecipients": ["ops@example.com"]})
    assert (monitor.drift_threshold, monitor.accuracy_drop, monitor.drift_statistic) == (0.3, 0.05, "js_distance")


@pytest.mark.parametrize(("drop", "ok"), [(1, True), (1.01, False), (0, False), (0.001, True)])
def test_the_accuracy_drop_is_above_0_and_at_most_1(drop: float, ok: bool) -> None:
    from pydantic import ValidationError

    from infra.config.governance import FeatureMonitorConfig

    raw = {"tableName": "c.s.t", "failureRecipients": ["ops@example.com"], "accuracyDrop": drop}
    if ok:
        assert FeatureMonitorConfig.model_validate(raw).accuracy_drop == drop
    else:
        with pytest.raises(ValidationError):
            FeatureMonitorConfig.model_validate(raw)
