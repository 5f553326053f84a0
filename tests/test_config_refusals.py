"""Stack configs that looked valid but that Azure or Databricks refuse (or that can never work): each is
refused before anything is declared, with one line naming the key, the value and the documented limit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from infra.config import cost, environment_name_problems, validate
from tests import test_compute_config_errors, test_config_errors, test_security_config, test_serving_config
from tests.support import config_problems, siblings, stack_raw, with_changes

ALERT = "serving.endpoints.0.monitor.driftAlerts.0"
ALERT_KEY = "serving.endpoints[0].monitor.driftAlerts[0]"
FIXED_TODAY = dt.date(2026, 11, 30)


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The budget rule compares startDate with today's month: pin today so the messages are stable."""
    monkeypatch.setattr(cost, "today", lambda: FIXED_TODAY)


# (case id, stack, [(key path, value)], expected problem line)
CASES: list[tuple[str, str, list[tuple[str, Any]], str]] = [
    # 1. js_distance and tv_distance lie in [0, 1] (Databricks "Monitor metric tables", drift metrics table):
    # a threshold above 1 is an alert that never fires.
    ("drift-js-threshold-above-one", "dev", [(f"{ALERT}.threshold", 1.5)],
     f"dev: {ALERT_KEY}.threshold: 1.5 can never be exceeded: js_distance lies between 0 and 1; allowed: above "
     "0, at most 1"),
    ("drift-tv-threshold-above-one", "prod", [(f"{ALERT}.statistic", "tv_distance"), (f"{ALERT}.threshold", 2)],
     f"prod: {ALERT_KEY}.threshold: 2.0 can never be exceeded: tv_distance lies between 0 and 1; allowed: above "
     "0, at most 1"),
    # 2. Databricks "Create schemas": INFORMATION_SCHEMA is a reserved name in every Unity Catalog catalog.
    ("reserved-schema-name", "prod",
     [("unityCatalog.catalogs.0.schemas", ["raw", "feature_store", "models", "serving", "model_inference_logs",
                                           "monitoring", "databricks_monitoring", "information_schema"])],
     "prod: unityCatalog.catalogs[0].schemas[7].name: 'information_schema' is reserved by Unity Catalog (every "
     "catalog has a read-only information_schema); allowed: any other name"),
    # 3. Databricks "Configure IP access lists for workspaces": IPv4 addresses only (addresses, CIDR ranges).
    ("ip-access-list-ipv6", "dev", [("workspaceSecurity.ipAccessList", ["203.0.113.0/24", "2001:db8::/32"])],
     "dev: workspaceSecurity.ipAccessList: ['203.0.113.0/24', '2001:db8::/32'] entry '2001:db8::/32' is IPv6; "
     "Databricks IP access lists take IPv4 addresses and CIDR ranges only"),
    ("ip-access-list-netmask", "test", [("workspaceSecurity.ipAccessList", ["10.0.0.0/255.255.255.0"])],
     "test: workspaceSecurity.ipAccessList: ['10.0.0.0/255.255.255.0'] entry '10.0.0.0/255.255.255.0' uses a "
     "netmask; write a prefix length instead, e.g. '10.0.0.0/24' (CIDR ranges only)"),
    ("egress-netmask", "dev", [("deploy.runner.egressCidrs", ["203.0.113.0/255.255.255.0"])],
     "dev: deploy.runner.egressCidrs: ['203.0.113.0/255.255.255.0'] has '203.0.113.0/255.255.255.0', which uses "
     "a netmask; write a prefix length instead, e.g. '10.0.0.0/24' (CIDR ranges only)"),
    # 4. Azure: at most 50 tags per resource (Microsoft Learn, "Use tags to organize your Azure resources").
    ("too-many-tags", "dev", [("tags.extra", {f"k{i:02d}": "v" for i in range(46)})],
     "dev: tags.extra: 46 tags and the 5 the platform adds (environment, project, owner, costCenter, managedBy) "
     "make 51 tags per resource; Azure allows at most 50"),
    # 5. Databricks "Standard compute requirements and limitations": Databricks Runtime for ML is not supported.
    ("ml-runtime-standard-access-mode", "dev", [("compute.dataSecurityMode", "USER_ISOLATION")],
     "dev: compute.dataSecurityMode: 'USER_ISOLATION' cannot run the ML runtime '17.3.x-cpu-ml-scala2.13' "
     "(standard access mode does not support Databricks Runtime ML); allowed: 'SINGLE_USER'"),
    # 6. Azure budgets (BudgetTimePeriod.startDate): a past start date must lie in the time grain (this month).
    ("budget-start-in-the-past", "test", [("cost.budget.startDate", "2026-10-01")],
     "test: cost.budget.startDate: '2026-10-01' is before the current month; Azure refuses a budget starting in "
     "the past; allowed: '2026-11-01' or later"),
    # 7. A served model must be in one of this stack's (workspace-isolated) catalogs.
    ("entity-in-another-stacks-catalog", "prod",
     [("serving.endpoints.0.entities.1.entityName", "ml_dev_catalog.models.mlops_churn")],
     "prod: serving.endpoints[0].entities[1].entityName: 'ml_dev_catalog.models.mlops_churn' is in "
     "'ml_dev_catalog', not one of this stack's catalogs; allowed: 'ml_prod_catalog', 'ml_models_catalog'"),
    ("entity-in-another-stacks-catalog-without-retraining", "prod",
     [("serving.retraining.enabled", False),
      ("serving.endpoints.0.entities.1.entityName", "ml_dev_catalog.models.mlops_churn")],
     "prod: serving.endpoints[0].entities[1].entityName: 'ml_dev_catalog.models.mlops_churn' is in "
     "'ml_dev_catalog', not one of this stack's catalogs; allowed: 'ml_prod_catalog', 'ml_models_catalog'"),
    # 8. A stack named after a tier has that tier.
    ("environment-differs-from-tier-stack-name", "test", [("environment", "dev")],
     "test: environment: 'dev' differs from the stack name 'test'; a stack named after a tier has that tier "
     "(allowed: 'test')"),
]


