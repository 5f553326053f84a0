"""Bad compute and cost config: one exact line per problem (stack, key path, value, what is allowed)."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import ConfigError
from mlopsctl.plan.engine import run_program
from tests.support import DELETE, config_problems, with_changes

# (case id, stack, [(key path, value)], expected problem line)
CASES: list[tuple[str, str, list[tuple[str, Any]], str]] = [
    ("autotermination-zero", "dev", [("compute.autoterminationMinutes", 0)],
     "dev: compute.autoterminationMinutes: 0 disables auto-termination (idle clusters run forever); "
     "allowed: 10-10000 minutes"),
    ("autotermination-too-short", "test", [("compute.autoterminationMinutes", 5)],
     "test: compute.autoterminationMinutes: 5 is out of range; allowed: 10-10000 minutes (the Databricks limits)"),
    ("min-workers-above-max", "test", [("compute.minWorkers", 9)],
     "test: compute.minWorkers: 9 is above maxWorkers 8"),
    ("unknown-node-family", "dev", [("compute.nodeTypeId", "Standard_B2s")],
     "dev: compute.nodeTypeId: 'Standard_B2s' is of node type family Bs, which the policies do not allow; "
     "allowed families: DSv2, Dsv3, Esv3"),
    ("gpu-node-family", "prod", [("compute.driverNodeTypeId", "Standard_NC6s_v3")],
     "prod: compute.driverNodeTypeId: 'Standard_NC6s_v3' is of node type family NCsv3, which the policies do not "
     "allow; allowed families: DSv2, Dsv3, Esv3"),
    ("node-size-without-dbu-rate", "dev", [("compute.nodeTypeId", "Standard_DS2_v2")],
     "dev: compute.nodeTypeId: 'Standard_DS2_v2' has no known DBU rate in family DSv2; allowed: "
     "Standard_DS3_v2, Standard_DS4_v2, Standard_DS5_v2, Standard_DS12_v2, Standard_DS13_v2, Standard_DS14_v2"),
    ("node-not-a-vm-size", "dev", [("compute.nodeTypeId", "ds3")],
     "dev: compute.nodeTypeId: 'ds3' is not an Azure VM size (e.g. 'Standard_DS3_v2')"),
    ("seed-runtime-key", "dev", [("compute.runtimeVersions", ["17.2.x-ml-scala2.12"])],
     "dev: compute.runtimeVersions: ['17.2.x-ml-scala2.12'] has '17.2.x-ml-scala2.12', which is not an "
     "ML runtime key; format <major>.<minor>.x-cpu-ml-scala<2.12|2.13>, e.g. '17.3.x-cpu-ml-scala2.13'"),
    ("unsupported-runtime", "prod", [("compute.runtimeVersions", ["17.3.x-cpu-ml-scala2.13",
                                                                  "13.3.x-cpu-ml-scala2.12"])],
     "prod: compute.runtimeVersions[1]: '13.3.x-cpu-ml-scala2.12' is not a supported LTS runtime; allowed: "
     "17.3.x-cpu-ml-scala2.13, "
     "16.4.x-cpu-ml-scala2.13, 16.4.x-cpu-ml-scala2.12, 15.4.x-cpu-ml-scala2.12"),
    ("dbu-bound-below-largest-cluster", "prod", [("compute.maxDbusPerHour", 100)],
     "prod: compute.maxDbusPerHour: 100.0 is below the largest allowed cluster's 102 DBU/h (16 workers + driver); "
     "raise it or lower maxWorkers"),
    ("pool-too-small", "test", [("compute.instancePool.maxCapacity", 8)],
     "test: compute.instancePool.maxCapacity: 8 cannot hold one cluster at maxWorkers (8 workers + driver)"),
    ("spot-with-pool", "dev", [("compute.spotInstances", True)],
     "dev: compute.spotInstances: true is not allowed with an instancePool"),
    ("access-mode-not-uc", "dev", [("compute.dataSecurityMode", "NONE")],
     "dev: compute.dataSecurityMode: 'NONE' is not allowed; allowed: 'SINGLE_USER' or 'USER_ISOLATION'"),
    ("spark-conf-key", "dev", [("compute.sparkConf", {"delta.preview": "true"})],
     "dev: compute.sparkConf: {delta.preview: 'true'} has key 'delta.preview'; Spark settings start with 'spark.'"),
    ("unknown-role", "test", [("compute.users", ["dataScientist"])],
     "test: compute.users[0]: 'dataScientist' is not allowed; allowed: 'dataScientists', 'mlEngineers', "),
    ("bad-spot-bid", "prod", [("compute.jobs.spotBidMaxPrice", 0)],
     "prod: compute.jobs.spotBidMaxPrice: 0 is not allowed; allowed: -1 (pay up to the on-demand price) or a "
     "price above 0 USD"),
    ("driver-on-spot", "prod", [("compute.jobs.firstOnDemand", 0)],
     "prod: compute.jobs.firstOnDemand: 0 is out of range (input should be greater than or equal to 1)"),
    ("warehouse-never-stops", "dev", [("compute.sqlWarehouse.autoStopMins", 0)],
     "dev: compute.sqlWarehouse.autoStopMins: 0 would keep the warehouse running forever; allowed: 1-1440 minutes"),
    ("warehouse-size", "dev", [("compute.sqlWarehouse.clusterSize", "Tiny")],
     "dev: compute.sqlWarehouse.clusterSize: 'Tiny' is not allowed; allowed: '2X-Small', 'X-Small', 'Small',"),
    ("warehouse-scaling", "prod", [("compute.sqlWarehouse.minNumClusters", 3)],
     "prod: compute.sqlWarehouse.minNumClusters: 3 is above maxNumClusters 2"),
    ("compute-typo", "dev", [("compute.autoTerminationMinutes", 30)],
     "dev: compute.autoTerminationMinutes: unknown key (a typo?); see the configuration reference in "
     "docs/configuration.md"),
    ("compute-missing", "test", [("compute", DELETE)],
     "test: compute: required key is missing"),
    ("budget-without-recipients", "prod", [("cost.budget.contactEmails", [])],
     "prod: cost.budget.contactEmails: [] has no recipients; allowed: one or more e-mail addresses (a budget alert "
     "must reach someone)"),
    ("budget-recipient-not-email", "dev", [("cost.budget.contactEmails", ["finops team"])],
     "dev: cost.budget.contactEmails: ['finops team'] has 'finops team', which is not an e-mail address"),
    ("budget-start-mid-month", "test", [("cost.budget.startDate", "2026-03-15")],
     "test: cost.budget.startDate: '2026-03-15' is not the first day of a month (Azure budgets start on one); did "
     "you mean '2026-03-01'?"),
    ("budget-amount-zero", "dev", [("cost.budget.monthlyAmount", 0)],
     "dev: cost.budget.monthlyAmount: 0 is out of range (input should be greater than 0)"),
    ("budget-threshold-kind", "dev", [("cost.budget.thresholds", [{"percent": 90, "kind": "Projected"}])],
     "dev: cost.budget.thresholds[0].kind: 'Projected' is not allowed; allowed: 'Actual' or 'Forecasted'"),
    ("budget-too-many-thresholds", "dev", [("cost.budget.thresholds",
                                            [{"percent": p, "kind": "Actual"} for p in (50, 60, 70, 80, 90, 100)])],
     "dev: cost.budget.thresholds: 6 notifications; Azure allows 1-5"),
]


@pytest.mark.parametrize(("stack", "changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_compute_or_cost_config_is_reported_with_its_message(
        stack: str, changes: list[tuple[str, Any]], expected: str) -> None:
    problems = config_problems(stack, with_changes(stack, changes))
    assert any(line.startswith(expected) for line in problems), problems


def test_compute_and_cost_problems_are_reported_together_and_nothing_is_declared() -> None:
    raw = with_changes("dev", [("compute.autoterminationMinutes", 0), ("compute.nodeTypeId", "Standard_B2s"),
                         ("cost.budget.contactEmails", [])])
    with pytest.raises(ConfigError) as info:
        run_program("dev", raw)
    assert [p.split(":")[1].strip() for p in info.value.problems] == [
        "compute.nodeTypeId", "compute.autoterminationMinutes", "cost.budget.contactEmails"]
    assert info.value.declared == 0