@pytest.mark.parametrize(("stack", "changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refused_config_is_reported_exactly(stack: str, changes: list[tuple[str, Any]], expected: str) -> None:
    """Each of these passed validation before; now it is refused with exactly this line."""
    problems = config_problems(stack, with_changes(stack, changes))
    assert expected in problems, problems


def test_drift_thresholds_at_the_bound_and_of_unbounded_statistics_pass() -> None:
    """Guards against over-refusing: 1 is a legal js_distance threshold, and PSI or KS are not bounded by 1."""
    for changes in ([(f"{ALERT}.threshold", 1)],
                    [(f"{ALERT}.statistic", "population_stability_index"), (f"{ALERT}.threshold", 1.5)]):
        validate("dev", with_changes("dev", changes), siblings("dev"))


def test_fifty_tags_pass() -> None:
    """Azure's limit is 50 tags per resource: 45 extra plus the platform's 5 is allowed."""
    validate("dev", with_changes("dev", [("tags.extra", {f"k{i:02d}": "v" for i in range(45)})]), siblings("dev"))


def test_a_start_in_the_current_month_passes() -> None:
    """Guards the budget rule's bound: the first of the current month is still accepted."""
    validate("test", with_changes("test", [("cost.budget.startDate", "2026-11-01")]), siblings("test"))


def test_entity_in_a_foreign_catalog_gets_no_advice_to_add_schemas_there() -> None:
    """The old message told the user to add 'models' to another stack's catalog, which cannot help."""
    problems = config_problems("prod", with_changes("prod", CASES[9][2]))
    assert not [p for p in problems if "ml_dev_catalog" in p and "add 'models'" in p], problems


def test_environment_pasted_into_another_tiers_file_is_reported_first() -> None:
    """`environment: dev` in Pulumi.test.yaml: the environment line comes before the name collisions."""
    problems = config_problems("test", with_changes("test", [("environment", "dev")]))
    assert problems[0].startswith("test: environment: 'dev' differs"), problems


def test_a_stack_not_named_after_a_tier_may_have_any_tier() -> None:
    """Environments are data: a staging stack with `environment: test` is legitimate."""
    assert environment_name_problems("staging", {"environment": "test"}) == []
    assert environment_name_problems("prod", {"environment": "prod"}) == []


MAX_LINE = 200
CORPUS = [*CASES, *test_config_errors.CASES, *test_compute_config_errors.CASES, *test_security_config.CASES,
          *test_serving_config.CASES]


def test_every_problem_line_is_shorter_than_200_characters() -> None:
    """One line per problem stays readable in a terminal and a CI log: every line that the broken configs of
    the error corpora produce (all their problems, not only the asserted one) is under 200 characters."""
    long = []
    for case_id, stack, changes, _ in CORPUS:
        try:
            validate(stack, with_changes(stack, changes), siblings(stack))
        except Exception as exc:  # ConfigError: its lines; anything else is the other tests' business
            long.extend(f"{case_id}: {len(line)}: {line}" for line in getattr(exc, "problems", [])
                        if len(line) >= MAX_LINE)
    assert not long, "\n".join(long)


def test_the_checked_in_stacks_still_pass() -> None:
    """The new rules refuse none of the checked-in stacks."""
    for stack in ("dev", "test", "prod"):
        validate(stack, stack_raw(stack), siblings(stack))
